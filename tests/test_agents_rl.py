"""PPO agent (RLlib, new API stack): exact budget through explore, seeding, learning, every value reachable, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import agents
import archgym
from archgym.envs import make_design_env
from simulators.core import Evaluation

pytest.importorskip("torch", reason="PPO needs the rl extra (torch, ray[rllib])")
pytest.importorskip("ray.rllib", reason="PPO needs the rl extra (torch, ray[rllib])")

from agents.rl import PPOAgent, _Run  # noqa: E402  (after the rl-extra check)

SMALL = {"train_batch_size": 64, "minibatch_size": 32, "num_envs": 8}  # fast runs for budget checks
ENV_ID = "archgym/Systolic-v0"


def _ppo(env, seed, **hp) -> PPOAgent:
    return agents.get("ppo")(env.unwrapped.space, seed=seed, **hp)


def test_registered_and_drives_the_env():
    assert "ppo" in agents.available()
    assert agents.get("ppo") is PPOAgent
    assert PPOAgent.drives_env


@pytest.mark.timeout(300)
def test_exact_budget_same_seed_same_history(ray_session):
    env = gym.make(ENV_ID)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    runs = [archgym.explore(env, "ppo", budget=150, seed=s, hyperparameters=SMALL) for s in (7, 7, 8)]
    for r in runs:
        assert r.evaluations == 150 and len(r.history) == 150 and len(r.records) == 150
        assert r.agent == "ppo" and r.hyperparameters["train_batch_size"] == 64
        assert np.all(np.diff(r.history) >= 0) and r.history[-1] == r.best_reward
    assert np.array_equal(runs[0].rewards, runs[1].rewards)
    assert [x.design for x in runs[0].records] == [x.design for x in runs[1].records]
    assert not np.array_equal(runs[0].rewards, runs[2].rewards)
    # RLlib seeds the process-wide generators; the agent gives the caller's back
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.timeout(300)
def test_ppo_keeps_the_agent_contract(ray_session):
    """check_agent on the toy space (every kind of knob): validation, exact budget, seeding, and every
    value reachable (MultiDiscrete heads, no binning of a continuous action: ArchGym's round() reached
    3 values a knob)."""
    from agents.testing import check_agent

    if "archgym-test/Toy-v0" not in gym.registry:
        gym.register("archgym-test/Toy-v0", entry_point="archgym.envs:make_design_env",
                     kwargs={"simulator": "agents.testing:ToySimulator", "targets": {"cost": 0.5}})
    check_agent(PPOAgent, env=gym.make("archgym-test/Toy-v0"), budget=96, hyperparameters=SMALL)


@pytest.mark.timeout(300)
def test_budget_smaller_than_a_batch_and_multi_step_episodes(ray_session):
    env = gym.make(ENV_ID)
    agent = _ppo(env, 1, **SMALL)
    result = archgym.explore(env, agent, budget=5, seed=1)
    assert result.evaluations == 5 and agent.plan(5).iterations == 0
    assert [it.evaluations for it in agent.iterations] == [5]

    env = gym.make(ENV_ID, max_steps=3)  # episodes of 3 evaluations, cut at batch boundaries
    agent = _ppo(env, 2, **SMALL)
    result = archgym.explore(env, agent, budget=100, seed=2)
    assert result.evaluations == 100
    assert agent.plan(100) == agent.plan(100).__class__(num_envs=8, batch=64, minibatch=32, iterations=1,
                                                        leftover=36)
    assert [it.evaluations for it in agent.iterations] == [64, 100]


@pytest.mark.timeout(300)
def test_improves_on_its_first_iteration(ray_session):
    env = gym.make(ENV_ID)
    agent = _ppo(env, 0)  # default hyperparameters: batches of 64
    result = archgym.explore(env, agent, budget=640, seed=0)
    batch = agent.plan(640).batch
    assert batch == 64 and [it.evaluations for it in agent.iterations] == [batch * k for k in range(1, 11)]
    first, last = result.rewards[:batch].mean(), result.rewards[-batch:].mean()
    assert first == pytest.approx(agent.iterations[0].mean_reward)
    assert last == pytest.approx(agent.iterations[-1].mean_reward)
    assert last > first + 0.05, (first, last)


def test_learns_with_many_knob_heads(ray_session):
    # Quant-v0 has 38 heads: a KL penalty and an entropy bonus summed over them held the old defaults'
    # policy near uniform (seed 0's last batch 0.807 against its first 0.817; the defaults: 0.893)
    env = gym.make("archgym/Quant-v0")
    agent = _ppo(env, 0)
    result = archgym.explore(env, agent, budget=640, seed=0)
    first, last = result.rewards[:64].mean(), result.rewards[-64:].mean()
    assert last > first + 0.04, (first, last)


def test_plan_splits_the_budget_exactly():
    agent = PPOAgent(gym.make(ENV_ID).unwrapped.space, seed=0, train_batch_size=100, num_envs=16)
    for budget in (1, 15, 96, 97, 500, 1000, 1237):
        plan = agent.plan(budget)
        assert plan.batch == 96 and plan.batch % plan.num_envs == 0
        assert plan.iterations * plan.batch + plan.leftover == budget and 0 <= plan.leftover < plan.batch
    with pytest.raises(ValueError, match="budget"):
        agent.plan(0)


@pytest.mark.parametrize(("hp", "match"), [
    ({"lr": -1e-3}, r"'lr': -0.001 is not allowed; expected a number in \[1e-07, 1\]"),
    ({"lr": float("nan")}, "'lr': nan is not allowed; expected a number in"),
    ({"train_batch_size": 0}, "'train_batch_size': 0 is not allowed; expected a positive integer"),
    ({"minibatch_size": 256}, r"minibatch_size \(256\) must be <= train_batch_size \(64\)"),
    ({"num_envs": 200}, r"num_envs \(200\) must be <= train_batch_size"),
    ({"activation": "sigmoid"}, "'activation': 'sigmoid' is not allowed; expected one of 'tanh', 'relu'"),
    ({"num_epochs": 2.5}, r"'num_epochs': 2.5 is not allowed; expected an integer in \[1, 1000\]"),
    ({"hidden_layers": 0}, r"'hidden_layers': 0 is not allowed; expected an integer in \[1, 64\]"),  # RLlib: IndexError
    ({"hidden_layers": 10**6}, r"'hidden_layers': 1000000 is not allowed; expected an integer in \[1, 64\]"),
    ({"hidden_width": 10**9}, r"'hidden_width': 1000000000 is not allowed; expected an integer in \[1, 4096\]"),
    ({"num_epochs": 10**9}, r"'num_epochs': 1000000000 is not allowed; expected an integer in \[1, 1000\]"),
    ({"num_envs": 10**6}, r"'num_envs': 1000000 is not allowed; expected an integer in \[1, 1024"),
    ({"learning_rate": 0.1}, r"unknown hyperparameter\(s\) \['learning_rate'\]"),
])
def test_bad_hyperparameters(hp, match):
    with pytest.raises(ValueError, match=match):
        PPOAgent(gym.make(ENV_ID).unwrapped.space, seed=0, **hp)


def test_ask_and_tell_point_to_explore():
    agent = PPOAgent(gym.make(ENV_ID).unwrapped.space, seed=0)
    with pytest.raises(RuntimeError, match=r"archgym.explore\(env, 'ppo'"):
        agent.ask(1)
    with pytest.raises(RuntimeError, match="archgym.explore"):
        agent.tell([], [], [])


def test_env_without_spec_is_refused():
    env = make_design_env("simulators.systolic:SystolicSimulator")  # not made by gymnasium.make: no spec
    with pytest.raises(ValueError, match="no spec"):
        archgym.explore(env, "ppo", budget=3, seed=0)


def test_a_step_past_the_budget_never_reaches_the_simulator():
    seen = []
    run = _Run(ENV_ID, {}, budget=1, record=lambda d, e, r: seen.append((d, e, r)), shaping="none")
    env = run.make_env()
    env.reset(seed=0)
    run.before_step()
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert run.after_step(reward, info) == reward
    assert len(seen) == 1 and isinstance(seen[0][1], Evaluation) and seen[0][2] == reward
    with pytest.raises(RuntimeError, match="evaluation 2 of a budget of 1"):
        run.before_step()


def test_log_gap_shaping_trains_on_the_gap_and_records_the_reward():
    seen = []
    run = _Run(ENV_ID, {}, budget=3, record=lambda d, e, r: seen.append(r), shaping="log_gap")
    env = run.make_env()
    run.check_reward_range(env)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert run.after_step(reward, info) == pytest.approx(-np.log(1.0 - reward + 1e-3))
    assert run.after_step(1.0, info) == pytest.approx(-np.log(1e-3))  # the top: the largest shaped reward
    assert seen == [reward, 1.0]  # the records keep the env's reward
    with pytest.raises(ValueError, match=r"reward 1.5 lies outside the env's reward_range \(0.0, 1.0\)"):
        run.after_step(1.5, info)


def test_log_gap_needs_a_finite_reward_range():
    env = gym.make(ENV_ID)
    env.unwrapped.reward_range = (0.0, float("inf"))
    with pytest.raises(ValueError, match="'log_gap' needs the env's reward_range.*reward_shaping='none'"):
        archgym.explore(env, "ppo", budget=3, seed=0)  # refused before Ray or RLlib start
    del env.unwrapped.reward_range
    with pytest.raises(ValueError, match="has None"):
        archgym.explore(env, "ppo", budget=3, seed=0)
    with pytest.raises(ValueError, match="'reward_shaping': 'log' is not allowed"):
        _ppo(env, 0, reward_shaping="log")


@pytest.mark.timeout(300)
def test_the_shaped_reward_is_what_ppo_trains_on(ray_session):
    """Same seed, same first batch (the untrained policy); the updates then differ with the shaping."""
    env = gym.make(ENV_ID)
    runs = [archgym.explore(env, "ppo", budget=128, seed=3, hyperparameters={**SMALL, "reward_shaping": shaping})
            for shaping in ("log_gap", "none")]
    designs = [[x.design for x in r.records] for r in runs]
    assert designs[0][:64] == designs[1][:64] and designs[0][64:] != designs[1][64:]
