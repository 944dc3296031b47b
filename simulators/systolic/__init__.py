"""Analytical systolic-array DNN accelerator (SCALE-Sim-exact compute cycles; energy and area added).

``simulate_gemm`` costs one GEMM; ``SystolicSimulator`` costs a whole network for a design of the
searchable knobs; ``load_workload`` returns a bundled or user layer table. The model and its
conventions are documented in ``simulators.systolic.model``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

from simulators import tech
from simulators.params import check_int
from simulators.systolic.model import DATAFLOWS, TRAFFIC, dram_words, gemm_cost, unit_energies
from simulators.systolic.simulator import METRICS, REFERENCE_DESIGN, SystolicSimulator, default_space
from simulators.workloads import Layer, Network, load_network

__all__ = ["DATAFLOWS", "METRICS", "REFERENCE_DESIGN", "TRAFFIC", "GemmResult", "SystolicSimulator", "default_space",
           "load_workload", "simulate_gemm"]


@dataclass(frozen=True)
class GemmResult:
    """Counts for one GEMM. Cycles as SCALE-Sim reports them; SRAM/DRAM traffic in words.

    The mapping: column folds run in blocks of ``fold_block`` (1: column folds outside, SCALE-Sim's
    order; ``col_folds``: row folds outside) and the streamed dimension in ``stream_tiles`` tiles, whose
    extra fold fills and drains cost ``refill_cycles`` (``total = compute + refill + stall``).
    ``sram_ofmap_reads`` are partial-sum reads for accumulation and ``dram_ofmap_reads`` spilled partial
    sums read back (both 0 under ``traffic="scalesim"``); ``energy_pj`` is MAC + SRAM + DRAM energy."""

    m: int
    n: int
    k: int
    rows: int
    cols: int
    dataflow: str
    traffic: str
    compute_cycles: int
    refill_cycles: int
    stall_cycles: int
    total_cycles: int
    row_folds: int
    col_folds: int
    folds: int
    cycles_per_fold: int
    macs: int
    sram_ifmap_reads: int
    sram_filter_reads: int
    sram_ofmap_writes: int
    sram_ofmap_reads: int
    dram_ifmap_reads: int
    dram_filter_reads: int
    dram_ofmap_writes: int
    dram_ofmap_reads: int
    fold_block: int
    stream_tiles: int
    energy_pj: float

    @property
    def dram_words(self) -> int:
        """Every word crossing the DRAM interface, spilled partial sums both ways."""
        return dram_words(vars(self))

    @property
    def overall_util(self) -> float:
        """SCALE-Sim's 'Overall Util' as a fraction: MACs / (PEs x compute cycles).

        SCALE-Sim's cycle figure is zero-based, so a tiny GEMM can exceed 1 (1x1x1 on 1x1 would divide by 0:
        it is counted as one cycle)."""
        return self.macs / (self.rows * self.cols * max(1, self.compute_cycles))

    @property
    def mapping_efficiency(self) -> float:
        """SCALE-Sim's 'Mapping Efficiency' as a fraction: mean share of PEs holding work per fold."""
        rows_dim, cols_dim = {"os": (self.m, self.n), "ws": (self.k, self.n), "is": (self.k, self.m)}[self.dataflow]
        return rows_dim * cols_dim / (self.folds * self.rows * self.cols)


def _positive_int(name: str, value: object) -> int:
    return check_int(value, name, low=1)


def simulate_gemm(
    m: int,
    n: int,
    k: int,
    *,
    rows: int,
    cols: int,
    dataflow: str,
    ifmap_sram_kb: int = 64,
    filter_sram_kb: int = 64,
    ofmap_sram_kb: int = 64,
    word_bytes: int = 1,
    bandwidth: float | None = None,
    traffic: str = "reuse",
    dram: str = "lpddr4",
) -> GemmResult:
    """Cost of ``O[m, n] = I[m, k] x W[k, n]`` on a ``rows x cols`` array.

    Defaults follow SCALE-Sim's: 64 KB SRAMs, 1-byte words, and unlimited DRAM bandwidth
    (``bandwidth=None``, SCALE-Sim's stall-free CALC mode). ``bandwidth`` in words per cycle adds
    double-buffered DRAM stalls. ``traffic="reuse"`` keeps on chip what fits and accumulates outputs
    in the output SRAM under the cheaper fold order; ``traffic="scalesim"`` counts SRAM and DRAM
    traffic as SCALE-Sim 3.0.0 does. Compute cycles are the same under both. ``energy_pj`` uses the
    unit costs of ``simulators.tech`` with ``dram`` energy per bit (``tech.DRAM_PJ_PER_BIT``).
    """
    for name, value in (("m", m), ("n", n), ("k", k), ("rows", rows), ("cols", cols),
                        ("ifmap_sram_kb", ifmap_sram_kb), ("filter_sram_kb", filter_sram_kb),
                        ("ofmap_sram_kb", ofmap_sram_kb), ("word_bytes", word_bytes)):
        _positive_int(name, value)
    if dataflow not in DATAFLOWS:
        raise ValueError(f"unknown dataflow {dataflow!r}; choose one of {list(DATAFLOWS)}")
    if traffic not in TRAFFIC:
        raise ValueError(f"unknown traffic {traffic!r}; choose one of {list(TRAFFIC)}")
    if dram not in tech.DRAM_PJ_PER_BIT:
        raise ValueError(f"unknown dram {dram!r}; choose one of {sorted(tech.DRAM_PJ_PER_BIT)}")
    units = unit_energies(ifmap_sram_kb, filter_sram_kb, ofmap_sram_kb, 8 * word_bytes, tech.DRAM_PJ_PER_BIT[dram])
    if bandwidth is not None and not (isinstance(bandwidth, (int, float)) and math.isfinite(bandwidth)
                                      and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive number of words per cycle (or None), got {bandwidth!r}")
    c = gemm_cost(m, n, k, rows, cols, DATAFLOWS.index(dataflow), ifmap_sram_kb * 1024 // word_bytes,
                  filter_sram_kb * 1024 // word_bytes, ofmap_sram_kb * 1024 // word_bytes, units, bandwidth, traffic)
    return GemmResult(m=m, n=n, k=k, rows=rows, cols=cols, dataflow=dataflow, traffic=traffic,
                      energy_pj=float(sum(c["energy_pj"].values())),
                      **{f: int(c[f]) for f in GemmResult.__dataclass_fields__ if f in c and f != "energy_pj"})


def load_workload(workload: str | os.PathLike[str] | Network | Iterable[Layer]) -> Network:
    """Layers of a bundled network (``alexnet``, ``vgg16``, ``resnet18``, ``resnet50``, ``resnet50_v1``,
    ``mobilenet_v2``, ``bert_base``), a CSV/YAML layer file, or a list of ``Layer``."""
    return load_network(workload)
