"""Speed of the quantization cost model: microseconds per full bit assignment and batched designs per second.

Run by hand: ``python benchmarks/bench_quant.py``. Rows: one design through ``evaluate`` (validation
included), the same with validation skipped, ``evaluate_batch`` on an index matrix, the naive loop
(``Simulator``'s default batch: one ``_evaluate`` per design) for comparison, and one env step.
"""

from __future__ import annotations

import time

import numpy as np

from simulators.core import Simulator
from simulators.quant import NETWORKS, QuantSimulator


def _best_of(fn, repeats: int = 5) -> float:
    """Best wall time of ``fn()`` over ``repeats`` runs, seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(network: str, accelerator: str, batch: int = 20_000, singles: int = 2_000) -> dict[str, float]:
    sim = QuantSimulator(network, accelerator=accelerator)
    rng = np.random.default_rng(0)
    idx = sim.space.sample_indices(rng, batch)
    designs = sim.space.decode_indices_batch(idx[:singles])
    validated = [sim.space.validate(d) for d in designs]

    t_eval = _best_of(lambda: [sim.evaluate(d) for d in designs]) / singles
    t_raw = _best_of(lambda: [sim._evaluate(d) for d in validated]) / singles
    t_batch = _best_of(lambda: sim.evaluate_batch(idx)) / batch
    t_naive = _best_of(lambda: Simulator._evaluate_batch(sim, idx[:singles]), repeats=2) / singles
    return {"params": len(sim.space), "evaluate_us": t_eval * 1e6, "no_validate_us": t_raw * 1e6,
            "batch_per_s": 1 / t_batch, "naive_per_s": 1 / t_naive, "speedup": t_naive / t_batch}


def bench_env_step(steps: int = 2_000) -> float:
    import gymnasium as gym

    import archgym  # noqa: F401

    env = gym.make("archgym/Quant-v0", network="resnet50")
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(steps)]

    def run():
        for a in actions:
            env.reset()
            env.step(a)

    return _best_of(run, repeats=3) / steps * 1e6


def main() -> None:
    t0 = time.perf_counter()
    QuantSimulator("resnet50")
    print(f"construct QuantSimulator('resnet50') (tables + calibration, first time): "
          f"{(time.perf_counter() - t0) * 1e3:.1f} ms\n")
    header = (f"{'network':13s} {'accelerator':11s} {'params':>6s} {'evaluate us':>12s} {'no-validate us':>15s} "
              f"{'batch designs/s':>16s} {'naive loop /s':>14s} {'batch/naive':>12s}")
    print(header)
    print("-" * len(header))
    for network in NETWORKS:
        for accelerator in ("bitfusion", "bitserial"):
            r = bench(network, accelerator)
            print(f"{network:13s} {accelerator:11s} {r['params']:6d} {r['evaluate_us']:12.1f} "
                  f"{r['no_validate_us']:15.1f} {r['batch_per_s']:16,.0f} {r['naive_per_s']:14,.0f} "
                  f"{r['speedup']:11.1f}x")
    print(f"\nenv step (reset + step, resnet50, bitfusion, MultiDiscrete action): {bench_env_step():.1f} us")


if __name__ == "__main__":
    main()
