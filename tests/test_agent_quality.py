"""Search quality: with default hyperparameters, GA, ACO and BO beat random sampling on every env.

"Beat" means a higher median (over 5 seeds) best reward; where random sampling also reaches the
ceiling (every target met, reward 1) the tie is broken by the median number of evaluations needed,
counting a seed that never met the targets as budget + 1. The full comparison (500 evaluations,
every agent and env, default env settings) is `benchmarks/bench_agents.py`; here the fast agents run
at that budget, BO (surrogate refits dominate its cost) at 60 evaluations against random at 60, and
the DRAM env on a 2,000-request trace instead of 10,000 to keep the suite quick.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import archgym

KWARGS = {"archgym/DRAM-v0": {"requests": 2000}}


def score(env, agent, budget, seeds=5, **hyper) -> tuple[float, float]:
    runs = [archgym.explore(env, agent, budget=budget, seed=s, hyperparameters=hyper or None, progress=False)
            for s in range(seeds)]
    to_target = [r.target_met_at or budget + 1 for r in runs]
    return float(np.median([r.best_reward for r in runs])), float(np.median(to_target))


def beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
    (reward_a, evals_a), (reward_b, evals_b) = a, b
    return reward_a > reward_b or (reward_a == reward_b == 1.0 and evals_a < evals_b)


@pytest.mark.parametrize("env_id", list(archgym.ENVIRONMENTS))
def test_ga_and_aco_beat_random_at_500(env_id):
    env = gym.make(env_id, **KWARGS.get(env_id, {}))
    baseline = score(env, "random_walk", 500)
    for agent in ("ga", "aco"):
        result = score(env, agent, 500)
        assert beats(result, baseline), f"{agent} {result} vs random {baseline}"


@pytest.mark.parametrize("env_id", list(archgym.ENVIRONMENTS))
def test_bayesopt_beats_random(env_id):
    env = gym.make(env_id, **KWARGS.get(env_id, {}))
    result, baseline = score(env, "bayesopt", 60, n_points=300), score(env, "random_walk", 60)
    assert beats(result, baseline), f"bayesopt {result} vs random {baseline}"
