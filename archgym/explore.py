"""The one search loop: an agent, an environment and an exact budget of simulator evaluations.

``explore(env, agent, budget, seed)`` asks the agent for designs (at most what the budget has left),
evaluates each with one ``env.step``, tells the agent the rewards, and records every evaluation. RL
agents that train on the environment themselves (``agent.drives_env``) run their own loop and report
each evaluation back through the same recorder, so every agent is counted the same way.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from agents import Agent, get, refuse_unused_hyperparameters
from archgym.envs import DesignEnv
from archgym.objective import TargetObjective
from archgym.progress import Progress
from simulators.core import Evaluation, Metric
from simulators.params import MAX_SEED, check_int

__all__ = ["EvaluationRecord", "ExploreResult", "TrajectorySink", "check_budget", "check_memory", "explore"]


@dataclass(frozen=True)
class EvaluationRecord:
    """One simulator evaluation as the loop saw it (``step`` counts from 1)."""

    step: int
    design: dict[str, Any]
    metrics: dict[str, float]
    feasible: bool
    reason: str | None
    reward: float
    wall_time: float


@dataclass
class ExploreResult:
    """What a search found, and how it got there."""

    env_id: str
    workload: str
    agent: str
    hyperparameters: dict[str, Any]
    seed: int | None
    budget: int
    evaluations: int
    best_reward: float
    best_design: dict[str, Any]
    best_metrics: dict[str, float]
    history: np.ndarray  # best-so-far reward after each evaluation
    rewards: np.ndarray  # the reward of each evaluation
    wall_time: float
    target_met_at: int | None = None  # first evaluation meeting every target (target objectives only)
    records: list[EvaluationRecord] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """A JSON-able digest (no per-evaluation arrays)."""
        return {
            "env_id": self.env_id, "workload": self.workload, "agent": self.agent,
            "hyperparameters": self.hyperparameters, "seed": self.seed, "budget": self.budget,
            "evaluations": self.evaluations, "best_reward": self.best_reward, "best_design": self.best_design,
            "best_metrics": self.best_metrics, "target_met_at": self.target_met_at,
            "wall_time": self.wall_time,
        }


class TrajectorySink(Protocol):
    """Where every evaluation goes (``archgym.dataset.TrajectoryWriter`` is one)."""

    def append(self, *, step: int, design: dict[str, Any], evaluation: Evaluation, reward: float,
               wall_time: float) -> None: ...


Recorder = Callable[[Mapping[str, Any], Evaluation, float], None]


def explorable(env: gym.Env) -> DesignEnv:
    """The ``DesignEnv`` under ``env``, or ``ValueError`` when agents cannot explore it (not an archgym env, or
    not one design per step)."""
    base = env.unwrapped
    if not isinstance(base, DesignEnv):
        raise ValueError("explore needs an archgym DesignEnv (from gym.make('archgym/...')), "
                         f"got {type(base).__name__}")
    if base.episode != "one-step":  # budgets, histories and datasets count one design per env.step
        raise ValueError(f"explore runs agents on one-step episodes (one design per step); this env was made "
                         f"with episode={base.episode!r}, which is for RL clients: make it without that keyword")
    return base


def explore(
    env: gym.Env | str,
    agent: Agent | str,
    budget: int,
    seed: int | None = None,
    *,
    hyperparameters: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    log: TrajectorySink | str | os.PathLike[str] | None = None,
    run_id: str | None = None,
    progress: bool | None = None,
    callback: Callable[[EvaluationRecord, ExploreResult], None] | None = None,
    keep_records: bool = True,
) -> ExploreResult:
    """Search ``env`` with ``agent`` for exactly ``budget`` simulator evaluations.

    ``env`` is a made environment or an env id (made with ``env_kwargs``); ``agent`` an ``Agent`` or
    a registered name (built with ``seed`` and ``hyperparameters``). ``log`` receives every evaluation
    (a ``TrajectorySink``, or a dataset directory written with ``archgym.dataset``). ``progress``
    draws a progress line on stderr (default: when stderr is a terminal). ``callback(record, result)``
    runs after each evaluation with the result so far (e.g. to report to Ray Tune).
    """
    budget = check_budget(budget, keep_records=keep_records)
    seed = check_int(seed, "seed", low=0, high=MAX_SEED, allow_none=True)
    for name, value in (("hyperparameters", hyperparameters), ("env_kwargs", env_kwargs)):
        if value is not None and not isinstance(value, Mapping):
            raise ValueError(f"{name} must be a mapping of names to values, got {value!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    if isinstance(env, str):
        import archgym  # noqa: F401  (registers the ids)

        env = gym.make(env, **dict(env_kwargs or {}))
    elif env_kwargs:
        raise ValueError("env_kwargs only apply when env is given as an id")
    denv = explorable(env)
    env_id = env.spec.id if env.spec is not None else type(denv.simulator).__name__
    if isinstance(agent, str):
        cls = get(agent)
        refuse_unused_hyperparameters(agent, cls.hyperparameters, hyperparameters or {})
        agent = cls(denv.space, seed=seed, **dict(hyperparameters or {}))
    elif hyperparameters:
        raise ValueError("hyperparameters only apply when agent is given by name")
    if not isinstance(agent, Agent):
        raise ValueError(f"agent must be an agents.Agent or a registered name, got {type(agent).__name__}")
    if agent.space != denv.space:
        raise ValueError("the agent was built for a different design space than this environment's")
    agent.set_objectives(_objective_metrics(denv))

    result = ExploreResult(env_id=env_id, workload=denv.simulator.workload, agent=agent.name,
                           hyperparameters=dict(agent.config), seed=seed, budget=budget, evaluations=0,
                           best_reward=-math.inf, best_design={}, best_metrics={}, history=np.empty(0),
                           rewards=np.empty(0), wall_time=0.0)
    sink, own_sink = _open_sink(log, denv, env_id, agent, seed, run_id)
    rewards = np.empty(min(budget, _FIRST_ROWS))  # grown as evaluations come (a budget is not an allocation)
    history = np.empty(len(rewards))
    target = denv.objective if isinstance(denv.objective, TargetObjective) else None
    start = time.perf_counter()
    bar = Progress(budget, f"explore {agent.name}", enabled=progress)

    def record(design: Mapping[str, Any], evaluation: Evaluation, reward: float) -> None:
        i = result.evaluations
        if i >= budget:
            raise RuntimeError(f"agent {agent.name!r} evaluated more than its budget of {budget}")
        nonlocal rewards, history
        if i == len(rewards):
            rewards, history = (np.concatenate([a, np.empty(min(budget, 2 * len(a)) - len(a))])
                                for a in (rewards, history))
        now = time.perf_counter() - start
        rewards[i] = reward
        if reward > result.best_reward:
            result.best_reward, result.best_design = float(reward), dict(design)
            result.best_metrics = dict(evaluation.metrics)
        history[i] = result.best_reward
        result.evaluations = i + 1
        if target is not None and result.target_met_at is None and evaluation.feasible \
                and target.met(evaluation.metrics):
            result.target_met_at = i + 1
        rec = EvaluationRecord(i + 1, dict(design), dict(evaluation.metrics), evaluation.feasible,
                               evaluation.reason, float(reward), now)
        if keep_records:
            result.records.append(rec)
        if sink is not None:
            sink.append(step=i + 1, design=rec.design, evaluation=evaluation, reward=rec.reward, wall_time=now)
        bar.update(i + 1, f"best {result.best_reward:.4f}")
        if callback is not None:
            result.history, result.rewards = history[: i + 1], rewards[: i + 1]
            result.wall_time = now
            callback(rec, result)

    try:
        with bar:
            env.reset(seed=seed)
            if getattr(agent, "drives_env", False):
                agent.run(env, budget, record)
            else:
                _ask_tell_loop(env, denv, agent, budget, record, result)
    finally:
        if own_sink and sink is not None:
            sink.close()
    if result.evaluations != budget:
        raise RuntimeError(f"agent {agent.name!r} stopped after {result.evaluations} of {budget} evaluations")
    result.history, result.rewards = history, rewards
    result.wall_time = time.perf_counter() - start
    return result


_FIRST_ROWS = 1 << 16
#: bytes explore keeps per evaluation: its reward and the best so far, and a record when asked for
_BYTES_PER_EVALUATION = 16
_BYTES_PER_RECORD = 1024


def check_budget(budget: Any, *, keep_records: bool = False, what: str = "budget") -> int:
    """``budget`` as a positive integer number of evaluations whose per-evaluation bookkeeping fits in
    half this machine's memory (``ValueError`` with the estimate otherwise)."""
    budget = check_int(budget, what, low=1)
    per = _BYTES_PER_EVALUATION + (_BYTES_PER_RECORD if keep_records else 0)
    check_memory(budget, per, f"{what} {budget:,} evaluations", "per-evaluation results")
    return budget


