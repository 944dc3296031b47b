"""The one language for allowed values: parameter domains, and the checks of plain settings built on them.

A design knob, an agent hyperparameter and a swept hyperparameter are all described by the same
domain types, so one validator decides what is allowed and one wording says so:

- ``Choice(name, values)``: a finite set of values (strings, numbers, booleans); unordered unless
  ``ordered=True``;
- ``IntRange(name, low, high)``: integers ``low..high`` in a ``step``, or the powers of two between
  them; ``high=None`` leaves the range open above (for settings, not design knobs);
- ``FloatRange(name, low, high)``: a real interval, optionally log-scaled; ``levels=n`` gives it an
  ``n``-point grid for index encodings; ``low``/``high`` may be ``None`` (open, for settings).

A rejected value raises ``ValueError("parameter 'rows': 12 is not allowed; expected a power of two
in [4, 64]")`` (``label`` says ``hyperparameter`` for an agent's settings). Plain function arguments
(a budget, a seed, a fraction) are checked by ``check_int``, ``check_number``, ``check_bool``,
``check_choice`` and ``check_str``, which phrase the same domain descriptions as ``"budget must be a
positive integer, got 0"``. Nothing is clipped or guessed.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "MAX_SEED",
    "Choice",
    "FloatRange",
    "IntRange",
    "Parameter",
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_str",
    "is_integer",
    "is_number",
]

#: the largest seed archgym takes: what an int64 column (a dataset's ``seed``) and numpy's generators hold
MAX_SEED = 2**63 - 1

_MAX_LISTED = 12  # how many allowed values an error message spells out before abbreviating


def _describe_values(values: Sequence[Any]) -> str:
    if len(values) <= _MAX_LISTED:
        return ", ".join(repr(v) for v in values)
    head = ", ".join(repr(v) for v in values[:5])
    tail = ", ".join(repr(v) for v in values[-2:])
    return f"{head}, ..., {tail} ({len(values)} values)"


def is_integer(value: Any) -> bool:
    """True for an integer (Python, numpy, or a float with an integral value); never for a bool."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()


def is_number(value: Any) -> bool:
    """True for a real number (Python or numpy int or float); never for a bool or a string."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _int_text(low: int | None, high: int | None, step: int = 1, power_of_two: bool = False) -> str:
    """How an integer domain is described in errors and tables."""
    if power_of_two:
        return f"a power of two in [{low}, {high}]" if high is not None else f"a power of two >= {low}"
    steps = f" in steps of {step}" if step != 1 else ""
    if low is not None and high is not None:
        return f"an integer in [{low}, {high}]{steps}"
    if low is not None:
        named = {0: "a non-negative integer", 1: "a positive integer"}
        return named[low] + steps if low in named else f"an integer >= {low}{steps}"
    return f"an integer <= {high}" if high is not None else "an integer"


def _number_text(low: float | None, high: float | None, log: bool = False, low_open: bool = False) -> str:
    """How a real domain is described in errors and tables."""
    scale = "log-scaled " if log else ""
    if low is not None and high is not None:
        return f"a {scale}number in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}]"
    if low is not None:
        if low == 0:
            return "a positive number" if low_open else "a non-negative number"
        return f"a number {'>' if low_open else '>='} {_bound(low)}"
    return f"a number <= {_bound(high)}" if high is not None else "a finite number"


# --------------------------------------------------------------------------------------------------
# Plain settings
# --------------------------------------------------------------------------------------------------


def _fail(name: str, text: str, value: Any) -> ValueError:
    return ValueError(f"{name} must be {text}, got {value!r}")


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as an ``int`` within ``[low, high]`` (``None`` passes when ``allow_none``)."""
    if value is None and allow_none:
        return None
    text = _int_text(low, high) + (" or None" if allow_none else "")
    if not is_integer(value):
        raise _fail(name, text, value)
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise _fail(name, text, value)
    return number


