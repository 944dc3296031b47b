"""The exact optimum of a task by exhaustion: every design of a finite space, evaluated in batches.

Our simulators are fast enough to enumerate spaces of up to ~10^7 designs (the systolic env's 5.3
million in under a minute), so reports can show each agent's exact regret and how often it found the
optimum. For multi-objective work the true Pareto front over the objective's metrics comes with it.
A simulator that knows which designs cost exactly the same (``Simulator.canonical_indices``: the DRAM
controller's knobs that cannot act given the others) has each such class evaluated once.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from archgym.dataset import json_default
from archgym.envs import DesignEnv
from archgym.objective import TargetObjective, WeightedSumObjective, dominated_by, pareto_mask
from archgym.progress import Progress, duration
from simulators.core import DesignSpace, Direction, Simulator

__all__ = ["Optimum", "find_optimum", "load_optimum"]

DEFAULT_LIMIT = 10_000_000
_FIRST_CHUNK = 256  # designs in the first (timed) chunk
_CHUNK_SECONDS = 1.0  # later chunks are sized to take about this long
_WARN_SECONDS = 60.0  # an enumeration expected to take longer is announced on stderr
_TIES_KEPT = 20
_FRONT_KEPT = 5_000


@dataclass
class Optimum:
    """The best reward of a task, designs reaching it, and the Pareto front of its metrics."""

    env_id: str
    workload: str
    objective: dict[str, Any]
    designs: int
    best_reward: float
    best_design: dict[str, Any]
    best_metrics: dict[str, float]
    optimal_designs: int  # how many designs reach best_reward
    optimal_examples: list[dict[str, Any]]  # up to 20 of them
    meeting_targets: int | None  # designs meeting every target (target objectives)
    feasible_designs: int
    pareto_metrics: list[str]
    # one entry per point of the front: {"design": the first reaching it, "metrics": ..., "designs": how many do}
    pareto_front: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    evaluated: int = 0  # designs evaluated: one per class of equivalent designs (0: not recorded)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=json_default)


def load_optimum(path: str | Path) -> Optimum:
    return Optimum(**json.loads(Path(path).read_text()))


def _pareto_metrics(denv: DesignEnv) -> list[str]:
    obj = denv.objective
    if isinstance(obj, TargetObjective):
        names = [t.metric for t in obj.targets]
    elif isinstance(obj, WeightedSumObjective):
        names = list(obj.weights)
    else:
        names = []
    return names if 2 <= len(names) <= 3 else []


def _canonical_ordinals(sim: Simulator, space: DesignSpace, ordinals: np.ndarray) -> np.ndarray:
    canon = np.asarray(sim.canonical_indices(space.indices_from_ordinals(ordinals)))
    if canon.shape != (len(ordinals), len(space)):
        raise ValueError(f"{type(sim).__name__}.canonical_indices returned shape {canon.shape} for "
                         f"{len(ordinals)} designs; expected {(len(ordinals), len(space))}")
    return space.ordinals_from_indices(canon)


def _classes(sim: Simulator, space: DesignSpace, chunk: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Representatives (ordinals, ascending) of the simulator's classes of equivalent designs and the
    number of designs in each; None when it declares no equivalences (``Simulator.canonical_indices``)."""
    if type(sim).canonical_indices is Simulator.canonical_indices:
        return None
    reps, sizes = [], []
    for lo in range(0, space.cardinality, chunk):
        canon = _canonical_ordinals(sim, space, np.arange(lo, min(space.cardinality, lo + chunk), dtype=np.int64))
        u, c = np.unique(canon, return_counts=True)
        reps.append(u)
        sizes.append(c)
    rep, inverse = np.unique(np.concatenate(reps), return_inverse=True)
    size = np.bincount(inverse.reshape(-1), weights=np.concatenate(sizes), minlength=len(rep)).astype(np.int64)
    if not np.array_equal(_canonical_ordinals(sim, space, rep), rep):
        raise ValueError(f"{type(sim).__name__}.canonical_indices maps a representative to another design; "
                         "a representative must be its own")
    return rep, size


