"""One search whose evaluations run as Ray Tune trials, so a slow simulator's designs spread over a cluster.

``explore_on_ray(env_id, agent, budget)`` is ``archgym.explore`` with the simulator calls moved into
Ray Tune trials: ``agents.tune_bridge.AgentSearcher`` hands the agent's designs out one per trial,
each trial builds the env (once per worker process) and evaluates its design, and the results come
back to the agent batch by batch. The result is the same ``ExploreResult`` (the loop that counts and
records evaluations is ``explore``'s own): exactly ``budget`` evaluations (``num_samples=budget``, and
the searcher asks no more), recorded in the order the agent asked for them, so a seeded search gives
the same history however the trials finish.

Ray runs embedded (``ray.init(address="local")``: a fresh one-machine cluster, never a stale one)
unless ``address`` joins a running cluster; a Ray already running in this process is used as it is,
and the one started here stays up for later calls (``ray.shutdown()`` frees it). Trials run in
their own directories, on any node: every node needs archgym installed, and file paths in
``env_kwargs`` must be absolute.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents import Agent, get, refuse_unused_hyperparameters
from agents._ray import quiet_ray_logs, start_ray
from archgym.explore import ExploreResult, TrajectorySink, explore, step_design
from simulators.core import Evaluation
from simulators.params import check_int, check_number

__all__ = ["explore_on_ray"]

#: env copies made by trials in this worker process, by env id and keywords
_ENV_CACHE: dict[tuple[str, str], gym.Env] = {}


def explore_on_ray(
    env_id: str,
    agent: Agent | str,
    budget: int,
    *,
    seed: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_trial: float = 1.0,
    max_concurrent: int | None = None,
    batch_size: int | None = None,
    storage_path: str | os.PathLike[str] | None = None,
    log: TrajectorySink | str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> ExploreResult:
    """Search ``env_id`` with ``agent`` for exactly ``budget`` evaluations, each a Ray Tune trial.

    ``agent`` is an ask/tell ``Agent`` (built for this env's space) or a registered name (built with
    ``seed`` and ``hyperparameters``). ``address`` joins a running cluster; otherwise Ray starts
    embedded with ``num_cpus`` (default: all). Each trial asks for ``cpus_per_trial``; at most
    ``max_concurrent`` run at once (default: as many as the cluster's CPUs allow). The agent is asked
    for ``batch_size`` designs at a time (default: its own batch size, raised to the concurrency so
    every worker has a design); a batch is told when all its trials are done. ``storage_path``
    keeps Tune's experiment directory (made absolute); by default a temporary one is removed after.
    ``log`` and ``progress`` are ``explore``'s.
    """
    import archgym  # noqa: F401  (registers the env ids)

    if not isinstance(env_id, str):
        raise ValueError(f"env_id must be a registered env id string, got {type(env_id).__name__}")
    budget = check_int(budget, "budget", low=1)
    cpus_per_trial = check_number(cpus_per_trial, "cpus_per_trial", low=0, low_open=True)
    max_concurrent = check_int(max_concurrent, "max_concurrent", low=1, allow_none=True)
    batch_size = check_int(batch_size, "batch_size", low=1, allow_none=True)
    num_cpus = check_int(num_cpus, "num_cpus", low=1, allow_none=True)
    env_kwargs = dict(env_kwargs or {})
    if isinstance(agent, str):
        cls = get(agent)
        refuse_unused_hyperparameters(agent, cls.hyperparameters, hyperparameters or {})
        agent = cls(gym.make(env_id, **env_kwargs).unwrapped.space, seed=seed, **dict(hyperparameters or {}))
    elif hyperparameters:
        raise ValueError("hyperparameters only apply when agent is given by name")
    if not isinstance(agent, Agent):
        raise ValueError(f"agent must be an agents.Agent or a registered name, got {type(agent).__name__}")
    if getattr(agent, "drives_env", False):
        raise ValueError(f"agent {agent.name!r} trains on the environment itself; explore_on_ray needs an "
                         "ask/tell agent (run it with archgym.explore)")

    start_ray(address, num_cpus)
    concurrency = max_concurrent or _cluster_slots(cpus_per_trial)
    own_storage = storage_path is None
    storage = Path(tempfile.mkdtemp(prefix="archgym-tune-")) if own_storage \
        else Path(storage_path).expanduser().resolve()
    dispatcher = _TrialDispatch(agent, env_id, env_kwargs, batch_size=batch_size or max(agent.batch_size, concurrency),
                                cpus_per_trial=float(cpus_per_trial), max_concurrent=max_concurrent,
                                storage=storage)
    env = gym.make(env_id, **env_kwargs)  # the driver's copy (space, workload, objective for explore); never stepped
    try:
        return explore(env, dispatcher, budget, seed, log=log, progress=progress)
    finally:
        env.close()
        if own_storage:
            shutil.rmtree(storage, ignore_errors=True)


class _TrialDispatch(Agent):
    """Runs the wrapped agent's search as Ray Tune trials, inside ``explore`` (which counts and records)."""

    drives_env = True

    def __init__(self, agent: Agent, env_id: str, env_kwargs: dict[str, Any], *, batch_size: int,
                 cpus_per_trial: float, max_concurrent: int | None, storage: Path) -> None:
        super().__init__(agent.space, seed=agent.seed)
        self.name = agent.name  # explore's result names the searching agent and its hyperparameters
        self.config = dict(agent.config)
        self.agent = agent
        self.env_id, self.env_kwargs = env_id, env_kwargs
        self.batch = batch_size
        self.cpus_per_trial, self.max_concurrent, self.storage = cpus_per_trial, max_concurrent, storage

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        raise RuntimeError("explore_on_ray dispatches its agent's designs to Ray Tune trials")

    def tell(self, designs, rewards, evaluations) -> None:
        raise RuntimeError("explore_on_ray dispatches its agent's designs to Ray Tune trials")

    def run(self, env: gym.Env, budget: int, record) -> None:
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no boxed tables on stdout
        from ray import tune

        from agents.tune_bridge import AgentSearcher

        def on_batch(designs: list[dict[str, Any]], rewards: list[float], evaluations: list[Evaluation]) -> None:
            for design, reward, evaluation in zip(designs, rewards, evaluations):
                record(design, evaluation, reward)

        searcher = AgentSearcher(self.agent, metric="reward", mode="max", batch_size=self.batch, budget=budget,
                                 on_batch=on_batch)
        trainable = tune.with_resources(
            tune.with_parameters(_evaluate_design, env_id=self.env_id, env_kwargs=self.env_kwargs),
            {"cpu": self.cpus_per_trial})
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(search_alg=searcher, num_samples=budget,
                                        max_concurrent_trials=self.max_concurrent, reuse_actors=True),
            run_config=tune.RunConfig(name=f"{self.agent.name}-{uuid.uuid4().hex[:8]}", storage_path=str(self.storage),
                                      verbose=0),
        )
        with quiet_ray_logs():
            results = tuner.fit()
        if results.errors:
            raise RuntimeError(f"{len(results.errors)} of {budget} evaluation trials failed; "
                               f"the first: {results.errors[0]!r}")


