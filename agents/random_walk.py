"""Random walk: uniform sampling of the whole space, or a local walk between neighbouring designs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agents.base import Agent, Hyperparameter
from simulators.core import Evaluation


class RandomWalk(Agent):
    """``mode="uniform"``: every design drawn uniformly at random (ArchGym's random walker).

    ``mode="local"``: a walk that proposes a random neighbour (one knob moved one step) of the best
    design found so far, restarting from a uniform sample with probability ``restart``.
    """

    name = "random_walk"
    hyperparameters = {
        "mode": Hyperparameter("uniform", str, choices=("uniform", "local"), doc="uniform sampling or local walk"),
        "restart": Hyperparameter(0.05, float, 0.0, 1.0, doc="local mode: chance of a fresh uniform sample",
                                  acts_when={"mode": ("local",)}),
    }

    def __init__(self, space, *, seed=None, **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        self._best: dict[str, Any] | None = None
        self._best_reward = -np.inf

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        n = self._check_ask(n)
        if self.config["mode"] == "uniform" or self._best is None:
            return self.space.sample(self.rng, n=n)
        out = []
        for _ in range(n):
            if self.rng.random() < self.config["restart"]:
                out.append(self.space.sample(self.rng))
                continue
            neighbours = self.space.neighbors(self._best)
            out.append(neighbours[int(self.rng.integers(len(neighbours)))] if neighbours else dict(self._best))
        return out

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        for design, reward in zip(designs, rewards):
            if reward > self._best_reward:
                self._best, self._best_reward = dict(design), float(reward)
