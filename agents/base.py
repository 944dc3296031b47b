"""The agent interface, hyperparameter declarations, and the registry with plug-in discovery.

An agent searches a ``DesignSpace`` by ask/tell::

    agent = agents.get("ga")(space, seed=0, population=32)
    designs = agent.ask(agent.batch_size)          # a list of design dicts
    agent.tell(designs, rewards, evaluations)      # rewards: higher is better

Agents maximise the reward they are told; they never see which metric it came from, so one agent
serves every environment. Every simulator call is asked for explicitly, so a budget is exact.

Third-party agents plug in through the entry-point group ``archgym.agents`` (the name maps to an
``Agent`` subclass, e.g. ``mylab = "mylab.agents:MyAgent"`` in their ``pyproject.toml``) or, inside
one process, through ``agents.register(name, cls)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from simulators.core import DesignSpace, Evaluation, Metric
from simulators.loading import load_object, plugin_entry_points
from simulators.params import MAX_SEED, Choice, FloatRange, IntRange, Parameter, check_int

ENTRY_POINT_GROUP = "archgym.agents"

__all__ = ["ENTRY_POINT_GROUP", "Agent", "Hyperparameter", "available", "get", "register",
           "plugins", "refuse_unused_hyperparameters", "unused_hyperparameters"]


@dataclass(frozen=True)
class Hyperparameter:
    """A declared agent hyperparameter: its default, type, allowed range or choices, and meaning.

    The allowed values are a domain of ``simulators.params`` (the language design knobs use too):
    ``choices`` give a ``Choice``, ``kind=bool`` the choice of true or false, ``kind=int`` an
    ``IntRange(low, high)`` and ``kind=float`` a ``FloatRange(low, high)``, either open where a bound is
    ``None``. So a hyperparameter, a swept hyperparameter and a design knob are checked by one
    validator and refused in one wording.
    """

    default: Any
    kind: type = float
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    doc: str = ""
    #: the other hyperparameters' values under which this one acts (``{"mode": ("local",)}``); elsewhere the
    #: agent ignores it (``unused`` says so)
    acts_when: dict[str, tuple[Any, ...]] | None = None

    def __post_init__(self) -> None:
        if self.choices is None and self.kind not in (bool, int, float):
            raise ValueError(f"a Hyperparameter of kind {self.kind.__name__} needs choices")
        self.domain("default")  # a malformed declaration (low > high, empty choices) fails at import

    def domain(self, name: str) -> Parameter:
        """The allowed values as a ``simulators.params`` parameter called ``name``."""
        if self.choices is not None:
            return Choice(name, self.choices, label="hyperparameter")
        if self.kind is bool:
            return Choice(name, (False, True), label="hyperparameter")
        if self.kind is int:
            return IntRange(name, self.low, self.high, label="hyperparameter")
        return FloatRange(name, self.low, self.high, label="hyperparameter")

    def check(self, agent: str, name: str, value: Any) -> Any:
        """The canonical value, or ``ValueError`` naming the agent, the hyperparameter and what it allows."""
        try:
            return self.domain(name).validate(value)
        except ValueError as exc:
            raise ValueError(f"{agent}: {exc}") from None

    def convert(self, value: Any) -> Any:
        """The canonical value, or ``ValueError`` naming the hyperparameter and what it allows."""
        return self.domain("value").validate(value)

    def describe(self) -> str:
        """What is allowed, as tables show it (``a positive integer``, ``one of 'tpe', 'random'``)."""
        return self.domain("value").domain_text()


def unused_hyperparameters(declared: Mapping[str, Hyperparameter], given: Mapping[str, Any]) -> list[str]:
    """Of the hyperparameters ``given`` away from their defaults, those the agent would ignore under the
    resulting setting (each with why: ``"restart (acts only with mode 'local'; mode is 'uniform')"``).
    A search over settings may fix such a value for the settings it acts in; one run should not."""
    config = {k: given.get(k, h.default) for k, h in declared.items()}
    out = []
    for name, value in given.items():
        h = declared.get(name)
        if h is None or h.acts_when is None or value == h.default:
            continue
        for other, values in h.acts_when.items():
            if config[other] not in values:
                allowed = " or ".join(repr(v) for v in values)
                out.append(f"{name} (acts only with {other} {allowed}; {other} is {config[other]!r})")
                break
    return out


def refuse_unused_hyperparameters(agent: str, declared: Mapping[str, Hyperparameter], given: Mapping[str, Any]) -> None:
    """For one run of ``agent``: ``ValueError`` naming each hyperparameter ``given`` that it would ignore."""
    unused = unused_hyperparameters(declared, given)
    if unused:
        raise ValueError(f"{agent}: hyperparameter(s) that would be ignored: {'; '.join(unused)}")


class Agent(ABC):
    """Base class: validates hyperparameters, owns a seeded ``numpy.random.Generator``.

    Subclasses declare ``name`` and ``hyperparameters`` and implement ``ask`` and ``tell``.
    ``batch_size`` is how many designs the agent likes to be asked for at once (a GA population,
    the ants of one ACO iteration); the explore loop asks for fewer at the end of a budget.
    """

    name: ClassVar[str] = ""
    hyperparameters: ClassVar[Mapping[str, Hyperparameter]] = {}

    def __init__(self, space: DesignSpace, *, seed: int | None = None, **hyperparameters: Any) -> None:
        if not isinstance(space, DesignSpace):
            raise ValueError(f"{self.name or type(self).__name__}: needs a simulators.core.DesignSpace, "
                             f"got {type(space).__name__}")
        unknown = sorted(set(hyperparameters) - set(self.hyperparameters))
        if unknown:
            raise ValueError(f"{self.name}: unknown hyperparameter(s) {unknown}; "
                             f"allowed: {sorted(self.hyperparameters)}")
        try:
            seed = check_int(seed, "seed", low=0, high=MAX_SEED, allow_none=True)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from None
        self.space = space
        self.seed = None if seed is None else int(seed)
        self.rng = np.random.default_rng(seed)
        self.config = {k: h.check(self.name, k, hyperparameters.get(k, h.default))
                       for k, h in self.hyperparameters.items()}
        self.objectives: tuple[Metric, ...] = ()

    def set_objectives(self, objectives: Sequence[Metric]) -> None:
        """The metrics the task is about, with their directions, told before the first ``ask``.

        ``archgym.explore`` tells every agent (the target metrics of a target objective, the weighted
        metrics of a weighted sum); each told ``Evaluation`` then carries their values. Agents that
        learn from the reward alone ignore them; a multi-objective agent (``nsga2``) searches their
        Pareto front. Kept in ``self.objectives``.
        """
        objectives = tuple(objectives)
        bad = [m for m in objectives if not isinstance(m, Metric)]
        if bad:
            raise ValueError(f"{self.name}: objectives must be simulators.core.Metric objects, got {bad[0]!r}")
        names = [m.name for m in objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: objectives name a metric twice: {names}")
        self.objectives = objectives

    @property
    def batch_size(self) -> int:
        return 1

    @abstractmethod
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        """``n`` designs to evaluate next (valid designs of ``self.space``)."""

    @abstractmethod
    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        """The rewards (higher is better) and evaluations of designs this agent asked for."""

    def _check_ask(self, n: int) -> int:
        try:
            return check_int(n, "n", low=1)
        except ValueError:
            raise ValueError(f"{self.name}: ask(n) needs a positive integer n, got {n!r}") from None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{type(self).__name__}(seed={self.seed}{', ' if args else ''}{args})"


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------

_BUILTIN: dict[str, str] = {
    "random_walk": "agents.random_walk:RandomWalk",
    "bayesopt": "agents.bayesopt:BayesOpt",
    "ga": "agents.genetic:GeneticAlgorithm",
    "aco": "agents.aco:AntColony",
    "ppo": "agents.rl:PPOAgent",
    "nsga2": "agents.nsga2:NSGA2",
}
_REGISTERED: dict[str, type[Agent] | str] = {}


def register(name: str, cls: type[Agent] | str) -> None:
    """Make an agent available under ``name`` in this process (a class or ``"module:Class"``)."""
    if not isinstance(name, str) or not name:
        raise ValueError("an agent name must be a non-empty string")
    if name in _BUILTIN:
        raise ValueError(f"{name!r} is a built-in agent; choose another name")
    _REGISTERED[name] = cls


def _entry_points() -> dict[str, metadata.EntryPoint]:
    """The installed plug-ins by name (one named like a built-in agent is left out, with a warning)."""
    return plugin_entry_points(ENTRY_POINT_GROUP, _BUILTIN, "agent")


def plugins() -> tuple[str, ...]:
    """Names of the installed agent plug-ins (entry points): the agents that load code of another package."""
    return tuple(sorted(_entry_points()))


def available() -> tuple[str, ...]:
    """Names of every agent: built-in, installed plug-ins (entry points) and registered ones."""
    return tuple(dict.fromkeys([*_BUILTIN, *plugins(), *_REGISTERED]))


def get(name: str) -> type[Agent]:
    """The agent class registered under ``name``."""
    if name in _BUILTIN:
        target: Any = _BUILTIN[name]
    elif name in _REGISTERED:
        target = _REGISTERED[name]
    else:
        eps = _entry_points()
        if name not in eps:
            raise ValueError(f"unknown agent {name!r}; available: {list(available())}")
        try:
            target = eps[name].load()
        except Exception as exc:  # a broken plug-in must say which one
            raise ValueError(f"agent plug-in {name!r} ({eps[name].value}) failed to load: {exc}") from exc
    if isinstance(target, str):
        target = load_object(target, f"agent {name!r}")
    if not (isinstance(target, type) and issubclass(target, Agent)):
        raise ValueError(f"agent {name!r} is {target!r}, not an agents.Agent subclass")
    return target
