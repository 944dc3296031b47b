"""Run ZigZag 3.9 on GEMM layers mapped to a weight-stationary array: a helper for ``bench_zigzag.py``.

ZigZag (KU Leuven, PyPI ``zigzag-dse``) is a loop-nest cost model with a temporal-mapping search (LOMA).
It is never a dependency of archgym; it lives in its own virtual environment::

    python -m venv .venv-zigzag
    .venv-zigzag/bin/pip install "zigzag-dse==3.9.*" six     # six: an undeclared import of 3.9.1
    python benchmarks/bench_zigzag.py --zigzag .venv-zigzag/bin/python

Reads one JSON case per line on stdin and prints one JSON result per line. A case names a GEMM
``O[m, n] = I[m, k] x W[k, n]`` (``m``, ``n``, ``k``), a ``rows x cols`` array, the SRAM size in KB (the
same for the three operand SRAMs), the word width in bits, the DRAM interface in words per cycle, and
the unit energies in pJ (``mac_pj``; per word: ``sram_read_pj``/``sram_write_pj`` for each of ``ifmap``,
``filter``, ``ofmap``, and ``dram_pj``). The accelerator handed to ZigZag mirrors archgym's weight-
stationary array: one weight register per PE (free, as archgym charges none), reduction ``k`` on the
rows (ZigZag's ``C`` on ``D1``), outputs ``n`` on the columns (``K`` on ``D2``), ``m`` streamed (``B``),
three single-operand SRAMs with wide ports (archgym models no SRAM bandwidth limit), and one DRAM port
shared by all operands. ZigZag's LOMA search picks the temporal mapping of least energy.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import yaml
from zigzag import api  # noqa: I001 - only importable in the ZigZag venv


def _port(name, kind, bits, allocation):
    return {"name": name, "type": kind, "bandwidth_min": bits["min"], "bandwidth_max": bits["max"],
            "allocation": allocation}


def _memory(size_bits, read_pj, write_pj, operands, word_bits, max_bits, served, allocations,
            double_buffered=False):
    """A memory whose cost per access of ``max_bits`` is scaled so that one word costs ``*_pj``.

    ZigZag counts accesses in units of the port's maximum bandwidth (``ceil(bits / min_bw) * min_bw /
    max_bw``), so with ``min_bw`` = one word the energy is exactly words x cost per word. A double-buffered
    memory (archgym's SRAMs) holds a slice in half of itself unless the slice is the whole operand."""
    scale = max_bits / word_bits
    bits = {"min": word_bits, "max": max_bits}
    read, write = allocations
    return {"size": size_bits, "r_cost": read_pj * scale, "w_cost": write_pj * scale, "area": 0, "latency": 1,
            "operands": operands,
            "ports": [_port("r_port_1", "read", bits, read), _port("w_port_1", "write", bits, write)],
            "served_dimensions": served, "force_double_buffering": double_buffered}


def accelerator(case: dict) -> dict:
    word = case["bits"]
    rows, cols = case["rows"], case["cols"]
    sram_bits = case["sram_kb"] * 1024 * 8
    wide = word * rows * cols  # archgym's SRAMs have no bandwidth limit: never the bottleneck here
    dram_bits = int(round(case["dram_words_per_cycle"] * word))
    memories = {
        "w_reg": _memory(word, 0.0, 0.0, ["I2"], word, word, [], (["I2, tl"], ["I2, fh"])),
        "sram_filter": _memory(sram_bits, case["sram_read_pj"]["filter"], case["sram_write_pj"]["filter"], ["I2"],
                               word, wide, ["D1", "D2"], (["I2, tl"], ["I2, fh"]), True),
        "sram_ifmap": _memory(sram_bits, case["sram_read_pj"]["ifmap"], case["sram_write_pj"]["ifmap"], ["I1"],
                              word, wide, ["D1", "D2"], (["I1, tl"], ["I1, fh"]), True),
        "sram_ofmap": _memory(sram_bits, case["sram_read_pj"]["ofmap"], case["sram_write_pj"]["ofmap"], ["O"],
                              word, wide, ["D1", "D2"], (["O, tl", "O, th"], ["O, fh", "O, fl"]), True),
        "dram": {
            "size": 10**10, "r_cost": case["dram_pj"] * dram_bits / word, "w_cost": case["dram_pj"] * dram_bits / word,
            "area": 0, "latency": 1, "operands": ["I1", "I2", "O"],
            "ports": [{"name": "rw_port_1", "type": "read_write", "bandwidth_min": word, "bandwidth_max": dram_bits,
                       "allocation": ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"]}],
            "served_dimensions": ["D1", "D2"],
        },
    }
    return {"name": f"archgym_ws_{rows}x{cols}", "memories": memories,
            "operational_array": {"unit_energy": case["mac_pj"], "unit_area": 1, "dimensions": ["D1", "D2"],
                                  "sizes": [rows, cols], "systolic_dimensions": ["D1", "D2"]}}


def mapping(case: dict) -> list[dict]:
    return [{"name": "default", "spatial_mapping": {"D1": [f"C, {case['rows']}"], "D2": [f"K, {case['cols']}"]},
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]


def workload(case: dict) -> list[dict]:
    word = case["bits"]
    return [{"id": 0, "name": case.get("name", "gemm"), "operator_type": "Gemm",
             "equation": "O[b][k]+=W[k][c]*I[b][c]", "loop_dims": ["B", "K", "C"],
             "loop_sizes": [case["m"], case["n"], case["k"]],
             "operand_precision": {"I": word, "W": word, "O": word, "O_final": word},
             "operand_source": {"I": 0, "W": 0}}]


def run(case: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        hw, mp = Path(tmp, "hw.yaml"), Path(tmp, "map.yaml")
        hw.write_text(yaml.safe_dump(accelerator(case), sort_keys=False))
        mp.write_text(yaml.safe_dump(mapping(case), sort_keys=False))
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            energy, latency, cmes = api.get_hardware_performance_zigzag(
                workload(case), str(hw), str(mp), opt=case.get("opt", "energy"), dump_folder=tmp,
                lpf_limit=case.get("lpf_limit", 8), loma_show_progress_bar=False)
        seconds = time.perf_counter() - start
    cme = cmes[0][1][0][0]
    breakdown = {str(op): [float(e) for e in levels] for op, levels in cme.mem_energy_breakdown.items()}
    # the DRAM level is the outermost of every operand; its energy over the energy of a word gives words
    return {**case, "zigzag_energy_pj": float(energy), "zigzag_cycles": float(latency),
            "zigzag_mac_pj": float(cme.mac_energy), "zigzag_mem_pj": breakdown,
            "zigzag_dram_words": {op: levels[-1] / case["dram_pj"] for op, levels in breakdown.items()},
            "zigzag_ideal_temporal_cycles": float(cme.ideal_temporal_cycle),
            "zigzag_temporal_mapping": str(cme.temporal_mapping), "seconds": seconds}


def main() -> None:
    logging.disable(logging.CRITICAL)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