def _evaluate_design(config: Mapping[str, Any], env_id: str, env_kwargs: Mapping[str, Any]) -> None:
    """One trial: evaluate the design in ``config`` and report its reward and evaluation."""
    from ray import tune

    import archgym  # noqa: F401  (registers the env ids in this worker process)

    key = (env_id, repr(sorted(env_kwargs.items())))
    if key not in _ENV_CACHE:
        _ENV_CACHE[key] = gym.make(env_id, **dict(env_kwargs))
    env = _ENV_CACHE[key]
    denv = env.unwrapped
    design = {name: config[name] for name in denv.space.names}
    env.reset()
    reward, _, _, info = step_design(env, denv, design, "the searcher")
    tune.report({"reward": float(reward), "feasible": bool(info["feasible"]), "reason": info["reason"] or "",
                 "metrics": {k: float(v) for k, v in info["metrics"].items()}})


def _cluster_slots(cpus_per_trial: float) -> int:
    """How many trials of ``cpus_per_trial`` the cluster's CPUs hold at once (at least 1)."""
    import ray

    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    if cpus_per_trial > cpus:
        raise ValueError(f"cpus_per_trial={cpus_per_trial} is more than the cluster's {cpus:g} CPUs: "
                         "such a trial would wait forever")
    return max(1, int(cpus // cpus_per_trial))
