"""The trajectory dataset: one row per evaluated design, in Parquet, safe against crashes.

A dataset is a directory::

    DATA/
      manifest.json                             written once: schema version, design space, metrics
      part-<run>-<writer>-<counter>.parquet     one file per flushed chunk of rows

Each row is one evaluation: who produced it (run id, env id, workload, agent, agent
hyperparameters as a JSON string, seed), when (step, and ``wall_time``: seconds since the run
started when it finished), what (one typed column per design parameter), what it cost (one float
column per metric, in the metric's unit), the reward, feasibility and the reason for infeasibility.
``SCHEMA_VERSION`` numbers this layout; ``manifest.json`` records it with the space and metrics
(units, directions), and every Parquet file carries the same in its schema metadata.

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
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simulators.core import BatchEvaluation, DesignSpace, Evaluation, FloatRange, Metric, Parameter

if TYPE_CHECKING:  # pandas and pyarrow load only when a dataset is written or read
    import pandas
    import pyarrow

__all__ = [
    "FORMAT",
    "MANIFEST",
    "RESULT_COLUMNS",
    "RUN_COLUMNS",
    "SAMPLING_METHODS",
    "SCHEMA_VERSION",
    "RunInfo",
    "TrajectoryWriter",
    "check_dataset",
    "collect",
    "dataset_manifest",
    "design_indices",
    "export_csv",
    "json_default",
    "load_arrays",
    "metrics_difference",
    "parameter_indices",
    "read_dataset",
    "read_manifest",
    "read_table",
    "sample_space",
    "space_difference",
]

#: Version of the row layout and manifest. Bump it when a column is added, removed or changes meaning.
SCHEMA_VERSION = 1
FORMAT = "archgym-trajectories"
MANIFEST = "manifest.json"
_PART_GLOB = "part-*.parquet"

#: Columns before the design parameters, and after the metrics (names a parameter or metric may not take).
RUN_COLUMNS = ("run_id", "env_id", "workload", "agent", "hyperparameters", "seed", "step")
RESULT_COLUMNS = ("reward", "feasible", "reason", "wall_time")


@dataclass(frozen=True)
class RunInfo:
    """Who produced the rows: the run, the env and workload it explored, the agent and its settings."""

    run_id: str
    env_id: str
    workload: str
    agent: str
    hyperparameters: dict
    seed: int | None


# --------------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------------


def _value_type(p: Parameter) -> str:
    """The column type of a parameter: ``int``, ``float``, ``bool`` or ``string`` (mixed choices)."""
    if isinstance(p, FloatRange):
        return "float"
    values = p.values  # type: ignore[attr-defined]
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return "bool"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values):
        return "int"
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
           for v in values):
        return "float"
    return "string"  # strings, or a mix of kinds: stored as str(value)


def _arrow_type(kind: str) -> pyarrow.DataType:
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "string": pa.string()}[kind]


def _columns(space: DesignSpace, metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """The documented column list: name, type, role, unit (the manifest's ``columns``)."""
    cols = [
        {"name": "run_id", "type": "string", "role": "run", "unit": ""},
        {"name": "env_id", "type": "string", "role": "run", "unit": ""},
        {"name": "workload", "type": "string", "role": "run", "unit": ""},
        {"name": "agent", "type": "string", "role": "run", "unit": ""},
        {"name": "hyperparameters", "type": "string", "role": "run", "unit": "JSON"},
        {"name": "seed", "type": "int", "role": "run", "unit": "", "nullable": True},
        {"name": "step", "type": "int", "role": "run", "unit": ""},
    ]
    cols += [{"name": p.name, "type": _value_type(p), "role": "design", "unit": p.unit} for p in space]
    cols += [{"name": m.name, "type": "float", "role": "metric", "unit": m.unit, "direction": m.direction.value}
             for m in metrics]
    cols += [
        {"name": "reward", "type": "float", "role": "result", "unit": ""},
        {"name": "feasible", "type": "bool", "role": "result", "unit": ""},
        {"name": "reason", "type": "string", "role": "result", "unit": "", "nullable": True},
        {"name": "wall_time", "type": "float", "role": "result", "unit": "s"},
    ]
    names = [c["name"] for c in cols]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"column name(s) {clashes} are used twice: a design parameter or metric may not be named "
                         f"like another one or like a fixed column {list(RUN_COLUMNS + RESULT_COLUMNS)}")
    return cols