def check_number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, allow_none: bool = False) -> float | None:
    """``value`` as a finite ``float`` within ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    if value is None and allow_none:
        return None
    text = _number_text(low, high, low_open=low_open) + (" or None" if allow_none else "")
    if not is_number(value) or not math.isfinite(float(value)):
        raise _fail(name, text, value)
    number = float(value)
    below = low is not None and (number <= low if low_open else number < low)
    if below or (high is not None and number > high):
        raise _fail(name, text, value)
    return number


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a ``bool`` (only ``True``/``False``, never 0, 1 or a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(name, "true or false", value)
    return bool(value)


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """``value`` when it is one of ``choices`` (compared as ``Choice`` does: ``True`` is never ``1``)."""
    if isinstance(value, np.generic):
        value = value.item()
    for c in choices:
        if type(c) is type(value) and c == value or (is_number(c) and is_number(value) and c == value):
            return c
    raise _fail(name, "one of " + _describe_values(list(choices)), value)


def check_str(value: Any, name: str, *, allow_empty: bool = False) -> str:
    """``value`` when it is a string (non-empty unless ``allow_empty``)."""
    if not isinstance(value, str) or (not value and not allow_empty):
        raise _fail(name, "a string" if allow_empty else "a non-empty string", value)
    return value


# --------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------


class Parameter(ABC):
    """One named value with a domain: a design knob, or a setting (``label`` says which in errors).

    Discrete parameters expose their ordered ``values``; every parameter of a design space is
    ``bounded`` (it can be sampled and encoded).
    """

    name: str
    description: str
    unit: str
    label: str

    def __init__(self, name: str, description: str = "", unit: str = "", *, label: str = "parameter") -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"parameter name must be an identifier-like string, got {name!r}")
        self.name = name
        self.description = description
        self.unit = unit
        self.label = label

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
    def bounded(self) -> bool:
        """True when the domain can be sampled and encoded (every design knob is bounded)."""
        return True

    @property
    def indexable(self) -> bool:
        """True when the parameter has an index encoding (discrete, or a float range with ``levels``)."""
        return self.discrete

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

    def indices_of(self, values: Any) -> np.ndarray:
        """Vectorised ``index_of`` of a column of values (``ValueError`` naming the first bad one)."""
        return np.array([self.index_of(v) for v in _items(values)], dtype=np.int64)

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
        if not isinstance(text, str):
            return self.validate(text)
        if isinstance(self, Choice):
            for v in self.values:
                if str(v) == text or (isinstance(v, str) and v.lower() == text.lower()):
                    return v
        try:
            number = float(text)
        except ValueError:
            raise self._reject(text) from None
        if isinstance(self, FloatRange):
            return self.validate(number)
        return self.validate(int(number) if number.is_integer() else number)

    def _reject(self, value: Any) -> ValueError:
        return ValueError(f"{self.label} {self.name!r}: {value!r} is not allowed; expected {self.domain_text()}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description that ``Parameter.from_dict`` rebuilds exactly."""
        raise NotImplementedError

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Parameter:
        kinds = {"choice": Choice, "int": IntRange, "float": FloatRange}
        if not isinstance(data, Mapping):
            raise ValueError(f"a parameter description is a mapping with a 'kind', got {data!r}")
        kind = data.get("kind")
        if kind not in kinds:
            raise ValueError(f"parameter kind must be one of {sorted(kinds)}, got {kind!r}")
        args = {k: v for k, v in data.items() if k != "kind"}
        try:
            return kinds[kind](**args)
        except TypeError as exc:  # a missing or unknown field of the description
            raise ValueError(f"{kind} parameter {data.get('name')!r}: {exc}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parameter) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.domain_text()})"


def _items(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


class Choice(Parameter):
    """A finite set of values (strings, numbers, booleans). Unordered unless ``ordered=True``."""

    def __init__(
        self, name: str, values: Sequence[Any], *, ordered: bool = False, description: str = "", unit: str = "",
        label: str = "parameter",
    ) -> None:
        super().__init__(name, description, unit, label=label)
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ValueError(f"parameter {name!r}: values must be a list, got {values!r}")
        values = tuple(v.item() if isinstance(v, np.generic) else v for v in values)
        if not values:
            raise ValueError(f"parameter {name!r}: needs at least one value")
        self.values = values
        try:
            self._index = {v: i for i, v in enumerate(values)}
        except TypeError as exc:
            raise ValueError(f"parameter {name!r}: values must be hashable ({exc})") from None
        if len(self._index) != len(values):
            raise ValueError(f"parameter {name!r}: values must be distinct, got {values!r}")
        self._numeric = all(is_number(v) for v in values)
        self._table = np.asarray(values) if self._numeric else np.asarray(values, dtype=object)
        self._ordered = bool(ordered)

    @property
    def discrete(self) -> bool:
        return True

    @property
    def cardinality(self) -> int:
        return len(self.values)

    @property
    def ordered(self) -> bool:
        return self._ordered

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
        if len(self.values) == 2 and all(isinstance(v, bool) for v in self.values):
            return "true or false"
        return "one of " + _describe_values(self.values)

    def index_of(self, value: Any) -> int:
        return self._index[self.validate(value)]

    def value_at(self, index: int) -> Any:
        if not 0 <= index < len(self.values):
            raise ValueError(f"parameter {self.name!r}: index {index} outside 0..{len(self.values) - 1}")
        return self.values[index]

    def values_at(self, indices: np.ndarray) -> np.ndarray:
        return self._table[indices]

    def indices_of(self, values: Any) -> np.ndarray:
        if self._numeric:  # vectorised: position in the sorted values, then an exact-match check
            items = _items(values)
            if not all(is_number(v) for v in items):
                raise self._reject(next(v for v in items if not is_number(v)))
            col = np.asarray(items, dtype=np.float64)
            table = np.asarray(self.values, dtype=np.float64)
            order = np.argsort(table, kind="stable")
            pos = np.clip(np.searchsorted(table[order], col), 0, len(table) - 1)
            found = table[order][pos] == col
            if not found.all():
                raise self._reject(items[int(np.flatnonzero(~found)[0])])
            return order[pos].astype(np.int64)
        return np.array([self.index_of(v) for v in _items(values)], dtype=np.int64)

    def to_unit(self, value: Any) -> float:
        return (self.index_of(value) + 0.5) / len(self.values)

    def from_unit(self, u: float) -> Any:
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"parameter {self.name!r}: unit value {u!r} outside [0, 1]")
        return self.values[min(len(self.values) - 1, int(math.floor(u * len(self.values))))]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "choice", "name": self.name, "values": list(self.values), "ordered": self._ordered,
                "description": self.description, "unit": self.unit}


