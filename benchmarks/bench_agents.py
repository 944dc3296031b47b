"""Agents x environments with default hyperparameters: median best reward over seeds, and evaluations to target.

Run by hand: ``python benchmarks/bench_agents.py [--budget 500] [--seeds 5] [--agents ...] [--envs ...]``.
Prints a table (and ``--csv FILE`` writes it): for each environment (default task, default kwargs)
and agent, the median over seeds of the best reward found in ``budget`` evaluations, the number of
seeds that met every target, the median evaluations to the target (a seed that never met it counts
as budget + 1), whether the agent beats random sampling (a higher median best reward; at a tie at the
ceiling, fewer median evaluations to the target), and the mean wall time per run.
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
from archgym.report import beats, score


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
        random_score = None
        for name in args.agents:
            start = time.perf_counter()
            results = [archgym.explore(env, name, budget=args.budget, seed=s, progress=False)
                       for s in range(args.seeds)]
            seconds = (time.perf_counter() - start) / args.seeds
            best = np.array([r.best_reward for r in results])
            met = sum(r.target_met_at is not None for r in results)
            result = score(best, [r.target_met_at for r in results], args.budget)
            if name == "random_walk":
                random_score = result
            verdict = ""
            if name != "random_walk" and random_score is not None:
                verdict = "yes" if beats(result, random_score) else "no"
            rows.append([env_id, name, f"{result[0]:.4f}", f"{best.min():.4f}-{best.max():.4f}", verdict,
                         f"{met}/{args.seeds}", f"{result[1]:.0f}" if met else "-", f"{seconds:.1f}"])
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
