"""Performance, energy, power and area of a task graph on an SoC (FARSI-like, analytical).

**Work.** A task on a core runs ``I = core_cycles x IPC_A53`` instructions (FARSI's "work") in
``I / (IPC x f)`` seconds for ``I x e_instr`` joules. On its accelerator with unroll ``u`` at clock
``f_acc`` it takes ``cycles / (f_acc x u)`` seconds and ``E_acc x u x 0.064`` joules, and adds
``A_acc x u x 0.0374`` mm^2 (FARSI scales work rate, energy and area with the unroll factor;
0.064 and 0.0374 are FARSIGym's technology factors, see ``tech``).

**Data.** Every task keeps its output buffers (and the external inputs it consumes) in its memory
``task_mem``. While it runs, a task streams its inputs in (an edge's bytes from the producer's
memory; external inputs from its own memory) and its outputs out to its memory, over the buses on
the path between its PE's bus and the memory's bus. As in FARSI, compute and data movement proceed
together and each block moves its full bandwidth (width x clock) in each direction, so a task
lasts as long as its bottleneck::

    duration = max(compute time, max over (block, direction) of bytes_block,dir x (1 + k) / bandwidth_block)

where ``k`` counts the other PEs that use that block in that direction and *may run at the same
time* as the task (neither is a predecessor of the other in the DAG plus each PE's task sequence).
Energy: bytes x (memory energy per byte + bus energy per byte for every bus crossed), each byte
once written and once read.

**Schedule.** Static list scheduling: tasks in one fixed topological order (upward rank on A53
cycles, graph order breaking ties); each PE runs its tasks in that order; a task starts when its
producers and its PE's previous task have finished. Latency is the makespan. The order and the
bandwidth sharing depend on the mapping only, never on durations, so start times are max-plus in
the durations: a faster block or more unroll never delays anything. (FARSI re-splits bandwidth
among the transfers active at each moment; that allows Graham-style anomalies, where a producer
finishing earlier steals bandwidth from a critical transfer and the whole run gets slower.)

**Metrics.** ``energy`` is the sum above (no leakage, as in FARSI); ``power = energy / latency``;
``peak_power`` the largest energy in any window of ``power_window_s`` (default 10 ms, FARSI's
shortest power window) divided by the window, equal to ``power`` when the run is shorter;
``area`` = allocated cores + mapped accelerators + SRAM (capacity = all bytes it holds) -- buses and
off-chip DRAM add none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulators.soc import tech
from simulators.soc.graph import TaskGraph
from simulators.soc.hardware import IP, SoC, bus_paths

__all__ = ["GraphPlan", "SoCResult", "TaskTiming", "area_breakdown", "check_soc", "memory_bytes", "plan", "simulate"]

READ, WRITE = 0, 1  # transfer directions: each block moves its full bandwidth in each direction


@dataclass(frozen=True)
class TaskTiming:
    """When and where one task ran: ``pe`` is ``"pe<i>"`` or ``"ip"``; ``bottleneck`` is what set its
    duration: ``"compute"`` or a direction and block such as ``"read bus0"`` or ``"write mem1"``."""

    name: str
    pe: str
    start: float
    finish: float
    bottleneck: str


@dataclass
class SoCResult:
    """The metrics (SI units, area in mm^2) and where they come from."""

    latency: float
    energy: float
    power: float
    peak_power: float
    area: float
    energy_breakdown: dict[str, float] = field(default_factory=dict)
    area_breakdown: dict[str, float] = field(default_factory=dict)
    memory_bytes: tuple[float, ...] = ()
    schedule: tuple[TaskTiming, ...] = ()

    def metrics(self) -> dict[str, float]:
        return {"latency": self.latency, "energy": self.energy, "power": self.power,
                "peak_power": self.peak_power, "area": self.area}


@dataclass(frozen=True)
class GraphPlan:
    """Design-independent facts about a graph, computed once per simulator."""

    graph: TaskGraph
    order: tuple[int, ...]  # the fixed list-scheduling order
    in_edges: tuple[tuple[tuple[int, float], ...], ...]  # per task: (producer, bytes)
    input_bytes: tuple[float, ...]
    write_bytes: tuple[float, ...]  # out-edges + external outputs
    stored_bytes: tuple[float, ...]  # what the task's memory holds for it: writes + external inputs
    instructions: tuple[float, ...]


def plan(graph: TaskGraph) -> GraphPlan:
    """Precompute the scheduling order and per-task byte counts of ``graph``."""
    n = len(graph.tasks)
    index = {t.name: i for i, t in enumerate(graph.tasks)}
    succ: list[list[int]] = [[] for _ in range(n)]
    in_edges: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    write = [float(graph.outputs.get(t.name, 0.0)) for t in graph.tasks]
    for e in graph.edges:
        u, v = index[e.src], index[e.dst]
        succ[u].append(v)
        in_edges[v].append((u, float(e.bytes)))
        write[u] += float(e.bytes)
    rank = [0.0] * n  # upward rank: the task's A53 cycles plus the longest such chain after it
    for u in reversed(graph.topological_order()):
        rank[u] = graph.tasks[u].core_cycles + max((rank[v] for v in succ[u]), default=0.0)
    order = graph.topological_order([-r for r in rank])
    inputs = tuple(float(graph.inputs.get(t.name, 0.0)) for t in graph.tasks)
    return GraphPlan(
        graph=graph, order=tuple(order), in_edges=tuple(tuple(x) for x in in_edges), input_bytes=inputs,
        write_bytes=tuple(write), stored_bytes=tuple(w + i for w, i in zip(write, inputs)),
        instructions=tuple(t.core_cycles * tech.A53_IPC for t in graph.tasks),
    )


def _check_shape(p: GraphPlan, soc: SoC) -> None:
    """Raise ``ValueError`` when ``soc`` does not describe a design for this graph at all."""
    g = p.graph
    n = len(g.tasks)
    for name in ("task_pe", "task_mem", "ip_bus", "unroll"):
        if len(getattr(soc, name)) != n:
            raise ValueError(f"SoC.{name} needs one entry per task ({n}), got {len(getattr(soc, name))}")
    for t, task in enumerate(g.tasks):
        u = soc.unroll[t]
        if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or not 1 <= u <= task.trip_count:
            raise ValueError(f"task {task.name!r}: unroll must be an integer in 1..{task.trip_count} "
                             f"(its trip count), got {u!r}")
        pe = soc.task_pe[t]
        if pe != IP and (isinstance(pe, bool) or not isinstance(pe, (int, np.integer))):
            raise ValueError(f"task {task.name!r}: task_pe must be a core index or {IP!r}, got {pe!r}")


def check_soc(p: GraphPlan, soc: SoC) -> str | None:
    """Why ``soc`` cannot run the graph (a task on a missing PE or memory, a memory on no bus, a
    disconnected route...), or None when it can. Raises ``ValueError`` for malformed input."""
    _check_shape(p, soc)
    g = p.graph
    nb = len(soc.buses)

    def on_bus(what: str, bus: int | None) -> str | None:
        if bus is None:
            return f"{what} is on no bus"
        if not (isinstance(bus, (int, np.integer)) and 0 <= bus < nb):
            return f"{what} sits on bus{bus}, which does not exist ({nb} buses)"
        return None

    for i, m in enumerate(soc.memories):
        if m is not None and (why := on_bus(f"memory mem{i} ({m.kind})", m.bus)):
            return why
    for i, c in enumerate(soc.cores):
        if c is not None and (why := on_bus(f"core pe{i}", c.bus)):
            return why
    for t, task in enumerate(g.tasks):
        pe = soc.task_pe[t]
        if pe == IP:
            if task.accel is None:
                return f"task {task.name!r} is mapped to an accelerator but has none (no accel data)"
            if why := on_bus(f"the accelerator of task {task.name!r}", soc.ip_bus[t]):
                return why
        elif not (0 <= pe < len(soc.cores)) or soc.cores[pe] is None:
            return f"task {task.name!r} is mapped to pe{pe}, which is not allocated"
        k = soc.task_mem[t]
        if not (isinstance(k, (int, np.integer)) and 0 <= k < len(soc.memories)) or soc.memories[k] is None:
            return f"task {task.name!r} keeps its data in mem{k}, which is not allocated"
    paths = bus_paths(soc.buses)
    for t, task in enumerate(g.tasks):
        pe = soc.task_pe[t]
        bus = soc.ip_bus[t] if pe == IP else soc.cores[pe].bus
        where = "its accelerator" if pe == IP else f"pe{pe}"
        needed = [soc.task_mem[u] for u, b in p.in_edges[t]]
        if p.stored_bytes[t] > 0:
            needed.append(soc.task_mem[t])
        for k in needed:
            mb = soc.memories[k].bus
            if paths[bus][mb] is None:
                return (f"task {task.name!r}: no route from {where} (bus{bus}) to mem{k} (bus{mb}); "
                        "the buses are not linked")
    return None


def memory_bytes(p: GraphPlan, soc: SoC) -> list[float]:
    """Bytes each memory slot holds: the output buffers and external inputs of the tasks mapped to it."""
    held = [0.0] * len(soc.memories)
    for t, k in enumerate(soc.task_mem):
        if 0 <= k < len(held):
            held[k] += p.stored_bytes[t]
    return held


def area_breakdown(p: GraphPlan, soc: SoC) -> dict[str, float]:
    """mm^2 of the allocated cores, the accelerators tasks are mapped to, and the SRAMs. Defined for
    any design, valid or not: it is the silicon the design asks for."""
    held = memory_bytes(p, soc)
    accelerators = sum(task.accel.area_mm2 * u * tech.ACCEL_AREA_SCALE
                       for task, pe, u in zip(p.graph.tasks, soc.task_pe, soc.unroll)
                       if pe == IP and task.accel is not None)
    return {"cores": sum(c.area_mm2 for c in soc.cores if c is not None), "accelerators": accelerators,
            "memories": sum(tech.sram_area_mm2(held[k]) for k, m in enumerate(soc.memories)
                            if m is not None and m.kind == "sram")}


def simulate(p: GraphPlan, soc: SoC, *, power_window_s: float = 0.01, checked: bool = False) -> SoCResult:
    """Run the graph of ``p`` on ``soc``. The SoC must be valid (``check_soc`` returns None);
    ``checked=True`` says the caller has already checked it."""
    if not checked:
        why = check_soc(p, soc)
        if why is not None:
            raise ValueError(f"the SoC cannot run {p.graph.name!r}: {why}")
    g = p.graph
    n = len(g.tasks)
    nb = len(soc.buses)
    cores, memories = soc.cores, soc.memories
    paths = bus_paths(soc.buses)

    # -- static per-design quantities ---------------------------------------------------------------
    mem_bytes = memory_bytes(p, soc)
    mem_e = []
    for k, m in enumerate(memories):
        if m is None:
            mem_e.append(0.0)
        elif m.kind == "sram":
            mem_e.append(tech.sram_energy_per_byte_j(mem_bytes[k]))
        else:
            mem_e.append(tech.dram_energy_per_byte_j(m.dram))
    bw = [b.bandwidth for b in soc.buses] + [m.bandwidth if m is not None else 0.0 for m in memories]
    bus_e = [b.energy_per_byte_j for b in soc.buses]

    pe_key = [0] * n  # which PE a task occupies: core index, or len(cores) + task for its accelerator
    pe_bus = [0] * n
    for t in range(n):
        pe = soc.task_pe[t]
        if pe == IP:
            pe_key[t] = len(cores) + t
            pe_bus[t] = soc.ip_bus[t]
        else:
            pe_key[t] = pe
            pe_bus[t] = cores[pe].bus

    # bytes each task moves through each (block, direction); blocks: buses, then memories
    load: list[dict[tuple[int, int], float]] = [{} for _ in range(n)]
    e_mem_t = [0.0] * n
    e_bus_t = [0.0] * n

    def move(t: int, k: int, nbytes: float, direction: int) -> None:
        if nbytes <= 0:
            return
        route = paths[pe_bus[t]][memories[k].bus]
        blocks = load[t]
        for key in [(j, direction) for j in route] + [(nb + k, direction)]:
            blocks[key] = blocks.get(key, 0.0) + nbytes
        e_mem_t[t] += nbytes * mem_e[k]
        e_bus_t[t] += nbytes * sum(bus_e[j] for j in route)

    for t in range(n):
        for u, b in p.in_edges[t]:
            move(t, soc.task_mem[u], b, READ)
        move(t, soc.task_mem[t], p.input_bytes[t], READ)
        move(t, soc.task_mem[t], p.write_bytes[t], WRITE)

    # -- which tasks may overlap: reachability in the DAG plus each PE's sequence --------------------
    preds: list[list[int]] = [[u for u, _ in p.in_edges[t]] for t in range(n)]
    last_on: dict[int, int] = {}
    for t in p.order:
        if pe_key[t] in last_on:
            preds[t].append(last_on[pe_key[t]])
        last_on[pe_key[t]] = t
    anc = [0] * n
    for t in p.order:
        m = 0
        for u in preds[t]:
            m |= anc[u] | (1 << u)
        anc[t] = m
    desc = [0] * n
    for t in p.order:  # every ancestor of t gets t as a descendant
        a, bit = anc[t], 1 << t
        while a:
            low = a & -a
            desc[low.bit_length() - 1] |= bit
            a ^= low
    users: dict[tuple[int, int], int] = {}  # (block, direction) -> mask of the tasks using it
    for t in range(n):
        for key in load[t]:
            users[key] = users.get(key, 0) | (1 << t)
    widest: dict[int, int] = {0: 0}

    def antichain(mask: int) -> int:
        """Most tasks of ``mask`` that may all run at once: by Dilworth, the tasks minus a maximum
        matching between them along 'is a predecessor of' (a minimum cover by chains)."""
        if mask in widest:
            return widest[mask]
        members = [i for i in range(n) if mask >> i & 1]
        match: dict[int, int] = {}  # later task -> earlier task it is matched to

        def augment(a: int, seen: set[int]) -> bool:
            for b in members:
                if desc[a] >> b & 1 and b not in seen:
                    seen.add(b)
                    if b not in match or augment(match[b], seen):
                        match[b] = a
                        return True
            return False

        size = len(members) - sum(augment(a, set()) for a in members)
        widest[mask] = size
        return size

    # -- schedule ----------------------------------------------------------------------------------
    full = (1 << n) - 1
    finish = [0.0] * n
    timing = [None] * n
    phases = []  # (start, end, energy)
    e_core = e_acc = 0.0
    for t in p.order:
        task = g.tasks[t]
        if soc.task_pe[t] == IP:
            u = soc.unroll[t]
            seconds = task.accel.cycles / (soc.accel_clock_hz * u)
            comp_e = task.accel.energy_j * u * tech.ENERGY_SCALE
            e_acc += comp_e
        else:
            core = cores[soc.task_pe[t]]
            seconds = p.instructions[t] / (core.ipc * core.clock_hz)
            comp_e = p.instructions[t] * core.energy_per_instruction_j
            e_core += comp_e
        bottleneck = "compute"
        conc = full & ~(anc[t] | desc[t] | (1 << t))
        for key, nbytes in load[t].items():
            s = nbytes * (1 + antichain(users[key] & conc)) / bw[key[0]]
            if s > seconds:
                seconds, bottleneck = s, key
        t0 = max((finish[u] for u in preds[t]), default=0.0)
        finish[t] = t0 + seconds
        phases.append((t0, finish[t], comp_e + e_mem_t[t] + e_bus_t[t]))
        if bottleneck != "compute":
            blk, direction = bottleneck
            where = f"bus{blk}" if blk < nb else f"mem{blk - nb}"
            bottleneck = f"{'read' if direction == READ else 'write'} {where}"
        timing[t] = TaskTiming(task.name, IP if soc.task_pe[t] == IP else f"pe{soc.task_pe[t]}", t0, finish[t],
                               bottleneck)
    e_mem, e_bus = sum(e_mem_t), sum(e_bus_t)

    latency = max(finish)
    energy = e_core + e_acc + e_mem + e_bus
    power = energy / latency if latency > 0 else math.inf
    peak = _peak_power(phases, latency, power_window_s) if latency > power_window_s else power
    areas = area_breakdown(p, soc)
    return SoCResult(
        latency=latency, energy=energy, power=power, peak_power=peak, area=sum(areas.values()),
        energy_breakdown={"cores": e_core, "accelerators": e_acc, "memories": e_mem, "buses": e_bus},
        area_breakdown=areas,
        memory_bytes=tuple(mem_bytes), schedule=tuple(timing),
    )


def _peak_power(phases: list[tuple[float, float, float]], latency: float, window: float) -> float:
    """Largest energy in a window ``[s, s + window]`` inside ``[0, latency]``, divided by ``window``.

    Power is constant within each phase, so the window energy is piecewise linear in ``s`` and its
    maximum sits where a window edge meets a phase boundary: we try exactly those ``s``.
    """
    arr = np.array([ph for ph in phases if ph[2] > 0], dtype=np.float64).reshape(-1, 3)
    lo, hi, e = arr[:, 0], arr[:, 1], arr[:, 2]
    cand = np.concatenate([lo, hi, lo - window, hi - window, [0.0, latency - window]])
    cand = np.unique(np.clip(cand, 0.0, latency - window))
    a = cand[None, :]
    b = a + window
    dur = hi - lo
    inst = dur <= 0
    dur_safe = np.where(inst, 1.0, dur)[:, None]
    overlap = np.clip(np.minimum(hi[:, None], b) - np.maximum(lo[:, None], a), 0.0, None) / dur_safe
    inside = ((lo[:, None] >= a) & (lo[:, None] <= b)).astype(np.float64)
    frac = np.where(inst[:, None], inside, overlap)
    return float((e[:, None] * frac).sum(axis=0).max() / window)
