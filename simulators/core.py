"""The simulator contract: design spaces, metrics, evaluations and the Simulator base.

Everything a search agent or the gym needs to know about a design problem lives here, in plain
numpy. A *design* is a ``dict`` mapping parameter names to values (the parameter types, and the
checks of plain settings built on them, are in ``simulators.params`` and re-exported here). A
``DesignSpace`` converts designs to and from two encodings that every agent and environment share:

- an **index vector** (one integer per parameter: the position of the value in the parameter's
  ordered ``values``), which is what a ``MultiDiscrete`` action carries;
- a **unit vector** in ``[0, 1]^d``. A discrete parameter with ``n`` values owns ``n`` equal bins of
  ``[0, 1]`` and encodes to the centre of its bin, so decoding ``floor(u * n)`` (clamped to ``n - 1``)
  reaches every value and round-trips exactly.

It also samples designs (uniformly, or as a Latin hypercube) and says how two spaces differ.

A ``Simulator`` declares its ``space`` and ``metrics``; ``evaluate``/``evaluate_batch`` enforce the
contract on what the model returns (exactly the declared metrics, as floats; NaN or a left-out
metric only for an infeasible design), so a broken model fails where it breaks, naming itself.

Bad input at this boundary raises ``ValueError`` naming the parameter and what it allows; nothing
is clipped or guessed.
"""

from __future__ import annotations

import enum
import inspect
import math
from abc import ABCMeta, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulators.params import Choice, FloatRange, IntRange, Parameter, check_int, is_number

__all__ = [
    "SAMPLING_METHODS",
    "AdditiveStructure",
    "BatchEvaluation",
    "Choice",
    "DesignSpace",
    "Direction",
    "Evaluation",
    "FloatRange",
    "IntRange",
    "Metric",
    "Parameter",
    "Simulator",
    "metrics_difference",
    "space_difference",
]

#: How ``DesignSpace.sample_batch`` draws designs: uniformly at random, or as a Latin hypercube.
SAMPLING_METHODS = ("random", "lhs")

# --------------------------------------------------------------------------------------------------
# Design space
# --------------------------------------------------------------------------------------------------


