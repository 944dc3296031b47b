"""Ray Tune sweeps: a ``SweepSpec`` becomes a ``ray.tune.Tuner`` whose trials each run ``explore``.

The run directory's layout and records are ``archgym.runs``'s. Ray runs embedded
(``ray.init(address="local")``: a fresh one-machine cluster, never a stale one) unless ``address``
joins an existing cluster. Every trial reports its best-so-far reward every ``report_every``
evaluations, so an ASHA scheduler can stop poor trials early. An interrupted sweep resumes with
``resume=True``: finished trials are kept, unfinished ones start again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agents import get as get_agent
from agents._ray import quiet_ray_logs, start_ray
from archgym.config import SweepSpec, TrialSpec, check_trial_agents, parse_sweep
from archgym.io import exclusive_lock
from archgym.runs import (
    DRIVER_LOCK,
    SPEC_FILE,
    TRAJECTORIES_DIR,
    RunState,
    SweepOutcome,
    TrialRecord,
    load_run_spec,
    read_trial,
    read_trials,
    trial_path,
    write_results,
    write_spec,
    write_state,
    write_trial,
)

__all__ = ["SweepOutcome", "resume_sweep", "run_sweep", "start_ray"]


def run_trial(config: Mapping[str, Any]) -> None:
    """The Tune trainable: one ``explore`` run, reporting as it goes (runs inside a Ray worker)."""
    import gymnasium as gym
    from ray import tune

    import archgym
    from archgym.dataset import RunInfo, TrajectoryWriter

    spec = parse_sweep(config["spec"], source=SPEC_FILE)
    trial = TrialSpec(**config["trial"])
    run_dir = spec.run_dir
    every = spec.report_every
    path = trial_path(run_dir, trial.trial_id)
    if path.is_file():  # finished before an interruption that Tune did not record: keep it
        previous = read_trial(path)
        if previous.status == "done" and previous.evaluations == spec.budget:
            tune.report(_metrics(previous.evaluations, previous.best_reward, previous.target_met_at,
                                 previous.best_metrics))
            return
    env = gym.make(spec.env_id, **spec.env_kwargs)
    denv = env.unwrapped
    # built here rather than by name: a grid may fix a hyperparameter that acts in only some of its settings
    agent = get_agent(trial.agent)(denv.space, seed=trial.seed, **trial.hyperparameters)
    data_dir = run_dir / TRAJECTORIES_DIR
    run = RunInfo.from_env(denv, spec.env_id, run_id=trial.trial_id, agent=trial.agent,
                           hyperparameters=trial.hyperparameters, seed=trial.seed)
    # a restarted trial starts its log afresh; the log is compacted into one file when the trial ends
    writer = TrajectoryWriter(data_dir, space=denv.space, metrics=denv.simulator.metrics, run=run,
                              existing="replace")
    started = time.time()

    def record(result, status: str) -> TrialRecord:
        return TrialRecord(**trial.to_dict(), status=status, budget=spec.budget, evaluations=result.evaluations,
                           best_reward=result.best_reward, best_design=result.best_design,
                           best_metrics=result.best_metrics, target_met_at=result.target_met_at,
                           history=[float(x) for x in result.history], wall_time=time.time() - started)

    def report(step, result) -> None:
        if step.step % every and step.step != spec.budget:
            return
        writer.flush()  # what has been reported is on disk, even if the scheduler stops the trial here
        write_trial(run_dir, record(result, "done" if step.step == spec.budget else "running"))
        tune.report(_metrics(result.evaluations, result.best_reward, result.target_met_at, result.best_metrics))

    try:
        archgym.explore(env, agent, budget=spec.budget, seed=trial.seed, log=writer, callback=report,
                        keep_records=False, progress=False)
    finally:
        writer.close()


def _metrics(evaluations: int, best_reward: float, target_met_at: int | None,
             best_metrics: Mapping[str, float]) -> dict[str, Any]:
    """What a trial reports to Tune (the scheduler reads ``evaluations`` and ``best_reward``)."""
    out = {"evaluations": evaluations, "best_reward": best_reward, "target_met": target_met_at is not None}
    out.update({f"best_{k}": v for k, v in best_metrics.items() if isinstance(v, float) and math.isfinite(v)})
    return out


def _progress_callback(total: int, done: int = 0):
    """A Tune callback showing ``sweep: done/total trials ... best reward R`` (archgym.progress: a bar on a
    terminal, a plain line every ~10 s elsewhere)."""
    from ray import tune

    from archgym.progress import Progress

    class SweepProgress(tune.Callback):
        def __init__(self) -> None:
            self.done, self.best = done, -math.inf
            self.bar: Progress | None = None

        def __getstate__(self) -> dict[str, Any]:  # the bar holds a stream: never pickle it
            return {"done": done, "best": -math.inf, "bar": None}

        def _draw(self) -> None:
            self.bar = self.bar or Progress(total, "sweep", initial=done)  # a resumed sweep's rate: this run's
            note = f"trials done, best reward {self.best:.4f}" if self.best > -math.inf else "trials done"
            self.bar.update(self.done, note, force=True)

        def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
            self.best = max(self.best, result.get("best_reward", -math.inf))
            self._draw()

        def on_trial_complete(self, iteration, trials, trial, **info) -> None:
            self.done += 1
            self._draw()

        def on_trial_error(self, iteration, trials, trial, **info) -> None:
            self.done += 1
            self._draw()

        def on_experiment_end(self, trials, **info) -> None:
            if self.bar is not None:
                self.bar.close()

    return SweepProgress()


def _tuner(spec: SweepSpec, trials: list[TrialSpec], name: str, done: int):
    from ray import tune

    trainable = tune.with_resources(run_trial, {"cpu": spec.tune.cpus_per_trial})
    scheduler = None
    if spec.tune.scheduler:
        s = spec.tune.scheduler
        scheduler = tune.schedulers.ASHAScheduler(
            time_attr="evaluations", metric="best_reward", mode="max", max_t=spec.budget,
            grace_period=s.get("grace_period", max(1, spec.budget // 10)),
            reduction_factor=s.get("reduction_factor", 2))
    return tune.Tuner(
        trainable,
        param_space={"spec": spec.to_dict(),
                     "trial": tune.grid_search([t.to_dict() for t in trials])},
        tune_config=tune.TuneConfig(max_concurrent_trials=spec.tune.max_concurrent_trials, scheduler=scheduler,
                                    reuse_actors=True,  # one worker process runs many trials: no start-up each
                                    trial_dirname_creator=lambda t: t.config["trial"]["trial_id"]),
        run_config=tune.RunConfig(storage_path=str(spec.run_dir), name=name, verbose=0,
                                  callbacks=[_progress_callback(done + len(trials), done)],
                                  failure_config=tune.FailureConfig(max_failures=spec.tune.max_failures)),
    )


def _start_ray_for(spec: SweepSpec, address: str | None) -> None:
    """Start (or join) Ray for ``spec``'s trials, refusing a cluster too small for one of them."""
    start_ray(address, None if address else spec.tune.num_cpus)
    _check_resources(spec)


