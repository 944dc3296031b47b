"""Objectives: how metrics become one reward (higher is better, bounded), plus Pareto utilities.

**Target-spec reward** (the default, used by every env). Each target names a metric and a value;
a minimize metric meets its target at or below it, a maximize metric at or above it. Per target the
*distance* is the log-ratio by which the target is missed, zero once met::

    d_i = max(0, ln(x_i / t_i))   (minimize)        d_i = max(0, ln(t_i / x_i))   (maximize)

and the reward is the weighted mean of ``1 / (1 + d_i)``::

    reward = sum_i w_i / (1 + d_i) / sum_i w_i          in (0, 1]; 1 exactly when all targets are met

It is continuous and bounded everywhere (no ``t / |x - t|`` singularity at the target), treats a miss
by 2x the same at any scale, and still ranks designs that miss by orders of magnitude (10x -> 0.30,
1000x -> 0.13). Infeasible designs get 0, below every feasible reward. Targets must be positive.

**Weighted sum** (pure optimisation, no targets). Each metric is squashed against a reference value
``r_i`` by ``1 / (1 + x_i / r_i)`` (minimize) or ``x_i / (x_i + r_i)`` (maximize) -- a logistic in
``ln(x_i / r_i)``, 0.5 at the reference -- and the reward is the weighted mean, in ``[0, 1]``.

**Pareto**: ``pareto_mask`` filters non-dominated points; ``hypervolume`` measures the dominated
volume in 2-D or 3-D against a reference point.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.core import BatchEvaluation, Direction, Evaluation, Metric
from simulators.params import check_number

__all__ = ["FORMULA_VERSION", "Objective", "Target", "TargetObjective", "WeightedSumObjective", "build_objective",
           "hypervolume", "pareto_mask"]

#: Numbers the reward formulas above; it changes whenever one of them would give another reward for the
#: same metrics and settings (datasets record it with each run's objective).
FORMULA_VERSION = 1


def _metric_table(metrics: Sequence[Metric]) -> dict[str, Metric]:
    return {m.name: m for m in metrics}


def _positive_number(where: str, value: Any) -> float:
    return check_number(value, where, low=0, low_open=True)
    return value


class Objective(ABC):
    """Turns an ``Evaluation`` into a reward; higher is better and lies in ``reward_range``."""

    reward_range: tuple[float, float] = (0.0, 1.0)
    infeasible_reward: float = 0.0

    @abstractmethod
    def reward_from_metrics(self, metrics: Mapping[str, np.ndarray | float]) -> np.ndarray | float:
        """Reward of feasible metrics (scalars, or arrays for many designs at once)."""

    def distances(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Per-target distance for ``info`` (empty when the objective has no targets)."""
        return {}

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The metrics the reward is made of (a target's, a weighted sum's terms); empty if not known."""
        return ()

    def __call__(self, evaluation: Evaluation) -> float:
        if not evaluation.feasible:
            return self.infeasible_reward
        return float(self.reward_from_metrics(evaluation.metrics))

    def batch(self, evaluations: BatchEvaluation) -> np.ndarray:
        """Rewards of many designs at once."""
        rewards = np.asarray(self.reward_from_metrics(evaluations.metrics), dtype=np.float64)
        rewards = np.broadcast_to(rewards, evaluations.feasible.shape).copy()
        rewards[~evaluations.feasible] = self.infeasible_reward
        return rewards

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """A description that ``build_objective`` turns back into the same objective."""


@dataclass(frozen=True)
class Target:
    """A metric, the value it must reach, and its weight in the reward."""

    metric: str
    value: float
    weight: float = 1.0


class TargetObjective(Objective):
    """The target-spec reward (see the module docstring for the formula)."""

    def __init__(self, targets: Mapping[str, Any] | Sequence[Target], metrics: Sequence[Metric]) -> None:
        table = _metric_table(metrics)
        if isinstance(targets, (str, bytes)) or not isinstance(targets, Mapping | Sequence):
            raise ValueError(f"targets must map metric names to target values, e.g. {{{next(iter(table))!r}: 1.0}}; "
                             f"got {targets!r}")
        if isinstance(targets, Mapping):
            items = []
            for name, spec in targets.items():
                if isinstance(spec, Mapping):
                    unknown = set(spec) - {"value", "weight"}
                    if unknown or "value" not in spec:
                        raise ValueError(f"target {name!r}: give a number or a mapping with 'value' (and 'weight')")
                    items.append(Target(name, spec["value"], spec.get("weight", 1.0)))
                else:
                    items.append(Target(name, spec))
            targets = items
        targets = list(targets)
        if not all(isinstance(t, Target) for t in targets):
            raise ValueError(f"targets must map metric names to target values, e.g. {{{next(iter(table))!r}: 1.0}}; "
                             f"got {targets!r}")
        if not targets:
            raise ValueError(f"a target objective needs at least one target; metrics are {sorted(table)}")
        seen = set()
        checked = []
        for t in targets:
            if t.metric not in table:
                raise ValueError(f"target on unknown metric {t.metric!r}; metrics are {sorted(table)}")
            if t.metric in seen:
                raise ValueError(f"metric {t.metric!r} has two targets")
            seen.add(t.metric)
            checked.append(Target(t.metric, _positive_number(f"target for {t.metric!r}", t.value),
                                  _positive_number(f"weight of target {t.metric!r}", t.weight)))
        self.targets = tuple(checked)
        self._minimize = {t.metric: table[t.metric].direction is Direction.MINIMIZE for t in self.targets}

    def _distance(self, target: Target, x):
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self._minimize[target.metric]:
                d = np.where(x <= target.value, 0.0, np.log(x / target.value))
            else:
                d = np.where(x >= target.value, 0.0, np.where(x > 0, np.log(target.value / np.where(x > 0, x, 1.0)),
                                                               np.inf))
        return np.where(np.isnan(x), np.inf, d)

    def reward_from_metrics(self, metrics):
        total = sum(t.weight for t in self.targets)
        acc = 0.0
        for t in self.targets:
            acc = acc + t.weight / (1.0 + self._distance(t, metrics[t.metric]))
        r = acc / total
        return float(r) if np.ndim(r) == 0 else r

    def distances(self, metrics: Mapping[str, float]) -> dict[str, float]:
        return {t.metric: float(self._distance(t, metrics[t.metric])) for t in self.targets}

    def met(self, metrics: Mapping[str, float]) -> bool:
        """True when every target is met."""
        return all(d == 0.0 for d in self.distances(metrics).values())

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(t.metric for t in self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "target", "targets": {t.metric: {"value": t.value, "weight": t.weight} for t in self.targets}}


class WeightedSumObjective(Objective):
    """Weighted mean of per-metric logistic scores against reference values (see module docstring)."""

    def __init__(self, weights: Mapping[str, float], references: Mapping[str, float], metrics: Sequence[Metric]):
        table = _metric_table(metrics)
        for label, value in (("weights", weights), ("references", references)):
            if not isinstance(value, Mapping):
                raise ValueError(f"weighted-sum objective: {label} must map metric names to numbers, got {value!r}")
        if not weights:
            raise ValueError(f"a weighted-sum objective needs weights; metrics are {sorted(table)}")
        for name in list(weights) + list(references):
            if name not in table:
                raise ValueError(f"unknown metric {name!r} in weighted-sum objective; metrics are {sorted(table)}")
        missing = [n for n in weights if n not in references]
        if missing:
            raise ValueError(f"weighted-sum objective needs a reference value for {missing}")
        unweighted = [n for n in references if n not in weights]
        if unweighted:
            raise ValueError(f"weighted-sum objective: reference value(s) for {unweighted} without a weight; give "
                             "each metric in the sum a weight and a reference, and leave the others out of both")
        self.weights = {n: _positive_number(f"weight of {n!r}", w) for n, w in weights.items()}
        self.references = {n: _positive_number(f"reference of {n!r}", references[n]) for n in self.weights}
        self._minimize = {n: table[n].direction is Direction.MINIMIZE for n in self.weights}

    def reward_from_metrics(self, metrics):
        total = sum(self.weights.values())
        acc = 0.0
        for n, w in self.weights.items():
            ratio = np.asarray(metrics[n], dtype=np.float64) / self.references[n]
            ratio = np.where(np.isnan(ratio), np.inf if self._minimize[n] else 0.0, np.maximum(ratio, 0.0))
            with np.errstate(invalid="ignore", divide="ignore"):
                if self._minimize[n]:
                    score = 1.0 / (1.0 + ratio)
                else:
                    score = np.where(np.isinf(ratio), 1.0, ratio / (1.0 + ratio))
            acc = acc + w * score
        r = acc / total
        return float(r) if np.ndim(r) == 0 else r

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(self.weights)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "weighted_sum", "weights": dict(self.weights), "references": dict(self.references)}


def build_objective(
    spec: Objective | str | Mapping[str, Any] | None,
    metrics: Sequence[Metric],
    *,
    targets: Mapping[str, Any] | None = None,
    default_targets: Mapping[str, float] | None = None,
) -> Objective:
    """The one way to make an objective from env kwargs or a config.

    ``spec`` is an ``Objective``; ``None``/``"target"`` (targets from ``targets``, else the
    simulator's ``default_targets``); ``"weighted_sum"`` is not enough on its own (it needs weights and
    references), so pass a mapping: ``{"type": "weighted_sum", "weights": {...}, "references": {...}}``
    or ``{"type": "target", "targets": {...}}``.
    """
    if isinstance(spec, Objective):
        if targets is not None:
            raise ValueError("pass either an Objective or targets, not both")
        return spec
    if spec is None or spec == "target":
        spec = {"type": "target"}
    if isinstance(spec, str):
        raise ValueError(f"unknown objective {spec!r}; use 'target', or a mapping with type 'target' or "
                         "'weighted_sum' (with weights and references), or an Objective")
    if not isinstance(spec, Mapping):
        raise ValueError(f"objective must be a string, mapping or Objective, got {type(spec).__name__}")
    kind = spec.get("type", "target")
    if kind == "target":
        unknown = set(spec) - {"type", "targets"}
        if unknown:
            raise ValueError(f"target objective: unknown key(s) {sorted(unknown)}; allowed: type, targets")
        if targets is not None and spec.get("targets") is not None:
            raise ValueError("targets given twice (as a keyword and inside the objective)")
        chosen = targets if targets is not None else spec.get("targets")
        if chosen is not None and not chosen:
            raise ValueError("targets is empty: name at least one target, or leave targets out for the "
                             "environment's default task")
        chosen = chosen if chosen is not None else default_targets
        if not chosen:
            raise ValueError("this environment has no default targets: pass targets={metric: value, ...}")
        return TargetObjective(chosen, metrics)
    if kind == "weighted_sum":
        unknown = set(spec) - {"type", "weights", "references"}
        if unknown:
            raise ValueError(f"weighted_sum objective: unknown key(s) {sorted(unknown)}; "
                             "allowed: type, weights, references")
        if targets is not None:
            raise ValueError("targets do not apply to a weighted_sum objective")
        return WeightedSumObjective(spec.get("weights", {}), spec.get("references", {}), metrics)
    raise ValueError(f"unknown objective type {kind!r}; choose 'target' or 'weighted_sum'")


# --------------------------------------------------------------------------------------------------
# Pareto utilities
# --------------------------------------------------------------------------------------------------


def _as_minimization(points: np.ndarray, directions: Sequence[Direction | str] | None) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2:
        raise ValueError(f"points must be a 2-D array (n points x d objectives), got shape {pts.shape}")
    if directions is None:
        return pts
    if len(directions) != pts.shape[1]:
        raise ValueError(f"need one direction per objective ({pts.shape[1]}), got {len(directions)}")
    signs = np.array([1.0 if Direction(d) is Direction.MINIMIZE else -1.0 for d in directions])
    return pts * signs


def pareto_mask(points: np.ndarray, directions: Sequence[Direction | str] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows (all objectives minimised unless ``directions`` say so).

    A point is dominated when another is no worse in every objective and better in one. Duplicates of
    a non-dominated point are all kept. Sorting lexicographically first means nothing later can
    dominate anything earlier: 2-D fronts are then a running minimum (vectorised), higher dimensions
    are filtered block by block against the front found so far.
    """
    pts = _as_minimization(points, directions)
    n, d = pts.shape
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if np.isnan(pts).any():
        raise ValueError("pareto_mask: points contain NaN (filter infeasible designs first)")
    order = np.lexsort(pts.T[::-1])
    srt = pts[order]
    same_as_previous = np.zeros(n, dtype=bool)
    same_as_previous[1:] = np.all(srt[1:] == srt[:-1], axis=1)
    if d == 1:
        keep = srt[:, 0] == srt[0, 0]
    elif d == 2:
        prev_min = np.concatenate(([np.inf], np.minimum.accumulate(srt[:-1, 1])))
        keep = srt[:, 1] < prev_min
    else:
        keep = _front_by_blocks(srt)
    # a duplicate of a kept point is kept too (its first copy decided)
    group_start = np.maximum.accumulate(np.where(~same_as_previous, np.arange(n), 0))
    keep = keep[group_start]
    mask[order] = keep
    return mask


