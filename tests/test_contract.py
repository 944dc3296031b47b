"""The simulator and agent contracts: enforced by the base classes, and runnable as checkers.

Every built-in simulator (each workload kind), the example simulator and every built-in ask/tell agent
pass ``check_simulator`` / ``check_agent`` (PPO in test_agents_rl.py, which has the Ray session);
deliberately broken ones are caught with a message naming the rule.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import agents
from agents.base import Agent, Hyperparameter
from agents.testing import ToySimulator, check_agent, toy_space
from simulators.core import (
    BatchEvaluation,
    Choice,
    DesignSpace,
    Evaluation,
    IntRange,
    Metric,
    Simulator,
)
from simulators.testing import ContractError, check_simulator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from custom_simulator import CacheSimulator  # noqa: E402


def builtin(name: str, **kwargs):
    import simulators.dram
    import simulators.quant
    import simulators.soc
    import simulators.systolic

    classes = {"systolic": simulators.systolic.SystolicSimulator, "dram": simulators.dram.DRAMSimulator,
               "soc": simulators.soc.SoCSimulator, "quant": simulators.quant.QuantSimulator}
    return classes[name](**kwargs)


@pytest.mark.parametrize(
    ("name", "kwargs", "samples"),
    [
        ("systolic", {"workload": "resnet18"}, 24),
        ("systolic", {"workload": "mobilenet_v2"}, 24),
        ("systolic", {"workload": "bert_base", "dram": "hbm2"}, 24),
        ("dram", {}, 12),
        ("dram", {"workload": "stream", "memspec": "lpddr4_3200"}, 8),
        ("soc", {"workload": "audio_decoder"}, 24),
        ("soc", {"workload": "edge_detection", "max_cores": 3}, 24),
        ("quant", {"network": "resnet50", "accelerator": "bitserial"}, 24),
        ("quant", {"network": "vgg16"}, 24),
    ],
)
def test_builtin_simulators_keep_the_contract(name, kwargs, samples):
    check_simulator(builtin(name, **kwargs), samples=samples)


def test_example_and_toy_simulators_keep_the_contract():
    check_simulator(CacheSimulator())
    check_simulator(ToySimulator())


# -- the contract is enforced by the base class --------------------------------------------------------


class Knob(Simulator):
    """A one-knob simulator whose ``_evaluate`` returns whatever the test puts in ``result``."""

    metrics = (Metric("cost", "J"), Metric("area", "mm^2"))
    workload = "w"

    def __init__(self, result=None) -> None:
        self.space = DesignSpace([IntRange("x", 0, 3)])
        self.result = result

    def _evaluate(self, design):
        return self.result(design) if callable(self.result) else self.result


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (Evaluation({"cost": 1.0, "area": 2.0, "speed": 3.0}),
         r"Knob: _evaluate returned undeclared metric\(s\) \['speed'\]"),
        (Evaluation({"cost": 1.0}), r"Knob: _evaluate left out metric\(s\) \['area'\] of a feasible design"),
        (Evaluation({"cost": math.nan, "area": 1.0}), r"metric 'cost' is nan for a feasible design"),
        (Evaluation({"cost": "1", "area": 1.0}), r"metric 'cost' is '1', not a number"),
        (Evaluation({"cost": math.nan}, feasible=False), r"an infeasible Evaluation needs a reason"),
        ({"cost": 1.0, "area": 2.0}, r"_evaluate returned dict, not an Evaluation"),
    ],
)
def test_evaluate_refuses_a_result_outside_the_contract(result, message):
    with pytest.raises(ValueError, match=message):
        Knob(result).evaluate({"x": 1})


def test_evaluate_converts_numpy_numbers_and_allows_what_infeasible_designs_lack():
    e = Knob(Evaluation({"cost": np.float32(1.5), "area": np.int64(2)})).evaluate({"x": 1})
    assert e.metrics == {"cost": 1.5, "area": 2.0} and all(type(v) is float for v in e.metrics.values())
    e = Knob(Evaluation({"area": 1.0}, feasible=False, reason="too big")).evaluate({"x": 1})
    assert not e.feasible and e.metrics == {"area": 1.0}


def test_a_simulator_that_declares_nothing_says_so():
    class NoSpace(Simulator):
        metrics = (Metric("cost", "J"),)

        def _evaluate(self, design):
            return Evaluation({"cost": 1.0})

    with pytest.raises(ValueError, match="NoSpace must set self.space to a simulators.core.DesignSpace"):
        NoSpace()

    class NoMetrics(Simulator):
        def __init__(self):
            self.space = DesignSpace([IntRange("x", 0, 3)])

        def _evaluate(self, design):
            return Evaluation({})

    with pytest.raises(ValueError, match="NoMetrics must set self.metrics to a non-empty tuple"):
        NoMetrics()

    class Twice(NoMetrics):
        metrics = (Metric("cost", "J"), Metric("cost", "s"))

    with pytest.raises(ValueError, match=r"declares metric\(s\) \['cost'\] more than once"):
        Twice()


def test_evaluate_batch_refuses_wrong_columns_and_batch_evaluation_names_lengths():
    class Batched(Knob):
        def _evaluate_batch(self, indices):
            return self.result(len(indices))

    sim = Batched(lambda n: BatchEvaluation({"cost": np.ones(n)}, np.ones(n, bool), [None] * n))
    with pytest.raises(ValueError, match=r"no column for metric\(s\) \['area'\]"):
        sim.evaluate_batch(np.zeros((3, 1), dtype=np.int64))
    sim = Batched(lambda n: BatchEvaluation({"cost": np.ones(n), "area": np.full(n, np.inf)}, np.ones(n, bool),
                                            [None] * n))
    with pytest.raises(ValueError, match="metric 'area' is inf for feasible design 0"):
        sim.evaluate_batch(np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"feasible has 3, but reasons has 2, metrics\['cost'\] has 4"):
        BatchEvaluation({"cost": np.ones(4), "area": np.ones(3)}, np.ones(3, bool), [None] * 2)


def test_settings_record_the_arguments_as_resolved():
    sim = builtin("systolic", dram="hbm2")
    assert sim.settings == {"workload": "resnet18", "dram": "hbm2", "traffic": "reuse", "space": None}
    assert type(sim)(**sim.settings).evaluate(sim.default_design()) == sim.evaluate(sim.default_design())
    # an int for a float default is the same setting, recorded as the default's type (one JSON text)
    given, default = builtin("dram", initiator_mhz=800), builtin("dram")
    assert given.settings == default.settings and type(given.settings["initiator_mhz"]) is float
    assert builtin("dram", seed=3).settings["seed"] == 3  # a default of None keeps what was given


# -- check_simulator catches broken simulators -------------------------------------------------------------


class Flaky(Knob):
    """Gives a different cost at every call (a hidden counter)."""

    def __init__(self, result=None) -> None:
        super().__init__(result)
        self.calls = 0

    def _evaluate(self, design):
        self.calls += 1
        return Evaluation({"cost": float(self.calls), "area": 1.0})


class BatchDisagrees(Knob):
    def _evaluate(self, design):
        return Evaluation({"cost": float(design["x"]), "area": 1.0})

    def _evaluate_batch(self, indices):
        n = len(indices)
        return BatchEvaluation({"cost": np.full(n, 7.0), "area": np.ones(n)}, np.ones(n, bool), [None] * n)


class BadDefault(BatchDisagrees):
    def _evaluate_batch(self, indices):
        return Simulator._evaluate_batch(self, indices)

    def default_design(self):
        return {"x": 9}


class BadTargets(BadDefault):
    def default_design(self):
        return {"x": 1}

    def default_targets(self):
        return {"speed": 1.0}


class Vague(BadTargets):
    """A space whose refusals do not name the parameter."""

    def default_targets(self):
        return {}

    def __init__(self, result=None) -> None:
        super().__init__(result)

        class Quiet(IntRange):
            def _reject(self, value):
                return ValueError("bad value")

        self.space = DesignSpace([Quiet("x", 0, 3)])


@pytest.mark.parametrize(
    ("sim", "message"),
    [
        (Flaky(), "evaluating it again .* must be deterministic"),
        (BatchDisagrees(), r"evaluate_batch \(row 0\) gave cost=7.0"),
        (BadDefault(), "default_design\\(\\) is not a valid design"),
        (BadTargets(), "default_targets\\(\\) names 'speed', which is not a metric"),
        (Vague(), "refusing x=.* must name 'x'"),
    ],
)
def test_check_simulator_names_the_broken_rule(sim, message):
    with pytest.raises(ContractError, match=message):
        check_simulator(sim, samples=6)


# -- agents ---------------------------------------------------------------------------------------------------

_SHORT = {"bayesopt": {"n_points": 100}, "ga": {"population": 8}}


@pytest.mark.parametrize("name", [n for n in agents.available() if n != "ppo"])
def test_builtin_agents_keep_the_contract(name):
    check_agent(agents.get(name), hyperparameters=_SHORT.get(name))


def test_agents_search_float_ranges_with_levels():
    for name in ("ga", "aco", "random_walk"):
        agent = agents.get(name)(toy_space(), seed=0)
        assert all(toy_space().validate(d) == d for d in agent.ask(agent.batch_size))


class Stubborn(Agent):
    """Always proposes the first value of every knob (so most values are never reached)."""

    name = "stubborn"
    hyperparameters = {"width": Hyperparameter(1, int, 1, None, doc="unused")}

    def ask(self, n=1):
        n = self._check_ask(n)
        return [self.space.decode_indices(np.zeros(len(self.space), dtype=np.int64)) for _ in range(n)]

    def tell(self, designs, rewards, evaluations):
        pass


class Unseeded(Stubborn):
    name = "unseeded"

    def ask(self, n=1):
        n = self._check_ask(n)
        return self.space.sample(np.random.default_rng(), n)


class Short(Stubborn):
    name = "short"

    @property
    def batch_size(self):
        return 4

    def ask(self, n=1):
        return super().ask(max(1, n - 1))


class Lax(Stubborn):
    name = "lax"
    hyperparameters = {"width": Hyperparameter(1, int, 1, None, doc="unused"),
                       "mode": Hyperparameter("a", str, choices=("a", "b"))}

    def __init__(self, space, *, seed=None, **hyperparameters):
        hyperparameters.pop("mode", None)  # silently drops a setting
        super().__init__(space, seed=seed, **hyperparameters)


class IgnoresSeed(Stubborn):
    """Draws from a generator of its own fixed seed: every value reached, the same designs for every seed."""

    name = "ignores_seed"

    def __init__(self, space, *, seed=None, **hyperparameters):
        super().__init__(space, seed=seed, **hyperparameters)
        self._rng = np.random.default_rng(12345)

    def ask(self, n=1):
        return self.space.sample(self._rng, self._check_ask(n))


class FloatForInt(IgnoresSeed):
    name = "float_for_int"

    def __init__(self, space, *, seed=None, **hyperparameters):
        super().__init__(space, seed=seed, **hyperparameters)
        self._rng = np.random.default_rng(seed)

    def ask(self, n=1):
        return [{k: float(v) if isinstance(v, int) else v for k, v in d.items()} for d in super().ask(n)]


class MutatesTold(FloatForInt):
    name = "mutates_told"

    def ask(self, n=1):
        return self.space.sample(self._rng, self._check_ask(n))

    def tell(self, designs, rewards, evaluations):
        for d in designs:
            d["kind"] = "a"


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (IgnoresSeed, "searches with seeds 0 and 1 proposed the same designs: the agent ignores its seed"),
        (FloatForInt, r"ask returned an invalid design: .* is not in its canonical form .* \(values of the space's "
                      r"own types: kind str, .*int"),
        (MutatesTold, "tell changed the designs it was told"),
        (Stubborn, r"never proposed kind = \['b', 'c'\]"),
        (Unseeded, "two searches with seed 0 proposed different designs"),
        (Short, r"accepted ask\(0\)|ask\(4\) returned 3 designs"),
        (Lax, "accepted mode="),
    ],
)
def test_check_agent_names_the_broken_rule(cls, message):
    with pytest.raises(ContractError, match=message):
        check_agent(cls)


def test_hyperparameters_and_sweeps_share_the_parameter_language():
    hp = agents.get("ga").hyperparameters["population"]
    assert isinstance(hp.domain("population"), IntRange) and hp.describe() == "an integer in [2, 100000]"
    assert isinstance(Hyperparameter("tpe", str, choices=("tpe", "random")).domain("s"), Choice)
    with pytest.raises(ValueError, match="hyperparameter 'population': 1 is not allowed; "
                       "expected an integer in \\[2, 100000\\]"):
        hp.check("ga", "population", 1)

    from archgym.config import SpecError, parse_sweep
    from simulators.core import FloatRange

    spec = {"name": "s", "env": "archgym/Systolic-v0", "budget": 10,
            "agents": {"ga": {"hyperparameters": {"population": {"grid": [8, 16]},
                                                  "mutation_prob": {"uniform": [0.1, 0.5]}}}}}
    sweep = parse_sweep(spec).agents[0]
    assert isinstance(sweep.search["population"].domain, Choice)
    assert isinstance(sweep.search["mutation_prob"].domain, FloatRange)
    spec["agents"]["ga"]["hyperparameters"]["population"] = {"grid": [8, 1]}
    with pytest.raises(SpecError, match="hyperparameter 'population': 1 is not allowed; "
                       "expected an integer in \\[2, 100000\\]"):
        parse_sweep(spec)