def _check_resources(spec: SweepSpec) -> None:
    import ray

    cpus = ray.cluster_resources().get("CPU", 0)
    if spec.tune.cpus_per_trial > cpus:
        raise ValueError(f"{spec.source}: tune.cpus_per_trial is {spec.tune.cpus_per_trial} but the Ray cluster has "
                         f"{cpus:g} CPUs: the trials would wait forever")
    crowded = _oversubscription(spec.tune, os.cpu_count() or 1)
    if crowded:
        warnings.warn(f"archgym: {spec.source}: {crowded}", RuntimeWarning, stacklevel=2)


def _oversubscription(tune: Any, cpus: int) -> str | None:
    """Why the embedded Ray's ``tune.num_cpus`` crowds a machine of ``cpus`` CPUs, or ``None``."""
    at_once = int(tune.num_cpus // tune.cpus_per_trial) if tune.num_cpus is not None else 0
    at_once = min(at_once, tune.max_concurrent_trials or at_once)
    if at_once * tune.cpus_per_trial <= cpus:
        return None
    return (f"tune.num_cpus is {tune.num_cpus} but this machine has {cpus} CPUs: Ray runs up to {at_once} trials at "
            "once on them, so each runs slower and its wall_time is not comparable with a sweep that fits the machine")


def run_sweep(spec: SweepSpec, *, address: str | None = None, progress: bool | None = None) -> SweepOutcome:
    """Run every trial of ``spec``, then (``optimum: true``) find the task's optimum, and write the results
    table (the report is ``archgym.report``); ``progress`` is the optimum's progress line.

    SIGINT or SIGTERM stops the sweep: Ray is shut down (no trial outlives the driver), the run's state
    says ``interrupted`` and the outcome's ``interrupted`` names the signal; a signal during the optimum
    leaves the state ``complete`` (every trial ran) and sets ``optimum_interrupted``. ``resume_sweep`` goes
    on. The run directory is locked throughout.
    """
    run_dir = spec.run_dir
    if (run_dir / SPEC_FILE).exists():
        raise ValueError(f"run directory {run_dir} already holds a sweep: resume it with --resume, "
                         "or choose another run_dir")
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"run_dir {run_dir} is a file, not a directory")
    others = sorted(p.name for p in run_dir.iterdir() if p.name != DRIVER_LOCK) if run_dir.is_dir() else []
    if others:  # a dataset, a home directory: the sweep would write its files among them
        raise ValueError(f"run_dir {run_dir} is not a sweep's run directory but holds other files ("
                         f"{', '.join(others[:5])}{', ...' if len(others) > 5 else ''}): give a new or empty directory")
    check_trial_agents(spec)  # before the run directory exists: a refused setting leaves nothing behind
    new = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with exclusive_lock(run_dir / DRIVER_LOCK, f"run directory {run_dir}"):
            write_spec(run_dir, spec, exclusive=True)  # claims it: a second sweep given this run_dir is refused
            try:
                _start_ray_for(spec, address)
            except BaseException:  # a cluster that cannot be joined (or is too small) leaves nothing behind either
                (run_dir / SPEC_FILE).unlink()
                raise
            return _with_optimum(_run(spec, spec.trials(), "tune"), progress)
    except BaseException:
        for p in new:  # the folders this call made, innermost first, unless something is in them
            with contextlib.suppress(OSError):
                p.rmdir()
        raise


