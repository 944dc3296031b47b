"""``check_agent``: the agent contract as a checker a plug-in author runs on their agent class.

    from agents.testing import check_agent
    check_agent(MyAgent)

It raises ``ContractError`` (an ``AssertionError``) naming the agent and the broken rule. What it
checks, on a small mixed design space (``toy_space()``: an unordered and an ordered choice, a
power-of-two and a stepped integer range, a log float range with levels, a fixed knob):

- declaration: a ``name``, ``Hyperparameter`` declarations whose defaults they allow;
- hyperparameter validation: an unknown name, a value of the wrong kind and one out of range are
  ``ValueError``\\s naming the hyperparameter; a bad seed is refused;
- the ask/tell contract: ``set_objectives`` takes the metrics (as the explore loop tells them), ``ask(n)``
  returns exactly ``n`` valid designs of the space, ``ask(0)`` and non-integers are refused, and ``tell``
  accepts the asked designs with rewards and evaluations;
- designs of the space's own value types (``4``, not ``4.0`` or ``numpy.int64(4)``), which ``tell``
  leaves as they were;
- exact budgets and seeding: a search of ``budget`` evaluations asks for exactly that many, the
  same seed proposes the same designs against the same rewards, and the next seed other designs;
- every value reachable: over that search every value of every discrete knob is proposed at least once.

Agents that drive an environment themselves (``drives_env``, like ``ppo``) need ``env``: a made
gymnasium env (``gym.make(...)``) of the toy space, or any design env, run for ``budget`` steps twice.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.base import Agent, Hyperparameter
from simulators.core import Choice, DesignSpace, Direction, Evaluation, FloatRange, IntRange, Metric, Simulator
from simulators.testing import ContractError

__all__ = ["ContractError", "ToySimulator", "check_agent", "toy_space"]

_BAD = "\0not-a-value"


def toy_space() -> DesignSpace:
    """A small space with one knob of every kind agents must handle (480 designs)."""
    return DesignSpace([
        Choice("kind", ["a", "b", "c"]),
        Choice("mode", ["lo", "hi"], ordered=True),
        IntRange("size", 1, 8, power_of_two=True),
        IntRange("count", 2, 8, step=2),
        FloatRange("scale", 0.5, 2.0, log=True, levels=5),
        Choice("fixed", [1]),
    ])


class ToySimulator(Simulator):
    """A deterministic cost over ``toy_space()`` with one best design (kind b, hi, size 4, count 6, scale 1)."""

    metrics = (Metric("cost", "", Direction.MINIMIZE, "distance from the best design"),)
    workload = "toy"

    def __init__(self) -> None:
        self.space = toy_space()

    def _evaluate(self, design: dict[str, Any]) -> Evaluation:
        cost = ((design["kind"] != "b") + (design["mode"] != "hi") + abs(math.log2(design["size"]) - 2)
                + abs(design["count"] - 6) / 2 + abs(math.log2(design["scale"])))
        return Evaluation({"cost": float(cost)})


def _fail(cls: Any, rule: str) -> ContractError:
    return ContractError(f"check_agent({getattr(cls, '__name__', cls)!r}): {rule}")


def _bad_values(hp: Hyperparameter) -> list[Any]:
    out: list[Any] = [_BAD]
    if hp.choices is None and hp.kind in (int, float):
        if hp.low is not None:
            out.append(hp.low - 1)
        if hp.high is not None:
            out.append(hp.high + 1)
        if hp.kind is int:
            out.append(1.5)
    return out


def _reward(evaluation: Evaluation) -> float:
    return 1.0 / (1.0 + evaluation.metrics["cost"])


def check_agent(cls: type[Agent], *, space: DesignSpace | None = None, budget: int = 64, seed: int = 0,
                hyperparameters: Mapping[str, Any] | None = None, env: Any = None) -> None:
    """Run the agent contract on ``cls``; ``ContractError`` names the first broken rule.

    ``space`` defaults to ``toy_space()`` (and then costs come from ``ToySimulator``); with another
    space the rewards are a deterministic function of the design. ``hyperparameters`` are passed to
    every agent built (e.g. smaller populations for a short ``budget``).
    """
    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise _fail(cls, "is not an agents.Agent subclass")
    if not isinstance(cls.name, str) or not cls.name:
        raise _fail(cls, "needs a class attribute name (the registry name)")
    declared = cls.hyperparameters
    if not isinstance(declared, Mapping) or not all(isinstance(h, Hyperparameter) for h in declared.values()):
        raise _fail(cls, "hyperparameters must map names to agents.Hyperparameter declarations")
    for name, hp in declared.items():
        try:
            hp.check(cls.name, name, hp.default)
        except ValueError as exc:
            raise _fail(cls, f"the default of {name!r} is not allowed by its own declaration: {exc}") from None
    toy = space is None
    space = toy_space() if toy else space
    sim = ToySimulator() if toy else None
    extra = dict(hyperparameters or {})

    def build(**kwargs: Any) -> Agent:
        return cls(space, **{"seed": seed, **extra, **kwargs})

    # -- hyperparameter and seed validation --------------------------------------------------------
    _refused(cls, lambda: build(no_such_hyperparameter=1), "an unknown hyperparameter", "no_such_hyperparameter")
    for name, hp in declared.items():
        for bad in _bad_values(hp):
            _refused(cls, lambda name=name, bad=bad: build(**{name: bad}), f"{name}={bad!r}", name)
    for bad in (-1, 1.5, "0", True):
        _refused(cls, lambda bad=bad: build(seed=bad), f"seed={bad!r}", "seed")

    if getattr(cls, "drives_env", False):
        if env is not None:
            _check_driver(cls, build, env, budget)
        return

    # -- ask/tell --------------------------------------------------------------------------------------
    agent = build()
    for bad in (0, -1, 1.5, True, "2"):
        _refused(cls, lambda bad=bad: agent.ask(bad), f"ask({bad!r})", None)
    if not (isinstance(agent.batch_size, int) and agent.batch_size >= 1):
        raise _fail(cls, f"batch_size must be a positive integer, got {agent.batch_size!r}")

    def evaluate(design: Mapping[str, Any]) -> Evaluation:
        if sim is not None:
            return sim.evaluate(design)
        return Evaluation({"cost": float(zlib.crc32(repr(sorted(design.items())).encode()) % 1000)})

    def search(agent: Agent) -> list[dict[str, Any]]:
        asked: list[dict[str, Any]] = []
        while len(asked) < budget:
            n = min(agent.batch_size, budget - len(asked))
            designs = agent.ask(n)
            if not isinstance(designs, list) or len(designs) != n:
                raise _fail(cls, f"ask({n}) returned {len(designs) if isinstance(designs, list) else designs!r} "
                                 f"designs, not a list of {n}")
            for d in designs:
                try:
                    canonical = space.validate(d)
                    if canonical != d or any(type(d[k]) is not type(v) for k, v in canonical.items()):
                        raise ValueError(f"{d} is not in its canonical form {canonical} (values of the space's own "
                                         "types: " + ", ".join(f"{k} {type(v).__name__}" for k, v in canonical.items())
                                         + ")")
                except ValueError as exc:
                    raise _fail(cls, f"ask returned an invalid design: {exc}") from None
            evaluations = [evaluate(d) for d in designs]
            proposed = [dict(d) for d in designs]
            agent.tell(designs, [_reward(e) for e in evaluations], evaluations)
            if [dict(d) for d in designs] != proposed:
                raise _fail(cls, "tell changed the designs it was told: they are the caller's records of what was "
                                 "evaluated (copy a design before changing it)")
            asked += proposed
        return asked

    agent.set_objectives(ToySimulator.metrics)  # what the explore loop tells every agent before its first ask
    first = search(agent)
    if len(first) != budget:
        raise _fail(cls, f"a search of {budget} evaluations asked for {len(first)}")
    again = build()
    again.set_objectives(ToySimulator.metrics)
    if search(again) != first:
        raise _fail(cls, f"two searches with seed {seed} proposed different designs against the same rewards")
    _check_reachable(cls, space, first)
    other = build(seed=seed + 1)
    other.set_objectives(ToySimulator.metrics)
    if search(other) == first:
        raise _fail(cls, f"searches with seeds {seed} and {seed + 1} proposed the same designs: the agent ignores "
                         "its seed (draw from a generator made from it, never from a fixed or global one), so runs "
                         "over seeds would be copies of one run")


def _refused(cls: Any, call: Any, what: str, name: str | None) -> None:
    try:
        call()
    except ValueError as exc:
        if name is not None and name not in str(exc):
            raise _fail(cls, f"refusing {what} must name {name!r}; it said: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any other exception is the violation being reported
        raise _fail(cls, f"{what} raised {type(exc).__name__} ({exc}), not a ValueError naming it") from None
    else:
        raise _fail(cls, f"accepted {what}")


def _check_reachable(cls: Any, space: DesignSpace, designs: list[dict[str, Any]]) -> None:
    for p in space:
        if not p.discrete:  # a float range is a continuum (its levels are a grid for index encodings only)
            continue
        seen = {p.index_of(d[p.name]) for d in designs}
        missing = [p.value_at(i) for i in range(p.cardinality) if i not in seen]
        if missing:
            raise _fail(cls, f"never proposed {p.name} = {missing} in {len(designs)} evaluations: every value of "
                             "every knob must be reachable")


def _check_driver(cls: Any, build: Any, env: Any, budget: int) -> None:
    """An agent that trains on the environment: exactly ``budget`` steps, the same ones for the same seed."""
    runs = []
    for _ in range(2):
        designs: list[dict[str, Any]] = []

        def record(design: Mapping[str, Any], evaluation: Evaluation, reward: float) -> None:
            if not isinstance(evaluation, Evaluation) or not np.isfinite(reward):
                raise _fail(cls, f"recorded {evaluation!r} with reward {reward!r}")
            designs.append(dict(design))  # noqa: B023 - the list of this run

        agent = build()
        agent.run(env, budget, record)
        if len(designs) != budget:
            raise _fail(cls, f"a run with a budget of {budget} took {len(designs)} evaluations")
        runs.append(designs)
    if runs[0] != runs[1]:
        raise _fail(cls, "two runs with the same seed evaluated different designs")
    _check_reachable(cls, env.unwrapped.space, runs[0])
