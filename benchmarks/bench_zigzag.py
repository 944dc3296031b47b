"""Systolic-v0 against ZigZag 3.9 on 27 matched points: energy and cycle ratios and Kendall tau.

Nine layers (seven of ResNet-18, a 256^3 GEMM and BERT-base's first FFN GEMM) on 16x16, 32x32 and 64x64
weight-stationary arrays with the reference design's memories: 8-bit words, three 64 KB SRAMs, 8 GB/s
DRAM at 400 MHz (20 words per cycle), LPDDR4. ZigZag is given archgym's own unit costs (MAC, CACTI SRAM
read/write per word, DRAM per word), each layer as the GEMM archgym lowers it to, and searches its
temporal mapping (LOMA) for least energy.

    python benchmarks/bench_zigzag.py                              # against the stored ZigZag outputs
    python benchmarks/bench_zigzag.py --zigzag .venv-zigzag/bin/python [--save]   # run ZigZag afresh

``--save`` rewrites ``tests/data/zigzag_systolic_reference.csv`` (what ``tests/test_systolic.py`` checks);
``zigzag_driver.py`` says how to install ZigZag in its own environment.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from reference_driver import run_driver  # benchmarks/, beside this file
from scipy.stats import kendalltau

from archgym.display import table
from simulators import tech
from simulators.systolic import REFERENCE_DESIGN, SystolicSimulator
from simulators.workloads import Layer, load_network

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "zigzag_systolic_reference.csv"
ARRAYS = (16, 32, 64)
RESNET18_LAYERS = ("conv1", "layer1.0.conv1", "layer2.0.conv1", "layer2.1.conv1", "layer3.1.conv1",
                   "layer4.1.conv1", "fc")
DESIGN = {**REFERENCE_DESIGN, "dataflow": "ws"}  # 64 KB SRAMs, 8 GB/s, 8 bits, 400 MHz
WORD_BITS = DESIGN["bits"]
DRAM_WORDS_PER_CYCLE = DESIGN["dram_bw_gbps"] * 1e9 / (DESIGN["clock_mhz"] * 1e6) / (WORD_BITS // 8)

HEADER = """\
# ZigZag 3.9.1 (PyPI zigzag-dse, KU Leuven) on archgym's weight-stationary array, written by
# benchmarks/bench_zigzag.py --zigzag PYTHON --save (the accelerator it builds: benchmarks/zigzag_driver.py).
# Each layer as its im2col GEMM (B = m streamed, C = k on D1 = rows, K = n on D2 = cols), 8-bit words for
# inputs, weights and partial sums, one weight register per PE (free), three double-buffered 64 KB SRAMs
# with wide ports, one DRAM port of 20 words/cycle, LOMA temporal-mapping search (lpf_limit 8) for least
# energy. Unit costs given to ZigZag are archgym's (columns mac_pj ... dram_pj, pJ per MAC or per word).
# zigzag_energy_pj: energy_total; zigzag_cycles: latency_total2 (with on- and off-loading);
# zigzag_dram_words_*: words each operand moves across the DRAM port.
"""


def layers() -> list[Layer]:
    resnet = {layer.name: layer for layer in load_network("resnet18")}
    bert = {layer.name: layer for layer in load_network("bert_base")}
    return [*(resnet[name] for name in RESNET18_LAYERS), Layer("gemm256", "gemm", m=256, n=256, k=256),
            bert["encoder.0.ffn1"]]


def unit_costs() -> dict:
    kb = DESIGN["ifmap_sram_kb"]
    assert kb == DESIGN["filter_sram_kb"] == DESIGN["ofmap_sram_kb"]
    read, write = tech.sram_read_pj(kb, WORD_BITS), tech.sram_write_pj(kb, WORD_BITS)
    return {"sram_kb": kb, "bits": WORD_BITS, "dram_words_per_cycle": DRAM_WORDS_PER_CYCLE,
            "mac_pj": tech.mac_energy_pj(WORD_BITS),
            "sram_read_pj": {op: float(read) for op in ("ifmap", "filter", "ofmap")},
            "sram_write_pj": {op: float(write) for op in ("ifmap", "filter", "ofmap")},
            "dram_pj": tech.DRAM_PJ_PER_BIT["lpddr4"] * WORD_BITS}


def cases() -> list[dict]:
    out = []
    for layer in layers():
        m, n, k, count = layer.gemm
        assert count == 1, layer
        for size in ARRAYS:
            out.append({"name": layer.name, "m": m, "n": n, "k": k, "rows": size, "cols": size, **unit_costs()})
    return out


def run_zigzag(python: str) -> list[dict]:
    rows = []
    for r in run_driver(python, "zigzag_driver.py", cases(), "ZigZag"):
        rows.append({"layer": r["name"], "m": r["m"], "n": r["n"], "k": r["k"], "rows": r["rows"], "cols": r["cols"],
                     "sram_kb": r["sram_kb"], "bits": r["bits"], "dram_words_per_cycle": r["dram_words_per_cycle"],
                     "mac_pj": r["mac_pj"], "sram_read_pj": r["sram_read_pj"]["ifmap"],
                     "sram_write_pj": r["sram_write_pj"]["ifmap"], "dram_pj": r["dram_pj"],
                     "zigzag_energy_pj": round(r["zigzag_energy_pj"], 1), "zigzag_cycles": r["zigzag_cycles"],
                     "zigzag_mac_pj": round(r["zigzag_mac_pj"], 1),
                     **{f"zigzag_dram_words_{op}": round(r["zigzag_dram_words"][op]) for op in ("I", "W", "O")},
                     "zigzag_seconds": round(r["seconds"], 2), "zigzag_temporal_mapping": r["zigzag_temporal_mapping"]})
    return rows


def save(rows: list[dict], path: Path = DATA) -> None:
    with open(path, "w", newline="") as fh:
        fh.write(HEADER)
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def load(path: Path = DATA) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def archgym_point(row: dict, traffic: str = "reuse") -> dict:
    """archgym's energy (pJ), cycles and DRAM words for one stored point."""
    layer = Layer(row["layer"], "gemm", m=int(row["m"]), n=int(row["n"]), k=int(row["k"]))
    sim = SystolicSimulator([layer], traffic=traffic)
    e = sim.evaluate({**DESIGN, "rows": int(row["rows"]), "cols": int(row["cols"])})
    return {"energy_pj": e.metrics["energy"] / tech.PJ, "cycles": e.metrics["cycles"],
            "dram_words": e.breakdown["dram_bytes"] // (WORD_BITS // 8),
            "dram_share": e.breakdown["energy_j"]["dram"] / e.metrics["energy"]}


