"""Speed of the DRAM controller model: requests per second per workload, policy mix and memspec.

Each row simulates the whole trace (10,000 requests by default) from scratch, bypassing the
simulator's per-design cache, and keeps the best of ``--repeat`` runs. Times are the process's CPU
time (``time.process_time``), which a shared machine disturbs less than wall time.

    python benchmarks/bench_dram.py [--requests 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from simulators.dram import REFERENCE_DESIGN, DRAMSimulator

MIXES = {
    "reference (Open, FrFcfs, Bankwise 8)": {},
    "Closed, Fifo": {"PagePolicy": "Closed", "Scheduler": "Fifo"},
    "OpenAdaptive, Shared 128, Reorder": {"PagePolicy": "OpenAdaptive", "SchedulerBuffer": "Shared",
                                          "RequestBufferSize": 128, "RespQueue": "Reorder"},
    "ClosedAdaptive, FrFcfsGrp, Fifo arb 16": {"PagePolicy": "ClosedAdaptive", "Scheduler": "FrFcfsGrp",
                                               "SchedulerBuffer": "ReadWrite", "Arbiter": "Fifo",
                                               "MaxActiveTransactions": 16},
}
CASES = [(wl, "ddr3_1600", 0.0) for wl in ("stream", "random", "cloud-1", "cloud-2")]
CASES += [("random", "ddr3_1600", 0.3), ("cloud-1", "ddr4_2400", 0.0), ("cloud-1", "lpddr4_3200", 0.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'workload':<10} {'memspec':<12} {'writes':>6}  {'policy mix':<40} {'ms/run':>8} {'requests/s':>11}")
    total_requests = total_time = 0.0
    for workload, memspec, writes in CASES:
        sim = DRAMSimulator(workload, memspec=memspec, requests=args.requests, write_fraction=writes)
        for label, overrides in MIXES.items():
            design = sim.space.validate(dict(REFERENCE_DESIGN, **overrides))
            best = float("inf")
            for _ in range(args.repeat):
                start = time.process_time()
                sim._simulate(design)
                best = min(best, time.process_time() - start)
            total_requests += args.requests
            total_time += best
            print(f"{workload:<10} {memspec:<12} {writes:>6.1f}  {label:<40} {best * 1e3:>8.1f} "
                  f"{args.requests / best:>11,.0f}")
    print(f"overall: {total_requests / total_time:,.0f} requests/s "
          f"({total_time / (total_requests / args.requests) * 1e3:.0f} ms per {args.requests}-request design)")
    sim = DRAMSimulator("cloud-1", requests=args.requests)
    sim.evaluate(REFERENCE_DESIGN)
    start = time.process_time()
    for _ in range(1000):
        sim.evaluate(REFERENCE_DESIGN)
    print(f"repeated design (cache hit): {(time.process_time() - start) * 1e3:.3f} us per evaluate")


if __name__ == "__main__":
    main()
