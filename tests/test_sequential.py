"""Design-by-steps episodes (``episode="sequential"``): one knob per Discrete step, action masks from the
simulator's ``allowed_values`` (on SoC-v0 exactly the structurally valid choices), one evaluation per
episode; and the rgb_array render both forms share."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import archgym
from archgym.envs import DesignEnv
from simulators.core import Choice, DesignSpace, Evaluation, FloatRange, Metric, Simulator
from simulators.soc import BUNDLED, SoCSimulator
from simulators.soc.graph import graph_from_dict
from simulators.soc.model import check_soc
from simulators.systolic import REFERENCE_DESIGN


@pytest.mark.parametrize("env_id", list(archgym.ENVIRONMENTS))
def test_env_checker_passes_in_both_forms(env_id):
    for episode in ("one-step", "sequential"):
        env = gym.make(env_id, episode=episode, render_mode="rgb_array")
        check_env(env.unwrapped, skip_render_check=False)


def _masked_episode(env, rng):
    obs, info = env.reset(seed=int(rng.integers(1 << 30)))
    steps = []
    while True:
        mask = env.unwrapped.action_masks()
        assert np.array_equal(mask, info["action_mask"]) and mask.any()
        action = int(rng.choice(np.flatnonzero(mask)))
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            return steps


def test_one_knob_per_step_then_one_evaluation():
    env = gym.make("archgym/Systolic-v0", episode="sequential")
    base = env.unwrapped
    space = base.space
    assert env.action_space == gym.spaces.Discrete(int(space.nvec.max()))
    assert env.observation_space.shape == (2 * len(space),)
    obs, info = env.reset(seed=0)
    d = len(space)
    assert not obs[:d].any() and obs[d] == 1.0  # nothing set; the first knob is the one to set
    assert info["action_mask"].tolist() == [i < space.nvec[0] for i in range(env.action_space.n)]
    indices = space.encode_indices(REFERENCE_DESIGN)
    for k, index in enumerate(indices):
        obs, reward, terminated, truncated, info = env.step(int(index))
        assert obs[k] == pytest.approx((index + 0.5) / space.nvec[k])
        if k < d - 1:
            assert (reward, terminated, truncated) == (0.0, False, False) and "evaluation" not in info
            assert obs[d + k + 1] == 1.0 and info["knob"] == space.names[k]
    assert terminated and not truncated
    one_step = gym.make("archgym/Systolic-v0").unwrapped
    one_step.reset()
    _, expected, *_, expected_info = one_step.step(one_step.design_to_action(REFERENCE_DESIGN))
    assert info["design"] == REFERENCE_DESIGN and reward == expected
    assert info["evaluation"] == expected_info["evaluation"] and info["distance"] == expected_info["distance"]
    assert not obs[d:].any()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)


def test_a_refused_index_ends_the_episode_without_an_evaluation():
    env = gym.make("archgym/Systolic-v0", episode="sequential").unwrapped
    env.reset(seed=0)
    env.step(0)
    env.step(0)  # rows, cols set; dataflow has 3 values
    evaluations = []
    env.simulator.evaluate = lambda d: evaluations.append(d)  # would be called by an evaluation
    _, reward, terminated, truncated, info = env.step(5)
    assert (reward, terminated, truncated) == (env.objective.infeasible_reward, True, False)
    assert info["invalid_action"] and "allowed: [0, 1, 2]" in info["reason"] and evaluations == []
    assert env.action_masks().all()  # the episode is over: nothing an action does matters


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"episode": "knobwise"}, "unknown episode 'knobwise'"),
        ({"episode": "sequential", "action_type": "box"}, "takes one Discrete action per knob"),
        ({"episode": "sequential", "max_steps": 4}, "builds one design per episode"),
    ],
)
def test_bad_episode_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("archgym/Systolic-v0", **kwargs)


class _Heater(Simulator):
    """One continuous knob (with or without a grid) and one choice."""

    metrics = (Metric("cost", "1"),)

    def __init__(self, levels: int | None = 4) -> None:
        self.space = DesignSpace([FloatRange("power", 1.0, 8.0, log=True, levels=levels),
                                  Choice("mode", ["eco", "boost"])])

    def _evaluate(self, design):
        return Evaluation({"cost": design["power"] * (2.0 if design["mode"] == "boost" else 1.0)})


def test_float_levels_are_steps_and_a_plain_float_range_is_refused():
    env = DesignEnv(_Heater(levels=4), episode="sequential", targets={"cost": 2.0})
    check_env(env, skip_render_check=True)  # no registered spec: render modes have nothing to check
    env.reset(seed=0)
    env.step(3)
    *_, info = env.step(1)
    assert info["design"] == {"power": pytest.approx(8.0), "mode": "boost"}
    with pytest.raises(ValueError, match="give float ranges levels=N"):
        DesignEnv(_Heater(levels=None), episode="sequential", targets={"cost": 2.0})


def test_explore_and_whole_design_encodings_refuse_a_sequential_env():
    env = gym.make("archgym/Systolic-v0", episode="sequential")
    with pytest.raises(ValueError, match="one-step episodes"):
        archgym.explore(env, "random_walk", budget=3, seed=0)
    with pytest.raises(ValueError, match="encodes a whole design"):
        env.unwrapped.design_to_action(REFERENCE_DESIGN)
    one_step = gym.make("archgym/Systolic-v0").unwrapped
    assert one_step.action_masks().shape == (int(one_step.space.nvec.sum()),)


@pytest.mark.parametrize("workload", BUNDLED)
def test_masked_soc_episodes_always_build(workload):
    """Uniform one-step actions on SoC-v0 are mostly infeasible; masked sequential ones never are."""
    env = gym.make("archgym/SoC-v0", workload=workload, episode="sequential")
    rng = np.random.default_rng(0)
    for _ in range(4):
        steps = _masked_episode(env, rng)
        assert len(steps) == len(env.unwrapped.space)
        info = steps[-1][4]
        assert info["feasible"], info["reason"]
    masks = [s[4]["action_mask"] for s in steps[:-1]]
    assert any(m.sum() < n for m, n in zip(masks, env.unwrapped.space.nvec[1:]))  # some choices were masked


# --- the SoC mask is exactly "some buildable design keeps these knobs": brute force on a small SoC ---

_STRUCTURAL = ("_type", "_bus", "_link", "_pe", "_mem")
_TINY = graph_from_dict({
    "name": "tiny",
    "tasks": [{"name": "a", "core_cycles": 1e6, "accel": {"cycles": 1e5, "energy_j": 1e-9, "area_mm2": 0.1}},
              {"name": "b", "core_cycles": 2e6}],
    "edges": [{"from": "a", "to": "b", "bytes": 4096}],
    "inputs": {"a": 1024}, "outputs": {"b": 512},
})


@pytest.fixture(scope="module")
def tiny_soc():
    """The tiny SoC's structural knobs and every assignment of them that check_soc accepts."""
    sim = SoCSimulator(_TINY)
    knobs = [p for p in sim.space if p.name.endswith(_STRUCTURAL)]
    rest = {p.name: p.values[0] for p in sim.space if p not in knobs}  # sizes and clocks: no say in validity
    valid = []
    for idx in itertools.product(*(range(p.cardinality) for p in knobs)):
        design = {**rest, **{p.name: p.value_at(i) for p, i in zip(knobs, idx)}}
        if check_soc(sim.plan, sim.encoding.to_soc(design)) is None:
            valid.append(idx)
    return sim, knobs, np.array(valid)


