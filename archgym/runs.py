"""A sweep's run directory and the records in it, below both the runner (``tune``) and the report.

Run directory (absolute; named by the spec)::

    spec.yaml          the validated spec (what --resume and the report read)
    state.json         the sweep's state: running, complete or interrupted (``RunState``)
    tune*/             Ray Tune's experiment state (never read back: resuming rebuilds from the records)
    trials/<id>.json   one ``TrialRecord`` per trial, rewritten at every report (best so far, history)
    trajectories/      every evaluation of every trial (``archgym.dataset``)
    results.csv        one row per trial
    optimum.json       the exact optimum, when the spec asks for it (``archgym.optimum``)
    report/            tables and figures (``archgym.report``)

Every record is written atomically (``archgym.io.write_json``) and read back as a dataclass.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from archgym.io import checked_record, lock_held, read_json, write_json, write_text
from simulators.params import is_integer, is_number
from simulators.yamldata import dump_yaml, load_yaml, read_text

if TYPE_CHECKING:
    from archgym.config import SweepSpec
    from archgym.optimum import Optimum

__all__ = ["OPTIMUM_FILE", "SPEC_FILE", "RunState", "SweepOutcome", "TrialRecord", "load_run_spec", "read_optimum",
           "read_state", "read_trials", "write_results", "write_spec", "write_state", "write_trial"]

SPEC_FILE = "spec.yaml"
STATE_FILE = "state.json"
TRIALS_DIR = "trials"
OPTIMUM_FILE = "optimum.json"
#: held (``archgym.io.exclusive_lock``) by the one sweep driver that writes a run directory
DRIVER_LOCK = ".driver.lock"
RESULTS_FILE = "results.csv"
TRAJECTORIES_DIR = "trajectories"
#: a trial record's status (see ``TrialRecord.status``)
TRIAL_STATUSES = ("running", "done", "stopped", "error")


@dataclass
class TrialRecord:
    """One trial of a sweep: which agent, setting and seed, and what it found so far."""

    trial_id: str
    agent: str
    setting: int
    hyperparameters: dict[str, Any]
    seed: int
    status: str  # "running" while it reports, "done" once it used its budget, "stopped" (by the
    # scheduler) or "error" once a sweep that ran to its end left it unfinished
    budget: int
    evaluations: int
    best_reward: float
    best_design: dict[str, Any] = field(default_factory=dict)
    best_metrics: dict[str, float] = field(default_factory=dict)
    target_met_at: int | None = None
    history: list[float] = field(default_factory=list)
    wall_time: float = 0.0

    @property
    def finished(self) -> bool:
        """Whether the trial used its whole budget."""
        return self.evaluations >= self.budget

    @property
    def outcome(self) -> str:
        """``done``; ``stopped early`` (by the scheduler); ``error``; or ``unfinished`` for a trial an
        interrupted sweep left running (``--resume`` runs it again)."""
        if self.finished:
            return "done"
        return {"stopped": "stopped early", "running": "unfinished"}.get(self.status, self.status)

    @property
    def needs_run(self) -> bool:
        """Whether resuming the sweep must run this trial (again): neither finished nor stopped by the
        scheduler."""
        return not self.finished and self.status != "stopped"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> TrialRecord:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: a trial record is a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        missing = [k for k in ("trial_id", "agent", "setting", "hyperparameters", "seed", "status", "budget",
                               "evaluations", "best_reward") if k not in data]
        if missing:
            raise ValueError(f"{where}: not a trial record (missing {missing})")
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {unknown} in a trial record")
        return checked_record(cls(**data), where)

    def _problem(self) -> str | None:
        """What makes the record's values impossible (a hand-edited or broken file), or ``None``."""
        def number(x: Any) -> bool:
            return is_number(x) and not math.isnan(x)

        for name in ("trial_id", "agent"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                return f"{name} must be a non-empty string, got {getattr(self, name)!r}"
        for name, low in (("setting", 0), ("seed", 0), ("budget", 1), ("evaluations", 0)):
            if not is_integer(getattr(self, name)) or getattr(self, name) < low:
                return f"{name} must be an integer >= {low}, got {getattr(self, name)!r}"
        if self.status not in TRIAL_STATUSES:
            return f"status must be one of {list(TRIAL_STATUSES)}, got {self.status!r}"
        if not number(self.best_reward) or (self.evaluations and not math.isfinite(self.best_reward)):
            return f"best_reward must be a number (finite once a design was evaluated), got {self.best_reward!r}"
        if not isinstance(self.history, list) or not all(number(x) for x in self.history):
            return "history must be a list of numbers (the best reward after each evaluation)"
        if len(self.history) != self.evaluations:
            return f"history has {len(self.history)} entries for {self.evaluations} evaluations"
        if any(b < a for a, b in zip(self.history, self.history[1:])):
            return "history must not decrease (it is the best reward after each evaluation)"
        if self.history and self.history[-1] != self.best_reward:
            return f"best_reward {self.best_reward!r} is not the history's last best reward {self.history[-1]!r}"
        if self.target_met_at is not None and not (is_integer(self.target_met_at)
                                                    and 1 <= self.target_met_at <= self.evaluations):
            return f"target_met_at must be an evaluation number in 1..{self.evaluations}, got {self.target_met_at!r}"
        for name in ("hyperparameters", "best_design", "best_metrics"):
            if not isinstance(getattr(self, name), Mapping):
                return f"{name} must be a JSON object, got {type(getattr(self, name)).__name__}"
        if not all(is_number(v) or v is None for v in self.best_metrics.values()):  # (None: NaN in JSON)
            return "best_metrics must map metric names to numbers"
        if not (number(self.wall_time) and 0 <= self.wall_time < math.inf):
            return f"wall_time must be a number of seconds >= 0, got {self.wall_time!r}"
        return None


def trial_path(run_dir: str | os.PathLike[str], trial_id: str) -> Path:
    return Path(run_dir) / TRIALS_DIR / f"{trial_id}.json"


def write_trial(run_dir: str | os.PathLike[str], record: TrialRecord) -> Path:
    """Write (or rewrite) a trial's record atomically."""
    path = trial_path(run_dir, record.trial_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record.to_dict(), indent=None)
    return path


def read_trial(path: str | os.PathLike[str]) -> TrialRecord:
    return TrialRecord.from_dict(read_json(path, "trial record"), str(path))


def read_trials(run_dir: str | os.PathLike[str]) -> list[TrialRecord]:
    """Every trial record of a run directory, sorted by trial id."""
    folder = Path(run_dir) / TRIALS_DIR
    records = []
    for path in sorted(folder.glob("*.json")):
        record = read_trial(path)
        if path.stem != record.trial_id:  # a copied or renamed record would count its trial twice
            raise ValueError(f"{path}: it records trial {record.trial_id!r}, but a trial's record is "
                             f"{TRIALS_DIR}/TRIAL_ID.json; move or remove the file")
        records.append(record)
    return records


def write_results(run_dir: str | os.PathLike[str], trials: Sequence[TrialRecord]) -> Path:
    """``results.csv``: one row per trial (hyperparameters, best design and metrics as JSON columns)."""
    path = Path(run_dir) / RESULTS_FILE
    metric_names = sorted({m for t in trials for m in t.best_metrics})
    fields_ = ["trial_id", "agent", "setting", "seed", "status", "evaluations", "budget", "best_reward",
               "target_met_at", "wall_time", "hyperparameters", "best_design"] + [f"best_{m}" for m in metric_names]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields_, lineterminator="\n")
        w.writeheader()
        for t in trials:
            row = {k: getattr(t, k) for k in fields_[:10]}
            row["status"] = t.outcome
            row["hyperparameters"] = json.dumps(t.hyperparameters, sort_keys=True)
            row["best_design"] = json.dumps(t.best_design)
            for m in metric_names:
                row[f"best_{m}"] = t.best_metrics.get(m)
            w.writerow(row)
    return path


