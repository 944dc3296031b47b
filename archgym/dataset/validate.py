"""Replaying a dataset: every recorded row (or a sample) evaluated again on the simulator its run
recorded, and every difference reported (``archgym dataset validate``, like CompilerGym's ``validate``).

Simulators are deterministic, so a row whose metrics, feasibility, reason or reward differ from a
replay on the recorded simulator and settings was edited, produced by another version of a model,
or recorded with the wrong settings. Metrics and rewards are compared to a relative tolerance of
1e-9 (NaN equals NaN; an infinity equals only the same infinity); ``wall_time`` is not compared.
A row's run columns (run id, env id, workload, agent, hyperparameters, seed, simulator, settings,
objective) are compared with the run record in its file's metadata. Besides the rows, the check
reports what breaks the dataset's own guarantees: a (run_id, step) pair held twice, a run's steps stored out
of order, chunk files a compaction superseded, entries of the directory other than parts, and runs whose
simulator cannot be rebuilt (no recorded settings, a Python object
recorded by hash only, a recorded file missing or changed).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from archgym.dataset.provenance import build_recorded_objective, build_simulator
from archgym.dataset.reader import (
    RUN_RECORD_COLUMNS,
    cell_meaning,
    design_indices,
    design_values,
    missing_cell,
    other_files_problem,
    read_parts,
    record_shown,
    run_notes,
    to_pandas,
)
from archgym.dataset.schema import PartInfo
from archgym.io import nan_to_none, plain
from simulators.core import BatchEvaluation, metrics_difference, space_difference
from simulators.params import MAX_SEED, check_int

__all__ = ["Mismatch", "ValidationReport", "validate_dataset"]

_BATCH = 4096


@dataclass(frozen=True)
class Mismatch:
    """One recorded cell that its replay does not reproduce."""

    run_id: str
    step: int
    column: str
    recorded: Any
    replayed: Any

    def to_dict(self) -> dict[str, Any]:
        return nan_to_none(self)


@dataclass
class ValidationReport:
    """What ``validate_dataset`` checked and found: ``ok`` when every replayed row matched and nothing
    broke the dataset's guarantees."""

    dataset: str
    rows: int
    checked: int
    runs: int
    seconds: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # true of the data, not wrong (``ok`` ignores them)

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problems

    @property
    def mismatched_rows(self) -> int:
        return len({(m.run_id, m.step) for m in self.mismatches})

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "ok": self.ok, "rows": self.rows, "checked": self.checked, "runs": self.runs,
                "mismatched_rows": self.mismatched_rows, "seconds": self.seconds,
                "mismatches": [m.to_dict() for m in self.mismatches], "problems": list(self.problems),
                "notes": list(self.notes)}


def _differs(recorded: np.ndarray, replayed: np.ndarray, rtol: float) -> np.ndarray:
    """Where two float columns differ: a cell matches when both are NaN (no value), both are equal
    (infinities included), or both are finite and within ``rtol`` of each other (a relative tolerance
    against an infinity would accept any number)."""
    both_nan = np.isnan(recorded) & np.isnan(replayed)
    finite = np.isfinite(recorded) & np.isfinite(replayed)
    with np.errstate(invalid="ignore", over="ignore"):
        close = finite & (np.abs(recorded - replayed) <= rtol * np.maximum(np.abs(recorded), np.abs(replayed)))
    return ~(both_nan | (recorded == replayed) | close)


