"""Performance, energy, power and area of a task graph on an SoC, computed the way FARSI computes them.

**Work.** A task on a core runs ``I = core_cycles x IPC_A53`` instructions (FARSI's "work") in
``I / (IPC x f)`` seconds for ``I x e_instr`` joules. On its accelerator with unroll ``u`` at clock
``f_acc`` it takes ``cycles / (f_acc x u)`` seconds and ``E_acc x u x 0.064`` joules, and adds
``A_acc x u x 0.0374`` mm^2 (FARSI scales work rate, energy and area with the unroll factor;
0.064 and 0.0374 are FARSIGym's technology factors, see ``tech``).

**Data.** Every task keeps its output buffers in its memory ``task_mem``; the external inputs are
the buffers of FARSI's source task, which runs on the host core ``pe0`` and keeps them in ``mem0``.
While it runs, a task streams its inputs in from the memories holding them and its outputs out to
its memory, over the buses on the route between its PE's bus and the memory's bus. As in FARSI,
compute and data movement proceed together: a task advances at the pace of its slowest block.

**Topology as FARSI builds it.** Before simulating, FARSI drops bus-to-bus links that no transfer
crosses (including its source's writes into ``mem0`` and its sink's reads of the outputs, both from
``pe0``), and then, visiting the buses depth first from ``pe0``, merges away every bus that has no
memory and one linked bus (its PEs move to that bus), or no PE and one linked bus (its memories
move), and drops buses with neither (relinking their neighbours). Routes run over what is left, so a
bridge to a bus holding only accelerators costs nothing: they sit on the memory's bus.

**Schedule: FARSI's phase simulation.** The running tasks share blocks as FARSI shares them, and
the shares are recomputed whenever a task finishes (a *phase*):

- a core or an accelerator runs one task at a time (FARSI serialises a PE's tasks);
- a bus splits the bandwidth of each outgoing port (towards one memory or one bridged bus) in each
  direction among the ports feeding it -- its PEs and bridged buses -- that carry running traffic
  through that port, equally; a memory has one port per direction, fed by its bus;
- within a feeding port, the tasks on it share in proportion to their *work units*: bytes divided
  by the task's dice factor, ``floor(smallest input edge / 1024 B)`` (FARSI's burst bookkeeping at
  FARSIGym's 1024-byte burst, 1 when that is 0 or leaves an output or the work at 0);
- a task's progress rate is the smallest over its PE (``1 / compute time``) and its ports
  (``bandwidth x share / the task's bytes through that block and direction``).

A phase ends when a running task finishes; every task at 99 % of its work or more finishes with it
(FARSI's completion threshold, so the last 1 % of such a task costs neither time nor energy). Then
the tasks whose producers have all finished become *ready*, and each idle PE takes the first of its
ready tasks: those that became ready in this phase before those already waiting, each group in
FARSI's kernel order (``_farsi_order``: the host's tasks in graph order, then the order in which FARSI
first loads tasks onto the buses). Latency is the last finish.

**Memory size.** A memory holds the external inputs (``mem0``, for the whole run) and each task's
output buffers from the moment the task is ready until all its consumers have finished, with
FARSI's bookkeeping: when a task finishes, each producer it read from (in edge order) releases its
buffers once all that producer's consumers have finished, and those consumers are then forgotten --
so a producer later in the list that shares one of them keeps its buffers to the end of the run.
Buffers sent to the SoC's outputs stay to the end. A memory is sized by its peak contents, at least
2,048 bytes and in whole 256,000-byte banks, and costs CACTI's 40 nm area and access energy for that
size (``tech.memory_cost``). A memory holding no data is not part of the design.

**Metrics.** ``energy`` = instructions x e_instr + accelerator energy + bytes read x the memory's
read energy + bytes written x its write energy; buses cost nothing (FARSI with CACTI); no leakage
(FARSI has none). Every edge is written once and read once, external inputs read once, outputs
written once. ``power = energy / latency``; ``peak_power`` the largest energy in any window of
``power_window_s`` (default 10 ms, FARSI's shortest power window) divided by the window, equal to
``power`` when the run is shorter; ``area`` = the cores that run a task (``pe0`` also when the graph
has ``host_tasks``: FARSI drops a core that only hosts its dummy source and sink) + the mapped
accelerators + the memories.

Tasks with no work (none in FARSI's workloads) still move their bytes at the blocks' pace; FARSI
would finish them at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulators.soc import tech
from simulators.soc.graph import TaskGraph
from simulators.soc.hardware import IP, SoC, bus_paths, link_paths

__all__ = ["GraphPlan", "SoCResult", "TaskTiming", "area_breakdown", "check_soc", "plan", "simulate"]

READ, WRITE = 0, 1  # transfer directions: each block moves its full bandwidth in each direction
SOURCE, SINK = -1, -2  # FARSI's dummy source (external inputs) and sink (outputs) in parent/child lists
BURST_BYTES = 1024  # FARSIGym's burst_size_options: the reference of FARSI's work units
DONE_PROGRESS = 0.99  # FARSI marks a task completed at 99 % progress


@dataclass(frozen=True)
class TaskTiming:
    """When and where one task ran: ``pe`` is ``"pe<i>"`` or ``"ip"``; ``bottleneck`` is what set its
    pace for most of its run: ``"compute"`` or a direction and block such as ``"read bus0"``."""

    name: str
    pe: str
    start: float
    finish: float
    bottleneck: str


@dataclass
class SoCResult:
    """The metrics (SI units, area in mm^2) and where they come from; ``memory_bytes`` is each memory
    slot's peak contents (0 for empty or unallocated slots)."""

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
    parents: tuple[tuple[tuple[int, float], ...], ...]  # per task: (producer or SOURCE, bytes), FARSI's order
    children: tuple[tuple[int, ...], ...]  # per task: consumers, then SINK when it has outputs
    input_bytes: tuple[float, ...]
    write_bytes: tuple[float, ...]  # out-edges + external outputs
    write_units: tuple[int, ...]  # FARSI work units of the writes
    read_units: tuple[tuple[int, ...], ...]  # per task, per parent: FARSI work units of that read
    instructions: tuple[float, ...]
    source_children: tuple[int, ...]


