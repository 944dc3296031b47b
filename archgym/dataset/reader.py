"""Reading a dataset: every row as an Arrow or pandas table, as arrays for training, or as CSV."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.dataset.provenance import canonical, comparable
from archgym.dataset.schema import (
    SCHEMA_VERSION,
    DatasetInfo,
    arrow_schema,
    check_dataset,
    scan_dataset,
    value_type,
)
from simulators.core import DesignSpace, Parameter

if TYPE_CHECKING:
    import pandas
    import pyarrow

__all__ = ["collect_samples", "dataset_summary", "design_indices", "export_csv", "load_arrays", "read_dataset",
           "read_parts", "read_table", "run_notes", "to_pandas"]


def read_table(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> pyarrow.Table:
    """Every row of a dataset as one Arrow table (parts in name order, superseded ones skipped), or only
    ``columns``."""
    _, schema, tables = read_parts(path, columns)
    import pyarrow as pa

    return pa.concat_tables(tables) if tables else schema.empty_table()


def read_parts(path: str | os.PathLike[str], columns: Sequence[str] | None = None, *,
               check_run_columns: bool = True) -> tuple[DatasetInfo, pyarrow.Schema, list[pyarrow.Table]]:
    """What ``read_table`` reads, part by part: the scan, the schema read, and one table per live part
    (in ``info.parts`` order, so each row's part, and the run record it was written under, is known).

    A part whose run columns (``RUN_RECORD_COLUMNS``, those read) disagree with the run record in its
    metadata is a ``ValueError`` naming the file and column, unless ``check_run_columns`` is false (for a
    caller that reports each such cell itself)."""
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
                    table = table.cast(schema)  # an empty cell in a column that allows none: ValueError
                except FileNotFoundError:
                    raise
                except (OSError, ValueError, pa.ArrowException) as exc:
                    problem = _read_problem(part.path, schema, exc)
                    raise ValueError(f"{part.path}: cannot read this Parquet part ({problem})") from None
                conflict = _run_column_conflict(part, table) if check_run_columns else None
                if conflict:
                    raise ValueError(f"{part.path}: {conflict}")
                tables.append(table)
        except FileNotFoundError:  # compacted away meanwhile: scan again
            if attempt == 9:
                raise ValueError(f"{path}: its parts keep changing while being read") from None
            continue
        return info, schema, tables
    raise AssertionError("unreachable")


def _read_problem(path: Any, schema: Any, exc: Exception) -> str:
    """Why a part could not be read, in a line: the columns it lacks, else the reader's first line."""
    import pyarrow.parquet as pq

    try:
        missing = [n for n in schema.names if n not in pq.read_schema(path).names]
    except Exception:  # noqa: BLE001 - the schema is unreadable too: say what the reader said
        missing = []
    if missing:
        return f"it lacks the column(s) {missing} that the dataset's schema has"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_dataset(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> pandas.DataFrame:
    """The dataset as a pandas table, one row per evaluation (or only ``columns``).

    ``seed`` is a nullable integer column (``Int64``); design columns hold the parameters' values;
    the provenance columns (``simulator``, ``settings``, ``objective``, ``archgym_version``) are
    categoricals, one copy of each distinct value.
    """
    return to_pandas(read_table(path, columns))


def to_pandas(table: pyarrow.Table) -> pandas.DataFrame:
    """A table of dataset rows as ``read_dataset`` gives it (``seed`` as a nullable ``Int64``)."""
    import pandas as pd

    df = table.to_pandas()
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


#: the columns whose cells repeat the run record in their file's metadata (``archgym_version`` is not one:
#: a resumed run's compacted file records the archgym that resumed it, its older rows the one before)
RUN_RECORD_COLUMNS = ("run_id", "env_id", "workload", "agent", "hyperparameters", "seed", "simulator", "settings",
                      "objective")


def missing_cell(value: Any) -> bool:
    """``None``, NaN or pandas' ``<NA>`` (an empty cell)."""
    if value is None or isinstance(value, (str, dict, list)):
        return value is None
    try:
        return bool(value != value)
    except TypeError:  # <NA> != <NA> is <NA>, which has no truth value
        return True


def cell_meaning(column: str, value: Any) -> Any:
    """What a run column's cell (or the run record's field) says, in a form equal meanings share:
    JSON compared by content (settings with file paths left out), an empty cell as ``None``."""
    if missing_cell(value):
        return None
    if column == "seed":
        return int(value)
    if column in ("hyperparameters", "settings", "objective"):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return ("not JSON", value)
            if value is None:  # "null": a run that recorded none
                return None
        return canonical(comparable(value) if column != "hyperparameters" else value)
    return str(value)


def record_shown(column: str, value: Any) -> Any:
    """A run record's field as a message shows it (JSON fields as canonical text)."""
    return canonical(value) if column in ("hyperparameters", "settings", "objective") else value


def _run_column_conflict(part: Any, table: pyarrow.Table) -> str | None:
    """Where a part's run columns say something else than the run record in its metadata, in a line, or
    ``None``: readers select rows by those columns (a proxy's training rows by their settings), so a
    column relabelled after writing would pass another run's results off as its own."""
    import pyarrow.compute as pc

    for column in RUN_RECORD_COLUMNS:
        if column not in table.column_names:
            continue
        want = part.run.get(column)
        meaning = cell_meaning(column, want)
        for cell in pc.unique(table[column]).to_pylist():
            if cell_meaning(column, cell) != meaning:
                return (f"its {column} column holds {cell!r} where the file's run record says "
                        f"{record_shown(column, want)!r}; the rows "
                        "were edited after they were written (`archgym dataset validate` lists each one)")
    return None


def load_arrays(path: str | os.PathLike[str], space: DesignSpace, metrics: Sequence[str] | None = None, *,
                env_id: str | None = None, workload: str | None = None, settings: Mapping[str, Any] | None = None,
                ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """``(index matrix, {metric: values}, feasible mask)`` of a dataset written for ``space``.

    ``metrics`` picks metric columns (default: all). The rows returned come from one env, workload,
    simulator and simulator settings, since the same design has other results under other settings:
    ``env_id``, ``workload`` and ``settings`` (a mapping as the ``settings`` column records it, e.g.
    ``json.loads(df["settings"].iloc[0])``; compared as ``archgym proxy`` compares them: a file by its
    content, numbers by value) keep only those rows, and when the rows left still span several of
    these a ``ValueError`` lists them. The index matrix uses the space's index encoding (a continuous
    parameter needs ``levels``).
    """
    import pyarrow as pa

    info = check_dataset(path, space)
    available = [m.name for m in info.metrics]
    chosen = list(available if metrics is None else metrics)
    unknown = [m for m in chosen if m not in available]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; dataset {path} holds {available}")
    if settings is not None and not isinstance(settings, Mapping):
        raise ValueError(f"settings must be a mapping of simulator settings (as the dataset's settings column "
                         f"records them), got {type(settings).__name__}")
    table = read_table(path, [*space.names, *chosen, "feasible", *_ORIGIN])
    origins = _origins(table.select(list(_ORIGIN)).to_pandas())
    origins = [o for o in origins if env_id in (None, o.env_id) and workload in (None, o.workload)]
    if settings is not None:
        want = comparable(dict(settings))
        if origins and not any(o.settings == want for o in origins):
            raise ValueError(f"dataset {path} has no rows with settings {dict(settings)!r}"
                             f"{_among(env_id, workload)}; it holds {_list_origins(origins)}")
        origins = [o for o in origins if o.settings == want]
    if len(origins) > 1:
        raise ValueError(f"dataset {path} mixes rows of {len(origins)} kinds{_among(env_id, workload)}: "
                         f"{_list_origins(origins)}; the same design has other results under other settings, so "
                         "choose one kind with env_id=, workload= and settings=")
    table = table.filter(pa.array(origins[0].rows if origins else np.zeros(len(table), dtype=bool)))
    cols = {p.name: table[p.name].to_numpy(zero_copy_only=False) for p in space}
    indices = design_indices(space, cols)
    values = {m: table[m].to_numpy(zero_copy_only=False).astype(np.float64) for m in chosen}
    feasible = table["feasible"].to_numpy(zero_copy_only=False).astype(bool)
    return indices, values, feasible


#: the columns that say what produced a row (``load_arrays`` returns rows of one kind)
_ORIGIN = ("env_id", "workload", "simulator", "settings")


@dataclass(frozen=True)
class _Origin:
    """The rows of one env, workload, simulator and settings (by meaning: ``comparable``)."""

    env_id: str
    workload: str
    simulator: str | None
    settings: Any  # the comparable record; None when no settings were recorded
    rows: np.ndarray  # boolean mask over the table


def _origins(df: pandas.DataFrame) -> list[_Origin]:
    """The kinds of rows of a table of the ``_ORIGIN`` columns, settings texts merged by meaning."""
    codes = df.groupby(list(_ORIGIN), sort=False, dropna=False, observed=True).ngroup().to_numpy()
    origins: list[_Origin] = []
    for code in np.unique(codes):
        rows = codes == code
        env, workload, simulator, text = (df[c].iloc[int(np.argmax(rows))] for c in _ORIGIN)
        simulator = None if simulator is None or simulator != simulator else str(simulator)  # None or NaN
        record = comparable(json.loads(text)) if isinstance(text, str) else None
        for i, o in enumerate(origins):
            if (o.env_id, o.workload, o.simulator, o.settings) == (env, workload, simulator, record):
                origins[i] = dataclasses.replace(o, rows=o.rows | rows)
                break
        else:
            origins.append(_Origin(str(env), str(workload), simulator, record, rows))
    return origins


def _among(env_id: str | None, workload: str | None) -> str:
    chosen = [f"{k}={v!r}" for k, v in (("env_id", env_id), ("workload", workload)) if v is not None]
    return f" (among its rows of {', '.join(chosen)})" if chosen else ""


def _list_origins(origins: Sequence[_Origin]) -> str:
    """Each kind of rows by what sets it apart from the others (env, workload, simulator, the settings
    that differ), with its row count."""
    records = [o.settings if isinstance(o.settings, dict) else {} for o in origins]
    # a setting is listed when two kinds that both record it differ in it, or two kinds of one simulator
    # (of two simulators, a setting only one has is told by the simulator)
    differ: set[str] = set()
    for i, (a, ra) in enumerate(zip(origins, records)):
        for b, rb in zip(origins[i + 1:], records[i + 1:]):
            if a.settings is not None and b.settings is not None:
                differ |= {k for k in set(ra) | set(rb) if (a.simulator == b.simulator or (k in ra and k in rb))
                           and (k in ra, ra.get(k)) != (k in rb, rb.get(k))}
    if len({o.workload for o in origins}) > 1:
        differ.discard("workload")  # the workload column says it already
    differ = sorted(differ)
    out = []
    for o, record in zip(origins, records):
        parts = [f"{name}={getattr(o, name)!r}" for name in ("env_id", "workload", "simulator")
                 if len({getattr(x, name) for x in origins}) > 1]
        if o.settings is None:
            parts.append("no settings recorded")
        else:
            parts += [f"{k}={record[k]!r}" if k in record else f"{k}: not recorded" for k in differ]
        out.append(f"{', '.join(parts) or 'the same settings'} ({int(o.rows.sum())} rows)")
    return "; ".join(out)


def collect_samples(record: Mapping[str, Any]) -> int | None:
    """How many designs a ``collect`` run was asked for (its agent is a sampling method and its
    hyperparameters are ``{"samples": N}``), or ``None`` for any other run."""
    from simulators.core import SAMPLING_METHODS

    hyper = record.get("hyperparameters")
    if record.get("agent") in SAMPLING_METHODS and isinstance(hyper, Mapping) and set(hyper) == {"samples"}:
        n = hyper["samples"]
        return n if isinstance(n, int) and not isinstance(n, bool) else None
    return None


def other_files_problem(info: DatasetInfo) -> str:
    """What the entries of a dataset directory that are not parts (``info.others``) do to other readers."""
    names = [p.name + ("/" if p.is_dir() else "") for p in info.others]
    return (f"{len(names)} entr{'y' if len(names) == 1 else 'ies'} other than Parquet parts in the directory "
            f"({', '.join(names[:5])}{f' and {len(names) - 5} more' if len(names) > 5 else ''}): archgym skips them, "
            "but pandas and pyarrow fail on a file that is not Parquet, and polars on any other file, hidden ones too; "
            "move them out")


def run_notes(path: str | os.PathLike[str], runs: Mapping[str, Mapping[str, Any]], rows_by_run: Mapping[str, int],
              ) -> list[str]:
    """What a reader should know about runs that are not wrong: a collect run holding fewer designs than
    it was asked for (interrupted, or still going), with the command that resumes it."""
    import shlex

    notes = []
    for run_id, record in runs.items():
        samples, rows = collect_samples(record), int(rows_by_run.get(run_id, 0))
        if samples is not None and rows < samples:
            seed = "" if record.get("seed") is None else f" --seed {record['seed']}"
            recorded = (record.get("settings") or {}).get("workload") if isinstance(record.get("settings"), Mapping) \
                else None
            given = recorded.get("file") if isinstance(recorded, Mapping) else record.get("workload")  # a file's path
            workload = f" --workload {shlex.quote(str(given))}" if given else ""
            notes.append(f"run {run_id}: {rows:,} of {samples:,} samples (interrupted, or still being collected); "
                         f"resume it with `archgym collect {record.get('env_id')}{workload} --samples {samples} --out "
                         f"{shlex.quote(str(path))} --method {record.get('agent')}{seed} --run-id "
                         f"{shlex.quote(run_id)}`, with the -k options it was collected with")
    return notes


def dataset_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Rows, runs (with their provenance, and for a collect run the ``samples`` it was asked for),
    envs/workloads, agents, per-metric ranges and ``notes`` (``run_notes``) of a dataset (``archgym dataset``)."""
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
                     "objective": record.get("objective"), "archgym_version": record.get("archgym_version"),
                     "samples": collect_samples(record)})
    return {
        "dataset": str(path), "schema_version": SCHEMA_VERSION, "rows": len(df), "files": len(info.parts),
        "feasible": int(df["feasible"].sum()), "runs": len(runs),
        "agents": sorted(df["agent"].unique().tolist()),
        "envs": [{"env_id": e, "workload": w, "rows": int(n)} for (e, w), n in dict(groups).items()],
        "parameters": info.space.names, "metrics": metrics, "run_records": runs,
        "superseded_files": [p.path.name for p in info.superseded],
        "superseded_rows": sum(p.rows for p in info.superseded),
        "other_files": [p.name for p in info.others],
        "problems": [other_files_problem(info)] if info.others else [],
        "notes": run_notes(path, info.runs(), rows_by_run),
    }