class IntRange(Parameter):
    """Integers ``low..high`` (inclusive) in steps of ``step``, or the powers of two between them.

    Values are computed, never listed, so a range of any width costs nothing until ``values`` is
    asked for. ``high=None`` (or ``low=None``, step 1 only) leaves the range open: such a parameter
    validates settings but is not ``bounded``, so it cannot be a design knob.
    """

    def __init__(
        self, name: str, low: int | None, high: int | None = None, *, step: int = 1, power_of_two: bool = False,
        description: str = "", unit: str = "", label: str = "parameter",
    ) -> None:
        super().__init__(name, description, unit, label=label)
        for bound, v in (("low", low), ("high", high), ("step", step)):
            if not (v is None and bound != "step") and not is_integer(v):
                raise ValueError(f"parameter {name!r}: {bound} must be an integer, got {v!r}")
        low = None if low is None else int(low)
        high = None if high is None else int(high)
        step = int(step)
        if low is not None and high is not None and high < low:
            raise ValueError(f"parameter {name!r}: high ({high}) is below low ({low})")
        if step < 1:
            raise ValueError(f"parameter {name!r}: step must be >= 1, got {step}")
        if low is None and (step != 1 or power_of_two):
            raise ValueError(f"parameter {name!r}: a range open below takes no step and no power_of_two")
        if power_of_two:
            if step != 1:
                raise ValueError(f"parameter {name!r}: power_of_two ranges take no step")
            for bound, v in (("low", low), ("high", high)):
                if v is not None and (v < 1 or v & (v - 1)):
                    raise ValueError(f"parameter {name!r}: {bound}={v} is not a power of two")
        elif low is not None and high is not None and (high - low) % step:
            raise ValueError(f"parameter {name!r}: high-low ({high - low}) is not a multiple of step {step}")
        self.low, self.high, self.step, self.power_of_two = low, high, step, bool(power_of_two)
        self._shift = None if low is None or not power_of_two else low.bit_length() - 1
        self._values: tuple[int, ...] | None = None
        self._n: int | None = None
        if self.bounded:
            self._n = high.bit_length() - low.bit_length() + 1 if power_of_two else (high - low) // step + 1

    @property
    def discrete(self) -> bool:
        return self.bounded

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def cardinality(self) -> int:
        if self._n is None:
            self._need_bounds()
        return self._n

    @property
    def values(self) -> tuple[int, ...]:
        """Every value, in order (computed once, on first use)."""
        if self._values is None:
            self._values = tuple(self.value_at(i) for i in range(self.cardinality))
        return self._values

    def _need_bounds(self) -> None:
        if not self.bounded:
            raise ValueError(f"{self.label} {self.name!r} is {self.domain_text()}: an open range has no "
                             "index or unit encoding")

    def validate(self, value: Any) -> int:
        if isinstance(value, np.generic):
            value = value.item()
        if not is_integer(value):
            raise self._reject(value)
        v = int(value)
        if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
            raise self._reject(value)
        if (v & (v - 1)) if self.power_of_two else self.low is not None and (v - self.low) % self.step:
            raise self._reject(value)
        return v

    def domain_text(self) -> str:
        return _int_text(self.low, self.high, self.step, self.power_of_two)

    def index_of(self, value: Any) -> int:
        v = self.validate(value)
        self._need_bounds()
        return v.bit_length() - 1 - self._shift if self.power_of_two else (v - self.low) // self.step

    def value_at(self, index: int) -> int:
        n = self._n if self._n is not None else self.cardinality
        if not 0 <= index < n:
            raise ValueError(f"parameter {self.name!r}: index {index} outside 0..{n - 1}")
        return self.low << int(index) if self.power_of_two else self.low + int(index) * self.step

    def values_at(self, indices: np.ndarray) -> np.ndarray:
        self._need_bounds()
        idx = np.asarray(indices, dtype=np.int64)
        return np.left_shift(np.int64(self.low), idx) if self.power_of_two else self.low + idx * self.step

    def indices_of(self, values: Any) -> np.ndarray:
        self._need_bounds()
        items = _items(values)
        if not all(is_integer(v) for v in items):
            raise self._reject(next(v for v in items if not is_integer(v)))
        col = np.asarray(items, dtype=np.int64).reshape(-1)
        ok = (col >= self.low) & (col <= self.high)
        if self.power_of_two:
            idx = np.zeros(len(col), dtype=np.int64)
            idx[ok] = np.log2(col[ok]).round().astype(np.int64) - self._shift
            ok &= np.left_shift(np.int64(self.low), np.maximum(idx, 0)) == col
        else:
            ok &= (col - self.low) % self.step == 0
            idx = (col - self.low) // self.step
        if not ok.all():
            raise self._reject(items[int(np.flatnonzero(~ok)[0])])
        return idx

    def to_unit(self, value: Any) -> float:
        return (self.index_of(value) + 0.5) / self.cardinality

    def from_unit(self, u: float) -> int:
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"parameter {self.name!r}: unit value {u!r} outside [0, 1]")
        n = self.cardinality
        return self.value_at(min(n - 1, int(math.floor(u * n))))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "int", "name": self.name, "low": self.low, "high": self.high, "step": self.step,
                "power_of_two": self.power_of_two, "description": self.description, "unit": self.unit}


