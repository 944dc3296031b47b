"""The simulator contract: parameters, design spaces, metrics, evaluations and the Simulator base.

Everything a search agent or the gym needs to know about a design problem lives here, in plain
numpy. A *design* is a ``dict`` mapping parameter names to values. A ``DesignSpace`` converts designs
to and from two encodings that every agent and environment share:

- an **index vector** (one integer per parameter: the position of the value in the parameter's
  ordered ``values``), which is what a ``MultiDiscrete`` action carries;
- a **unit vector** in ``[0, 1]^d``. A discrete parameter with ``n`` values owns ``n`` equal bins of
  ``[0, 1]`` and encodes to the centre of its bin, so decoding ``floor(u * n)`` (clamped to ``n - 1``)
  reaches every value and round-trips exactly.

Bad input at this boundary raises ``ValueError`` naming the parameter and what it allows; nothing
is clipped or guessed.
"""

from __future__ import annotations

import enum
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
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
]

_MAX_LISTED = 12  # how many allowed values an error message spells out before abbreviating


def _describe_values(values: Sequence[Any]) -> str:
    if len(values) <= _MAX_LISTED:
        return ", ".join(repr(v) for v in values)
    head = ", ".join(repr(v) for v in values[:5])
    tail = ", ".join(repr(v) for v in values[-2:])
    return f"{head}, ..., {tail} ({len(values)} values)"


def _is_integral(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()


# --------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------


class Parameter(ABC):
    """One named knob of a design. Discrete parameters expose their ordered ``values``."""

    name: str
    description: str
    unit: str

    def __init__(self, name: str, description: str = "", unit: str = "") -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"parameter name must be an identifier-like string, got {name!r}")
        self.name = name
        self.description = description
        self.unit = unit

    # -- domain ---------------------------------------------------------------------------------
    @property
    @abstractmethod
    def discrete(self) -> bool:
        """True when the domain is a finite list of values."""

    @property
    @abstractmethod
    def cardinality(self) -> int:
        """Number of values the index encoding distinguishes (``levels`` for a float range)."""

    @property
    def ordered(self) -> bool:
        """True when neighbouring indices are neighbouring values (numeric ranges)."""
        return True

    @abstractmethod
    def validate(self, value: Any) -> Any:
        """Return the canonical value for ``value`` or raise ``ValueError`` naming the parameter."""

    @abstractmethod
    def domain_text(self) -> str:
        """A short human description of the allowed values (used in errors and tables)."""

    # -- encodings ------------------------------------------------------------------------------
    @abstractmethod
    def index_of(self, value: Any) -> int:
        """Position of a (valid) value in the index encoding."""

    @abstractmethod
    def value_at(self, index: int) -> Any:
        """Value at a position of the index encoding."""

    @abstractmethod
    def to_unit(self, value: Any) -> float:
        """Encode a valid value into ``[0, 1]``."""

    @abstractmethod
    def from_unit(self, u: float) -> Any:
        """Decode a number in ``[0, 1]`` into a value."""

    def values_at(self, indices: np.ndarray) -> np.ndarray:
        """Vectorised ``value_at`` (numeric array where the values are numeric)."""
        table = np.asarray([self.value_at(i) for i in range(self.cardinality)])
        return table[indices]

    # -- search helpers -------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Any:
        return self.value_at(int(rng.integers(self.cardinality)))

    def neighbors(self, value: Any) -> list[Any]:
        """Values one step away: adjacent ones when ordered, every other one when not."""
        i = self.index_of(self.validate(value))
        if self.ordered:
            return [self.value_at(j) for j in (i - 1, i + 1) if 0 <= j < self.cardinality]
        return [self.value_at(j) for j in range(self.cardinality) if j != i]

    def parse(self, text: str) -> Any:
        """The value a piece of text (a command-line ``KEY=VALUE``) names, validated."""
        if self.discrete:
            for v in self.values:  # type: ignore[attr-defined]
                if str(v) == text or (isinstance(v, str) and v.lower() == text.lower()):
                    return v
            try:
                number = float(text)
            except ValueError:
                raise self._reject(text) from None
            return self.validate(int(number) if number.is_integer() else number)
        try:
            return self.validate(float(text))
        except ValueError:
            raise self._reject(text) from None

    def _reject(self, value: Any) -> ValueError:
        return ValueError(f"parameter {self.name!r}: {value!r} is not allowed; expected {self.domain_text()}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description that ``Parameter.from_dict`` rebuilds exactly."""
        raise NotImplementedError

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Parameter:
        kinds = {"choice": Choice, "int": IntRange, "float": FloatRange}
        kind = data.get("kind")
        if kind not in kinds:
            raise ValueError(f"parameter kind must be one of {sorted(kinds)}, got {kind!r}")
        args = {k: v for k, v in data.items() if k != "kind"}
        return kinds[kind](**args)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parameter) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.domain_text()})"