def agreement(rows: list[dict], traffic: str = "reuse") -> dict:
    """Per-point ratios (archgym / ZigZag) and the summary figures the test and the docs quote."""
    ours = [archgym_point(r, traffic) for r in rows]
    e_ratio = [o["energy_pj"] / float(r["zigzag_energy_pj"]) for o, r in zip(ours, rows)]
    c_ratio = [o["cycles"] / float(r["zigzag_cycles"]) for o, r in zip(ours, rows)]
    e_ours, e_ref = [o["energy_pj"] for o in ours], [float(r["zigzag_energy_pj"]) for r in rows]
    c_ours, c_ref = [o["cycles"] for o in ours], [float(r["zigzag_cycles"]) for r in rows]
    # trend across array sizes: does a bigger array help (or hurt) energy in both models?
    steps = same = 0
    for i in range(0, len(rows), len(ARRAYS)):
        for j in range(i, i + len(ARRAYS) - 1):
            steps += 1
            same += (e_ours[j + 1] < e_ours[j]) == (e_ref[j + 1] < e_ref[j])
    return {
        "ours": ours, "energy_ratio": e_ratio, "cycle_ratio": c_ratio,
        "energy_within_2x": sum(0.5 <= x <= 2 for x in e_ratio) / len(rows),
        "cycles_within_2x": sum(0.5 <= x <= 2 for x in c_ratio) / len(rows),
        "energy_geomean": math.exp(sum(math.log(x) for x in e_ratio) / len(rows)),
        "cycles_geomean": math.exp(sum(math.log(x) for x in c_ratio) / len(rows)),
        "energy_tau": float(kendalltau(e_ours, e_ref).statistic),
        "cycles_tau": float(kendalltau(c_ours, c_ref).statistic),
        "energy_trend_agrees": (same, steps),
    }


def report(rows: list[dict]) -> None:
    a = agreement(rows)
    lines = []
    for r, o, er, cr in zip(rows, a["ours"], a["energy_ratio"], a["cycle_ratio"]):
        zz_dram = sum(float(r[f"zigzag_dram_words_{op}"]) for op in ("I", "W", "O"))
        lines.append((f"{r['layer']} ({r['m']}x{r['n']}x{r['k']})", f"{r['rows']}x{r['cols']}",
                      f"{o['energy_pj'] / 1e6:.3f}", f"{float(r['zigzag_energy_pj']) / 1e6:.3f}", f"{er:.2f}",
                      f"{o['cycles']:,.0f}", f"{float(r['zigzag_cycles']):,.0f}", f"{cr:.2f}",
                      f"{o['dram_words'] / zz_dram:.2f}"))
    print(table(lines, ("layer (M x N x K)", "array", "ours uJ", "ZigZag uJ", "energy", "ours cycles",
                        "ZigZag cycles", "cycles", "DRAM words")))
    print()
    for traffic in ("reuse", "scalesim"):
        s = agreement(rows, traffic)
        e, c = s["energy_ratio"], s["cycle_ratio"]
        print(f"traffic={traffic}: energy ratio {min(e):.2f}-{max(e):.2f} (geomean {s['energy_geomean']:.2f}), "
              f"{s['energy_within_2x']:.0%} within 2x, tau {s['energy_tau']:.2f}; cycles {min(c):.2f}-{max(c):.2f} "
              f"(geomean {s['cycles_geomean']:.2f}), {s['cycles_within_2x']:.0%} within 2x, tau "
              f"{s['cycles_tau']:.2f}; energy trend over array sizes agrees on "
              f"{s['energy_trend_agrees'][0]}/{s['energy_trend_agrees'][1]} steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zigzag", metavar="PYTHON", help="a Python interpreter that can import zigzag")
    parser.add_argument("--save", action="store_true", help=f"write the ZigZag outputs to {DATA.name}")
    args = parser.parse_args()
    if args.zigzag:
        rows = run_zigzag(args.zigzag)
        if args.save:
            save(rows)
        rows = [{k: str(v) for k, v in r.items()} for r in rows]
    else:
        rows = load()
    report(rows)


if __name__ == "__main__":
    main()
