"""``archgym/DRAM-v0`` through the shared ``DesignEnv``: env checker, steps, presets and errors."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium.utils.env_checker import check_env

import archgym  # noqa: F401 - registers the env ids
from archgym.envs import DesignEnv
from simulators.dram import REFERENCE_DESIGN, TARGET_FACTORS, DRAMSimulator
from simulators.dram.controller import ADMISSIONS

ROOT = Path(__file__).resolve().parents[1]


def test_registered_and_checked():
    assert archgym.ENVIRONMENTS["archgym/DRAM-v0"] == "simulators.dram:DRAMSimulator"
    env = gym.make("archgym/DRAM-v0", workload="stream", memspec="ddr3_1600", requests=2000)
    assert isinstance(env.unwrapped, DesignEnv)
    check_env(env.unwrapped, skip_render_check=True)


def test_random_step_reports_metrics_and_reward():
    env = gym.make("archgym/DRAM-v0", workload="cloud-2", requests=2000)
    obs, _ = env.reset(seed=3)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert terminated and not truncated
    assert set(info["metrics"]) == {"total_time", "latency", "latency_p99", "bandwidth", "energy", "power",
                                    "row_hit_rate"}
    assert 0.0 <= reward <= 1.0 and obs.shape == (8,) and obs[-1] in (0.0, 1.0)


def test_reference_design_step_matches_the_simulator():
    env = gym.make("archgym/DRAM-v0", workload="stream", requests=2000).unwrapped
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.design_to_action(REFERENCE_DESIGN))
    direct = DRAMSimulator("stream", requests=2000).evaluate(REFERENCE_DESIGN).metrics
    assert info["metrics"] == direct
    assert env.objective.distances(direct).keys() == {"power", "latency"}


def test_trace_file_workload_and_user_memspec(tmp_path):
    (tmp_path / "t.stl").write_text("".join(f"{i}:\tread\t0x{i * 64:x}\n" for i in range(300)))
    spec = yaml.safe_load((ROOT / "simulators/dram/data/ddr3_1600.yaml").read_text())
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    env = gym.make("archgym/DRAM-v0", workload=str(tmp_path / "t.stl"), memspec=str(tmp_path / "spec.yaml"))
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.unwrapped.design_to_action(REFERENCE_DESIGN))
    assert info["metrics"]["total_time"] == pytest.approx(300 * 4 * 1.25e-9, rel=0.1)


def test_preset_config_makes_the_env():
    cfg = yaml.safe_load((ROOT / "configs/envs/dram.yaml").read_text())
    assert cfg["id"] == "archgym/DRAM-v0"
    env = gym.make(cfg["id"], **dict(cfg["kwargs"], requests=1000))
    env.reset(seed=1)
    assert env.step(env.action_space.sample())[2]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"workload": "cloud-9"}, "unknown workload 'cloud-9'"),
    ({"memspec": "ddr5_4800"}, "unknown memspec 'ddr5_4800'"),
    ({"workload": "stream", "requests": -5}, "requests must be a positive integer"),
    ({"workload": "stream", "banks": 4}, r"unknown keyword\(s\) \['banks'\]"),
])
def test_bad_kwargs_are_clear(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gym.make("archgym/DRAM-v0", **kwargs)


def test_default_targets_are_factors_of_the_reference_design():
    for admission in ADMISSIONS:  # each admission has its own calibrated factors
        for memspec in ("ddr3_1600", "ddr4_2400", "lpddr4_3200"):
            sim = DRAMSimulator("cloud-1", memspec=memspec, requests=2000, buffer_admission=admission)
            ref = sim.evaluate(REFERENCE_DESIGN).metrics
            targets = sim.default_targets()
            assert targets == {k: f * ref[k] for k, f in TARGET_FACTORS[admission][memspec].items()}
            assert set(targets) == {"power", "latency"}
    assert set(TARGET_FACTORS) == set(ADMISSIONS)
    env = gym.make("archgym/DRAM-v0", workload="stream", requests=1000).unwrapped
    assert {t.metric for t in env.objective.targets} == {"power", "latency"}


def test_default_targets_are_reachable():
    # designs of the classes that meet them (found by enumerating all 442,368 designs: docs/envs/dram.md)
    cases = (("ddr3_1600", dict(REFERENCE_DESIGN, RequestBufferSize=1, Arbiter="Fifo", MaxActiveTransactions=4)),
             ("ddr4_2400", dict(REFERENCE_DESIGN, RequestBufferSize=2, Arbiter="Fifo", MaxActiveTransactions=8,
                                RefreshMaxPostponed=1)),
             ("lpddr4_3200", dict(REFERENCE_DESIGN, PagePolicy="ClosedAdaptive", Scheduler="Fifo",
                                  SchedulerBuffer="ReadWrite", RequestBufferSize=4, RefreshPolicy="NoRefresh",
                                  Arbiter="Reorder", MaxActiveTransactions=4)))
    # under buffer_admission="dramsys", with its own factors (designs found by enumerating under dramsys)
    dramsys = (("ddr3_1600", dict(REFERENCE_DESIGN, RequestBufferSize=2, Arbiter="Fifo", MaxActiveTransactions=4)),
               ("ddr4_2400", dict(REFERENCE_DESIGN, Scheduler="Fifo", RequestBufferSize=4, RefreshMaxPostponed=4,
                                  RefreshMaxPulledin=1, Arbiter="Fifo", MaxActiveTransactions=8)),
               ("lpddr4_3200", dict(REFERENCE_DESIGN, Scheduler="Fifo", RequestBufferSize=4, RefreshMaxPulledin=1,
                                    Arbiter="Reorder", MaxActiveTransactions=4)))
    for admission, (memspec, design) in [("incoming", c) for c in cases] + [("dramsys", c) for c in dramsys]:
        sim = DRAMSimulator("cloud-1", memspec=memspec, buffer_admission=admission)
        m = sim.evaluate(design).metrics
        assert all(m[k] <= v for k, v in sim.default_targets().items()), (memspec, admission)
        near = sim.evaluate(dict(design, MaxActiveTransactions=2 * design["MaxActiveTransactions"])).metrics
        assert not all(near[k] <= v for k, v in sim.default_targets().items()), (memspec, admission)  # rare
        ref = sim.evaluate(REFERENCE_DESIGN).metrics
        assert ref["power"] > sim.default_targets()["power"]  # DRAMSys's example controller misses them


@pytest.mark.parametrize("write_fraction", [0.0, 0.3])
def test_designs_sharing_a_cache_entry_simulate_identically(write_fraction):
    """The result cache treats knobs that cannot act as equal; simulating each design afresh agrees."""
    sim = DRAMSimulator("cloud-1", requests=500, write_fraction=write_fraction)
    rng = np.random.default_rng(0)
    variants = ({"SchedulerBuffer": "ReadWrite", "Scheduler": "FrFcfsGrp"}, {"SchedulerBuffer": "Shared",
                "Scheduler": "FrFcfs"}, {"Arbiter": "Simple", "MaxActiveTransactions": 1},
                {"Arbiter": "Simple", "MaxActiveTransactions": 128}, {"RefreshPolicy": "NoRefresh"})
    for _ in range(15):
        base = sim.space.sample(rng)
        designs = [dict(base, **v) for v in variants] + [dict(base, RefreshPolicy="NoRefresh",
                                                              RefreshMaxPostponed=8, RefreshMaxPulledin=8)]
        by_key: dict = {}
        for d in designs:
            by_key.setdefault(sim._cache_key(d), []).append(sim._simulate(d))
        for first, *rest in by_key.values():
            for r in rest:
                assert r.feasible == first.feasible
                np.testing.assert_array_equal(list(r.metrics.values()), list(first.metrics.values()))
    assert (sim._cache_key(dict(base, **variants[0])) == sim._cache_key(dict(base, **variants[1]))) \
        == (write_fraction == 0.0)


@pytest.mark.parametrize("write_fraction", [0.0, 0.3])
def test_evaluate_batch_matches_evaluate_and_fills_the_cache(write_fraction):
    """A batch (threads, duplicates, equivalent designs, infeasible ones) equals design-by-design results."""
    sim = DRAMSimulator("cloud-1", memspec="lpddr4_3200", requests=300, write_fraction=write_fraction)
    rng = np.random.default_rng(3)
    indices = sim.space.sample_indices(rng, 40)
    twin = indices[:10].copy()  # the same designs under the Simple arbiter, with another MaxActiveTransactions
    mat = sim.space.names.index("MaxActiveTransactions")
    twin[:, mat] = 7 - twin[:, mat]
    twin[:, sim.space.names.index("Arbiter")] = sim.space["Arbiter"].index_of("Simple")
    indices = np.concatenate([indices, indices[:5], twin])
    batch = sim.evaluate_batch(indices)
    fresh = DRAMSimulator("cloud-1", memspec="lpddr4_3200", requests=300, write_fraction=write_fraction)
    for i, design in enumerate(sim.space.decode_indices_batch(indices)):
        single = fresh._simulate(design)
        assert batch[i].feasible == single.feasible
        np.testing.assert_array_equal(list(batch[i].metrics.values()), list(single.metrics.values()))
        assert sim._cache[sim._cache_key(design)].feasible == single.feasible  # cached under its class
    assert not batch.feasible.all() and batch.feasible.any()  # 1-slot buffers cannot hold two bursts
    keys = {sim._cache_key(d) for d in sim.space.decode_indices_batch(indices)}
    assert len(sim._cache) == len(keys) < len(indices)
