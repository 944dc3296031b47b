"""AR/VR system-on-chip model over task graphs (FARSI-like): cores, accelerators, memories, buses.

``SoCSimulator`` costs a design (allocation, connection, mapping) for a task graph; ``load_graph``
returns a bundled FARSI workload (``audio_decoder``, ``edge_detection``, ``hpvm_cava``), a seeded
synthetic graph or a user YAML graph; ``simulate`` runs any hand-built ``SoC``. The model is
documented in ``simulators.soc.model`` and the encoding in ``simulators.soc.space``.
"""

from __future__ import annotations

from simulators.soc.graph import BUNDLED, Accel, Edge, Task, TaskGraph, graph_from_dict, load_graph, synthetic_graph
from simulators.soc.hardware import IP, Bus, Core, Memory, SoC
from simulators.soc.model import GraphPlan, SoCResult, TaskTiming, check_soc, plan, simulate
from simulators.soc.simulator import METRICS, SoCSimulator
from simulators.soc.space import Encoding

__all__ = ["BUNDLED", "IP", "METRICS", "Accel", "Bus", "Core", "Edge", "Encoding", "GraphPlan", "Memory", "SoC",
           "SoCResult", "SoCSimulator", "Task", "TaskGraph", "TaskTiming", "check_soc", "graph_from_dict",
           "load_graph", "plan", "simulate", "synthetic_graph"]
