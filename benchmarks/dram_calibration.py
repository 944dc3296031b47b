"""DRAM-v0's default targets, checked by enumeration: per memspec and buffer admission, how many designs
meet them and how near the nearest designs come to each target.

    python benchmarks/dram_calibration.py [--memspecs ddr3_1600 ddr4_2400 lpddr4_3200]
                                          [--admissions incoming dramsys] [--workload cloud-1]

The target factors (``simulators.dram.TARGET_FACTORS``, one set per admission) were calibrated so that
between 1 in 1,000 and 1 in 10,000 designs meet the pair, with each target at least 0.17% away from the
value of any design that meets the other target, so that the count does not hinge on the last digit
(docs/envs/dram.md, "Default targets"). This prints, for each case, the count, its fraction, and per
target that smallest relative distance ("gap": only such designs can change the count by crossing the
target), so a change of the model (such as ``buffer_admission``) can be checked against those rules.
Every design is evaluated (each class of equivalent designs once, as ``archgym optimum`` does): about a
minute per case on two cores.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import archgym  # noqa: F401  (registers the env ids)
from archgym.display import table
from simulators.dram import BUNDLED_SPECS
from simulators.dram.controller import ADMISSIONS

CHUNK = 1 << 16


def calibration(memspec: str, admission: str, workload: str) -> list[str]:
    """One row: designs meeting the default targets, their fraction, the gaps, and the time taken."""
    start = time.perf_counter()
    env = gym.make("archgym/DRAM-v0", workload=workload, memspec=memspec, buffer_admission=admission).unwrapped
    sim, space = env.simulator, env.space
    targets = {t.metric: t.value for t in env.objective.targets}
    values = {m: [] for m in targets}
    for lo in range(0, space.cardinality, CHUNK):
        batch = sim.evaluate_batch(space.indices_from_ordinals(np.arange(lo, min(space.cardinality, lo + CHUNK))))
        for m in targets:
            values[m].append(np.where(batch.feasible, batch.metrics[m], np.inf))
    columns = {m: np.concatenate(v) for m, v in values.items()}
    met = {m: columns[m] <= t for m, t in targets.items()}  # both metrics are minimised
    meets = np.logical_and.reduce(list(met.values()))
    gaps = []
    for m, t in targets.items():  # among the designs that meet the other target: they decide the count
        others = np.logical_and.reduce([met[o] for o in targets if o != m])
        gaps.append(float(np.min(np.abs(columns[m][others] / t - 1.0))) if others.any() else np.inf)
    n = int(meets.sum())
    return [memspec, admission, f"{n:,}", f"1 in {space.cardinality / n:,.0f}" if n else "-",
            *(f"{g:.2%}" for g in gaps), f"{time.perf_counter() - start:.0f} s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memspecs", nargs="+", default=list(BUNDLED_SPECS), choices=list(BUNDLED_SPECS))
    parser.add_argument("--admissions", nargs="+", default=list(ADMISSIONS), choices=list(ADMISSIONS))
    parser.add_argument("--workload", default="cloud-1")
    args = parser.parse_args()
    rows = [calibration(m, a, args.workload) for m in args.memspecs for a in args.admissions]
    print(table(rows, ("memspec", "buffer_admission", "designs meeting", "fraction", "power gap", "latency gap",
                       "time")))


if __name__ == "__main__":
    main()
