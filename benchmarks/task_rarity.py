"""How rare the default task is: the fraction of each environment's designs that meet its default targets.

    python benchmarks/task_rarity.py [--samples 2000000] [--envs systolic dram soc quant] [--knobs]

A task separates search agents only when meeting it is rare: Systolic-v0's is the model (about 1
design in 10^4), between 10^-5 and 10^-3. Where the space can be enumerated (Systolic-v0, DRAM-v0,
``archgym optimum``) the count is exact; elsewhere (SoC-v0, Quant-v0) it is estimated from uniform
random designs, with a 95% Wilson interval. Printed as a markdown table, as the env pages carry it.

``--knobs`` adds, for an enumerable space, every knob value's mean reward over all designs and how
many of the designs meeting the targets take it: where the targets' values have low means, a
searcher that learns knob by knob is led away from them (docs/envs/dram.md).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from archgym.catalog import make_env, resolve_env_id
from archgym.display import table
from archgym.optimum import find_optimum

ENVS = {"systolic": {}, "dram": {}, "soc": {}, "quant": {}}


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a proportion (Wilson score), sound for a handful of hits."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def sampled(env, samples: int, seed: int = 0, batch: int = 100_000) -> tuple[int, int]:
    """(designs meeting every target, designs drawn) over ``samples`` uniform random designs."""
    sim, space, objective = env.simulator, env.space, env.objective
    rng = np.random.default_rng(seed)
    hits = 0
    for lo in range(0, samples, batch):
        idx = space.sample_indices(rng, min(batch, samples - lo))
        hits += int((objective.batch(sim.evaluate_batch(idx)) >= 1.0).sum())
    return hits, samples


def knob_means(env, batch: int = 50_000) -> list[tuple]:
    """Per knob value: mean reward over every design of the space, and designs meeting the targets."""
    sim, space, objective = env.simulator, env.space, env.objective
    nvec = space.nvec
    sums = [np.zeros(n) for n in nvec]
    met = [np.zeros(n, dtype=np.int64) for n in nvec]
    total = int(np.prod(nvec))
    for lo in range(0, total, batch):
        idx = np.stack(np.unravel_index(np.arange(lo, min(lo + batch, total)), nvec), axis=1)
        reward = objective.batch(sim.evaluate_batch(idx))
        for k in range(len(nvec)):
            sums[k] += np.bincount(idx[:, k], weights=reward, minlength=nvec[k])
            met[k] += np.bincount(idx[:, k], weights=reward >= 1.0, minlength=nvec[k]).astype(np.int64)
    rows = []
    for k, param in enumerate(space):
        for i in range(nvec[k]):
            rows.append((param.name, param.value_at(i), f"{sums[k][i] / (total // nvec[k]):.4f}", f"{met[k][i]:,}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2_000_000, help="random designs where not enumerable")
    parser.add_argument("--envs", nargs="+", default=list(ENVS), help="environments (short names)")
    parser.add_argument("--knobs", action="store_true",
                        help="also each knob value's mean reward and how many target designs take it "
                             "(enumerable spaces)")
    args = parser.parse_args()
    rows = []
    for name in args.envs:
        env_id = resolve_env_id(name)
        env = make_env(env_id, ENVS.get(name, {}))
        t0 = time.perf_counter()
        if env.space.discrete and env.space.cardinality <= 10_000_000:
            opt = find_optimum(env, progress=False)
            hits, n, how = opt.meeting_targets, opt.designs, "enumeration"
            lo = hi = hits / n
        else:
            hits, n = sampled(env, args.samples)
            lo, hi = wilson(hits, n)
            how = f"{n:,} random designs"
        frac = hits / n
        one_in = f"1 in {n / hits:,.0f}" if hits else "none found"
        rows.append((env_id, env.simulator.workload, how, f"{hits:,}", f"{frac:.2e}", one_in,
                     f"{lo:.1e}-{hi:.1e}", f"{time.perf_counter() - t0:.0f} s"))
    print(table(rows, ("env", "workload", "counted by", "meeting targets", "fraction", "", "95% interval", "time"),
                markdown=True))
    if args.knobs:
        for name in args.envs:
            env = make_env(resolve_env_id(name), ENVS.get(name, {}))
            if not (env.space.discrete and env.space.cardinality <= 10_000_000):
                print(f"\n{name}: not enumerable here, no knob table")
                continue
            print(f"\n{resolve_env_id(name)}: mean reward of each knob value over all "
                  f"{env.space.cardinality:,} designs")
            print(table(knob_means(env), ("knob", "value", "mean reward", "designs meeting targets"), markdown=True))


if __name__ == "__main__":
    main()
