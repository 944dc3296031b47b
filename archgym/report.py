"""Tables of a sweep: per-trial results, per-agent summaries, the hyperparameter lottery and regret.

``build_report(run_dir)`` reads the run's records (``archgym.runs``: trial records, the spec, the
optimum when it was computed, and ``trajectories/`` for Pareto fronts) and writes ``report/``: CSV
tables, the PNG figures of ``archgym.plots`` with the CSV data behind each, and ``report.md`` tying
them together.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from archgym.display import table
from archgym.io import json_data
from archgym.runs import (
    OPTIMUM_FILE,
    SPEC_FILE,
    TRAJECTORIES_DIR,
    TrialRecord,
    driver_running,
    load_run_spec,
    read_optimum,
    read_state,
    read_trials,
    write_results,
)
from archgym.verdict import SettingStats, Verdict, beats, score, setting_stats, verdict

__all__ = ["LEGEND", "beats", "build_report", "score"]


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    a = np.asarray(values, dtype=float)
    return tuple(float(np.quantile(a, q)) for q in (0.25, 0.5, 0.75))  # type: ignore[return-value]


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def curves(trials: Sequence[TrialRecord], optimum: float | None = None) -> dict[str, np.ndarray]:
    """Per agent, best-so-far reward (or regret, given the optimum) at each evaluation: rows = trials.

    Trials stopped early are padded with their last value only up to where they stopped (NaN after).
    """
    by_agent: dict[str, list[list[float]]] = defaultdict(list)
    for t in trials:
        by_agent[t.agent].append(t.history)
    out = {}
    for agent, histories in by_agent.items():
        length = max((len(h) for h in histories), default=0)
        mat = np.full((len(histories), length), np.nan)
        for i, h in enumerate(histories):
            mat[i, : len(h)] = h
        out[agent] = (optimum - mat) if optimum is not None else mat
    return out


def lottery(trials: Sequence[TrialRecord]) -> dict[str, list[tuple[int, dict[str, Any], float, int]]]:
    """Per agent: (setting, hyperparameters, median final best reward over seeds, seeds) per setting."""
    groups: dict[tuple[str, int], list[TrialRecord]] = defaultdict(list)
    for t in trials:
        groups[(t.agent, t.setting)].append(t)
    out: dict[str, list[tuple[int, dict[str, Any], float, int]]] = defaultdict(list)
    for (agent, setting), ts in sorted(groups.items()):
        out[agent].append((setting, ts[0].hyperparameters, float(np.median([t.best_reward for t in ts])),
                           len(ts)))
    return out


def build_report(run_dir: str | Path, *, figures: bool = True, out: str | Path | None = None) -> dict[str, Any]:
    """Write ``report/`` (and ``results.csv``) for a run directory and return the per-agent summary rows;
    ``out`` writes all of it to another directory instead (a run directory you may only read)."""
    run_dir = Path(run_dir)
    trials = read_trials(run_dir)
    if not trials and not (run_dir / SPEC_FILE).is_file():
        raise ValueError(f"{run_dir} has no trial results (trials/*.json): run the sweep first")
    _check_trials(run_dir, trials)
    every = trials  # results.csv and the completeness line see them all; the statistics only the ended ones
    trials = [t for t in trials if ended(t)]
    results_dir = run_dir if out is None else Path(out)
    out = run_dir / "report" if out is None else Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous_report(out)
    write_results(results_dir, every)
    if not trials:  # nothing to compare yet: progress only
        return _progress_report(out, run_dir, every)
    optimum = _checked_optimum(run_dir, every)
    best_possible = optimum.best_reward if optimum else None

    # -- per-agent summary (every trial of the agent pooled) ---------------------------------------
    by_agent: dict[str, list[TrialRecord]] = defaultdict(list)
    for t in trials:
        by_agent[t.agent].append(t)
    lot = lottery(trials)
    stats = setting_stats(trials)
    spec = _spec(run_dir)
    judged = verdict(stats, env_id=spec.env_id if spec else "", optimum=best_possible,
                     optimum_exact=bool(optimum.exact) if optimum else True)
    best_of = {v.agent: v.best for v in judged.ranking}
    summary = []
    for agent, ts in by_agent.items():
        finals = [t.best_reward for t in ts]
        q1, med, q3 = _quartiles(finals)
        met = [t.target_met_at for t in ts if t.target_met_at]
        settings = lot[agent]
        row = {
            "agent": agent, "trials": len(ts), "settings": len(settings), "median_best_reward": med,
            "q25": q1, "q75": q3, "target_met_fraction": len(met) / len(ts),
            "median_evals_to_target": float(np.median(met)) if met else None,
            "lottery_min": min(s[2] for s in settings), "lottery_max": max(s[2] for s in settings),
            "stopped_early": sum(t.outcome == "stopped early" for t in ts),
            "best_setting": best_of[agent].setting,
            "best_hyperparameters": json.dumps(best_of[agent].hyperparameters, sort_keys=True),
        }
        if best_possible is not None:
            regrets = [best_possible - f for f in finals]
            row["median_regret"] = float(np.median(regrets))
            row["found_optimum_fraction"] = float(np.mean([r <= 1e-12 for r in regrets]))
        summary.append(row)
    header = list(summary[0])
    _write_csv(out / "summary.csv", header, [[r[k] for k in header] for r in summary])
    _write_csv(out / "lottery.csv", ["agent", "setting", "median_final_best_reward", "seeds", "hyperparameters"],
               [[a, s, v, n, json.dumps(h, sort_keys=True)] for a, rows in lot.items() for s, h, v, n in rows])
    _write_csv(out / "settings.csv", SETTING_COLUMNS, [_setting_row(st, best_possible) for st in stats])
    _write_csv(out / "comparison.csv", ["agent", "versus", "p_beats"],
               [[a, b, p] for (a, b), p in sorted(judged.pairwise.items())])

    # -- curves, regret, Pareto ---------------------------------------------------------------------------
    curve_rows = _curve_rows(curves(trials))
    _write_csv(out / "best_so_far.csv", ["agent", "evaluation", "median", "q25", "q75", "trials"], curve_rows)
    regret_rows = _curve_rows(curves(trials, best_possible)) if best_possible is not None else []
    if regret_rows:
        _write_csv(out / "regret.csv", ["agent", "evaluation", "median", "q25", "q75", "trials"], regret_rows)
    pareto = _pareto_tables(run_dir, trials, optimum, {t.trial_id for t in every})
    notes = ([pareto.pop("missing")] if "missing" in pareto else pareto.pop("notes")) if pareto else []
    if optimum is None and spec is not None and spec.optimum:
        what = "best known design" if spec.optimum == "best-known" else "exact optimum"
        notes.append(f"the spec asks for the {what}, which the sweep is still computing, so there is no regret yet"
                     if driver_running(run_dir) else
                     f"the spec asks for the {what}, but {OPTIMUM_FILE} is missing (its computation was interrupted), "
                     f"so there is no regret: `archgym sweep {run_dir} --resume` computes it")
    if pareto:
        _write_csv(out / "pareto.csv", ["agent", *pareto["metrics"]],
                   [[a, *p] for a, pts in pareto["fronts"].items() for p in pts])
        _write_csv(out / "hypervolume.csv", ["agent", "hypervolume", "fraction_of_true_front", "reference"],
                   [[a, hv, pareto["hypervolume_fraction"].get(a), json.dumps(pareto["reference"])]
                    for a, hv in pareto["hypervolume"].items()])

    paths = []
    if figures:
        from archgym import plots

        paths.append(plots.best_so_far(out / "best_so_far.png", curve_rows))
        paths.append(plots.lottery(out / "lottery.png", lot))
        if regret_rows:
            paths.append(plots.regret(out / "regret.png", regret_rows))
        if pareto:
            for i, j in itertools.combinations(range(len(pareto["metrics"])), 2):
                a, b = pareto["metrics"][i], pareto["metrics"][j]
                paths.append(plots.pareto(out / f"pareto_{a}_{b}.png", pareto, pair=(i, j)))
    incomplete = completeness(run_dir, every)
    early = stopped_early(trials)
    _write_markdown(out / "report.md", run_dir, judged, stats, summary, optimum, pareto, paths, incomplete, notes,
                    early)
    return {"summary": summary, "verdict": judged.text, "notes": notes, "stopped_early": early, "progress_only": False,
            "ranking": [{"agent": v.agent, "setting": v.best.setting, "hyperparameters": v.best.hyperparameters,
                         "median_best_reward": v.best.median, "interval": list(v.best.interval),
                         "p_beats_next": v.p_beats_next} for v in judged.ranking],
            "optimum": None if optimum is None else asdict(optimum),
            "figures": [str(p) for p in paths], "report_dir": str(out), "incomplete": incomplete}


#: settings.csv: one row per (agent, hyperparameter setting)
SETTING_COLUMNS = ["agent", "setting", "hyperparameters", "seeds", "median_best_reward", "interval_low",
                   "interval_high", "target_met_fraction", "median_evals_to_target", "median_regret"]

#: what each column of the report's tables means
LEGEND = {
    "rank": "order by the agents' best settings (higher median best reward; ties: fewer evaluations to target)",
    "agent": "the search agent",
    "setting": "the hyperparameter setting's number in the sweep (agent#setting in figures)",
    "hyperparameters": "the values this setting gives (the others are the agent's defaults)",
    "seeds": "the seeds run with this setting",
    "trials": "trials of the agent (settings x seeds)",
    "settings": "hyperparameter settings of the agent",
    "median best reward": "median over seeds of the best reward a trial found (1 = every target met)",
    "95% interval": "bootstrap over seeds (4,000 resamples) of the median best reward",
    "P(beats next)": "probability, under that bootstrap, of beating the next-ranked agent's best setting "
                     "(ties count half)",
    "target met": "fraction of trials that met every target",
    "evals to target": "median evaluations until every target was met, over the trials that met them",
    "regret": "optimum (or best known) reward minus the median best reward",
    "q25 / q75": "quartiles of the best reward over all trials of the agent",
    "lottery min / max": "lowest and highest median best reward over the agent's settings (the spread the "
                         "lottery figure shows)",
    "stopped early": "trials the scheduler (ASHA) stopped before their budget, counted at their best so far",
    "found optimum": "fraction of trials whose best reward equals the exact optimum's",
    "hypervolume": "dominated volume of the agent's evaluated designs over the target metrics, each scaled "
                   "to [0, 1] between the best and worst value seen (log scale for positive metrics), "
                   "reference point 1.1",
    "of true front": "that hypervolume as a fraction of the true Pareto front's",
}


def _setting_row(st: SettingStats, optimum: float | None) -> list[Any]:
    return [st.agent, st.setting, json.dumps(st.hyperparameters, sort_keys=True), len(st.seeds), st.median,
            st.interval[0], st.interval[1], st.target_met_fraction, st.median_evals_to_target,
            None if optimum is None else optimum - st.median]


def _curve_rows(mats: Mapping[str, np.ndarray]) -> list[list[Any]]:
    rows = []
    for agent, mat in mats.items():
        for j in range(mat.shape[1]):
            col = mat[:, j][~np.isnan(mat[:, j])]
            if len(col):
                q1, med, q3 = _quartiles(col)
                rows.append([agent, j + 1, med, q1, q3, len(col)])
    return rows


def _pareto_tables(run_dir: Path, trials, optimum, recorded: set[str] = frozenset()) -> dict[str, Any] | None:
    """Each agent's non-dominated evaluated designs over the objective's 2-3 target metrics."""
    from archgym.objective import hypervolume, pareto_mask

    names = (optimum.pareto_metrics if optimum else None) or _target_metrics(run_dir)
    if not names:
        return None
    from archgym.dataset import read_dataset

    data = run_dir / TRAJECTORIES_DIR
    if not data.is_dir():  # removed to save space, or a directory shared without it: said in the report
        return {"missing": f"{run_dir} has no {TRAJECTORIES_DIR}/ (where the sweep logged its evaluations), so "
                           "the Pareto fronts were not computed"}
    try:
        frame = read_dataset(data)
    except (ValueError, FileNotFoundError) as exc:
        raise _unreadable(data, exc) from None
    if frame.empty or not all(n in frame.columns for n in names):
        return None
    notes = []
    ids = {t.trial_id: t for t in trials}
    mine = frame["run_id"].isin(ids)
    ours = frame["run_id"].isin(recorded) & ~mine  # this sweep's trials that have not ended (or failed)
    if ours.any():
        n = frame.loc[ours, "run_id"].nunique()
        notes.append(f"the Pareto fronts leave out the {int(ours.sum())} logged rows of {n} trial(s) of this sweep "
                     "that have not ended (unfinished or failed)")
    stray = ~mine & ~ours
    if stray.any():  # rows someone else logged here (another run, another setting): not this sweep's
        foreign = sorted(frame.loc[stray, "run_id"].unique())
        notes.append(f"{int(stray.sum())} rows of {TRAJECTORIES_DIR}/ belong to no trial of this sweep (run ids "
                     f"{', '.join(map(str, foreign[:5]))}{', ...' if len(foreign) > 5 else ''}): the Pareto fronts "
                     "leave them out")
    frame = frame[mine]
    rows = frame.groupby("run_id").size()
    short = [t.trial_id for t in trials if rows.get(t.trial_id, 0) < t.evaluations]
    if short:
        notes.append(f"the logged evaluations of {len(short)} trial(s) are missing or fewer than they recorded "
                     f"({', '.join(short[:5])}{', ...' if len(short) > 5 else ''}): their Pareto fronts lack them")
    directions, units = _metric_info(run_dir, names)
    frame = frame[frame["feasible"]]
    all_pts = frame[names].to_numpy(dtype=float)
    if len(all_pts) == 0:
        return None
    true_front = [[p["metrics"][n] for n in names] for p in (optimum.pareto_front if optimum else [])]
    seen = np.concatenate([all_pts, np.asarray(true_front, dtype=float).reshape(-1, len(names))])
    scale = _Normalizer(seen, directions)
    reference = [1.1] * len(names)
    hv_true = hypervolume(scale(np.asarray(true_front, dtype=float)), reference) if true_front else None
    fronts, hv, fraction = {}, {}, {}
    for agent, group in frame.groupby("agent"):
        pts = group[names].to_numpy(dtype=float)
        front = pts[pareto_mask(pts, directions)]
        fronts[agent] = front[np.lexsort(front.T[::-1])].tolist()
        hv[agent] = hypervolume(scale(front), reference)
        if hv_true:
            fraction[agent] = hv[agent] / hv_true
    _, objective = _sweep_simulator_and_objective(run_dir)
    targets = {t.metric: t.value for t in getattr(objective, "targets", ()) if t.metric in names}
    return {"metrics": list(names), "directions": directions, "fronts": fronts, "hypervolume": hv,
            "hypervolume_fraction": fraction, "true_hypervolume": hv_true, "reference": reference,
            "true_front": true_front, "units": units, "targets": targets, "notes": notes}


class _Normalizer:
    """Maps metrics to [0, 1], 0 the best and 1 the worst value seen (in log space for positive metrics),
    so hypervolumes compare across metrics of any unit and range; the reference point is 1.1 each."""

    def __init__(self, points: np.ndarray, directions: Sequence[str]) -> None:
        self.log = np.all(points > 0, axis=0)
        pts = self._logged(points)
        self.sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
        signed = pts * self.sign
        self.best, self.worst = signed.min(axis=0), signed.max(axis=0)

    def _logged(self, points: np.ndarray) -> np.ndarray:
        return np.where(self.log, np.log(np.where(self.log, points, 1.0)), points)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        span = np.where(self.worst > self.best, self.worst - self.best, 1.0)
        return (self._logged(points) * self.sign - self.best) / span


def _spec(run_dir: Path):
    """The run's spec, or ``None`` for a run directory without one (trial records only); a spec file
    that cannot be read is an error, not a report without its environment."""
    return _spec_and_env(run_dir)[0]


def _spec_and_env(run_dir: Path) -> tuple[Any, Any]:
    """The run's spec and the unwrapped env it makes (``(None, None)`` without a spec), read once per
    state of the spec file: a report asks for them at every section."""
    path = Path(run_dir) / SPEC_FILE
    if not path.is_file():
        return None, None
    stat = path.stat()
    return _read_spec_and_env(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_spec_and_env(path: str, mtime_ns: int, size: int) -> tuple[Any, Any]:
    import gymnasium as gym

    import archgym  # noqa: F401  (registers the env ids)

    spec = load_run_spec(Path(path).parent)
    return spec, gym.make(spec.env_id, **spec.env_kwargs).unwrapped


def _checked_optimum(run_dir: Path, trials: Sequence[TrialRecord]):
    """The run's optimum, refused when it is another task's (``check_optimum``) or when a trial beat it."""
    from archgym.optimum import check_optimum

    optimum = read_optimum(run_dir)
    if optimum is None:
        return None
    where = str(run_dir / OPTIMUM_FILE)
    spec, env = _spec_and_env(run_dir)
    if spec is not None:
        check_optimum(optimum, spec.env_id, env, where)
    beaten = [t for t in trials if t.best_reward > optimum.best_reward + 1e-9]
    if optimum.exact and beaten:
        raise ValueError(f"{where}: trial {beaten[0].trial_id!r} reached reward {beaten[0].best_reward:.6g}, above "
                         f"this exact optimum's {optimum.best_reward:.6g}: the file is not this run's optimum")
    return optimum


def _check_trials(run_dir: Path, trials: Sequence[TrialRecord]) -> None:
    """``ValueError`` for trial records the run's spec could not have produced (edited or mixed-in files):
    an agent, seed or budget the spec does not have, a best design outside its env's space, a reward outside
    its env's reward range, or a trial id, setting or hyperparameters other than the spec's trial of that id."""
    spec = _spec(run_dir)
    if spec is None:
        return
    agents = {a.name for a in spec.agents}
    env = _spec_and_env(run_dir)[1]
    names = set(env.simulator.space.names) if env is not None else None
    low, high = getattr(env, "reward_range", None) or (-math.inf, math.inf)
    expected = {t.trial_id: t for t in spec.trials()}
    for t in trials:
        where = f"{run_dir}/trials: trial {t.trial_id!r}"
        if t.agent not in agents:
            raise ValueError(f"{where}: agent {t.agent!r} is not one of the spec's agents {sorted(agents)}")
        if t.seed not in spec.seeds:
            raise ValueError(f"{where}: seed {t.seed} is not one of the spec's seeds")
        if t.budget != spec.budget:
            raise ValueError(f"{where}: budget {t.budget} is not the spec's {spec.budget}")
        if names is not None and t.best_design and set(t.best_design) != names:
            raise ValueError(f"{where}: its best design's knobs {sorted(t.best_design)} are not those of "
                             f"{spec.env_id} ({sorted(names)})")
        outside = [r for r in (t.history or [t.best_reward] if t.evaluations else []) if not low <= r <= high]
        if outside:
            raise ValueError(f"{where}: reward {outside[0]!r} lies outside {spec.env_id}'s reward range [{low:g}, "
                             f"{high:g}] (with these env kwargs): the record was edited or comes from another task")
        if t.target_met_at is not None and env is not None:
            if not getattr(env.objective, "targets", None):
                raise ValueError(f"{where}: target_met_at is {t.target_met_at}, but this run's objective has no "
                                 "targets")
            if t.history[t.target_met_at - 1] < high:  # every target met is the objective's top reward
                raise ValueError(f"{where}: target_met_at is {t.target_met_at}, but the best reward by then is "
                                 f"{t.history[t.target_met_at - 1]!r}, below the {high:g} of a design meeting every "
                                 "target")
        want = expected.get(t.trial_id)
        if want is None:
            raise ValueError(f"{where}: the spec has no trial of that id (its settings are numbered 0 to "
                             f"{max(x.setting for x in expected.values() if x.agent == t.agent)})")
        if (t.agent, t.setting, t.seed) != (want.agent, want.setting, want.seed):
            raise ValueError(f"{where}: agent {t.agent!r} setting {t.setting} seed {t.seed} is not the spec's "
                             f"trial of that id ({want.agent!r} setting {want.setting} seed {want.seed})")
        if json_data(t.hyperparameters) != json_data(want.hyperparameters):
            raise ValueError(f"{where}: hyperparameters {t.hyperparameters} are not the spec's for this trial "
                             f"({want.hyperparameters}): the record comes from another sweep")
    if env is not None:
        _check_trajectories_task(run_dir, spec, env)


def _unreadable(data: Path, exc: Exception) -> ValueError:
    return ValueError(f"{data}: the sweep's evaluations cannot be read ({exc}), so neither can the Pareto fronts")


def _check_trajectories_task(run_dir: Path, spec: Any, env: Any) -> None:
    """``ValueError`` when the evaluations the sweep logged were made on another task than its spec.yaml
    names (an edited spec: its report would label one workload's results with another's name)."""
    from archgym.dataset import scan_dataset
    from archgym.dataset.provenance import objective_record, record_difference, simulator_settings

    data = run_dir / TRAJECTORIES_DIR
    try:
        info = scan_dataset(data, allow_empty=True) if data.is_dir() else None
    except (ValueError, FileNotFoundError) as exc:
        raise _unreadable(data, exc) from None
    if info is None:
        return
    settings = simulator_settings(env.simulator)
    objective = objective_record(env.objective, env.simulator.metrics)
    labels = ("logged", "spec.yaml")
    trial_ids = {t.trial_id for t in spec.trials()}
    for run_id, record in info.runs().items():
        if run_id not in trial_ids:
            continue  # rows of no trial of this sweep are noted with the Pareto fronts
        logged_env = record.get("env_id")
        diff = (f"env_id={logged_env!r} (logged) vs {spec.env_id!r} (spec.yaml)" if logged_env != spec.env_id
                else None) or record_difference(record.get("settings"), settings, labels) or \
            (record.get("objective") is not None and record_difference(record.get("objective"), objective, labels))
        if diff:
            raise ValueError(f"{run_dir}: trial {run_id!r} logged its evaluations ({TRAJECTORIES_DIR}/) on another "
                             f"task than spec.yaml describes ({diff}): spec.yaml was edited after the sweep ran; "
                             "put it back, or run the changed task as a new sweep")


def _sweep_simulator_and_objective(run_dir: Path):
    env = _spec_and_env(run_dir)[1]
    return (None, None) if env is None else (env.simulator, env.objective)


def _target_metrics(run_dir: Path) -> list[str]:
    _, objective = _sweep_simulator_and_objective(run_dir)
    names = [t.metric for t in getattr(objective, "targets", ())]
    return names if 2 <= len(names) <= 3 else []


def _metric_info(run_dir: Path, names: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Directions and units of the named metrics of the sweep's environment."""
    sim, _ = _sweep_simulator_and_objective(run_dir)
    if sim is None:
        return ["minimize"] * len(names), {}
    return [sim.metric(n).direction.value for n in names], {n: sim.metric(n).unit for n in names}


