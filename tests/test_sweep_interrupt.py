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

from archgym.dataset import read_dataset  # noqa: E402
from archgym.runs import read_state, read_trials  # noqa: E402
from archgym.tune import _interruptible  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class _Payload:
    """Unpickling this writes a marker file: proof that something loaded a tampered pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _spec(tmp_path: Path, budget: int, seeds: int = 2, concurrent: int = 2) -> Path:
    spec = {"name": "interrupt", "env": {"id": "archgym/Systolic-v0", "kwargs": {"workload": "resnet50"}},
            "budget": budget, "seeds": seeds, "agents": {"random_walk": {}},
            "tune": {"max_concurrent_trials": concurrent, "num_cpus": 2, "report_every": 100},
            "run_dir": str(tmp_path / "run")}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "archgym.cli", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(run: Path, proc: subprocess.Popen, done: bool = False, timeout: float = 300) -> None:
    """Until the sweep has written a trial record (``done``: a finished one)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            if any(not done or t.status == "done" for t in read_trials(run)):
                return
        except ValueError:  # a record being replaced right now
            pass
        time.sleep(0.25)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=30)
    pytest.fail(f"the sweep wrote no {'finished ' if done else ''}trial record in {timeout} s "
                f"(exit {proc.poll()}): {err[-2000:]}")


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


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_raise_keyboard_interrupt_and_say_which(sig):
    caught: list[str] = []
    before = signal.getsignal(sig)
    with pytest.raises(KeyboardInterrupt), _interruptible(caught):
        os.kill(os.getpid(), sig)
        time.sleep(5)
    assert caught == [signal.Signals(sig).name]
    assert signal.getsignal(sig) is before  # restored


def _fake_ray_init(log: list[str], signals: int) -> None:
    """What ray.init does to a driver's signals: installs a SIGTERM handler that exits (code 15); here a
    Ctrl-C (or two) also arrives in the middle of it."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(signum))
    for _ in range(signals):
        signal.raise_signal(signal.SIGINT)
    log.append("ray started")


def test_a_signal_while_ray_starts_is_delivered_once_it_has_started(capsys, request):
    """Ctrl-C inside ray.init left Ray half started and the process died in a segfault (exit 139); SIGTERM hit
    Ray's handler (exit 15). The caller's handlers stay, and the signal arrives once ray.init returns."""
    from agents._ray import _keep_signal_handlers

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whatever ran before
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    term, log, set_handler = signal.getsignal(signal.SIGTERM), [], signal.signal
    with pytest.raises(KeyboardInterrupt), _keep_signal_handlers():
        _fake_ray_init(log, signals=1)
    assert log == ["ray started"] and signal.getsignal(signal.SIGTERM) is term
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert "stopping once Ray has started (press Ctrl-C again to stop at once)" in capsys.readouterr().err
    log.clear()
    with pytest.raises(KeyboardInterrupt), _keep_signal_handlers():  # a second signal stops a hung start at once
        _fake_ray_init(log, signals=2)
    assert log == [] and signal.getsignal(signal.SIGTERM) is term
    with _keep_signal_handlers():
        _fake_ray_init(log, signals=0)
    assert log == ["ray started"] and signal.getsignal(signal.SIGTERM) is term and signal.signal is set_handler


@pytest.mark.timeout(600)
def test_an_interrupted_sweep_says_so_and_resumes_from_its_records_only(tmp_path):
    """SIGTERM mid-sweep: exit 143, an incomplete report, no process left; --resume keeps the finished
    trials, reruns the rest once, and never unpickles the (tampered) run directory."""
    spec = _spec(tmp_path, budget=2000, seeds=4, concurrent=1)
    run = tmp_path / "run"
    proc = _start("sweep", str(spec))
    _wait_for(run, proc, done=True)
    workers = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "sweep interrupted by SIGTERM" in err and "--resume" in err
    state = read_state(run)
    finished = {t.trial_id: t for t in read_trials(run) if t.finished}
    assert state.status == "interrupted" and state.signal == "SIGTERM"
    assert 1 <= len(finished) == state.trials_finished < 4, "the signal came too late to test resuming"
    report = (run / "report" / "report.md").read_text()
    assert "INCOMPLETE" in report and "interrupted by SIGTERM" in report
    deadline = time.time() + 15
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.5)
    assert not _alive(workers), "Ray processes outlived the interrupted driver"

    # a shared run directory whose pickles were replaced, and whose spec points elsewhere
    marker = tmp_path / "unpickled"
    for pkl in [*run.rglob("*.pkl"), run / "tune" / "tuner.pkl"]:
        pkl.write_bytes(pickle.dumps(_Payload(marker)))
    spec_file = run / "spec.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["run_dir"] = str(tmp_path / "elsewhere")
    spec_file.write_text(yaml.safe_dump(data))
    proc = _start("sweep", str(run), "--resume")
    out, err = proc.communicate(timeout=480)
    assert proc.returncode == 0, err
    assert not marker.exists(), "resume unpickled a file of the run directory"
    assert not (tmp_path / "elsewhere").exists(), "resume wrote outside the run directory"
    trials = {t.trial_id: t for t in read_trials(run)}
    assert read_state(run).complete and len(trials) == 4 and all(t.finished for t in trials.values())
    for trial_id, before in finished.items():
        assert trials[trial_id].wall_time == before.wall_time, f"{trial_id} ran again"
    rows = read_dataset(run / "trajectories")
    assert rows.groupby("run_id").size().to_dict() == {t: 2000 for t in trials}  # no trial logged twice
    assert "INCOMPLETE" not in (run / "report" / "report.md").read_text()


@pytest.mark.timeout(300)
def test_no_trial_outlives_a_killed_driver(tmp_path):
    spec = _spec(tmp_path, budget=200_000)
    proc = _start("sweep", str(spec))
    _wait_for(tmp_path / "run", proc)
    processes = _descendants(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.time() + 20
    while _alive(processes) and time.time() < deadline:
        time.sleep(0.5)
    assert not _alive(processes), f"{len(_alive(processes))} process(es) outlived the killed driver"
    assert read_state(tmp_path / "run").status == "running"  # nothing could say otherwise
