"""Task graphs: the bundled FARSI workloads against FARSI's published tables, YAML errors, synthetic graphs."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from simulators.soc import BUNDLED, Accel, Edge, Task, TaskGraph, graph_from_dict, load_graph, synthetic_graph

DATA = Path(__file__).parent / "data"
SOURCES, SINKS, DUMMIES = {"souurce", "source"}, {"siink", "sink"}, {"dummy_last"}


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name) as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _short(name: str) -> str:
    return name.removesuffix("_fxp_cloned")


@pytest.mark.parametrize("workload", BUNDLED)
def test_tasks_match_farsi_tables_in_farsi_parser_units(workload: str) -> None:
    g = load_graph(workload)
    rows = [r for r in _rows("farsi_tasks.csv") if r["workload"] == workload]
    real = [r for r in rows if r["task"] not in SOURCES | SINKS | DUMMIES]
    assert sorted(t.name for t in g.tasks) == sorted(_short(r["task"]) for r in real)
    # in the order of FARSI's Task Data Movement table (its rows: every task sends data somewhere), the
    # order FARSI's simulator launches ready tasks in
    farsi_order = []
    for r in _rows("farsi_edges.csv"):
        task = r["parent"]
        if r["workload"] == workload and task not in SOURCES | DUMMIES and _short(task) not in farsi_order:
            farsi_order.append(_short(task))
    assert [t.name for t in g.tasks] == farsi_order
    assert g.host_tasks == (tuple(sorted({r["task"] for r in rows} & DUMMIES)))  # folded dummies FARSI hosts
    for r in real:
        t = g.task(_short(r["task"]))
        assert t.core_cycles == int(r["a53_cycles"])
        assert t.accel.cycles == int(r["ip_cycles"])
        assert t.accel.energy_j == pytest.approx(float(r["ip_energy"]) * 1e-15, rel=1e-12)  # FARSI: x 10**-15
        assert t.accel.area_mm2 == pytest.approx(float(r["ip_area"]) * 1e-6, rel=1e-12)  # um^2 -> mm^2
        assert t.trip_count == int(r["iterations"])


@pytest.mark.parametrize("workload", BUNDLED)
def test_edges_match_farsi_data_movement(workload: str) -> None:
    g = load_graph(workload)
    inputs: dict[str, int] = defaultdict(int)
    outputs: dict[str, int] = defaultdict(int)
    edges = {}
    for r in _rows("farsi_edges.csv"):
        if r["workload"] != workload or r["parent"] == r["child"] or r["parent"] in DUMMIES:
            continue  # FARSI's parser skips self-moves; dummy_last -> sink is 1 byte of bookkeeping
        u, v, b = _short(r["parent"]), _short(r["child"]), int(float(r["bytes"]))
        if r["parent"] in SOURCES:
            inputs[v] += b
        elif r["child"] in SINKS | DUMMIES:
            outputs[u] += b
        else:
            edges[(u, v)] = b
    assert {(e.src, e.dst): e.bytes for e in g.edges} == edges
    assert g.inputs == dict(inputs)
    assert g.outputs == dict(outputs)


def test_published_magnitudes() -> None:
    """Research-note figures: audio is 6.30 M A53 cycles (6.3 ms at 1 GHz, fits 21 ms)."""
    audio = load_graph("audio_decoder")
    assert sum(t.core_cycles for t in audio.tasks) == 6_304_373
    assert len(audio.tasks) == 15 and len(audio.edges) == 17
    edge = load_graph("edge_detection")
    assert edge.task("gaussianSmoothing").trip_count == 1280 * 1280
    assert edge.task("computeMaxGradientLeaf").trip_count == 256
    cava = load_graph("hpvm_cava")
    assert [e.bytes for e in cava.edges] == [364212] * 6 and cava.inputs == {"scale": 91053}


@pytest.mark.parametrize("workload,latency", [("audio_decoder", 0.021), ("edge_detection", 0.034),
                                              ("hpvm_cava", 0.034)])
def test_budgets_are_archgyms(workload: str, latency: float) -> None:
    assert load_graph(workload).budgets == {"latency_s": latency, "power_w": 0.008737, "area_mm2": 17.475}


def test_topological_order_respects_edges() -> None:
    for w in BUNDLED:
        g = load_graph(w)
        pos = {g.tasks[i].name: k for k, i in enumerate(g.topological_order())}
        assert all(pos[e.src] < pos[e.dst] for e in g.edges)


# -- user graphs and their errors -------------------------------------------------------------------

GOOD = """\
name: tiny
tasks:
  - {name: a, core_cycles: 1000, accel: {cycles: 50, energy_j: 1.0e-12, area_mm2: 0.01}, trip_count: 8}
  - {name: b, core_cycles: 500}
