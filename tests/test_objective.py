"""Rewards (target spec, weighted sum) and Pareto utilities."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.objective import (
    Target,
    TargetObjective,
    WeightedSumObjective,
    build_objective,
    hypervolume,
    pareto_mask,
)
from simulators.core import BatchEvaluation, Direction, Evaluation, Metric

METRICS = (Metric("latency", "s"), Metric("power", "W"), Metric("accuracy", "%", Direction.MAXIMIZE))


def test_target_reward_formula():
    obj = TargetObjective({"latency": 1e-3, "accuracy": 70.0}, METRICS)
    assert obj(Evaluation({"latency": 1e-3, "power": 1, "accuracy": 70.0})) == 1.0  # met exactly
    assert obj(Evaluation({"latency": 5e-4, "power": 9, "accuracy": 75.0})) == 1.0  # better than target: met
    e = Evaluation({"latency": 2e-3, "power": 1, "accuracy": 70.0})  # latency missed by 2x
    assert obj(e) == pytest.approx((1 / (1 + math.log(2)) + 1) / 2)
    assert obj.distances(e.metrics) == {"latency": pytest.approx(math.log(2)), "accuracy": 0.0}
    e = Evaluation({"latency": 1e-3, "power": 1, "accuracy": 35.0})  # accuracy missed by 2x
    assert obj(e) == pytest.approx((1 + 1 / (1 + math.log(2))) / 2)
    assert obj(Evaluation({"latency": 1e-3, "power": 1, "accuracy": 0.0})) == pytest.approx(0.5)
    assert obj(Evaluation({"latency": math.nan, "power": 1, "accuracy": 70}, feasible=False, reason="x")) == 0.0


def test_target_weights():
    obj = TargetObjective([Target("latency", 1.0, weight=3.0), Target("power", 1.0)], METRICS)
    r = obj(Evaluation({"latency": math.e, "power": 1.0, "accuracy": 1}))  # latency distance 1
    assert r == pytest.approx((3 * 0.5 + 1) / 4)
    assert obj.to_dict() == {"type": "target", "targets": {"latency": {"value": 1.0, "weight": 3.0},
                                                            "power": {"value": 1.0, "weight": 1.0}}}


@settings(max_examples=300, deadline=None)
@given(x=st.floats(1e-12, 1e12), t=st.floats(1e-9, 1e9), y=st.floats(1e-12, 1e12))
def test_target_reward_is_bounded_monotone_and_has_no_singularity(x, t, y):
    obj = TargetObjective({"latency": t}, METRICS)
    rx = obj.reward_from_metrics({"latency": x})
    ry = obj.reward_from_metrics({"latency": y})
    assert 0 < rx <= 1
    assert (rx == 1) == (x <= t)
    if x <= y:
        assert rx >= ry  # smaller latency is never worse
    # continuous at the target: within 1e-6 relative of it, the reward is within 1e-6 of 1
    assert obj.reward_from_metrics({"latency": t * (1 + 1e-6)}) == pytest.approx(1, abs=1e-6)


def test_target_reward_vectorised_and_batched():
    obj = TargetObjective({"latency": 1.0, "accuracy": 10.0}, METRICS)
    lat = np.array([0.5, 2.0, 4.0, np.nan])
    acc = np.array([10.0, 20.0, 5.0, 1.0])
    batch = BatchEvaluation({"latency": lat, "power": np.ones(4), "accuracy": acc},
                            feasible=np.array([True, True, True, False]), reasons=[None] * 3 + ["bad"])
    rewards = obj.batch(batch)
    expected = [obj(batch[i]) for i in range(4)]
    assert rewards == pytest.approx(expected)
    assert rewards[3] == 0.0


def test_weighted_sum_objective():
    obj = WeightedSumObjective({"latency": 1, "accuracy": 1}, {"latency": 1e-3, "accuracy": 50}, METRICS)
    assert obj.reward_from_metrics({"latency": 1e-3, "accuracy": 50}) == pytest.approx(0.5)
    assert obj.reward_from_metrics({"latency": 1e-4, "accuracy": 50}) > 0.5
    assert obj.reward_from_metrics({"latency": 1e-3, "accuracy": 500}) > 0.5
    r = obj.reward_from_metrics({"latency": 0.0, "accuracy": math.inf})
    assert r == pytest.approx(1.0)
    assert 0 <= obj.reward_from_metrics({"latency": 1e9, "accuracy": 0}) < 1e-6


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        (None, {}, "no default targets: pass targets"),
        (None, {"targets": {"speed": 1}}, "unknown metric 'speed'"),
        (None, {"targets": {"latency": -1}}, "target for 'latency' must be a positive"),
        (None, {"targets": {"latency": 0}}, "must be a positive number, got 0"),
        ("pareto", {}, "unknown objective 'pareto'"),
        ({"type": "weighted_sum", "weights": {"latency": 1}}, {}, "needs a reference value for \\['latency'\\]"),
        ({"type": "weighted_sum", "weights": {"latency": 1}, "references": {"latency": 1, "power": 2}}, {},
         "reference value\\(s\\) for \\['power'\\] without a weight"),
        ({"type": "weighted_sum", "weights": {}}, {}, "needs weights"),
        ({"type": "target", "targets": {"latency": 1}, "extra": 1}, {}, "unknown key\\(s\\) \\['extra'\\]"),
        ({"type": "lexicographic"}, {}, "unknown objective type 'lexicographic'"),
        ({"type": "target", "targets": {"latency": {"value": 1, "wieght": 2}}}, {}, "give a number or a mapping"),
    ],
)
def test_build_objective_errors(spec, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_objective(spec, METRICS, **kwargs)


def test_build_objective_round_trips():
    for obj in (TargetObjective({"latency": 2.0, "accuracy": 3.0}, METRICS),
                WeightedSumObjective({"power": 2.0}, {"power": 0.5}, METRICS)):
        again = build_objective(obj.to_dict(), METRICS)
        assert again.to_dict() == obj.to_dict()
    default = build_objective(None, METRICS, default_targets={"power": 1.0})
    assert default.to_dict()["targets"] == {"power": {"value": 1.0, "weight": 1.0}}


# -- Pareto -----------------------------------------------------------------------------------------


def brute_force_front(points):
    keep = []
    for i, p in enumerate(points):
        dominated = any(np.all(q <= p) and np.any(q < p) for j, q in enumerate(points) if j != i)
        keep.append(not dominated)
    return np.array(keep)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), d=st.integers(2, 4))
def test_pareto_mask_matches_brute_force(data, d):
    n = data.draw(st.integers(0, 40))
    pts = np.array(data.draw(st.lists(st.lists(st.integers(0, 6), min_size=d, max_size=d),
                                      min_size=n, max_size=n)), dtype=float).reshape(n, d)
    assert np.array_equal(pareto_mask(pts), brute_force_front(pts))


def test_pareto_directions():
    pts = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 5.0]])  # minimise first, maximise second
    assert list(pareto_mask(pts, ["minimize", "maximize"])) == [True, True, False]


def test_hypervolume_known_values():
    assert hypervolume(np.array([[1.0, 1.0]]), [2.0, 2.0]) == pytest.approx(1.0)
    assert hypervolume(np.array([[1.0, 2.0], [2.0, 1.0]]), [3.0, 3.0]) == pytest.approx(3.0)
    assert hypervolume(np.array([[0.0, 0.0, 0.0]]), [1.0, 2.0, 3.0]) == pytest.approx(6.0)
    cube = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    assert hypervolume(cube, [2.0, 2.0, 2.0]) == pytest.approx(3 * 2 - 3 * 1 + 1)  # inclusion-exclusion
    assert hypervolume(np.array([[5.0, 5.0]]), [2.0, 2.0]) == 0.0
    assert hypervolume(np.array([[1.0, 10.0]]), [2.0, 5.0], ["minimize", "maximize"]) == pytest.approx(5.0)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), d=st.integers(2, 3))
def test_hypervolume_matches_grid_count(data, d):
    """On an integer grid the dominated volume is the number of dominated unit cells."""
    n = data.draw(st.integers(1, 8))
    pts = np.array(data.draw(st.lists(st.lists(st.integers(0, 5), min_size=d, max_size=d),
                                      min_size=n, max_size=n)), dtype=float)
    ref = np.full(d, 6.0)
    cells = 0
    for cell in itertools.product(range(6), repeat=d):
        if any(np.all(p <= np.array(cell)) for p in pts):
            cells += 1
    assert hypervolume(pts, ref) == pytest.approx(cells)


def test_pareto_errors():
    with pytest.raises(ValueError, match="2-D array"):
        pareto_mask(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="one direction per objective"):
        pareto_mask(np.ones((2, 2)), ["minimize"])
    with pytest.raises(ValueError, match="2 or 3 objectives"):
        hypervolume(np.ones((2, 4)), [2, 2, 2, 2])
