"""The design-space contract: parameters, validation, sampling, neighbours and the encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.core import (
    BatchEvaluation,
    Choice,
    DesignSpace,
    Direction,
    Evaluation,
    FloatRange,
    IntRange,
    Metric,
    Parameter,
    Simulator,
)

# -- strategies ---------------------------------------------------------------------------------------


@st.composite
def parameters(draw, name: str):
    kind = draw(st.sampled_from(["choice", "int", "pow2", "float"]))
    if kind == "choice":
        values = draw(st.lists(st.one_of(st.text(min_size=1, max_size=4), st.integers(-50, 50)),
                               min_size=1, max_size=6, unique_by=lambda v: (type(v).__name__, v)))
        # 1 == True and "1" != 1, so keep values distinct under Python equality too
        if len(set(values)) != len(values):
            values = values[:1]
        return Choice(name, values, ordered=draw(st.booleans()))
    if kind == "int":
        low = draw(st.integers(-100, 100))
        step = draw(st.integers(1, 5))
        return IntRange(name, low, low + step * draw(st.integers(0, 10)), step=step)
    if kind == "pow2":
        lo = draw(st.integers(0, 5))
        return IntRange(name, 1 << lo, 1 << (lo + draw(st.integers(0, 5))), power_of_two=True)
    low = draw(st.floats(0.1, 100))
    return FloatRange(name, low, low * draw(st.floats(1.5, 100)), log=draw(st.booleans()),
                      levels=draw(st.integers(2, 9)))


@st.composite
def spaces(draw):
    n = draw(st.integers(1, 5))
    return DesignSpace(draw(parameters(f"p{i}")) for i in range(n))


# -- encodings -------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_index_and_unit_encodings_round_trip(space, seed):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        idx = np.array([rng.integers(n) for n in space.nvec])
        design = space.decode_indices(idx)
        assert np.array_equal(space.encode_indices(design), idx)
        u = space.encode_unit(design)
        assert np.all((u >= 0) & (u <= 1))
        back = space.decode_unit(u)
        for p in space:
            if p.discrete:
                assert back[p.name] == design[p.name]
            else:
                assert back[p.name] == pytest.approx(design[p.name], rel=1e-9)
        assert space.validate(design) == design


@settings(max_examples=100, deadline=None)
@given(space=spaces(), u=st.data())
def test_every_unit_vector_decodes_to_a_valid_design(space, u):
    vec = u.draw(st.lists(st.floats(0, 1), min_size=len(space), max_size=len(space)))
    design = space.decode_unit(vec)
    assert space.validate(design) == design


@settings(max_examples=100, deadline=None)
@given(space=spaces())
def test_unit_bins_reach_every_discrete_value(space):
    """The ArchGym RL binning bug (3 reachable values per knob) cannot happen here."""
    for p in space:
        if not p.discrete:
            continue
        n = p.cardinality
        reached = {p.from_unit(x) for x in np.linspace(0, 1, 4 * n + 1)}
        assert reached == set(p.values)


@settings(max_examples=100, deadline=None)
@given(space=spaces(), seed=st.integers(0, 1000))
def test_ordinals_enumerate_the_space(space, seed):
    ords = np.arange(min(space.grid_size, 500))
    idx = space.indices_from_ordinals(ords)
    assert np.array_equal(space.ordinals_from_indices(idx), ords)
    assert len({tuple(r) for r in idx}) == len(ords)


@settings(max_examples=100, deadline=None)
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_batch_encodings_match_single(space, seed):
    rng = np.random.default_rng(seed)
    idx = space.sample_indices(rng, 7)
    designs = space.decode_indices_batch(idx)
    assert designs == [space.decode_indices(r) for r in idx]
    assert np.array_equal(space.encode_indices_batch(designs), idx)
    cols = space.columns(idx)
    for j, p in enumerate(space):
        assert [p.value_at(int(i)) for i in idx[:, j]] == list(cols[p.name])


@settings(max_examples=60, deadline=None)
@given(space=spaces(), seed=st.integers(0, 1000))
def test_space_round_trips_through_dict(space, seed):
    again = DesignSpace.from_dict(space.to_dict())
    assert again == space
    design = space.sample(np.random.default_rng(seed))
    assert np.array_equal(again.encode_indices(design), space.encode_indices(design))


# -- sampling and neighbours -----------------------------------------------------------------------------


def small_space() -> DesignSpace:
    return DesignSpace([
        IntRange("rows", 4, 64, power_of_two=True),
        Choice("dataflow", ["os", "ws", "is"]),
        IntRange("clock", 200, 1000, step=200),
        FloatRange("vdd", 0.6, 1.2, levels=7),
    ])


def test_sample_is_reproducible_and_uniform():
    space = small_space()
    a = space.sample(np.random.default_rng(3), n=2000)
    b = space.sample(np.random.default_rng(3), n=2000)
    assert a == b
    counts = {v: sum(d["dataflow"] == v for d in a) for v in ("os", "ws", "is")}
    assert all(600 < c < 730 for c in counts.values())  # 2000/3 = 667; 4.5 sigma band
    assert all(space.validate(d) == d for d in a[:50])


def test_neighbors_change_one_parameter_by_one_step():
    space = small_space()
    design = {"rows": 16, "dataflow": "ws", "clock": 200, "vdd": 0.9}
    nbs = space.neighbors(design)
    changed = [{k for k in d if d[k] != design[k]} for d in nbs]
    assert all(len(c) == 1 for c in changed)
    assert {d["rows"] for d in nbs if d["rows"] != 16} == {8, 32}
    assert {d["dataflow"] for d in nbs if d["dataflow"] != "ws"} == {"os", "is"}  # unordered: all others
    assert {d["clock"] for d in nbs if d["clock"] != 200} == {400}  # at the edge: one neighbour
    assert sorted(round(d["vdd"], 6) for d in nbs if d["vdd"] != 0.9) == [0.8, 1.0]
    assert len(nbs) == 2 + 2 + 1 + 2


def test_cardinality_and_values():
    space = small_space()
    assert space.cardinality == math.inf  # vdd is continuous
    assert space.grid_size == 5 * 3 * 5 * 7  # ... with 7 levels for index encodings
    assert DesignSpace(list(space)[:3]).cardinality == 5 * 3 * 5
    assert space["rows"].values == (4, 8, 16, 32, 64)
    assert space["clock"].values == (200, 400, 600, 800, 1000)
    assert list(space.nvec) == [5, 3, 5, 7]
    unbounded = DesignSpace([FloatRange("x", 0, 1)])
    assert unbounded.cardinality == math.inf


# -- clear errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("design", "message"),
    [
        ({"rows": 16, "dataflow": "ws", "clock": 200, "vdd": 0.9, "cols": 4}, "unknown parameter.*cols"),
        ({"rows": 16, "dataflow": "ws", "clock": 200}, "missing parameter.*vdd"),
        ({"rows": 12, "dataflow": "ws", "clock": 200, "vdd": 0.9}, "'rows': 12 is not allowed; expected a power"),
        ({"rows": 16, "dataflow": "xs", "clock": 200, "vdd": 0.9}, "'dataflow': 'xs'.*'os', 'ws', 'is'"),
        ({"rows": 16, "dataflow": "ws", "clock": 300, "vdd": 0.9}, "'clock': 300.*steps of 200"),
        ({"rows": 16, "dataflow": "ws", "clock": 200, "vdd": 1.3}, "'vdd': 1.3.*0.6, 1.2"),
        ({"rows": True, "dataflow": "ws", "clock": 200, "vdd": 0.9}, "'rows': True"),
        ({"rows": "16", "dataflow": "ws", "clock": 200, "vdd": 0.9}, "'rows': '16'"),
    ],
)
def test_validate_names_the_bad_field(design, message):
    with pytest.raises(ValueError, match=message):
        small_space().validate(design)


def test_validate_canonicalises_numpy_and_float_integers():
    space = small_space()
    d = space.validate({"rows": np.int64(16), "dataflow": np.str_("ws"), "clock": 400.0, "vdd": np.float32(1.0)})
    assert d == {"rows": 16, "dataflow": "ws", "clock": 400, "vdd": 1.0}
    assert type(d["rows"]) is int and type(d["clock"]) is int and type(d["dataflow"]) is str


def test_index_and_unit_errors():
    space = small_space()
    with pytest.raises(ValueError, match="index 5 for parameter 'rows' is outside 0..4"):
        space.decode_indices([5, 0, 0, 0])
    with pytest.raises(ValueError, match="must have 4 entries"):
        space.decode_indices([0, 0])
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        space.decode_unit([0.5, 0.5, 1.5, 0.5])
    with pytest.raises(ValueError, match="continuous: give it levels"):
        DesignSpace([FloatRange("x", 0, 1)]).nvec  # noqa: B018


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: IntRange("a", 3, 40, power_of_two=True), "low=3 is not a power of two"),
        (lambda: IntRange("a", 10, 1), "high \\(1\\) is below low"),
        (lambda: IntRange("a", 0, 10, step=3), "not a multiple of step"),
        (lambda: Choice("a", []), "at least one value"),
        (lambda: Choice("a", [1, 1]), "distinct"),
        (lambda: FloatRange("a", 0, 1, log=True), "log range needs low > 0"),
        (lambda: FloatRange("a", 1, 1), "low < high"),
        (lambda: Choice("bad name", [1]), "identifier"),
        (lambda: DesignSpace([Choice("a", [1]), Choice("a", [2])]), "repeated: \\['a'\\]"),
    ],
)
def test_bad_parameter_definitions(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_parse_text_values():
    space = small_space()
    assert space.parse({"rows": "32", "dataflow": "WS", "clock": "400", "vdd": "0.7"}) == {
        "rows": 32, "dataflow": "ws", "clock": 400, "vdd": 0.7}
    with pytest.raises(ValueError, match="'rows': 33 is not allowed"):
        space.parse({"rows": "33"})
    with pytest.raises(ValueError, match="unknown parameter 'depth'"):
        space.parse({"depth": "3"})


def test_parameter_from_dict_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        Parameter.from_dict({"kind": "bogus", "name": "a"})


# -- metrics, evaluations, the simulator base -------------------------------------------------------------


class Parabola(Simulator):
    """A tiny user simulator: cost = (x - 3)^2 + y, infeasible when x == 0."""

    metrics = (Metric("cost", "J"), Metric("gain", "fraction", Direction.MAXIMIZE))

    def __init__(self):
        self.space = DesignSpace([IntRange("x", 0, 6), Choice("y", [0.5, 1.0, 2.0], ordered=True)])
        self.workload = "toy"

    def _evaluate(self, design):
        if design["x"] == 0:
            return Evaluation({"cost": math.nan, "gain": math.nan}, feasible=False, reason="x must be > 0")
        return Evaluation({"cost": (design["x"] - 3) ** 2 + design["y"], "gain": 1 / design["x"]})


def test_simulator_base_validates_and_batches():
    sim = Parabola()
    assert sim.evaluate({"x": 3, "y": 0.5}).metrics == {"cost": 0.5, "gain": 1 / 3}
    with pytest.raises(ValueError, match="'x': 9"):
        sim.evaluate({"x": 9, "y": 0.5})
    designs = [{"x": x, "y": 1.0} for x in range(7)]
    batch = sim.evaluate_batch(designs)
    assert isinstance(batch, BatchEvaluation) and len(batch) == 7
    assert list(batch.feasible) == [False] + [True] * 6
    assert batch.reasons[0] == "x must be > 0"
    assert batch[4] == sim.evaluate(designs[4])
    same = sim.evaluate_batch(sim.space.encode_indices_batch(designs))
    assert np.array_equal(same.metrics["cost"], batch.metrics["cost"], equal_nan=True)
    assert sim.metric("gain").sign == 1.0 and sim.metric("cost").sign == -1.0
    with pytest.raises(ValueError, match="unknown metric 'speed'"):
        sim.metric("speed")
    assert sim.default_design() == {"x": 3, "y": 1.0}