edges:
  - {from: a, to: b, bytes: 4096}
inputs: {a: 64}
"""


def test_yaml_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD)
    g = load_graph(path)
    assert g == TaskGraph("tiny", (Task("a", 1000, Accel(50, 1e-12, 0.01), 8), Task("b", 500)),
                          (Edge("a", "b", 4096),), inputs={"a": 64})
    assert load_graph(str(path)) == g
    path.write_text(GOOD + "host_tasks: [dummy_last]\n")
    assert load_graph(path).host_tasks == ("dummy_last",)


@pytest.mark.parametrize("text,match", [
    (GOOD.replace("edges:\n", "edges:\n  - {from: b, to: a, bytes: 1}\n"), r"cycle through tasks \['a', 'b'\]"),
    (GOOD.replace("{from: a, to: b", "{from: a, to: c"), r"line 6: edge 'a' -> 'c' names no task 'c' \(a dangling"),
    (GOOD.replace("{name: b, core_cycles: 500}", "{name: b}"), r"line 4: missing field 'core_cycles'"),
    (GOOD.replace("cycles: 50, ", ""), r"task 'a', accel, line 3: missing field 'cycles'"),
    (GOOD.replace("bytes: 4096", "bytes: -4"), r"line 6: bytes must be a finite number >= 0, got -4"),
    (GOOD.replace("trip_count: 8", "trip_count: 0"), r"task 'a': trip_count must be a finite integer > 0"),
    (GOOD.replace("core_cycles: 500", "core_cycles: 500, cores: 2"), r"line 4: unknown field\(s\) \['cores'\]"),
    (GOOD.replace("name: tiny\n", ""), r"missing field 'name'"),
    (GOOD.replace("inputs: {a: 64}", "inputs: {z: 64}"), r"inputs names no task \('z'\)"),
    (GOOD + "budgets: {latency: 1}\n", r"unknown budget 'latency'; budgets are \['latency_s'"),
    (GOOD.replace("{name: b,", "{name: a,"), r"task 'a' is defined twice"),
    ("name: x\ntasks: [\n", r"not valid YAML"),
    (GOOD + "host_tasks: [b]\n", r"host_tasks must be identifiers naming no task of the graph, got 'b'"),
    (GOOD + "host_tasks: dummy\n", r"'host_tasks' must be a list of task names"),
    (GOOD + "host_tasks: [d, d]\n", r"host_tasks names a task twice"),
])
def test_bad_graphs_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_graph(path)


def test_self_loop_and_programmatic_dangling_edge() -> None:
    with pytest.raises(ValueError, match="self-loop"):
        TaskGraph("g", (Task("a", 1),), (Edge("a", "a", 1),))
    with pytest.raises(ValueError, match=r"'to' names no task \('x'\)"):
        TaskGraph("g", (Task("a", 1),), (Edge("a", "x", 1),))


@pytest.mark.parametrize("workload", ["resnet18", "synthetic:x", "missing.yaml", 3])
def test_unknown_workload(workload) -> None:
    with pytest.raises(ValueError, match="workload|does not exist"):
        load_graph(workload)


def test_dict_graph() -> None:
    g = graph_from_dict({"name": "d", "tasks": [{"name": "a", "core_cycles": 10}]})
    assert g.tasks == (Task("a", 10),) and g.edges == ()


# -- synthetic graphs -----------------------------------------------------------------------------------

def test_synthetic_is_seeded_and_valid() -> None:
    a, b, c = synthetic_graph(20, seed=3), synthetic_graph(20, seed=3), synthetic_graph(20, seed=4)
    assert a == b and a != c
    assert load_graph("synthetic:20:3") == a
    assert len(a.tasks) == 20
    has_parent = {e.dst for e in a.edges}
    assert all(t.name in has_parent or t.name in a.inputs for t in a.tasks)
    assert all(t.accel.cycles < t.core_cycles for t in a.tasks)
    assert a.budgets["latency_s"] == pytest.approx(sum(t.core_cycles for t in a.tasks) / 1e9 / 3, rel=1e-3)
    with pytest.raises(ValueError, match="n_tasks"):
        synthetic_graph(0)
