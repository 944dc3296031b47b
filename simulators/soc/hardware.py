"""The hardware side of an SoC: cores, buses, memories, their connections and the task mapping.

An ``SoC`` is plain data, independent of the design-space encoding (``simulators.soc.space`` builds
one from a design dict; tests build them directly, e.g. with an infinitely wide bus). Slots that
hold ``None`` are unallocated. Blocks connect like FARSI's hardware graph: every core, accelerator
and memory sits on one bus; a bus may be bridged to another bus (``Bus.link``); data moves between
a processing element and a memory over the buses on the path between their buses.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from simulators.soc import tech

__all__ = ["IP", "Bus", "Core", "Memory", "SoC", "bus_paths", "link_paths"]

#: the ``SoC.task_pe`` entry that maps a task to its own accelerator
IP = "ip"


@dataclass(frozen=True)
class Core:
    """A general-purpose core (A53-class by default) on bus ``bus``."""

    bus: int | None = 0
    ipc: float = tech.A53_IPC
    clock_hz: float = tech.A53_CLOCK_HZ
    energy_per_instruction_j: float = 1.0 / tech.A53_INSTRUCTIONS_PER_J
    area_mm2: float = tech.A53_AREA_MM2


@dataclass(frozen=True)
class Bus:
    """An interconnect moving ``width_bytes`` per cycle at ``clock_hz``; ``link`` bridges it to another bus."""

    width_bytes: float
    clock_hz: float
    link: int | None = None
    energy_per_byte_j: float = tech.BUS_ENERGY_PER_BYTE_J

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.width_bytes * self.clock_hz


@dataclass(frozen=True)
class Memory:
    """An SRAM or a DRAM on bus ``bus``; ``dram`` picks a DRAM's access energy (``tech.DRAM_KINDS``:
    ``cacti``, FARSI's CACTI commodity DRAM, or an off-chip interface figure)."""

    kind: str
    width_bytes: float
    clock_hz: float
    bus: int | None = 0
    dram: str = tech.CACTI_DRAM

    def __post_init__(self) -> None:
        if self.kind not in tech.MEMORY_KINDS:
            raise ValueError(f"memory kind must be one of {list(tech.MEMORY_KINDS)}, got {self.kind!r}")
        if self.kind == "dram" and self.dram not in tech.DRAM_KINDS:
            raise ValueError(f"dram must be one of {list(tech.DRAM_KINDS)}, got {self.dram!r}")

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.width_bytes * self.clock_hz


@dataclass(frozen=True)
class SoC:
    """A complete design: allocation (cores, buses, memories), connections, and mapping.

    Per task, in the graph's task order: ``task_pe`` is a core index or ``IP`` (the task's own
    accelerator, which exists only when a task is mapped to it); ``task_mem`` is the memory holding
    the task's output buffers and external inputs; ``ip_bus`` the bus its accelerator sits on;
    ``unroll`` its accelerator's unroll factor (1..trip count). ``accel_clock_hz`` clocks every
    accelerator.
    """

    cores: tuple[Core | None, ...]
    buses: tuple[Bus, ...]
    memories: tuple[Memory | None, ...]
    task_pe: tuple[int | str, ...]
    task_mem: tuple[int, ...]
    ip_bus: tuple[int, ...]
    unroll: tuple[int, ...]
    accel_clock_hz: float = 100e6

    def __post_init__(self) -> None:
        for name in ("cores", "buses", "memories", "task_pe", "task_mem", "ip_bus", "unroll"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for i, b in enumerate(self.buses):
            if not (b.width_bytes > 0 and b.clock_hz > 0):
                raise ValueError(f"bus{i}: width_bytes and clock_hz must be > 0")
        for i, m in enumerate(self.memories):
            if m is not None and not (m.width_bytes > 0 and m.clock_hz > 0):
                raise ValueError(f"mem{i}: width_bytes and clock_hz must be > 0")
        if not self.accel_clock_hz > 0:  # also rejects NaN
            raise ValueError(f"accel_clock_hz must be > 0, got {self.accel_clock_hz!r}")


def bus_paths(buses: tuple[Bus, ...]) -> list[list[tuple[int, ...] | None]]:
    """``paths[a][c]``: the buses crossed from bus ``a`` to bus ``c`` (both included), None if unlinked.

    Links are undirected; the path is a shortest one (breadth first, lower bus index first).
    """
    n = len(buses)
    adj: list[list[int]] = [[] for _ in range(n)]
    for j, b in enumerate(buses):
        if b.link is not None:
            if not (isinstance(b.link, int) and 0 <= b.link < n) or b.link == j:
                raise ValueError(f"bus{j}.link must be another bus index in 0..{n - 1} or None, got {b.link!r}")
            adj[j].append(b.link)
            adj[b.link].append(j)
    return link_paths([sorted(a) for a in adj])


def link_paths(adj: list[list[int]]) -> list[list[tuple[int, ...] | None]]:
    """``paths[a][c]`` over the undirected links ``adj`` (neighbour lists, taken in order, breadth first)."""
    n = len(adj)
    paths: list[list[tuple[int, ...] | None]] = []
    for a in range(n):
        prev: dict[int, int | None] = {a: None}
        queue = deque([a])
        while queue:
            u = queue.popleft()
            for v in adj[u]:
                if v not in prev:
                    prev[v] = u
                    queue.append(v)
        row: list[tuple[int, ...] | None] = []
        for c in range(n):
            if c not in prev:
                row.append(None)
                continue
            path = [c]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])
            row.append(tuple(reversed(path)))
        paths.append(row)
    return paths
