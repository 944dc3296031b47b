"""Writing a dataset: ``TrajectoryWriter`` appends one run's evaluations as Parquet parts.

Crash safety: a ``TrajectoryWriter`` buffers rows and writes each chunk to a hidden temporary file
that is renamed into place only when complete, so a crash loses at most the open chunk and never
leaves a half-written part. Several writers (runs, Ray trials in other processes) may share one
directory: part names carry the run id and a per-writer token, and the manifest is created once
(atomically) and checked by every later writer.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archgym.dataset.schema import arrow_schema, check_dataset, create_manifest, dataset_manifest, value_type
from archgym.io import json_default
from simulators.core import BatchEvaluation, DesignSpace, Evaluation, Metric
from simulators.params import check_int, check_number, check_str

__all__ = ["RunInfo", "TrajectoryWriter", "part_prefix"]


@dataclass(frozen=True)
class RunInfo:
    """Who produced the rows: the run, the env and workload it explored, the agent and its settings."""

    run_id: str
    env_id: str
    workload: str
    agent: str
    hyperparameters: dict
    seed: int | None


def part_prefix(run_id: str) -> str:
    """The start of the name of every Parquet part written for ``run_id``."""
    return "part-" + (re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)[:48] or "run")


class TrajectoryWriter:
    """Appends evaluations of one run to a dataset directory, one Parquet part per chunk.

    Use it as a context manager (``close`` flushes the open chunk). ``flush`` writes the open chunk
    now; a chunk is also written whenever ``chunk_rows`` rows are buffered.
    """

    def __init__(self, path: str | os.PathLike[str], *, space: DesignSpace, metrics: Sequence[Metric],
                 run: RunInfo, chunk_rows: int = 1000) -> None:
        import pyarrow  # noqa: F401  (fail here, not at the first flush, if it is missing)

        if not isinstance(run, RunInfo):
            raise ValueError(f"run must be a RunInfo, got {type(run).__name__}")
        check_str(run.run_id, "run_id")
        for label in ("env_id", "workload", "agent"):
            check_str(getattr(run, label), label, allow_empty=True)
        check_int(run.seed, "seed", allow_none=True)
        chunk_rows = check_int(chunk_rows, "chunk_rows", low=1)
        try:
            self._hyperparameters = json.dumps(dict(run.hyperparameters), sort_keys=True, default=json_default)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"hyperparameters of run {run.run_id!r} must be JSON-serialisable: {exc}") from None
        self.path = Path(path)
        self.space = space
        self.metrics = tuple(metrics)
        self.run = run
        self.chunk_rows = chunk_rows
        self._schema = arrow_schema(space, self.metrics)  # also rejects clashing column names
        self._metric_names = tuple(m.name for m in self.metrics)
        self._kinds = {p.name: value_type(p) for p in space}
        self._token = uuid.uuid4().hex[:8]
        self._prefix = f"{part_prefix(run.run_id)}-{self._token}"
        self._parts = 0
        self._closed = False
        self.rows_written = 0
        self._buffer: dict[str, list[Any]] = {name: [] for name in self._schema.names}

        self.path.mkdir(parents=True, exist_ok=True)
        create_manifest(self.path, dataset_manifest(space, self.metrics))
        check_dataset(self.path, space, self.metrics)

    # -- appending ------------------------------------------------------------------------------
    @property
    def buffered_rows(self) -> int:
        return len(self._buffer["step"])

    def append(self, *, step: int, design: Mapping[str, Any], evaluation: Evaluation, reward: float,
               wall_time: float) -> None:
        """Buffer one evaluation (and write the chunk once ``chunk_rows`` rows are buffered)."""
        self._check_open()
        if not isinstance(evaluation, Evaluation):
            raise ValueError(f"evaluation must be an Evaluation, got {type(evaluation).__name__}")
        design = self.space.validate(design)
        unknown = [k for k in evaluation.metrics if k not in self._metric_names]
        if unknown:
            raise ValueError(f"evaluation has metric(s) {unknown} the dataset does not hold; metrics are "
                             f"{list(self._metric_names)}")
        self._add_rows(
            steps=[check_int(step, "step", low=0)],
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
            columns = self.space.columns(designs)
        else:
            valid = [self.space.validate(d) for d in designs]
            columns = {name: np.array([d[name] for d in valid], dtype=object) for name in self.space.names}
        n = len(evaluations)
        if any(len(v) != n for v in columns.values()):
            raise ValueError(f"{len(next(iter(columns.values())))} designs but {n} evaluations")
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
        start = check_int(start_step, "start_step", low=0)
        nan = np.full(n, math.nan)
        self._add_rows(
            steps=list(range(start, start + n)),
            designs={name: [self._cell(name, v) for v in col.tolist()] for name, col in columns.items()},
            metrics={m: np.asarray(evaluations.metrics.get(m, nan), dtype=np.float64).tolist()
                     for m in self._metric_names},
            rewards=rewards.tolist(), feasible=np.asarray(evaluations.feasible, dtype=bool).tolist(),
            reasons=list(evaluations.reasons), wall_times=walls.tolist(),
        )

    def _add_rows(self, *, steps: list[int], designs: Mapping[str, list[Any]], metrics: Mapping[str, list[float]],
                  rewards: list[float], feasible: list[bool], reasons: list[str | None],
                  wall_times: list[float]) -> None:
        n, run, buf = len(steps), self.run, self._buffer
        for name, value in (("run_id", run.run_id), ("env_id", run.env_id), ("workload", run.workload),
                            ("agent", run.agent), ("hyperparameters", self._hyperparameters),
                            ("seed", None if run.seed is None else int(run.seed))):
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
            self._write(self.chunk_rows)

    def _cell(self, name: str, value: Any) -> Any:
        return str(value) if self._kinds[name] == "string" else value

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the writer for run {self.run.run_id!r} is closed")

    # -- writing ---------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every buffered row now (one part per ``chunk_rows`` rows at most)."""
        while self.buffered_rows:
            self._write(min(self.chunk_rows, self.buffered_rows))

    def _write(self, n: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        chunk = {name: values[:n] for name, values in self._buffer.items()}
        table = pa.Table.from_pydict(chunk, schema=self._schema)
        name = f"{self._prefix}-{self._parts:05d}.parquet"
        tmp = self.path / f".tmp-{name}"
        pq.write_table(table, tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path / name)  # atomic: readers see the whole part or none of it
        for values in self._buffer.values():
            del values[:n]
        self._parts += 1
        self.rows_written += n

    def close(self) -> None:
        """Flush and stop accepting rows (idempotent)."""
        if not self._closed:
            self.flush()
            self._closed = True

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


