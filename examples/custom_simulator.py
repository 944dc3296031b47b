"""Bring your own simulator: subclass ``simulators.core.Simulator`` and the shared env runs it.

Run ``python examples/custom_simulator.py``. Nothing else in archgym needs to change: the same
``DesignEnv``, objectives and agents work on any simulator that fills in ``space``, ``metrics`` and
``_evaluate``.

To make the simulator an environment that every tool and ``archgym`` command knows by id, list it in
your package's ``pyproject.toml``; ``import archgym`` then registers it::

    [project.entry-points."archgym.envs"]
    "mylab/Cache-v0" = "mylab.cache:CacheSimulator"
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from archgym.envs import DesignEnv
from simulators.core import Choice, DesignSpace, Direction, Evaluation, IntRange, Metric, Simulator


class CacheSimulator(Simulator):
    """A toy cache model: bigger and more associative caches miss less but cost area and hit time."""

    metrics = (
        Metric("miss_rate", "fraction", Direction.MINIMIZE, "share of accesses that miss"),
        Metric("area", "mm^2", Direction.MINIMIZE, "data array area"),
        Metric("latency", "s", Direction.MINIMIZE, "average memory access time"),
    )

    def __init__(self, workload: str = "streaming") -> None:
        self.workload = workload
        self.space = DesignSpace([
            IntRange("size_kb", 4, 512, power_of_two=True, unit="KB", description="capacity"),
            IntRange("ways", 1, 16, power_of_two=True, description="associativity"),
            Choice("policy", ["lru", "random"], description="replacement policy"),
        ])

    def _evaluate(self, design: dict) -> Evaluation:
        size, ways = design["size_kb"], design["ways"]
        miss = 0.5 * (size / 4) ** -0.5 * (1.1 if design["policy"] == "random" else 1.0) * (1 + 0.5 / ways)
        hit_time = 1e-9 * (1 + 0.1 * np.log2(size) + 0.05 * ways)
        return Evaluation({"miss_rate": miss, "area": 0.01 * size * (1 + 0.02 * ways),
                           "latency": hit_time + miss * 50e-9})


def main() -> None:
    # 1. Directly: the shared environment class around the user's simulator.
    env = DesignEnv(CacheSimulator(), targets={"latency": 5e-9, "area": 2.0})
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(env.action_space.sample())
    print(f"direct: reward {reward:.3f}, design {info['design']}")

    # 2. Registered under the user's own id, made like any other gymnasium environment.
    gym.register("mylab/Cache-v0", entry_point="archgym.envs:make_design_env",
                 kwargs={"simulator": CacheSimulator, "targets": {"latency": 5e-9, "area": 2.0}})
    env = gym.make("mylab/Cache-v0", workload="pointer-chasing")
    env.reset(seed=0)
    design = {"size_kb": 64, "ways": 4, "policy": "lru"}
    _, reward, *_ = env.step(env.unwrapped.design_to_action(design))
    print(f"registered: reward {reward:.3f} for {design}")


if __name__ == "__main__":
    main()
