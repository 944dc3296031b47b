"""agents.spaces: a design space as Optuna, Nevergrad, Ray Tune and scikit-optimize spaces, in values.

Properties over random spaces (hypothesis): whatever a library draws is a design the space allows; every
design of the space is a point of the library's space and comes back unchanged; a discrete knob's values
in the library's space are exactly the values the knob allows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.spaces import (
    design_from,
    nevergrad_parametrization,
    optuna_distributions,
    searched,
    skopt_dimensions,
    suggest_design,
    tune_param_space,
)
from simulators.core import Choice, DesignSpace, FloatRange, IntRange

optuna = pytest.importorskip("optuna", reason="the Optuna adapter needs the search extra")
ng = pytest.importorskip("nevergrad", reason="the Nevergrad adapter needs the search extra")
pytest.importorskip("skopt")
from ray.tune.search.sample import Categorical, Float, Integer  # noqa: E402  (after the extras checks)

optuna.logging.set_verbosity(optuna.logging.WARNING)


@st.composite
def parameters(draw, name):
    kind = draw(st.sampled_from(["choice", "int", "pow2", "float"]))
    if kind == "choice":
        values = draw(st.one_of(
            st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=1, max_size=5, unique=True),
            st.lists(st.integers(-50, 50), min_size=1, max_size=5, unique=True),
            st.just([False, True])))
        return Choice(name, values, ordered=draw(st.booleans()) and all(isinstance(v, int) for v in values))
    if kind == "int":
        low, step, n = draw(st.integers(-20, 300)), draw(st.integers(1, 250)), draw(st.integers(2, 12))
        return IntRange(name, low, low + step * (n - 1), step=step)
    if kind == "pow2":
        a = draw(st.integers(0, 8))
        return IntRange(name, 1 << a, 1 << draw(st.integers(a + 1, 12)), power_of_two=True)
    log = draw(st.booleans())
    low = draw(st.floats(0.001, 50.0)) if log else draw(st.floats(-50.0, 50.0))
    high = low * draw(st.floats(1.5, 1000.0)) if log else low + draw(st.floats(0.5, 100.0))
    return FloatRange(name, low, high, log=log, levels=draw(st.one_of(st.none(), st.integers(2, 9))))


@st.composite
def spaces(draw):
    n = draw(st.integers(1, 5))
    return DesignSpace([draw(parameters(f"k{i}")) for i in range(n)])


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], float):
            assert math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12), k
        else:
            assert a[k] == b[k] and type(a[k]) is type(b[k]), k


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(spaces(), st.integers(0, 2**31 - 1))
def test_optuna(space, seed):
    dists = optuna_distributions(space)
    assert list(dists) == [p.name for p in searched(space)]
    for p in searched(space):
        d = dists[p.name]
        if p.discrete:
            allowed = (list(d.choices) if isinstance(d, optuna.distributions.CategoricalDistribution)
                       else list(range(d.low, d.high + 1, d.step)))
            assert allowed == list(p.values)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(3):
        trial = study.ask(dists)
        space.validate(design_from(space, trial.params))
        study.tell(trial, 0.0)
        design = suggest_design(study.ask(), space)  # the same distributions, through trial.suggest_*
        _same(design, space.validate(design))
    for design in space.sample(np.random.default_rng(seed), 4):
        params = {k: dists[k].to_external_repr(dists[k].to_internal_repr(design[k])) for k in dists}
        _same(design_from(space, params), design)


@SETTINGS
@given(spaces(), st.integers(0, 2**31 - 1))
def test_nevergrad(space, seed):
    param = nevergrad_parametrization(space)
    param.random_state = np.random.RandomState(seed)
    for p in searched(space):
        child = param[p.name]
        if p.discrete and hasattr(child, "choices"):
            assert list(child.choices.value) == list(p.values)
        elif p.discrete:  # an integer Scalar: its bounds round to the knob's ends
            low, high = child.bounds
            assert (round(float(low[0])), round(float(high[0]))) == (p.low, p.high)
    for _ in range(4):
        space.validate(design_from(space, param.sample().value))
    optimizer = ng.optimizers.registry["OnePlusOne"](parametrization=param, budget=6) if searched(space) else None
    for _ in range(6 if optimizer else 0):  # an optimizer's mutations too stay inside the allowed values
        candidate = optimizer.ask()
        space.validate(design_from(space, candidate.value))
        optimizer.tell(candidate, 0.0)
    for design in space.sample(np.random.default_rng(seed), 4):
        values = {p.name: design[p.name] for p in searched(space)}
        _same(design_from(space, param.spawn_child(new_value=values).value), design)


@SETTINGS
@given(spaces(), st.integers(0, 2**31 - 1))
def test_ray_tune(space, seed):
    config = tune_param_space(space)
    for p in searched(space):
        domain = config[p.name]
        if isinstance(domain, Categorical):
            assert list(domain.categories) == list(p.values)
        elif isinstance(domain, Integer):
            q = getattr(domain.get_sampler(), "q", 1)
            upper = domain.upper if q > 1 else domain.upper - 1  # qrandint includes its upper bound
            allowed = [v for v in range(domain.lower, upper + 1) if v % q == 0]
            assert allowed == list(p.values)
        else:
            assert isinstance(domain, Float) and (domain.lower, domain.upper) == (p.low, p.high)
    rng = np.random.default_rng(seed)
    for _ in range(4):
        drawn = {k: v.sample(random_state=int(rng.integers(2**31))) for k, v in config.items()}
        space.validate(design_from(space, drawn))


@SETTINGS
@given(spaces(), st.integers(0, 2**31 - 1))
def test_scikit_optimize(space, seed):
    from skopt.space import Space

    dims = skopt_dimensions(space)
    assert [d.name for d in dims] == [p.name for p in searched(space)]
    if not dims:
        return
    box = Space(dims)
    for point in box.rvs(4, random_state=seed):
        space.validate(design_from(space, point))
    for design in space.sample(np.random.default_rng(seed), 4):
        point = [design[d.name] for d in dims]
        assert point in box
        back = box.inverse_transform(box.transform([point]))[0]
        _same(design_from(space, back), design)


def test_single_valued_knobs_are_fixed_and_bad_values_refused():
    space = DesignSpace([Choice("mode", ["only"]), IntRange("n", 2, 8, step=2), Choice("shape", [(1, 2), (3, 4)])])
    assert [p.name for p in searched(space)] == ["n", "shape"]
    assert design_from(space, {"n": 4, "shape": (1, 2)}) == {"mode": "only", "n": 4, "shape": (1, 2)}
    assert design_from(space, [6, (3, 4)])["n"] == 6
    with pytest.raises(ValueError, match="parameter 'n': 5 is not allowed"):
        design_from(space, {"n": 5, "shape": (1, 2)})
    with pytest.raises(ValueError, match="Optuna categoricals hold None, booleans, numbers and strings"):
        optuna_distributions(space)
    assert tune_param_space(space)["shape"].categories == [(1, 2), (3, 4)]  # Tune and Nevergrad take any value


def test_the_issue_case_optuna_never_proposes_a_clock_between_steps():
    """Systolic-v0's clock_mhz is 200..1000 in steps of 200 and the SRAMs powers of two: TPE, through the
    helper and through Ray Tune's OptunaSearch on the Tune space, proposes only those."""
    import gymnasium as gym
    from ray.tune.search.optuna import OptunaSearch

    import archgym  # noqa: F401

    space = gym.make("archgym/Systolic-v0").unwrapped.space
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=5))
    study.optimize(lambda trial: suggest_design(trial, space)["clock_mhz"] / 1000.0, n_trials=25)
    assert {t.params["clock_mhz"] for t in study.trials} <= {200, 400, 600, 800, 1000}
    search = OptunaSearch(tune_param_space(space), metric="reward", mode="max",
                          sampler=optuna.samplers.TPESampler(seed=1, n_startup_trials=5))
    for i in range(15):
        config = search.suggest(f"t{i}")
        design = design_from(space, config)
        search.on_trial_complete(f"t{i}", {"reward": design["clock_mhz"] / 1000.0})


def test_a_searcher_reaching_a_log_bound_proposes_the_bound():
    """Nevergrad's Log gives exp(log(low)), an ulp below low, when PSO reaches the bound: that is the
    bound, while a value truly outside the range is still refused."""
    space = DesignSpace([FloatRange("lr", 1e-3, 0.3, log=True)])
    par = nevergrad_parametrization(space)
    par.random_state = np.random.RandomState(0)
    opt = ng.optimizers.PSO(parametrization=par, budget=200)
    values = []
    for _ in range(200):
        candidate = opt.ask()
        values.append(design_from(space, candidate.value)["lr"])
        opt.tell(candidate, values[-1])
    assert min(values) == 1e-3 and all(1e-3 <= v <= 0.3 for v in values)
    assert design_from(space, {"lr": 1e-3 * (1 - 1e-15)})["lr"] == 1e-3
    with pytest.raises(ValueError, match="parameter 'lr'"):
        design_from(space, {"lr": 0.999e-3})
