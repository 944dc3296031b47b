"""Speed of the DRAM controller model, side by side with DRAMSys v5.1 on the same traces and designs.

Each row evaluates one design on one 10,000-request trace from scratch (the per-design cache bypassed):
the controller run, DRAMPower energy and the metrics, as ``env.step`` would. On the DDR3 (ArchGym's DRAMGym
set-up) and DDR4 rows DRAMSys runs the same trace, written as an ``.stl`` file, with DRAMSys's own memspec of
the same name, the same address mapping and the same ten controller knobs (``CmdMux: Oldest``,
``PowerDownPolicy: NoPowerDown``, ``PowerAnalysis`` on, ``DatabaseRecording`` off), timed as a user runs
it: the whole process (start, configuration and trace parsing, simulation, power report). Its "Total
Time" and "Total Energy" are printed next to ours. Both sides report the fastest of ``--repeat`` wall
times (the figure other jobs on a shared machine disturb least); the summary adds the ratio of CPU
times (ours: ``time.process_time``; DRAMSys: the child process's user + system time).

DRAMSys is built as in the reference notes (DRAMSys v5.1 with SystemC 2.3.4 and the DRAMPower commit
it pins, Release build), outside this repository: set ``DRAMSYS`` to the executable, and
``DRAMSYS_CONFIGS`` to DRAMSys's ``configs`` folder when it is found neither near the executable nor
through the build tree's ``CMakeCache.txt``. Without it only our side is measured ("DRAMSys not found,
set DRAMSYS=path").

Also measured: the numba compile time of the controller (first call in a fresh process with an empty
compile cache, then in a fresh process with the cache filled) and ``evaluate_batch`` throughput.

    python benchmarks/bench_dram.py [--repeat 5] [--requests 10000] [--buffer-admission incoming|dramsys]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from simulators.dram import REFERENCE_DESIGN, DRAMSimulator, save_stl
from simulators.dram.controller import ADMISSIONS
from simulators.jit import COMPILED

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
# compared with DRAMSys (its own memspec file of the same name, our address mapping); DRAMSys v5.1's
# DRAMPower has no LPDDR4 power model
DRAMSYS_MEMSPECS = ("ddr3_1600", "ddr4_2400")
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}


def _dramsys() -> tuple[Path, Path] | None:
    """The DRAMSys executable and its configs folder, from ``DRAMSYS`` (and ``DRAMSYS_CONFIGS``)."""
    exe = os.environ.get("DRAMSYS")
    if not exe or not Path(exe).is_file():
        return None
    exe_path = Path(exe).resolve()
    given = os.environ.get("DRAMSYS_CONFIGS")
    subs = ("configs", "DRAMSys/configs", "share/DRAMSys/configs")
    candidates = [Path(given)] if given else [up / sub for up in list(exe_path.parents)[:4] for sub in subs]
    if not given:
        # an out-of-tree build: its CMake cache names the source tree, which holds configs/
        for up in list(exe_path.parents)[:3]:
            cache = up / "CMakeCache.txt"
            if cache.is_file():
                for line in cache.read_text(errors="replace").splitlines():
                    if line.startswith(("DRAMSys_SOURCE_DIR:", "CMAKE_HOME_DIRECTORY:")):
                        candidates.append(Path(line.split("=", 1)[1].strip()) / "configs")
    for folder in candidates:
        if (folder / "memspec").is_dir():
            return exe_path, folder
    print(f"DRAMSys found at {exe_path} but not its configs folder; set DRAMSYS_CONFIGS=path/to/DRAMSys/configs")
    return None


def _dramsys_config(sim: DRAMSimulator, design: dict, trace_file: Path) -> dict:
    """A DRAMSys simulation JSON for one design: DRAMSys's memspec of the same name, our address mapping."""
    m = sim.spec.mapping
    mapping = {"BYTE_BIT": list(m.byte), "COLUMN_BIT": list(m.column), "BANK_BIT": list(m.bank),
               "ROW_BIT": list(m.row)}
    if m.bankgroup:
        mapping["BANKGROUP_BIT"] = list(m.bankgroup)
    return {"simulation": {
        "simulationid": "bench", "memspec": f"{sim.spec.name}.json", "addressmapping": mapping,
        # ReadWrite buffers take their sizes from RequestBufferSizeRead/Write (else 8 each): the design's
        "mcconfig": {**design, "RequestBufferSizeRead": design["RequestBufferSize"],
                     "RequestBufferSizeWrite": design["RequestBufferSize"],
                     "CmdMux": "Oldest", "PowerDownPolicy": "NoPowerDown", "RefreshManagement": False},
        "simconfig": {"AddressOffset": 0, "CheckTLM2Protocol": False, "DatabaseRecording": False, "Debug": False,
                      "EnableWindowing": False, "PowerAnalysis": True, "SimulationName": "bench",
                      "SimulationProgressBar": False, "StoreMode": "NoStorage", "UseMalloc": False,
                      "WindowSize": 1000},
        "tracesetup": [{"clkMhz": sim.initiator_mhz, "name": str(trace_file)}],
    }}