#: what a report writes into its directory (besides pareto_A_B.png per pair of target metrics)
REPORT_FILES = ("report.md", "summary.csv", "lottery.csv", "settings.csv", "comparison.csv", "best_so_far.csv",
                "regret.csv", "pareto.csv", "hypervolume.csv", "best_so_far.png", "lottery.png", "regret.png")


def _remove_previous_report(out: Path) -> None:
    """Delete an earlier report's files from ``out``, so that a section this report lacks (no regret, no
    figures, progress only) is not left standing from the last one; other files are left alone."""
    for path in [*(out / name for name in REPORT_FILES), *out.glob("pareto_*.png")]:
        path.unlink(missing_ok=True)


def _progress_report(out: Path, run_dir: Path, trials: Sequence[TrialRecord]) -> dict[str, Any]:
    """report.md for a sweep none of whose trials has ended: where each trial stands."""
    incomplete = completeness(run_dir, trials)
    spec = _spec(run_dir)
    rows = [[t.trial_id, t.agent, t.setting, t.seed, t.outcome, f"{t.evaluations}/{t.budget}", t.best_reward]
            for t in sorted(trials, key=lambda t: t.trial_id)]
    lines = [f"# Sweep report: {spec.name if spec else run_dir.name}", "", f"**{incomplete}**", ""]
    if rows:
        lines += ["No trial has ended yet, so nothing is compared. Where each stands:", "",
                  table([[_fmt(c) for c in r] for r in rows], ["trial", "agent", "setting", "seed", "status",
                                                               "evaluations", "best so far"], markdown=True), ""]
    else:
        lines += ["No trial has reported yet, so there is nothing to compare.", ""]
    (out / "report.md").write_text("\n".join(lines))
    return {"summary": [], "verdict": "no trial has ended yet", "notes": [], "stopped_early": None, "ranking": [],
            "optimum": None, "figures": [], "report_dir": str(out), "incomplete": incomplete, "progress_only": True}