def validate_dataset(path: str | os.PathLike[str], *, sample: int | None = None, seed: int = 0,
                     rtol: float = 1e-9, progress: Callable[[int, int], None] | None = None,
                     import_modules: Sequence[str] = ()) -> ValidationReport:
    """Replay the rows of dataset ``path`` (all, or ``sample`` of them drawn at random with ``seed``) on
    the simulators and objectives their runs recorded; the report lists every mismatch and problem.
    A recorded simulator is imported only from a module ``archgym.registry.trusted_module`` allows, or one
    in or under a package in ``import_modules`` (``build_simulator``): a dataset someone handed you runs
    no code."""
    sample = None if sample is None else check_int(sample, "sample", low=1)
    seed = check_int(seed, "seed", low=0, high=MAX_SEED)
    started = time.perf_counter()
    info, schema, tables = read_parts(path, check_run_columns=False)  # each cell is listed below
    df = to_pandas(pa.concat_tables(tables) if tables else schema.empty_table())
    part_of = np.repeat(np.arange(len(tables)), [len(t) for t in tables])  # each row's part in info.parts
    report = ValidationReport(dataset=str(path), rows=len(df), checked=0, runs=int(df["run_id"].nunique()))
    if info.superseded:
        report.problems.append(f"{len(info.superseded)} chunk file(s) superseded by another part of their run (a "
                               "merged file holding the same chunks, left by an interrupted compaction or copied in) "
                               f"are still in the directory (e.g. {info.superseded[0].path.name}): archgym skips them, "
                               "other readers count their rows twice; delete them, or the run's next writer does")
    if info.others:
        report.problems.append(other_files_problem(info))
    report.notes = run_notes(path, info.runs(), df.groupby("run_id", observed=True).size().to_dict())
    report.problems.extend(_part_schema_problems(info.parts, schema))
    dup = df.duplicated(subset=["run_id", "step"], keep=False)
    if dup.any():
        pairs = df.loc[dup, ["run_id", "step"]].drop_duplicates()
        first = pairs.iloc[0]
        report.problems.append(f"{len(pairs)} (run_id, step) pair(s) appear more than once (e.g. run "
                               f"{first['run_id']!r} step {int(first['step'])})")
    report.problems.extend(_steps_out_of_order(df, info.parts, part_of))
    if sample is not None:
        if sample < len(df):
            df = df.sample(n=sample, random_state=np.random.default_rng(seed)).sort_index()
        else:
            report.notes.append(f"a sample of {sample:,} rows is not fewer than the dataset's {len(df):,}: every row "
                                "was replayed")
    total = len(df)
    _check_run_columns(report, info.parts, df, part_of[df.index.to_numpy()])
    groups = df.groupby(["simulator", "settings"], observed=True, sort=False)
    for (target, settings_text), rows in groups:
        run_ids = sorted(rows["run_id"].unique().tolist())
        label = f"run(s) {', '.join(map(repr, run_ids[:3]))}{' ...' if len(run_ids) > 3 else ''}"
        try:
            settings = json.loads(settings_text)
            if settings is None or not target:
                raise ValueError("the run records no simulator settings")
            sim = build_simulator(target, settings, imports=tuple(import_modules))
            diff = space_difference(info.space.to_dict(), sim.space.to_dict()) or metrics_difference(
                [m.to_dict() for m in info.metrics], [m.to_dict() for m in sim.metrics])
            if diff:
                raise ValueError(f"the rebuilt simulator has another space or metrics: {diff}")
        except (ValueError, TypeError) as exc:
            report.problems.append(f"{label}: {len(rows)} row(s) not replayed: cannot rebuild the simulator "
                                   f"{target or '<none>'} ({exc})")
            continue
        _replay(report, sim, rows, rtol, label, progress, total)
    report.seconds = time.perf_counter() - started
    return report


def _steps_out_of_order(df: Any, parts: Sequence[PartInfo], part_of: np.ndarray) -> list[str]:
    """Each run whose steps, read in order (parts by name, rows as stored), go back somewhere: a run's rows
    are its evaluations in the order they were made, which readers that take them as a trajectory rely on."""
    problems = []
    steps = df["step"].to_numpy()
    for run_id, positions in df.groupby("run_id", observed=True, sort=False).indices.items():
        back = np.flatnonzero(np.diff(steps[positions]) < 0)
        if back.size:
            at = positions[back[0] + 1]
            problems.append(f"run {run_id!r}: its steps go back {back.size} time(s), first to step {int(steps[at])} "
                            f"after step {int(steps[positions[back[0]]])} (in {parts[int(part_of[at])].path.name}); "
                            "a run's rows are stored in the order they were evaluated")
    return problems


def _part_schema_problems(parts: Sequence[PartInfo], schema: pa.Schema) -> list[str]:
    """Each part whose stored columns are not the dataset's, by name and type. archgym reads such a part
    (it selects and casts the columns), but a reader that takes its schema from one file and checks
    the others against it (polars, duckdb with ``union_by_name``) fails or changes a column's type."""
    import pyarrow.parquet as pq

    problems = []
    for part in parts:
        try:
            stored = pq.read_schema(part.path)
        except (OSError, pa.ArrowException):
            continue  # unreadable parts are reported when read
        extra = [n for n in stored.names if n not in schema.names]
        retyped = [f"{f.name!r} is {stored.field(f.name).type}, the dataset's {f.type}"
                   for f in schema if f.name in stored.names and not stored.field(f.name).type.equals(f.type)]
        if extra or retyped:
            what = "; ".join(([f"extra column(s) {extra}"] if extra else []) + retyped)
            problems.append(f"{part.path.name}: its columns differ from the dataset's schema ({what}); archgym "
                            "reads it, but polars and other readers that check every file against one schema "
                            "fail or change the column's type")
    return problems


