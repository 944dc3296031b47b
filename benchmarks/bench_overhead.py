"""The cost of the contract layer: ``env.step``, ``Simulator.evaluate`` and ``evaluate_batch``, this
checkout against another git revision, measured in one run.

    python benchmarks/bench_overhead.py --against HEAD~5

The other revision is checked out into a temporary git worktree; each measurement runs in a fresh
subprocess with that tree (or this one) first on ``PYTHONPATH``, alternating between the two, and
the best of ``--rounds`` is kept. Printed: microseconds per call for both, and the ratio this/other
(below 1: this checkout is faster). Without ``--against`` only this checkout is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What one subprocess times: per env, best-of-5 microseconds per env.step, per evaluate of the same
# designs, and per design in evaluate_batch (index matrices of 2,000 designs; DRAM 50).
_SNIPPET = r"""
import json, time, sys
import numpy as np
import gymnasium as gym
import archgym

def best(f, reps=5):
    out = []
    for _ in range(reps):
        t = time.perf_counter(); f(); out.append(time.perf_counter() - t)
    return min(out)

results = {}
for env_id, n_single, n_batch in [("archgym/Systolic-v0", 400, 2000), ("archgym/SoC-v0", 400, 2000),
                                  ("archgym/Quant-v0", 400, 2000), ("archgym/DRAM-v0", 4, 8)]:
    env = gym.make(env_id)
    sim = env.unwrapped.simulator
    space = env.unwrapped.space
    rng = np.random.default_rng(0)
    actions = [env.action_space.sample() for _ in range(n_single)]
    designs = [env.unwrapped.action_to_design(a) for a in actions]
    if env_id.endswith("DRAM-v0"):  # DRAM caches results: time fresh designs every repetition
        fresh = iter([space.decode_indices_batch(space.sample_indices(rng, n_single)) for _ in range(12)])
        step = best(lambda: [sim.evaluate(d) for d in next(fresh)]) / n_single
        results[env_id] = {"evaluate_us": step * 1e6}
        continue
    env.reset(seed=0)
    def steps():
        for a in actions:
            env.step(a)
            env.reset()
    results[env_id] = {
        "step_us": best(steps) / n_single * 1e6,
        "evaluate_us": best(lambda: [sim.evaluate(d) for d in designs]) / n_single * 1e6,
        "batch_us": best(lambda: sim.evaluate_batch(space.sample_indices(np.random.default_rng(1), n_batch)))
                    / n_batch * 1e6,
    }
print(json.dumps(results))
"""


def measure(tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    out = subprocess.run([sys.executable, "-c", _SNIPPET], cwd=tree, env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def merge_best(acc: dict, new: dict) -> dict:
    for env_id, figures in new.items():
        for k, v in figures.items():
            acc.setdefault(env_id, {})[k] = min(v, acc.get(env_id, {}).get(k, float("inf")))
    return acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="git revision to compare with (e.g. HEAD~5, a commit, a branch)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (best kept)")
    args = parser.parse_args()
    ours: dict = {}
    theirs: dict = {}
    with tempfile.TemporaryDirectory(prefix="archgym-bench-") as tmp:
        other = None
        if args.against:
            other = Path(tmp) / "other"
            subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=ROOT, check=True,
                           capture_output=True)
        try:
            for _ in range(args.rounds):
                merge_best(ours, measure(ROOT))
                if other is not None:
                    merge_best(theirs, measure(other))
        finally:
            if other is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)
    header = f"{'env':<20} {'call':<12} {'this (us)':>10}"
    if theirs:
        header += f" {args.against + ' (us)':>16} {'ratio':>7}"
    print(header)
    for env_id, figures in ours.items():
        for key, value in figures.items():
            line = f"{env_id.split('/')[1]:<20} {key.removesuffix('_us'):<12} {value:>10.2f}"
            if theirs:
                old = theirs[env_id][key]
                line += f" {old:>16.2f} {value / old:>7.3f}"
            print(line)


if __name__ == "__main__":
    main()
