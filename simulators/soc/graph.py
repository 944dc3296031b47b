"""Task graphs: the workloads of the SoC model, bundled (FARSI's), synthetic (seeded) or from YAML.

A ``TaskGraph`` is a DAG of ``Task``\\s joined by ``Edge``\\s that carry bytes. A task has work on a
general-purpose core (``core_cycles`` on the reference A53) and, optionally, a dedicated accelerator
(``Accel``: cycles at unroll 1, energy per run, area) whose unroll factor is capped by the task's
loop ``trip_count``. ``inputs`` and ``outputs`` are bytes entering and leaving the SoC (FARSI's
source and sink edges). ``host_tasks`` names zero-work bookkeeping tasks of the original workload
that were folded away but that FARSI runs on the host core (``pe0``), which keeps that core in the
design (the audio decoder's ``dummy_last``). ``budgets`` are the workload's latency/power/area
budgets, if it has any.

YAML layout (``simulators/soc/data/*.yaml`` are examples)::

    name: my_graph
    budgets: {latency_s: 0.02, power_w: 0.009, area_mm2: 17.5}     # optional
    tasks:
      - {name: a, core_cycles: 1000, accel: {cycles: 90, energy_j: 1e-12, area_mm2: 0.01}, trip_count: 64}
      - {name: b, core_cycles: 500}                                 # no accelerator, trip_count 1
    edges:
      - {from: a, to: b, bytes: 4096}
    inputs: {a: 1024}                                               # optional
    outputs: {b: 256}                                               # optional
    host_tasks: [dummy_last]                                        # optional

Errors name the field, the task and the file line.
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from simulators.params import check_int
from simulators.soc import tech
from simulators.yamldata import load_yaml, read_text, yaml_loader

__all__ = ["BUNDLED", "Accel", "Edge", "Task", "TaskGraph", "graph_from_dict", "load_graph", "synthetic_graph"]

#: bundled FARSI workloads (``simulators/soc/data/<name>.yaml``)
BUNDLED = ("audio_decoder", "edge_detection", "hpvm_cava")
BUDGET_KEYS = ("latency_s", "power_w", "area_mm2")
ARCHGYM_POWER_W = 0.008737  # FARSI/ArchGym power and area budgets (misc_database - Budget.csv)
ARCHGYM_AREA_MM2 = 17.475

_LINE = "__line__"  # key the line-tracking YAML loader adds to every mapping


@dataclass(frozen=True)
class Accel:
    """A task's dedicated accelerator at unroll 1: cycles per run, energy per run (J), area (mm^2)."""

    cycles: float
    energy_j: float
    area_mm2: float


@dataclass(frozen=True)
class Task:
    """One node of the graph. ``core_cycles`` on the reference A53; ``accel`` None when it has none."""

    name: str
    core_cycles: float
    accel: Accel | None = None
    trip_count: int = 1


@dataclass(frozen=True)
class Edge:
    """``bytes`` produced by task ``src`` and consumed by task ``dst``."""

    src: str
    dst: str
    bytes: float


@dataclass(frozen=True)
class TaskGraph:
    """A validated DAG. Construct through ``graph_from_dict``/``load_graph``/``synthetic_graph`` or directly."""

    name: str
    tasks: tuple[Task, ...]
    edges: tuple[Edge, ...]
    inputs: Mapping[str, float] = field(default_factory=dict)
    outputs: Mapping[str, float] = field(default_factory=dict)
    budgets: Mapping[str, float] = field(default_factory=dict)
    host_tasks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "edges", tuple(self.edges))
        object.__setattr__(self, "host_tasks", tuple(self.host_tasks))
        for attr in ("inputs", "outputs", "budgets"):
            object.__setattr__(self, attr, dict(getattr(self, attr)))
        _validate(self)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tasks)

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise ValueError(f"graph {self.name!r} has no task {name!r}; tasks are {list(self.names)}")

    def topological_order(self, priority: Sequence[float] | None = None) -> tuple[int, ...]:
        """Task indices in a topological order: among ready tasks the lowest ``priority`` first
        (default: file order), the lower index breaking ties."""
        return _topological(len(self.tasks), self._index_edges(), priority)[0]

    def _index_edges(self) -> list[tuple[int, int]]:
        index = {t.name: i for i, t in enumerate(self.tasks)}
        return [(index[e.src], index[e.dst]) for e in self.edges]


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _positive(where: str, name: str, value: Any, *, allow_zero: bool = False, integer: bool = False) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok:
        kind = "integer" if integer else "number"
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{where}: {name} must be a finite {kind} {bound}, got {value!r}")


