"""PPO speed and learning per environment and budget, and the cost of one evaluation as a Ray Tune trial.

Run by hand: ``python benchmarks/bench_rl.py [--budgets 300 1000 3000] [--envs ...] [--seed 0]``.
Starts an embedded 2-CPU Ray first (once), then for each env and budget runs ``explore(env, "ppo")``
with default hyperparameters and prints: wall time, time to the end of the first iteration
(building the algorithm included), milliseconds per evaluation after it, the mean reward of the
first and last iteration's samples, and the best reward. Then times ``explore_on_ray`` against
``explore`` for a few random-walk evaluations (Tune's per-trial overhead).
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym

import archgym
from agents import get
from agents._ray import start_ray
from archgym.cluster import explore_on_ray
from archgym.display import table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", nargs="+", type=int, default=[300, 1000, 3000])
    parser.add_argument("--envs", nargs="+", default=list(archgym.ENVIRONMENTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trials", type=int, default=8, help="evaluations for the explore_on_ray timing")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")

    start = time.perf_counter()
    start_ray(None, num_cpus=2)
    print(f"ray.init: {time.perf_counter() - start:.1f} s")

    rows = []
    for env_id in args.envs:
        for budget in args.budgets:
            env = gym.make(env_id)
            agent = get("ppo")(env.unwrapped.space, seed=args.seed)
            start = time.perf_counter()
            result = archgym.explore(env, agent, budget=budget, seed=args.seed, progress=False)
            wall = time.perf_counter() - start
            first, last = agent.iterations[0], agent.iterations[-1]
            after = budget - first.evaluations
            per_eval = f"{1000 * (wall - first.wall_time) / after:.1f}" if after else "-"
            rows.append([env_id, len(env.unwrapped.space), budget, f"{wall:.1f}", f"{first.wall_time:.1f}", per_eval,
                         f"{first.mean_reward:.3f} -> {last.mean_reward:.3f}", f"{result.best_reward:.3f}"])
            print(" | ".join(map(str, rows[-1])), flush=True)
    print()
    print(table(rows, ("env", "knobs", "budget", "wall s", "first iter s", "ms/eval after", "mean reward first -> last",
                       "best")))

    env_id = args.envs[0]
    start = time.perf_counter()
    archgym.explore(env_id, "random_walk", args.trials, seed=args.seed)
    local = time.perf_counter() - start
    start = time.perf_counter()
    explore_on_ray(env_id, "random_walk", args.trials, seed=args.seed)
    on_ray = time.perf_counter() - start
    print(f"\n{args.trials} random-walk evaluations of {env_id}: explore {local:.2f} s, "
          f"explore_on_ray {on_ray:.2f} s ({on_ray / args.trials:.2f} s per trial on 2 CPUs)")


if __name__ == "__main__":
    main()