def ended(trial: TrialRecord) -> bool:
    """Whether a trial's result counts in the statistics: it used its budget, or the scheduler stopped it
    (an unfinished or failed trial's best so far is no sample of its setting)."""
    return trial.finished or trial.status == "stopped"


def completeness(run_dir: Path, trials: Sequence[TrialRecord]) -> str | None:
    """``None`` for a sweep that ran to its end; otherwise a sentence saying why the report is incomplete."""
    state = read_state(run_dir)
    spec = _spec(run_dir)
    total = state.trials_total if state else (len(spec.trials()) if spec else len(trials))
    failed = [t for t in trials if t.status == "error" and not t.finished]
    finished = sum(ended(t) for t in trials)
    running = driver_running(run_dir)
    if failed and not running:
        ids = ", ".join(t.trial_id for t in failed[:5]) + (", ..." if len(failed) > 5 else "")
        return (f"INCOMPLETE: {len(failed)} of its {total} trials failed ({ids}), {finished} ended; the statistics "
                f"leave the failed ones out (the sweep that ran them printed their errors). `archgym sweep {run_dir} "
                "--resume` runs them again, and shows any error again.")
    if running:
        return (f"INCOMPLETE: this sweep is still running; {finished} of {total} trials have ended so far, and the "
                "statistics count only those.")
    if state is not None and state.complete and finished >= total:
        return None
    if state is None and spec is None:
        if finished < len(trials):
            return (f"INCOMPLETE: {len(trials) - finished} of its {len(trials)} trials have not finished; the "
                    "statistics count the others.")
        return None  # trial records alone: nothing says more were planned
    if state is not None and state.complete:  # ran to its end, yet some trials never reported
        return (f"INCOMPLETE: this sweep ran to its end, but {total - finished} of its {total} trials left no "
                "result (they failed before their first report; the sweep's output lists their errors). "
                f"`archgym sweep {run_dir} --resume` runs them again.")
    how = f"interrupted by {state.signal}" if state and state.status == "interrupted" else \
        "not finished (still running, or its driver was killed)"
    return (f"INCOMPLETE: this sweep was {how}; {finished} of {total} trials ended, and the statistics count only "
            f"those. `archgym sweep {run_dir} --resume` runs the rest.")


