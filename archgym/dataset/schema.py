"""The dataset's schema: its columns and Parquet types, the metadata every part carries, and the scan
a reader or writer makes of a directory.

A dataset directory holds Parquet files only (``part-<run>-<hash>-<seq>.parquet``), so pandas,
pyarrow, polars and duckdb read it as it is. What archgym needs besides the rows travels in each
file's key-value metadata: ``archgym.format``, ``archgym.schema_version``, ``archgym.space``,
``archgym.metrics``, ``archgym.units``, ``archgym.run`` (the run's provenance) and ``archgym.parts``
(the range of the run's chunk numbers the file holds: a compacted file covers those it replaced).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.io import dumps
from simulators.core import DesignSpace, FloatRange, Metric, Parameter, metrics_difference, space_difference

if TYPE_CHECKING:  # pyarrow loads only when a dataset is written or read
    import pyarrow

__all__ = ["FORMAT", "LEGACY_MANIFEST", "PART_GLOB", "PROVENANCE_COLUMNS", "RESULT_COLUMNS", "RUN_COLUMNS",
           "SCHEMA_VERSION", "DatasetInfo", "PartInfo", "arrow_schema", "check_dataset", "columns", "scan_dataset",
           "value_type"]

SCHEMA_VERSION = 2
FORMAT = "archgym-trajectories"
PART_GLOB = "part-*.parquet"
LEGACY_MANIFEST = "manifest.json"  # schema version 1 kept one among the parts

#: Columns before the design parameters, after the metrics, and last (names a parameter or metric may not take).
RUN_COLUMNS = ("run_id", "env_id", "workload", "agent", "hyperparameters", "seed", "step")
RESULT_COLUMNS = ("reward", "feasible", "reason", "wall_time")
PROVENANCE_COLUMNS = ("simulator", "settings", "objective", "archgym_version")


def value_type(p: Parameter) -> str:
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

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "string": pa.string(),
            "category": pa.dictionary(pa.int32(), pa.string())}[kind]


def columns(space: DesignSpace, metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """The documented column list: name, type, role, unit (``category``: a string column stored
    dictionary-encoded, one copy per distinct value, which pandas reads as a categorical)."""
    cols = [
        {"name": "run_id", "type": "string", "role": "run", "unit": ""},
        {"name": "env_id", "type": "string", "role": "run", "unit": ""},
        {"name": "workload", "type": "string", "role": "run", "unit": ""},
        {"name": "agent", "type": "string", "role": "run", "unit": ""},
        {"name": "hyperparameters", "type": "string", "role": "run", "unit": "JSON"},
        {"name": "seed", "type": "int", "role": "run", "unit": "", "nullable": True},
        {"name": "step", "type": "int", "role": "run", "unit": ""},
    ]
    cols += [{"name": p.name, "type": value_type(p), "role": "design", "unit": p.unit} for p in space]
    cols += [{"name": m.name, "type": "float", "role": "metric", "unit": m.unit, "direction": m.direction.value}
             for m in metrics]
    cols += [
        {"name": "reward", "type": "float", "role": "result", "unit": ""},
        {"name": "feasible", "type": "bool", "role": "result", "unit": ""},
        {"name": "reason", "type": "string", "role": "result", "unit": "", "nullable": True},
        {"name": "wall_time", "type": "float", "role": "result", "unit": "s"},
        {"name": "simulator", "type": "category", "role": "provenance", "unit": ""},
        {"name": "settings", "type": "category", "role": "provenance", "unit": "JSON"},
        {"name": "objective", "type": "category", "role": "provenance", "unit": "JSON"},
        {"name": "archgym_version", "type": "category", "role": "provenance", "unit": ""},
    ]
    names = [c["name"] for c in cols]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"column name(s) {clashes} are used twice: a design parameter or metric may not be named "
                         f"like another one or like a fixed column "
                         f"{list(RUN_COLUMNS + RESULT_COLUMNS + PROVENANCE_COLUMNS)}")
    return cols


def arrow_schema(space: DesignSpace, metrics: Sequence[Metric], extra: dict[str, str] | None = None,
                 ) -> pyarrow.Schema:
    """The Parquet schema of a dataset: typed columns with role and unit metadata, and the format, schema
    version, space and metrics in the schema's key-value metadata (plus ``extra`` keys)."""
    import pyarrow as pa

    fields = []
    for c in columns(space, metrics):
        meta = {"role": c["role"], "unit": c["unit"]}
        if "direction" in c:
            meta["direction"] = c["direction"]
        fields.append(pa.field(c["name"], _arrow_type(c["type"]), nullable=c.get("nullable", False) or
                               c["type"] == "float", metadata=meta))
    meta = {"archgym.format": FORMAT, "archgym.schema_version": str(SCHEMA_VERSION),
            "archgym.space": dumps(space.to_dict(), indent=None),
            "archgym.metrics": dumps([m.to_dict() for m in metrics], indent=None),
            "archgym.units": dumps({m.name: m.unit for m in metrics}, indent=None), **(extra or {})}
    return pa.schema(fields, metadata=meta)


