"""Search quality: with default hyperparameters, GA, ACO and BO beat random sampling on every env.

The full comparison (500 evaluations, 5 seeds, every agent and env) is `benchmarks/bench_agents.py`;
here the fast agents run at that scale and BO, whose surrogate refits dominate, at 60 evaluations
against random sampling at the same budget.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import archgym


def median_best(env, agent, budget, seeds=5, **hyper):
    return float(np.median([archgym.explore(env, agent, budget=budget, seed=s, hyperparameters=hyper or None,
                                            progress=False).best_reward for s in range(seeds)]))


@pytest.mark.parametrize("env_id", list(archgym.ENVIRONMENTS))
def test_ga_and_aco_beat_random_at_500(env_id):
    env = gym.make(env_id)
    baseline = median_best(env, "random_walk", 500)
    for agent in ("ga", "aco"):
        assert median_best(env, agent, 500) > baseline, agent


@pytest.mark.parametrize("env_id", list(archgym.ENVIRONMENTS))
def test_bayesopt_beats_random(env_id):
    env = gym.make(env_id)
    assert median_best(env, "bayesopt", 60, n_points=300) > median_best(env, "random_walk", 60)