def check_memory(count: int, per: int, what: str, kept: str) -> None:
    """``ValueError`` if ``count`` items of ``per`` bytes (``kept``, for the message) need more than half
    this machine's memory; ``what`` names the request, e.g. ``"samples 10,000,000"``."""
    need = count * per
    memory = _physical_memory()
    if memory and need > memory / 2:
        raise ValueError(f"{what} would keep about {_size(need)} of {kept} ({per} bytes each), more than half "
                         f"of this machine's {_size(memory)}")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not a POSIX system: no estimate to refuse by
        return None


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def _objective_metrics(denv: DesignEnv) -> list[Metric]:
    """The metrics the env's objective is made of (targets, or weighted-sum terms), with directions."""
    return [denv.simulator.metric(n) for n in denv.objective.metric_names]


def _ask_tell_loop(env: gym.Env, denv: DesignEnv, agent: Agent, budget: int, record: Recorder,
                   result: ExploreResult) -> None:
    episode_over = False
    batch = agent.batch_size
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise RuntimeError(f"agent {agent.name!r} has batch_size {batch!r}; it must be an integer >= 1 (the designs "
                           "it is asked for at once)")
    while result.evaluations < budget:
        n = min(batch, budget - result.evaluations)
        designs = agent.ask(n)
        if len(designs) != n:
            raise RuntimeError(f"agent {agent.name!r} returned {len(designs)} designs when asked for {n}")
        rewards, evaluations = [], []
        for design in designs:
            if episode_over:
                env.reset()
            reward, terminated, truncated, info = step_design(env, denv, design, f"agent {agent.name!r}")
            episode_over = terminated or truncated
            evaluation = info["evaluation"]
            record(info["design"], evaluation, float(reward))
            rewards.append(float(reward))
            evaluations.append(evaluation)
        agent.tell(designs, rewards, evaluations)