@dataclass(frozen=True)
class PartInfo:
    """One Parquet file of a dataset: its run's provenance record, the chunk numbers it covers and its rows."""

    path: Path
    run: dict[str, Any]
    first: int
    last: int
    rows: int

    @property
    def run_id(self) -> str:
        return self.run["run_id"]


@dataclass
class DatasetInfo:
    """What a scan of a dataset directory found: its space and metrics, the live parts (in name order)
    and the parts a compaction superseded but a crash left behind (every reader here skips those)."""

    path: Path
    space: DesignSpace
    metrics: tuple[Metric, ...]
    parts: list[PartInfo]
    superseded: list[PartInfo] = field(default_factory=list)
    #: entries of the directory that are not parts (archgym ignores them; other readers fail on them)
    others: list[Path] = field(default_factory=list)

    @property
    def space_dict(self) -> dict[str, Any]:
        return self.space.to_dict()

    def runs(self) -> dict[str, dict[str, Any]]:
        """Each run's provenance record (from its first live part), by run id."""
        out: dict[str, dict[str, Any]] = {}
        for p in self.parts:
            out.setdefault(p.run_id, p.run)
        return out


def _legacy_error(path: Path) -> ValueError:
    return ValueError(
        f"{path} is a trajectory dataset of schema version 1 (it keeps {LEGACY_MANIFEST} among its parts, and its "
        f"rows do not record the simulator settings or the objective); this archgym reads version {SCHEMA_VERSION}. "
        f"Convert it with `archgym dataset upgrade {path} --out NEW_DIR --env ENV [--workload W] [-k KEY=VALUE]`, "
        "naming the settings its rows were produced with, then check them with `archgym dataset validate NEW_DIR`")


def _manifest_error(path: Path) -> ValueError:
    """Why a directory holding a ``manifest.json`` is not read as a dataset: it is a proxy model (which
    keeps one), another kind of archgym directory, or a schema-1 dataset (to convert)."""
    from archgym.proxy.manifest import FORMAT as PROXY_FORMAT

    try:
        fmt = json.loads((path / LEGACY_MANIFEST).read_text()).get("format")
    except (OSError, ValueError, AttributeError):  # unreadable, not JSON, not an object: as schema 1 did
        fmt = None
    if fmt == PROXY_FORMAT:
        if any(path.glob(PART_GLOB)):
            advice = (f": the model was written among the Parquet parts of a dataset: move the model's files "
                      f"({LEGACY_MANIFEST} and the model files it names) to a directory of their own")
        else:
            advice = f"; give a dataset directory (score the model on one with `archgym proxy score {path} DATA`)"
        return ValueError(f"{path} holds an archgym proxy model (its {LEGACY_MANIFEST} has format "
                          f"{PROXY_FORMAT!r}), not a trajectory dataset{advice}")
    if isinstance(fmt, str) and fmt != FORMAT:
        return ValueError(f"{path} is not a trajectory dataset: its {LEGACY_MANIFEST} has format {fmt!r} (a dataset "
                          f"is a directory of {PART_GLOB} files)")
    return _legacy_error(path)


def _metadata(part: Path) -> tuple[dict[bytes, bytes], int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(part)
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"{part}: cannot read this Parquet part ({exc})") from None
    return dict(meta.metadata or {}), meta.num_rows


def read_part_info(part: Path) -> tuple[PartInfo, dict[bytes, bytes]]:
    """A part's ``PartInfo`` and raw metadata, after checking its format and schema version."""
    meta, rows = _metadata(part)
    fmt = meta.get(b"archgym.format", b"").decode()
    version = meta.get(b"archgym.schema_version", b"?").decode()
    if fmt != FORMAT:
        raise ValueError(f"{part}: not a part of an archgym trajectory dataset (format {fmt or 'missing'!r})")
    if version != str(SCHEMA_VERSION):
        raise ValueError(f"{part}: schema_version {version}; this archgym reads and writes version {SCHEMA_VERSION}")
    try:
        run = json.loads(meta[b"archgym.run"])
        first, last = json.loads(meta[b"archgym.parts"])
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"{part}: its archgym.run or archgym.parts metadata is missing or malformed") from None
    return PartInfo(part, run, int(first), int(last), rows), meta


