"""Writing a dataset: ``TrajectoryWriter`` appends one run's evaluations as Parquet parts.

**Crash loss is bounded in time.** Rows are buffered and written as a part whenever ``chunk_rows``
are buffered or ``flush_seconds`` (5 s) have passed since the last write, whichever comes first, so
a process killed at any moment loses at most the evaluations of the last few seconds. A part is
written to a temporary file *beside* the dataset directory (never inside it: polars and duckdb
would trip over it), fsynced and renamed into place, so a reader sees a whole part or none of it.

**One writer per run.** A writer holds an exclusive lock on its run for its whole life (``flock``
on ``<stem>.lock`` in the temporary directory beside the dataset, taken before it looks at the
run's parts and released when it closes), so a second writer for the same run id fails at once,
whether it would claim, resume or replace the run, instead of writing the same chunks over the
first one's. The kernel releases the lock of a killed process, so a crash never blocks a later
resume. The first part of a run (chunk 0, written when the writer opens, with no rows) is
published with an exclusive link as well. ``existing`` says what to do with a run id the dataset
already holds: refuse (``"error"``), continue it (``"resume"``: its recorded provenance must
match) or start it afresh (``"replace"``).

**Compacted when the run ends.** ``close`` merges the run's parts into one file (atomically
replacing chunk 0, whose ``archgym.parts`` range then covers the chunks it absorbed) and deletes
the chunk files; a crash in between leaves chunk files every archgym reader skips and the run's
next writer deletes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archgym.dataset import provenance
from archgym.dataset.schema import (
    PART_GLOB,
    arrow_schema,
    read_part_info,
    scan_dataset,
    value_type,
)
from archgym.io import acquire_lock, json_default, release_lock
from simulators.core import BatchEvaluation, DesignSpace, Evaluation, Metric, metrics_difference, space_difference
from simulators.params import check_choice, check_int, check_number, check_str

__all__ = ["EXISTING", "RunInfo", "TrajectoryWriter", "remove_run", "run_parts", "run_stem"]

EXISTING = ("error", "resume", "replace")
_ROW_GROUP = 65_536  # rows per row group of a compacted file


@dataclass(frozen=True)
class RunInfo:
    """Who produced the rows: the run, its env and workload, the agent and its settings, and the
    provenance (``simulator`` class as ``module:Class``, its resolved ``settings``, the ``objective``
    record) that ``RunInfo.from_env`` fills in. A run written without them can be read, but not
    replayed or chosen by settings."""

    run_id: str
    env_id: str
    workload: str
    agent: str
    hyperparameters: dict
    seed: int | None
    simulator: str = ""
    settings: dict | None = None
    objective: dict | None = None

    @classmethod
    def from_env(cls, env: Any, env_id: str, *, run_id: str, agent: str, hyperparameters: Mapping[str, Any],
                 seed: int | None) -> RunInfo:
        """The run record of rows produced on a ``DesignEnv`` (its simulator's class and settings as
        resolved, with file contents hashed, and its objective)."""
        sim = env.simulator
        return cls(run_id=run_id, env_id=env_id, workload=sim.workload, agent=agent,
                   hyperparameters=dict(hyperparameters), seed=seed, simulator=provenance.class_target(sim),
                   settings=provenance.simulator_settings(sim),
                   objective=provenance.objective_record(env.objective, sim.metrics))

    def record(self) -> dict[str, Any]:
        """The run as JSON data (what every part's ``archgym.run`` metadata holds)."""
        return json.loads(json.dumps(asdict(self), default=json_default))


def run_stem(run_id: str) -> str:
    """The start of the name of every part of ``run_id``: a readable slug and a hash of the exact id
    (so two ids with the same slug never share files)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)[:40] or "run"
    return f"part-{slug}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def run_parts(path: Path, run_id: str) -> list[Path]:
    """The part files of ``run_id`` in dataset ``path`` (live or superseded), in chunk order."""
    return sorted(path.glob(f"{run_stem(run_id)}-*.parquet")) if path.is_dir() else []


def remove_run(path: str | os.PathLike[str], run_id: str) -> int:
    """Delete every part written for ``run_id`` (a restarted run logs afresh); returns how many."""
    parts = run_parts(Path(path), run_id)
    for part in reversed(parts):  # chunk 0 (the run's claim) last
        part.unlink(missing_ok=True)
    return len(parts)


def _differences(have: Mapping[str, Any], want: Mapping[str, Any]) -> list[str]:
    """What differs between two run records, field by field (settings compared without file paths)."""
    out = []
    for key in ("env_id", "workload", "simulator", "settings", "objective", "agent", "hyperparameters", "seed"):
        a, b = have.get(key), want.get(key)
        if key in ("settings", "objective"):
            diff = provenance.record_difference(a, b, ("dataset", "this run"))
            if diff:
                out.append(f"{key}: {diff}")
        elif a != b:
            out.append(f"{key}: {a!r} (dataset) vs {b!r} (this run)")
    return out


class TrajectoryWriter:
    """Appends evaluations of one run to a dataset directory (see the module docstring).

    Use it as a context manager (``close`` flushes and compacts). ``flush`` writes the open chunk now.
    ``resumed_steps`` holds the steps the run already had when it was resumed (empty otherwise); steps
    must increase from one append to the next.
    """

    def __init__(self, path: str | os.PathLike[str], *, space: DesignSpace, metrics: Sequence[Metric],
                 run: RunInfo, chunk_rows: int = 10_000, flush_seconds: float = 5.0,
                 existing: str = "error") -> None:
        import pyarrow  # noqa: F401  (fail here, not at the first flush, if it is missing)

        if not isinstance(run, RunInfo):
            raise ValueError(f"run must be a RunInfo, got {type(run).__name__}")
        check_str(run.run_id, "run_id")
        for label in ("env_id", "workload", "agent", "simulator"):
            check_str(getattr(run, label), label, allow_empty=True)
        check_int(run.seed, "seed", allow_none=True)
        self.chunk_rows = check_int(chunk_rows, "chunk_rows", low=1)
        self.flush_seconds = check_number(flush_seconds, "flush_seconds", low=0)
        check_choice(existing, "existing", EXISTING)
        try:
            self._hyperparameters = json.dumps(dict(run.hyperparameters), sort_keys=True, default=json_default)
            self._record = run.record()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"hyperparameters of run {run.run_id!r} must be JSON-serialisable: {exc}") from None
        import archgym

        self._record["archgym_version"] = archgym.__version__
        if isinstance(path, str) and not path.strip():  # Path("") is the current directory
            raise ValueError("a dataset directory to write is an empty path (write . for the current directory)")
        self.path = Path(path)
        self.space = space
        self.metrics = tuple(metrics)
        self.run = run
        self._stem = run_stem(run.run_id)
        self._schema = arrow_schema(space, self.metrics)  # also rejects clashing column names
        self._metric_names = tuple(m.name for m in self.metrics)
        self._kinds = {p.name: value_type(p) for p in space}
        self._constants = {"simulator": run.simulator,
                           "settings": provenance.canonical(run.settings) if run.settings is not None else "null",
                           "objective": provenance.canonical(run.objective) if run.objective is not None else "null",
                           "archgym_version": archgym.__version__}
        self._tmp_dir = self.path.parent / f".{self.path.name}.tmp"
        self._closed = False
        self._last_step = -1
        self.rows_written = 0
        self.resumed_steps: np.ndarray = np.empty(0, dtype=np.int64)
        self._buffer: dict[str, list[Any]] = {name: [] for name in self._schema.names}

        info = scan_dataset(self.path, allow_empty=True)  # refuses an old layout or a broken part
        if info is not None:
            self._check_space(info.space, info.metrics, info.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock: int | None = self._acquire_lock()
        try:
            self._open_run(existing)
        except BaseException:
            self._release_lock()
            raise
        self._last_flush = time.monotonic()

    # -- opening -----------------------------------------------------------------------------------
    def _open_run(self, existing: str) -> None:
        run = self.run
        mine = run_parts(self.path, run.run_id)
        if mine and existing == "error":
            rows = sum(read_part_info(p)[0].rows for p in mine)
            raise ValueError(f"dataset {self.path} already holds run {run.run_id!r} ({rows} rows): choose another "
                             "run id, or resume or replace that run")
        if mine and existing == "replace":
            remove_run(self.path, run.run_id)
            mine = []
        if mine:
            self._resume(mine)
        else:
            self._seq = 0
            self._write_part(0, exclusive=True)  # the run's claim: fails if another writer has it
            self._check_peers()

    def _acquire_lock(self) -> int | None:
        """Lock the run for this writer's life (``archgym.io.acquire_lock``; ``None`` where the system has no
        ``flock``: then only the exclusive claim of chunk 0 guards the run)."""
        lock = self._lock_path()
        return acquire_lock(lock, f"run {self.run.run_id!r} in {self.path} is being written by another writer now "
                                  f"(it holds the lock {lock}): wait for it to finish, or choose another run id")

    def _lock_path(self) -> Path:
        return self._tmp_dir / f"{self._stem}.lock"

    def _release_lock(self) -> None:
        """Give up the run's lock, and the temporary directory unless another writer still uses it."""
        release_lock(self._lock_path(), self._lock)
        self._lock = None
        with contextlib.suppress(OSError):
            self._tmp_dir.rmdir()

    def _check_space(self, space: DesignSpace, metrics: Sequence[Metric], where: Path) -> None:
        diff = space_difference(space.to_dict(), self.space.to_dict())
        if diff:
            raise ValueError(f"dataset {where} holds a different design space: {diff} (dataset vs given)")
        diff = metrics_difference([m.to_dict() for m in metrics], [m.to_dict() for m in self.metrics])
        if diff:
            raise ValueError(f"dataset {where} holds different metrics: {diff} (dataset vs given)")

    def _check_peers(self) -> None:
        """After claiming the run, check every other run's first part: of two writers starting at once on
        different spaces, the later one to look sees the other's claim and gives up its own."""
        from archgym.dataset.schema import _space_metrics

        mine = self._part_name(0)
        try:
            for part in sorted(self.path.glob(f"{PART_GLOB[:-8]}-00000.parquet")):
                if part.name != mine:
                    try:
                        _, meta = read_part_info(part)
                    except FileNotFoundError:  # removed meanwhile (a run being replaced)
                        continue
                    self._check_space(*_space_metrics(part, meta), self.path)
        except ValueError:
            (self.path / mine).unlink(missing_ok=True)
            raise

    def _resume(self, parts: list[Path]) -> None:
        import pyarrow.parquet as pq

        infos = [read_part_info(p)[0] for p in parts]
        claim = next((i for i in infos if i.first == 0), None)
        if claim is None:
            raise ValueError(f"run {self.run.run_id!r} in {self.path} has no first part (chunk 0): replace it")
        diffs = _differences(claim.run, self._record)
        if diffs:
            raise ValueError(f"run {self.run.run_id!r} in {self.path} was recorded with other settings, so it "
                             "cannot be resumed: " + "; ".join(diffs))
        reach = max(i.last for i in infos)
        for i in infos:  # chunks a compaction had absorbed before a crash
            if i is not claim and i.last <= claim.last:
                i.path.unlink(missing_ok=True)
        live = [i for i in infos if i is claim or i.last > claim.last]
        steps = [pq.read_table(i.path, columns=["step"]).column("step").to_numpy() for i in live]
        self.resumed_steps = np.sort(np.concatenate(steps)) if steps else np.empty(0, dtype=np.int64)
        self._last_step = int(self.resumed_steps[-1]) if len(self.resumed_steps) else -1
        self._seq = reach + 1

    # -- appending ------------------------------------------------------------------------------
    @property
    def buffered_rows(self) -> int:
        return len(self._buffer["step"])

    @property
    def seconds_since_flush(self) -> float:
        return time.monotonic() - self._last_flush

    def append(self, *, step: int, design: Mapping[str, Any], evaluation: Evaluation, reward: float,
               wall_time: float) -> None:
        """Buffer one evaluation (written once ``chunk_rows`` rows are buffered or ``flush_seconds`` passed)."""
        self._check_open()
        if not isinstance(evaluation, Evaluation):
            raise ValueError(f"evaluation must be an Evaluation, got {type(evaluation).__name__}")
        design = self.space.validate(design)
        unknown = [k for k in evaluation.metrics if k not in self._metric_names]
        if unknown:
            raise ValueError(f"evaluation has metric(s) {unknown} the dataset does not hold; metrics are "
                             f"{list(self._metric_names)}")
        self._add_rows(
            steps=[self._check_steps(check_int(step, "step", low=0), 1)],
            designs={name: [self._cell(name, design[name])] for name in self.space.names},
            metrics={m: [float(evaluation.metrics.get(m, math.nan))] for m in self._metric_names},
            rewards=[float(reward)], feasible=[bool(evaluation.feasible)], reasons=[evaluation.reason],
            wall_times=[check_number(wall_time, "wall_time", low=0)],
        )

    def append_batch(self, *, start_step: int, designs: np.ndarray | Sequence[Mapping[str, Any]],
                     evaluations: BatchEvaluation, rewards: np.ndarray | Sequence[float],
                     wall_time: float | np.ndarray | Sequence[float]) -> None:
        """Buffer many evaluations at once (steps ``start_step, start_step + 1, ...``).

        ``designs`` is an ``(n, d)`` index matrix or a sequence of design dicts; ``wall_time`` one
        number per design or one for all of them.
        """
        self._check_open()
        if isinstance(designs, np.ndarray):
            cols = self.space.columns(designs)
        else:
            valid = [self.space.validate(d) for d in designs]
            cols = {name: np.array([d[name] for d in valid], dtype=object) for name in self.space.names}
        n = len(evaluations)
        if any(len(v) != n for v in cols.values()):
            raise ValueError(f"{len(next(iter(cols.values())))} designs but {n} evaluations")
        unknown = [k for k in evaluations.metrics if k not in self._metric_names]
        if unknown:
            raise ValueError(f"evaluations have metric(s) {unknown} the dataset does not hold; metrics are "
                             f"{list(self._metric_names)}")
        rewards = np.asarray(rewards, dtype=np.float64)
        walls = np.broadcast_to(np.asarray(wall_time, dtype=np.float64), (n,))
        if rewards.shape != (n,):
            raise ValueError(f"rewards must have one entry per design ({n}), got shape {rewards.shape}")
        if not np.all(np.isfinite(walls) & (walls >= 0)):
            raise ValueError("wall_time must be finite seconds >= 0")
        start = self._check_steps(check_int(start_step, "start_step", low=0), n)
        nan = np.full(n, math.nan)
        self._add_rows(
            steps=list(range(start, start + n)),
            designs={name: [self._cell(name, v) for v in col.tolist()] for name, col in cols.items()},
            metrics={m: np.asarray(evaluations.metrics.get(m, nan), dtype=np.float64).tolist()
                     for m in self._metric_names},
            rewards=rewards.tolist(), feasible=np.asarray(evaluations.feasible, dtype=bool).tolist(),
            reasons=list(evaluations.reasons), wall_times=walls.tolist(),
        )

    def _check_steps(self, start: int, n: int) -> int:
        if start <= self._last_step:
            raise ValueError(f"run {self.run.run_id!r}: step {start} does not follow step {self._last_step} "
                             "(steps increase, so (run_id, step) names one row)")
        if n:
            self._last_step = start + n - 1
        return start

    def _add_rows(self, *, steps: list[int], designs: Mapping[str, list[Any]], metrics: Mapping[str, list[float]],
                  rewards: list[float], feasible: list[bool], reasons: list[str | None],
                  wall_times: list[float]) -> None:
        n, run, buf = len(steps), self.run, self._buffer
        for name, value in (("run_id", run.run_id), ("env_id", run.env_id), ("workload", run.workload),
                            ("agent", run.agent), ("hyperparameters", self._hyperparameters),
                            ("seed", None if run.seed is None else int(run.seed)), *self._constants.items()):
            buf[name].extend([value] * n)
        buf["step"].extend(steps)
        for name, values in designs.items():
            buf[name].extend(values)
        for name, values in metrics.items():
            buf[name].extend(values)
        buf["reward"].extend(rewards)
        buf["feasible"].extend(feasible)
        buf["reason"].extend(None if r is None else str(r) for r in reasons)
        buf["wall_time"].extend(wall_times)
        while self.buffered_rows >= self.chunk_rows:
            self._write_part(self.chunk_rows)
        if self.buffered_rows and self.seconds_since_flush >= self.flush_seconds:
            self.flush()

    def _cell(self, name: str, value: Any) -> Any:
        return str(value) if self._kinds[name] == "string" else value

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the writer for run {self.run.run_id!r} is closed")

    # -- writing ---------------------------------------------------------------------------------
    def _part_name(self, seq: int) -> str:
        return f"{self._stem}-{seq:05d}.parquet"

    def _part_schema(self, first: int, last: int):
        return self._schema.with_metadata({**self._schema.metadata,
                                           b"archgym.run": json.dumps(self._record, sort_keys=True).encode(),
                                           b"archgym.parts": json.dumps([first, last]).encode()})

    def _publish(self, tmp: Path, target: Path, exclusive: bool) -> None:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if not exclusive:
            os.replace(tmp, target)  # atomic: readers see the whole part or none of it
            return
        try:
            os.link(tmp, target)  # fails if the target exists: one writer per run
        except FileExistsError:
            raise ValueError(f"dataset {self.path} already holds run {self.run.run_id!r} (another writer claimed "
                             "it): choose another run id") from None
        finally:
            tmp.unlink(missing_ok=True)

    def _write_temp(self, name: str, write: Any) -> Path:
        """``write(path)`` to a fresh temporary file beside the dataset (retried if another writer removed
        the shared temporary directory meanwhile); returns its path."""
        for attempt in range(5):
            tmp = self._tmp_dir / f"{name}.{uuid.uuid4().hex[:8]}"
            try:
                # FileExistsError: mkdir saw the directory, then another writer removed it before
                # pathlib's is_dir check (two trials finishing at once in a sweep)
                self._tmp_dir.mkdir(exist_ok=True)
                write(tmp)
                return tmp
            except (FileNotFoundError, FileExistsError):
                tmp.unlink(missing_ok=True)
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _write_part(self, n: int, *, exclusive: bool = False) -> None:
        """Write the first ``n`` buffered rows as the run's next part."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = self._part_schema(self._seq, self._seq)
        table = pa.Table.from_pydict({name: values[:n] for name, values in self._buffer.items()}, schema=schema)
        name = self._part_name(self._seq)
        tmp = self._write_temp(name, lambda t: pq.write_table(table, t))
        self._publish(tmp, self.path / name, exclusive)
        for values in self._buffer.values():
            del values[:n]
        self._seq += 1
        self.rows_written += n
        self._last_flush = time.monotonic()

    def flush(self) -> None:
        """Write every buffered row now (one part per ``chunk_rows`` rows at most)."""
        while self.buffered_rows:
            self._write_part(min(self.chunk_rows, self.buffered_rows))
        self._last_flush = time.monotonic()

    def compact(self) -> None:
        """Merge the run's parts into its first file (``close`` does this); large row groups, streamed."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = run_parts(self.path, self.run.run_id)
        if len(parts) <= 1:
            return
        infos = sorted((read_part_info(p)[0] for p in parts), key=lambda i: i.first)
        last = max(i.last for i in infos)
        target = self.path / self._part_name(0)
        schema = self._part_schema(0, last)

        def write(tmp: Path) -> None:
            pending: list[pa.Table] = []
            with pq.ParquetWriter(tmp, schema) as out:
                for info in infos:
                    if info.rows:
                        pending.append(pq.read_table(info.path).cast(schema))
                    if sum(len(t) for t in pending) >= _ROW_GROUP:
                        out.write_table(pa.concat_tables(pending).combine_chunks(), row_group_size=_ROW_GROUP)
                        pending = []
                if pending:
                    out.write_table(pa.concat_tables(pending).combine_chunks(), row_group_size=_ROW_GROUP)

        tmp = self._write_temp(target.name, write)
        self._publish(tmp, target, exclusive=False)
        for info in infos:
            if info.path != target:
                info.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Flush, compact the run's parts into one file and stop accepting rows (idempotent)."""
        if not self._closed:
            try:
                self.flush()
                self._closed = True
                self.compact()
            finally:
                self._closed = True
                self._release_lock()

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
