"""Agents x environments with default hyperparameters: median best reward over seeds, and evaluations to target.

Run by hand: ``python benchmarks/bench_agents.py [--budget 500] [--seeds 5] [--agents ...] [--envs ...]``.
Prints a table (and ``--csv FILE`` writes it): for each environment (default task, default kwargs)
and agent, the median over seeds of the best reward found in ``budget`` evaluations, the number of
seeds that met every target, the median evaluations they needed, and the mean wall time per run.
"""

from __future__ import annotations

import argparse
import csv
import time

import gymnasium as gym
import numpy as np

import agents
import archgym
from archgym.display import table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--agents", nargs="+", default=[a for a in ("random_walk", "bayesopt", "ga", "aco", "ppo")
                                                         if a in agents.available()])
    parser.add_argument("--envs", nargs="+", default=list(archgym.ENVIRONMENTS))
    parser.add_argument("--csv", help="also write the table to this CSV file")
    args = parser.parse_args()

    rows = []
    for env_id in args.envs:
        env = gym.make(env_id)
        random_median = None
        for name in args.agents:
            start = time.perf_counter()
            results = [archgym.explore(env, name, budget=args.budget, seed=s, progress=False)
                       for s in range(args.seeds)]
            seconds = (time.perf_counter() - start) / args.seeds
            best = np.array([r.best_reward for r in results])
            met = [r.target_met_at for r in results if r.target_met_at is not None]
            median = float(np.median(best))
            if name == "random_walk":
                random_median = median
            beats = ""
            if name != "random_walk" and random_median is not None:
                beats = "yes" if median > random_median else "no"
            rows.append([env_id, name, f"{median:.4f}", f"{best.min():.4f}-{best.max():.4f}", beats,
                         f"{len(met)}/{args.seeds}", f"{np.median(met):.0f}" if met else "-", f"{seconds:.1f}"])
            print(" | ".join(rows[-1]), flush=True)
    header = ("env", "agent", "median best", "range", "beats random", "met target", "evals to target", "s/run")
    print()
    print(table(rows, header))
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)


if __name__ == "__main__":
    main()
