"""Exact Pareto fronts of spaces too large to enumerate, by dynamic programming over additive groups.

When a simulator declares an ``AdditiveStructure`` (its metrics are monotone functions of sums over
independent groups of knobs, e.g. Quant-v0's per-layer bit widths), the designs on the Pareto front
of a set of metrics are found group by group (Nemhauser-Ullmann): keep the non-dominated partial
sums of the term vectors the metrics depend on, add each group's non-dominated options, prune again.
A partial sum dominated by another stays dominated whatever the remaining groups add, so nothing on
the final front is ever pruned; designs whose term vectors are equal are merged and counted.

The front in *term* space contains the front in *metric* space (each metric is monotone in its
terms), and any objective that is monotone in each metric (the target reward, a weighted sum) has
an optimum on it: ``exact_front`` gives those designs, ``archgym.optimum`` evaluates them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archgym.objective import pareto_mask
from simulators.core import AdditiveStructure, DesignSpace

__all__ = ["ExactFront", "exact_front"]

#: a front that grows beyond this many points is refused (memory grows with front x options)
MAX_FRONT = 2_000_000


class ExactFront:
    """The designs (as an index matrix) whose term vectors are non-dominated, with how many designs of
    the space share each one's term vector."""

    def __init__(self, indices: np.ndarray, counts: np.ndarray, terms: np.ndarray, term_names: Sequence[str]) -> None:
        self.indices, self.counts, self.terms, self.term_names = indices, counts, terms, tuple(term_names)

    def __len__(self) -> int:
        return len(self.indices)


def _merge(values: np.ndarray, counts: np.ndarray, choice: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows with equal term vectors as one (counts added, the first choice kept), then the front."""
    uniq, first, inverse = np.unique(values, axis=0, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=counts, minlength=len(uniq))
    keep = pareto_mask(uniq)
    return uniq[keep], merged[keep], choice[first[keep]]


def exact_front(structure: AdditiveStructure, space: DesignSpace, metrics: Sequence[str], *,
                max_front: int = MAX_FRONT) -> ExactFront:
    """Every design on the Pareto front of the terms ``metrics`` depend on (all minimised)."""
    unknown = [m for m in metrics if m not in structure.metric_terms]
    if unknown:
        raise ValueError(f"the additive structure does not cover metric(s) {unknown}")
    used = sorted({t for m in metrics for t in structure.metric_terms[m]}, key=structure.term_names.index)
    cols = [structure.term_names.index(t) for t in used]
    grouped = {name for group in structure.groups for name in group}
    loose = [p.name for p in space if p.name not in grouped and p.cardinality != 1]
    if loose:
        raise ValueError(f"parameters {loose} are in no group of the additive structure")

    values = np.zeros((1, len(cols)))
    counts = np.ones(1)
    choice = np.zeros((1, 0), dtype=np.int64)
    for g, terms in enumerate(structure.terms):
        own, own_counts, own_choice = _merge(np.asarray(terms, dtype=np.float64)[:, cols],
                                            np.ones(len(terms)), np.arange(len(terms))[:, None])
        size = len(values) * len(own)
        if size > max_front * 64:
            raise ValueError(f"exact front: {len(values):,} partial designs x {len(own)} options of group {g} is too "
                             "many; ask for fewer metrics")
        cand = (values[:, None, :] + own[None, :, :]).reshape(-1, len(cols))
        cand_counts = (counts[:, None] * own_counts[None, :]).ravel()
        cand_choice = np.concatenate([np.repeat(choice, len(own), axis=0),
                                      np.tile(own_choice, (len(values), 1))], axis=1)
        values, counts, choice = _merge(cand, cand_counts, cand_choice)
        if len(values) > max_front:
            raise ValueError(f"exact front: more than {max_front:,} non-dominated designs after group {g}; "
                             "ask for fewer metrics")

    indices = np.zeros((len(choice), len(space)), dtype=np.int64)
    position = {name: j for j, name in enumerate(space.names)}
    for g, names in enumerate(structure.groups):
        rows = np.asarray(structure.options[g])[choice[:, g]]
        for k, name in enumerate(names):
            indices[:, position[name]] = rows[:, k]
    return ExactFront(indices, counts, values, used)
