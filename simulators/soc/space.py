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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.core import Choice, DesignSpace, IntRange, Parameter
from simulators.soc import tech
from simulators.soc.graph import TaskGraph
from simulators.soc.hardware import IP, Bus, Core, Memory, SoC
from simulators.soc.model import check_soc, plan

__all__ = ["Encoding"]

_MAX_SLOTS = 4


def _slots(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= _MAX_SLOTS:
        raise ValueError(f"{name} must be an integer in [{low}, {_MAX_SLOTS}], got {value!r}")
    return value


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
