"""Exact optima and Pareto fronts by dynamic programming over additive groups, checked against brute force."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from archgym.envs import DesignEnv
from archgym.frontier import exact_front
from archgym.objective import pareto_mask
from archgym.optimum import find_optimum
from simulators.core import (
    AdditiveStructure,
    Choice,
    DesignSpace,
    Direction,
    Evaluation,
    Metric,
    Simulator,
)
from simulators.quant import QuantSimulator


class Additive(Simulator):
    """Three groups of two knobs; ``a`` and ``b`` are sums, ``c`` a monotone function of two sums."""

    metrics = (Metric("a", "s"), Metric("b", "J"), Metric("c", "%", Direction.MAXIMIZE))
    workload = "toy"

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.space = DesignSpace([Choice(f"{x}{g}", [0, 1, 2], ordered=True) for g in range(3) for x in "xy"]
                                 + [Choice("fixed", ["only"])])
        self.table = rng.integers(1, 6, size=(3, 9, 4)).astype(float)  # group, option (3 x 3), term

    def _terms(self, design):
        return sum(self.table[g, 3 * design[f"x{g}"] + design[f"y{g}"]] for g in range(3))

    def _evaluate(self, design):
        t = self._terms(design)
        return Evaluation({"a": t[0], "b": t[1], "c": 100.0 - t[2] - 0.5 * t[3]})

    def additive_structure(self):
        options = np.array([[i, j] for i in range(3) for j in range(3)])
        return AdditiveStructure(
            groups=tuple((f"x{g}", f"y{g}") for g in range(3)), options=(options,) * 3,
            terms=tuple(self.table[g] for g in range(3)), term_names=("ta", "tb", "tc1", "tc2"),
            metric_terms={"a": ("ta",), "b": ("tb",), "c": ("tc1", "tc2")})


def _brute_front(sim, names):
    idx = sim.space.indices_from_ordinals(np.arange(sim.space.cardinality))
    batch = sim.evaluate_batch(idx)
    signs = np.array([1.0 if sim.metric(m).direction is Direction.MINIMIZE else -1.0 for m in names])
    pts = np.column_stack([batch.metrics[m] for m in names]) * signs
    return {tuple(p) for p in pts[pareto_mask(pts)]}


def _assert_same_front(dp: np.ndarray, brute: np.ndarray, rel: float = 1e-12) -> None:
    """Every point of the exact front is on the brute-force front, and a brute-force point missing from
    it is one that a point of the exact front dominates but for float rounding of a sum (a full-network
    latency summed in another order differs in the last bit)."""
    def close(a, b):
        return np.all(np.abs(a - b) <= rel * np.maximum(np.abs(a), np.abs(b)) + 1e-300, axis=-1)

    for p in dp:
        assert close(brute, p).any(), f"{p} is not on the brute-force front"
    for q in brute:
        if close(dp, q).any():
            continue
        weakly = np.all(dp <= q + rel * np.abs(q), axis=1) & np.any(dp < q - rel * np.abs(q), axis=1)
        assert weakly.any(), f"the exact front misses {q}"


@pytest.mark.parametrize("names", [("a", "b"), ("a", "c"), ("a", "b", "c")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_front_equals_brute_force_on_a_toy(names, seed):
    sim = Additive(seed)
    front = exact_front(sim.additive_structure(), sim.space, names)
    batch = sim.evaluate_batch(front.indices)
    signs = np.array([1.0 if sim.metric(m).direction is Direction.MINIMIZE else -1.0 for m in names])
    pts = np.column_stack([batch.metrics[m] for m in names]) * signs
    assert {tuple(p) for p in pts[pareto_mask(pts)]} == _brute_front(sim, names)
    # the counts are the designs sharing each front point's terms
    assert front.counts.sum() >= len(front) and (front.counts >= 1).all()


def test_optimum_by_groups_equals_enumeration_on_a_toy():
    env = DesignEnv(Additive(3), targets={"a": 6.0, "c": 93.0})
    enumerated = find_optimum(env, progress=False)
    grouped = find_optimum(env, limit=1, progress=False)  # over the limit: the additive structure is used
    assert grouped.method == "dynamic programming" and enumerated.method == "enumeration"
    assert grouped.best_reward == pytest.approx(enumerated.best_reward, abs=1e-12)
    assert {tuple(p["metrics"].values()) for p in grouped.pareto_front} == \
        {tuple(p["metrics"].values()) for p in enumerated.pareto_front}


@pytest.mark.parametrize("accelerator", ["bitfusion", "bitserial"])
@pytest.mark.parametrize("targets", [None, {"latency": 1.0, "size": 1.0, "accuracy_drop": 1.0}])
def test_quant_on_a_truncated_network_equals_brute_force(accelerator, targets):
    """Three searched layers (117,649 designs; two, 2,401, for the 3-metric front) of ResNet-18, the
    others at W8A8: enumeration vs groups."""
    layers = ["layer1.0.conv1", "layer2.0.conv2", "layer3.0.downsample"][: 3 if targets is None else 2]
    sim = QuantSimulator("resnet18", accelerator=accelerator, layers=layers)
    if targets is not None:  # targets near the middle of what these layers can reach
        ref = sim.evaluate(sim.uniform_design(4)).metrics
        targets = {"latency": ref["latency"], "size": ref["size"], "accuracy_drop": 0.05}
    env = gym.make("archgym/Quant-v0", accelerator=accelerator, layers=layers,
                   **({"targets": targets} if targets else {}))
    enumerated = find_optimum(env, progress=False)
    grouped = find_optimum(env, limit=1, progress=False)
    assert grouped.method == "dynamic programming"
    assert grouped.best_reward == pytest.approx(enumerated.best_reward, abs=1e-12)
    names = enumerated.pareto_metrics
    signs = np.array([1.0 if env.unwrapped.simulator.metric(m).direction is Direction.MINIMIZE else -1.0
                      for m in names])
    dp, brute = ([[p["metrics"][m] for m in names] for p in o.pareto_front] for o in (grouped, enumerated))
    _assert_same_front(np.array(dp) * signs, np.array(brute) * signs)
    # a met target stops counting, so designs off the front can tie with it: the front's count is a floor
    assert 1 <= grouped.optimal_designs <= enumerated.optimal_designs


def test_quant_exact_optimum_of_full_networks():
    opt = find_optimum(gym.make("archgym/Quant-v0", network="vgg16"), progress=False)
    assert opt.method == "dynamic programming" and opt.exact and opt.designs == 49 ** 14
    assert opt.best_reward == 1.0 and opt.pareto_metrics == ["latency", "accuracy_drop"]
    front = np.array([[p["metrics"]["latency"], p["metrics"]["accuracy_drop"]] for p in opt.pareto_front])
    assert pareto_mask(front).all() and len(front) > 100


def test_a_structure_must_cover_the_metrics_and_knobs():
    sim = Additive()
    with pytest.raises(ValueError, match="does not cover metric"):
        exact_front(sim.additive_structure(), sim.space, ["nope"])
    with pytest.raises(ValueError, match="terms must be"):
        AdditiveStructure((("x0",),), (np.zeros((2, 1), int),), (np.zeros((3, 2)),), ("t", "u"), {})


def test_best_known_is_a_labelled_bound_and_exact_only_at_the_maximum():
    from archgym.optimum import best_known

    env = gym.make("archgym/SoC-v0", targets={"latency": 1e-6, "area": 1e-3})  # out of reach: a true bound
    opt = best_known(env, budget=150, seeds=(0,), searches=(("random_walk", {}),), progress=False)
    assert opt.method == "search" and not opt.exact and "A bound" in opt.note
    assert opt.optimal_designs is None and opt.feasible_designs is None  # a search counts neither
    assert 0 < opt.best_reward < 1 and opt.best_reward == pytest.approx(env.unwrapped.objective(
        env.unwrapped.simulator.evaluate(opt.best_design)))
    for design in env.unwrapped.space.neighbors(opt.best_design):  # hill-climbed: no one-knob move is better
        assert env.unwrapped.objective(env.unwrapped.simulator.evaluate(design)) <= opt.best_reward + 1e-12
    easy = best_known(gym.make("archgym/SoC-v0", targets={"latency": 10.0}), budget=20, seeds=(0,),
                      searches=(("random_walk", {}),), progress=False)
    assert easy.best_reward == 1.0 and easy.exact and "optimal" in easy.note
