"""Exact optimum by exhaustion against a brute-force loop; report tables and figures from trial results."""

from __future__ import annotations

import csv
import json

import gymnasium as gym
import matplotlib.image as mpimg
import numpy as np
import pytest

from archgym.envs import DesignEnv
from archgym.objective import pareto_mask
from archgym.optimum import Optimum, find_optimum
from archgym.report import build_report
from simulators.core import Choice, DesignSpace
from simulators.dram import DRAMSimulator
from simulators.systolic import SystolicSimulator, default_space


def narrow_space() -> DesignSpace:
    keep = {"rows": [8, 16, 32], "cols": [16, 64], "ifmap_sram_kb": [8, 64], "dram_bw_gbps": [4, 16, 64],
            "clock_mhz": [200, 1000]}
    params = []
    for p in default_space():
        if p.name in keep:
            params.append(Choice(p.name, keep[p.name], ordered=True))
        elif p.name in ("dataflow",):
            params.append(p)
        else:
            params.append(Choice(p.name, [p.values[2 if len(p.values) > 2 else 0]]))
    return DesignSpace(params)


def test_optimum_agrees_with_brute_force():
    env = gym.make("archgym/Systolic-v0", workload="mobilenet_v2", space=narrow_space(),
                   targets={"latency": 2e-3, "energy": 1e-3, "area": 3.0})
    denv = env.unwrapped
    opt = find_optimum(env, chunk=17, progress=False)  # odd chunks exercise the merging
    every = denv.space.indices_from_ordinals(np.arange(denv.space.cardinality))
    designs = [denv.space.decode_indices(i) for i in every]
    evaluations = [denv.simulator.evaluate(d) for d in designs]
    rewards = np.array([denv.objective(e) for e in evaluations])
    assert opt.designs == len(designs) == 3 * 2 * 3 * 2 * 3 * 2
    assert opt.best_reward == pytest.approx(rewards.max())
    assert opt.optimal_designs == int((rewards >= rewards.max() - 1e-12).sum())
    assert opt.meeting_targets == int((rewards >= 1.0).sum())
    assert denv.objective(denv.simulator.evaluate(opt.best_design)) == pytest.approx(rewards.max())
    pts = np.array([[e.metrics[m] for m in ("latency", "energy", "area")] for e in evaluations])
    truth = {tuple(p) for p in pts[pareto_mask(pts)]}
    found = {tuple(p["metrics"][m] for m in ("latency", "energy", "area")) for p in opt.pareto_front}
    assert found == truth and opt.pareto_metrics == ["latency", "energy", "area"]


def test_optimum_starts_with_a_small_timed_chunk_and_announces_a_long_enumeration(monkeypatch, capsys):
    import archgym.optimum as optimum

    env = gym.make("archgym/Systolic-v0", workload="mobilenet_v2", space=narrow_space(), targets={"latency": 2e-3})
    sim = env.unwrapped.simulator
    sizes, evaluate_batch = [], sim.evaluate_batch
    monkeypatch.setattr(sim, "evaluate_batch", lambda designs: sizes.append(len(designs)) or evaluate_batch(designs))
    monkeypatch.setattr(optimum, "_WARN_SECONDS", 0.0)
    monkeypatch.setattr(optimum, "_FIRST_CHUNK", 50)
    opt = find_optimum(env, progress=False)
    assert sizes == [50, 166] and opt.designs == 216  # then sized to the measured speed (fast: the rest)
    assert "216 designs at" in capsys.readouterr().err
    assert opt.best_reward == find_optimum(env, chunk=17, progress=False).best_reward


def truncated_dram(write_fraction: float) -> DRAMSimulator:
    """DRAM-v0 on a short LPDDR4 trace (two bursts a request: 1-slot buffers cannot serve it) over a few
    values of each knob, the reference design among them."""
    sim = DRAMSimulator("cloud-1", memspec="lpddr4_3200", requests=150, write_fraction=write_fraction)
    keep = {"PagePolicy": ["Open", "Closed"], "RequestBufferSize": [1, 8], "RespQueue": ["Fifo"],
            "RefreshMaxPostponed": [1, 8], "RefreshMaxPulledin": [1, 8], "Arbiter": ["Simple", "Fifo"],
            "MaxActiveTransactions": [2, 128]}
    sim.space = DesignSpace([Choice(p.name, keep.get(p.name, p.values)) for p in sim.space])
    return sim


