"""The systolic-array model against SCALE-Sim 3.0.0 output, first-principles bounds and its cost tables."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.objective import TargetObjective
from simulators import tech
from simulators.systolic import REFERENCE_DESIGN, SystolicSimulator, simulate_gemm
from simulators.workloads import Layer

DATA = Path(__file__).parent / "data"


def scalesim_rows(name):
    with open(DATA / name) as fh:
        yield from csv.DictReader(fh)


def run(row):
    return simulate_gemm(int(row["M"]), int(row["N"]), int(row["K"]), rows=int(row["array_rows"]),
                         cols=int(row["array_cols"]), dataflow=row["dataflow"],
                         ifmap_sram_kb=int(row["ifmap_sram_kb"]), filter_sram_kb=int(row["filter_sram_kb"]),
                         ofmap_sram_kb=int(row["ofmap_sram_kb"]))


ALL_CASES = list(scalesim_rows("scalesim_gemm_reference.csv")) + list(scalesim_rows("scalesim_ragged.csv"))


@pytest.mark.parametrize("row", ALL_CASES, ids=lambda r: f"{r['M']}x{r['N']}x{r['K']}@{r['array_rows']}x"
                         f"{r['array_cols']}-{r['dataflow']}-{r['ifmap_sram_kb']}KB")
def test_matches_scalesim(row):
    g = run(row)
    # compute cycles, utilisation and SRAM traffic: exactly SCALE-Sim's
    assert g.compute_cycles == int(row["compute_cycles"])
    assert g.stall_cycles == 0  # CALC mode is stall-free
    assert 100 * g.overall_util == pytest.approx(float(row["overall_util_pct"]), rel=1e-12)
    if "mapping_eff_pct" in row:
        assert 100 * g.mapping_efficiency == pytest.approx(float(row["mapping_eff_pct"]), rel=1e-12)
    assert g.sram_ifmap_reads == int(row["sram_ifmap_reads"])
    assert g.sram_filter_reads == int(row["sram_filter_reads"])
    assert g.sram_ofmap_writes == int(row["sram_ofmap_writes"])
    # DRAM traffic: IFMAP exactly; SCALE-Sim's write buffer adds a handful of words to the OFMAP
    # count, and its output-stationary prefetcher re-reads up to a quarter of the filter when the
    # IFMAP is streamed (or keeps part of a slice that does not fit) -- we count whole slices.
    assert g.dram_ifmap_reads == int(row["dram_ifmap_reads"])
    assert 0 <= int(row["dram_ofmap_writes"]) - g.dram_ofmap_writes <= 32
    ref_filter = int(row["dram_filter_reads"])
    if row["dataflow"] == "os":
        assert g.dram_filter_reads == pytest.approx(ref_filter, rel=0.25)
    else:
        assert g.dram_filter_reads == ref_filter


def test_reference_cases_cover_all_dataflows_and_refetch():
    assert {r["dataflow"] for r in ALL_CASES} == {"os", "ws", "is"}
    refetch = [r for r in ALL_CASES if int(r["dram_ifmap_reads"]) > int(r["M"]) * int(r["K"])]
    assert len(refetch) >= 10


def test_closed_form_examples_from_the_paper_conventions():
    # 16x16x8 conv (3x3, 16 filters, padded, valid) on 8x8: M = 14*14, K = 72, N = 16
    assert simulate_gemm(196, 16, 72, rows=8, cols=8, dataflow="os").compute_cycles == 50 * 86 - 1
    assert simulate_gemm(196, 16, 72, rows=8, cols=8, dataflow="ws").compute_cycles == 18 * 218 - 1
    assert simulate_gemm(196, 16, 72, rows=8, cols=8, dataflow="is").compute_cycles == 225 * 38 - 1
    assert simulate_gemm(1, 100, 256, rows=8, cols=8, dataflow="os").compute_cycles == 13 * 270 - 1


gemm_dims = st.integers(1, 3000)
arrays = st.sampled_from([1, 2, 3, 4, 8, 16, 32, 128])


@settings(max_examples=300, deadline=None)
@given(m=gemm_dims, n=gemm_dims, k=gemm_dims, r=arrays, c=arrays, df=st.sampled_from(["os", "ws", "is"]),
       bw=st.floats(0.05, 1000), kb=st.sampled_from([1, 8, 64, 1024]))
def test_first_principles_bounds(m, n, k, r, c, df, bw, kb):
    g = simulate_gemm(m, n, k, rows=r, cols=c, dataflow=df, bandwidth=bw,
                      ifmap_sram_kb=kb, filter_sram_kb=kb, ofmap_sram_kb=kb)
    assert g.macs == m * n * k
    assert g.compute_cycles + 1 >= math.ceil(m * n * k / (r * c))  # peak is R*C MACs per cycle
    assert 0 < g.macs / (r * c * (g.compute_cycles + 1)) <= 1  # SCALE-Sim's figure is zero-based
    assert 0 < g.mapping_efficiency <= 1
    # compulsory traffic: every input and weight read once, every output written once
    assert g.dram_ifmap_reads >= m * k and g.dram_filter_reads >= k * n and g.dram_ofmap_writes >= m * n
    dram = g.dram_ifmap_reads + g.dram_filter_reads + g.dram_ofmap_writes
    assert g.total_cycles >= dram / bw - 1e-6  # cannot move the data faster than the interface
    assert g.total_cycles >= g.compute_cycles
    # more bandwidth never makes it slower, and unlimited bandwidth has no stall
    faster = simulate_gemm(m, n, k, rows=r, cols=c, dataflow=df, bandwidth=bw * 2,
                           ifmap_sram_kb=kb, filter_sram_kb=kb, ofmap_sram_kb=kb)
    assert faster.total_cycles <= g.total_cycles
    assert simulate_gemm(m, n, k, rows=r, cols=c, dataflow=df, ifmap_sram_kb=kb, filter_sram_kb=kb,
                         ofmap_sram_kb=kb).stall_cycles == 0


def test_bigger_sram_never_adds_dram_traffic():
    for df in ("os", "ws", "is"):
        small = simulate_gemm(300, 200, 500, rows=16, cols=16, dataflow=df, ifmap_sram_kb=8, filter_sram_kb=8)
        big = simulate_gemm(300, 200, 500, rows=16, cols=16, dataflow=df, ifmap_sram_kb=1024, filter_sram_kb=1024)
        traffic = [g.dram_ifmap_reads + g.dram_filter_reads for g in (small, big)]
        assert traffic[1] <= traffic[0]
        assert big.dram_ifmap_reads == 300 * 500 and big.dram_filter_reads == 500 * 200  # all fits: compulsory


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"m": 0}, "m must be a positive integer, got 0"),
        ({"k": -3}, "k must be a positive integer"),
        ({"rows": 2.5}, "rows must be a positive integer"),
        ({"dataflow": "rs"}, "unknown dataflow 'rs'.*'os', 'ws', 'is'"),
        ({"bandwidth": 0}, "bandwidth must be a positive number"),
        ({"ifmap_sram_kb": 0}, "ifmap_sram_kb must be a positive integer"),
    ],
)
def test_simulate_gemm_rejects_bad_input(kwargs, message):
    args = {"m": 8, "n": 8, "k": 8, "rows": 4, "cols": 4, "dataflow": "os", **kwargs}
    m, n, k = args.pop("m"), args.pop("n"), args.pop("k")
    with pytest.raises(ValueError, match=message):
        simulate_gemm(m, n, k, **args)


# -- energy and area tables (Horowitz ISSCC 2014, BitFusion synthesis, CACTI) -------------------------


def test_cost_tables_reproduce_their_sources():
    assert tech.mac_energy_pj(8) == pytest.approx(0.2 + 0.1)  # int8 mult 0.2 pJ + int32 add 0.1 pJ
    assert tech.mac_energy_pj(16) == pytest.approx(1.0)  # "int16 MAC ~ 1 pJ"
    assert pytest.approx(3.2, rel=0.05) == tech.MULT_PJ_INT8 * (32 / 8) ** 2  # int32 mult 3.1 pJ
    assert tech.sram_word_energy_pj(8, 64) == pytest.approx(10)  # 8 KB, 64-bit: 10 pJ
    assert tech.sram_word_energy_pj(1024, 64) == pytest.approx(100)  # 1 MB: 100 pJ
    assert tech.sram_word_energy_pj(32, 64) == pytest.approx(20, rel=0.05)  # 32 KB: 20 pJ
    assert pytest.approx(0.0556 / 8 * (45 / 28) ** 2) == tech.SRAM_MM2_PER_KB


def one_layer(m, n, k):
    return SystolicSimulator([Layer("g", "gemm", m=m, n=n, k=k)])


def test_network_metrics_from_first_principles():
    sim = one_layer(256, 256, 256)
    design = {**REFERENCE_DESIGN, "dram_bw_gbps": 64, "clock_mhz": 200}
    e = sim.evaluate(design)
    g = simulate_gemm(256, 256, 256, rows=32, cols=32, dataflow="ws",
                      bandwidth=64e9 / 200e6)  # 320 words per cycle
    assert e.metrics["cycles"] == g.total_cycles
    assert e.metrics["latency"] == pytest.approx(g.total_cycles / 200e6)
    sram = tech.sram_word_energy_pj(64, 8)
    expected_pj = (g.macs * 0.3
                   + sram * (g.sram_ifmap_reads + g.sram_filter_reads + g.sram_ofmap_writes
                             + g.dram_ifmap_reads + g.dram_filter_reads + g.dram_ofmap_writes)
                   + 8 * 8.0 * (g.dram_ifmap_reads + g.dram_filter_reads + g.dram_ofmap_writes))
    assert e.metrics["energy"] == pytest.approx(expected_pj * 1e-12)
    assert e.metrics["area"] == pytest.approx(1024 * 687.6e-6 + 192 * tech.SRAM_MM2_PER_KB)
    assert e.metrics["power"] == pytest.approx(e.metrics["energy"] / e.metrics["latency"])
    assert e.metrics["utilization"] == pytest.approx(256**3 / (1024 * g.total_cycles))
    assert sum(e.breakdown["energy_j"].values()) == pytest.approx(e.metrics["energy"])


def test_network_cost_is_the_sum_of_its_layers():
    layers = [Layer("a", "gemm", m=100, n=64, k=300), Layer("b", "gemm", m=49, n=384, k=1728, repeat=3)]
    sim = SystolicSimulator(layers)
    parts = [SystolicSimulator([layer]).evaluate(REFERENCE_DESIGN).metrics for layer in layers]
    whole = sim.evaluate(REFERENCE_DESIGN).metrics
    for metric in ("cycles", "energy", "latency"):
        assert whole[metric] == pytest.approx(sum(p[metric] for p in parts))
    single = SystolicSimulator([Layer("b1", "gemm", m=49, n=384, k=1728)]).evaluate(REFERENCE_DESIGN).metrics
    assert parts[1]["cycles"] == 3 * single["cycles"]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_network_physics(data):
    sim = SystolicSimulator("resnet18")
    design = sim.space.decode_indices([data.draw(st.integers(0, n - 1)) for n in sim.space.nvec])
    m = sim.evaluate(design).metrics
    pes = design["rows"] * design["cols"]
    assert m["cycles"] >= sim.network.macs / pes  # roofline
    assert 0 < m["utilization"] <= 1
    assert m["latency"] == pytest.approx(m["cycles"] / (design["clock_mhz"] * 1e6))
    # more DRAM bandwidth never slows it down; a faster clock never lengthens latency
    if design["dram_bw_gbps"] < 64:
        faster = sim.evaluate({**design, "dram_bw_gbps": design["dram_bw_gbps"] * 2}).metrics
        assert faster["cycles"] <= m["cycles"]


# Designs found by exhaustive search that meet the default targets (so they are reachable).
MEETS_DEFAULT_TARGETS = {
    "alexnet": {"rows": 32, "cols": 128, "dataflow": "os", "ifmap_sram_kb": 8, "filter_sram_kb": 8,
                "ofmap_sram_kb": 8, "dram_bw_gbps": 32, "bits": 8, "clock_mhz": 200},
    "bert_base": {"rows": 32, "cols": 64, "dataflow": "os", "ifmap_sram_kb": 8, "filter_sram_kb": 128,
                  "ofmap_sram_kb": 8, "dram_bw_gbps": 16, "bits": 8, "clock_mhz": 400},
    "mobilenet_v2": {"rows": 32, "cols": 32, "dataflow": "os", "ifmap_sram_kb": 32, "filter_sram_kb": 64,
                     "ofmap_sram_kb": 8, "dram_bw_gbps": 32, "bits": 8, "clock_mhz": 1000},
    "resnet18": {"rows": 64, "cols": 64, "dataflow": "os", "ifmap_sram_kb": 8, "filter_sram_kb": 8,
                 "ofmap_sram_kb": 8, "dram_bw_gbps": 32, "bits": 8, "clock_mhz": 200},
    "resnet50": {"rows": 32, "cols": 64, "dataflow": "os", "ifmap_sram_kb": 8, "filter_sram_kb": 128,
                 "ofmap_sram_kb": 8, "dram_bw_gbps": 32, "bits": 8, "clock_mhz": 400},
    "vgg16": {"rows": 64, "cols": 64, "dataflow": "os", "ifmap_sram_kb": 8, "filter_sram_kb": 8,
              "ofmap_sram_kb": 8, "dram_bw_gbps": 32, "bits": 8, "clock_mhz": 200},
}


@pytest.mark.parametrize("workload", sorted(MEETS_DEFAULT_TARGETS))
def test_default_targets_are_hard_but_reachable(workload):
    sim = SystolicSimulator(workload)
    objective = TargetObjective(sim.default_targets(), sim.metrics)
    assert objective.met(sim.evaluate(MEETS_DEFAULT_TARGETS[workload]).metrics)
    assert not objective.met(sim.evaluate(REFERENCE_DESIGN).metrics)
    sample = sim.evaluate_batch(sim.space.sample_indices(np.random.default_rng(0), 2000))
    assert (objective.batch(sample) >= 1).mean() < 0.005


def test_simulator_rejects_bad_configuration():
    with pytest.raises(ValueError, match="unknown dram 'ddr9'"):
        SystolicSimulator("resnet18", dram="ddr9")
    with pytest.raises(ValueError, match="unknown workload"):
        SystolicSimulator("lenet")
    from simulators.core import Choice, DesignSpace

    narrow = DesignSpace([p for p in SystolicSimulator().space if p.name != "bits"] + [Choice("bits", [8, 4])])
    with pytest.raises(ValueError, match="'bits': unsupported values \\[4\\]"):
        SystolicSimulator(space=narrow)
    with pytest.raises(ValueError, match="exactly the parameters"):
        SystolicSimulator(space=DesignSpace([Choice("rows", [8])]))
