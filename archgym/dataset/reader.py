"""Reading a dataset: every row as an Arrow or pandas table, as arrays for training, or as CSV."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.dataset.schema import MANIFEST, SCHEMA_VERSION, arrow_schema, check_dataset, read_manifest, value_type
from archgym.dataset.writer import part_prefix
from simulators.core import DesignSpace, Metric, Parameter

if TYPE_CHECKING:
    import pandas
    import pyarrow

__all__ = ["dataset_summary", "design_indices", "export_csv", "load_arrays", "read_dataset", "read_table",
           "remove_run"]

_PART_GLOB = "part-*.parquet"


def _part_files(path: Path) -> list[Path]:
    return sorted(path.glob(_PART_GLOB))


def remove_run(path: str | os.PathLike[str], run_id: str) -> int:
    """Delete every part written for ``run_id`` (a restarted run logs afresh); returns how many."""
    import pyarrow.parquet as pq

    path = Path(path)
    removed = 0
    for part in path.glob(f"{part_prefix(run_id)}-*.parquet") if path.is_dir() else ():
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
    schema = arrow_schema(space, [Metric(m["name"], m["unit"], m["direction"], m.get("description", ""))
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




def dataset_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Rows, runs, envs/workloads, agents and per-metric ranges of a dataset (``archgym dataset``)."""
    manifest = read_manifest(path)
    df = read_dataset(path)
    feasible = df[df["feasible"]]
    metrics = []
    for m in manifest["metrics"]:
        col = feasible[m["name"]]
        metrics.append({"name": m["name"], "unit": m["unit"], "min": float(col.min()) if len(col) else None,
                        "max": float(col.max()) if len(col) else None})
    groups = df.groupby(["env_id", "workload"]).size() if len(df) else {}
    return {
        "dataset": str(path), "schema_version": manifest["schema_version"], "rows": len(df),
        "feasible": int(df["feasible"].sum()), "runs": int(df["run_id"].nunique()),
        "agents": sorted(df["agent"].unique().tolist()),
        "envs": [{"env_id": e, "workload": w, "rows": int(n)} for (e, w), n in dict(groups).items()],
        "parameters": [p["name"] for p in manifest["space"]["parameters"]], "metrics": metrics,
    }
