"""Proxy features: design -> feature vector, derived from the design space alone.

An unordered ``Choice`` is one-hot encoded, an ordered ``Choice`` is its ordinal position, a
power-of-two ``IntRange`` is ``log2(value)``, a log-scaled ``FloatRange`` is ``ln(value)``, any other
numeric range is its plain value.

With ``canonical`` (a simulator's ``canonical_indices``), every design is first replaced by the
representative of its class of exactly equivalent designs: knobs that cannot act on that design
take one value, so the trees never spend splits learning that they do not matter (on DRAM-v0 this
cut the worst metric's error from 0.77% to 0.55% of its range at 3,000 designs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from archgym.dataset.reader import design_values
from simulators.core import Choice, DesignSpace, FloatRange, IntRange

__all__ = ["FeatureEncoder"]


class FeatureEncoder:
    """Design -> feature vector, derived from the design space alone (see the module docstring)."""

    def __init__(self, space: DesignSpace, canonical: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if canonical is not None and not space.indexable:
            raise ValueError("canonical features need a discrete design space (an index per parameter)")
        self.space = space
        self.canonical = canonical
        self.spec: list[dict[str, Any]] = []
        self._tables: list[np.ndarray | None] = []  # per parameter: (cardinality, width) features by index
        for p in space:
            if isinstance(p, FloatRange):
                kind = "log" if p.log else "identity"
                self.spec.append({"name": f"ln({p.name})" if p.log else p.name, "parameter": p.name, "kind": kind})
                self._tables.append(None)
                continue
            values = list(p.values)  # type: ignore[attr-defined]
            if isinstance(p, Choice) and not p.ordered:
                self.spec += [{"name": f"{p.name}={v}", "parameter": p.name, "kind": "onehot", "value": v}
                              for v in values]
                table = np.eye(len(values))
            elif isinstance(p, Choice):
                self.spec.append({"name": f"ord({p.name})", "parameter": p.name, "kind": "ordinal"})
                table = np.arange(len(values), dtype=np.float64)[:, None]
            elif isinstance(p, IntRange) and p.power_of_two:
                self.spec.append({"name": f"log2({p.name})", "parameter": p.name, "kind": "log2"})
                table = np.log2(np.asarray(values, dtype=np.float64))[:, None]
            else:
                self.spec.append({"name": p.name, "parameter": p.name, "kind": "identity"})
                table = np.asarray(values, dtype=np.float64)[:, None]
            self._tables.append(table.astype(np.float32))

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.spec]

    def from_indices(self, indices: np.ndarray) -> np.ndarray:
        """Features of an ``(n, d)`` index matrix (``float32``, ``(n, features)``)."""
        if self.canonical is not None:
            indices = np.asarray(self.canonical(np.asarray(indices, dtype=np.int64)))
        parts = []
        for j, (p, table) in enumerate(zip(self.space, self._tables)):
            if table is None:
                parts.append(self._continuous(p, p.values_at(indices[:, j])))
            else:
                parts.append(table[indices[:, j]])
        return np.concatenate(parts, axis=1)

    def from_columns(self, columns: Mapping[str, Any]) -> np.ndarray:
        """Features of designs given as per-parameter value columns (any parameter kind)."""
        if self.canonical is not None:
            return self.from_indices(np.stack([p.indices_of(design_values(p, columns[p.name])) for p in self.space],
                                              axis=1))
        parts = []
        for p, table in zip(self.space, self._tables):
            if table is None:
                parts.append(self._continuous(p, columns[p.name]))
            else:
                parts.append(table[p.indices_of(design_values(p, columns[p.name]))])
        return np.concatenate(parts, axis=1)

    def parameter_value(self, j: int, x: float) -> Any:
        """The value of feature ``j``'s parameter that gives the feature value ``x`` (a one-hot column: its
        value), for messages about feature ranges."""
        f = self.spec[j]
        kind, p = f["kind"], self.space[f["parameter"]]
        if kind == "onehot":
            return f["value"]
        if kind == "ordinal":
            return p.values[int(round(x))]  # type: ignore[attr-defined]
        if kind == "log2":
            return int(round(2.0 ** x))
        value = math.exp(x) if kind == "log" else x
        return int(round(value)) if isinstance(p, IntRange) else float(f"{value:.6g}")

    @staticmethod
    def _continuous(p: FloatRange, values: Any) -> np.ndarray:
        col = np.asarray(values, dtype=np.float64)
        if np.any((col < p.low) | (col > p.high)) or not np.all(np.isfinite(col)):
            bad = col[~((col >= p.low) & (col <= p.high))][0]
            raise ValueError(f"parameter {p.name!r}: {bad!r} is not allowed; expected {p.domain_text()}")
        return (np.log(col) if p.log else col).astype(np.float32)[:, None]