class _DiscreteParameter(Parameter):
    """Shared machinery for parameters with an explicit, finite ``values`` tuple."""

    values: tuple[Any, ...]

    def __init__(self, name: str, values: Sequence[Any], description: str = "", unit: str = "") -> None:
        super().__init__(name, description, unit)
        values = tuple(values)
        if not values:
            raise ValueError(f"parameter {name!r}: needs at least one value")
        self.values = values
        try:
            self._index = {v: i for i, v in enumerate(values)}
        except TypeError as exc:
            raise ValueError(f"parameter {name!r}: values must be hashable ({exc})") from None
        if len(self._index) != len(values):
            raise ValueError(f"parameter {name!r}: values must be distinct, got {values!r}")
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)
        self._table = np.asarray(values) if numeric else np.asarray(values, dtype=object)

    @property
    def discrete(self) -> bool:
        return True

    @property
    def cardinality(self) -> int:
        return len(self.values)

    def validate(self, value: Any) -> Any:
        if isinstance(value, np.generic):
            value = value.item()
        try:
            i = self._index.get(value)
        except TypeError:
            i = None
        # bool is an int in Python: never let True stand for 1 (or 1 for True) silently.
        if i is None or isinstance(value, bool) != isinstance(self.values[i], bool):
            raise self._reject(value)
        return self.values[i]

    def domain_text(self) -> str:
        return "one of " + _describe_values(self.values)

    def index_of(self, value: Any) -> int:
        return self._index[self.validate(value)]

    def value_at(self, index: int) -> Any:
        if not 0 <= index < len(self.values):
            raise ValueError(f"parameter {self.name!r}: index {index} outside 0..{len(self.values) - 1}")
        return self.values[index]

    def values_at(self, indices: np.ndarray) -> np.ndarray:
        return self._table[indices]

    def to_unit(self, value: Any) -> float:
        return (self.index_of(value) + 0.5) / len(self.values)

    def from_unit(self, u: float) -> Any:
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"parameter {self.name!r}: unit value {u!r} outside [0, 1]")
        return self.values[min(len(self.values) - 1, int(math.floor(u * len(self.values))))]


class Choice(_DiscreteParameter):
    """A finite set of values (strings, numbers, booleans). Unordered unless ``ordered=True``."""

    def __init__(
        self, name: str, values: Sequence[Any], *, ordered: bool = False, description: str = "", unit: str = ""
    ) -> None:
        super().__init__(name, values, description, unit)
        self._ordered = bool(ordered)

    @property
    def ordered(self) -> bool:
        return self._ordered

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "choice", "name": self.name, "values": list(self.values), "ordered": self._ordered,
                "description": self.description, "unit": self.unit}


class IntRange(_DiscreteParameter):
    """Integers ``low..high`` (inclusive) with a ``step``, or the powers of two between them."""

    def __init__(
        self, name: str, low: int, high: int, *, step: int = 1, power_of_two: bool = False,
        description: str = "", unit: str = "",
    ) -> None:
        for label, v in (("low", low), ("high", high), ("step", step)):
            if not _is_integral(v):
                raise ValueError(f"parameter {name!r}: {label} must be an integer, got {v!r}")
        low, high, step = int(low), int(high), int(step)
        if high < low:
            raise ValueError(f"parameter {name!r}: high ({high}) is below low ({low})")
        if step < 1:
            raise ValueError(f"parameter {name!r}: step must be >= 1, got {step}")
        if power_of_two:
            if step != 1:
                raise ValueError(f"parameter {name!r}: power_of_two ranges take no step")
            for label, v in (("low", low), ("high", high)):
                if v < 1 or v & (v - 1):
                    raise ValueError(f"parameter {name!r}: {label}={v} is not a power of two")
            values = [1 << e for e in range(low.bit_length() - 1, high.bit_length())]
        else:
            if (high - low) % step:
                raise ValueError(f"parameter {name!r}: high-low ({high - low}) is not a multiple of step {step}")
            values = list(range(low, high + 1, step))
        self.low, self.high, self.step, self.power_of_two = low, high, step, bool(power_of_two)
        super().__init__(name, values, description, unit)

    def validate(self, value: Any) -> Any:
        if _is_integral(value):
            value = int(value)
        return super().validate(value)

    def domain_text(self) -> str:
        if self.power_of_two:
            return f"a power of two in [{self.low}, {self.high}]"
        if self.step == 1:
            return f"an integer in [{self.low}, {self.high}]"
        return f"an integer in [{self.low}, {self.high}] in steps of {self.step}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "int", "name": self.name, "low": self.low, "high": self.high, "step": self.step,
                "power_of_two": self.power_of_two, "description": self.description, "unit": self.unit}


