"""Speed of the systolic-array model, printed as a table (run by hand: ``python benchmarks/bench_systolic.py``).

Measures, in one run: microseconds per layer (scalar ``simulate_gemm``), per ResNet-50 network
evaluation, per ``env.step`` on ResNet-50, and per design in ``evaluate_batch`` over 10^5 designs
(with layer-evaluations per second, the speed-up over a Python loop of ``evaluate``, and the cost of
the mapper: the same batch under ``traffic="scalesim"``, which tries one mapping instead of seven). With
``--scalesim PYTHON`` (a Python that can import SCALE-Sim; see ``scalesim_driver.py``) it also runs
SCALE-Sim on the same GEMMs and prints our speed as a ratio to it, checking the cycle counts agree.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from reference_driver import run_driver  # benchmarks/, beside this file

import archgym  # noqa: F401  (registers the env ids)
from archgym.display import table
from simulators.systolic import REFERENCE_DESIGN, SystolicSimulator, simulate_gemm


def best_time(fn, repeat: int = 5, number: int = 1) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls (least disturbed by noise)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", type=int, default=100_000, help="designs in the batch measurement")
    parser.add_argument("--scalesim", metavar="PYTHON", help="a Python interpreter that can import scalesim")
    args = parser.parse_args()

    sim = SystolicSimulator("resnet50")
    layers = [layer.gemm for layer in sim.network.compute_layers]
    rows = []

    def all_layers():
        for m, n, k, _ in layers:
            simulate_gemm(m, n, k, rows=32, cols=32, dataflow="ws", bandwidth=20.0)

    per_layer = best_time(all_layers, number=20) / len(layers)
    rows.append(("one layer, simulate_gemm (scalar)", f"{per_layer * 1e6:.2f} us", "< 20 us"))

    per_net = best_time(lambda: sim.evaluate(REFERENCE_DESIGN), number=50)
    rows.append((f"ResNet-50 network ({len(layers)} layers), evaluate", f"{per_net * 1e6:.1f} us", ""))

    env = gym.make("archgym/Systolic-v0", workload="resnet50")
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(200)]

    def steps():
        for a in actions:
            env.reset()
            env.step(a)

    per_step = best_time(steps, repeat=3) / len(actions)
    rows.append(("env.step on ResNet-50 (incl. reset)", f"{per_step * 1e6:.1f} us", "< 2 ms"))

    idx = sim.space.sample_indices(np.random.default_rng(0), args.designs)
    batch_s = best_time(lambda: sim.evaluate_batch(idx), repeat=3)
    rows.append((f"evaluate_batch, {args.designs:,} ResNet-50 designs", f"{batch_s / args.designs * 1e6:.2f} us/design",
                 ""))
    rows.append(("  layer-evaluations per second", f"{args.designs * len(layers) / batch_s:,.0f}", "> 1,000,000"))
    designs = sim.space.decode_indices_batch(idx[:500])
    loop_s = best_time(lambda: [sim.evaluate(d) for d in designs], repeat=3) / len(designs)
    rows.append(("  speed-up over a loop of evaluate()", f"{loop_s / (batch_s / args.designs):.0f}x", ""))
    scalesim = SystolicSimulator("resnet50", traffic="scalesim")
    scalesim_s = best_time(lambda: scalesim.evaluate_batch(idx), repeat=3)
    rows.append(("  the same with traffic='scalesim' (no mapper)", f"{scalesim_s / args.designs * 1e6:.2f} us/design",
                 f"reuse costs {batch_s / scalesim_s:.1f}x"))
    print(table(rows, ("measurement", "ours", "bar")))

    if args.scalesim:
        compare_with_scalesim(args.scalesim)


SCALESIM_CASES = [
    {"m": 64, "n": 64, "k": 64, "rows": 8, "cols": 8, "dataflow": "os"},
    {"m": 256, "n": 256, "k": 256, "rows": 32, "cols": 32, "dataflow": "ws"},
    {"m": 784, "n": 128, "k": 1152, "rows": 32, "cols": 32, "dataflow": "ws"},  # ResNet-18 layer2 3x3 conv
]


def compare_with_scalesim(python: str) -> None:
    rows = []
    for ref in run_driver(python, "scalesim_driver.py", SCALESIM_CASES, "SCALE-Sim"):
        case = {k: ref[k] for k in ("rows", "cols", "dataflow")}
        ours_s = best_time(lambda ref=ref, case=case: simulate_gemm(ref["m"], ref["n"], ref["k"], **case,
                                                                    traffic="scalesim"), number=200)
        g = simulate_gemm(ref["m"], ref["n"], ref["k"], **case, traffic="scalesim")
        agree = g.compute_cycles == ref["compute_cycles"] and g.sram_filter_reads == ref["sram_filter_reads"]
        rows.append((f"{ref['m']}x{ref['n']}x{ref['k']} on {ref['rows']}x{ref['cols']} {ref['dataflow']}",
                     f"{ref['compute_cycles']:,}", "yes" if agree else "NO", f"{ref['seconds']:.2f} s",
                     f"{ours_s * 1e6:.1f} us", f"{ref['seconds'] / ours_s:,.0f}x"))
    print()
    print(table(rows, ("GEMM", "SCALE-Sim cycles", "same counts", "SCALE-Sim", "ours", "speed-up")))


if __name__ == "__main__":
    main()
