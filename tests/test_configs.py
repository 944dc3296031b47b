"""Every preset in configs/envs/ makes its environment."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import yaml

import archgym

ROOT = Path(__file__).resolve().parent.parent
PRESETS = sorted((ROOT / "configs" / "envs").glob("*.yaml"))


def test_every_env_has_a_preset():
    ids = {yaml.safe_load(p.read_text())["id"] for p in PRESETS}
    assert ids == set(archgym.ENVIRONMENTS)


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_makes_its_env(path):
    cfg = yaml.safe_load(path.read_text())
    assert set(cfg) == {"id", "kwargs"}
    env = gym.make(cfg["id"], **cfg["kwargs"])
    env.reset(seed=0)
    *_, info = env.step(env.action_space.sample())
    assert info["metrics"]


AGENT_PRESETS = sorted((ROOT / "configs" / "agents").glob("*.yaml"))


def test_every_builtin_agent_has_a_preset_with_the_code_defaults():
    import agents

    names = {p.stem for p in AGENT_PRESETS}
    assert names == {"random_walk", "bayesopt", "ga", "aco", "ppo", "nsga2"}
    for path in AGENT_PRESETS:
        cfg = yaml.safe_load(path.read_text())
        assert cfg["agent"] == path.stem
        declared = agents.get(cfg["agent"]).hyperparameters
        assert cfg["hyperparameters"] == {k: h.default for k, h in declared.items()}, path.name
