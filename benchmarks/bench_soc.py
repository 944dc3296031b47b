"""Speed of the SoC simulator per design and workload, and how searchable its design space is.

Run by hand: ``python benchmarks/bench_soc.py``. Prints

1. microseconds per design for valid designs (the full simulation) through ``evaluate`` (one design
   dict, validated) and ``evaluate_batch`` (an index matrix), invalid designs (the validity check
   only), designs per second, and the ratio to FARSI's own ``eval_design`` wall time (CACTI on)
   measured on this machine for the reference designs (``tests/data/farsi_cacti.csv``);
2. the share of uniformly random designs that are valid and that meet the workload's budgets, for the
   default encoding and for other slot counts;
3. how often a single faster knob (a wider or faster bus or memory, a faster accelerator clock, more
   unroll) *raises* latency in random valid designs, and by how much at worst: FARSI re-splits
   bandwidth whenever a task finishes, which allows such anomalies.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from archgym.objective import TargetObjective
from simulators.soc import BUNDLED, SoCSimulator

N = 2000
GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "farsi_cacti.csv"


def farsi_seconds() -> dict[str, float]:
    """Mean FARSI eval_design seconds per workload over the reference designs measured here."""
    with open(GOLDEN) as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["workload"], []).append(float(r["farsi_s_per_eval"]))
    return {w: float(np.mean(v)) for w, v in out.items()}


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def evaluate_each(sim: SoCSimulator, designs: list[dict]) -> list:
    return [sim.evaluate(d) for d in designs]


def speed() -> None:
    farsi = farsi_seconds()
    print(f"{'workload':16s} {'tasks':>5s} {'params':>6s} {'valid us':>9s} {'batch us':>9s} {'invalid us':>10s} "
          f"{'designs/s':>10s} {'FARSI ms':>9s} {'speed-up':>9s}")
    for w in BUNDLED:
        sim = SoCSimulator(w)
        rng = np.random.default_rng(0)
        valid = [sim.repair(d) for d in sim.space.sample(rng, N)]
        sim.evaluate(valid[0])  # warm up
        t_valid, evs = timed(evaluate_each, sim, valid)
        assert all(e.feasible for e in evs)
        t_batch, _ = timed(sim.evaluate_batch, sim.space.encode_indices_batch(valid))
        raw = sim.space.sample(rng, N)
        invalid = [d for d, e in zip(raw, (sim.evaluate(d) for d in raw)) if not e.feasible]
        t_invalid, _ = timed(evaluate_each, sim, invalid)
        us = t_valid / N * 1e6
        print(f"{w:16s} {len(sim.graph.tasks):5d} {len(sim.space):6d} {us:9.0f} {t_batch / N * 1e6:9.0f} "
              f"{t_invalid / len(invalid) * 1e6:10.0f} {N / t_valid:10.0f} {farsi[w] * 1e3:9.1f} "
              f"{farsi[w] / (us * 1e-6):8.0f}x")


def searchability() -> None:
    print(f"\n{'workload':16s} {'cores/mems/buses':>16s} {'params':>6s} {'valid':>7s} {'meet budgets':>13s}")
    for w in BUNDLED:
        for slots in ((2, 2, 2), (1, 1, 1), (2, 2, 1), (3, 3, 3)):
            sim = SoCSimulator(w, max_cores=slots[0], max_memories=slots[1], max_buses=slots[2])
            objective = TargetObjective(sim.default_targets(), sim.metrics)
            batch = sim.evaluate_batch(sim.space.sample_indices(np.random.default_rng(0), 10 * N))
            met = (objective.batch(batch) == 1.0).mean()
            print(f"{w:16s} {'/'.join(map(str, slots)):>16s} {len(sim.space):6d} {batch.feasible.mean():7.1%} "
                  f"{met:13.3%}")


def anomalies(designs: int = 200) -> None:
    print(f"\n{'workload':16s} {'knob steps':>10s} {'slower':>7s} {'worst':>7s}")
    for w in BUNDLED:
        sim = SoCSimulator(w)
        rng = np.random.default_rng(1)
        steps = slower = 0
        worst = 1.0
        for d in (sim.repair(x) for x in sim.space.sample(rng, designs)):
            base = sim.evaluate(d).metrics["latency"]
            for p in sim.space:
                if not p.name.endswith(("_width_bytes", "_clock_mhz", "_unroll")):
                    continue
                i = p.values.index(d[p.name])
                if i + 1 < len(p.values):
                    ratio = sim.evaluate({**d, p.name: p.values[i + 1]}).metrics["latency"] / base
                    steps += 1
                    slower += ratio > 1 + 1e-12
                    worst = max(worst, ratio)
        print(f"{w:16s} {steps:10d} {slower / steps:7.2%} {worst - 1:+7.2%}")


if __name__ == "__main__":
    speed()
    searchability()
    anomalies()