def _arrow_schema(space: DesignSpace, metrics: Sequence[Metric]) -> pyarrow.Schema:
    import pyarrow as pa

    fields = []
    for c in _columns(space, metrics):
        meta = {"role": c["role"], "unit": c["unit"]}
        if "direction" in c:
            meta["direction"] = c["direction"]
        fields.append(pa.field(c["name"], _arrow_type(c["type"]), nullable=c.get("nullable", False) or
                               c["type"] == "float", metadata=meta))
    meta = {"archgym.format": FORMAT, "archgym.schema_version": str(SCHEMA_VERSION),
            "archgym.space": json.dumps(space.to_dict()),
            "archgym.metrics": json.dumps([m.to_dict() for m in metrics]),
            "archgym.units": json.dumps({m.name: m.unit for m in metrics})}
    return pa.schema(fields, metadata=meta)


def dataset_manifest(space: DesignSpace, metrics: Sequence[Metric]) -> dict[str, Any]:
    """The ``manifest.json`` of a dataset for this space and these metrics."""
    import archgym

    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "space": space.to_dict(),
        "metrics": [m.to_dict() for m in metrics],
        "columns": _columns(space, metrics),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "archgym_version": archgym.__version__,
    }


def _essential_space(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A space description without the free-text fields that do not change the designs."""
    return [{k: v for k, v in p.items() if k != "description"} for p in space["parameters"]]


def _essential_metrics(metrics: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: m[k] for k in ("name", "unit", "direction")} for m in metrics]


def space_difference(have: Mapping[str, Any], want: Mapping[str, Any]) -> str | None:
    """How two ``DesignSpace.to_dict()`` descriptions differ (``None`` when they are the same space)."""
    a, b = _essential_space(have), _essential_space(want)
    if a == b:
        return None
    names_a, names_b = [p["name"] for p in a], [p["name"] for p in b]
    if names_a != names_b:
        return f"parameters {names_a} vs {names_b}"
    for pa_, pb in zip(a, b):
        if pa_ != pb:
            return f"parameter {pa_['name']!r} is {_domain(pa_)} vs {_domain(pb)}"
    return "the spaces differ"  # pragma: no cover - covered by the loop above


def _domain(p: Mapping[str, Any]) -> str:
    return Parameter.from_dict(p).domain_text()


def metrics_difference(have: Sequence[Mapping[str, Any]], want: Sequence[Mapping[str, Any]]) -> str | None:
    """How two metric lists differ in name, unit or direction (``None`` when they agree)."""
    a, b = _essential_metrics(have), _essential_metrics(want)
    if a == b:
        return None
    return "metrics " + ", ".join(f"{m['name']} [{m['unit']}, {m['direction']}]" for m in a) + " vs " + \
        ", ".join(f"{m['name']} [{m['unit']}, {m['direction']}]" for m in b)


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``manifest.json`` of a dataset directory, checked for format and schema version."""
    path = Path(path)
    target = path / MANIFEST
    if not target.is_file():
        raise ValueError(f"{path} is not a trajectory dataset: it has no {MANIFEST}")
    try:
        manifest = json.loads(target.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{target}: not valid JSON ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{target}: format is {manifest.get('format')!r}, expected {FORMAT!r}")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(f"{target}: schema_version {version!r}; this archgym reads and writes version "
                         f"{SCHEMA_VERSION}")
    return manifest


def check_dataset(path: str | os.PathLike[str], space: DesignSpace, metrics: Sequence[Metric] | None = None,
                  ) -> dict[str, Any]:
    """The manifest of dataset ``path`` after checking it holds ``space`` (and ``metrics``): ``ValueError``
    naming the difference otherwise."""
    manifest = read_manifest(path)
    diff = space_difference(manifest["space"], space.to_dict())
    if diff:
        raise ValueError(f"dataset {path} holds a different design space: {diff} (dataset vs given)")
    if metrics is not None:
        diff = metrics_difference(manifest["metrics"], [m.to_dict() for m in metrics])
        if diff:
            raise ValueError(f"dataset {path} holds different metrics: {diff} (dataset vs given)")
    return manifest


def _create_manifest(path: Path, manifest: Mapping[str, Any], token: str) -> None:
    """Publish ``manifest.json`` atomically unless another writer did first."""
    target = path / MANIFEST
    if target.exists():
        return
    tmp = path / f".manifest-{token}.tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, target)  # fails if the target exists: exactly one writer wins
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: rename (last writer wins; contents are checked after)
        if not target.exists():
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars and arrays and paths (anything else: ``TypeError``)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:48] or "run"


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
        if not isinstance(run.run_id, str) or not run.run_id:
            raise ValueError(f"run_id must be a non-empty string, got {run.run_id!r}")
        for label in ("env_id", "workload", "agent"):
            if not isinstance(getattr(run, label), str):
                raise ValueError(f"{label} must be a string, got {getattr(run, label)!r}")
        if run.seed is not None and (isinstance(run.seed, bool) or not isinstance(run.seed, (int, np.integer))):
            raise ValueError(f"seed must be an integer or None, got {run.seed!r}")
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
            raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
        try:
            self._hyperparameters = json.dumps(dict(run.hyperparameters), sort_keys=True, default=json_default)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"hyperparameters of run {run.run_id!r} must be JSON-serialisable: {exc}") from None
        self.path = Path(path)
        self.space = space
        self.metrics = tuple(metrics)
        self.run = run
        self.chunk_rows = chunk_rows
        self._schema = _arrow_schema(space, self.metrics)  # also rejects clashing column names
        self._metric_names = tuple(m.name for m in self.metrics)
        self._kinds = {p.name: _value_type(p) for p in space}
        self._token = uuid.uuid4().hex[:8]
        self._prefix = f"part-{_slug(run.run_id)}-{self._token}"
        self._parts = 0
        self._closed = False
        self.rows_written = 0
        self._buffer: dict[str, list[Any]] = {name: [] for name in self._schema.names}

        self.path.mkdir(parents=True, exist_ok=True)
        _create_manifest(self.path, dataset_manifest(space, self.metrics), self._token)
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
            steps=[self._integer("step", step)],
            designs={name: [self._cell(name, design[name])] for name in self.space.names},
            metrics={m: [float(evaluation.metrics.get(m, math.nan))] for m in self._metric_names},
            rewards=[float(reward)], feasible=[bool(evaluation.feasible)], reasons=[evaluation.reason],
            wall_times=[self._seconds(wall_time)],
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
        start = self._integer("start_step", start_step)
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

    @staticmethod
    def _integer(label: str, value: Any) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{label} must be an integer >= 0, got {value!r}")
        return int(value)

    @staticmethod
    def _seconds(value: Any) -> float:
        value = float(value)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"wall_time must be finite seconds >= 0, got {value!r}")
        return value

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


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def _part_files(path: Path) -> list[Path]:
    return sorted(path.glob(_PART_GLOB))


