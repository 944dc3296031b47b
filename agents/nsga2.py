"""NSGA-II (Deb et al. 2002) on DEAP's ``selNSGA2``: a multi-objective search for the Pareto front.

The objectives are the metrics the task names, with their directions: ``archgym.explore`` tells
every agent ``set_objectives(metrics)`` before its first ask (the target metrics of a target
objective, the weighted metrics of a weighted sum), and each told ``Evaluation`` carries their
values. Told no objectives (e.g. driven by hand through ask/tell), the agent maximises the reward
as its single objective, so it still searches any task.

Genomes are index vectors, as in ``agents.genetic`` (every value of every knob reachable, no
decoding bias). Each generation: binary tournaments on Pareto rank and crowding distance
(``selTournamentDCD``), two-point crossover, uniform integer mutation (``agents.genetic.vary``);
then parents and offspring compete in ``selNSGA2`` (non-dominated sorting, crowding distance
within the last front admitted) for the next population. Offspring that repeat a design already
evaluated are mutated again (up to ten times), so the budget buys new designs. Infeasible designs
rank behind every feasible one (Deb's constrained domination, by a finite worst-possible fitness).
With ``log_scale`` (the default), a metric positive across the pool is compared by its logarithm:
dominance is unchanged, and crowding spreads the front evenly in ratios, not in absolute values
(latency and energy span orders of magnitude).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from deap import base, tools

from agents.base import Agent, Hyperparameter
from agents.genetic import _deap_random, variation_hyperparameters, vary
from simulators.core import Evaluation

_WORST = 1e300  # the fitness of an infeasible design on every objective, in its bad direction
_RETRIES = 10  # re-mutations of an offspring that repeats an evaluated design


class _Member(list):
    """An index genome with its objective values (``None``: infeasible) and a DEAP fitness."""

    def __init__(self, genes: Sequence[int], weights: tuple[float, ...]) -> None:
        super().__init__(int(g) for g in genes)
        self.fitness = _fitness_class(weights)()
        self.objectives: tuple[float, ...] | None = None


_FITNESS: dict[tuple[float, ...], type] = {}


def _fitness_class(weights: tuple[float, ...]) -> type:
    """DEAP declares weights per Fitness class: one class per direction pattern, made once."""
    if weights not in _FITNESS:
        _FITNESS[weights] = type("_Fitness", (base.Fitness,), {"weights": weights})
    return _FITNESS[weights]


class NSGA2(Agent):
    """The elitist non-dominated sorting genetic algorithm over index genomes (DEAP operators)."""

    name = "nsga2"
    hyperparameters = {
        "population": Hyperparameter(32, int, 4, 100_000, doc="individuals per generation (a multiple of 4)"),
        **variation_hyperparameters(crossover_prob=0.9, mutation_prob=1.0),
        "log_scale": Hyperparameter(True, bool, doc="compare metrics positive across the pool by their logarithm"),
    }

    def __init__(self, space, *, seed=None, **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        if not space.indexable:
            raise ValueError("nsga2: needs a discrete design space (a float range needs levels=N)")
        if self.config["population"] % 4:
            raise ValueError(f"nsga2: population must be a multiple of 4 (DEAP's selTournamentDCD), "
                             f"got {self.config['population']}")
        self._high = [int(n) - 1 for n in space.nvec]
        self._indpb = self.config["gene_mutation_prob"] or 1.0 / len(space)
        self._names: tuple[str, ...] = ()
        self._weights: tuple[float, ...] = (1.0,)  # maximise the reward until told objectives
        self._population: list[_Member] = []  # the survivors: parents of the next generation
        self._queue: list[_Member] = []  # generated, not yet asked
        self._pending: list[_Member] = []  # asked, waiting for tell
        self._told: list[_Member] = []  # evaluated members of the generation being built
        self._evaluated: set[tuple[int, ...]] = set()
        self._random = random.Random(int(self.rng.integers(2**63)))

    def set_objectives(self, objectives) -> None:
        super().set_objectives(objectives)
        if self._population or self._told or self._pending:
            raise ValueError("nsga2: objectives must be set before the search starts")
        if self.objectives:
            self._names = tuple(m.name for m in self.objectives)
            self._weights = tuple(float(m.sign) for m in self.objectives)  # DEAP's weights: +1 maximise

    @property
    def batch_size(self) -> int:
        return self.config["population"]

    def _member(self, genes: Sequence[int]) -> _Member:
        return _Member(genes, self._weights)

    def _offspring(self) -> list[_Member]:
        pop = self.config["population"]
        if not self._population:
            genomes = self.rng.integers(0, np.array(self._high) + 1, size=(pop, len(self._high)))
            return [self._member(g) for g in genomes]
        with _deap_random(self._random):
            parents = tools.selTournamentDCD(self._population, pop)
            children = [self._member(p) for p in parents]
            vary(children, self.config["crossover_prob"], self.config["mutation_prob"], self._high, self._indpb)
            for child in children:  # spend the budget on designs not seen before
                for _ in range(_RETRIES):
                    if tuple(child) not in self._evaluated:
                        break
                    tools.mutUniformInt(child, low=[0] * len(child), up=self._high, indpb=self._indpb)
        return children

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        n = self._check_ask(n)
        out = []
        for _ in range(n):
            if not self._queue:
                if self._pending:  # asked for more than a generation before telling: add immigrants
                    self._queue = [self._member(self.rng.integers(0, np.array(self._high) + 1))]
                else:
                    self._queue = self._offspring()
            member = self._queue.pop(0)
            self._pending.append(member)
            out.append(self.space.decode_indices(np.array(member)))
        return out

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        for design, reward, evaluation in zip(designs, rewards, evaluations):
            genes = [int(i) for i in self.space.encode_indices(design)]
            match = next((k for k, m in enumerate(self._pending) if list(m) == genes), None)
            member = self._pending.pop(match) if match is not None else self._member(genes)
            member.objectives = self._objective_values(float(reward), evaluation)
            self._evaluated.add(tuple(genes))
            self._told.append(member)
        if not self._queue and not self._pending:  # the generation is complete: parents and offspring compete
            pool = self._population + self._told
            self._assign_fitness(pool)
            self._population = tools.selNSGA2(pool, min(len(pool), self.config["population"]))
            self._told = []

    def _objective_values(self, reward: float, evaluation: Evaluation) -> tuple[float, ...] | None:
        if not self._names:
            return (reward,) if math.isfinite(reward) else None
        if not evaluation.feasible:
            return None
        try:
            values = tuple(float(evaluation.metrics[name]) for name in self._names)
        except KeyError as exc:
            raise ValueError(f"nsga2: the evaluation has no metric {exc.args[0]!r} (objectives "
                             f"{list(self._names)}; it has {sorted(evaluation.metrics)})") from None
        return values if all(math.isfinite(v) for v in values) else None

    def _assign_fitness(self, pool: Sequence[_Member]) -> None:
        """Fitness values of the pool: the objectives (logged where positive across the pool), infeasible worst."""
        feasible = [m.objectives for m in pool if m.objectives is not None]
        logged = [bool(feasible) and self.config["log_scale"] and all(v[i] > 0 for v in feasible)
                  for i in range(len(self._weights))]
        worst = tuple(-w * _WORST for w in self._weights)
        for m in pool:
            if m.objectives is None:
                m.fitness.values = worst
            else:
                m.fitness.values = tuple(math.log(v) if lg else v for v, lg in zip(m.objectives, logged))
