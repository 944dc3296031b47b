"""The design space of an SoC for one task graph: a fixed-length, FARSI-style encoding.

Like FARSI's ArchGym encoding it has three segments, each parameter named for what it sets:

- **allocation**: ``pe<i>_type`` (``none``/``a53``; ``pe0`` is always an A53, the host core),
  ``mem<k>_type`` (``sram``/``dram``, plus ``none`` for ``k >= 1``), ``bus<j>_width_bytes``,
  ``bus<j>_clock_mhz``, ``mem<k>_width_bytes``, ``mem<k>_clock_mhz``, ``accel_clock_mhz`` and
  ``ip_<task>_unroll`` (1, 2, 4, ... up to the trip count, which is always included);
- **connection**: ``pe<i>_bus``, ``ip_<task>_bus``, ``mem<k>_bus`` (``none`` allowed for ``k >= 1``)
  and ``bus<j>_link`` (``none`` or a lower-numbered bus, so links form a forest);
- **mapping**: ``task_<task>_pe`` (a core ``pe<i>``, or ``ip`` for the task's own accelerator when
  it has one) and ``task_<task>_mem`` (the memory holding its output buffers).

Parameters with a single possible value (e.g. ``ip_<task>_unroll`` for a trip count of 1) are left
out. Designs the hardware cannot realise -- a task on an unallocated core or memory, an allocated
memory on no bus, a PE whose memory is on an unlinked bus -- are part of the space; the simulator
reports them infeasible. ``Encoding.repair`` turns one into a valid design, only when called.

``Encoding.complete`` and ``Encoding.allowed`` answer the question a design-by-steps agent asks: with
these knobs chosen, which values of the next one still lead to a design the SoC can build? They
propose completions and let ``check_soc`` (the model's validity logic) decide, so the rules of what
can be built are written once.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from simulators.core import Choice, DesignSpace, IntRange, Parameter
from simulators.params import check_int
from simulators.soc import tech
from simulators.soc.graph import TaskGraph
from simulators.soc.hardware import IP, Bus, Core, Memory, SoC, bus_paths
from simulators.soc.model import SOURCE, check_soc, plan

__all__ = ["Encoding"]

_MAX_SLOTS = 4
#: name endings of the knobs that decide what is built and how it is wired (the others size or clock it)
_STRUCTURAL = ("_type", "_bus", "_link", "_pe", "_mem")


def _slots(name: str, value: Any, low: int) -> int:
    return check_int(value, name, low=low, high=_MAX_SLOTS)


def unroll_values(trip_count: int) -> tuple[int, ...]:
    """Powers of two below the trip count, and the trip count itself (FARSI's geometric spawn)."""
    values = []
    u = 1
    while u < trip_count:
        values.append(u)
        u *= 2
    values.append(trip_count)
    return tuple(values)


class Encoding:
    """Maps designs of one graph's ``space`` to ``SoC`` descriptions (and repairs invalid ones)."""

    def __init__(self, graph: TaskGraph, *, max_cores: int = 2, max_memories: int = 2, max_buses: int = 2,
                 dram: str = "cacti") -> None:
        self.graph = graph
        self.plan = plan(graph)  # the graph's schedule facts, shared with the simulator
        self.max_cores = _slots("max_cores", max_cores, 1)
        self.max_memories = _slots("max_memories", max_memories, 1)
        self.max_buses = _slots("max_buses", max_buses, 1)
        if dram not in tech.DRAM_KINDS:
            raise ValueError(f"unknown dram {dram!r}; choose one of {list(tech.DRAM_KINDS)}")
        self.dram = dram
        self.fixed: dict[str, Any] = {}  # single-valued parameters, left out of the space
        params: list[Parameter] = []

        def add(p: Parameter) -> None:
            if p.cardinality == 1:
                self.fixed[p.name] = p.values[0]
            else:
                params.append(p)

        buses = tuple(f"bus{j}" for j in range(self.max_buses))
        cores = tuple(f"pe{i}" for i in range(self.max_cores))
        mems = tuple(f"mem{k}" for k in range(self.max_memories))
        tasks = graph.tasks
        # allocation
        for i in range(1, self.max_cores):
            add(Choice(f"pe{i}_type", ("none", "a53"), description=f"core slot {i}: absent or an A53"))
        for k in range(self.max_memories):
            kinds = tech.MEMORY_KINDS if k == 0 else ("none", *tech.MEMORY_KINDS)
            add(Choice(f"mem{k}_type", kinds, description=f"memory slot {k}: SRAM or DRAM"))
        for j in range(self.max_buses):
            add(IntRange(f"bus{j}_width_bytes", tech.WIDTHS_BYTES[0], tech.WIDTHS_BYTES[-1], power_of_two=True,
                         unit="bytes", description=f"bus {j} data width"))
            add(Choice(f"bus{j}_clock_mhz", tech.CLOCKS_MHZ, ordered=True, unit="MHz", description=f"bus {j} clock"))
        for k in range(self.max_memories):
            add(IntRange(f"mem{k}_width_bytes", tech.WIDTHS_BYTES[0], tech.WIDTHS_BYTES[-1], power_of_two=True,
                         unit="bytes", description=f"memory {k} port width"))
            add(Choice(f"mem{k}_clock_mhz", tech.CLOCKS_MHZ, ordered=True, unit="MHz",
                       description=f"memory {k} clock"))
        if any(t.accel is not None for t in tasks):
            add(Choice("accel_clock_mhz", tech.CLOCKS_MHZ, ordered=True, unit="MHz",
                       description="clock of every accelerator"))
        for t in tasks:
            if t.accel is not None:
                add(Choice(f"ip_{t.name}_unroll", unroll_values(t.trip_count), ordered=True,
                           description=f"unroll factor of {t.name}'s accelerator (trip count {t.trip_count})"))
        # connection
        for i in range(self.max_cores):
            add(Choice(f"pe{i}_bus", buses, description=f"the bus core {i} sits on"))
        for t in tasks:
            if t.accel is not None:
                add(Choice(f"ip_{t.name}_bus", buses, description=f"the bus {t.name}'s accelerator sits on"))
        for k in range(self.max_memories):
            add(Choice(f"mem{k}_bus", buses if k == 0 else ("none", *buses),
                       description=f"the bus memory {k} sits on"))
        for j in range(1, self.max_buses):
            add(Choice(f"bus{j}_link", ("none", *buses[:j]), description=f"the bus that bus {j} is bridged to"))
        # mapping
        for t in tasks:
            add(Choice(f"task_{t.name}_pe", cores + ((IP,) if t.accel is not None else ()),
                       description=f"where {t.name} runs: a core, or its own accelerator"))
        for t in tasks:
            add(Choice(f"task_{t.name}_mem", mems, description=f"the memory holding {t.name}'s output buffers"))
        self.space = DesignSpace(params)
        self._completions: dict[frozenset, dict[str, Any] | None] = {}  # partial design -> a completion
        self._task_keys = tuple(
            (f"task_{t.name}_pe", f"task_{t.name}_mem", f"ip_{t.name}_bus" if t.accel is not None else None,
             f"ip_{t.name}_unroll" if t.accel is not None else None)
            for t in tasks
        )

    # -- decoding ------------------------------------------------------------------------------------
    def to_soc(self, design: Mapping[str, Any]) -> SoC:
        """The ``SoC`` a (validated) design describes, invalid connections and all."""
        v = {**design, **self.fixed}

        def index(ref: str) -> int | None:
            return None if ref == "none" else int(ref[3:] if ref[0] in "bm" else ref[2:])

        cores = [Core(bus=index(v["pe0_bus"]))]
        for i in range(1, self.max_cores):
            cores.append(Core(bus=index(v[f"pe{i}_bus"])) if v[f"pe{i}_type"] == "a53" else None)
        buses = tuple(
            Bus(width_bytes=v[f"bus{j}_width_bytes"], clock_hz=v[f"bus{j}_clock_mhz"] * 1e6,
                link=index(v[f"bus{j}_link"]) if j > 0 else None)
            for j in range(self.max_buses)
        )
        memories = []
        for k in range(self.max_memories):
            kind = v[f"mem{k}_type"]
            memories.append(None if kind == "none" else Memory(
                kind=kind, width_bytes=v[f"mem{k}_width_bytes"], clock_hz=v[f"mem{k}_clock_mhz"] * 1e6,
                bus=index(v[f"mem{k}_bus"]), dram=self.dram))
        task_pe, task_mem, ip_bus, unroll = [], [], [], []
        for pe_key, mem_key, bus_key, unroll_key in self._task_keys:
            pe = v[pe_key]
            task_pe.append(IP if pe == IP else index(pe))
            task_mem.append(index(v[mem_key]))
            ip_bus.append(index(v[bus_key]) if bus_key else 0)
            unroll.append(v[unroll_key] if unroll_key else 1)
        clock = v["accel_clock_mhz"] * 1e6 if "accel_clock_mhz" in v else 100e6
        return SoC(cores=tuple(cores), buses=buses, memories=tuple(memories), task_pe=tuple(task_pe),
                   task_mem=tuple(task_mem), ip_bus=tuple(ip_bus), unroll=tuple(unroll), accel_clock_hz=clock)

    # -- repair (only when asked) ----------------------------------------------------------------------
    def repair(self, design: Mapping[str, Any]) -> dict[str, Any]:
        """A valid design close to ``design``: tasks on missing cores go to ``pe0``, data in missing
        memories to ``mem0``, a memory on no bus to ``bus0``, and when a route is still missing every
        unlinked bus is bridged to ``bus0``. The input is not modified."""
        d = self.space.validate(design)
        names = set(self.space.names)
        for t in self.graph.tasks:
            key = f"task_{t.name}_pe"
            if key in names and d[key] not in ("pe0", IP) and d.get(f"{d[key]}_type", "a53") == "none":
                d[key] = "pe0"
            key = f"task_{t.name}_mem"
            if key in names and d[key] != "mem0" and d.get(f"{d[key]}_type") == "none":
                d[key] = "mem0"
        for k in range(1, self.max_memories):
            if f"mem{k}_bus" in names and d.get(f"mem{k}_type") != "none" and d[f"mem{k}_bus"] == "none":
                d[f"mem{k}_bus"] = "bus0"
        if check_soc(self.plan, self.to_soc(d)) is not None:
            for j in range(1, self.max_buses):
                if f"bus{j}_link" in names and d[f"bus{j}_link"] == "none":
                    d[f"bus{j}_link"] = "bus0"
        return d

    # -- structural completion: the validity hook of design-by-steps envs --------------------------------
    def allowed(self, name: str, chosen: Mapping[str, Any]) -> np.ndarray:
        """One bool per value of knob ``name``: whether some design the SoC can build keeps the knobs in
        ``chosen`` and gives ``name`` that value (exact when ``chosen`` holds the knobs before ``name``
        in the space's order, the order design-by-steps envs set them in)."""
        param = self.space[name]
        chosen = {k: v for k, v in chosen.items() if k != name}
        if self._known(chosen) is None:  # a prefix asked about before was validated then
            chosen = {k: self.space[k].validate(v) for k, v in chosen.items()}
        witness = self._completion(chosen)
        if witness is None:
            return np.zeros(param.cardinality, dtype=bool)
        structural = name.endswith(_STRUCTURAL)  # sizes, clocks and unrolling build alike
        mask = np.zeros(param.cardinality, dtype=bool)
        for i, value in enumerate(param.values):
            design = {**witness, name: value}
            if not structural or value == witness[name] or check_soc(self.plan, self.to_soc(design)) is None:
                self._remember({**chosen, name: value}, design)  # the witness still builds: keep it
                mask[i] = True
            else:
                mask[i] = self._completion({**chosen, name: value}) is not None
        return mask

    def _known(self, chosen: Mapping[str, Any]) -> frozenset | None:
        """The cache key of ``chosen`` when its completion is remembered, else None."""
        try:
            key = frozenset(chosen.items())
        except TypeError:  # an unhashable value: validation will say what is wrong with it
            return None
        return key if key in self._completions else None

    def _remember(self, chosen: Mapping[str, Any], design: dict[str, Any] | None) -> None:
        if len(self._completions) >= 4096:  # a design-by-steps episode needs a few hundred
            self._completions.clear()
        self._completions[frozenset(chosen.items())] = design

    def complete(self, chosen: Mapping[str, Any]) -> dict[str, Any] | None:
        """A design that keeps every knob in ``chosen`` (a partial design) and that ``check_soc`` accepts,
        or None when none is found (always found when one exists and ``chosen`` is a prefix of the
        space's order).

        The free knobs are filled so as to build the most: free slots allocated, free buses bus0, and
        each way of bridging the free links tried (fewest bus islands first); then tasks are placed by
        the routes ``check_soc`` asks for: every task reading a buffer, and its writer when it stores
        one, sits where the buffer's memory is reachable. ``check_soc`` has the last word.
        """
        found = self._completion({k: self.space[k].validate(v) for k, v in chosen.items()})
        return None if found is None else dict(found)

    def _completion(self, given: dict[str, Any]) -> dict[str, Any] | None:
        """``complete`` of validated values, remembered (an episode asks about the same prefixes again)."""
        key = frozenset(given.items())
        if key not in self._completions:
            self._remember(given, self._complete(given))
        return self._completions[key]

    def _complete(self, given: dict[str, Any]) -> dict[str, Any] | None:
        base = {p.name: given.get(p.name, p.values[0]) for p in self.space}
        for i in range(1, self.max_cores):
            self._fill(base, given, f"pe{i}_type", "a53")
        for k in range(self.max_memories):
            key = f"mem{k}_type"
            if base.get(f"mem{k}_bus", "bus0") == "none" and f"mem{k}_bus" in given:
                self._fill(base, given, key, "none")
            else:
                self._fill(base, given, key, tech.MEMORY_KINDS[0])
        for key in self.space.names:
            if key.endswith("_bus") and not key.startswith("task_"):
                self._fill(base, given, key, "bus0")
        links = [f"bus{j}_link" for j in range(1, self.max_buses) if f"bus{j}_link" in self.space.names
                 and f"bus{j}_link" not in given]
        tried: set[tuple[int, ...]] = set()
        options = []
        for values in itertools.product(*(self.space[key].values for key in links)):
            design = {**base, **dict(zip(links, values))}
            islands = _islands(self.to_soc(design).buses)
            if islands not in tried:
                tried.add(islands)
                options.append((len(set(islands)), design))
        for _, design in sorted(options, key=lambda o: o[0]):
            placed = self._place_tasks(design, given)
            if placed is not None and check_soc(self.plan, self.to_soc(placed)) is None:
                return placed
        return None

    def _fill(self, design: dict[str, Any], given: Mapping[str, Any], key: str, value: Any) -> None:
        if key in self.space.names and key not in given:
            design[key] = value

    def _place_tasks(self, design: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any] | None:
        """``design`` with its free task knobs set so every route ``check_soc`` asks for exists, or None."""
        soc = self.to_soc(design)
        islands = _islands(soc.buses)
        if any(m is not None and m.bus is None for m in soc.memories):
            return None
        memories = {f"mem{k}": islands[m.bus] for k, m in enumerate(soc.memories) if m is not None}
        tasks = self.graph.tasks
        v = {**design, **self.fixed}

        def choices(key: str) -> tuple[Any, ...]:
            return (given[key],) if key in given else self.space[key].values if key in self.space.names else (v[key],)

        pe_island = []  # per task: {island: first PE value there}
        for t, (pe_key, _, _, _) in enumerate(self._task_keys):
            where: dict[int, Any] = {}
            for pe in choices(pe_key):
                if pe == IP:
                    where.setdefault(islands[soc.ip_bus[t]], pe)
                elif soc.cores[int(pe[2:])] is not None:
                    where.setdefault(islands[soc.cores[int(pe[2:])].bus], pe)
            pe_island.append(where)
        mem_island = [{memories[m]: m for m in reversed(choices(mem_key)) if m in memories}
                      for _, mem_key, _, _ in self._task_keys]
        # check_soc's routes: the host pe0 reaches every memory holding data; the external inputs live in
        # mem0, which their readers reach; a task's PE reaches its parents' buffers and its own (when it
        # writes one)
        if soc.cores[0] is None:
            return None
        host = islands[soc.cores[0].bus]
        source_island = None
        if self.plan.source_children:
            if soc.memories[0] is None or islands[soc.memories[0].bus] != host:
                return None
            source_island = host
        readers = [{u} if self.plan.children[u] else set() for u in range(len(tasks))]
        from_source = [any(u == SOURCE for u, _ in parents) for parents in self.plan.parents]
        for t, parents in enumerate(self.plan.parents):
            for u, _ in parents:
                if u != SOURCE:
                    readers[u].add(t)
        group = list(range(len(tasks)))

        def root(t: int) -> int:
            while group[t] != t:
                group[t] = group[group[t]]
                t = group[t]
            return t

        for r in readers:
            first, *rest = sorted(r) or [None]
            for t in rest:
                group[root(t)] = root(first)
        out = dict(design)
        groups: dict[int, list[int]] = {}
        for t in range(len(tasks)):
            groups.setdefault(root(t), []).append(t)
        for members in groups.values():
            buffers = [u for u in range(len(tasks)) if readers[u] and root(min(readers[u])) == root(members[0])]
            common = set.intersection(*(set(pe_island[t]) for t in members),
                                      *(set(mem_island[u]) for u in buffers))
            if buffers:
                common &= {host}
            if any(from_source[t] for t in members):
                common &= {source_island}
            if not common:
                return None
            island = min(common)
            for t in members:
                self._fill(out, given, self._task_keys[t][0], pe_island[t][island])
            for u in buffers:
                self._fill(out, given, self._task_keys[u][1], mem_island[u][island])
        for u in range(len(tasks)):
            if not readers[u]:  # nobody reads the buffer: any allocated memory holds it
                if not mem_island[u]:
                    return None
                self._fill(out, given, self._task_keys[u][1], next(iter(mem_island[u].values())))
        return out


def _islands(buses: tuple[Bus, ...]) -> tuple[int, ...]:
    """Per bus, the lowest-numbered bus it is connected to (buses with the same number share routes)."""
    paths = bus_paths(buses)
    return tuple(min(c for c in range(len(buses)) if paths[b][c] is not None) for b in range(len(buses)))
