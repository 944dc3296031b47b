"""Genetic algorithm on DEAP's operators, with integer-index genomes over the design space.

A genome is the design's index vector (one gene per parameter, ``0..n-1``), so every value of
every knob is reachable and no decoding biases any bound (ArchGym's Gray-coded bit strings could
exceed a knob's range and were clipped to its upper bound). Each generation: tournament selection,
two-point crossover with probability ``crossover_prob`` (uniform crossover for one-gene spaces),
uniform integer mutation of each gene with probability ``gene_mutation_prob`` for an individual
picked with ``mutation_prob``, and the ``elites`` best carried over unchanged. The budget sets the
number of generations: the explore loop asks for one population at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from deap import base, tools

from agents.base import Agent, Hyperparameter
from simulators.core import Evaluation


class _Fitness(base.Fitness):
    weights = (1.0,)  # maximise the reward


class _Individual(list):
    def __init__(self, genes: Sequence[int]) -> None:
        super().__init__(int(g) for g in genes)
        self.fitness = _Fitness()


def variation_hyperparameters(*, crossover_prob: float, mutation_prob: float) -> dict[str, Hyperparameter]:
    """The knobs of ``vary`` that GA and NSGA-II share, with each agent's own defaults."""
    return {
        "crossover_prob": Hyperparameter(crossover_prob, float, 0.0, 1.0, doc="chance a pair of parents is crossed"),
        "mutation_prob": Hyperparameter(mutation_prob, float, 0.0, 1.0, doc="chance an offspring is mutated"),
        "gene_mutation_prob": Hyperparameter(0.0, float, 0.0, 1.0,
                                             doc="chance each gene of a mutated offspring changes (0: 1/genes)"),
    }


class GeneticAlgorithm(Agent):
    """A generational GA with elitism over index genomes (DEAP selection, crossover and mutation)."""

    name = "ga"
    hyperparameters = {
        "population": Hyperparameter(32, int, 2, 100_000, doc="individuals per generation"),
        **variation_hyperparameters(crossover_prob=0.7, mutation_prob=0.3),
        "tournament_size": Hyperparameter(3, int, 1, None, doc="contestants per tournament"),
        "elites": Hyperparameter(1, int, 0, None, doc="best individuals copied into the next generation"),
    }

    def __init__(self, space, *, seed=None, **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        if not space.indexable:
            raise ValueError("ga: needs a discrete design space (a float range needs levels=N)")
        if self.config["elites"] >= self.config["population"]:
            raise ValueError(f"ga: elites ({self.config['elites']}) must be smaller than population "
                             f"({self.config['population']})")
        if self.config["tournament_size"] > self.config["population"]:
            raise ValueError(f"ga: tournament_size ({self.config['tournament_size']}) must be at most population "
                             f"({self.config['population']}): a tournament draws its contestants from one generation")
        self._high = [int(n) - 1 for n in space.nvec]
        self._indpb = self.config["gene_mutation_prob"] or 1.0 / len(space)
        self._population: list[_Individual] = []  # evaluated parents
        self._carried: list[_Individual] = []  # elites passed on to the generation being built
        self._queue: list[_Individual] = []  # generated, not yet asked
        self._pending: list[_Individual] = []  # asked, waiting for tell
        self._told: list[_Individual] = []  # evaluated members of the generation being built
        # DEAP's operators draw from the stdlib ``random`` module: give them a seeded stream of ours.
        self._random = random.Random(int(self.rng.integers(2**63)))

    @property
    def batch_size(self) -> int:
        return self.config["population"]

    def _random_individual(self) -> _Individual:
        return _Individual(self.rng.integers(0, np.array(self._high) + 1))

    def _next_generation(self) -> list[_Individual]:
        pop = self.config["population"]
        if not self._population:
            return [self._random_individual() for _ in range(pop)]
        with _deap_random(self._random):
            parents = tools.selTournament(self._population, pop, tournsize=self.config["tournament_size"])
            children = [_Individual(p) for p in parents]
            vary(children, self.config["crossover_prob"], self.config["mutation_prob"], self._high, self._indpb)
        self._carried = [_clone(e) for e in tools.selBest(self._population, self.config["elites"])]
        return children[: pop - len(self._carried)]

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        n = self._check_ask(n)
        out = []
        for _ in range(n):
            if not self._queue:
                if self._pending:  # asked for more than a generation before telling: add immigrants
                    self._queue = [self._random_individual()]
                else:
                    self._queue = self._next_generation()
            ind = self._queue.pop(0)
            self._pending.append(ind)
            out.append(self.space.decode_indices(np.array(ind)))
        return out

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        for design, reward in zip(designs, rewards):
            genes = [int(i) for i in self.space.encode_indices(design)]
            match = next((k for k, ind in enumerate(self._pending) if list(ind) == genes), None)
            ind = self._pending.pop(match) if match is not None else _Individual(genes)
            ind.fitness.values = (float(reward),)
            self._told.append(ind)
        if not self._queue and not self._pending:  # the generation is complete
            self._population = self._carried + self._told
            self._carried, self._told = [], []


def vary(children: Sequence[list], crossover_prob: float, mutation_prob: float, high: Sequence[int],
         indpb: float) -> None:
    """Cross consecutive pairs of index genomes (two-point; uniform for one gene) with ``crossover_prob``,
    then re-draw each gene with ``indpb`` in a child picked with ``mutation_prob``, in place. Call it inside
    ``_deap_random`` (DEAP's operators draw from the ``random`` module)."""
    for a, b in zip(children[::2], children[1::2]):
        if random.random() < crossover_prob:
            if len(a) > 1:
                tools.cxTwoPoint(a, b)
            else:
                tools.cxUniform(a, b, 0.5)
    for child in children:
        if random.random() < mutation_prob:
            tools.mutUniformInt(child, low=[0] * len(child), up=list(high), indpb=indpb)


def _clone(ind: _Individual) -> _Individual:
    copy = _Individual(ind)
    copy.fitness.values = ind.fitness.values
    return copy


@contextmanager
def _deap_random(rnd: random.Random) -> Iterator[None]:
    """Run DEAP's operators (which call the ``random`` module) on our seeded generator, then restore."""
    saved = random.getstate()
    random.setstate(rnd.getstate())
    try:
        yield
    finally:
        rnd.setstate(random.getstate())
        random.setstate(saved)
