"""Interrupted sweeps: a signal ends the sweep with its own exit code and an incomplete report, no Ray
process outlives the driver, and resuming rebuilds the sweep from archgym's records without ever
unpickling what the run directory holds."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("ray")

from archgym.runs import read_state, read_trials  # noqa: E402
from archgym.tune import _interruptible  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class _Payload:
    """Unpickling this writes a marker file: proof that something loaded a tampered pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _spec(tmp_path: Path, budget: int) -> Path:
    spec = {"name": "interrupt", "env": {"id": "archgym/Systolic-v0", "kwargs": {"workload": "resnet18"}},
            "budget": budget, "seeds": [0, 1], "agents": {"random_walk": {}},
            "tune": {"max_concurrent_trials": 2, "num_cpus": 2, "report_every": 100},
            "run_dir": str(tmp_path / "run")}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "archgym.cli", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_a_record(run: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if list((run / "trials").glob("*.json")):
            return
        time.sleep(0.5)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=30)
    pytest.fail(f"the sweep wrote no trial record in {timeout} s (exit {proc.poll()}): {err[-2000:]}")


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":  # a zombie has exited; its parent has not collected it yet
            alive.add(pid)
    return alive


def test_signals_raise_keyboard_interrupt_and_say_which():
    caught: list[str] = []
    with pytest.raises(KeyboardInterrupt), _interruptible(caught):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert caught == ["SIGTERM"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


@pytest.mark.timeout(400)
def test_sigterm_ends_the_sweep_and_resume_never_unpickles(tmp_path):
    spec = _spec(tmp_path, budget=10_000)  # each trial takes seconds: the signal lands mid-run
    run = tmp_path / "run"
    proc = _start("sweep", str(spec))
    _wait_for_a_record(run, proc)
    workers = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "sweep interrupted by SIGTERM" in err and "--resume" in err
    state = read_state(run)
    assert state.status == "interrupted" and state.signal == "SIGTERM" and state.trials_finished < 2
    report = (run / "report" / "report.md").read_text()
    assert "INCOMPLETE" in report and "interrupted by SIGTERM" in report
    deadline = time.time() + 15
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.5)
    assert not _alive(workers), "Ray processes outlived the interrupted driver"

    # a shared run directory whose pickles were replaced: resuming must not load them
    marker = tmp_path / "unpickled"
    for pkl in [*run.rglob("*.pkl"), run / "tune" / "tuner.pkl"]:
        pkl.write_bytes(pickle.dumps(_Payload(marker)))
    spec_file = run / "spec.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["run_dir"] = str(tmp_path / "elsewhere")  # resume writes inside the given directory only
    spec_file.write_text(yaml.safe_dump(data))
    proc = _start("sweep", str(run), "--resume")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert not marker.exists(), "resume unpickled a file of the run directory"
    assert not (tmp_path / "elsewhere").exists()
    assert read_state(run).complete and all(t.finished for t in read_trials(run))
    assert "INCOMPLETE" not in (run / "report" / "report.md").read_text()


@pytest.mark.timeout(300)
def test_no_trial_outlives_a_killed_driver(tmp_path):
    spec = _spec(tmp_path, budget=200_000)
    proc = _start("sweep", str(spec))
    _wait_for_a_record(tmp_path / "run", proc)
    processes = _descendants(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.time() + 20
    while _alive(processes) and time.time() < deadline:
        time.sleep(0.5)
    assert not _alive(processes), f"{len(_alive(processes))} process(es) outlived the killed driver"
    assert read_state(tmp_path / "run").status == "running"  # nothing could say otherwise