def stopped_early(trials: Sequence[TrialRecord]) -> str | None:
    """What the scheduler's early stopping did to the comparison, or ``None`` when it stopped no trial."""
    stopped = [t for t in trials if t.outcome == "stopped early"]
    if not stopped:
        return None
    at = sorted({t.evaluations for t in stopped})
    span = f"{at[0]}" if len(at) == 1 else f"{at[0]}-{at[-1]}"
    by_agent = Counter(t.agent for t in stopped)
    total = Counter(t.agent for t in trials)
    agents = ", ".join(f"{a} {by_agent[a]}/{total[a]}" for a in total if by_agent[a])
    return (f"{len(stopped)} of {len(trials)} trials were stopped early by the scheduler, after {span} of "
            f"{stopped[0].budget} evaluations ({agents}). A stopped trial counts with the best reward it had found "
            "when it stopped, so the medians, intervals and verdict compare those settings at a smaller budget than "
            "the trials that ran to the end.")


def _write_markdown(path: Path, run_dir: Path, judged: Verdict, stats: Sequence[SettingStats], summary, optimum,
                    pareto, figures, incomplete, notes=(), early=None) -> None:
    spec = _spec(run_dir)
    lines = [f"# Sweep report: {spec.name if spec else run_dir.name}", ""]
    if incomplete:
        lines += [f"**{incomplete}**", ""]
    lines += ["## Verdict", "", judged.text, ""]
    if spec:
        lines += [f"Environment `{spec.env_id}` {spec.env_kwargs or ''}, budget {spec.budget} evaluations per "
                  f"trial, seeds {list(spec.seeds)}, {len(stats)} hyperparameter setting(s).", ""]
    if early:
        lines += [f"**Early stopping:** {early}", ""]
    used: list[str] = []

    def tab(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        used.extend(h for h in header if h not in used)
        lines.extend([table([[_fmt(c) for c in r] for r in rows], header, markdown=True), ""])

    regret = judged.optimum is not None
    lines += ["## Agents at their best setting", ""]
    header = ["rank", "agent", "setting", "hyperparameters", "median best reward", "95% interval",
              "P(beats next)", "target met", "evals to target"] + (["regret"] if regret else [])
    tab(header, [[k + 1, v.agent, v.best.setting, _hps(v.best.hyperparameters), v.best.median,
                  f"{v.best.interval[0]:.4g}-{v.best.interval[1]:.4g}", v.p_beats_next,
                  v.best.target_met_fraction, v.best.median_evals_to_target]
                 + ([judged.optimum - v.best.median] if regret else []) for k, v in enumerate(judged.ranking)])
    lines += ["## Every setting", ""]
    header = ["agent", "setting", "hyperparameters", "seeds", "median best reward", "95% interval", "target met",
              "evals to target"] + (["regret"] if regret else [])
    tab(header, [[st.agent, st.setting, _hps(st.hyperparameters), len(st.seeds), st.median,
                  f"{st.interval[0]:.4g}-{st.interval[1]:.4g}", st.target_met_fraction, st.median_evals_to_target]
                 + ([judged.optimum - st.median] if regret else []) for st in stats])
    lines += ["## All trials of each agent", ""]
    header = ["agent", "trials", "settings", "median best reward", "q25 / q75", "target met", "evals to target",
              "lottery min / max"] + (["stopped early"] if early else [])
    header += ["regret", "found optimum"] if optimum else []
    tab(header, [[r["agent"], r["trials"], r["settings"], r["median_best_reward"], f"{r['q25']:.4g} / {r['q75']:.4g}",
                  r["target_met_fraction"], r["median_evals_to_target"],
                  f"{r['lottery_min']:.4g} / {r['lottery_max']:.4g}"] + ([r["stopped_early"]] if early else [])
                 + ([r["median_regret"], r["found_optimum_fraction"]] if optimum else []) for r in summary])
    if optimum:
        how = {"enumeration": f"by enumerating all {optimum.designs:,} designs",
               "dynamic programming": "by dynamic programming over the simulator's additive structure",
               "search": "by long searches"}.get(optimum.method, optimum.method)
        kind = "Exact optimum" if optimum.exact else "Best known design (a bound: the optimum is at least this good)"
        lines += [f"{kind} {how}: reward {optimum.best_reward:.6f} ({optimum.seconds:.1f} s). {optimum.note}".strip(),
                  ""]
    if notes:
        lines += ["## Not in this report", "", *[f"- {n}" for n in notes], ""]
    if pareto:
        lines += ["## Pareto fronts", "", "Over " + ", ".join(pareto["metrics"]) + ". " +
                  ("The true front comes from the exact optimum." if pareto["true_front"] else
                   "No true front is known for this task."), ""]
        header = ["agent", "hypervolume"] + (["of true front"] if pareto["hypervolume_fraction"] else [])
        tab(header, [[a, v] + ([pareto["hypervolume_fraction"].get(a)] if pareto["hypervolume_fraction"] else [])
                     for a, v in pareto["hypervolume"].items()])
    lines += ["## Columns", ""]
    lines += [f"- **{name}**: {LEGEND[name]}" for name in used if name in LEGEND]
    lines.append("")
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{Path(fig).stem}]({Path(fig).name})" for fig in figures]
    path.write_text("\n".join(lines) + "\n")


def _hps(hyperparameters: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in sorted(hyperparameters.items())) or "defaults"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
