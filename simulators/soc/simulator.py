"""The AR/VR SoC model as a ``Simulator``: a design allocates, connects and maps; a task graph runs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from simulators.core import Direction, Evaluation, Metric, Simulator
from simulators.params import check_number
from simulators.soc.graph import BUNDLED, TaskGraph, load_graph
from simulators.soc.hardware import SoC
from simulators.soc.model import SoCResult, area_breakdown, check_soc, simulate
from simulators.soc.space import Encoding

__all__ = ["METRICS", "SoCSimulator"]

METRICS = (
    Metric("latency", "s", Direction.MINIMIZE, "makespan of one run of the task graph"),
    Metric("energy", "J", Direction.MINIMIZE, "core, accelerator and memory energy of one run (buses: none)"),
    Metric("power", "W", Direction.MINIMIZE, "average power: energy / latency"),
    Metric("peak_power", "W", Direction.MINIMIZE, "largest average power over any power_window_s (10 ms) window"),
    Metric("area", "mm^2", Direction.MINIMIZE, "cores in use + accelerators + memories (SRAM and stacked DRAM)"),
)

# budget key in a task graph -> metric it targets
_BUDGET_METRIC = {"latency_s": "latency", "power_w": "power", "area_mm2": "area"}


class SoCSimulator(Simulator):
    """FARSI-like SoC design for an AR/VR task graph.

    ``workload``: ``"audio_decoder"`` (default), ``"edge_detection"``, ``"hpvm_cava"``,
    ``"synthetic:<tasks>:<seed>"``, a path to a task-graph YAML file, or a ``TaskGraph``.
    ``max_cores``/``max_memories``/``max_buses`` (1-4, default 2) size the encoding; ``dram`` picks
    the DRAM's access energy: ``cacti`` (FARSI's CACTI commodity DRAM, the default) or an off-chip
    interface of the pJ/bit table of ``simulators.tech``; ``power_window_s``
    is the window of ``peak_power``. Budgets are the graph's (ArchGym's for the bundled ones) and
    become ``default_targets``; pass ``targets=`` to the env to change them.
    """

    metrics = METRICS

    def __init__(
        self,
        workload: str | os.PathLike[str] | TaskGraph = "audio_decoder",
        *,
        max_cores: int = 2,
        max_memories: int = 2,
        max_buses: int = 2,
        dram: str = "cacti",
        power_window_s: float = 0.01,
    ) -> None:
        self.graph = load_graph(workload)
        self.workload = self.graph.name
        self.power_window_s = check_number(power_window_s, "power_window_s", low=0.0, low_open=True)  # seconds
        self.encoding = Encoding(self.graph, max_cores=max_cores, max_memories=max_memories, max_buses=max_buses,
                                 dram=dram)
        self.space = self.encoding.space
        self.plan = self.encoding.plan

    @classmethod
    def available_workloads(cls) -> tuple[str, ...]:
        """The bundled FARSI workloads (``synthetic:<tasks>:<seed>`` and YAML paths work too)."""
        return BUNDLED

    def default_design(self) -> dict[str, Any]:
        """FARSI's starting point: every task on the host A53, one 4-byte 100 MHz bus and DRAM, the
        optional slots empty (accelerator knobs at unroll 1, 100 MHz; they matter once used)."""
        design = {}
        for p in self.space:
            name = p.name
            if name.endswith(("_width_bytes", "_clock_mhz", "_unroll")):
                design[name] = p.values[0]
            elif name.endswith("_type"):
                design[name] = "dram" if name == "mem0_type" else "none"
            elif name.endswith("_link"):
                design[name] = "none"
            else:  # task_*_pe, task_*_mem, *_bus: the first slot (pe0, mem0, bus0)
                design[name] = p.values[0] if p.values[0] != "none" else p.values[1]
        return design

    def default_targets(self) -> dict[str, float]:
        """The workload's budgets: ArchGym's latency (21 ms audio, 34 ms others), 8.737 mW, 17.475 mm^2."""
        return {_BUDGET_METRIC[k]: v for k, v in self.graph.budgets.items()}

    def to_soc(self, design: Mapping[str, Any]) -> SoC:
        """The hardware a design describes (validated against the space first)."""
        return self.encoding.to_soc(self.space.validate(design))

    def repair(self, design: Mapping[str, Any]) -> dict[str, Any]:
        """A valid design close to ``design`` (see ``Encoding.repair``); never applied implicitly."""
        return self.encoding.repair(design)

    def allowed_values(self, name: str, chosen: Mapping[str, Any]) -> np.ndarray:
        """The values of ``name`` that keep a design buildable (see ``Encoding.allowed``): the action mask
        of a design-by-steps env, from the same ``check_soc`` that ``evaluate`` applies."""
        return self.encoding.allowed(name, chosen)

    def run(self, design: Mapping[str, Any]) -> SoCResult:
        """The full result of a design (schedule included); ``ValueError`` with the reason when the
        design cannot be built (``evaluate`` reports that as ``feasible=False`` instead)."""
        return simulate(self.plan, self.to_soc(design), power_window_s=self.power_window_s)

    def _evaluate(self, design: dict[str, Any]) -> Evaluation:
        soc = self.encoding.to_soc(design)
        why = check_soc(self.plan, soc)
        if why is not None:
            # Only the area of what the design allocates is defined. The other metrics are left out
            # rather than NaN: DesignEnv copies metrics into ``info``, and NaN != NaN fails gymnasium's
            # step-determinism check. Batches read NaN for them.
            return Evaluation(metrics={"area": sum(area_breakdown(self.plan, soc).values())}, feasible=False,
                              reason=why)
        r = simulate(self.plan, soc, power_window_s=self.power_window_s, checked=True)
        breakdown = {
            "energy_j": r.energy_breakdown, "area_mm2": r.area_breakdown,
            "memory_bytes": {f"mem{k}": b for k, b in enumerate(r.memory_bytes) if soc.memories[k] is not None},
            "schedule": [{"task": s.name, "pe": s.pe, "start": s.start, "finish": s.finish, "bottleneck": s.bottleneck}
                         for s in r.schedule],
        }
        return Evaluation(metrics=r.metrics(), feasible=True, reason=None, breakdown=breakdown)
