"""``archgym/SoC-v0`` through the shared DesignEnv."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium.utils.env_checker import check_env

import archgym  # noqa: F401 - registers the env ids
from simulators.soc import BUNDLED

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("workload", BUNDLED)
def test_env_checker_and_a_random_step(workload: str) -> None:
    env = gym.make("archgym/SoC-v0", workload=workload)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert obs.shape == (6,) and not obs.any()
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert terminated and not truncated
    assert 0.0 <= reward <= 1.0
    if info["feasible"]:
        assert obs[-1] == 1.0 and obs[0] == pytest.approx(info["metrics"]["latency"], rel=1e-6)
    else:
        assert reward == 0.0 and info["reason"]


def test_default_targets_are_the_archgym_budgets() -> None:
    env = gym.make("archgym/SoC-v0")
    targets = {t.metric: t.value for t in env.unwrapped.objective.targets}
    assert targets == {"latency": 0.021, "power": 0.008737, "area": 17.475}
    env = gym.make("archgym/SoC-v0", workload="hpvm_cava")
    assert {t.metric: t.value for t in env.unwrapped.objective.targets}["latency"] == 0.034


def test_all_accelerator_design_gets_the_full_reward() -> None:
    env = gym.make("archgym/SoC-v0", workload="audio_decoder", action_type="dict").unwrapped
    sim = env.simulator
    design = sim.repair(sim.space.sample(np.random.default_rng(0)))
    design.update({k: "ip" for k in design if k.endswith("_pe") and k.startswith("task_")})
    design.update({k: 1 for k in design if k.endswith("_unroll")}, accel_clock_mhz=100)
    env.reset(seed=1)
    _, reward, _, _, info = env.step(env.design_to_action(design))
    assert info["feasible"] and reward == 1.0


def test_metric_names_and_units() -> None:
    sim = gym.make("archgym/SoC-v0").unwrapped.simulator
    assert {m.name: m.unit for m in sim.metrics} == {"latency": "s", "energy": "J", "power": "W",
                                                      "peak_power": "W", "area": "mm^2"}


def test_config_preset_makes_the_env() -> None:
    cfg = yaml.safe_load((ROOT / "configs/envs/soc.yaml").read_text())
    env = gym.make(cfg["id"], **cfg["kwargs"])
    env.reset(seed=0)
    env.step(env.action_space.sample())


def test_user_graph_path(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("name: two\nbudgets: {latency_s: 0.001}\ntasks:\n  - {name: a, core_cycles: 1000}\n"
                    "  - {name: b, core_cycles: 2000, accel: {cycles: 10, energy_j: 0, area_mm2: 0.1}}\n"
                    "edges:\n  - {from: a, to: b, bytes: 100}\n")
    env = gym.make("archgym/SoC-v0", workload=str(path))
    assert env.unwrapped.simulator.workload == "two"
    assert [t.metric for t in env.unwrapped.objective.targets] == ["latency"]
    env.reset(seed=0)
    env.step(env.action_space.sample())


@pytest.mark.parametrize("kwargs,match", [
    ({"workload": "resnet18"}, r"unknown workload 'resnet18'; choose one of \['audio_decoder'"),
    ({"max_cores": 9}, r"max_cores must be an integer in \[1, 4\], got 9"),
    ({"dram": "sram"}, r"unknown dram 'sram'; choose one of"),
    ({"power_window_s": 0}, "power_window_s must be a positive number"),
    ({"latency_budget": 0.02}, r"unknown keyword\(s\) \['latency_budget'\]"),
    ({"targets": {"throughput": 1.0}}, "target on unknown metric 'throughput'"),
])
def test_bad_kwargs_are_clear(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gym.make("archgym/SoC-v0", **kwargs)