def resume_sweep(run_dir: str | os.PathLike[str], *, address: str | None = None,
                 progress: bool | None = None) -> SweepOutcome:
    """Continue an interrupted sweep from archgym's own records: finished trials (and those the scheduler
    stopped) stay, unfinished and errored ones run again.

    Nothing is unpickled: the sweep is rebuilt from ``spec.yaml`` and ``trials/*.json`` (Ray Tune's own
    restore would unpickle ``tuner.pkl``, running whatever a shared run directory holds). Everything is
    written inside ``run_dir``, whatever ``run_dir`` its spec names.
    """
    run_dir = Path(run_dir).resolve()
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a sweep's run directory")
    spec = load_run_spec(run_dir)
    if spec.run_dir != run_dir:  # a copied or moved run directory: write here, never where the spec points
        spec = dataclasses.replace(spec, run_dir=run_dir)
    with exclusive_lock(run_dir / DRIVER_LOCK, f"run directory {run_dir}"):  # one driver at a time
        records = {t.trial_id: t for t in read_trials(run_dir)}
        todo = [t for t in spec.trials() if t.trial_id not in records or records[t.trial_id].needs_run]
        resumed = len(list(run_dir.glob("tune-resume-*")))
        if todo:  # a cluster too small for a trial is refused before the state says the sweep runs again
            _start_ray_for(spec, address)
        return _with_optimum(_run(spec, todo, f"tune-resume-{resumed + 1}"), progress)