def _dice(reads: list[float], writes: list[float], work: float) -> int:
    """FARSI's dice factor (``Task.set_dice_factor``) at a 1024-byte burst."""
    if not reads:
        return 1
    d = math.floor(min(reads) / BURST_BYTES)
    if d == 0 or (writes and math.floor(min(writes) / d) == 0) or math.floor(work / d) == 0:
        return 1
    return d


def plan(graph: TaskGraph) -> GraphPlan:
    """Precompute per-task byte counts, FARSI's parent/child orders and work units of ``graph``."""
    n = len(graph.tasks)
    index = {t.name: i for i, t in enumerate(graph.tasks)}
    parents: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    children: list[list[int]] = [[] for _ in range(n)]
    child_bytes: list[list[float]] = [[] for _ in range(n)]
    inputs = [float(graph.inputs.get(t.name, 0.0)) for t in graph.tasks]
    for i, t in enumerate(graph.tasks):
        if t.name in graph.inputs:
            parents[i].append((SOURCE, inputs[i]))
    for e in graph.edges:
        u, v = index[e.src], index[e.dst]
        parents[v].append((u, float(e.bytes)))
        children[u].append(v)
        child_bytes[u].append(float(e.bytes))
    for i, t in enumerate(graph.tasks):
        if t.name in graph.outputs:
            children[i].append(SINK)
            child_bytes[i].append(float(graph.outputs[t.name]))
    instructions = [t.core_cycles * tech.A53_IPC for t in graph.tasks]
    dice = [_dice([b for _, b in parents[i]], child_bytes[i], instructions[i]) for i in range(n)]
    stored = sum(inputs) + sum(map(sum, child_bytes))
    if stored > tech.max_memory_bytes():
        raise ValueError(f"task graph {graph.name!r} stores {stored:.0f} bytes; the CACTI table covers memories "
                         f"up to {tech.max_memory_bytes()} bytes")
    return GraphPlan(
        graph=graph, parents=tuple(map(tuple, parents)), children=tuple(map(tuple, children)),
        input_bytes=tuple(inputs), write_bytes=tuple(map(sum, child_bytes)),
        write_units=tuple(sum(int(b / dice[i]) for b in child_bytes[i]) for i in range(n)),
        read_units=tuple(tuple(int(b / dice[i]) for _, b in parents[i]) for i in range(n)),
        instructions=tuple(instructions),
        source_children=tuple(i for i in range(n) if parents[i] and parents[i][0][0] == SOURCE),
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
    if not soc.cores or soc.cores[0] is None:
        return "the host core pe0 (it runs FARSI's source and sink) is not allocated"
    if p.source_children and (not soc.memories or soc.memories[0] is None):
        return "the external inputs live in mem0, which is not allocated"
    paths = bus_paths(soc.buses)
    for t, task in enumerate(g.tasks):
        pe = soc.task_pe[t]
        bus = soc.ip_bus[t] if pe == IP else soc.cores[pe].bus
        where = "its accelerator" if pe == IP else f"pe{pe}"
        needed = [0 if u == SOURCE else soc.task_mem[u] for u, _ in p.parents[t]]
        if p.children[t]:
            needed.append(soc.task_mem[t])
        for k in needed:
            mb = soc.memories[k].bus
            if paths[bus][mb] is None:
                return (f"task {task.name!r}: no route from {where} (bus{bus}) to mem{k} (bus{mb}); "
                        "the buses are not linked")
    host = soc.cores[0].bus
    for k in _used_memories(p, soc):
        mb = soc.memories[k].bus
        if paths[host][mb] is None:
            return (f"no route from the host core pe0 (bus{host}), which runs FARSI's source and sink, to mem{k} "
                    f"(bus{mb}); the buses are not linked")
    return None


def _used_memories(p: GraphPlan, soc: SoC) -> list[int]:
    """Memory slots that hold data: a task's output buffers, or the external inputs (mem0)."""
    used = {soc.task_mem[t] for t in range(len(p.graph.tasks)) if p.children[t]}
    if p.source_children:
        used.add(0)
    return sorted(used)


def area_breakdown(p: GraphPlan, soc: SoC, peak_bytes: list[float] | None = None) -> dict[str, float]:
    """mm^2 of the cores that run a task (and the host ``pe0`` when the graph has host tasks), the
    accelerators tasks are mapped to, and the memories that hold data, sized by ``peak_bytes`` (their
    peak contents in the schedule). Without a schedule -- an infeasible design -- each memory is sized
    by every byte it would hold, an upper bound of its peak: the silicon the design asks for."""
    g = p.graph
    busy = {pe for pe in soc.task_pe if pe != IP}
    if g.host_tasks:
        busy.add(0)
    cores = sum(c.area_mm2 for i, c in enumerate(soc.cores) if c is not None and i in busy)
    accelerators = sum(task.accel.area_mm2 * u * tech.ACCEL_AREA_SCALE
                       for task, pe, u in zip(g.tasks, soc.task_pe, soc.unroll)
                       if pe == IP and task.accel is not None)
    if peak_bytes is None:
        peak_bytes = [0.0] * len(soc.memories)
        for t, k in enumerate(soc.task_mem):
            if 0 <= k < len(peak_bytes):
                peak_bytes[k] += p.write_bytes[t]
        if peak_bytes:
            peak_bytes[0] += sum(p.input_bytes)
    memories = 0.0
    for k in _used_memories(p, soc):
        m = soc.memories[k] if 0 <= k < len(soc.memories) else None
        if m is not None:
            memories += tech.memory_cost(m.kind, peak_bytes[k], m.dram)[2]
    return {"cores": cores, "accelerators": accelerators, "memories": memories}


def _farsi_topology(p: GraphPlan, soc: SoC, pe_bus: list[int]
                    ) -> tuple[list[int], list[int], list[list[int]], int]:
    """The buses FARSI simulates (``des_handler.disconnect_ics_with_no_shared_task`` and
    ``HardwareGraph.prune_unnecessary_nodes``): the bus each task's PE and each memory ends up on, the
    remaining links (neighbour lists in FARSI's order) and the host's bus. ``pe_bus`` is each task's
    PE bus in ``soc``."""
    nb = len(soc.buses)
    paths = bus_paths(soc.buses)
    host = soc.cores[0].bus
    routes = []  # (from bus, memory) of every transfer, FARSI's source and sink included
    for t in range(len(p.graph.tasks)):
        routes += [(pe_bus[t], 0 if u == SOURCE else soc.task_mem[u]) for u, _ in p.parents[t]]
        if p.children[t]:
            routes.append((pe_bus[t], soc.task_mem[t]))
            if SINK in p.children[t]:
                routes.append((host, soc.task_mem[t]))
    if p.source_children:
        routes.append((host, 0))
    crossed = set()
    for a, k in routes:
        path = paths[a][soc.memories[k].bus]
        crossed.update(frozenset(pair) for pair in zip(path, path[1:]))
    # neighbour lists in FARSI's connection order: PEs, then links (in bus order), then memories
    links: list[list[int]] = [[] for _ in range(nb)]
    for j, b in enumerate(soc.buses):
        if b.link is not None and frozenset((j, b.link)) in crossed:
            links[j].append(b.link)
            links[b.link].append(j)
    pes: list[list[object]] = [[] for _ in range(nb)]  # ("core", i) or ("ip", t)
    for i, c in enumerate(soc.cores):
        if c is not None:
            pes[c.bus].append(("core", i))
    for t, pe in enumerate(soc.task_pe):
        if pe == IP:
            pes[soc.ip_bus[t]].append(("ip", t))
    mems: list[list[int]] = [[] for _ in range(nb)]
    for k, m in enumerate(soc.memories):
        if m is not None:
            mems[m.bus].append(k)
    order: list[int] = []  # depth first from the host's bus

    def visit(j: int) -> None:
        order.append(j)
        for nxt in links[j]:
            if nxt not in order:
                visit(nxt)

    visit(host)
    for j in order:
        ics = list(links[j])
        no_mem_one_ic = not mems[j] and len(ics) == 1
        no_pe_one_ic = not pes[j] and len(ics) == 1
        if no_mem_one_ic:
            pes[ics[0]] += pes[j]
            pes[j] = []
        elif no_pe_one_ic:
            mems[ics[0]] += mems[j]
            mems[j] = []
        if no_mem_one_ic or no_pe_one_ic or not (pes[j] or mems[j]):
            if ics:
                first = ics[0]
                for other in ics:
                    links[other].remove(j)
                for other in ics[1:]:
                    links[other].append(first)
                    links[first].append(other)
            links[j] = []
    core_bus = {}
    for j in range(nb):
        for pe in pes[j]:
            core_bus[pe] = j
    task_bus = [core_bus[("ip", t)] if pe == IP else core_bus[("core", pe)] for t, pe in enumerate(soc.task_pe)]
    mem_bus = [0] * len(soc.memories)
    for j in range(nb):
        for k in mems[j]:
            mem_bus[k] = j
    return task_bus, mem_bus, links, core_bus[("core", 0)]


def _farsi_order(p: GraphPlan, soc: SoC, pe_bus: list[int], links: list[list[int]], host: int) -> list[int]:
    """FARSI's kernel order (the order it launches ready tasks in): the host's tasks in graph order, then
    the tasks in the order they were first loaded onto each bus -- FARSI loads buses depth first over the
    task graph from its source (``load_read_mem_and_ic_recursive``), on the routes of the design as
    given -- taking the buses depth first from the host's bus as simulated; ``pe_bus`` as in ``soc``."""
    n = len(p.graph.tasks)
    paths = bus_paths(soc.buses)
    loaded: list[list[int]] = [[] for _ in soc.buses]
    on: list[set[int]] = [set() for _ in soc.buses]

    def load(t: int, k: int) -> None:
        for j in paths[pe_bus[t]][soc.memories[k].bus]:
            if t not in on[j]:
                on[j].add(t)
                loaded[j].append(t)

    visited: set[int] = set()
    stack = [(t, 0) for t in reversed(p.source_children)]
    while stack:  # preorder: a task's read is loaded at every visit, the rest at its first
        t, k = stack.pop()
        load(t, k)
        if t in visited:
            continue
        visited.add(t)
        if p.children[t]:
            load(t, soc.task_mem[t])
        stack += [(c, soc.task_mem[t]) for c in reversed(p.children[t]) if c != SINK]
    order = [t for t in range(n) if soc.task_pe[t] == 0]
    seen = set(order)
    buses: list[int] = []
    todo = [host]
    while todo:
        j = todo.pop()
        if j not in buses:
            buses.append(j)
            todo += [b for b in reversed(links[j]) if b not in buses]
    for j in buses:
        for t in loaded[j]:
            if t not in seen:
                seen.add(t)
                order.append(t)
    return order + [t for t in range(n) if t not in seen]


def simulate(p: GraphPlan, soc: SoC, *, power_window_s: float = 0.01, checked: bool = False) -> SoCResult:
    """Run the graph of ``p`` on ``soc`` (FARSI's phase simulation, see the module docstring). The SoC
    must be valid (``check_soc`` returns None); ``checked=True`` says the caller has already checked it."""
    if not checked:
        why = check_soc(p, soc)
        if why is not None:
            raise ValueError(f"the SoC cannot run {p.graph.name!r}: {why}")
    g = p.graph
    n = len(g.tasks)
    nb, nm = len(soc.buses), len(soc.memories)
    cores, memories = soc.cores, soc.memories
    bw = [b.bandwidth for b in soc.buses] + [m.bandwidth if m is not None else 0.0 for m in memories]
    bus_e = [b.energy_per_byte_j for b in soc.buses]

    # -- where each task runs, how fast it computes ---------------------------------------------------
    pe_key = [0] * n  # core index, or len(cores) + task for the task's accelerator
    pe_bus = [0] * n
    compute_s = [0.0] * n
    compute_e = [0.0] * n
    on_ip = [False] * n
    for t, task in enumerate(g.tasks):
        pe = soc.task_pe[t]
        if pe == IP:
            u = soc.unroll[t]
            on_ip[t] = True
            pe_key[t], pe_bus[t] = len(cores) + t, soc.ip_bus[t]
            compute_s[t] = task.accel.cycles / (soc.accel_clock_hz * u)
            compute_e[t] = task.accel.energy_j * u * tech.ENERGY_SCALE
        else:
            core = cores[pe]
            pe_key[t], pe_bus[t] = pe, core.bus
            compute_s[t] = p.instructions[t] / (core.ipc * core.clock_hz)
            compute_e[t] = p.instructions[t] * core.energy_per_instruction_j
    sim_bus, mem_bus, links, host = _farsi_topology(p, soc, pe_bus)
    order = _farsi_order(p, soc, pe_bus, links, host)
    pe_bus = sim_bus
    paths = link_paths(links)

    # -- routes: bytes per (block, direction), work units per pipe, the ports (clusters) each task uses --
    # nodes: buses 0..nb-1, memories nb.., PEs nb + nm + pe_key; a pipe is (from node, to node, direction)
    block_bytes: list[dict[tuple[int, int], float]] = [{} for _ in range(n)]
    pipe_units: list[dict[tuple[int, int, int], int]] = [{} for _ in range(n)]
    port_in: list[dict[tuple[int, int, int], tuple[int, int, int]]] = [{} for _ in range(n)]  # port -> in-pipe
    # per port, its feeding pipes, each with the tasks routed through it and the port's outgoing pipe (in a
    # tree of buses, the tasks on both): a feeding pipe is active while one of them runs
    feeders: dict[tuple[int, int, int], dict[tuple[int, int, int], int]] = {}
    mem_traffic: list[list[tuple[int, int, float]]] = [[] for _ in range(n)]  # (memory, direction, bytes)
    bus_j = [0.0] * n

    def route(t: int, k: int, nbytes: float, units: int, d: int) -> None:
        path = paths[pe_bus[t]][mem_bus[k]]
        nodes = [nb + nm + pe_key[t], *path, nb + k]
        for i in range(len(nodes) - 1):
            pipe = (nodes[i], nodes[i + 1], d)
            pipe_units[t][pipe] = pipe_units[t].get(pipe, 0) + units
        for i in range(1, len(nodes)):
            blk = nodes[i]
            block_bytes[t][(blk, d)] = block_bytes[t].get((blk, d), 0.0) + nbytes
            out = nodes[i + 1] if i + 1 < len(nodes) else -1
            port, pipe = (blk, out, d), (nodes[i - 1], blk, d)
            port_in[t][port] = pipe
            f = feeders.setdefault(port, {})
            f[pipe] = f.get(pipe, 0) | 1 << t
        mem_traffic[t].append((k, d, nbytes))
        bus_j[t] += nbytes * sum(bus_e[j] for j in path)

    for t in range(n):
        for (u, nbytes), units in zip(p.parents[t], p.read_units[t]):
            route(t, 0 if u == SOURCE else soc.task_mem[u], nbytes, units, READ)
        if p.children[t]:
            route(t, soc.task_mem[t], p.write_bytes[t], p.write_units[t], WRITE)

    # per task and port: its feeding pipe, its work units there, the feeding pipes' task masks, the
    # block's bandwidth over the task's bytes through it, and (block, direction); ports where the task
    # has no units or bytes do not bound it (FARSI skips a zero share)
    ports = []
    for t in range(n):
        mine = []
        for port, pipe in port_in[t].items():
            units, nbytes = pipe_units[t][pipe], block_bytes[t][(port[0], port[2])]
            if units > 0 and nbytes > 0:
                mine.append((pipe, units, tuple(feeders[port].values()), bw[port[0]] / nbytes, (port[0], port[2])))
        ports.append(mine)

    # -- FARSI's phase simulation ---------------------------------------------------------------------
    mem_of = soc.task_mem
    level = [0.0] * nm
    peak = [0.0] * nm
    if p.source_children:
        level[0] = peak[0] = sum(p.input_bytes)
    tokens = [0] * n
    for t in p.source_children:
        tokens[t] += 1
    needed = [len(p.parents[t]) for t in range(n)]
    launched = [False] * n
    left = [1.0] * n  # fraction of each task's work still to do
    start: list[float | None] = [None] * n
    finish = [0.0] * n
    slow: list[dict[object, float]] = [{} for _ in range(n)]  # bottleneck -> seconds it set the pace
    completed: list[int] = []  # FARSI's completed_kernels_for_memory_sizing
    running: list[int] = []
    waiting: list[int] = []
    phases: list[tuple[float, float, list[tuple[int, float]]]] = []
    now = 0.0
    while True:
        ready = []
        for t in order:
            if not launched[t] and tokens[t] == needed[t]:
                launched[t] = True
                ready.append(t)
                if p.children[t]:
                    k = mem_of[t]
                    level[k] += p.write_bytes[t]
                    peak[k] = max(peak[k], level[k])
        used: set[int] = set()
        candidates, running, waiting = running + ready + waiting, [], []
        for t in candidates:
            if pe_key[t] in used:
                waiting.append(t)
            else:
                used.add(pe_key[t])
                running.append(t)
                if start[t] is None:
                    start[t] = now
        if not running:
            break
        mask = 0
        for t in running:
            mask |= 1 << t
        totals: dict[tuple[int, int, int], int] = {}
        for t in running:
            for pipe, units in pipe_units[t].items():
                totals[pipe] = totals.get(pipe, 0) + units
        rate = {}
        for t in running:
            r = 1.0 / compute_s[t] if compute_s[t] > 0 else math.inf
            why: object = "compute"
            for pipe, units, masks, per_share, blk in ports[t]:
                # the port's share: equal among its active feeding pipes, then by work units on t's pipe
                active = sum(1 for m in masks if m & mask)
                rb = per_share * units / ((totals[pipe] or 1) * active)
                if rb < r:
                    r, why = rb, blk
            rate[t] = (r, why)
        dt = min(left[t] / r for t, (r, _) in rate.items())
        steps = []
        for t in running:
            r, why = rate[t]
            done = left[t] if r == math.inf else min(left[t], r * dt)
            left[t] -= done
            steps.append((t, done))
            slow[t][why] = slow[t].get(why, 0.0) + dt
        phases.append((now, now + dt, steps))
        now += dt
        for t in [t for t in running if 1.0 - left[t] >= DONE_PROGRESS]:
            running.remove(t)
            finish[t] = now
            completed.append(t)
            for c in p.children[t]:
                if c != SINK:
                    tokens[c] += 1
            for u, _ in p.parents[t]:
                kids = p.source_children if u == SOURCE else p.children[u]
                if all(c in completed for c in kids):  # never true for a producer of outputs (SINK)
                    if u != SOURCE:
                        level[mem_of[u]] -= p.write_bytes[u]
                    for c in kids:
                        completed.remove(c)

    # -- energy at the memories' sizes, area ------------------------------------------------------------
    mem_cost = [tech.memory_cost(m.kind, peak[k], m.dram) if m is not None else (0.0, 0.0, 0.0)
                for k, m in enumerate(memories)]
    e_task = [0.0] * n
    e_core = e_acc = e_mem = e_bus = 0.0
    for t in range(n):
        frac = 1.0 - left[t]
        mem_j = sum(b * mem_cost[k][d] for k, d, b in mem_traffic[t])
        e_task[t] = frac * (compute_e[t] + mem_j + bus_j[t])
        if on_ip[t]:
            e_acc += frac * compute_e[t]
        else:
            e_core += frac * compute_e[t]
        e_mem += frac * mem_j
        e_bus += frac * bus_j[t]
    energy = e_core + e_acc + e_mem + e_bus
    latency = max(finish)
    power = energy / latency if latency > 0 else math.inf
    if latency > power_window_s:
        per_work = [e_task[t] / (1.0 - left[t]) if left[t] < 1.0 else 0.0 for t in range(n)]
        segments = [(a, b, sum(per_work[t] * w for t, w in steps)) for a, b, steps in phases]
        peak_power = _peak_power(segments, latency, power_window_s)
    else:
        peak_power = power
    areas = area_breakdown(p, soc, peak)
    timing = []
    for t, task in enumerate(g.tasks):
        why = max(slow[t], key=slow[t].get) if slow[t] else "compute"
        if why != "compute":
            blk, d = why
            why = f"{'read' if d == READ else 'write'} {f'bus{blk}' if blk < nb else f'mem{blk - nb}'}"
        timing.append(TaskTiming(task.name, IP if on_ip[t] else f"pe{soc.task_pe[t]}", start[t], finish[t], why))
    return SoCResult(
        latency=latency, energy=energy, power=power, peak_power=peak_power, area=sum(areas.values()),
        energy_breakdown={"cores": e_core, "accelerators": e_acc, "memories": e_mem, "buses": e_bus},
        area_breakdown=areas, memory_bytes=tuple(peak), schedule=tuple(timing),
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
