"""DesignEnv: gymnasium conformance, encodings, rewards, info, errors, and a user's own simulator."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import archgym
from archgym.envs import DesignEnv, make_design_env
from archgym.objective import TargetObjective
from simulators.systolic import REFERENCE_DESIGN, SystolicSimulator

ROOT = Path(__file__).resolve().parent.parent


def test_issue_example_runs():
    env = gym.make("archgym/Systolic-v0", workload="resnet18")
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    assert 0 < reward <= 1 and terminated and not truncated
    assert set(info) >= {"design", "metrics", "feasible", "reason", "distance", "step"}
    assert env.unwrapped.simulator.workload == "resnet18"
    assert env.unwrapped.space is env.unwrapped.simulator.space


@pytest.mark.parametrize("action_type", ["multidiscrete", "dict", "box"])
@pytest.mark.parametrize("observation", ["raw", "log"])
def test_env_checker_passes(action_type, observation):
    env = gym.make("archgym/Systolic-v0", action_type=action_type, observation=observation, max_steps=3)
    check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("action_type", ["multidiscrete", "dict", "box"])
def test_step_evaluates_the_encoded_design(action_type):
    env = gym.make("archgym/Systolic-v0", action_type=action_type).unwrapped
    env.reset(seed=1)
    action = env.design_to_action(REFERENCE_DESIGN)
    assert env.action_space.contains(action)
    assert env.action_to_design(action) == REFERENCE_DESIGN
    obs, reward, *_, info = env.step(action)
    expected = SystolicSimulator("resnet18").evaluate(REFERENCE_DESIGN)
    assert info["design"] == REFERENCE_DESIGN
    assert info["metrics"] == expected.metrics
    assert obs[:-1] == pytest.approx(np.array([expected.metrics[m] for m in env.metric_names], dtype=np.float32))
    assert obs[-1] == 1.0
    assert reward == pytest.approx(env.objective(expected))


def test_log_observation():
    env = gym.make("archgym/Systolic-v0", observation="log").unwrapped
    env.reset()
    obs, *_ , info = env.step(env.design_to_action(REFERENCE_DESIGN))
    assert obs[0] == pytest.approx(math.log10(info["metrics"]["latency"]), rel=1e-6)


def test_targets_and_distance_in_info():
    env = gym.make("archgym/Systolic-v0", targets={"latency": 1.0, "power": 1e-6}).unwrapped
    env.reset()
    *_, info = env.step(env.design_to_action(REFERENCE_DESIGN))
    assert info["distance"]["latency"] == 0.0
    assert info["distance"]["power"] == pytest.approx(math.log(info["metrics"]["power"] / 1e-6))


def test_episode_length_and_reset():
    """Several tries per episode: the limit is a time limit (truncated), never a terminal state."""
    env = gym.make("archgym/Systolic-v0", max_steps=3).unwrapped
    obs, info = env.reset(seed=0)
    assert np.all(obs == 0) and info == {}
    flags = [env.step(env.action_space.sample())[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(env.action_space.sample())
    env.reset()
    assert env.step(env.action_space.sample())[2:4] == (False, False)


def test_a_bandit_episode_terminates_and_info_carries_the_evaluation():
    """One design per episode (the default): the step ends the task, so it terminates."""
    env = gym.make("archgym/Systolic-v0").unwrapped
    env.reset(seed=0)
    design = env.simulator.default_design()
    _, reward, terminated, truncated, info = env.step(env.design_to_action(design))
    assert (terminated, truncated) == (True, False)
    assert info["evaluation"] == env.simulator.evaluate(design)
    assert reward == env.objective(info["evaluation"])


def test_seeding_makes_action_sampling_reproducible():
    def rollout(seed):
        env = gym.make("archgym/Systolic-v0")
        env.reset(seed=seed)
        env.action_space.seed(seed)
        return [tuple(env.action_space.sample()) for _ in range(5)]

    assert rollout(7) == rollout(7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action_type": "continuous"}, "unknown action_type 'continuous'"),
        ({"observation": "normalized"}, "unknown observation 'normalized'"),
        ({"max_steps": 0}, "max_steps must be a positive integer"),
        ({"workload": "lenet"}, "unknown workload 'lenet'"),
        ({"targets": {"throughput": 1}}, "unknown metric 'throughput'"),
        ({"dataflow": "os"}, "unknown keyword\\(s\\) \\['dataflow'\\] for SystolicSimulator"),
        ({"backend": "fpga"}, "unknown backend 'fpga'"),
        ({"render_mode": "video"}, "unknown render_mode 'video'"),
        ({"render_mode": False}, "unknown render_mode False"),  # before gymnasium.make calls .endswith on it
        ({"render_mode": 0}, "unknown render_mode 0"),
    ],
)
def test_bad_env_kwargs_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("archgym/Systolic-v0", **kwargs)


def test_action_outside_the_space_is_an_error():
    env = gym.make("archgym/Systolic-v0").unwrapped
    env.reset()
    bad = env.space.nvec.copy()  # one past the last index of every parameter
    with pytest.raises(ValueError, match=rf"outside the action space .*: element 0 is {bad[0]}, outside \[0, "
                                         rf"{bad[0] - 1}\]"):
        env.step(bad)
    with pytest.raises(ValueError, match="outside the action space"):
        env.step([0, 0])
    # the message says why gymnasium refused an array: its shape, or a dtype a float32 Box does not take
    box = gym.make("archgym/Systolic-v0", action_type="box").unwrapped
    box.reset()
    with pytest.raises(ValueError, match=r"its shape is \(3,\), the space's \(9,\)"):
        box.step(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"a float64 array, which gymnasium does not accept for a float32 space"):
        box.step(np.full(len(box.space), 0.5))
    assert box.step(np.full(len(box.space), 0.5, dtype=np.float32))[1] >= 0  # cast, it is taken


@pytest.mark.parametrize("mode", ["ansi_list", "rgb_array_list"])
def test_gymnasium_make_collects_frames_for_a_list_render_mode(mode):
    """gymnasium.make wraps an env offering ``ansi``/``rgb_array`` in RenderCollection for ``*_list``
    modes, as its docs say; it finds the modes on the entry point, the factory ``make_design_env``."""
    env = gym.make("archgym/Systolic-v0", render_mode=mode)
    assert isinstance(env, gym.wrappers.RenderCollection)
    env.reset(seed=0)
    env.step(env.unwrapped.design_to_action(REFERENCE_DESIGN))
    frames = env.render()
    assert len(frames) == 2 and (mode == "rgb_array_list") == isinstance(frames[0], np.ndarray)


def test_render_ansi():
    env = gym.make("archgym/Systolic-v0", render_mode="ansi").unwrapped
    env.reset()
    assert env.render() == "no design evaluated yet"
    env.step(env.design_to_action(REFERENCE_DESIGN))
    text = env.render()
    assert "rows = 32" in text and "latency:" in text


def test_objective_instance_and_weighted_sum():
    sim = SystolicSimulator("alexnet")
    env = DesignEnv(sim, TargetObjective({"energy": 1.0}, sim.metrics))
    env.reset()
    assert env.step(env.design_to_action(REFERENCE_DESIGN))[1] == 1.0
    env = make_design_env(SystolicSimulator, workload="alexnet",
                          objective={"type": "weighted_sum", "weights": {"latency": 1, "energy": 1},
                                     "references": {"latency": 1e-3, "energy": 1e-3}})
    env.reset()
    assert 0 < env.step(env.design_to_action(REFERENCE_DESIGN))[1] < 1


def test_importing_archgym_is_cheap():
    """Env ids register without importing simulators, ray or xgboost."""
    import subprocess
    import sys

    code = ("import sys, archgym; bad = [m for m in ('simulators.systolic', 'ray', 'xgboost', 'torch', 'skopt')"
            " if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert "archgym/Systolic-v0" in archgym.ENVIRONMENTS


def test_user_simulator_runs_in_the_same_env():
    spec = importlib.util.spec_from_file_location("custom_simulator", ROOT / "examples" / "custom_simulator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = DesignEnv(module.CacheSimulator(), targets={"latency": 5e-9})
    check_env(env, skip_render_check=True)
    module.main()  # the documented example itself
    env = gym.make("mylab/Cache-v0")
    env.reset(seed=0)
    *_, info = env.step(env.unwrapped.design_to_action({"size_kb": 512, "ways": 16, "policy": "lru"}))
    assert info["feasible"] and info["metrics"]["area"] == pytest.approx(0.01 * 512 * 1.32)


@pytest.mark.parametrize("action_type", ["multidiscrete", "box"])
def test_explore_evaluates_the_float_an_agent_proposes_not_its_encodings_rounding(action_type):
    """A FloatRange with levels is continuous for agents: the levels grid (multidiscrete) and float32 (box)
    would round bayesopt's proposals, so explore pins each step to the design asked for."""
    import agents
    from agents.testing import ToySimulator

    env = DesignEnv(ToySimulator(), targets={"cost": 1.0}, action_type=action_type)
    agent = agents.get("bayesopt")(env.space, seed=0)
    asked, ask = [], agent.ask
    agent.ask = lambda n: (lambda ds: asked.extend(env.space.validate(d) for d in ds) or ds)(ask(n))
    result = archgym.explore(env, agent, budget=12, seed=0, progress=False)
    assert [r.design for r in result.records] == asked
    assert len({d["scale"] for d in asked}) > 5  # off the 5 levels, so the pin mattered
    # a step with an action of its own evaluates what the action stands for
    env.reset()
    action = env.design_to_action(asked[-1])
    _, _, _, _, info = env.step(action)
    assert info["design"] == env.action_to_design(action)
    # a promise holds for one step with its own action only
    env.reset()
    env.expect_design(asked[-1])
    other = env.design_to_action(asked[0])
    assert env.step(other)[4]["design"] == env.action_to_design(other)


def test_explore_refuses_a_wrapper_that_changes_the_agents_design():
    class Shift(gym.ActionWrapper):
        def action(self, action):
            return np.zeros_like(action)

    env = Shift(gym.make("archgym/Systolic-v0", workload="alexnet"))
    with pytest.raises(RuntimeError, match="a wrapper changed the action"):
        archgym.explore(env, "random_walk", budget=5, seed=1, progress=False)