def _run_dramsys(exe: Path, configs: Path, config_file: Path, repeat: int) -> tuple[float, float, dict[str, float]]:
    """Fastest wall time and the mean CPU time of the whole DRAMSys process; its total time (s) and energy (J)."""
    import resource  # POSIX: the CPU time of finished child processes

    times, out = [], ""
    cpu = 0.0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([str(exe), str(config_file), str(configs)], capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out = proc.stdout
        if proc.returncode != 0:
            raise RuntimeError(f"DRAMSys failed ({proc.returncode}): {proc.stderr[-500:] or out[-500:]}")
    found = {}
    t = re.search(r"Total Time:\s+([\d.]+)\s*(\w+)", out)
    e = re.search(r"Total Energy:\s+([\d.]+)\s*pJ", out)
    if t:
        found["total_time"] = float(t.group(1)) * _UNITS.get(t.group(2), float("nan"))
    if e:
        found["energy"] = float(e.group(1)) * 1e-12
    return min(times), cpu / repeat, found


def _ours(sim: DRAMSimulator, design: dict, repeat: int) -> tuple[float, float]:
    """Fastest wall time and mean CPU time of one evaluation."""
    times = []
    cpu = time.process_time()
    for _ in range(repeat):
        start = time.perf_counter()
        sim._simulate(design)
        times.append(time.perf_counter() - start)
    return min(times), (time.process_time() - cpu) / repeat


_COMPILE_PROBE = """
import time
from simulators.dram import REFERENCE_DESIGN, DRAMSimulator
sim = DRAMSimulator("cloud-1", requests=200)
design = sim.space.validate(REFERENCE_DESIGN)
t0 = time.perf_counter()
sim._simulate(design)
t1 = time.perf_counter()
sim._simulate(design)
print((t1 - t0) - (time.perf_counter() - t1))
"""


def _compile_times() -> tuple[float, float]:
    """First-call overhead (compile, then cache load) in two fresh processes sharing an empty cache dir."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
        runs = [float(subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=env, capture_output=True, text=True,
                                     check=True).stdout.split()[-1]) for _ in range(2)]
    return runs[0], runs[1]


def main() -> None:  # noqa: C901
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--buffer-admission", choices=ADMISSIONS, default="incoming",
                        help="our model's buffer admission (dramsys: DRAMSys v5.1's counters)")
    args = parser.parse_args()
    found = _dramsys()
    if found is None:
        print("DRAMSys not found, set DRAMSYS=path (to the DRAMSys v5.1 executable); measuring ours only")
    if not COMPILED:
        print("numba unavailable or NUMBA_DISABLE_JIT set: the controller runs as plain Python")
    header = (f"{'workload':<8} {'memspec':<11} {'wr':>3}  {'policy mix':<38} {'ours ms':>8} {'req/s':>10}"
              f" {'DRAMSys ms':>10} {'x':>5}  {'time ours/DRAMSys us':>21}  {'energy ours/DRAMSys uJ':>23}")
    print(header)
    ours_total = ds_total = ours_cmp = ours_cpu = ds_cpu = 0.0
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for workload, memspec, writes in CASES:
            sim = DRAMSimulator(workload, memspec=memspec, requests=args.requests, write_fraction=writes,
                                buffer_admission=args.buffer_admission)
            trace_file = save_stl(sim.trace, Path(tmp) / f"{workload}-{writes}.stl")
            sim._simulate(sim.space.validate(REFERENCE_DESIGN))  # compile or load the controller once
            for label, overrides in MIXES.items():
                design = sim.space.validate(dict(REFERENCE_DESIGN, **overrides))
                ours, cpu = _ours(sim, design, args.repeat)
                ours_total += ours
                runs += 1
                line = (f"{workload:<8} {memspec:<11} {writes:>3.1f}  {label:<38} {ours * 1e3:>8.2f} "
                        f"{args.requests / ours:>10,.0f}")
                if found is not None and memspec in DRAMSYS_MEMSPECS:
                    config_file = Path(tmp) / "simulation.json"
                    config_file.write_text(json.dumps(_dramsys_config(sim, design, trace_file)))
                    wall, their_cpu, theirs = _run_dramsys(*found, config_file, args.repeat)
                    ds_total += wall
                    ours_cmp += ours
                    ds_cpu += their_cpu
                    ours_cpu += cpu
                    m = sim._simulate(design).metrics
                    line += (f" {wall * 1e3:>10.1f} {wall / ours:>5.0f}  "
                             f"{m['total_time'] * 1e6:>9.2f}/{theirs.get('total_time', np.nan) * 1e6:<9.2f}  "
                             f"{m['energy'] * 1e6:>10.2f}/{theirs.get('energy', np.nan) * 1e6:<10.2f}")
                print(line, flush=True)
    print(f"\nours: {runs * args.requests / ours_total:,.0f} requests/s on one core "
          f"({ours_total / runs * 1e3:.2f} ms per {args.requests}-request evaluation, mean of {runs})")
    if ds_total:
        print(f"on the DRAMSys rows: ours {ours_cmp * 1e3:.1f} ms vs DRAMSys {ds_total * 1e3:.0f} ms in all: "
              f"{ds_total / ours_cmp:.0f}x faster (CPU time: {ours_cpu * 1e3:.1f} ms vs {ds_cpu * 1e3:.0f} ms, "
              f"{ds_cpu / ours_cpu:.0f}x)")

    sim = DRAMSimulator("cloud-1", requests=args.requests)
    rng = np.random.default_rng(0)
    indices = sim.space.sample_indices(rng, 200)
    sim.evaluate_batch(indices[:2])
    sim._cache.clear()
    start = time.perf_counter()
    batch = sim.evaluate_batch(indices)
    elapsed = time.perf_counter() - start
    print(f"evaluate_batch of 200 random designs (cloud-1): {elapsed / len(batch) * 1e3:.2f} ms per design, "
          f"{len(batch) * args.requests / elapsed:,.0f} requests/s over {os.cpu_count()} cores")
    sim.evaluate(REFERENCE_DESIGN)
    start = time.perf_counter()
    for _ in range(1000):
        sim.evaluate(REFERENCE_DESIGN)
    print(f"repeated design (cache hit): {(time.perf_counter() - start) * 1e3:.1f} us per evaluate")
    if COMPILED:
        first, cached = _compile_times()
        print(f"numba: first call compiles the controller in {first:.2f} s; a fresh process then loads it from "
              f"the cache in {cached:.2f} s")


if __name__ == "__main__":
    main()