def _live(parts: list[PartInfo]) -> tuple[list[PartInfo], list[PartInfo]]:
    """Split a dataset's parts into live ones and those whose chunks another part of the run also holds."""
    by_run: dict[str, list[PartInfo]] = {}
    for p in parts:
        by_run.setdefault(p.run_id, []).append(p)
    dead = set()
    for group in by_run.values():
        group = sorted(group, key=lambda p: (p.first, -p.last, p.path.name))
        reach = -1
        for p in group:
            if p.last <= reach:
                dead.add(p.path)
            reach = max(reach, p.last)
    return [p for p in parts if p.path not in dead], [p for p in parts if p.path in dead]


def scan_dataset(path: str | os.PathLike[str], *, allow_empty: bool = False) -> DatasetInfo | None:
    """The ``DatasetInfo`` of a dataset directory, after checking every part's format, schema version,
    space and metrics agree (``ValueError`` naming the part otherwise). A directory with no parts is an
    error, or ``None`` with ``allow_empty`` (a writer's first run)."""
    if isinstance(path, str) and not path.strip():  # Path("") is the current directory
        raise ValueError("a dataset directory is an empty path (write . for the current directory)")
    path = Path(path)
    if path.is_file():
        raise ValueError(f"{path} is a file: a trajectory dataset is a directory of Parquet parts")
    if (path / LEGACY_MANIFEST).is_file():
        raise _manifest_error(path)
    if (path / "spec.yaml").is_file() and ((path / "trials").is_dir() or (path / "trajectories").is_dir()):
        # (a writer would mix its parts in among the sweep's files)
        raise ValueError(f"{path} is a sweep's run directory, not a trajectory dataset: its evaluations are the "
                         f"dataset {path / 'trajectories'}; log other runs to a directory of their own")
    for attempt in range(10):  # a file that vanished meanwhile was compacted away: list the parts again
        files = sorted(path.glob(PART_GLOB)) if path.is_dir() else []
        if not files:
            if allow_empty:
                return None
            what = "does not exist" if not path.exists() else f"holds no {PART_GLOB} files"
            raise ValueError(f"{path} is not a trajectory dataset: it {what}")
        parts, first_meta = [], None
        try:
            for f in files:
                info, meta = read_part_info(f)
                if first_meta is None:
                    first_meta = (f, meta)
                else:
                    _check_same(first_meta, f, meta)
                parts.append(info)
            break
        except FileNotFoundError:
            if attempt == 9:
                raise ValueError(f"{path}: its parts keep changing while being read") from None
    space, metrics = _space_metrics(*first_meta)
    live, dead = _live(parts)
    named = set(files)
    others = sorted(p for p in path.iterdir() if p not in named)
    return DatasetInfo(path, space, metrics, live, dead, others)


def _space_metrics(part: Path, meta: dict[bytes, bytes]) -> tuple[DesignSpace, tuple[Metric, ...]]:
    try:
        space = DesignSpace.from_dict(json.loads(meta[b"archgym.space"]))
        metrics = tuple(Metric(m["name"], m["unit"], m["direction"], m.get("description", ""))
                        for m in json.loads(meta[b"archgym.metrics"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{part}: its space or metrics metadata cannot be read ({exc})") from None
    return space, metrics


def _check_same(first: tuple[Path, dict[bytes, bytes]], part: Path, meta: dict[bytes, bytes]) -> None:
    ref_path, ref = first
    for key, compare in ((b"archgym.space", space_difference), (b"archgym.metrics", metrics_difference)):
        if meta.get(key) != ref.get(key):
            diff = compare(json.loads(ref[key]), json.loads(meta[key]))
            if diff:
                raise ValueError(f"{part.name} and {ref_path.name} in {part.parent} hold different "
                                 f"{'design spaces' if key == b'archgym.space' else 'metrics'}: {diff}")


def check_dataset(path: str | os.PathLike[str], space: DesignSpace, metrics: Sequence[Metric] | None = None,
                  ) -> DatasetInfo:
    """The scan of dataset ``path`` after checking it holds ``space`` (and ``metrics``): ``ValueError``
    naming the difference otherwise."""
    info = scan_dataset(path)
    diff = space_difference(info.space.to_dict(), space.to_dict())
    if diff:
        raise ValueError(f"dataset {path} holds a different design space: {diff} (dataset vs given)")
    if metrics is not None:
        diff = metrics_difference([m.to_dict() for m in info.metrics], [m.to_dict() for m in metrics])
        if diff:
            raise ValueError(f"dataset {path} holds different metrics: {diff} (dataset vs given)")
    return info
