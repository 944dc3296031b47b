"""The dataset's schema: its columns and Parquet types, the manifest, and the checks a reader makes.

``SCHEMA_VERSION`` numbers this layout; ``manifest.json`` records it with the space and metrics
(units, directions), and every Parquet file carries the same in its schema metadata.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.io import check_format, dumps, read_json, write_json
from simulators.core import DesignSpace, FloatRange, Metric, Parameter, metrics_difference, space_difference

if TYPE_CHECKING:  # pyarrow loads only when a dataset is written or read
    import pyarrow

__all__ = ["FORMAT", "MANIFEST", "RESULT_COLUMNS", "RUN_COLUMNS", "SCHEMA_VERSION", "arrow_schema", "check_dataset",
           "create_manifest", "dataset_manifest", "read_manifest", "value_type"]

SCHEMA_VERSION = 1
FORMAT = "archgym-trajectories"
MANIFEST = "manifest.json"

#: Columns before the design parameters, and after the metrics (names a parameter or metric may not take).
RUN_COLUMNS = ("run_id", "env_id", "workload", "agent", "hyperparameters", "seed", "step")
RESULT_COLUMNS = ("reward", "feasible", "reason", "wall_time")


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
    cols += [{"name": p.name, "type": value_type(p), "role": "design", "unit": p.unit} for p in space]
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


def arrow_schema(space: DesignSpace, metrics: Sequence[Metric]) -> pyarrow.Schema:
    """The Parquet schema of a dataset: typed columns with role and unit metadata, and the space and
    metrics in the schema's key-value metadata."""
    import pyarrow as pa

    fields = []
    for c in _columns(space, metrics):
        meta = {"role": c["role"], "unit": c["unit"]}
        if "direction" in c:
            meta["direction"] = c["direction"]
        fields.append(pa.field(c["name"], _arrow_type(c["type"]), nullable=c.get("nullable", False) or
                               c["type"] == "float", metadata=meta))
    meta = {"archgym.format": FORMAT, "archgym.schema_version": str(SCHEMA_VERSION),
            "archgym.space": dumps(space.to_dict(), indent=None),
            "archgym.metrics": dumps([m.to_dict() for m in metrics], indent=None),
            "archgym.units": dumps({m.name: m.unit for m in metrics}, indent=None)}
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


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``manifest.json`` of a dataset directory, checked for format and schema version."""
    path = Path(path)
    if path.is_file():
        raise ValueError(f"{path} is a file: a trajectory dataset is a directory (with a {MANIFEST})")
    target = path / MANIFEST
    if not target.is_file():
        raise ValueError(f"{path} is not a trajectory dataset: it has no {MANIFEST}")
    manifest = read_json(target, "dataset manifest")
    check_format(manifest, str(target), fmt=FORMAT, version=SCHEMA_VERSION, version_key="schema_version")
    for key in ("space", "metrics"):
        if key not in manifest:
            raise ValueError(f"{target}: has no {key!r}")
    return dict(manifest)


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


def create_manifest(path: Path, manifest: Mapping[str, Any]) -> None:
    """Publish ``manifest.json`` in ``path`` atomically unless another writer did first."""
    if not (path / MANIFEST).exists():
        write_json(path / MANIFEST, manifest, exclusive=True)