@pytest.mark.parametrize("write_fraction", [0.0, 0.3])
def test_optimum_over_classes_of_equivalent_designs_equals_brute_force(write_fraction):
    sim = truncated_dram(write_fraction)
    denv = DesignEnv(sim)
    opt = find_optimum(denv, chunk=23, progress=False)
    space = sim.space
    ordinals = np.arange(space.cardinality)
    designs = space.decode_indices_batch(space.indices_from_ordinals(ordinals))
    evaluations = [sim._simulate(d) for d in designs]  # every design simulated, no cache, no classes
    rewards = np.array([denv.objective(e) for e in evaluations])
    best = rewards.max()
    optimal = np.flatnonzero(rewards >= best - 1e-12)
    assert opt.designs == len(designs) == 1152
    assert opt.evaluated == len(np.unique(sim.canonical_indices(space.indices_from_ordinals(ordinals)), axis=0))
    assert opt.evaluated < 1152 // (4 if write_fraction == 0.0 else 2)  # the classes did save work
    assert opt.best_reward == best and opt.optimal_designs == len(optimal)
    assert opt.optimal_examples == [designs[i] for i in optimal[:20]] and opt.best_design == designs[optimal[0]]
    assert opt.meeting_targets == int((rewards >= 1.0).sum())
    assert opt.feasible_designs == sum(e.feasible for e in evaluations) < 1152
    ok = np.flatnonzero([e.feasible for e in evaluations])
    pts = np.array([[evaluations[i].metrics[m] for m in ("power", "latency")] for i in ok])
    on_front = pareto_mask(pts)
    truth = {}  # point -> (first design reaching it, designs reaching it)
    for i, p in zip(ok[on_front], map(tuple, pts[on_front])):
        first, n = truth.get(p, (designs[i], 0))
        truth[p] = (first, n + 1)
    expected = [(truth[p][0], list(p), truth[p][1]) for p in sorted(truth)]
    found = [(p["design"], [p["metrics"]["power"], p["metrics"]["latency"]], p["designs"]) for p in opt.pareto_front]
    assert found == expected and opt.pareto_metrics == ["power", "latency"]
    assert sum(n for *_, n in found) > len(found)  # equivalent designs share points of the front


def test_optimum_checks_the_equivalence_hook(monkeypatch):
    env = gym.make("archgym/Systolic-v0", workload="mobilenet_v2", space=narrow_space(), targets={"latency": 2e-3})
    sim = env.unwrapped.simulator
    plain = find_optimum(env, progress=False)
    assert plain.evaluated == plain.designs  # no hook: every design is its own class
    monkeypatch.setattr(type(sim), "canonical_indices", lambda self, idx: (idx + 1) % self.space.nvec)
    with pytest.raises(ValueError, match="a representative must be its own"):
        find_optimum(env, progress=False)


def test_optimum_refuses_huge_spaces():
    with pytest.raises(ValueError, match="more than the enumeration limit"):
        find_optimum(gym.make("archgym/Systolic-v0"), limit=1000)


