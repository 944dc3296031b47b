"""Multi-objective search: hypervolume of each agent's evaluated designs against the exact Pareto front.

Run by hand::

    python benchmarks/bench_pareto.py [--env archgym/Systolic-v0] [--optimum FILE] [--agents nsga2 random_walk ga]
                                      [--budgets 100 200 500] [--seeds 5] [--markdown table.md] [--update-docs]

The exact front over the task's target metrics comes from ``archgym optimum ENV --out FILE`` (pass
it with ``--optimum``; without it the front is enumerated here, about a minute for Systolic-v0's
5.3 million designs). Every metric is scaled as the sweep report scales it (``archgym.report``: log
space, 0 at the front's best value and 1 at its worst, reference point 1.1 on each axis), and an
agent's score is the hypervolume of its feasible evaluated designs divided by the exact front's:
1.0 means it found the whole front. Also shown: how many of the exact front's points it evaluated.
Each agent runs once per seed for the largest budget; the smaller budgets read the same runs' first
evaluations (agents do not know their budget).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

import archgym
from archgym.display import table
from archgym.objective import hypervolume, pareto_mask
from archgym.optimum import find_optimum, load_optimum
from archgym.report import _Normalizer  # the sweep report's scaling, so both tell the same story

HEADER_START = "| env | agent | evaluations | median hypervolume ratio |"


def front_points(records: Sequence, names: Sequence[str]) -> np.ndarray:
    """The metric vectors of the feasible evaluations among ``records``."""
    return np.array([[r.metrics[n] for n in names] for r in records if r.feasible], dtype=float).reshape(-1, len(names))


def on_front(points: np.ndarray, front: np.ndarray) -> int:
    """How many distinct points of ``front`` appear among ``points`` (to a relative 1e-9)."""
    if len(points) == 0:
        return 0
    close = np.all(np.isclose(points[:, None, :], front[None, :, :], rtol=1e-9, atol=0), axis=2)
    return int(close.any(axis=0).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="archgym/Systolic-v0")
    parser.add_argument("--optimum", type=Path, help="the env's `archgym optimum --out` file")
    parser.add_argument("--agents", nargs="+", default=["nsga2", "random_walk", "ga"])
    parser.add_argument("--budgets", nargs="+", type=int, default=[100, 200, 500])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="write the markdown table to this file")
    parser.add_argument("--update-docs", action="store_true", help="write the table into docs/agents.md")
    args = parser.parse_args()

    start = time.perf_counter()
    env = gym.make(args.env)
    optimum = load_optimum(args.optimum) if args.optimum else find_optimum(env)
    names = optimum.pareto_metrics
    if not names:
        sys.exit(f"{args.env}'s objective has no 2-3 target metrics to take a Pareto front over")
    sim = env.unwrapped.simulator
    directions = [sim.metric(n).direction.value for n in names]
    true_front = np.array([[p["metrics"][n] for n in names] for p in optimum.pareto_front])
    scale = _Normalizer(true_front, directions)
    reference = [1.1] * len(names)
    best_volume = hypervolume(scale(true_front), reference)
    print(f"{args.env}: exact front of {len(true_front)} points over {names} ({optimum.designs:,} designs)",
          file=sys.stderr)

    budget = max(args.budgets)
    rows = []
    for name in args.agents:
        ratios = {b: [] for b in args.budgets}
        found = {b: [] for b in args.budgets}
        for seed in range(args.seeds):
            result = archgym.explore(env, name, budget=budget, seed=seed, progress=False)
            for b in args.budgets:
                pts = front_points(result.records[:b], names)
                pts = pts[pareto_mask(pts, directions)] if len(pts) else pts
                ratios[b].append(hypervolume(scale(pts), reference) / best_volume if len(pts) else 0.0)
                found[b].append(on_front(pts, true_front))
            print(f"{name} seed {seed}: ratio {ratios[budget][-1]:.4f}", file=sys.stderr, flush=True)
        for b in args.budgets:
            r = np.array(ratios[b])
            rows.append([args.env, name, b, f"{np.median(r):.4f}", f"{r.min():.4f}-{r.max():.4f}",
                         f"{np.median(found[b]):.0f}"])
    header = ("env", "agent", "evaluations", "median hypervolume ratio", "range", "exact front points found")
    rows.sort(key=lambda r: (r[2], -float(r[3])))
    print(table(rows, header))
    text = table(rows, header, markdown=True)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.update_docs:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_agents import update_docs

        update_docs([text])
    print(f"{time.perf_counter() - start:.0f} s; the exact front has {len(true_front)} points", file=sys.stderr)


if __name__ == "__main__":
    main()
