"""``check_simulator``: the simulator contract as a checker you run on your own simulator.

Like gymnasium's ``check_env``, it exercises a built simulator and raises ``ContractError`` (an
``AssertionError``) naming the simulator and the broken rule::

    from simulators.testing import check_simulator
    check_simulator(MySimulator())

What it checks: the declaration (a ``DesignSpace``, distinctly named ``Metric``\\s, a workload name,
bundled workloads as names), that the default design is valid and evaluates, that default targets
name real metrics with positive values, that evaluations keep the contract (exactly the declared
metrics as floats; enforced by ``Simulator.evaluate``), determinism (the same design gives the same
numbers again, in another order, and from a second simulator built with the same settings),
``evaluate_batch`` equal to ``evaluate`` row by row (for spaces with an index encoding), and that a
design with a bad value, an unknown or a missing parameter is refused with a ``ValueError`` naming
that parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from simulators.core import Evaluation, FloatRange, Metric, Simulator
from simulators.params import Choice, IntRange, is_number

__all__ = ["ContractError", "check_simulator"]


class ContractError(AssertionError):
    """A simulator or agent breaks the contract; the message names it and the rule."""


_BAD = "\0not-a-value"


def _fail(sim: Any, rule: str) -> ContractError:
    return ContractError(f"check_simulator({type(sim).__name__}): {rule}")


def _same(a: float, b: float, rel: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def _invalid_values(p: Any) -> list[Any]:
    """Values outside a parameter's domain, to check that validation refuses them by name."""
    out: list[Any] = [_BAD, None]
    if isinstance(p, IntRange):
        out += [p.high + p.step, p.low - 1, 0.5 + p.low]
    elif isinstance(p, FloatRange):
        out += [p.high + abs(p.high) + 1.0, math.nan]
    elif isinstance(p, Choice) and all(is_number(v) for v in p.values):
        out.append(max(p.values) + 1)
    return out


def check_simulator(sim: Simulator, *, samples: int = 24, seed: int = 0, rel: float = 1e-9,
                    rebuild: bool = True) -> None:
    """Run the contract on ``sim``; ``ContractError`` names the first broken rule.

    ``samples`` random designs (and the default design) are evaluated one by one, again in reverse
    order, and as a batch, which must agree to relative tolerance ``rel``. With ``rebuild`` a second
    simulator is built from ``sim.settings`` and must give the same numbers.
    """
    if not isinstance(sim, Simulator):
        raise ContractError(f"check_simulator: {sim!r} is not a simulators.core.Simulator")
    try:
        sim._check_declaration()
    except ValueError as exc:
        raise _fail(sim, str(exc)) from None
    space, metrics = sim.space, sim.metrics
    names = [m.name for m in metrics]
    for m in metrics:
        if not isinstance(m, Metric) or not isinstance(m.unit, str) or not m.name.isidentifier():
            raise _fail(sim, f"metric {m!r} needs an identifier-like name and a unit string")
    workloads = sim.available_workloads()
    if not isinstance(workloads, tuple) or not all(isinstance(w, str) for w in workloads):
        raise _fail(sim, f"available_workloads() must return a tuple of names, got {workloads!r}")

    # -- the default design and task -----------------------------------------------------------------
    default = sim.default_design()
    try:
        default = space.validate(default)
    except ValueError as exc:
        raise _fail(sim, f"default_design() is not a valid design: {exc}") from None
    targets = sim.default_targets()
    if not isinstance(targets, Mapping):
        raise _fail(sim, f"default_targets() must return a mapping, got {targets!r}")
    for metric, value in targets.items():
        if metric not in names:
            raise _fail(sim, f"default_targets() names {metric!r}, which is not a metric ({names})")
        if not is_number(value) or not (math.isfinite(value) and value > 0):
            raise _fail(sim, f"default target for {metric!r} must be a positive number, got {value!r}")

    # -- designs to evaluate -------------------------------------------------------------------------
    rng = np.random.default_rng(seed)
    if space.indexable:
        designs = [default, *space.decode_indices_batch(space.sample_indices(rng, samples))]
    else:
        designs = [default, *space.sample(rng, samples)]
    first = [_evaluate(sim, d) for d in designs]
    again = [_evaluate(sim, d) for d in reversed(designs)][::-1]
    for design, a, b in zip(designs, first, again):
        _compare(sim, design, a, b, rel, "evaluating it again (in another order)")
    if rebuild:
        try:
            twin = type(sim)(**sim.settings)
        except Exception as exc:
            raise _fail(sim, f"cannot be rebuilt from its settings {sorted(sim.settings)} "
                             f"({type(exc).__name__}: {exc}); pass rebuild=False if that is intended") from None
        for design, a in zip(designs, first):
            _compare(sim, design, a, _evaluate(twin, design), rel, "a second simulator with the same settings")

    # -- batch equals single (index matrices need an indexable space) --------------------------------
    if space.indexable:
        indices = space.encode_indices_batch(designs)
        try:
            batch = sim.evaluate_batch(indices)
        except ValueError as exc:
            raise _fail(sim, f"evaluate_batch broke the contract: {exc}") from None
        # an index matrix holds a float range's grid values: off-grid designs (a default design between
        # levels) are compared with their grid neighbour
        for i, (design, grid, single) in enumerate(zip(designs, space.decode_indices_batch(indices), first)):
            single = single if grid == design else _evaluate(sim, grid)
            _compare(sim, grid, single, batch[i], rel, f"evaluate_batch (row {i})")

    # -- validation names the field --------------------------------------------------------------------
    for p in space:
        for bad in _invalid_values(p):
            try:
                p.validate(bad)
            except ValueError:
                pass
            else:
                continue  # the value happens to be allowed (e.g. a choice of None): not a bad value here
            try:
                sim.evaluate({**default, p.name: bad})
            except ValueError as exc:
                if p.name not in str(exc):
                    raise _fail(sim, f"refusing {p.name}={bad!r} must name {p.name!r}; it said: {exc}") from None
            else:
                raise _fail(sim, f"evaluate accepted {p.name}={bad!r}, which its space refuses")
    for design, what in (({**default, "\0unknown": 1}, "an unknown parameter"),
                         ({k: v for k, v in default.items() if k != space.names[0]}, "a missing parameter")):
        try:
            sim.evaluate(design)
        except ValueError:
            pass
        else:
            raise _fail(sim, f"evaluate accepted a design with {what}")


def _evaluate(sim: Simulator, design: Mapping[str, Any]) -> Evaluation:
    try:
        return sim.evaluate(design)
    except ValueError as exc:
        raise _fail(sim, f"evaluate({dict(design)}) failed on a valid design: {exc}") from None


def _compare(sim: Simulator, design: Mapping[str, Any], a: Evaluation, b: Evaluation, rel: float, how: str) -> None:
    if a.feasible != b.feasible:
        raise _fail(sim, f"{how} changed feasibility of {dict(design)}: {a.feasible} vs {b.feasible}")
    for name in sim.metric_names:
        x, y = a.metrics.get(name, math.nan), b.metrics.get(name, math.nan)
        if not _same(float(x), float(y), rel):
            raise _fail(sim, f"{how} gave {name}={y!r} for {dict(design)}, not {x!r}: a simulator must be "
                             "deterministic and its batch path must agree with evaluate")