def test_the_soc_mask_is_exact_on_every_prefix(tiny_soc):
    sim, knobs, valid = tiny_soc
    assert 0 < len(valid) < np.prod([p.cardinality for p in knobs])
    rng = np.random.default_rng(1)
    for walk in range(24):
        chosen, rows = {}, np.ones(len(valid), dtype=bool)
        for j, p in enumerate(knobs):
            mask = sim.allowed_values(p.name, chosen)
            truth = np.array([(rows & (valid[:, j] == i)).any() for i in range(p.cardinality)])
            assert np.array_equal(mask, truth), (p.name, chosen)
            # half the walks follow the mask, half wander off it (then every later mask must be empty)
            options = np.flatnonzero(mask) if walk % 2 == 0 and mask.any() else np.arange(p.cardinality)
            i = int(rng.choice(options))
            chosen[p.name] = p.value_at(i)
            rows &= valid[:, j] == i


def test_partly_bridged_buses_are_tried_every_way():
    """Three buses, bus1 unbridged, bus2 free: bridging bus2 to bus0 or to bus1 makes different islands, and
    only one of them lets the only core (pe0, on bus2) reach the only memory (mem0, on bus1)."""
    sim = SoCSimulator(_TINY, max_buses=3)
    prefix = {"pe1_type": "none", "mem0_type": "sram", "mem1_type": "none", "pe0_bus": "bus2", "pe1_bus": "bus0",
              "ip_a_bus": "bus0", "mem0_bus": "bus1", "mem1_bus": "none", "bus1_link": "none"}
    assert sim.allowed_values("bus2_link", prefix).tolist() == [False, False, True]  # none, bus0, bus1
    prefix["bus2_link"] = "bus1"
    assert sim.allowed_values("task_a_pe", prefix).tolist() == [True, False, False]  # pe0; pe1 absent; ip on bus0
    witness = sim.encoding.complete(prefix)
    assert witness is not None and sim.evaluate(witness).feasible