class FloatRange(Parameter):
    """A continuous interval ``[low, high]``, optionally log-scaled.

    The unit encoding is exact (linear, or linear in ``log`` when ``log=True``). Index encodings
    (``MultiDiscrete`` actions) need a grid: pass ``levels=n`` for ``n`` evenly spaced points
    (in log space when ``log=True``); without ``levels`` the index encoding raises a clear error.
    """

    def __init__(
        self, name: str, low: float, high: float, *, log: bool = False, levels: int | None = None,
        description: str = "", unit: str = "",
    ) -> None:
        super().__init__(name, description, unit)
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
            raise ValueError(f"parameter {name!r}: need finite low < high, got [{low}, {high}]")
        if log and low <= 0:
            raise ValueError(f"parameter {name!r}: a log range needs low > 0, got {low}")
        if levels is not None and (not _is_integral(levels) or int(levels) < 2):
            raise ValueError(f"parameter {name!r}: levels must be an integer >= 2, got {levels!r}")
        self.low, self.high, self.log = low, high, bool(log)
        self.levels = None if levels is None else int(levels)

    @property
    def discrete(self) -> bool:
        return False

    @property
    def cardinality(self) -> int:
        if self.levels is None:
            raise ValueError(
                f"parameter {self.name!r} is continuous: give it levels=N for index (MultiDiscrete) "
                "encodings, or use the unit (Box) encoding"
            )
        return self.levels

    def validate(self, value: Any) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise self._reject(value)
        value = float(value)
        if not (self.low <= value <= self.high):
            raise self._reject(value)
        return value

    def domain_text(self) -> str:
        scale = "log-scaled " if self.log else ""
        return f"a {scale}number in [{self.low:g}, {self.high:g}]"

    def to_unit(self, value: Any) -> float:
        value = self.validate(value)
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"parameter {self.name!r}: unit value {u!r} outside [0, 1]")
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        return min(self.high, max(self.low, v))  # guard the last ulp of float rounding only

    def index_of(self, value: Any) -> int:
        n = self.cardinality
        return min(n - 1, int(round(self.to_unit(value) * (n - 1))))

    def value_at(self, index: int) -> float:
        n = self.cardinality
        if not 0 <= index < n:
            raise ValueError(f"parameter {self.name!r}: index {index} outside 0..{n - 1}")
        return self.from_unit(index / (n - 1))

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_unit(float(rng.random()))

    def neighbors(self, value: Any) -> list[float]:
        if self.levels is None:  # a relative step of 1/16 of the range
            u = self.to_unit(value)
            return [self.from_unit(x) for x in (u - 1 / 16, u + 1 / 16) if 0.0 <= x <= 1.0]
        return super().neighbors(value)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "float", "name": self.name, "low": self.low, "high": self.high, "log": self.log,
                "levels": self.levels, "description": self.description, "unit": self.unit}


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
        """``n`` uniformly random index vectors, shape ``(n, d)`` (discrete spaces)."""
        return rng.integers(0, self.nvec, size=(n, len(self)), dtype=np.int64)

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

    An infeasible design (one the hardware cannot realise) has ``feasible=False`` and a ``reason``;
    metrics it cannot have are NaN or left out (a ``BatchEvaluation`` holds NaN for them).
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
        if len(self.reasons) != n or any(len(v) != n for v in self.metrics.values()):
            raise ValueError("BatchEvaluation columns must all have one entry per design")

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


# --------------------------------------------------------------------------------------------------
# Simulator base
# --------------------------------------------------------------------------------------------------


class Simulator(ABC):
    """A deterministic cost model: ``evaluate(design) -> Evaluation`` over a fixed ``space``.

    Subclasses set ``space``, ``metrics`` and ``workload`` in ``__init__`` and implement
    ``_evaluate(design)`` for one validated design. A model that vectorises overrides
    ``_evaluate_batch(indices)``, which receives a validated ``(n, d)`` index matrix
    (``self.space.columns(indices)`` turns it into per-parameter value arrays).
    """

    space: DesignSpace
    metrics: tuple[Metric, ...]
    workload: str = ""

    # -- the public calls -----------------------------------------------------------------------------
    def evaluate(self, design: Mapping[str, Any]) -> Evaluation:
        """Validate ``design`` and return what it costs."""
        return self._evaluate(self.space.validate(design))

    def evaluate_batch(self, designs: Sequence[Mapping[str, Any]] | np.ndarray) -> BatchEvaluation:
        """Evaluate many designs: a sequence of design dicts, or an ``(n, d)`` index matrix."""
        if isinstance(designs, np.ndarray):
            indices = self.space._check_indices(designs)
        else:
            indices = self.space.encode_indices_batch(designs)
        return self._evaluate_batch(indices)

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

    def describe(self) -> dict[str, Any]:
        """Everything a table or manifest needs: space, metrics, workload."""
        return {"simulator": type(self).__name__, "workload": self.workload, "space": self.space.to_dict(),
                "metrics": [m.to_dict() for m in self.metrics]}

    # -- hooks -------------------------------------------------------------------------------------
    @abstractmethod
    def _evaluate(self, design: dict[str, Any]) -> Evaluation:
        """Cost of one validated design."""

    def _evaluate_batch(self, indices: np.ndarray) -> BatchEvaluation:
        designs = self.space.decode_indices_batch(indices)
        return BatchEvaluation.from_evaluations([self._evaluate(d) for d in designs], self.metric_names)
