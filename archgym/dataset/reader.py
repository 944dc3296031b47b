"""Reading a dataset: every row as an Arrow or pandas table, as arrays for training, or as CSV."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.dataset.schema import SCHEMA_VERSION, arrow_schema, check_dataset, scan_dataset, value_type
from simulators.core import DesignSpace, Parameter

if TYPE_CHECKING:
    import pandas
    import pyarrow

__all__ = ["dataset_summary", "design_indices", "export_csv", "load_arrays", "read_dataset", "read_table"]


def read_table(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> pyarrow.Table:
    """Every row of a dataset as one Arrow table (parts in name order, superseded ones skipped), or only
    ``columns``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for attempt in range(10):
        info = scan_dataset(path)
        schema = arrow_schema(info.space, info.metrics)
        if columns is not None:
            unknown = [c for c in columns if c not in schema.names]
            if unknown:
                raise ValueError(f"dataset {path} has no column(s) {unknown}")
            schema = pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)
        tables = []
        try:
            for part in info.parts:
                try:
                    table = pq.read_table(part.path, columns=list(schema.names))
                except FileNotFoundError:
                    raise
                except (OSError, pa.ArrowException) as exc:
                    raise ValueError(f"{part.path}: cannot read this Parquet part ({exc})") from None
                tables.append(table.cast(schema))
        except FileNotFoundError:  # compacted away meanwhile: scan again
            if attempt == 9:
                raise ValueError(f"{path}: its parts keep changing while being read") from None
            continue
        return pa.concat_tables(tables) if tables else schema.empty_table()
    raise AssertionError("unreachable")


def read_dataset(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> pandas.DataFrame:
    """The dataset as a pandas table, one row per evaluation (or only ``columns``).

    ``seed`` is a nullable integer column (``Int64``); design columns hold the parameters' values;
    the provenance columns (``simulator``, ``settings``, ``objective``, ``archgym_version``) are
    categoricals, one copy of each distinct value.
    """
    import pandas as pd

    df = read_table(path, columns).to_pandas()
    if "seed" in df.columns:
        df["seed"] = df["seed"].astype(pd.Int64Dtype())
    return df


def export_csv(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> int:
    """Write the dataset as one CSV file with a header row (units stay in the Parquet metadata); returns rows."""
    df = read_dataset(path)
    df.to_csv(out, index=False)
    return len(df)


def design_values(p: Parameter, cells: Any) -> Any:
    """The values of parameter ``p`` in a column as the dataset stores it: a choice whose values are not
    all of one kind is stored as text (``str(value)``), which this maps back; other columns pass as they are."""
    if value_type(p) != "string" or all(isinstance(v, str) for v in p.values):
        return cells
    by_text = {str(v): v for v in p.values}
    return [by_text.get(c, c) for c in (cells.tolist() if isinstance(cells, np.ndarray) else cells)]


def design_indices(space: DesignSpace, columns: Mapping[str, Any]) -> np.ndarray:
    """The ``(n, d)`` index matrix of designs given as per-parameter columns of stored cells."""
    return space.encode_columns({p.name: design_values(p, columns[p.name]) for p in space})


def load_arrays(path: str | os.PathLike[str], space: DesignSpace, metrics: Sequence[str] | None = None, *,
                env_id: str | None = None, workload: str | None = None,
                ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """``(index matrix, {metric: values}, feasible mask)`` of a dataset written for ``space``.

    ``metrics`` picks metric columns (default: all); ``env_id``/``workload`` keep only those rows.
    The index matrix uses the space's index encoding (a continuous parameter needs ``levels``).
    """
    info = check_dataset(path, space)
    available = [m.name for m in info.metrics]
    chosen = list(available if metrics is None else metrics)
    unknown = [m for m in chosen if m not in available]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; dataset {path} holds {available}")
    table = read_table(path, [*space.names, *chosen, "feasible", "env_id", "workload"])
    if env_id is not None or workload is not None:
        import pyarrow.compute as pc

        mask = None
        for column, wanted in (("env_id", env_id), ("workload", workload)):
            if wanted is not None:
                m = pc.equal(table[column], wanted)
                mask = m if mask is None else pc.and_(mask, m)
        table = table.filter(mask)
    cols = {p.name: table[p.name].to_numpy(zero_copy_only=False) for p in space}
    indices = design_indices(space, cols)
    values = {m: table[m].to_numpy(zero_copy_only=False).astype(np.float64) for m in chosen}
    feasible = table["feasible"].to_numpy(zero_copy_only=False).astype(bool)
    return indices, values, feasible


def dataset_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Rows, runs (with their provenance), envs/workloads, agents and per-metric ranges of a dataset
    (``archgym dataset``)."""
    info = scan_dataset(path)
    df = read_dataset(path)
    feasible = df[df["feasible"]]
    metrics = []
    for m in info.metrics:
        col = feasible[m.name]
        metrics.append({"name": m.name, "unit": m.unit, "min": float(col.min()) if len(col) else None,
                        "max": float(col.max()) if len(col) else None})
    groups = df.groupby(["env_id", "workload"]).size() if len(df) else {}
    rows_by_run = df.groupby("run_id").size().to_dict() if len(df) else {}
    runs = []
    for run_id, record in info.runs().items():
        runs.append({"run_id": run_id, "rows": int(rows_by_run.get(run_id, 0)), "env_id": record.get("env_id"),
                     "workload": record.get("workload"), "agent": record.get("agent"), "seed": record.get("seed"),
                     "simulator": record.get("simulator") or None, "settings": record.get("settings"),
                     "objective": record.get("objective"), "archgym_version": record.get("archgym_version")})
    return {
        "dataset": str(path), "schema_version": SCHEMA_VERSION, "rows": len(df), "files": len(info.parts),
        "feasible": int(df["feasible"].sum()), "runs": len(runs),
        "agents": sorted(df["agent"].unique().tolist()),
        "envs": [{"env_id": e, "workload": w, "rows": int(n)} for (e, w), n in dict(groups).items()],
        "parameters": info.space.names, "metrics": metrics, "run_records": runs,
        "superseded_files": [p.path.name for p in info.superseded],
    }