def write_spec(run_dir: str | os.PathLike[str], spec: SweepSpec, *, exclusive: bool = False) -> Path:
    """Write the run's ``spec.yaml`` (atomically); ``exclusive=True`` claims a new run directory: a
    ``ValueError`` when it already holds a spec."""
    path = Path(run_dir) / SPEC_FILE
    if not write_text(path, dump_yaml(spec.to_dict(), sort_keys=False), exclusive=exclusive):
        raise ValueError(f"run directory {run_dir} already holds a sweep: resume it with --resume, or choose another "
                         "run_dir")
    return path


def load_run_spec(run_dir: str | os.PathLike[str]) -> SweepSpec:
    """The validated spec a run directory was made from (``ValueError`` when there is none)."""
    from archgym.config import SpecError, parse_sweep

    path = Path(run_dir) / SPEC_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} holds no sweep (no {SPEC_FILE})")
    try:
        data = load_yaml(read_text(path, "the run's spec"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML ({exc})") from None
    return parse_sweep(data, source=str(path), own_imports=False)  # a shared run directory vouches for no code


def read_optimum(run_dir: str | os.PathLike[str]) -> Optimum | None:
    """The run's exact optimum, if it was computed."""
    from archgym.optimum import load_optimum

    path = Path(run_dir) / OPTIMUM_FILE
    return load_optimum(path) if path.is_file() else None


def driver_running(run_dir: str | os.PathLike[str]) -> bool:
    """Whether a sweep driver is writing the run directory now (it holds ``DRIVER_LOCK``: ``lock_held``)."""
    return lock_held(Path(run_dir) / DRIVER_LOCK)


#: where a sweep stands (``RunState.status``)
RUN_STATUSES = ("running", "complete", "interrupted")


@dataclass
class RunState:
    """Where a sweep stands: ``running`` (or killed without a chance to say so), ``complete``, or
    ``interrupted`` by a signal; with how many of its trials have finished."""

    status: str
    trials_total: int
    trials_finished: int = 0
    signal: str | None = None
    started: float = 0.0
    ended: float | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RunState:
        known = {f.name for f in fields(cls)}
        if not isinstance(data, Mapping) or "status" not in data or "trials_total" not in data or set(data) - known:
            raise ValueError(f"{where}: not a sweep state record (fields {sorted(known)})")
        return checked_record(cls(**data), where, " (a broken or edited file: `archgym sweep RUN_DIR --resume` "
                                                  "writes it again)")

    def _problem(self) -> str | None:
        """What makes the values impossible (a hand-edited or broken file), or ``None``."""
        if self.status not in RUN_STATUSES:
            return f"status must be one of {list(RUN_STATUSES)}, got {self.status!r}"
        if not is_integer(self.trials_total) or self.trials_total < 1:
            return f"trials_total must be an integer >= 1, got {self.trials_total!r}"
        if not is_integer(self.trials_finished) or not 0 <= self.trials_finished <= self.trials_total:
            return f"trials_finished must be an integer in [0, {self.trials_total}], got {self.trials_finished!r}"
        if self.signal is not None and self.signal not in ("SIGINT", "SIGTERM"):
            return f"signal must be SIGINT, SIGTERM or null, got {self.signal!r}"
        return None


def write_state(run_dir: str | os.PathLike[str], state: RunState) -> None:
    write_json(Path(run_dir) / STATE_FILE, asdict(state), indent=None)


def read_state(run_dir: str | os.PathLike[str]) -> RunState | None:
    path = Path(run_dir) / STATE_FILE
    return RunState.from_dict(read_json(path, "sweep state"), str(path)) if path.is_file() else None


@dataclass
class SweepOutcome:
    """What a sweep produced: its run directory, every trial record, and the trials that failed."""

    run_dir: Path
    trials: list[TrialRecord]
    errors: dict[str, str] = field(default_factory=dict)
    interrupted: str | None = None  # the signal's name (SIGINT, SIGTERM) when the sweep was interrupted
    trials_total: int = 0
    optimum_interrupted: bool = False  # the signal came while the optimum was computed, after every trial

    @property
    def finished(self) -> int:
        return sum(t.finished for t in self.trials)

    @property
    def best_reward(self) -> float:
        return max((t.best_reward for t in self.trials), default=-math.inf)
