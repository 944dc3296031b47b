"""Evaluate every design of the DRAM space on one workload and count those meeting the targets.

The 442,368 designs collapse to far fewer distinct simulations by exact equivalences of the model:
``MaxActiveTransactions`` does nothing under the ``Simple`` arbiter, the refresh flexibility
nothing under ``NoRefresh``; on a read-only trace ``ReadWrite`` equals ``Shared`` and ``FrFcfsGrp``
equals ``FrFcfs``; and a run that pulled in no refresh is the same for every ``RefreshMaxPulledin``.
Each simulation is counted with the number of designs it stands for.

    python benchmarks/dram_space.py [--workload cloud-1] [--memspec ddr3_1600] [--jobs 2] [--save out.npz]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import time

import numpy as np

from simulators.dram import DRAMSimulator, UnrealisableError, default_space, simulate

_SIM: DRAMSimulator | None = None


def _init(workload: str, memspec: str) -> None:
    global _SIM
    _SIM = DRAMSimulator(workload, memspec=memspec)


def _classes(read_only: bool) -> list[tuple[dict, int]]:
    """(representative design, number of designs it stands for)."""
    space = default_space()
    values = {p.name: p.values for p in space}
    schedulers = [("Fifo", 1), ("FrFcfs", 2)] if read_only else [(s, 1) for s in values["Scheduler"]]
    buffers = [("Bankwise", 1), ("Shared", 2)] if read_only else [(b, 1) for b in values["SchedulerBuffer"]]
    refresh = [({"RefreshPolicy": "NoRefresh", "RefreshMaxPostponed": 1, "RefreshMaxPulledin": 1}, 16)]
    refresh += [({"RefreshPolicy": "AllBank", "RefreshMaxPostponed": m, "RefreshMaxPulledin": 1}, -1)
                for m in values["RefreshMaxPostponed"]]
    arbiters = [({"Arbiter": "Simple", "MaxActiveTransactions": 1}, 8)]
    arbiters += [({"Arbiter": a, "MaxActiveTransactions": m}, 1) for a in ("Fifo", "Reorder")
                 for m in values["MaxActiveTransactions"]]
    out = []
    for pp, (sc, ks), (bf, kb), rbs, rq, (rf, kr), (ar, ka) in itertools.product(
            values["PagePolicy"], schedulers, buffers, values["RequestBufferSize"], values["RespQueue"], refresh,
            arbiters):
        design = {"PagePolicy": pp, "Scheduler": sc, "SchedulerBuffer": bf, "RequestBufferSize": rbs,
                  "RespQueue": rq, **rf, **ar}
        out.append((design, ks * kb * kr * ka))  # kr = -1: AllBank, multiplicity decided after the run
    return out


def _run(item: tuple[dict, int]) -> list[tuple[dict, int, dict | None]]:
    design, mult = item
    sim = _SIM
    try:
        run = simulate(sim.bursts, sim.spec, sim.config(design))
    except UnrealisableError:
        return [(design, abs(mult) * (4 if mult < 0 else 1), None)]
    if mult > 0 or run.n_pulled_in == 0:  # no refresh pulled in: every RefreshMaxPulledin gives this run
        return [(design, abs(mult) * (4 if mult < 0 else 1), sim.evaluation(run).metrics)]
    results = [(design, -mult, sim.evaluation(run).metrics)]
    for pull in sim.space["RefreshMaxPulledin"].values[1:]:
        e = sim.evaluate(dict(design, RefreshMaxPulledin=pull))
        results.append((dict(design, RefreshMaxPulledin=pull), -mult, e.metrics if e.feasible else None))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="cloud-1")
    parser.add_argument("--memspec", default="ddr3_1600")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--save", default=None, help="write all results to this .npz")
    args = parser.parse_args()
    _init(args.workload, args.memspec)
    read_only = not bool(_SIM.trace.is_write.any())
    classes = _classes(read_only)
    start = time.perf_counter()
    with mp.Pool(args.jobs, initializer=_init, initargs=(args.workload, args.memspec)) as pool:
        rows = [r for chunk in pool.imap(_run, classes, chunksize=16) for r in chunk]
    elapsed = time.perf_counter() - start
    mult = np.array([m for _, m, _ in rows])
    feasible = np.array([m is not None for _, _, m in rows])
    names = _SIM.metric_names
    metrics = {n: np.array([m[n] if m else np.nan for _, _, m in rows]) for n in names}
    total = int(mult.sum())
    print(f"{args.workload} on {args.memspec}: {len(rows)} simulations stand for {total} designs "
          f"({elapsed:.0f} s, {len(rows) * len(_SIM.trace) / elapsed:.0f} requests/s over {args.jobs} jobs)")
    targets = _SIM.default_targets()
    meet = feasible.copy()
    for name, value in targets.items():
        meet &= metrics[name] <= value
    print(f"default targets {targets}: met by {int(mult[meet].sum())} of {total} designs "
          f"({int(mult[~feasible].sum())} infeasible)")
    if args.save:
        np.savez(args.save, mult=mult, feasible=feasible, **metrics,
                 designs=np.array([repr(d) for d, _, _ in rows]))


if __name__ == "__main__":
    main()