def _members(sim: Simulator, space: DesignSpace, reps: np.ndarray, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Every design of the classes ``reps`` stand for, in ordinal order, with its class's position in ``reps``."""
    if len(reps) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = np.argsort(reps)
    ords, which = [], []
    for lo in range(0, space.cardinality, chunk):
        ordinals = np.arange(lo, min(space.cardinality, lo + chunk), dtype=np.int64)
        canon = _canonical_ordinals(sim, space, ordinals)
        pos = np.searchsorted(reps, canon, sorter=order).clip(max=len(reps) - 1)
        hit = reps[order[pos]] == canon
        ords.append(ordinals[hit])
        which.append(order[pos[hit]])
    return np.concatenate(ords), np.concatenate(which)


def find_optimum(env: gym.Env, *, limit: int = DEFAULT_LIMIT, chunk: int = 1 << 18,  # noqa: C901
                 progress: bool | None = None) -> Optimum:
    """Evaluate every design of ``env``'s (finite) space with its objective; keep the best and the front.

    When the simulator declares classes of exactly equivalent designs (``Simulator.canonical_indices``),
    each class is evaluated once, through its representative, and counted as many times as it has
    designs; ties, examples and the front then list the designs themselves, as an evaluation of every
    design would. Designs go to ``evaluate_batch`` in chunks of at most ``chunk``. The first chunk is
    small and timed, and later ones are sized to take about a second each, so progress (with an
    estimate of the time left) moves for slow simulators too. When the estimated total exceeds a minute
    it is also written to stderr, progress line or not, and again whenever it doubles."""
    denv = env.unwrapped
    if not isinstance(denv, DesignEnv):
        raise ValueError(f"find_optimum needs an archgym DesignEnv, got {type(denv).__name__}")
    space, sim, objective = denv.space, denv.simulator, denv.objective
    if not space.discrete:
        raise ValueError("the space has continuous parameters: it cannot be enumerated")
    total = space.cardinality
    if total > limit:
        raise ValueError(f"{env.spec.id if env.spec else 'this env'} has {total:,} designs, more than the "
                         f"enumeration limit of {limit:,}: exhaustive search is out of reach")
    names = _pareto_metrics(denv)
    signs = np.array([1.0 if sim.metric(m).direction is Direction.MINIMIZE else -1.0 for m in names])
    target = objective if isinstance(objective, TargetObjective) else None

    start = time.perf_counter()
    classes = _classes(sim, space, chunk)
    units = total if classes is None else len(classes[0])  # what is evaluated: designs or classes
    what = "designs" if classes is None else f"classes of equivalent designs (of {total:,} designs)"
    best_reward, best_units, optimal = -np.inf, [], 0
    meeting, feasible = 0, 0
    front_pts = np.empty((0, len(names)))
    front_ord = np.empty(0, dtype=np.int64)
    lo, size, announced = 0, min(chunk, _FIRST_CHUNK), 0.0
    with Progress(units, "optimum", enabled=progress) as bar:
        while lo < units:
            if classes is None:
                ordinals = np.arange(lo, min(units, lo + size), dtype=np.int64)
                weight = np.ones(len(ordinals), dtype=np.int64)
            else:
                ordinals, weight = classes[0][lo: lo + size], classes[1][lo: lo + size]
            t0 = time.perf_counter()
            batch = sim.evaluate_batch(space.indices_from_ordinals(ordinals))
            per_unit = (time.perf_counter() - t0) / len(ordinals)
            lo += len(ordinals)
            size = int(min(chunk, max(_FIRST_CHUNK, _CHUNK_SECONDS / max(per_unit, 1e-9))))
            expected = (time.perf_counter() - start) / lo * units  # at the mean rate so far
            if lo < units and expected > max(_WARN_SECONDS, 2 * announced):  # first estimate, or one that doubled
                announced = expected
                print(f"optimum: {units:,} {what} at {(time.perf_counter() - start) / lo * 1e3:.3g} ms each so "
                      f"far ({lo:,} done): about {duration(expected)} in all (a smaller space, or the proxy "
                      "backend, is faster)", file=sys.stderr)
            rewards = objective.batch(batch)
            feasible += int(weight[batch.feasible].sum())
            top = rewards.max()
            if top > best_reward + 1e-12:
                best_reward, optimal, best_units = float(top), 0, []
            if top >= best_reward - 1e-12:
                hits = np.flatnonzero(rewards >= best_reward - 1e-12)
                optimal += int(weight[hits].sum())
                kept = hits if classes is not None else hits[: _TIES_KEPT - len(best_units)]
                best_units.extend(ordinals[kept].tolist())
            if target is not None:
                meeting += int(weight[rewards >= 1.0].sum())
            if names:
                ok = batch.feasible
                pts = np.column_stack([batch.metrics[m][ok] for m in names]) * signs
                ords = ordinals[ok]
                alive = ~dominated_by(pts, front_pts)
                pts, ords = pts[alive], ords[alive]
                if len(pts):
                    merged = np.concatenate([front_pts, pts])
                    keep = pareto_mask(merged)
                    front_pts = merged[keep]
                    front_ord = np.concatenate([front_ord, ords])[keep]
            bar.update(lo, f"best {best_reward:.4f}")

    if classes is not None:  # from classes back to designs, in ordinal order as a loop over designs lists them
        best_ords, _ = _members(sim, space, np.array(best_units, dtype=np.int64), chunk)
        best_units = best_ords[:_TIES_KEPT].tolist()
        if len(front_ord):
            front_ord, which = _members(sim, space, front_ord, chunk)
            front_pts = front_pts[which]
    best = space.decode_indices(space.indices_from_ordinals(np.array(best_units[:1]))[0])
    front = []
    if len(front_pts):  # one entry per point of the front (in metric order): its first design and how many share it
        points, first, count = np.unique(front_pts, axis=0, return_index=True, return_counts=True)
        for point, i, n in zip(points[:_FRONT_KEPT], first, count):
            design = space.decode_indices(space.indices_from_ordinals(front_ord[i: i + 1])[0])
            front.append({"design": design, "metrics": dict(zip(names, (point * signs).tolist())), "designs": int(n)})
    examples = [space.decode_indices(r) for r in space.indices_from_ordinals(np.array(best_units))]
    return Optimum(
        env_id=env.spec.id if env.spec else type(sim).__name__, workload=sim.workload,
        objective=objective.to_dict(), designs=int(total), best_reward=best_reward, best_design=best,
        best_metrics=sim.evaluate(best).metrics, optimal_designs=optimal, optimal_examples=examples,
        meeting_targets=meeting if target is not None else None, feasible_designs=feasible,
        pareto_metrics=names, pareto_front=front, seconds=time.perf_counter() - start, evaluated=int(units),
    )