def _check_run_columns(report: ValidationReport, parts: Sequence[PartInfo], df: Any, part_of: np.ndarray) -> None:
    """Report every run column cell that says something else than the run record of the file its row is in
    (``replayed`` holds the record's value): the env, workload and run a row claims are what readers select
    it by."""
    import pandas as pd

    found = []
    columns = df[[*RUN_RECORD_COLUMNS, "step"]]
    for k in np.unique(part_of):
        positions = np.flatnonzero(part_of == k)
        rows = columns.iloc[positions]
        record = parts[int(k)].run
        for column in RUN_RECORD_COLUMNS:
            want = record.get(column)
            meaning = cell_meaning(column, want)
            codes, values = pd.factorize(rows[column].astype(object), use_na_sentinel=False)
            bad = np.array([cell_meaning(column, v) != meaning for v in values], dtype=bool)
            if not bad.any():
                continue
            shown = record_shown(column, want)
            for i in np.flatnonzero(bad[codes]):
                cell = values[codes[i]]
                found.append((positions[i], Mismatch(str(rows["run_id"].iloc[i]), int(rows["step"].iloc[i]), column,
                                                     None if missing_cell(cell) else plain(cell), shown)))
    report.mismatches.extend(m for _, m in sorted(found, key=lambda f: f[0]))


def _designs(space: Any, cols: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The designs of a chunk's design columns, one dict per row."""
    values = {p.name: design_values(p, cols[p.name]) for p in space}
    return [{name: plain(values[name][i]) for name in space.names} for i in range(len(next(iter(values.values()))))]


def _replay(report: ValidationReport, sim: Any, rows: Any, rtol: float, label: str,
            progress: Callable[[int, int], None] | None, total: int) -> None:
    space = sim.space
    for lo in range(0, len(rows), _BATCH):
        chunk = rows.iloc[lo:lo + _BATCH]
        cols = {p.name: chunk[p.name].to_numpy() for p in space}
        run_ids, steps = chunk["run_id"].to_numpy(), chunk["step"].to_numpy()
        try:
            if space.indexable:
                evaluations = sim.evaluate_batch(design_indices(space, cols))
            else:
                evaluations = BatchEvaluation.from_evaluations([sim.evaluate(d) for d in _designs(space, cols)],
                                                               sim.metric_names)
        except ValueError as exc:  # a design outside the space: say whose
            for i, design in enumerate(_designs(space, cols)):
                try:
                    space.validate(design)
                except ValueError as outside:
                    raise ValueError(f"run {run_ids[i]!r} step {int(steps[i])}: its design is not in the dataset's "
                                     f"space ({outside})") from None
            raise exc

        def report_cells(column: str, bad: np.ndarray, recorded: Any, replayed: Any,
                         run_ids: np.ndarray = run_ids, steps: np.ndarray = steps) -> None:
            for i in np.flatnonzero(bad):
                report.mismatches.append(Mismatch(str(run_ids[i]), int(steps[i]), column, plain(recorded[i]),
                                                  plain(replayed[i])))

        feasible = chunk["feasible"].to_numpy(dtype=bool)
        report_cells("feasible", feasible != evaluations.feasible, feasible, evaluations.feasible)
        for m in sim.metric_names:
            recorded = chunk[m].to_numpy(dtype=np.float64)
            replayed = np.asarray(evaluations.metrics[m], dtype=np.float64)
            report_cells(m, _differs(recorded, replayed, rtol), recorded, replayed)
        reasons = [None if r is None or (isinstance(r, float) and math.isnan(r)) else str(r)
                   for r in chunk["reason"].tolist()]
        replayed_reasons = list(evaluations.reasons)
        report_cells("reason", np.array([a != b for a, b in zip(reasons, replayed_reasons)], dtype=bool),
                     reasons, replayed_reasons)
        objectives = chunk["objective"].astype(str).to_numpy()
        recorded_rewards = chunk["reward"].to_numpy(dtype=np.float64)
        for text in np.unique(objectives):
            which = objectives == text
            try:
                record = json.loads(text)
                if record is None:
                    raise ValueError("the run records no objective")
                objective = build_recorded_objective(record, sim.metrics)
            except ValueError as exc:
                problem = f"{label}: rewards not checked ({exc})"
                if problem not in report.problems:
                    report.problems.append(problem)
                continue
            rewards = objective.batch(evaluations)
            bad = which & _differs(recorded_rewards, rewards, rtol)
            report_cells("reward", bad, recorded_rewards, rewards)
        report.checked += len(chunk)
        if progress is not None:
            progress(report.checked, total)