def fake_run(tmp_path, optimum: float | None = None):
    rng = np.random.default_rng(0)
    (tmp_path / "trials").mkdir(parents=True)
    for agent, skill in (("random_walk", 0.5), ("ga", 0.8)):
        for setting in range(3):
            for seed in range(2):
                steps = np.cumsum(rng.random(30) * skill / 30)
                history = np.maximum.accumulate(np.minimum(steps, 1.0)).tolist()
                trial = {"trial_id": f"{agent}-{setting:03d}-s{seed}", "agent": agent, "setting": setting,
                         "hyperparameters": {"p": setting}, "seed": seed, "status": "done", "budget": 30,
                         "evaluations": 30, "best_reward": history[-1], "best_design": {"x": 1},
                         "best_metrics": {"latency": 1.0}, "target_met_at": 25 if history[-1] >= 1 else None,
                         "history": history, "wall_time": 0.1}
                (tmp_path / "trials" / f"{trial['trial_id']}.json").write_text(json.dumps(trial))
    if optimum is not None:
        Optimum(env_id="test/Fake-v0", workload="w", objective={}, designs=100, best_reward=optimum,
                best_design={"x": 1}, best_metrics={"latency": 1.0}, optimal_designs=2, optimal_examples=[],
                meeting_targets=None, feasible_designs=100, pareto_metrics=[], seconds=0.1,
                ).save(tmp_path / "optimum.json")
    return tmp_path


