"""Which dataset rows a proxy learns from or is scored on: one env, workload and simulator setting, one row
per design.

A dataset may hold runs of several settings (say the systolic model with ``dram=lpddr4`` and with
``dram=hbm2``), whose numbers for the same design differ. The proxy keeps exactly the rows whose
recorded settings are its own (file settings compared by content hash), refuses with the settings
the dataset does hold when none are, and refuses when the kept rows give one design two different
results (rows that were edited, or written by another version of the model) instead of silently
keeping one of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.dataset import check_dataset, read_dataset
from archgym.dataset.provenance import comparable, record_difference
from archgym.dataset.schema import PartInfo, scan_dataset
from archgym.io import plain
from simulators.core import DesignSpace, Metric

if TYPE_CHECKING:
    import pandas

__all__ = ["ProxyRows", "proxy_rows"]


@dataclass(frozen=True)
class ProxyRows:
    """The rows a proxy learns from or is scored on (one per distinct design), and what of the env's and
    workload's rows was left out: rows of other simulator settings (how each setting differs, with its
    row count), repeated rows of a design already kept, and per metric the feasible rows whose value is
    NaN or infinite (kept for the other metrics and the feasibility classifier)."""

    rows: pandas.DataFrame
    other_settings: tuple[str, ...] = ()
    other_settings_rows: int = 0
    repeated_rows: int = 0
    other_workloads: tuple[str, ...] = ()  # rows of other envs or workloads: "env / 'workload' (n rows)"
    other_workloads_rows: int = 0
    #: feasible rows (of ``rows``) whose metric is NaN or infinite, by metric: left out of that metric's fit and score
    nonfinite: dict[str, int] = field(default_factory=dict)

    def left_out(self) -> str:
        """The rows left out, in words ('' when none were)."""
        parts = []
        if self.other_workloads_rows:
            parts.append(f"{self.other_workloads_rows:,} row(s) of other envs or workloads left out ("
                         + "; ".join(self.other_workloads) + ")")
        if self.other_settings_rows:
            parts.append(f"{self.other_settings_rows:,} row(s) of other simulator settings left out ("
                         + "; ".join(self.other_settings) + ")")
        if self.repeated_rows:
            parts.append(f"{self.repeated_rows:,} repeated row(s) of a design kept once")
        if self.nonfinite:
            counts = ", ".join(f"{m}: {n:,}" for m, n in self.nonfinite.items())
            parts.append(f"{sum(self.nonfinite.values()):,} feasible row(s) with a NaN or infinite metric left out "
                         f"of that metric's fit and score ({counts})")
        return "; ".join(parts)


def proxy_rows(data: str | os.PathLike[str] | pandas.DataFrame, space: DesignSpace, metrics: Sequence[Metric],
               env_id: str, workload: str, settings: Mapping[str, Any], *,
               settings_form: Any = None,
               hint: str = "Choose the env's settings to match (e.g. -k KEY=VALUE), or train on another dataset",
               ) -> ProxyRows:
    """The dataset rows of ``env_id``/``workload`` recorded with simulator ``settings``, one per distinct
    design, checked against the space. ``settings_form(record)`` maps a row's settings record to the form
    ``settings`` is given in (the proxy leaves out the workload and space, which it compares itself);
    ``hint`` ends the refusal when no row has those settings."""
    import pandas as pd

    form = settings_form or (lambda record: record)
    if isinstance(data, pd.DataFrame):
        df = data
        missing = [c for c in (*space.names, *(m.name for m in metrics), "env_id", "workload", "feasible",
                               "settings") if c not in df.columns]
        if missing:
            raise ValueError(f"the table has no column(s) {missing}")
    else:
        try:
            check_dataset(data, space, metrics)
        except ValueError:  # a space differs with the workload and settings: name those, not every knob
            _check_runs(scan_dataset(data).parts, env_id, workload, settings, form, hint)
            raise
        df = read_dataset(data)
    mine = ((df["env_id"] == env_id) & (df["workload"] == workload)).to_numpy()
    rows = df[mine]
    elsewhere = df[~mine].groupby(["env_id", "workload"], observed=True).size()
    other_workloads = tuple(f"{e} / {w!r} ({n} rows)" for (e, w), n in elsewhere.items() if n)
    if rows.empty:
        _no_rows(env_id, workload, df.groupby(["env_id", "workload"]).size().to_dict())
    texts = rows["settings"].astype(str)
    counts = texts.value_counts(sort=False)
    same, others = _same_settings([(json.loads(text), n) for text, n in counts.items()], settings, form)
    if not any(same):
        _other_settings(env_id, workload, len(rows), others, hint)
    keep = texts.isin([text for text, ok in zip(counts.index, same) if ok]).to_numpy()
    other_rows = int((~keep).sum())
    rows = rows[keep]
    _check_consistent(rows, space, metrics, env_id)
    distinct = rows.drop_duplicates(subset=list(space.names), keep="first").reset_index(drop=True)
    feasible = distinct["feasible"].to_numpy(dtype=bool)
    nonfinite = {m.name: n for m in metrics
                 if (n := int((feasible & ~np.isfinite(distinct[m.name].to_numpy(dtype=np.float64))).sum()))}
    return ProxyRows(distinct, tuple(others), other_rows, len(rows) - len(distinct), other_workloads,
                     int((~mine).sum()), nonfinite)


def _check_runs(parts: Sequence[PartInfo], env_id: str, workload: str, settings: Mapping[str, Any], form: Any,
                hint: str) -> None:
    """From a dataset's run records alone: ``ValueError`` when none of its rows are of ``env_id`` and
    ``workload``, or none of those were recorded with ``settings`` (the refusals ``proxy_rows`` makes on
    the rows, for a dataset whose space is not the wanted one)."""
    held: dict[tuple[str, str], int] = {}
    records: dict[str, list[Any]] = {}  # a run's settings record and its rows (of the env and workload)
    for p in parts:
        key = (p.run.get("env_id"), p.run.get("workload"))
        held[key] = held.get(key, 0) + p.rows
        if key == (env_id, workload):
            records.setdefault(p.run_id, [p.run.get("settings"), 0])[1] += p.rows
    if (env_id, workload) not in held:
        _no_rows(env_id, workload, held)
    same, others = _same_settings([tuple(r) for r in records.values()], settings, form)
    if not any(same):
        _other_settings(env_id, workload, held[env_id, workload], others, hint)


def _no_rows(env_id: str, workload: str, held: Mapping[tuple[str, str], int]) -> None:
    listed = ", ".join(f"{e} / {w} ({n} rows)" for (e, w), n in held.items() if n) or "no rows at all"
    raise ValueError(f"the dataset has no rows for {env_id} with workload {workload!r}; it holds {listed}")


def _same_settings(records: Sequence[tuple[Any, int]], settings: Mapping[str, Any], form: Any,
                   ) -> tuple[list[bool], list[str]]:
    """Whether each recorded settings record (with its row count) is ``settings``, and how the others differ."""
    want = comparable(dict(settings))
    same, others = [], []
    for record, count in records:
        same.append(record is not None and comparable(form(record)) == want)
        if not same[-1]:
            diff = ("no settings recorded (rows written without RunInfo.from_env)" if record is None
                    else record_difference(form(record), settings, ("dataset", "wanted")))
            others.append(f"{diff} ({count} rows)")
    return same, others


def _other_settings(env_id: str, workload: str, rows: int, others: Sequence[str], hint: str) -> None:
    raise ValueError(f"the dataset's {rows} rows of {env_id} / {workload!r} were produced with other simulator "
                     "settings than this one's: " + "; ".join(others) + f". {hint}")


def _check_consistent(rows: pandas.DataFrame, space: DesignSpace, metrics: Sequence[Metric], env_id: str) -> None:
    """``ValueError`` when a design appears with different results among rows of one setting."""
    codes = rows.groupby(list(space.names), sort=False, dropna=False).ngroup().to_numpy()
    if len(np.unique(codes)) == len(codes):
        return
    order = np.argsort(codes, kind="stable")
    same = codes[order][1:] == codes[order][:-1]
    a, b = order[:-1][same], order[1:][same]
    bad = rows["feasible"].to_numpy()[a] != rows["feasible"].to_numpy()[b]
    for m in metrics:
        v = rows[m.name].to_numpy(dtype=np.float64)
        x, y = v[a], v[b]
        with np.errstate(invalid="ignore"):
            close = (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= 1e-9 * np.maximum(np.abs(x), np.abs(y)))
        bad |= ~close
    if bad.any():
        i, j = a[np.flatnonzero(bad)[0]], b[np.flatnonzero(bad)[0]]
        first, second = rows.iloc[i], rows.iloc[j]
        design = {p: plain(first[p]) for p in space.names}
        differ = [m.name for m in metrics if first[m.name] != second[m.name]
                  and not (np.isnan(first[m.name]) and np.isnan(second[m.name]))]
        raise ValueError(f"{int(bad.sum())} pair(s) of rows of {env_id} with the same settings give one design "
                         f"different results, e.g. {design}: {differ or ['feasible']} differ between run "
                         f"{first['run_id']!r} step {int(first['step'])} and run {second['run_id']!r} step "
                         f"{int(second['step'])}; check the dataset with `archgym dataset validate`")
