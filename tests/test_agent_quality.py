"""Search quality: with default hyperparameters, GA, ACO and BO beat random sampling.

"Beat" means a higher median (over 5 seeds) best reward; where random sampling also reaches the
ceiling (every target met, reward 1) the tie is broken by the median number of evaluations needed,
counting a seed that never met the targets as budget + 1. The full comparison (500 evaluations,
every agent and env, default env settings) is `benchmarks/bench_agents.py`, whose table is in
docs/agents.md. Here, to keep the suite quick: GA and ACO at 500 evaluations on every env (DRAM on a
2,000-request trace instead of 10,000); BO, whose surrogate refits cost 0.1-0.4 s per evaluation, at
a smaller budget, also with default hyperparameters: 60 on Systolic, 150 on SoC's 67 knobs, 150 on
Quant's 38 knobs (where its lead is still small: 0.720 vs 0.719; 0.747 vs 0.719 at 500). On DRAM, BO's advantage
shows only at the benchmark's full budget (target met in a median of 53 evaluations against
random's 91): that claim is the benchmark's, not this file's.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import archgym
from archgym.report import beats, score

KWARGS = {"archgym/DRAM-v0": {"requests": 2000}}


def run(env, agent, budget, seeds=5, **hyper) -> tuple[float, float]:
    runs = [archgym.explore(env, agent, budget=budget, seed=s, hyperparameters=hyper or None, progress=False)
            for s in range(seeds)]
    return score([r.best_reward for r in runs], [r.target_met_at for r in runs], budget)


@pytest.mark.parametrize("env_id", list(archgym.ENVIRONMENTS))
def test_ga_and_aco_beat_random_at_500(env_id):
    env = gym.make(env_id, **KWARGS.get(env_id, {}))
    baseline = run(env, "random_walk", 500)
    for agent in ("ga", "aco"):
        result = run(env, agent, 500)
        assert beats(result, baseline), f"{agent} {result} vs random {baseline}"


@pytest.mark.parametrize(("env_id", "budget"), [("archgym/Systolic-v0", 60), ("archgym/SoC-v0", 150),
                                               ("archgym/Quant-v0", 150)])
def test_bayesopt_beats_random(env_id, budget):
    env = gym.make(env_id, **KWARGS.get(env_id, {}))
    result, baseline = run(env, "bayesopt", budget), run(env, "random_walk", budget)
    assert beats(result, baseline), f"bayesopt {result} vs random {baseline}"
