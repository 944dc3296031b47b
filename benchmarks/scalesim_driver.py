"""Run SCALE-Sim 3.0.0 on GEMM cases and time it: a helper for ``bench_systolic.py --scalesim PYTHON``.

SCALE-Sim needs ``numpy < 2.4``, so it lives in its own virtual environment::

    python -m venv .venv-scalesim
    .venv-scalesim/bin/pip install scalesim "numpy<2.4"
    python benchmarks/bench_systolic.py --scalesim .venv-scalesim/bin/python

Reads one JSON case per line on stdin (m, n, k, rows, cols, dataflow) and prints one JSON result per
line (SCALE-Sim's compute cycles and SRAM counts, and the wall time of its run). CALC bandwidth mode,
64 KB SRAMs, 1-byte words: the setting our stall-free model reproduces.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

from scalesim.scale_sim import scalesim  # noqa: I001 - only importable in the SCALE-Sim venv

CONFIG = """[general]
run_name = bench
[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32
[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2
[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40
[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def run_case(case: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "s.cfg").write_text(CONFIG.format(**case))
        (d / "t.csv").write_text(f"Layer, M, N, K,\nl0, {case['m']}, {case['n']}, {case['k']},\n")
        (d / "l.csv").write_text("Layer name, a,\nl0, 1,\n")  # SCALE-Sim opens a layout file even when unused
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=str(d / "s.cfg"), topology=str(d / "t.csv"),
                           layout=str(d / "l.csv"), input_type_gemm=True)
            sim.run_scale(top_path=str(d))
        seconds = time.perf_counter() - start
    layer = sim.runner.single_layer_sim_object_list[0]
    report = layer.get_compute_report_items()
    detail = layer.get_detail_report_items()
    return {**case, "compute_cycles": int(report[1]), "sram_ifmap_reads": int(detail[2]),
            "sram_filter_reads": int(detail[5]), "sram_ofmap_writes": int(detail[8]), "seconds": seconds}


if __name__ == "__main__":
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(run_case(json.loads(line))), flush=True)