class DesignSpace:
    """An ordered collection of uniquely named parameters, with sampling and encodings."""

    def __init__(self, parameters: Iterable[Parameter]) -> None:
        self.parameters: tuple[Parameter, ...] = tuple(parameters)
        if not self.parameters:
            raise ValueError("a design space needs at least one parameter")
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise ValueError(f"design space entries must be Parameter objects, got {p!r}")
            if not p.bounded:
                raise ValueError(f"parameter {p.name!r} is {p.domain_text()}: a design knob needs a bounded "
                                 "domain (give low and high)")
        self.names: tuple[str, ...] = tuple(p.name for p in self.parameters)
        if len(set(self.names)) != len(self.names):
            dupes = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"parameter names must be unique; repeated: {dupes}")
        self._by_name = {p.name: p for p in self.parameters}

    # -- container protocol -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueError(f"unknown parameter {name!r}; parameters are {list(self.names)}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DesignSpace) and self.parameters == other.parameters

    def __hash__(self) -> int:
        return hash(self.names)

    def __repr__(self) -> str:
        return f"DesignSpace({', '.join(map(repr, self.parameters))})"

    # -- size -------------------------------------------------------------------------------------
    @property
    def discrete(self) -> bool:
        """True when every parameter is discrete (the space is finite)."""
        return all(p.discrete for p in self.parameters)

    @property
    def indexable(self) -> bool:
        """True when every parameter has an index encoding (discrete, or a float range with ``levels``):
        the space is a finite grid that ``MultiDiscrete`` actions, genomes and enumeration can cover."""
        return all(p.indexable for p in self.parameters)

    @property
    def cardinality(self) -> int | float:
        """Number of distinct designs (``math.inf`` when a parameter is continuous)."""
        if not self.discrete:
            return math.inf
        return math.prod(p.cardinality for p in self.parameters)

    size = cardinality

    @property
    def grid_size(self) -> int:
        """Number of index vectors (equals ``cardinality`` when the space is discrete)."""
        return math.prod(int(n) for n in self.nvec)

    @property
    def nvec(self) -> np.ndarray:
        """Per-parameter index counts (the ``MultiDiscrete`` shape)."""
        return np.array([p.cardinality for p in self.parameters], dtype=np.int64)

    # -- validation ---------------------------------------------------------------------------------
    def validate(self, design: Mapping[str, Any]) -> dict[str, Any]:
        """Return the canonical, ordered copy of ``design`` or raise ``ValueError`` naming the problem."""
        if not isinstance(design, Mapping):
            raise ValueError(f"a design is a mapping of parameter name to value, got {type(design).__name__}")
        unknown = [k for k in design if k not in self._by_name]
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; parameters are {list(self.names)}")
        missing = [n for n in self.names if n not in design]
        if missing:
            raise ValueError(f"design is missing parameter(s) {missing}")
        return {p.name: p.validate(design[p.name]) for p in self.parameters}

    def partial(self, overrides: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
        """``base`` with some parameters replaced, validated."""
        merged = dict(base)
        for k, v in overrides.items():
            self[k]  # noqa: B018 - raises a clear error for unknown names
            merged[k] = v
        return self.validate(merged)

    def parse(self, assignments: Mapping[str, str]) -> dict[str, Any]:
        """Values for ``{name: text}`` pairs (e.g. from ``--design rows=32``), each validated."""
        return {name: self[name].parse(text) for name, text in assignments.items()}

    # -- sampling and local moves ---------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        """One uniformly random design, or a list of ``n`` of them."""
        if not isinstance(rng, np.random.Generator):
            raise ValueError("sample() needs a numpy.random.Generator, e.g. numpy.random.default_rng(seed)")
        if n is None:
            return {p.name: p.sample(rng) for p in self.parameters}
        if n < 0:
            raise ValueError(f"sample count must be >= 0, got {n}")
        if self.discrete:
            return self.decode_indices_batch(self.sample_indices(rng, n))
        return [{p.name: p.sample(rng) for p in self.parameters} for _ in range(n)]

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` uniformly random index vectors, shape ``(n, d)`` (indexable spaces)."""
        return rng.integers(0, self.nvec, size=(n, len(self)), dtype=np.int64)

    def sample_batch(self, rng: np.random.Generator, n: int, method: str = "random",
                     ) -> np.ndarray | list[dict[str, Any]]:
        """``n`` designs: an ``(n, d)`` index matrix when the space is indexable, else design dicts.

        ``random`` draws each parameter uniformly. ``lhs`` is a Latin hypercube over the unit encoding:
        each axis of ``[0, 1]^d`` is cut into ``n`` strata, each stratum is sampled once, and the axes
        are paired by independent permutations, so every parameter's values appear in proportion to
        their share of the unit interval (within two designs) whatever ``n``.
        """
        if method not in SAMPLING_METHODS:
            raise ValueError(f"unknown sampling method {method!r}; choose one of {list(SAMPLING_METHODS)}")
        n = check_int(n, "sample count", low=0)
        if method == "random":
            return self.sample_indices(rng, n) if self.indexable else self.sample(rng, n)
        unit = (np.stack([rng.permutation(n) for _ in range(len(self))], axis=1) + rng.random((n, len(self)))) / n
        if self.indexable:
            nvec = self.nvec
            return np.minimum(np.floor(unit * nvec).astype(np.int64), nvec - 1)
        return [self.decode_unit(u) for u in unit]

    def neighbors(self, design: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Designs that differ from ``design`` in exactly one parameter by one step."""
        design = self.validate(design)
        out = []
        for p in self.parameters:
            for v in p.neighbors(design[p.name]):
                nb = dict(design)
                nb[p.name] = v
                out.append(nb)
        return out

    # -- index encoding -----------------------------------------------------------------------------
    def encode_indices(self, design: Mapping[str, Any]) -> np.ndarray:
        design = self.validate(design)
        return np.array([p.index_of(design[p.name]) for p in self.parameters], dtype=np.int64)

    def decode_indices(self, indices: Sequence[int] | np.ndarray) -> dict[str, Any]:
        idx = self._check_indices(np.asarray(indices)[None, :] if np.ndim(indices) == 1 else np.asarray(indices))
        if idx.shape[0] != 1:
            raise ValueError(f"decode_indices takes one index vector, got shape {idx.shape}")
        return {p.name: p.value_at(int(i)) for p, i in zip(self.parameters, idx[0])}

    def encode_indices_batch(self, designs: Iterable[Mapping[str, Any]]) -> np.ndarray:
        rows = [self.encode_indices(d) for d in designs]
        return np.array(rows, dtype=np.int64).reshape(len(rows), len(self))

    def decode_indices_batch(self, indices: np.ndarray) -> list[dict[str, Any]]:
        idx = self._check_indices(np.asarray(indices))
        cols = [p.values_at(idx[:, j]).tolist() for j, p in enumerate(self.parameters)]
        return [dict(zip(self.names, row)) for row in zip(*cols)]

    def encode_columns(self, columns: Mapping[str, Any]) -> np.ndarray:
        """The ``(n, d)`` index matrix of designs given as per-parameter value columns (arrays or
        lists), vectorised; ``ValueError`` naming the parameter of the first value outside its domain."""
        missing = [n for n in self.names if n not in columns]
        if missing:
            raise ValueError(f"columns are missing parameter(s) {missing}")
        cols = [p.indices_of(columns[p.name]) for p in self.parameters]
        lengths = sorted({len(c) for c in cols})
        if len(lengths) > 1:
            raise ValueError(f"parameter columns have different lengths {lengths}")
        return np.stack(cols, axis=1) if cols[0].size else np.empty((0, len(self)), dtype=np.int64)

    def columns(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Per-parameter value arrays for an ``(n, d)`` index matrix: the input of vectorised models."""
        idx = self._check_indices(np.asarray(indices))
        return {p.name: p.values_at(idx[:, j]) for j, p in enumerate(self.parameters)}

    def _check_indices(self, idx: np.ndarray) -> np.ndarray:
        if idx.ndim != 2 or idx.shape[1] != len(self):
            raise ValueError(f"index vectors must have {len(self)} entries ({list(self.names)}), got shape {idx.shape}")
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            if not np.all(np.equal(np.mod(idx, 1), 0)):
                raise ValueError("index vectors must hold integers")
            idx = idx.astype(np.int64)
        nvec = self.nvec
        bad = (idx < 0) | (idx >= nvec)
        if bad.any():
            row, col = map(int, np.argwhere(bad)[0])
            raise ValueError(
                f"index {int(idx[row, col])} for parameter {self.names[col]!r} is outside 0..{int(nvec[col]) - 1}"
            )
        return idx.astype(np.int64, copy=False)

    # -- ordinals: every design of a finite space has a number 0..cardinality-1 -----------------------
    def indices_from_ordinals(self, ordinals: np.ndarray) -> np.ndarray:
        """Mixed-radix decoding (last parameter fastest): the way to enumerate a finite space in chunks."""
        ordinals = np.asarray(ordinals, dtype=np.int64)
        card = self.grid_size
        if ordinals.size and (ordinals.min() < 0 or ordinals.max() >= card):
            raise ValueError(f"ordinals must lie in 0..{card - 1}")
        out = np.empty((ordinals.size, len(self)), dtype=np.int64)
        rest = ordinals.copy()
        for j in range(len(self) - 1, -1, -1):
            n = int(self.nvec[j])
            out[:, j] = rest % n
            rest //= n
        return out

    def ordinals_from_indices(self, indices: np.ndarray) -> np.ndarray:
        idx = self._check_indices(np.asarray(indices))
        out = np.zeros(idx.shape[0], dtype=np.int64)
        for j in range(len(self)):
            out = out * int(self.nvec[j]) + idx[:, j]
        return out

    # -- unit encoding ---------------------------------------------------------------------------------
    def encode_unit(self, design: Mapping[str, Any]) -> np.ndarray:
        design = self.validate(design)
        return np.array([p.to_unit(design[p.name]) for p in self.parameters], dtype=np.float64)

    def decode_unit(self, u: Sequence[float] | np.ndarray) -> dict[str, Any]:
        u = np.asarray(u, dtype=np.float64)
        if u.shape != (len(self),):
            raise ValueError(f"unit vectors must have shape ({len(self)},), got {u.shape}")
        return {p.name: p.from_unit(float(x)) for p, x in zip(self.parameters, u)}

    # -- description -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"parameters": [p.to_dict() for p in self.parameters]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DesignSpace:
        return cls(Parameter.from_dict(p) for p in data["parameters"])

    def describe(self) -> list[dict[str, str]]:
        """One row per parameter: name, unit, domain, count, description (for tables and docs)."""
        rows = []
        for p in self.parameters:
            count = str(p.cardinality) if p.discrete else "continuous"
            rows.append({"name": p.name, "unit": p.unit, "domain": p.domain_text(), "count": count,
                         "description": p.description})
        return rows


def _essential_space(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A space description without the free-text fields that do not change the designs."""
    return [{k: v for k, v in p.items() if k != "description"} for p in space["parameters"]]


def space_difference(have: Mapping[str, Any], want: Mapping[str, Any]) -> str | None:
    """How two ``DesignSpace.to_dict()`` descriptions differ (``None`` when they are the same space)."""
    a, b = _essential_space(have), _essential_space(want)
    if a == b:
        return None
    names_a, names_b = [p["name"] for p in a], [p["name"] for p in b]
    if names_a != names_b:
        return f"parameters {names_a} vs {names_b}"
    for pa, pb in zip(a, b):
        if pa != pb:
            return f"parameter {pa['name']!r} is {_domain(pa)} vs {_domain(pb)}"
    return "the spaces differ"  # pragma: no cover - the loop above finds the parameter


def _domain(p: Mapping[str, Any]) -> str:
    return Parameter.from_dict(p).domain_text()


def metrics_difference(have: Sequence[Mapping[str, Any]], want: Sequence[Mapping[str, Any]]) -> str | None:
    """How two lists of ``Metric.to_dict()`` differ in name, unit or direction (``None`` when they agree)."""
    def essential(metrics: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{k: m.get(k) for k in ("name", "unit", "direction")} for m in metrics]

    a, b = essential(have), essential(want)
    if a == b:
        return None
    return "metrics " + ", ".join(f"{m['name']} [{m['unit']}, {m['direction']}]" for m in a) + " vs " + \
        ", ".join(f"{m['name']} [{m['unit']}, {m['direction']}]" for m in b)


# --------------------------------------------------------------------------------------------------
# Metrics and evaluations
# --------------------------------------------------------------------------------------------------


class Direction(str, enum.Enum):
    """Which way a metric improves."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


@dataclass(frozen=True)
class Metric:
    """A named, united quantity a simulator reports, and which way is better."""

    name: str
    unit: str
    direction: Direction = Direction.MINIMIZE
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))

    @property
    def sign(self) -> float:
        """+1 when larger is better, -1 when smaller is better."""
        return 1.0 if self.direction is Direction.MAXIMIZE else -1.0

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "unit": self.unit, "direction": self.direction.value,
                "description": self.description}


@dataclass(frozen=True)
class Evaluation:
    """What one design costs. ``metrics`` are floats in the units of the simulator's ``Metric``\\s.

    A feasible design has every metric the simulator declares, each a finite float. An infeasible
    design (one the hardware cannot realise) has ``feasible=False`` and a ``reason``; metrics it cannot
    have are NaN or left out (a ``BatchEvaluation`` holds NaN for them). ``Simulator.evaluate``
    enforces this.
    """

    metrics: dict[str, float]
    feasible: bool = True
    reason: str | None = None
    breakdown: dict[str, Any] | None = field(default=None, compare=False)


@dataclass
class BatchEvaluation:
    """Many evaluations as columns: ``metrics[name]`` is an array with one entry per design."""

    metrics: dict[str, np.ndarray]
    feasible: np.ndarray
    reasons: list[str | None]

    def __post_init__(self) -> None:
        n = len(self.feasible)
        lengths = {"feasible": n, "reasons": len(self.reasons)}
        lengths.update({f"metrics[{k!r}]": len(v) for k, v in self.metrics.items()})
        wrong = {k: v for k, v in lengths.items() if v != n}
        if wrong:
            shown = ", ".join(f"{k} has {v}" for k, v in wrong.items())
            raise ValueError(f"BatchEvaluation columns must all have one entry per design: feasible has {n}, "
                             f"but {shown}")

    def __len__(self) -> int:
        return len(self.feasible)

    def __getitem__(self, i: int) -> Evaluation:
        return Evaluation(
            metrics={k: float(v[i]) for k, v in self.metrics.items()},
            feasible=bool(self.feasible[i]),
            reason=self.reasons[i],
        )

    def __iter__(self) -> Iterator[Evaluation]:
        return (self[i] for i in range(len(self)))

    @classmethod
    def from_evaluations(cls, evaluations: Sequence[Evaluation], metric_names: Sequence[str]) -> BatchEvaluation:
        return cls(
            metrics={m: np.array([e.metrics.get(m, math.nan) for e in evaluations], dtype=np.float64)
                     for m in metric_names},
            feasible=np.array([e.feasible for e in evaluations], dtype=bool),
            reasons=[e.reason for e in evaluations],
        )


@dataclass(frozen=True)
class AdditiveStructure:
    """Metrics that are monotone functions of sums over independent groups of knobs.

    ``groups[g]`` names the parameters of group ``g``; the groups are disjoint and every parameter not
    in a group has a single value. ``options[g]`` is an ``(k_g, len(groups[g]))`` index matrix of the
    group's choices and ``terms[g]`` a ``(k_g, len(term_names))`` array of each choice's additive
    contribution to every term. A metric's ``metric_terms`` are the terms it depends on: lowering any
    one of them (the others fixed) never makes the metric worse (lower for a minimised metric, higher
    for a maximised one). Exact Pareto fronts and optima then follow by dynamic programming over the
    groups (``archgym.frontier``) instead of enumeration.
    """

    groups: tuple[tuple[str, ...], ...]
    options: tuple[np.ndarray, ...]
    terms: tuple[np.ndarray, ...]
    term_names: tuple[str, ...]
    metric_terms: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        if not (len(self.groups) == len(self.options) == len(self.terms)):
            raise ValueError(f"AdditiveStructure: {len(self.groups)} groups, {len(self.options)} option tables and "
                             f"{len(self.terms)} term tables must match")
        for g, (names, options, terms) in enumerate(zip(self.groups, self.options, self.terms)):
            if np.ndim(options) != 2 or np.shape(options)[1] != len(names):
                raise ValueError(f"AdditiveStructure: group {g} options must be (k, {len(names)}), "
                                 f"got {np.shape(options)}")
            if np.shape(terms) != (len(options), len(self.term_names)):
                raise ValueError(f"AdditiveStructure: group {g} terms must be ({len(options)}, "
                                 f"{len(self.term_names)}), got {np.shape(terms)}")
        unknown = sorted({t for ts in self.metric_terms.values() for t in ts} - set(self.term_names))
        if unknown:
            raise ValueError(f"AdditiveStructure: metric_terms name unknown term(s) {unknown}")


# --------------------------------------------------------------------------------------------------
# Simulator base
# --------------------------------------------------------------------------------------------------


class _SimulatorType(ABCMeta):
    """Checks, once a simulator is built, that its ``__init__`` declared what the contract needs."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        sim = super().__call__(*args, **kwargs)
        sim._check_declaration()
        signature = inspect.signature(cls.__init__)
        bound = signature.bind(sim, *args, **kwargs)  # the constructor accepted these arguments a moment ago
        bound.apply_defaults()
        settings: dict[str, Any] = {}
        for name, value in list(bound.arguments.items())[1:]:  # without self
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                settings.update(value)
            elif kind is not inspect.Parameter.VAR_POSITIONAL:
                default = signature.parameters[name].default
                if type(default) is float and type(value) is int:  # 800 for a default of 800.0: one setting,
                    value = float(value)  # recorded alike (a record's JSON text then reads the same)
                settings[name] = value
        sim.__dict__.setdefault("_settings", settings)
        return sim


class Simulator(metaclass=_SimulatorType):
    """A deterministic cost model: ``evaluate(design) -> Evaluation`` over a fixed ``space``.

    Subclasses set ``space`` (a ``DesignSpace``), ``metrics`` (``Metric``\\s with distinct names) and
    ``workload`` (a name) in ``__init__`` or as class attributes, and implement ``_evaluate(design)``
    for one validated design. A model that vectorises overrides ``_evaluate_batch(indices)``, which
    receives a validated ``(n, d)`` index matrix (``self.space.columns(indices)`` turns it into
    per-parameter value arrays).

    The contract is checked where it can break: building a simulator that never set ``space`` or
    ``metrics`` is a ``ValueError`` saying so, and ``evaluate``/``evaluate_batch`` refuse a result that
    is not exactly the declared metrics as numbers (a feasible design's finite; an infeasible one's may
    be NaN or left out, and needs a ``reason``), naming the simulator and the metric.
    ``simulators.testing.check_simulator`` runs the whole contract on a simulator.
    """

    space: DesignSpace
    metrics: tuple[Metric, ...]
    workload: str = ""

    def _check_declaration(self) -> None:
        name = type(self).__name__
        space = getattr(self, "space", None)
        if not isinstance(space, DesignSpace):
            raise ValueError(f"simulator {name} must set self.space to a simulators.core.DesignSpace in __init__ "
                             f"(or as a class attribute), got {type(space).__name__ if space is not None else 'none'}")
        metrics = getattr(self, "metrics", None)
        if isinstance(metrics, Metric):
            metrics = (metrics,)
        if not isinstance(metrics, (tuple, list)) or not metrics or not all(isinstance(m, Metric) for m in metrics):
            raise ValueError(f"simulator {name} must set self.metrics to a non-empty tuple of simulators.core.Metric "
                             f"(got {metrics!r})")
        names = [m.name for m in metrics]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"simulator {name} declares metric(s) {repeated} more than once")
        if not isinstance(getattr(self, "workload", ""), str):
            raise ValueError(f"simulator {name}: workload must be a string naming the workload, got "
                             f"{self.workload!r}")
        self.metrics = tuple(metrics)
        self._declared = frozenset(names)

    # -- the public calls -----------------------------------------------------------------------------
    def evaluate(self, design: Mapping[str, Any]) -> Evaluation:
        """Validate ``design`` and return what it costs."""
        return self._checked(self._evaluate(self.space.validate(design)))

    def evaluate_batch(self, designs: Sequence[Mapping[str, Any]] | np.ndarray) -> BatchEvaluation:
        """Evaluate many designs: a sequence of design dicts, or an ``(n, d)`` index matrix."""
        if isinstance(designs, np.ndarray):
            indices = self.space._check_indices(designs)
        else:
            indices = self.space.encode_indices_batch(designs)
        return self._checked_batch(self._evaluate_batch(indices), len(indices))

    # -- the contract on results -----------------------------------------------------------------------
    def _declared_names(self) -> frozenset[str]:
        declared = self.__dict__.get("_declared")
        if declared is None:  # built without the metaclass (e.g. object.__new__): check now
            self._check_declaration()
            declared = self._declared
        return declared

    def _contract_error(self, what: str) -> ValueError:
        return ValueError(f"simulator {type(self).__name__}: {what}; it declares metrics {list(self.metric_names)}")

    def _checked(self, evaluation: Any) -> Evaluation:
        """``evaluation`` when it keeps the contract (metric values as plain floats), else ``ValueError``."""
        if not isinstance(evaluation, Evaluation):
            raise self._contract_error(f"_evaluate returned {type(evaluation).__name__}, not an Evaluation")
        declared = self._declared_names()
        metrics = evaluation.metrics
        keys = metrics.keys() if isinstance(metrics, Mapping) else None
        if keys is None:
            raise self._contract_error(f"Evaluation.metrics must be a dict, got {type(metrics).__name__}")
        if keys != declared:
            unknown = sorted(k for k in keys if k not in declared)
            if unknown:
                raise self._contract_error(f"_evaluate returned undeclared metric(s) {unknown}")
            if evaluation.feasible:
                raise self._contract_error(f"_evaluate left out metric(s) {sorted(declared - set(keys))} of a "
                                           "feasible design")
        if not isinstance(evaluation.feasible, (bool, np.bool_)):
            raise self._contract_error(f"Evaluation.feasible must be True or False, got {evaluation.feasible!r}")
        plain = True
        for k, v in metrics.items():
            if type(v) is not float:
                if not is_number(v):
                    raise self._contract_error(f"metric {k!r} is {v!r}, not a number")
                plain = False
            if evaluation.feasible and not math.isfinite(v):
                raise self._contract_error(f"metric {k!r} is {v!r} for a feasible design (NaN and infinity "
                                           "are allowed only when the design is infeasible)")
        if not evaluation.feasible and not (isinstance(evaluation.reason, str) and evaluation.reason):
            raise self._contract_error("an infeasible Evaluation needs a reason (a non-empty string)")
        if plain and type(evaluation.feasible) is bool:
            return evaluation
        return Evaluation({k: float(v) for k, v in metrics.items()}, bool(evaluation.feasible), evaluation.reason,
                          evaluation.breakdown)

    def _checked_batch(self, batch: Any, n: int) -> BatchEvaluation:
        """``batch`` when it keeps the contract for ``n`` designs (columns as float arrays), else ``ValueError``."""
        if not isinstance(batch, BatchEvaluation):
            raise self._contract_error(f"_evaluate_batch returned {type(batch).__name__}, not a BatchEvaluation")
        declared = self._declared_names()
        keys = set(batch.metrics)
        if keys != declared:
            unknown, missing = sorted(keys - declared), sorted(declared - keys)
            raise self._contract_error("_evaluate_batch returned " + "; ".join(
                part for part in (f"undeclared metric column(s) {unknown}" if unknown else "",
                                  f"no column for metric(s) {missing} (use NaN for infeasible designs)"
                                  if missing else "") if part))
        if len(batch) != n:
            raise self._contract_error(f"_evaluate_batch returned {len(batch)} rows for {n} designs")
        feasible = np.asarray(batch.feasible)
        if feasible.dtype != bool:
            raise self._contract_error(f"BatchEvaluation.feasible must be a bool array, got dtype {feasible.dtype}")
        columns = {}
        for k, v in batch.metrics.items():
            try:
                col = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise self._contract_error(f"metric column {k!r} does not hold numbers") from None
            if col.shape != (n,):
                raise self._contract_error(f"metric column {k!r} has shape {col.shape}, expected ({n},)")
            bad = feasible & ~np.isfinite(col)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise self._contract_error(f"metric {k!r} is {float(col[i])!r} for feasible design {i} (NaN and "
                                           "infinity are allowed only when the design is infeasible)")
            columns[k] = col
        no_reason = [i for i in np.flatnonzero(~feasible).tolist()
                     if not (isinstance(batch.reasons[i], str) and batch.reasons[i])]
        if no_reason:
            raise self._contract_error(f"infeasible design {no_reason[0]} of the batch has no reason")
        if all(columns[k] is batch.metrics[k] for k in columns) and feasible is batch.feasible:
            return batch
        return BatchEvaluation(metrics=columns, feasible=feasible, reasons=list(batch.reasons))

    @property
    def settings(self) -> dict[str, Any]:
        """The arguments this simulator was built with, every default filled in (what must match between
        two simulators for their numbers to mean the same; a proxy and a dataset record it)."""
        return dict(self.__dict__.get("_settings", {}))

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise ValueError(f"unknown metric {name!r}; metrics are {list(self.metric_names)}")

    def default_design(self) -> dict[str, Any]:
        """A representative design (the middle value of each parameter unless a subclass knows better)."""
        return {p.name: p.from_unit(0.5) for p in self.space}

    @classmethod
    def available_workloads(cls) -> tuple[str, ...]:
        """Names of the bundled workloads this simulator accepts (users may also pass their own)."""
        return ()

    def default_targets(self) -> dict[str, float]:
        """Target values (metric name -> value) that make a sensible default task; empty if none."""
        return {}

    def allowed_values(self, name: str, chosen: Mapping[str, Any]) -> np.ndarray:
        """Which values of knob ``name`` can still be part of a design this simulator can build, given
        the knobs already ``chosen`` (a partial design): one bool per index of the knob's encoding.

        A design-by-steps env asks this for its action mask. The default allows every value, right for a
        model that can evaluate every design; a model with structural rules (an SoC cannot map a task to
        an unallocated core) overrides it with its own validity logic, so the rules live in one place.
        """
        return np.ones(self.space[name].cardinality, dtype=bool)

    def canonical_indices(self, indices: np.ndarray) -> np.ndarray:
        """Optional hook: the representative of each design's class of exactly equivalent designs.

        ``indices`` is a validated ``(n, d)`` index matrix. Return a matrix of the same shape whose row
        ``i`` is the index vector of a design of the space that costs exactly what row ``i`` costs (the
        same metrics and feasibility), typically row ``i`` with the knobs that cannot act, given the
        others, set to one fixed value. Rows of one class must map to the same representative, and a
        representative to itself. Exhaustive search (``archgym optimum``) then simulates each class
        once and counts its members. The default declares no equivalences: every design is its own
        class.
        """
        return indices

    @property
    def declares_equivalences(self) -> bool:
        """Whether this simulator overrides ``canonical_indices`` (else every design is its own class)."""
        return type(self).canonical_indices is not Simulator.canonical_indices

    def describe(self) -> dict[str, Any]:
        """Everything a table or manifest needs: space, metrics, workload."""
        return {"simulator": type(self).__name__, "workload": self.workload, "space": self.space.to_dict(),
                "metrics": [m.to_dict() for m in self.metrics]}

    def additive_structure(self) -> AdditiveStructure | None:
        """Optional hook: the metrics as monotone functions of sums over groups of knobs (see
        ``AdditiveStructure``), so exact Pareto fronts and optima of spaces far too large to enumerate
        follow by dynamic programming. The default declares none."""
        return None

    # -- hooks -------------------------------------------------------------------------------------
    @abstractmethod
    def _evaluate(self, design: dict[str, Any]) -> Evaluation:
        """Cost of one validated design."""

    def _evaluate_batch(self, indices: np.ndarray) -> BatchEvaluation:
        designs = self.space.decode_indices_batch(indices)
        return BatchEvaluation.from_evaluations([self._evaluate(d) for d in designs], self.metric_names)