def remove_run(path: str | os.PathLike[str], run_id: str) -> int:
    """Delete every part written for ``run_id`` (a restarted run logs afresh); returns how many."""
    import pyarrow.parquet as pq

    path = Path(path)
    removed = 0
    for part in path.glob(f"part-{_slug(run_id)}-*.parquet") if path.is_dir() else ():
        ids = set(pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist())
        if ids == {run_id}:
            part.unlink()
            removed += 1
    return removed


def read_table(path: str | os.PathLike[str]) -> pyarrow.Table:
    """Every row of a dataset as one Arrow table (schema from the manifest, parts in name order)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    manifest = read_manifest(path)
    space = DesignSpace.from_dict(manifest["space"])
    schema = _arrow_schema(space, [Metric(m["name"], m["unit"], m["direction"], m.get("description", ""))
                                   for m in manifest["metrics"]])
    tables = []
    for part in _part_files(path):
        try:
            table = pq.read_table(part)
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"{part}: cannot read this Parquet part ({exc})") from None
        version = (table.schema.metadata or {}).get(b"archgym.schema_version", b"?").decode()
        if version != str(SCHEMA_VERSION) or table.schema.names != schema.names:
            raise ValueError(f"{part}: its columns or schema version ({version}) do not match {MANIFEST}")
        tables.append(table.cast(schema))
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables)


def read_dataset(path: str | os.PathLike[str]) -> pandas.DataFrame:
    """The dataset as a pandas table, one row per evaluation, columns typed as in the manifest.

    ``seed`` is a nullable integer column (``Int64``); design columns hold the parameters' values.
    """
    import pandas as pd

    df = read_table(path).to_pandas()
    df["seed"] = df["seed"].astype(pd.Int64Dtype())
    return df


def export_csv(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> int:
    """Write the dataset as one CSV file with a header row (units stay in ``manifest.json``); returns rows."""
    df = read_dataset(path)
    df.to_csv(out, index=False)
    return len(df)


def parameter_indices(p: Parameter, values: Any) -> np.ndarray:
    """Index-encoding positions of a column of values of one parameter (``ValueError`` naming the
    parameter for a value outside its domain). A continuous parameter needs ``levels``."""
    if isinstance(p, FloatRange):
        return np.array([p.index_of(v) for v in values], dtype=np.int64)
    kind = _value_type(p)
    if kind in ("int", "float"):  # vectorised: position in the sorted values, then an exact-match check
        col = np.asarray(values, dtype=np.float64)
        table = np.asarray(p.values, dtype=np.float64)
        order = np.argsort(table, kind="stable")
        pos = np.clip(np.searchsorted(table[order], col), 0, len(table) - 1)
        found = table[order][pos] == col
        if not found.all():
            raise ValueError(f"parameter {p.name!r}: {col[~found][0]!r} is not allowed; expected {p.domain_text()}")
        return order[pos].astype(np.int64)
    lookup = {str(v) if kind == "string" else v: i for i, v in enumerate(p.values)}
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    codes = [lookup.get(v, -1) if isinstance(v, (str, bool)) else -1 for v in items]
    if -1 in codes:
        bad = items[codes.index(-1)]
        raise ValueError(f"parameter {p.name!r}: {bad!r} is not allowed; expected {p.domain_text()}")
    return np.array(codes, dtype=np.int64)


def design_indices(space: DesignSpace, columns: Mapping[str, Any]) -> np.ndarray:
    """The ``(n, d)`` index matrix of designs given as per-parameter value columns (arrays or lists)."""
    cols = [parameter_indices(p, columns[p.name]) for p in space]
    return np.stack(cols, axis=1) if cols[0].size else np.empty((0, len(space)), dtype=np.int64)


def load_arrays(path: str | os.PathLike[str], space: DesignSpace, metrics: Sequence[str] | None = None, *,
                env_id: str | None = None, workload: str | None = None,
                ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """``(index matrix, {metric: values}, feasible mask)`` of a dataset written for ``space``.

    ``metrics`` picks metric columns (default: all); ``env_id``/``workload`` keep only those rows.
    The index matrix uses the space's index encoding (a continuous parameter needs ``levels``).
    """
    path = Path(path)
    manifest = check_dataset(path, space)
    available = [m["name"] for m in manifest["metrics"]]
    chosen = list(available if metrics is None else metrics)
    unknown = [m for m in chosen if m not in available]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; dataset {path} holds {available}")
    table = read_table(path)
    if env_id is not None or workload is not None:
        import pyarrow.compute as pc

        mask = None
        for column, wanted in (("env_id", env_id), ("workload", workload)):
            if wanted is not None:
                m = pc.equal(table[column], wanted)
                mask = m if mask is None else pc.and_(mask, m)
        table = table.filter(mask)
    columns = {p.name: table[p.name].to_numpy(zero_copy_only=False) for p in space}
    indices = design_indices(space, columns)
    values = {m: table[m].to_numpy(zero_copy_only=False).astype(np.float64) for m in chosen}
    feasible = table["feasible"].to_numpy(zero_copy_only=False).astype(bool)
    return indices, values, feasible


# --------------------------------------------------------------------------------------------------
# Collecting: sample a space into a dataset
# --------------------------------------------------------------------------------------------------

SAMPLING_METHODS = ("random", "lhs")


def _indexable(space: DesignSpace) -> bool:
    """True when every parameter has an index encoding (discrete, or continuous with ``levels``)."""
    return all(p.discrete or getattr(p, "levels", None) for p in space)


def sample_space(space: DesignSpace, n: int, method: str, rng: np.random.Generator,
                 ) -> np.ndarray | list[dict[str, Any]]:
    """``n`` designs: an ``(n, d)`` index matrix, or design dicts when a parameter is continuous.

    ``random`` draws each parameter uniformly. ``lhs`` is a Latin hypercube over the unit encoding:
    each axis of ``[0, 1]^d`` is cut into ``n`` strata, each stratum is sampled once, and the axes
    are paired by independent permutations, so every parameter's values appear in proportion to
    their share of the unit interval (within two designs) whatever ``n``.
    """
    if method not in SAMPLING_METHODS:
        raise ValueError(f"unknown sampling method {method!r}; choose one of {list(SAMPLING_METHODS)}")
    if method == "random":
        return space.sample_indices(rng, n) if _indexable(space) else space.sample(rng, n)
    unit = (np.stack([rng.permutation(n) for _ in range(len(space))], axis=1) + rng.random((n, len(space)))) / n
    if _indexable(space):
        nvec = space.nvec
        return np.minimum(np.floor(unit * nvec).astype(np.int64), nvec - 1)
    return [space.decode_unit(u) for u in unit]


def collect(env: Any, env_id: str, out: str | os.PathLike[str], samples: int, *, method: str = "random",
            seed: int | None = 0, batch: int = 4096, run_id: str | None = None,
            progress: Any = None) -> dict[str, Any]:
    """Evaluate ``samples`` designs of ``env`` (a ``DesignEnv``) drawn by ``method`` and append them to
    the dataset ``out``; returns a summary. Designs are costed with ``evaluate_batch`` in batches of
    ``batch`` (one Parquet part each); ``progress(done, total, seconds)`` is called after each."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    sim = env.simulator
    designs = sample_space(sim.space, samples, method, np.random.default_rng(seed))
    run = RunInfo(run_id=run_id or f"collect-{method}-s{seed}-{uuid.uuid4().hex[:6]}", env_id=env_id,
                  workload=sim.workload, agent=method, hyperparameters={"samples": samples}, seed=seed)
    feasible = 0
    start = time.perf_counter()
    with TrajectoryWriter(out, space=sim.space, metrics=sim.metrics, run=run, chunk_rows=batch) as writer:
        for lo in range(0, samples, batch):
            chunk = designs[lo:lo + batch]
            t0 = time.perf_counter()
            if isinstance(chunk, np.ndarray):
                evaluations = sim.evaluate_batch(chunk)
            else:  # a continuous parameter: no index matrix, so one design at a time
                evaluations = BatchEvaluation.from_evaluations([sim.evaluate(d) for d in chunk], sim.metric_names)
            seconds = time.perf_counter() - t0
            rewards = env.objective.batch(evaluations)
            # wall time as the explore loop logs it: seconds since the run started, when the evaluation
            # finished (a batch's time is spread evenly over its designs); steps count from 1 likewise
            finished = t0 - start + seconds * np.arange(1, len(evaluations) + 1) / len(evaluations)
            writer.append_batch(start_step=lo + 1, designs=chunk, evaluations=evaluations, rewards=rewards,
                                wall_time=finished)
            writer.flush()
            feasible += int(np.count_nonzero(evaluations.feasible))
            if progress is not None:
                progress(min(samples, lo + batch), samples, time.perf_counter() - start)
    seconds = time.perf_counter() - start
    return {"dataset": str(out), "run_id": run.run_id, "env": env_id, "workload": sim.workload, "method": method,
            "seed": seed, "rows": samples, "feasible": feasible, "seconds": seconds,
            "designs_per_second": samples / seconds if seconds > 0 else math.inf}