def _topological(n: int, edges: Sequence[tuple[int, int]], priority: Sequence[float] | None = None
                 ) -> tuple[tuple[int, ...], list[int]]:
    """Kahn's algorithm taking the ready task of lowest (priority, index) first; returns the order and
    the tasks left unsorted (those on or behind a cycle)."""
    key = priority if priority is not None else range(n)
    indeg = [0] * n
    children: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        children[u].append(v)
        indeg[v] += 1
    ready = [(key[i], i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, u = heapq.heappop(ready)
        order.append(u)
        for v in children[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                heapq.heappush(ready, (key[v], v))
    rest = [i for i in range(n) if indeg[i] > 0]
    return tuple(order), rest


def _validate(g: TaskGraph) -> None:
    where = f"task graph {g.name!r}"
    if not isinstance(g.name, str) or not g.name:
        raise ValueError(f"a task graph needs a non-empty name, got {g.name!r}")
    if not g.tasks:
        raise ValueError(f"{where}: needs at least one task")
    seen: set[str] = set()
    for t in g.tasks:
        if not isinstance(t, Task):
            raise ValueError(f"{where}: tasks must be Task objects, got {t!r}")
        if not isinstance(t.name, str) or not t.name.isidentifier():
            raise ValueError(f"{where}: task name must be an identifier (letters, digits, _), got {t.name!r}")
        if t.name in seen:
            raise ValueError(f"{where}: task {t.name!r} is defined twice")
        seen.add(t.name)
        tw = f"{where}, task {t.name!r}"
        _positive(tw, "core_cycles", t.core_cycles, allow_zero=True)
        _positive(tw, "trip_count", t.trip_count, integer=True)
        if t.accel is not None:
            if not isinstance(t.accel, Accel):
                raise ValueError(f"{tw}: accel must be an Accel, got {t.accel!r}")
            _positive(tw, "accel.cycles", t.accel.cycles)
            _positive(tw, "accel.energy_j", t.accel.energy_j, allow_zero=True)
            _positive(tw, "accel.area_mm2", t.accel.area_mm2, allow_zero=True)
    pairs = set()
    for e in g.edges:
        for end, label in ((e.src, "from"), (e.dst, "to")):
            if end not in seen:
                raise ValueError(f"{where}: edge {e.src!r} -> {e.dst!r}: '{label}' names no task ({end!r}); "
                                 f"tasks are {sorted(seen)}")
        if e.src == e.dst:
            raise ValueError(f"{where}: edge {e.src!r} -> {e.dst!r} is a self-loop (a cycle)")
        if (e.src, e.dst) in pairs:
            raise ValueError(f"{where}: edge {e.src!r} -> {e.dst!r} is given twice")
        pairs.add((e.src, e.dst))
        _positive(f"{where}, edge {e.src!r} -> {e.dst!r}", "bytes", e.bytes, allow_zero=True)
    for attr in ("inputs", "outputs"):
        for name, b in getattr(g, attr).items():
            if name not in seen:
                raise ValueError(f"{where}: {attr} names no task ({name!r}); tasks are {sorted(seen)}")
            _positive(f"{where}, {attr}[{name!r}]", "bytes", b, allow_zero=True)
    for name in g.host_tasks:
        if not isinstance(name, str) or not name.isidentifier() or name in seen:
            raise ValueError(f"{where}: host_tasks must be identifiers naming no task of the graph, got {name!r}")
    if len(set(g.host_tasks)) != len(g.host_tasks):
        raise ValueError(f"{where}: host_tasks names a task twice: {list(g.host_tasks)}")
    for key, value in g.budgets.items():
        if key not in BUDGET_KEYS:
            raise ValueError(f"{where}: unknown budget {key!r}; budgets are {list(BUDGET_KEYS)}")
        _positive(f"{where}, budgets", key, value)
    _, rest = _topological(len(g.tasks), g._index_edges())
    if rest:
        raise ValueError(f"{where}: the edges form a cycle through tasks {[g.tasks[i].name for i in rest]}")


# --------------------------------------------------------------------------------------------------
# Building from data (dicts and YAML)
# --------------------------------------------------------------------------------------------------


def _at(data: Any, where: str) -> str:
    line = data.get(_LINE) if isinstance(data, Mapping) else None
    return f"{where}, line {line}" if line else where


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        fields = [k for k in data if k != _LINE]
        raise ValueError(f"{_at(data, where)}: missing field {key!r} (has {fields})")
    return data[key]


def _check_keys(data: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = [k for k in data if k not in allowed and k != _LINE]
    if unknown:
        raise ValueError(f"{_at(data, where)}: unknown field(s) {unknown}; allowed: {list(allowed)}")


def _mapping(data: Any, what: str, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: {what} must be a mapping, got {type(data).__name__}")
    return data


def _number(data: Mapping[str, Any], key: str, where: str, default: Any = None) -> Any:
    """A numeric field, checked with its line number (range checks follow in ``_validate``)."""
    value = _require(data, key, where) if default is None else data.get(key, default)
    _positive(_at(data, where), key, value, allow_zero=True)
    return value


def graph_from_dict(data: Mapping[str, Any], source: str = "task graph") -> TaskGraph:
    """Build a ``TaskGraph`` from the YAML layout in the module docstring (already parsed)."""
    data = _mapping(data, "a task graph", source)
    _check_keys(data, ("name", "tasks", "edges", "inputs", "outputs", "budgets", "host_tasks"), source)
    name = _require(data, "name", source)
    tasks_raw = _require(data, "tasks", source)
    if not isinstance(tasks_raw, list):
        raise ValueError(f"{_at(data, source)}: 'tasks' must be a list of task mappings")
    tasks = []
    for i, item in enumerate(tasks_raw):
        where = f"{source}, tasks[{i}]"
        item = _mapping(item, "a task", where)
        _check_keys(item, ("name", "core_cycles", "accel", "trip_count"), where)
        tname = _require(item, "name", where)
        where = f"{source}, task {tname!r}"
        if any(t.name == tname for t in tasks):
            raise ValueError(f"{_at(item, where)}: task {tname!r} is defined twice")
        accel = None
        if item.get("accel") is not None:
            a = _mapping(item["accel"], "accel", _at(item, where))
            _check_keys(a, ("cycles", "energy_j", "area_mm2"), f"{where}, accel")
            accel = Accel(*(_number(a, k, f"{where}, accel") for k in ("cycles", "energy_j", "area_mm2")))
        tasks.append(Task(tname, _number(item, "core_cycles", where), accel,
                          _number(item, "trip_count", where, default=1)))
    edges_raw = data.get("edges") or []
    if not isinstance(edges_raw, list):
        raise ValueError(f"{_at(data, source)}: 'edges' must be a list of {{from, to, bytes}} mappings")
    edges = []
    names = {t.name for t in tasks}
    for i, item in enumerate(edges_raw):
        where = f"{source}, edges[{i}]"
        item = _mapping(item, "an edge", where)
        _check_keys(item, ("from", "to", "bytes"), where)
        edge = Edge(_require(item, "from", where), _require(item, "to", where), _number(item, "bytes", where))
        for end in (edge.src, edge.dst):
            if end not in names:
                raise ValueError(f"{_at(item, where)}: edge {edge.src!r} -> {edge.dst!r} names no task {end!r} "
                                 f"(a dangling edge); tasks are {sorted(names)}")
        edges.append(edge)
    extra = {}
    for key in ("inputs", "outputs", "budgets"):
        raw = data.get(key) or {}
        raw = _mapping(raw, key, _at(data, source))
        extra[key] = {k: v for k, v in raw.items() if k != _LINE}
    host = data.get("host_tasks") or []
    if not isinstance(host, list):
        raise ValueError(f"{_at(data, source)}: 'host_tasks' must be a list of task names")
    return TaskGraph(name=name, tasks=tuple(tasks), edges=tuple(edges), host_tasks=tuple(host), **extra)


def _line_loader():
    import yaml

    base = yaml_loader()

    class LineLoader(base):
        """archgym's YAML loader (``simulators.yamldata``) that records each mapping's first line under
        ``__line__``."""

    def construct_mapping(loader, node, deep=False):
        mapping = base.construct_mapping(loader, node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        return mapping

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return LineLoader


def read_yaml(text: str, source: str) -> TaskGraph:
    """Parse YAML text in the layout of the module docstring; errors name ``source`` and the line."""
    import yaml

    try:
        data = load_yaml(text, _line_loader())
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML ({exc})") from None
    return graph_from_dict(data, source)


def load_graph(workload: str | os.PathLike[str] | TaskGraph | Mapping[str, Any]) -> TaskGraph:
    """A bundled workload by name, ``synthetic:<tasks>:<seed>``, a YAML file path, a mapping or a graph."""
    if isinstance(workload, TaskGraph):
        return workload
    if isinstance(workload, Mapping):
        return graph_from_dict(workload)
    if isinstance(workload, str) and workload in BUNDLED:
        text = resources.files("simulators.soc").joinpath(f"data/{workload}.yaml").read_text()
        return read_yaml(text, f"{workload}.yaml")
    if isinstance(workload, str) and workload.startswith("synthetic"):
        parts = workload.split(":")
        try:
            if parts[0] != "synthetic" or len(parts) > 3:
                raise ValueError
            n = int(parts[1]) if len(parts) > 1 else 12
            seed = int(parts[2]) if len(parts) > 2 else 0
        except ValueError:
            raise ValueError(f"synthetic workload must read 'synthetic[:<tasks>[:<seed>]]', got {workload!r}") from None
        return synthetic_graph(n, seed=seed)
    if isinstance(workload, (str, os.PathLike)):
        path = Path(workload)
        if path.suffix.lower() in (".yaml", ".yml"):
            if not path.is_file():
                raise ValueError(f"task graph file {str(path)!r} does not exist")
            return read_yaml(read_text(path, "task graph file"), str(path))
    raise ValueError(f"unknown workload {workload!r}; choose one of {list(BUNDLED)}, 'synthetic:<tasks>:<seed>', "
                     "a path to a .yaml task graph, or a TaskGraph")


# --------------------------------------------------------------------------------------------------
# Synthetic graphs
# --------------------------------------------------------------------------------------------------


def synthetic_graph(n_tasks: int = 12, *, seed: int = 0, width: int = 3, edge_prob: float = 0.4) -> TaskGraph:
    """A seeded random layered DAG with FARSI-like magnitudes (same seed, same graph).

    Tasks sit in layers of at most ``width``; each task after the first layer gets one parent from the
    previous layer and, with probability ``edge_prob``, one more from any earlier layer. Core cycles
    are log-uniform in [1e4, 2e6]; the accelerator runs 2-60x fewer cycles (at its own clock), with
    energy 1e-14-1e-12 J and area 0.005-0.5 mm^2 (the ranges of the audio decoder's tasks); trip
    counts are 1 or a power of two up to 4096; edges carry 1-400 KB. Budgets: the ArchGym power and
    area budgets and a third of the time one 1 GHz A53 needs for the whole graph.
    """
    n_tasks = check_int(n_tasks, "n_tasks", low=1, high=1000)
    width = check_int(width, "width", low=1)
    if not (isinstance(edge_prob, (int, float)) and 0.0 <= edge_prob <= 1.0):
        raise ValueError(f"edge_prob must be in [0, 1], got {edge_prob!r}")
    rng = np.random.default_rng(seed)
    layers: list[list[int]] = []
    i = 0
    while i < n_tasks:
        k = min(int(rng.integers(1, width + 1)), n_tasks - i)
        layers.append(list(range(i, i + k)))
        i += k

    def log_uniform(lo: float, hi: float) -> float:
        return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))

    tasks = []
    for t in range(n_tasks):
        cycles = round(log_uniform(1e4, 2e6))
        accel = Accel(cycles=max(1, round(cycles / log_uniform(2.0, 60.0))),
                      energy_j=float(f"{log_uniform(1e-14, 1e-12):.4g}"),
                      area_mm2=float(f"{log_uniform(0.005, 0.5):.4g}"))
        trip = 1 if rng.random() < 0.5 else int(2 ** rng.integers(1, 13))
        tasks.append(Task(f"t{t}", cycles, accel, trip))
    edges = []
    for depth in range(1, len(layers)):
        earlier = [u for layer in layers[:depth] for u in layer]
        for v in layers[depth]:
            parents = {int(rng.choice(layers[depth - 1]))}
            if rng.random() < edge_prob:
                parents.add(int(rng.choice(earlier)))
            for u in sorted(parents):
                edges.append(Edge(f"t{u}", f"t{v}", round(log_uniform(1e3, 4e5))))
    has_child = {e.src for e in edges}
    inputs = {f"t{v}": round(log_uniform(1e3, 4e5)) for v in layers[0]}
    outputs = {t.name: round(log_uniform(1e3, 4e5)) for t in tasks if t.name not in has_child}
    one_core_s = sum(t.core_cycles for t in tasks) / tech.A53_CLOCK_HZ
    budgets = {"latency_s": float(f"{one_core_s / 3:.4g}"), "power_w": ARCHGYM_POWER_W, "area_mm2": ARCHGYM_AREA_MM2}
    return TaskGraph(f"synthetic_{n_tasks}_{seed}", tuple(tasks), tuple(edges), inputs, outputs, budgets)
