"""A design space as other optimisers' search spaces, in values: Optuna, Nevergrad, Ray Tune, scikit-optimize.

Each library gets one converter, and every value any of them can propose is a value the design
space allows (``rows`` only powers of two, ``clock_mhz`` only its steps), so a design comes back with
``design_from(space, values)``, which fills in the single-valued knobs (left out of every search
space: there is nothing to search) and validates. How each kind of knob is expressed:

- a ``Choice``: a categorical of its values in Optuna, Ray Tune and scikit-optimize; in Nevergrad a
  ``Choice``, or a ``TransitionChoice`` (neighbours are one step apart) when it is ordered;
- an ``IntRange`` in steps of 1: Optuna's int, Nevergrad's integer ``Scalar`` (each value owning a
  bin of width one), Tune's ``randint(low, high + 1)``, scikit-optimize's ``Integer``;
- an ``IntRange`` in steps of ``s``: Optuna's int with ``step=s``, a Nevergrad ``TransitionChoice``,
  Tune's ``qrandint(low, high, s)`` when ``low`` is a multiple of ``s`` (its values are multiples of
  ``s``; otherwise a ``choice``; Ray's ``NevergradSearch`` drops that quantization, so give it
  ``nevergrad_parametrization`` instead), a scikit-optimize ``Categorical``;
- powers of two: a categorical (Optuna, Tune, scikit-optimize), a ``TransitionChoice`` (Nevergrad);
- a ``FloatRange``: a float / ``Scalar`` / ``uniform`` / ``Real``, log-scaled when the range is.

Ordered value lists that a library cannot express natively (powers of two in Optuna, stepped ranges
in scikit-optimize) become categoricals of the allowed values: correct values, at the cost of the
ordering. A float range is continuous whether or not it has ``levels`` (levels are a grid for index
encodings; every value in the range is a valid design). Optuna and scikit-optimize categoricals hold
only ``None``, booleans, numbers and strings; a ``Choice`` of other values is refused with a clear
error.

``tune_param_space(space, indices=True)`` and ``nevergrad_parametrization(space, indices=True)`` give
the index spaces that ``agents.tune_bridge``'s searcher agents search (``value_at`` maps back). The
libraries are imported when a converter is called, never by ``import agents``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulators.core import DesignSpace, FloatRange, IntRange, Parameter
from simulators.params import is_number

__all__ = ["design_from", "float_from", "nevergrad_parametrization", "optuna_distributions", "searched",
           "skopt_dimensions", "suggest_design", "tune_param_space"]

#: how far (relative) outside a float range's bound a library's value may land and still mean the bound
BOUND_ROUNDING = 1e-12


def searched(space: DesignSpace) -> list[Parameter]:
    """The knobs a search space holds: all but those with a single value."""
    return [p for p in space if not (p.discrete and p.cardinality < 2)]


def design_from(space: DesignSpace, values: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    """The design for a search space's values: a mapping by name (Optuna's ``params``, a Tune config,
    Nevergrad's ``value``) or a sequence in ``searched(space)`` order (a scikit-optimize point); the
    single-valued knobs are filled in and the whole design is validated (``ValueError`` otherwise)."""
    knobs = searched(space)
    if not isinstance(values, Mapping):
        values = list(values)
        if len(values) != len(knobs):
            raise ValueError(f"a point has one value per searched knob ({len(knobs)}), got {len(values)}")
        values = dict(zip((p.name for p in knobs), values))
    names = {p.name for p in knobs}
    design = {p.name: p.value_at(0) for p in space if p.name not in names}
    design.update(values)
    for p in knobs:
        if isinstance(p, FloatRange) and p.name in design:
            design[p.name] = float_from(p, design[p.name])
    return space.validate(design)


def float_from(p: FloatRange, value: Any) -> Any:
    """A searcher's value for a float range: a bound when the value lies within ``BOUND_ROUNDING``
    (relative) outside it, as a log scale's ``exp(log(low))`` does (Nevergrad's ``Log``, one ulp below
    ``low``); any other value as it is, for ``validate`` to judge."""
    if not is_number(value):
        return value
    x = float(value)
    for bound, outside in ((p.low, x < p.low), (p.high, x > p.high)):
        if outside and abs(x - bound) <= BOUND_ROUNDING * max(abs(bound), 1e-300):
            return bound
    return value


def _ordered_values(p: Parameter) -> bool:
    """True for a knob whose values are listed and ordered (ordered choices, stepped or power-of-two ranges)."""
    return p.discrete and p.ordered and not (isinstance(p, IntRange) and p.step == 1 and not p.power_of_two)


def _plain(p: Parameter, library: str) -> list[Any]:
    """The values of a choice-like knob, when ``library`` can hold them in a categorical."""
    values = list(p.values)
    bad = [v for v in values if not (v is None or isinstance(v, (bool, str)) or is_number(v))]
    if bad:
        raise ValueError(f"parameter {p.name!r}: {library} categoricals hold None, booleans, numbers and strings, "
                         f"not {bad[0]!r}")
    return values


# --------------------------------------------------------------------------------------------------
# Optuna
# --------------------------------------------------------------------------------------------------

def optuna_distributions(space: DesignSpace) -> dict[str, Any]:
    """``{name: optuna distribution}`` for ``study.ask(fixed_distributions=...)`` or ``suggest_design``."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for p in searched(space):
        if isinstance(p, FloatRange):
            out[p.name] = FloatDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, IntRange) and not p.power_of_two:
            out[p.name] = IntDistribution(p.low, p.high, step=p.step)
        else:
            out[p.name] = CategoricalDistribution(_plain(p, "Optuna"))
    return out


