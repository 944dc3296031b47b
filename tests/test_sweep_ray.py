"""Sweeps on a real embedded Ray: a two-trial sweep end to end, and resuming an interrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

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
    assert {Path(f).name for f in report["figures"]} == {"best_so_far.png", "lottery.png", "pareto.png"}
    with pytest.raises(ValueError, match="already holds a sweep"):
        run_sweep(spec)


def _wait_for(predicate, seconds: float) -> bool:
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_interrupted_sweep_resumes_without_losing_finished_trials(tmp_path):
    run_dir = tmp_path / "run"
    spec = {
        "name": "resumable", "env": {"id": "archgym/Systolic-v0", "kwargs": {"workload": "resnet50"}},
        "budget": 2000, "seeds": [0, 1, 2, 3], "agents": {"random_walk": {}},
        "tune": {"max_concurrent_trials": 1, "num_cpus": 2}, "run_dir": str(run_dir),
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "archgym.cli", "sweep"]
    proc = subprocess.Popen([*cmd, str(spec_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)

    def done_trials():
        out = []
        for p in (run_dir / "trials").glob("*.json"):
            try:
                data = json.loads(p.read_text())
            except (json.JSONDecodeError, OSError):
                continue
            if data["status"] == "done":
                out.append(data["trial_id"])
        return out

    assert _wait_for(lambda: len(done_trials()) >= 1, 300), proc.communicate(timeout=60)[0][-3000:]
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    proc.communicate(timeout=120)
    finished = {t: json.loads((run_dir / "trials" / f"{t}.json").read_text()) for t in done_trials()}
    assert 1 <= len(finished) < 4, "the interruption came too late to test resuming"

    resumed = subprocess.run([*cmd, str(spec_path), "--resume"], env=env, capture_output=True, text=True, timeout=480)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    trials = {p.stem: json.loads(p.read_text()) for p in (run_dir / "trials").glob("*.json")}
    assert len(trials) == 4 and all(t["status"] == "done" for t in trials.values())
    for trial_id, before in finished.items():
        assert trials[trial_id]["wall_time"] == before["wall_time"], f"{trial_id} ran again"
    rows = read_dataset(run_dir / "trajectories")
    assert rows.groupby("run_id").size().to_dict() == {t: 2000 for t in trials}  # no trial logged twice
    assert (run_dir / "report" / "report.md").is_file()
