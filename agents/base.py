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

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from simulators.core import DesignSpace, Evaluation

ENTRY_POINT_GROUP = "archgym.agents"

__all__ = ["ENTRY_POINT_GROUP", "Agent", "Hyperparameter", "available", "get", "register"]


@dataclass(frozen=True)
class Hyperparameter:
    """A declared agent hyperparameter: its default, type, allowed range or choices, and meaning."""

    default: Any
    kind: type = float
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    doc: str = ""

    def check(self, agent: str, name: str, value: Any) -> Any:
        """Return the value converted to ``kind`` or raise ``ValueError`` naming the agent and field."""
        try:
            return self.convert(value)
        except ValueError as exc:
            raise ValueError(f"{agent}: hyperparameter {name!r} {exc}") from None

    def convert(self, value: Any) -> Any:
        """The value converted to ``kind``; ``ValueError("must be ...")`` when it is not allowed."""
        if self.choices is not None:
            if value not in self.choices:
                raise ValueError(f"must be one of {list(self.choices)}, got {value!r}")
            return value
        if self.kind is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"must be true or false, got {value!r}")
            return bool(value)
        if self.kind is int:
            if isinstance(value, (bool, np.bool_)) or not (
                isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer())
            ):
                raise ValueError(f"must be an integer, got {value!r}")
            value = int(value)
        elif self.kind is float:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"must be finite, got {value!r}")
        if self.low is not None and value < self.low:
            raise ValueError(f"must be >= {self.low}, got {value!r}")
        if self.high is not None and value > self.high:
            raise ValueError(f"must be <= {self.high}, got {value!r}")
        return value

    def describe(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(map(repr, self.choices))
        bounds = {(None, None): "", (self.low, None): f" >= {self.low}", (None, self.high): f" <= {self.high}"}
        text = bounds.get((self.low, self.high), f" in [{self.low}, {self.high}]")
        return f"{self.kind.__name__}{text}"


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
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{self.name}: seed must be a non-negative integer or None, got {seed!r}")
        self.space = space
        self.seed = None if seed is None else int(seed)
        self.rng = np.random.default_rng(seed)
        self.config = {k: h.check(self.name, k, hyperparameters.get(k, h.default))
                       for k, h in self.hyperparameters.items()}

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
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{self.name}: ask(n) needs a positive integer n, got {n!r}")
        return int(n)

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
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available() -> tuple[str, ...]:
    """Names of every agent: built-in, installed plug-ins (entry points) and registered ones."""
    return tuple(dict.fromkeys([*_BUILTIN, *sorted(_entry_points()), *_REGISTERED]))


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
        module_name, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(target, type) and issubclass(target, Agent)):
        raise ValueError(f"agent {name!r} is {target!r}, not an agents.Agent subclass")
    return target
