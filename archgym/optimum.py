"""The exact optimum of a task by exhaustion: every design of a finite space, evaluated in batches.

Our simulators are fast enough to enumerate spaces of up to ~10^7 designs (the systolic env's 5.3
million in under a minute), so reports can show each agent's exact regret and how often it found the
optimum. For multi-objective work the true Pareto front over the objective's metrics comes with it.
A simulator that knows which designs cost exactly the same (``Simulator.canonical_indices``: the DRAM
controller's knobs that cannot act given the others) has each such class evaluated once.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from archgym.envs import DesignEnv
from archgym.io import checked_record, dumps, json_data, read_json, write_json
from archgym.objective import TargetObjective, dominated_by, pareto_mask
from archgym.progress import Progress, duration
from simulators.core import DesignSpace, Direction, Simulator
from simulators.params import check_int, is_integer, is_number

__all__ = ["Optimum", "best_known", "check_optimum", "ensure_run_optimum", "find_optimum", "load_optimum"]

DEFAULT_LIMIT = 10_000_000
_FIRST_CHUNK = 256  # designs in the first (timed) chunk
_CHUNK_SECONDS = 1.0  # later chunks are sized to take about this long
_WARN_SECONDS = 60.0  # an enumeration expected to take longer is announced on stderr
_TIES_KEPT = 20
_FRONT_KEPT = 5_000
#: how an optimum was found: every design (or class) evaluated, dynamic programming over an additive
#: structure, or the best of long searches (a bound unless it reaches the objective's maximum)
METHODS = ("enumeration", "dynamic programming", "search")


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
    optimal_designs: int | None  # how many designs reach best_reward (None: not counted, a search's result)
    optimal_examples: list[dict[str, Any]]  # up to 20 of them
    meeting_targets: int | None  # designs meeting every target (target objectives)
    feasible_designs: int | None  # None: not counted (a search, or dynamic programming)
    pareto_metrics: list[str]
    # one entry per point of the front: {"design": the first reaching it, "metrics": ..., "designs": how many do}
    pareto_front: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    method: str = "enumeration"  # or "dynamic programming" (an additive structure), "search" (a bound)
    exact: bool = True  # best_reward is the true optimum (False: the best known, a lower bound)
    note: str = ""  # what the counts mean when they are not a full enumeration's
    evaluated: int = 0  # designs evaluated: one per class of equivalent designs (0: not recorded)
    #: the simulator's constructor settings as a dataset records them (None: a file from before they were kept)
    settings: dict[str, Any] | None = None

    def to_json(self) -> str:
        return dumps(asdict(self))

    def _problem(self) -> str | None:
        """What makes the values impossible (a hand-edited or broken file), or ``None``."""
        def count(x: Any, low: int = 0) -> bool:
            return is_integer(x) and x >= low

        for name in ("env_id", "workload", "note"):
            if not isinstance(getattr(self, name), str):
                return f"{name} must be a string, got {getattr(self, name)!r}"
        if not (is_number(self.best_reward) and math.isfinite(self.best_reward)):
            return f"best_reward must be a finite number, got {self.best_reward!r}"
        for name in ("designs", "evaluated"):
            if not count(getattr(self, name)):
                return f"{name} must be an integer >= 0, got {getattr(self, name)!r}"
        for name in ("optimal_designs", "meeting_targets", "feasible_designs"):
            if getattr(self, name) is not None and not count(getattr(self, name)):
                return f"{name} must be an integer >= 0 or null (not counted), got {getattr(self, name)!r}"
        if self.method not in METHODS:
            return f"method must be one of {list(METHODS)}, got {self.method!r}"
        if not isinstance(self.exact, bool):
            return f"exact must be true or false, got {self.exact!r}"
        if not (is_number(self.seconds) and self.seconds >= 0):
            return f"seconds must be a number >= 0, got {self.seconds!r}"
        for name in ("objective", "best_design", "best_metrics"):
            if not isinstance(getattr(self, name), dict):
                return f"{name} must be a JSON object, got {type(getattr(self, name)).__name__}"
        if self.settings is not None and not isinstance(self.settings, dict):
            return f"settings must be a JSON object or null, got {type(self.settings).__name__}"
        if not all(is_number(v) for v in self.best_metrics.values()):
            return "best_metrics must map metric names to numbers"
        if not (isinstance(self.pareto_metrics, list) and all(isinstance(m, str) for m in self.pareto_metrics)):
            return "pareto_metrics must be a list of metric names"
        for name in ("optimal_examples", "pareto_front"):
            if not (isinstance(getattr(self, name), list) and all(isinstance(x, dict) for x in getattr(self, name))):
                return f"{name} must be a list of JSON objects"
        for point in self.pareto_front:
            if not (isinstance(point.get("design"), dict) and isinstance(point.get("metrics"), dict)
                    and list(point["metrics"]) == self.pareto_metrics
                    and all(is_number(v) for v in point["metrics"].values())):
                return ("each pareto_front point must be {design: {...}, metrics: {...}} with a number for each "
                        "of pareto_metrics")
        return None

    def save(self, path: str | Path) -> Path:
        """Write the optimum as JSON (atomically)."""
        write_json(path, asdict(self))
        return Path(path)


def load_optimum(path: str | Path) -> Optimum:
    """An optimum written by ``Optimum.save`` / ``archgym optimum --out``."""
    data = read_json(path, "optimum")
    known = {f.name for f in fields(Optimum)}
    if not isinstance(data, dict) or set(data) - known or not {f.name for f in fields(Optimum)
                                                                 if f.default is MISSING
                                                                 and f.default_factory is MISSING} <= set(data):
        raise ValueError(f"{path}: not an optimum written by `archgym optimum` (fields {sorted(known)})")
    return checked_record(Optimum(**data), str(path), " (a broken or edited file: in a run directory, delete it "
                                                      "and `archgym sweep RUN_DIR --resume` computes it again)")


def _pareto_metrics(denv: DesignEnv) -> list[str]:
    names = list(denv.objective.metric_names)
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
    if not sim.declares_equivalences:
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
    limit = check_int(limit, "limit", low=1)
    chunk = check_int(chunk, "chunk", low=1)
    space, sim, objective = denv.space, denv.simulator, denv.objective
    structure = sim.additive_structure()
    if structure is not None and (not space.discrete or space.cardinality > limit):
        return _optimum_by_groups(env, structure, progress=progress)
    if not space.discrete:
        raise ValueError("the space has continuous parameters: it cannot be enumerated")
    total = space.cardinality
    if total > limit:
        raise ValueError(f"{env.spec.id if env.spec else 'this env'} has {total:,} designs, more than the "
                         f"enumeration limit of {limit:,}: exhaustive search is out of reach (a best-known design "
                         "from long searches, labelled as a bound, is `archgym optimum ENV --best-known`)")
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
        settings=simulator_settings(sim), objective=objective.to_dict(), designs=int(total), best_reward=best_reward,
        best_design=best,
        best_metrics=sim.evaluate(best).metrics, optimal_designs=optimal, optimal_examples=examples,
        meeting_targets=meeting if target is not None else None, feasible_designs=feasible,
        pareto_metrics=names, pareto_front=front, seconds=time.perf_counter() - start, evaluated=int(units),
    )


def _objective_metrics(denv: DesignEnv) -> list[str]:
    names = list(denv.objective.metric_names)
    if not names:
        raise ValueError(f"the exact optimum needs an objective made of named metrics (targets or a weighted "
                         f"sum), not {type(denv.objective).__name__}")
    return names


def _optimum_by_groups(env: gym.Env, structure: Any, *, progress: bool | None = None) -> Optimum:
    """The optimum of a simulator with an ``AdditiveStructure``: every design on the exact Pareto front of
    the objective's metrics (``archgym.frontier``), evaluated; the objective (monotone in each metric)
    peaks there."""
    from archgym.frontier import exact_front

    denv = env.unwrapped
    space, sim, objective = denv.space, denv.simulator, denv.objective
    start = time.perf_counter()
    metrics = _objective_metrics(denv)
    front = exact_front(structure, space, metrics)
    batch = sim.evaluate_batch(front.indices)
    if not batch.feasible.all():
        raise ValueError(f"{type(sim).__name__} declares an additive structure but reports infeasible designs")
    rewards = objective.batch(batch)
    best = float(rewards.max())
    hits = np.flatnonzero(rewards >= best - 1e-12)
    names = _pareto_metrics(denv)
    signs = np.array([1.0 if sim.metric(m).direction is Direction.MINIMIZE else -1.0 for m in names])
    pareto = []
    if names:
        pts = np.column_stack([batch.metrics[m] for m in names])
        keep = np.flatnonzero(pareto_mask(pts * signs))
        keep = keep[np.lexsort((pts[keep] * signs).T[::-1])][:_FRONT_KEPT]
        designs = space.decode_indices_batch(front.indices[keep])
        pareto = [{"design": d, "metrics": dict(zip(names, pts[i].tolist()))} for d, i in zip(designs, keep)]
    examples = space.decode_indices_batch(front.indices[hits[:_TIES_KEPT]])
    counted = int(round(float(front.counts[hits].sum())))
    with Progress(1, "optimum", enabled=progress) as bar:
        bar.update(1, f"best {best:.4f}")
    return Optimum(
        env_id=env.spec.id if env.spec else type(sim).__name__, workload=sim.workload,
        settings=simulator_settings(sim), objective=objective.to_dict(), designs=int(space.cardinality),
        best_reward=best, best_design=examples[0],
        best_metrics=sim.evaluate(examples[0]).metrics, optimal_designs=counted, optimal_examples=examples,
        meeting_targets=None, feasible_designs=None, pareto_metrics=names, pareto_front=pareto,
        seconds=time.perf_counter() - start, method="dynamic programming", exact=True,
        note=(f"exact over all {space.cardinality:.3g} designs by dynamic programming over "
              f"{len(structure.groups)} groups ({len(front):,} designs on the front of {', '.join(front.term_names)}); "
              "optimal_designs counts the designs of that front reaching the best reward, a lower bound (a met "
              "target stops counting, so designs off the front can tie); designs meeting the targets and "
              "feasible designs are not counted"),
    )


#: the searches behind a best-known design: (agent, hyperparameters), each run with every seed
BEST_KNOWN_SEARCHES = (("ga", {"population": 64}), ("aco", {}), ("random_walk", {"mode": "local"}))
#: evaluations per search of ``best_known``
BEST_KNOWN_BUDGET = 20_000


def best_known(env: gym.Env, *, budget: int = BEST_KNOWN_BUDGET, seeds: Sequence[int] = (0, 1, 2),
               searches: Sequence[tuple[str, Mapping[str, Any]]] = BEST_KNOWN_SEARCHES,
               progress: bool | None = None) -> Optimum:
    """A best-known design of a space too large to enumerate and without an additive structure: the best
    of several long searches (``searches`` x ``seeds``, ``budget`` evaluations each), then a hill climb
    over one-knob moves until no neighbour is better. Labelled a bound (``exact=False``): the true
    optimum is at least this good, and an agent may find better."""
    from archgym.explore import explore

    denv = env.unwrapped
    if not isinstance(denv, DesignEnv):
        raise ValueError(f"best_known needs an archgym DesignEnv, got {type(denv).__name__}")
    space, sim, objective = denv.space, denv.simulator, denv.objective
    start = time.perf_counter()
    best_reward, best_design, found_by, evaluations = -np.inf, None, "", 0
    runs = [(a, dict(h), s) for a, h in searches for s in seeds]
    with Progress(len(runs) + 1, "best known", enabled=progress) as bar:
        for k, (agent, hps, seed) in enumerate(runs):
            result = explore(env, agent, budget, seed, hyperparameters=hps, progress=False, keep_records=False)
            evaluations += result.evaluations
            if result.best_reward > best_reward:
                best_reward, best_design = result.best_reward, dict(result.best_design)
                found_by = f"{agent} {hps or ''} seed {seed}".replace("  ", " ")
            bar.update(k + 1, f"best {best_reward:.4f}")
        climbed = 0
        while True:  # steepest ascent over one-knob moves from the best design
            neighbours = space.neighbors(best_design)
            batch = sim.evaluate_batch(space.encode_indices_batch(neighbours)) if space.indexable else None
            rewards = objective.batch(batch) if batch is not None else \
                np.array([objective(sim.evaluate(d)) for d in neighbours])
            evaluations += len(neighbours)
            i = int(np.argmax(rewards)) if len(rewards) else -1
            if i < 0 or rewards[i] <= best_reward + 1e-12:
                break
            best_reward, best_design, climbed = float(rewards[i]), neighbours[i], climbed + 1
        bar.update(len(runs) + 1, f"best {best_reward:.4f}")
    how = (f"best of {len(runs)} searches of {budget:,} evaluations ({', '.join(a for a, _ in searches)} x seeds "
           f"{list(seeds)}; found by {found_by}), then {climbed} hill-climbing step(s) over one-knob moves; "
           f"{evaluations:,} evaluations in all. A bound, not an exhaustive optimum.")
    metrics = sim.evaluate(best_design).metrics
    ceiling = objective.reward_range[1]
    exact = bool(best_reward >= ceiling - 1e-12)
    if exact:  # nothing scores above the objective's maximum
        how = how.replace("A bound, not an exhaustive optimum.", f"It reaches the objective's maximum ({ceiling:g}), "
                          "so it is optimal (how many designs do is not counted).")
    return Optimum(
        env_id=env.spec.id if env.spec else type(sim).__name__, workload=sim.workload, objective=objective.to_dict(),
        settings=simulator_settings(sim), designs=int(space.cardinality) if space.discrete else 0,
        best_reward=float(best_reward),
        best_design=best_design, best_metrics=metrics, optimal_designs=None, optimal_examples=[best_design],
        meeting_targets=None, feasible_designs=None, pareto_metrics=[], seconds=time.perf_counter() - start,
        method="search", exact=exact, note=how,
    )


def check_optimum(optimum: Optimum, env_id: str, env: gym.Env, where: str) -> None:
    """``ValueError`` (naming ``where``) when ``optimum`` is not the optimum of ``env``'s task: another env,
    workload, objective (targets, weights) or simulator setting; a file from before settings were kept is
    checked on the rest."""
    from archgym.dataset.provenance import comparable

    denv = env.unwrapped
    sim = denv.simulator
    differ = []
    if optimum.env_id != env_id:
        differ.append(f"env {optimum.env_id!r} vs {env_id!r}")
    if optimum.workload != sim.workload:
        differ.append(f"workload {optimum.workload!r} vs {sim.workload!r}")
    if comparable(optimum.objective) != comparable(json_data(denv.objective.to_dict())):
        differ.append(f"objective {optimum.objective} vs {denv.objective.to_dict()}")
    if optimum.settings is not None:
        ours, theirs = comparable(simulator_settings(sim)), comparable(optimum.settings)
        differ += [f"setting {k}={theirs.get(k)!r} vs {ours.get(k)!r}" for k in sorted(set(ours) | set(theirs))
                   if ours.get(k) != theirs.get(k)]
    if differ:
        raise ValueError(f"{where} is the optimum of another task than this run's: " + "; ".join(differ)
                         + " (delete it, and `archgym sweep RUN_DIR --resume` computes this run's)")


def simulator_settings(sim: Simulator) -> dict[str, Any]:
    """The settings an optimum records (as a dataset records them), as plain JSON data."""
    from archgym.dataset.provenance import simulator_settings as record

    return json_data(record(sim))


def ensure_run_optimum(run_dir: str | Path, *, progress: bool | None = None) -> Optimum | None:
    """A sweep's exact optimum: read from its run directory (``ValueError`` when that file is another
    task's), or computed once and saved there when the spec asks for it (``optimum: true``); ``None`` when
    it does not."""
    from archgym.runs import OPTIMUM_FILE, load_run_spec, read_optimum

    existing = read_optimum(run_dir)
    spec = load_run_spec(run_dir)
    if existing is None and not spec.optimum:
        return None
    env = gym.make(spec.env_id, **spec.env_kwargs)
    if existing is not None:
        check_optimum(existing, spec.env_id, env, str(Path(run_dir) / OPTIMUM_FILE))
        return existing
    optimum = best_known(env, progress=progress) if spec.optimum == "best-known" else \
        find_optimum(env, progress=progress)
    optimum.save(Path(run_dir) / OPTIMUM_FILE)
    return optimum