class FloatRange(Parameter):
    """A continuous interval ``[low, high]``, optionally log-scaled.

    The unit encoding is exact (linear, or linear in ``log`` when ``log=True``). Index encodings
    (``MultiDiscrete`` actions) need a grid: pass ``levels=n`` for ``n`` evenly spaced points
    (in log space when ``log=True``); without ``levels`` the index encoding raises a clear error.
    ``low=None`` or ``high=None`` leaves the interval open (for settings; such a range is not
    ``bounded`` and cannot be a design knob).
    """

    def __init__(
        self, name: str, low: float | None, high: float | None, *, log: bool = False, levels: int | None = None,
        description: str = "", unit: str = "", label: str = "parameter",
    ) -> None:
        super().__init__(name, description, unit, label=label)
        for bound, v in (("low", low), ("high", high)):
            if v is not None and (not is_number(v) or not math.isfinite(float(v))):
                raise ValueError(f"parameter {name!r}: need finite low < high, got {bound}={v!r}")
        low = None if low is None else float(low)
        high = None if high is None else float(high)
        if low is not None and high is not None and high <= low:
            raise ValueError(f"parameter {name!r}: need finite low < high, got [{low}, {high}]")
        if log and (low is None or low <= 0):
            raise ValueError(f"parameter {name!r}: a log range needs low > 0, got {low}")
        if levels is not None and (not is_integer(levels) or int(levels) < 2):
            raise ValueError(f"parameter {name!r}: levels must be an integer >= 2, got {levels!r}")
        if levels is not None and (low is None or high is None):
            raise ValueError(f"parameter {name!r}: levels need a closed range [low, high]")
        self.low, self.high, self.log = low, high, bool(log)
        self.levels = None if levels is None else int(levels)

    @property
    def discrete(self) -> bool:
        return False

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def indexable(self) -> bool:
        return self.levels is not None

    @property
    def cardinality(self) -> int:
        if self.levels is None:
            raise ValueError(
                f"parameter {self.name!r} is continuous: give it levels=N for index (MultiDiscrete) "
                "encodings, or use the unit (Box) encoding"
            )
        return self.levels

    def validate(self, value: Any) -> float:
        if not is_number(value):
            raise self._reject(value)
        value = float(value)
        if not math.isfinite(value) or (self.low is not None and value < self.low) or \
                (self.high is not None and value > self.high):
            raise self._reject(value)
        return value

    def domain_text(self) -> str:
        return _number_text(self.low, self.high, self.log)

    def _need_bounds(self) -> None:
        if not self.bounded:
            raise ValueError(f"{self.label} {self.name!r} is {self.domain_text()}: an open range has no "
                             "unit encoding and cannot be sampled")

    def to_unit(self, value: Any) -> float:
        value = self.validate(value)
        self._need_bounds()
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"parameter {self.name!r}: unit value {u!r} outside [0, 1]")
        self._need_bounds()
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