def suggest_design(trial: Any, space: DesignSpace) -> dict[str, Any]:
    """A design suggested by an Optuna ``trial`` (each knob through ``trial.suggest_*``), validated."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    values = {}
    for name, dist in optuna_distributions(space).items():
        if isinstance(dist, CategoricalDistribution):
            values[name] = trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, FloatDistribution):
            values[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log)
        else:
            values[name] = trial.suggest_int(name, dist.low, dist.high, step=dist.step)
    return design_from(space, values)


# --------------------------------------------------------------------------------------------------
# Nevergrad
# --------------------------------------------------------------------------------------------------

def nevergrad_parametrization(space: DesignSpace, *, indices: bool = False) -> Any:
    """The space as a Nevergrad ``ng.p.Dict`` of values (``design_from(space, param.value)``).

    ``indices=True`` gives index knobs instead (``agents.tune_bridge.NevergradAgent``): an ordered knob
    is an integer ``Scalar`` over ``-0.5..n-0.5`` so every index owns a bin of width one (Ray's own
    converter gives the two end indices half-width bins; on a 4-value knob NGOpt never proposed the
    ends in 64 evaluations), an unordered one a ``Choice`` of indices.
    """
    import nevergrad as ng

    params = {}
    for p in searched(space):
        if isinstance(p, FloatRange):
            params[p.name] = (ng.p.Log if p.log else ng.p.Scalar)(lower=p.low, upper=p.high)
        elif indices:
            n = p.cardinality
            # (-0.5 itself rounds to index 0, so this lower bound needs no margin)
            params[p.name] = (ng.p.Scalar(lower=-0.5, upper=n - 0.5 - 1e-9).set_integer_casting() if p.ordered
                              else ng.p.Choice(list(range(n))))
        elif isinstance(p, IntRange) and not _ordered_values(p):
            params[p.name] = _integer_scalar(ng, p.low, p.high)
        elif p.ordered:
            params[p.name] = ng.p.TransitionChoice(list(p.values))
        else:
            params[p.name] = ng.p.Choice(list(p.values))
    return ng.p.Dict(**params)


def _integer_scalar(ng: Any, low: int, high: int) -> Any:
    """Integers ``low..high`` as a rounded ``Scalar`` in which every integer owns a bin of width one (the
    bounds stay just inside the half-integers: a bounded optimizer may propose a bound exactly, and
    rounding halves to even would take ``low - 0.5`` below ``low`` when ``low`` is odd)."""
    return ng.p.Scalar(lower=low - 0.5 + 1e-9, upper=high + 0.5 - 1e-9).set_integer_casting()


# --------------------------------------------------------------------------------------------------
# Ray Tune
# --------------------------------------------------------------------------------------------------

def tune_param_space(space: DesignSpace, *, indices: bool = False) -> dict[str, Any]:
    """The space as a Ray Tune ``param_space`` of values (a trial's config is ``design_from``'s input).

    ``indices=True`` gives index knobs (``agents.tune_bridge.SearcherAgent``): ``randint(0, n)`` for
    ordered ones, so a searcher sees neighbours as neighbours, ``choice(range(n))`` for unordered ones.
    """
    from ray import tune

    out: dict[str, Any] = {}
    for p in searched(space):
        if isinstance(p, FloatRange):
            out[p.name] = (tune.loguniform if p.log else tune.uniform)(p.low, p.high)
        elif indices:
            n = p.cardinality
            out[p.name] = tune.randint(0, n) if p.ordered else tune.choice(list(range(n)))
        elif isinstance(p, IntRange) and not p.power_of_two and p.step == 1:
            out[p.name] = tune.randint(p.low, p.high + 1)
        elif isinstance(p, IntRange) and not p.power_of_two and p.low % p.step == 0:
            out[p.name] = tune.qrandint(p.low, p.high, p.step)  # multiples of the step, bounds included
        else:
            out[p.name] = tune.choice(list(p.values))
    return out


# --------------------------------------------------------------------------------------------------
# scikit-optimize
# --------------------------------------------------------------------------------------------------

def skopt_dimensions(space: DesignSpace) -> list[Any]:
    """The space as named scikit-optimize dimensions in ``searched(space)`` order (``Optimizer(dims)``;
    ``design_from(space, point)`` turns an asked point into a design)."""
    from skopt.space import Categorical, Integer, Real

    dims = []
    for p in searched(space):
        if isinstance(p, FloatRange):
            dims.append(Real(p.low, p.high, prior="log-uniform" if p.log else "uniform", name=p.name))
        elif isinstance(p, IntRange) and p.step == 1 and not p.power_of_two:
            dims.append(Integer(p.low, p.high, name=p.name))
        else:
            dims.append(Categorical(_plain(p, "scikit-optimize"), name=p.name))
    return dims
