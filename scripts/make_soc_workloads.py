"""Regenerate ``simulators/soc/data/*.yaml`` from FARSI's published workload tables.

Usage: ``python scripts/make_soc_workloads.py <dir with the FARSI CSVs> [out dir]``

The CSVs are ``<workload>_database - Task {Data Movement,PE Performance,PE Energy,PE Area,Itr Count}.csv``
and ``misc_database - Budget.csv`` from ``Project_FARSI/specs/database_data/parsing/`` in
github.com/srivatsankrishnan/oss-arch-gym (MIT licence, Facebook). Only numbers are read; the
conversion follows FARSI's own parser (``parse_library.py``):

- ``A53`` column: cycles on the 1 GHz reference A53 -> ``core_cycles``;
- ``IP0`` column: cycles of the task's accelerator at unroll 1 -> ``accel.cycles``;
- IP energy x 1e-15 -> ``accel.energy_j`` (FARSI multiplies by 10**-15);
- IP area x 1e-12 m^2 (i.e. the table is in um^2) -> ``accel.area_mm2`` = value x 1e-6;
- ``number of iterations`` -> ``trip_count`` (the largest useful unroll factor).

FARSI's dummy ``souurce``/``siink`` tasks become ``inputs``/``outputs`` (bytes entering and leaving
the SoC), self-edges are dropped (FARSI's parser skips them too), and a zero-work task without an
accelerator (``dummy_last`` in the audio decoder) is folded away: the bytes its parents sent it
become their ``outputs``, and its name is listed under ``host_tasks`` (FARSI runs it on the host
core, which therefore stays in the design). Task names lose FARSI's ``_fxp_cloned`` suffix. Tasks are
listed in the order of FARSI's ``Task Data Movement`` table, the order FARSI's simulator launches
ready tasks in.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

WORKLOADS = ("audio_decoder", "edge_detection", "hpvm_cava")
SOURCES = ("souurce", "source")
SINKS = ("siink", "sink")


def _short(name: str) -> str:
    return name.removesuffix("_fxp_cloned")


def _table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _column(rows: list[dict[str, str]], column: str) -> dict[str, str]:
    return {r["Task Name"]: (r.get(column) or "").strip() for r in rows}


def convert(src: Path, workload: str) -> str:
    prefix = f"{workload}_database - "
    moves = _table(src / f"{prefix}Task Data Movement.csv")
    perf = _table(src / f"{prefix}Task PE Performance.csv")
    energy = _column(_table(src / f"{prefix}Task PE Energy.csv"), "IP0")
    area = _column(_table(src / f"{prefix}Task PE Area.csv"), "IP0")
    trips = {r["Task Name"]: int(r["number of iterations"]) for r in _table(src / f"{prefix}Task Itr Count.csv")}
    budget = {r["Workload"].strip(): r for r in _table(src / "misc_database - Budget.csv")}[workload]

    a53 = _column(perf, "A53")
    ip = _column(perf, "IP0")
    order = [r["Task Name"] for r in moves]  # FARSI's task order (its simulator launches ready tasks in it)
    edges: list[tuple[str, str, int]] = []
    for row in moves:
        parent = row["Task Name"]
        for child, cell in row.items():
            if child == "Task Name" or child == parent or not (cell or "").strip():
                continue
            edges.append((parent, child, int(float(cell))))

    real = [t for t in order if t not in SOURCES + SINKS]
    dummies = {t for t in real if float(a53[t] or 0) == 0 and not ip[t]}
    inputs: dict[str, int] = {}
    outputs: dict[str, int] = {}
    kept: list[tuple[str, str, int]] = []
    for u, v, b in edges:
        if u in SOURCES:
            inputs[_short(v)] = inputs.get(_short(v), 0) + b
        elif v in SINKS or v in dummies:
            if u not in dummies:
                outputs[_short(u)] = outputs.get(_short(u), 0) + b
        elif u in dummies:
            raise ValueError(f"{workload}: dummy task {u} has real children")
        else:
            kept.append((_short(u), _short(v), b))

    lines = [
        f"# {workload}: FARSI's task graph, converted by scripts/make_soc_workloads.py from",
        f"# Project_FARSI/specs/database_data/parsing/{prefix}Task *.csv and misc_database - Budget.csv",
        "# in github.com/srivatsankrishnan/oss-arch-gym (MIT licence, Facebook). Units: core_cycles on the",
        "# 1 GHz reference A53; accel.cycles of the task's accelerator at unroll 1 (FARSI's 100 MHz IP);",
        "# accel.energy_j = table x 1e-15 J and accel.area_mm2 = table x 1e-6 (um^2), as FARSI's parser",
        "# reads them; trip_count caps the unroll factor; bytes per edge; inputs/outputs are the bytes of",
        "# FARSI's source/sink edges; host_tasks are folded zero-work tasks FARSI runs on the host core.",
        "# Budgets: FARSI/ArchGym misc_database - Budget.csv.",
        f"name: {workload}",
        "budgets: {"
        f"latency_s: {float(budget['latency'])}, power_w: {float(budget['power'])}, "
        f"area_mm2: {round(float(budget['area']) * 1e6, 6)}" "}",
        "tasks:",
    ]
    for t in real:
        if t in dummies:
            continue
        item = f"  - {{name: {_short(t)}, core_cycles: {int(float(a53[t]))}"
        if ip[t]:
            e = float(energy[t]) * 1e-15
            a = float(area[t]) * 1e-6
            item += f", accel: {{cycles: {int(float(ip[t]))}, energy_j: {e:.6g}, area_mm2: {a:.6g}}}"
        item += f", trip_count: {trips.get(t, 1)}}}"
        lines.append(item)
    lines.append("edges:")
    lines += [f"  - {{from: {u}, to: {v}, bytes: {b}}}" for u, v, b in kept]
    lines.append("inputs: {" + ", ".join(f"{k}: {v}" for k, v in inputs.items()) + "}")
    lines.append("outputs: {" + ", ".join(f"{k}: {v}" for k, v in outputs.items()) + "}")
    if dummies:
        lines.append("host_tasks: [" + ", ".join(sorted(dummies)) + "]")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    src = Path(argv[1])
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parents[1] / "simulators/soc/data"
    out.mkdir(parents=True, exist_ok=True)
    for w in WORKLOADS:
        (out / f"{w}.yaml").write_text(convert(src, w))
        print(f"wrote {out / f'{w}.yaml'}")


if __name__ == "__main__":
    main(sys.argv)
