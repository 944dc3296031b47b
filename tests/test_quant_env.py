"""archgym/Quant-v0 through the shared DesignEnv: env checker, steps, config preset, errors, and that the
default targets are reachable for every bundled network and both accelerators."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium.utils.env_checker import check_env

import archgym  # noqa: F401 - registers the env ids
from simulators.quant import BIT_WIDTHS, NETWORKS, QuantSimulator

ROOT = Path(__file__).resolve().parents[1]
ENV_ID = "archgym/Quant-v0"


@pytest.mark.parametrize("network,accelerator", [("resnet18", "bitfusion"), ("resnet50", "bitserial"),
                                                 ("bert_base", "bitfusion")])
def test_env_checker_and_random_step(network, accelerator):
    env = gym.make(ENV_ID, network=network, accelerator=accelerator)
    check_env(env.unwrapped)
    sim = env.unwrapped.simulator
    assert isinstance(sim, QuantSimulator) and sim.workload == network
    assert env.action_space.shape == (len(sim.space),)
    env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert terminated and not truncated and 0.0 < reward <= 1.0
    assert set(info["metrics"]) == {"bops", "size", "latency", "energy", "accuracy", "accuracy_drop"}
    assert obs[:-1] == pytest.approx(np.array([info["metrics"][m] for m in sim.metric_names], dtype=np.float32))


def test_int8_design_meets_accuracy_but_not_latency_target():
    env = gym.make(ENV_ID, task="hard").unwrapped
    sim = env.simulator
    _, reward, _, _, info = env.step(env.design_to_action(sim.uniform_design(8)))
    assert info["distance"]["accuracy_drop"] == 0.0
    assert info["distance"]["latency"] == pytest.approx(np.log(1 / 0.8))
    assert reward == pytest.approx(0.5 * (1 + 1 / (1 + np.log(1 / 0.8))))


def test_config_preset_builds():
    cfg = yaml.safe_load((ROOT / "configs" / "envs" / "quant.yaml").read_text())
    env = gym.make(cfg["id"], **cfg["kwargs"])
    assert env.unwrapped.simulator.bits == BIT_WIDTHS
    env.reset(seed=0)
    env.step(env.action_space.sample())


def test_bad_kwargs():
    with pytest.raises(ValueError, match="unknown network 'alexnet'"):
        gym.make(ENV_ID, network="alexnet")
    with pytest.raises(ValueError, match="unknown keyword.*workload"):
        gym.make(ENV_ID, workload="resnet18")
    with pytest.raises(ValueError, match="bits"):
        gym.make(ENV_ID, bits=[1, 8])


def _fastest_within(sim: QuantSimulator, max_drop: float) -> dict:
    """Near-fastest design with accuracy_drop <= max_drop: Lagrangian knapsack over per-layer width pairs
    (latency and the perturbation are both sums over layers), then greedy single-layer speed-ups."""
    n = len(BIT_WIDTHS)
    allowed = np.array([BIT_WIDTHS.index(b) for b in sim.bits])
    pairs = (allowed[:, None] * n + allowed[None, :]).ravel()
    free = np.array(sim.searchable)
    lat = sim.per_layer("latency").reshape(len(sim.layer_names), -1)[free][:, pairs]
    om = sim.per_layer("omega").reshape(len(sim.layer_names), -1)[free][:, pairs]
    model = sim.accuracy_model
    lo, hi = 0.0, model.omega_4 * 100  # largest total perturbation allowed (top1 is monotone in it)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if model.drop(mid) <= max_drop else (lo, mid)
    eight = BIT_WIDTHS.index(8) * (n + 1)
    pinned = sum(sim.per_layer("omega").reshape(len(sim.layer_names), -1)[i, eight]
                 for i in range(len(sim.layer_names)) if i not in sim.searchable)
    budget = lo - pinned

    def pick(lam):
        c = np.argmin(lat + lam * om, axis=1)
        return c, om[np.arange(len(free)), c].sum()

    a, b = 0.0, 1.0
    while pick(b)[1] > budget:
        b *= 10
    for _ in range(60):
        mid = 0.5 * (a + b)
        a, b = (mid, b) if pick(mid)[1] > budget else (a, mid)
    choice, total = pick(b)
    rows = np.arange(len(free))
    while True:
        gain = lat[rows, choice][:, None] - lat
        ok = (om - om[rows, choice][:, None] + total <= budget) & (gain > 1e-15)
        if not ok.any():
            break
        i, j = np.unravel_index(np.argmax(np.where(ok, gain, -1.0)), gain.shape)
        total += om[i, j] - om[i, choice[i]]
        choice[i] = j
    bw, ba = [8] * len(sim.layer_names), [8] * len(sim.layer_names)
    for layer, p in zip(free, pairs[choice]):
        bw[layer], ba[layer] = BIT_WIDTHS[p // n], BIT_WIDTHS[p % n]
    return sim.design_for(bw, ba)


@pytest.mark.parametrize("network", list(NETWORKS))
@pytest.mark.parametrize("accelerator", ["bitfusion", "bitserial"])
@pytest.mark.parametrize("task", ["easy", "medium", "hard"])
def test_default_targets_are_reachable(network, accelerator, task):
    sim = QuantSimulator(network, accelerator=accelerator, task=task)
    targets = sim.default_targets()
    ref = sim.evaluate(sim.uniform_design(8)).metrics
    if task == "hard":
        assert targets["accuracy_drop"] == 1.0 and targets["latency"] <= 0.95 * ref["latency"]
    best = sim.evaluate(_fastest_within(sim, targets["accuracy_drop"])).metrics
    assert best["accuracy_drop"] <= targets["accuracy_drop"]
    assert best["latency"] <= targets["latency"]


@pytest.mark.parametrize(("task", "low", "high"), [("easy", 3e-3, 3e-2), ("medium", 1e-5, 1e-3), ("hard", 0, 0)])
def test_tasks_are_as_rare_as_stated(task, low, high):
    """Fresh uniform random designs (not the calibration sample) meeting each task of ResNet-18 on BitFusion:
    about 1 in 10^2 (easy), 1 in 10^4 (medium), none (hard)."""
    sim = QuantSimulator("resnet18", task=task)
    env = gym.make(ENV_ID, task=task).unwrapped
    idx = sim.space.sample_indices(np.random.default_rng(12345), 300_000)
    fraction = float(np.mean(env.objective.batch(sim.evaluate_batch(idx)) >= 1.0))
    assert low <= fraction <= high, fraction