# --- rendering ---

def test_rgb_array_picture():
    env = gym.make("archgym/Systolic-v0", render_mode="rgb_array")
    env.reset(seed=0)
    blank = env.render()
    assert blank.shape == (240, 320, 3) and blank.dtype == np.uint8
    env.step(env.unwrapped.design_to_action(REFERENCE_DESIGN))
    picture = env.render()
    assert picture.shape == blank.shape and not np.array_equal(picture, blank)
    green = (picture[..., 1] > 120) & (picture[..., 0] < 80)  # some target met or missed: colored bars
    red = (picture[..., 0] > 180) & (picture[..., 1] < 80)
    assert green.any() or red.any()


def test_sequential_ansi_shows_the_knobs_set_so_far():
    env = gym.make("archgym/Systolic-v0", episode="sequential", render_mode="ansi").unwrapped
    env.reset()
    env.step(3)
    assert env.render() == "1 of 9 knobs set\n  rows = 32"


def test_gymnasium_vector_envs_and_wrappers_with_a_plain_id():
    envs = gym.make_vec("archgym/Systolic-v0", num_envs=2, vectorization_mode="sync", render_mode="rgb_array")
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)
    envs.reset(seed=0)
    _, rewards, terminated, _, infos = envs.step(envs.action_space.sample())
    assert terminated.all() and (rewards > 0).all() and "episode" in infos
    envs.close()
    env = gym.wrappers.RenderCollection(gym.make("archgym/SoC-v0", episode="sequential", render_mode="rgb_array"))
    env.reset(seed=0)
    env.step(int(np.flatnonzero(env.unwrapped.action_masks())[0]))
    assert len(env.render()) == 2 and env.render_mode == "rgb_array_list"


def test_stable_baselines3_make_vec_env_in_process():
    env_util = pytest.importorskip("stable_baselines3.common.env_util",
                                   reason="Stable-Baselines3 comes with the clients extra")
    vec = env_util.make_vec_env("archgym/Systolic-v0", n_envs=2, seed=0)
    vec.reset()
    _, rewards, dones, _ = vec.step(np.array([vec.action_space.sample() for _ in range(2)]))
    assert dones.all() and (rewards > 0).all()
    assert vec.get_images()[0].shape == (240, 320, 3)
    vec = env_util.make_vec_env("archgym/SoC-v0", n_envs=2, seed=0, env_kwargs={"episode": "sequential"})
    masks = np.stack(vec.env_method("action_masks"))
    assert masks.shape == (2, vec.action_space.n) and masks.any(axis=1).all()