def _with_optimum(outcome: SweepOutcome, progress: bool | None) -> SweepOutcome:
    """After the trials, still holding the run directory: the optimum the spec asks for
    (``ensure_run_optimum``), unless the sweep was interrupted; a signal during it is an interruption too."""
    from archgym.optimum import ensure_run_optimum

    if outcome.interrupted is not None:
        return outcome
    caught: list[str] = []
    try:
        with _interruptible(caught):
            ensure_run_optimum(outcome.run_dir, progress=progress)
    except KeyboardInterrupt:
        outcome.interrupted, outcome.optimum_interrupted = (caught or ["SIGINT"])[0], True
    return outcome


@contextlib.contextmanager
def _interruptible(caught: list[str]) -> Iterator[None]:
    """SIGINT and SIGTERM interrupt the driver as ``KeyboardInterrupt`` (the one exception Ray lets
    through its blocking calls), their name appended to ``caught``. Ray Tune's own SIGINT handler is
    turned off: it ends the run quietly, so an interrupted sweep looked complete."""
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"

    def handler(signum: int, frame: Any) -> None:
        caught.append(signal.Signals(signum).name)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _run(spec: SweepSpec, trials: list[TrialSpec], name: str) -> SweepOutcome:
    """The trials on the Ray the caller started (``_start_ray_for``), with the run's state kept."""
    total = len(spec.trials())
    finished_before = total - len(trials)
    state = RunState("running", total, finished_before, started=time.time())
    write_state(spec.run_dir, state)
    errors: dict[str, str] = {}
    interrupted = None
    caught: list[str] = []
    try:
        with _interruptible(caught):  # (start_ray keeps these handlers over Ray's own)
            if trials:
                tuner = _tuner(spec, trials, name, finished_before)
                with quiet_ray_logs():
                    results = tuner.fit()
                for result in results:
                    if result.error is not None:
                        errors[_trial_id(result)] = (str(result.error).strip().splitlines() or ["failed"])[-1][:500]
    except KeyboardInterrupt:
        interrupted = caught[0] if caught else "SIGINT"
        _stop_ray()
    records = read_trials(spec.run_dir)
    if interrupted is None:  # the run ended: an unfinished trial was stopped by the scheduler, or failed
        for record in records:
            if not record.finished and record.status == "running":
                record.status = "error" if record.trial_id in errors else "stopped"
                write_trial(spec.run_dir, record)
    write_results(spec.run_dir, records)
    finished = sum(t.finished for t in records)
    write_state(spec.run_dir, dataclasses.replace(state, status="interrupted" if interrupted else "complete",
                                                 trials_finished=finished, signal=interrupted, ended=time.time()))
    return SweepOutcome(run_dir=spec.run_dir, trials=records, errors=errors, interrupted=interrupted,
                        trials_total=total)


def _trial_id(result: Any) -> str:
    """The trial a Tune result belongs to: from its config, or (a trial Ray killed before it reported,
    e.g. out of memory, has none) from its directory, which is named by the trial id."""
    config = getattr(result, "config", None) or {}
    trial = config.get("trial") if isinstance(config, Mapping) else None
    if isinstance(trial, Mapping) and "trial_id" in trial:
        return str(trial["trial_id"])
    return Path(str(getattr(result, "path", "") or "unknown")).name


def _stop_ray() -> None:
    """Shut Ray down so no trial process outlives an interrupted driver (nothing to do when the signal
    came before Ray was imported, or while it was)."""
    ray = sys.modules.get("ray")
    with contextlib.suppress(Exception):
        if ray is not None and ray.is_initialized():
            ray.shutdown()
