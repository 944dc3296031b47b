"""Sweeps on a real embedded Ray: a two-trial sweep end to end, and resuming an interrupted one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from archgym.config import parse_sweep
from archgym.dataset import read_dataset
from archgym.report import build_report
from archgym.tune import run_sweep

pytestmark = pytest.mark.timeout(600)


def test_two_trial_sweep_end_to_end(tmp_path, ray_session):
    spec = parse_sweep({
        "name": "two", "env": {"id": "archgym/Systolic-v0", "kwargs": {"workload": "alexnet"}}, "budget": 30,
        "seeds": [0, 1], "agents": {"random_walk": {}}, "tune": {"max_concurrent_trials": 2, "report_every": 7},
        "run_dir": str(tmp_path / "run"),
    })
    outcome = run_sweep(spec)
    assert outcome.errors == {}
    trials = {t.trial_id: t for t in outcome.trials}
    assert set(trials) == {"random_walk-000-s0", "random_walk-000-s1"}
    for t in trials.values():
        assert t.status == "done" and t.evaluations == 30 and len(t.history) == 30
    rows = read_dataset(tmp_path / "run" / "trajectories")
    assert rows.groupby("run_id").size().to_dict() == {"random_walk-000-s0": 30, "random_walk-000-s1": 30}
    assert len(list((tmp_path / "run" / "trajectories").glob("*.parquet"))) == 2  # each trial's log compacted
    for run_id, t in trials.items():
        assert rows[rows.run_id == run_id]["reward"].max() == pytest.approx(t.best_reward)
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    assert len(results) == 2 and set(results.status) == {"done"}
    report = build_report(tmp_path / "run")
    assert {Path(f).name for f in report["figures"]} == {"best_so_far.png", "lottery.png", "pareto_latency_energy.png",
                                                          "pareto_latency_area.png", "pareto_energy_area.png"}
    with pytest.raises(ValueError, match="already holds a sweep"):
        run_sweep(spec)
    # the fronts are the trials' own: rows someone else logged there are left out, missing ones said
    assert report["notes"] == []
    import archgym

    archgym.explore("archgym/Systolic-v0", "random_walk", budget=20, seed=5, env_kwargs={"workload": "alexnet"},
                    log=tmp_path / "run" / "trajectories", run_id="mine", progress=False)
    again = build_report(tmp_path / "run", figures=False)
    assert again["notes"] == ["20 rows of trajectories/ belong to no trial of this sweep (run ids mine): the Pareto "
                              "fronts leave them out"]
    fronts = pd.read_csv(tmp_path / "run" / "report" / "pareto.csv")
    assert set(fronts.agent) == {"random_walk"}
    for part in (tmp_path / "run" / "trajectories").glob("*.parquet"):
        if set(pd.read_parquet(part, columns=["run_id"]).run_id) == {"random_walk-000-s1"}:
            part.unlink()
    assert build_report(tmp_path / "run", figures=False)["notes"][-1].startswith(
        "the logged evaluations of 1 trial(s) are missing or fewer than they recorded (random_walk-000-s1)")
    spec_file = tmp_path / "run" / "spec.yaml"
    spec_file.write_text(spec_file.read_text().replace("alexnet", "vgg16"))  # the task edited after the run
    with pytest.raises(ValueError, match=r"trial 'random_walk-000-s0' logged its evaluations \(trajectories/\) on "
                                         r"another task than spec.yaml describes \(workload='alexnet' \(logged\) vs "
                                         r"'vgg16' \(spec.yaml\)\)"):
        build_report(tmp_path / "run", figures=False)