def dominated_by(points: np.ndarray, front: np.ndarray, block: int = 1 << 22) -> np.ndarray:
    """For each row of ``points``, whether some row of ``front`` dominates it (minimisation)."""
    out = np.zeros(len(points), dtype=bool)
    if len(front) == 0 or len(points) == 0:
        return out
    step = max(1, block // (len(points) * points.shape[1]))
    for lo in range(0, len(front), step):
        f = front[lo: lo + step][None, :, :]
        p = points[:, None, :]
        out |= np.any(np.all(f <= p, axis=2) & np.any(f < p, axis=2), axis=1)
    return out


def _front_by_blocks(srt: np.ndarray, block: int = 1024) -> np.ndarray:
    """Non-dominated flags of lexicographically sorted rows, without first-copy duplicate handling."""
    n = len(srt)
    keep = np.zeros(n, dtype=bool)
    front = np.empty((0, srt.shape[1]))
    for lo in range(0, n, block):
        chunk = srt[lo: lo + block]
        alive = ~dominated_by(chunk, front)
        idx = np.flatnonzero(alive)
        cand = chunk[idx]
        # within the block only earlier rows can dominate later ones
        le = np.all(cand[:, None, :] <= cand[None, :, :], axis=2) & np.any(cand[:, None, :] < cand[None, :, :], axis=2)
        inner = np.any(np.triu(le, k=1), axis=0)
        survivors = idx[~inner]
        keep[lo + survivors] = True
        front = np.concatenate([front, chunk[survivors]])
    return keep


def hypervolume(points: np.ndarray, reference: Sequence[float],
                directions: Sequence[Direction | str] | None = None) -> float:
    """Volume dominated by ``points`` and bounded by ``reference`` (2 or 3 objectives).

    Objectives are minimised unless ``directions`` say otherwise (the reference is given in the
    metrics' own units and flipped the same way). Points not strictly better than the reference in
    every objective add nothing.
    """
    pts = _as_minimization(points, directions)
    ref = _as_minimization(np.asarray(reference, dtype=np.float64)[None, :], directions)[0]
    if pts.shape[1] not in (2, 3):
        raise ValueError(f"hypervolume supports 2 or 3 objectives, got {pts.shape[1]}")
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[pareto_mask(pts)]
    if pts.shape[1] == 2:
        return _hv2(pts, ref)
    # 3-D: sweep the third objective upwards; each slab's area is the 2-D volume of the points below it.
    pts = pts[np.argsort(pts[:, 2])]
    volume = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, 2] if i + 1 < len(pts) else ref[2]
        if upper > pts[i, 2]:
            volume += _hv2(pts[: i + 1, :2], ref[:2]) * (upper - pts[i, 2])
    return float(volume)


def _hv2(pts: np.ndarray, ref: np.ndarray) -> float:
    pts = pts[np.argsort(pts[:, 0])]
    area, best_y = 0.0, ref[1]
    for x, y in pts:
        if y < best_y:
            area += (ref[0] - x) * (best_y - y)
            best_y = y
    return float(area)
