"""SoC-v0 against FARSI itself with CACTI on: latency, energy, area and memory sizes on 153 designs.

``tests/data/farsi_cacti.csv`` (how it was produced is in its header) covers the three workloads with
one and two A53s, one to three buses and memories, all tasks on accelerators at unroll 1 up to the trip
count, one accelerator at unroll 4, slow and fast SRAM, DRAM, unused blocks and random designs. The issue's
acceptance bar (energy and area within 25 % of FARSI on at least 80 % of the designs, latency within 10 %
on all, the same ordering) is asserted, and so is what the model achieves: FARSI's numbers to 1e-9.
"""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path

import pytest

from simulators.soc import SoCSimulator

DATA = Path(__file__).parent / "data" / "farsi_cacti.csv"
KINDS = ("one_a53", "two_a53", "two_bus", "two_mem", "two_sram", "all_ip_u1", "one_ip_u4", "fast_sram",
         "dram", "random_two_core", "random_3slots")


@cache
def rows() -> tuple[dict[str, str], ...]:
    with open(DATA) as fh:
        return tuple(csv.DictReader(line for line in fh if not line.startswith("#")))


@cache
def simulator(workload: str, slots: str) -> SoCSimulator:
    cores, memories, buses = map(int, slots.split("/"))
    return SoCSimulator(workload, max_cores=cores, max_memories=memories, max_buses=buses)


@cache
def results() -> tuple[tuple[dict[str, str], object], ...]:
    return tuple((r, simulator(r["workload"], r["slots"]).run(json.loads(r["design"]))) for r in rows())


def _ratios(metric: str, column: str) -> list[float]:
    return [getattr(ours, metric) / float(r[column]) for r, ours in results()]


def test_the_reference_set_covers_every_kind_on_every_workload() -> None:
    assert len(rows()) >= 150
    for w in ("audio_decoder", "edge_detection", "hpvm_cava"):
        kinds = " ".join(r["kind"] for r in rows() if r["workload"] == w)
        for kind in KINDS:
            assert kind in kinds, (w, kind)


@pytest.mark.parametrize("metric,column,tolerance,share", [
    ("latency", "farsi_latency_s", 0.10, 1.0),
    ("energy", "farsi_energy_j", 0.25, 0.8),
    ("area", "farsi_area_mm2", 0.25, 0.8),
])
def test_within_the_issues_tolerance(metric: str, column: str, tolerance: float, share: float) -> None:
    ratios = _ratios(metric, column)
    assert sum(abs(x - 1) <= tolerance for x in ratios) >= share * len(ratios)


@pytest.mark.parametrize("metric,column", [("latency", "farsi_latency_s"), ("energy", "farsi_energy_j"),
                                           ("area", "farsi_area_mm2")])
def test_equal_to_farsi(metric: str, column: str) -> None:
    """The mechanisms are FARSI's (phase simulation, topology clean-up, launch order, memory bookkeeping,
    CACTI at FARSI's sizes), so the numbers are FARSI's up to rounding."""
    bad = [(r["workload"], r["kind"], x) for (r, _), x in zip(results(), _ratios(metric, column))
           if not math.isclose(x, 1.0, rel_tol=1e-9)]
    assert not bad


def test_memory_sizes_are_farsis_peaks() -> None:
    """Each memory's peak contents (FARSI's area_in_bytes), which set its CACTI size, and which memories
    FARSI keeps at all."""
    for r, ours in results():
        farsi = [None if v == "-" else float(v) for v in r["farsi_mem_peak_bytes"].split()]
        mine = [b if b > 0 else None for b in ours.memory_bytes]
        assert mine == farsi, (r["workload"], r["kind"])


def _kendall_tau(a: list[float], b: list[float]) -> float:
    concordant = discordant = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            s = (a[i] - a[j]) * (b[i] - b[j])
            concordant += s > 0
            discordant += s < 0
    return (concordant - discordant) / max(concordant + discordant, 1)


@pytest.mark.parametrize("metric,column", [("latency", "farsi_latency_s"), ("energy", "farsi_energy_j"),
                                           ("area", "farsi_area_mm2")])
def test_designs_rank_as_in_farsi(metric: str, column: str) -> None:
    for w in ("audio_decoder", "edge_detection", "hpvm_cava"):
        pairs = [(getattr(ours, metric), float(r[column])) for r, ours in results() if r["workload"] == w]
        assert _kendall_tau([p[0] for p in pairs], [p[1] for p in pairs]) == pytest.approx(1.0, abs=1e-12), w


def test_power_of_runs_shorter_than_farsis_window_is_energy_over_latency() -> None:
    """FARSI reports power over windows of at least 10 ms of its phases; a shorter run is one window, so
    its power is energy / latency -- our ``power`` (and ``peak_power``). (Longer runs: FARSI's windows
    follow its phase boundaries, ours slide; ``power`` stays the average there.)"""
    short = [(r, ours) for r, ours in results() if float(r["farsi_latency_s"]) < 0.01]
    assert len(short) > 40
    for r, ours in short:
        assert ours.power == pytest.approx(float(r["farsi_power_w"]), rel=1e-9)
        assert ours.peak_power == ours.power
