"""Ant colony optimisation with a pheromone per parameter value (our own, after Dorigo's Ant Colony System).

Each ant builds a design knob by knob: with probability ``greediness`` it takes the value with the
most pheromone (ties broken at random), otherwise it draws one with probability proportional to
``pheromone ** alpha``. A *local update* pulls each chosen value back towards the initial level,
``tau <- (1 - decay) tau + decay tau0``, so ants of one iteration spread out. After every
``ant_count`` evaluations a *global update* evaporates all pheromone and reinforces the best design
found so far: ``tau <- (1 - evaporation) tau``, then ``+ evaporation`` on its values (a max-min bound
keeps every value at least ``tau_min``). Deposits depend on which design is best, never on the
reward's value or sign, so pheromone stays positive for any objective (ArchGym's DeepSwarm deposit
``1/(10 cost)`` went negative with negative costs). With ``restart`` > 0, after that many iterations
without a better design all pheromone returns to the initial level (the best design is kept), as the
max-min ant system does on stagnation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agents.base import Agent, Hyperparameter
from simulators.core import Evaluation

TAU0 = 1.0


class AntColony(Agent):
    """Ant colony optimisation over the values of each design parameter."""

    name = "aco"
    hyperparameters = {
        "ant_count": Hyperparameter(8, int, 1, None, doc="ants (designs) per iteration"),
        "evaporation": Hyperparameter(0.1, float, 0.0, 1.0, doc="global evaporation and deposit rate"),
        "greediness": Hyperparameter(0.7, float, 0.0, 1.0, doc="chance of taking the strongest value"),
        "decay": Hyperparameter(0.1, float, 0.0, 1.0, doc="local update towards the initial pheromone"),
        "alpha": Hyperparameter(1.0, float, 0.0, None, doc="pheromone exponent in the random choice"),
        "tau_min": Hyperparameter(0.01, float, 1e-9, 1.0, doc="lower bound on any pheromone (max-min system)"),
        "restart": Hyperparameter(0, int, 0, None,
                                  doc="iterations without a better design before pheromone is reset (0: never)"),
    }

    def __init__(self, space, *, seed=None, **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        if not space.indexable:
            raise ValueError("aco: needs a discrete design space (a float range needs levels=N)")
        self.pheromone = [np.full(int(n), TAU0) for n in space.nvec]
        self._best_indices: np.ndarray | None = None
        self._best_reward = -np.inf
        self._told_this_iteration = 0
        self._stale_iterations = 0
        self._improved = False

    @property
    def batch_size(self) -> int:
        return self.config["ant_count"]

    def _choose(self, tau: np.ndarray) -> int:
        if self.rng.random() < self.config["greediness"]:
            best = np.flatnonzero(tau == tau.max())
            return int(best[self.rng.integers(len(best))])
        weights = tau ** self.config["alpha"]
        return int(self.rng.choice(len(tau), p=weights / weights.sum()))

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        n = self._check_ask(n)
        decay = self.config["decay"]
        designs = []
        for _ in range(n):
            idx = np.empty(len(self.pheromone), dtype=np.int64)
            for j, tau in enumerate(self.pheromone):
                idx[j] = self._choose(tau)
                tau[idx[j]] = (1 - decay) * tau[idx[j]] + decay * TAU0
            designs.append(self.space.decode_indices(idx))
        return designs

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        for design, reward in zip(designs, rewards):
            if reward > self._best_reward:
                self._best_reward = float(reward)
                self._best_indices = self.space.encode_indices(design)
                self._improved = True
            self._told_this_iteration += 1
            if self._told_this_iteration >= self.config["ant_count"]:
                self._global_update()
                self._told_this_iteration = 0

    def _global_update(self) -> None:
        self._stale_iterations = 0 if self._improved else self._stale_iterations + 1
        self._improved = False
        if self.config["restart"] and self._stale_iterations >= self.config["restart"]:
            for tau in self.pheromone:  # stagnation: forget the trails, keep the best design
                tau.fill(TAU0)
            self._stale_iterations = 0
            return
        rho, floor = self.config["evaporation"], self.config["tau_min"]
        for j, tau in enumerate(self.pheromone):
            tau *= 1 - rho
            if self._best_indices is not None:
                tau[self._best_indices[j]] += rho * TAU0
            np.maximum(tau, floor, out=tau)