def test_report_tables_and_figures(tmp_path):
    run = fake_run(tmp_path, optimum=1.0)
    report = build_report(run)
    summary = {r["agent"]: r for r in report["summary"]}
    assert summary["ga"]["trials"] == 6 and summary["ga"]["settings"] == 3
    ga_finals = [json.loads(p.read_text())["best_reward"] for p in (run / "trials").glob("ga-*.json")]
    assert summary["ga"]["median_best_reward"] == pytest.approx(np.median(ga_finals))
    assert summary["ga"]["median_regret"] == pytest.approx(1.0 - np.median(ga_finals))
    with open(run / "report" / "best_so_far.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["agent"] == "ga"]
    assert len(rows) == 30 and float(rows[-1]["median"]) == pytest.approx(np.median(ga_finals))
    with open(run / "results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 12
    for name in ("best_so_far.png", "lottery.png", "regret.png"):
        image = mpimg.imread(run / "report" / name)
        assert image.shape[0] > 300 and image.shape[1] > 400 and image.std() > 0  # a real, non-blank picture
    md = (run / "report" / "report.md").read_text()
    assert "| ga |" in md and "![lottery](lottery.png)" in md


def test_report_needs_trials(tmp_path):
    with pytest.raises(ValueError, match="no trial results"):
        build_report(tmp_path)


# -- the verdict ------------------------------------------------------------------------------------------


def _record(agent, setting, seed, best, met=None, hps=None):
    from archgym.runs import TrialRecord

    return TrialRecord(f"{agent}-{setting:03d}-s{seed}", agent, setting, hps or {"p": setting}, seed, "done", 100,
                       100, best, target_met_at=met, history=[best] * 100)


def test_the_best_setting_and_a_bootstrap_over_seeds():
    from archgym.verdict import p_beats, setting_stats, verdict

    trials = [_record("ga", 0, s, 0.5 + 0.01 * s) for s in range(5)] + \
             [_record("ga", 1, s, 0.8 + 0.01 * s) for s in range(5)] + \
             [_record("aco", 0, s, 0.6 + 0.05 * s) for s in range(5)]
    stats = setting_stats(trials)
    judged = verdict(stats, env_id="test/Env-v0", optimum=0.9)
    assert [v.agent for v in judged.ranking] == ["ga", "aco"]
    best = judged.ranking[0].best
    assert best.setting == 1 and best.median == pytest.approx(0.82)
    assert best.interval[0] <= 0.82 <= best.interval[1] and best.interval == pytest.approx((0.80, 0.84))
    assert judged.ranking[0].p_beats_next == pytest.approx(p_beats(best, judged.ranking[1].best))
    assert 0.5 < judged.ranking[0].p_beats_next <= 1.0
    assert "**ga** is the best agent on `test/Env-v0`" in judged.text
    assert "setting" in judged.text and "0.8200" in judged.text and "regret is 0.08" in judged.text
    assert "Hyperparameters matter most for ga" in judged.text


def test_ties_at_the_ceiling_break_on_evaluations_to_target():
    from archgym.verdict import setting_stats, verdict

    trials = [_record("fast", 0, s, 1.0, met=20 + s) for s in range(3)] + \
             [_record("slow", 0, s, 1.0, met=60 + s) for s in range(3)]
    judged = verdict(setting_stats(trials))
    assert [v.agent for v in judged.ranking] == ["fast", "slow"] and judged.ranking[0].p_beats_next == 1.0
    assert "every target met in a median of 21 evaluations" in judged.text


def test_report_opens_with_the_verdict_and_explains_every_column(tmp_path):
    from archgym.report import LEGEND

    run = fake_run(tmp_path, optimum=1.0)
    report = build_report(run)
    md = (run / "report" / "report.md").read_text()
    assert md.index("## Verdict") < md.index("## Agents at their best setting") < md.index("## Every setting")
    assert report["verdict"] in md and report["ranking"][0]["agent"] == "ga"
    for column in ("rank", "95% interval", "P(beats next)", "regret", "lottery min / max"):
        assert f"- **{column}**: {LEGEND[column]}" in md
    with open(run / "report" / "settings.csv") as fh:  # every setting distinguishable
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and len({(r["agent"], r["setting"]) for r in rows}) == 6
    assert all(json.loads(r["hyperparameters"]) == {"p": int(r["setting"])} for r in rows)


def test_report_refuses_what_its_run_could_not_have_produced(tmp_path):
    """A report must not quietly drop a section or count an impossible record: a broken spec.yaml, trial
    records the spec could not have produced and unreadable trajectories are refused, naming them."""
    from archgym.config import parse_sweep
    from archgym.runs import write_spec

    spec = parse_sweep({"name": "t", "env": {"id": "archgym/Systolic-v0"}, "budget": 30, "seeds": [0, 1],
                        "agents": {"random_walk": {}, "ga": {}}, "run_dir": str(tmp_path)}, source="t.yaml")
    run = fake_run(tmp_path)
    write_spec(run, spec)
    design = SystolicSimulator().default_design()
    for path in (run / "trials").glob("*.json"):
        trial = json.loads(path.read_text())
        if trial["setting"]:  # the spec has one setting per agent, at its defaults
            path.unlink()
            continue
        path.write_text(json.dumps(dict(trial, best_design=design, hyperparameters={})))
    report = build_report(run)  # trajectories/ removed (to save space): a report, saying what it lacks
    assert report["notes"] == [f"{run} has no trajectories/ (where the sweep logged its evaluations), so the Pareto "
                               "fronts were not computed"]
    assert "## Not in this report" in (run / "report" / "report.md").read_text()
    (run / "trajectories").mkdir()
    (run / "trajectories" / "part-x-00000000-00000.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=r"trajectories: the sweep's evaluations cannot be read"):
        build_report(run)
    trial_file = run / "trials" / "ga-000-s0.json"
    good = json.loads(trial_file.read_text())
    for change, message in (({"agent": "nope"}, r"agent 'nope' is not one of the spec's agents"),
                            ({"seed": 7}, r"seed 7 is not one of the spec's seeds"),
                            ({"best_design": {"x": 1}}, r"best design's knobs \['x'\] are not those of"),
                            ({"status": "weird"}, r"status must be one of \['running', 'done', 'stopped', 'error'\]"),
                            ({"best_reward": float("nan")}, r"best_reward must be a number"),
                            ({"best_reward": 2.0}, r"best_reward 2.0 is not the history's last best reward"),
                            ({"evaluations": -3}, r"evaluations must be an integer >= 0"),
                            ({"history": good["history"] * 2}, r"history has 60 entries for 30 evaluations"),
                            ({"history": ["a"] * 30}, r"history must be a list of numbers"),
                            ({"history": [0.5] + good["history"][1:]}, r"history must not decrease"),
                            ({"target_met_at": 5}, r"target_met_at is 5, but the best reward by then is "),
                            ({"best_metrics": {"latency": "x"}}, r"best_metrics must map metric names to numbers"),
                            ({"wall_time": -5}, r"wall_time must be a number of seconds >= 0, got -5"),
                            ({"wall_time": "abc"}, r"wall_time must be a number of seconds"),
                            ({"history": [*good["history"][:-1], 1.5], "best_reward": 1.5},
                             r"reward 1.5 lies outside archgym/Systolic-v0's reward range \[0, 1\]"),
                            ({"hyperparameters": {"population": 8}}, r"hyperparameters \{'population': 8\} are not "
                                                                     r"the spec's for this trial \(\{\}\)"),
                            ({"setting": 1}, r"agent 'ga' setting 1 seed 0 is not the spec's trial of that id")):
        trial_file.write_text(json.dumps(dict(good, **change)))
        with pytest.raises(ValueError, match=message):
            build_report(run)
    trial_file.write_text(json.dumps(good))
    (run / "trials" / "ga-004-s0.json").write_text(json.dumps(dict(good, trial_id="ga-004-s0", setting=4)))
    with pytest.raises(ValueError, match=r"trial 'ga-004-s0': the spec has no trial of that id \(its settings are "
                                         r"numbered 0 to 0\)"):
        build_report(run)
    (run / "trials" / "ga-004-s0.json").unlink()
    (run / "trials" / "copy.json").write_text(json.dumps(good))  # a copied record: its trial counted twice
    with pytest.raises(ValueError, match=r"copy.json: it records trial 'ga-000-s0', but a trial's record is "
                                         r"trials/TRIAL_ID.json"):
        build_report(run)
    (run / "trials" / "copy.json").unlink()
    (run / "spec.yaml").write_text((run / "spec.yaml").read_text()[:40])  # truncated
    with pytest.raises(ValueError, match="spec.yaml"):
        build_report(run)


def test_a_sweep_that_ended_with_trials_missing_says_so(tmp_path):
    """Trials that failed before their first report leave no record: a sweep that ran to its end is then
    incomplete for that reason, not 'still running'."""
    from archgym.report import completeness
    from archgym.runs import RunState, read_trials, write_state

    run = fake_run(tmp_path)
    write_state(run, RunState("complete", 14, 12, started=0.0))
    text = completeness(run, read_trials(run))
    assert text.startswith("INCOMPLETE: this sweep ran to its end, but 2 of its 14 trials left no result")
    write_state(run, RunState("complete", 12, 12, started=0.0))
    assert completeness(run, read_trials(run)) is None


def test_a_report_says_which_trials_the_scheduler_stopped_early(tmp_path):
    """ASHA stops the settings that look worst: their best rewards are at a smaller budget, and the report
    says so rather than pooling them silently with the trials that ran to the end."""
    run = fake_run(tmp_path)
    assert build_report(run, figures=False)["stopped_early"] is None
    assert "Early stopping" not in (run / "report" / "report.md").read_text()
    for path in sorted((run / "trials").glob("random_walk-*.json"))[:3]:
        trial = json.loads(path.read_text())
        trial.update(status="stopped", evaluations=10, history=trial["history"][:10],
                     best_reward=trial["history"][9], target_met_at=None)
        path.write_text(json.dumps(trial))
    report = build_report(run, figures=False)
    assert report["stopped_early"].startswith("3 of 12 trials were stopped early by the scheduler, after 10 of 30 "
                                              "evaluations (random_walk 3/6)")
    assert {r["agent"]: r["stopped_early"] for r in report["summary"]} == {"random_walk": 3, "ga": 0}
    md = (run / "report" / "report.md").read_text()
    assert "**Early stopping:** 3 of 12 trials" in md and "| stopped early |" in md


def test_an_optimum_of_another_task_is_refused(tmp_path):
    """A run's optimum.json must be its own task's: regret against another workload's, targets' or
    setting's optimum would be a silent wrong answer (negative regret, another true front)."""
    from archgym.optimum import check_optimum, load_optimum

    kw = {"workload": "mobilenet_v2", "space": narrow_space(), "targets": {"latency": 2e-3, "energy": 1e-3}}
    env = gym.make("archgym/Systolic-v0", **kw)
    saved = load_optimum(find_optimum(env, progress=False).save(tmp_path / "optimum.json"))
    assert saved.settings["workload"] == "mobilenet_v2"
    check_optimum(saved, "archgym/Systolic-v0", env, "optimum.json")  # its own task, read back from JSON
    for other, message in ((dict(kw, workload="resnet18"), "workload 'mobilenet_v2' vs 'resnet18'"),
                           (dict(kw, targets={"latency": 1e-3, "energy": 1e-3}), "objective"),
                           ({k: v for k, v in kw.items() if k != "space"}, "setting space=")):
        with pytest.raises(ValueError, match=f"the optimum of another task than this run's: .*{message}"):
            check_optimum(saved, "archgym/Systolic-v0", gym.make("archgym/Systolic-v0", **other), "optimum.json")
    with pytest.raises(ValueError, match="env 'archgym/Systolic-v0' vs 'archgym/Quant-v0'"):
        check_optimum(saved, "archgym/Quant-v0", env, "optimum.json")
    old = Optimum(**{**saved.__dict__, "settings": None})  # a file from before settings were recorded
    check_optimum(old, "archgym/Systolic-v0", gym.make("archgym/Systolic-v0", **{**kw, "space": None}), "o.json")


@pytest.mark.parametrize(("change", "message"), [
    ({"best_reward": "x"}, "best_reward must be a finite number, got 'x'"),
    ({"best_reward": None}, "best_reward must be a finite number, got None"),
    ({"exact": "no"}, "exact must be true or false"),
    ({"designs": -1}, "designs must be an integer >= 0"),
    ({"optimal_designs": 1.5}, "optimal_designs must be an integer >= 0 or null"),
    ({"best_design": 3}, "best_design must be a JSON object"),
    ({"pareto_front": [{"design": {}}]}, "each pareto_front point must be"),
    ({"method": "magic"}, r"method must be one of \['enumeration', 'dynamic programming', 'search'\]"),
])
def test_a_broken_optimum_file_is_refused_naming_the_field(tmp_path, change, message):
    """A hand-edited optimum.json used to end a report in a TypeError (or be used as it was)."""
    run = fake_run(tmp_path, optimum=1.0)
    data = json.loads((run / "optimum.json").read_text())
    (run / "optimum.json").write_text(json.dumps({**data, **change}))
    with pytest.raises(ValueError, match=f"optimum.json: {message}.*delete it and `archgym sweep RUN_DIR --resume`"):
        build_report(run, figures=False)
    (run / "optimum.json").write_text(json.dumps({**data, "optimal_designs": None, "feasible_designs": None}))
    build_report(run, figures=False)  # null: not counted (a search's optimum)


def test_a_new_report_leaves_nothing_of_the_last_one_it_does_not_rewrite(tmp_path):
    """A report without regret (optimum.json removed), without figures, or of progress only must not leave the
    last report's regret, figures or tables beside it, which read as this run's."""
    run = fake_run(tmp_path, optimum=1.0)
    (run / "report").mkdir()
    (run / "report" / "notes.txt").write_text("mine")  # not a report file: kept
    build_report(run)
    assert {"regret.csv", "regret.png", "best_so_far.png"} <= {p.name for p in (run / "report").iterdir()}
    (run / "optimum.json").unlink()
    build_report(run, figures=False)
    left = {p.name for p in (run / "report").iterdir()}
    assert "regret.csv" not in left and not any(name.endswith(".png") for name in left)
    assert {"summary.csv", "report.md", "notes.txt"} <= left
    for path in (run / "trials").glob("*.json"):  # every trial back to running: progress only
        trial = json.loads(path.read_text())
        path.write_text(json.dumps(dict(trial, status="running", evaluations=5, history=trial["history"][:5],
                                        best_reward=trial["history"][4], target_met_at=None)))
    assert build_report(run)["progress_only"]
    assert {p.name for p in (run / "report").iterdir()} == {"report.md", "notes.txt"}


def test_a_report_refuses_an_exact_optimum_that_a_trial_beat(tmp_path):
    run = fake_run(tmp_path, optimum=0.3)  # ga's trials reach about 0.4
    with pytest.raises(ValueError, match=r"optimum.json: trial 'ga-.*' reached reward .*, above this exact "
                                         r"optimum's 0.3: the file is not this run's optimum"):
        build_report(run, figures=False)


def test_a_sweeps_optimum_file_of_another_workload_is_not_reused(tmp_path):
    from archgym.config import parse_sweep
    from archgym.optimum import ensure_run_optimum
    from archgym.runs import write_spec

    spec = parse_sweep({"name": "o", "env": {"id": "archgym/Systolic-v0", "kwargs": {"workload": "alexnet"}},
                        "budget": 5, "agents": {"random_walk": {}}, "optimum": True, "run_dir": str(tmp_path)})
    write_spec(tmp_path, spec)
    Optimum(env_id="archgym/Systolic-v0", workload="resnet18", objective={}, designs=1, best_reward=1.0,
            best_design={}, best_metrics={}, optimal_designs=1, optimal_examples=[], meeting_targets=None,
            feasible_designs=1, pareto_metrics=[]).save(tmp_path / "optimum.json")
    with pytest.raises(ValueError, match="is the optimum of another task than this run's: workload 'resnet18' vs "
                                         "'alexnet'"):
        ensure_run_optimum(tmp_path, progress=False)


def test_a_failed_trials_partial_result_is_left_out_and_said(tmp_path):
    """A trial that failed after 10 of 30 evaluations is no sample of its setting: the report leaves it out
    of every statistic and says so (it was pooled silently, with exit 0)."""
    run = fake_run(tmp_path)
    path = run / "trials" / "random_walk-000-s0.json"
    trial = json.loads(path.read_text())
    path.write_text(json.dumps(dict(trial, status="error", evaluations=10, history=trial["history"][:10],
                                    best_reward=trial["history"][9], target_met_at=None)))
    report = build_report(run, figures=False)
    assert report["incomplete"].startswith("INCOMPLETE: 1 of its 12 trials failed (random_walk-000-s0), 11 ended; "
                                           "the statistics leave the failed ones out")
    assert {r["agent"]: r["trials"] for r in report["summary"]} == {"random_walk": 5, "ga": 6}
    with open(run / "results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 12  # the table of records still lists it
    for p in (run / "trials").glob("*.json"):
        t = json.loads(p.read_text())
        p.write_text(json.dumps(dict(t, status="running", evaluations=5, history=t["history"][:5],
                                     best_reward=t["history"][4], target_met_at=None)))
    progress = build_report(run, figures=False)  # nothing to compare yet: where each trial stands
    assert progress["summary"] == [] and progress["verdict"] == "no trial has ended yet"
    md = (run / "report" / "report.md").read_text()
    assert "No trial has ended yet" in md and "| ga-000-s0 | ga | 0 | 0 | unfinished | 5/30 |" in md


def test_a_report_while_the_sweep_runs_says_so(tmp_path):
    """A report taken while the driver holds the run directory (trials running, or the optimum being
    computed) says the sweep is still running, and never advises a --resume the lock would refuse."""
    from archgym.io import exclusive_lock
    from archgym.report import completeness
    from archgym.runs import DRIVER_LOCK, RunState, read_trials, write_state

    run = fake_run(tmp_path)
    write_state(run, RunState("running", 14, 10, started=0.0))
    assert "interrupted" not in completeness(run, read_trials(run))
    with exclusive_lock(run / DRIVER_LOCK, "test"):
        text = completeness(run, read_trials(run))
    assert text == "INCOMPLETE: this sweep is still running; 12 of 14 trials have ended so far, and the statistics " \
                   "count only those."
    assert not (run / DRIVER_LOCK).exists()  # the lock's file goes with it


def test_a_report_says_when_the_optimum_the_spec_asks_for_is_missing(tmp_path):
    """Ctrl-C during a sweep's optimum phase left a complete run without optimum.json: its report then
    had no regret and said nothing."""
    from archgym.config import parse_sweep
    from archgym.runs import write_spec

    spec = parse_sweep({"name": "t", "env": {"id": "archgym/Systolic-v0"}, "budget": 30, "seeds": [0, 1],
                        "agents": {"random_walk": {}, "ga": {}}, "run_dir": str(tmp_path), "optimum": True})
    run = fake_run(tmp_path)
    write_spec(run, spec)
    design = SystolicSimulator().default_design()
    for path in (run / "trials").glob("*.json"):
        trial = json.loads(path.read_text())
        if trial["setting"]:
            path.unlink()
        else:
            path.write_text(json.dumps(dict(trial, best_design=design, hyperparameters={})))
    notes = build_report(run, figures=False)["notes"]
    assert any(n.startswith("the spec asks for the exact optimum, but optimum.json is missing") for n in notes)
    assert f"archgym sweep {run} --resume` computes it" in (run / "report" / "report.md").read_text()


def test_ctrl_c_inside_compiled_code_is_an_interruption(monkeypatch, capsys):
    """numba wraps a KeyboardInterrupt raised in a compiled call in a SystemError: still exit 130."""
    import argparse

    import archgym.cli as cli

    def interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("CPUDispatcher(<function _run>) returned a result with an exception set") from None

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=interrupted)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == 130
    assert capsys.readouterr().err.strip() == "archgym: interrupted"


def test_a_report_of_a_run_directory_you_may_only_read_goes_elsewhere(tmp_path, monkeypatch, capsys):
    import archgym.report as report_mod
    from archgym.cli import main

    run = fake_run(tmp_path / "run")
    before = sorted(p.name for p in run.iterdir())
    report = build_report(run, figures=False, out=tmp_path / "mine")
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written into the run directory
    assert (tmp_path / "mine" / "report.md").is_file() and (tmp_path / "mine" / "results.csv").is_file()
    assert report["report_dir"] == str(tmp_path / "mine")

    def read_only(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(report_mod, "write_results", read_only)
    assert main(["report", str(run), "--no-figures"]) == 2
    assert f"cannot write the report into {run} (report/ and results.csv): Permission denied: write it elsewhere " \
           "with --out DIR" in capsys.readouterr().err


def test_a_report_before_any_trial_reported_says_where_the_sweep_stands(tmp_path, capsys):
    """Interrupted (or still starting) before a trial's first report, a sweep's report said "has no trial
    results: run the sweep first" (exit 2), as if no sweep had been made; it says how far it got."""
    from archgym.cli import main
    from archgym.config import parse_sweep
    from archgym.runs import RunState, write_spec, write_state

    spec = parse_sweep({"name": "t", "env": {"id": "archgym/Systolic-v0"}, "budget": 30, "seeds": [0, 1],
                        "agents": {"random_walk": {}, "ga": {}}, "run_dir": str(tmp_path)}, source="t.yaml")
    write_spec(tmp_path, spec)
    write_state(tmp_path, RunState("interrupted", 4, 0, signal="SIGINT", started=0.0))
    assert main(["report", str(tmp_path), "--no-figures"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "this sweep was interrupted by SIGINT; 0 of 4 trials ended" in text and "--resume" in text
    assert "No trial has reported yet" in text
    write_state(tmp_path, RunState("complete", 4, 0, started=0.0))  # every trial failed before reporting
    assert "ran to its end, but 4 of its 4 trials left no result" in build_report(tmp_path)["incomplete"]
    (tmp_path / "spec.yaml").unlink()  # not a sweep's directory at all
    with pytest.raises(ValueError, match="has no trial results"):
        build_report(tmp_path)


@pytest.mark.parametrize(("change", "message"), [
    ({"status": "bogus"}, r"status must be one of \['running', 'complete', 'interrupted'\], got 'bogus'"),
    ({"trials_finished": 99}, r"trials_finished must be an integer in \[0, 14\], got 99"),
    ({"signal": "SIGKILL"}, r"signal must be SIGINT, SIGTERM or null"),
])
def test_a_broken_state_file_is_refused_naming_the_field(tmp_path, change, message):
    """state.json decides a report's INCOMPLETE line: an edited one was taken as it was."""
    from archgym.runs import RunState, write_state

    run = fake_run(tmp_path)
    write_state(run, RunState("complete", 14, 12, started=0.0))
    data = json.loads((run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps({**data, **change}))
    with pytest.raises(ValueError, match=f"state.json: {message}"):
        build_report(run, figures=False)