def step_design(env: gym.Env, denv: DesignEnv, design: Mapping[str, Any], who: str) -> tuple[float, bool, bool, dict]:
    """One ``env.step`` that evaluates exactly ``design`` (``DesignEnv.expect_design``: not its action's
    rounding of a float knob), proposed by ``who``; a ``RuntimeError`` when the design is not in the space,
    or when the env evaluated another design (a wrapper changed the action: the proposer would learn
    another design's reward)."""
    try:
        action = denv.expect_design(design)
    except ValueError as exc:
        raise RuntimeError(f"{who} proposed a design its space does not allow: {exc}") from exc
    _, reward, terminated, truncated, info = env.step(action)
    if info["design"] != dict(design):
        raise RuntimeError(f"the environment evaluated {info['design']!r} for the design {who} asked for "
                           f"({dict(design)!r}): a wrapper changed the action, so the agent would learn the wrong "
                           "design's reward")
    return float(reward), terminated, truncated, info


def _open_sink(log, denv: DesignEnv, env_id: str, agent: Agent, seed: int | None, run_id: str | None):
    if log is None:
        return None, False
    if hasattr(log, "append"):
        return log, False
    import uuid

    from archgym.dataset import RunInfo, TrajectoryWriter

    run = RunInfo.from_env(denv, env_id, run_id=run_id or uuid.uuid4().hex[:12], agent=agent.name,
                           hyperparameters=dict(agent.config), seed=seed)
    return TrajectoryWriter(log, space=denv.space, metrics=denv.simulator.metrics, run=run), True
