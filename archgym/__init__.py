"""archgym: a gymnasium for machine-learning-assisted accelerator design.

Importing ``archgym`` registers the environment ids (built-in, and plug-ins of the ``archgym.envs``
entry-point group) with gymnasium, and with Ray's registry once the program uses Ray, and nothing
heavier: simulators load when an env is made (see ``archgym.registry``).

    import gymnasium as gym, archgym
    env = gym.make("archgym/Systolic-v0", workload="resnet18")
"""

from __future__ import annotations

from archgym.registry import BUILTIN as ENVIRONMENTS  # env id -> "module:SimulatorClass"
from archgym.registry import follow_ray, register_envs

__version__ = "0.1.0"

register_envs()  # the built-in ids and the plug-ins of the ``archgym.envs`` entry-point group
follow_ray()  # RLlib's env runners find the ids in Ray's registry (registered once the program uses Ray)


# The loop itself (``archgym.explore(env, agent, budget=..., seed=...)``). Binding the function after
# the submodule import keeps ``archgym.explore`` the function even when ``archgym.explore`` the module
# is imported elsewhere. It pulls in numpy and gymnasium only.
from archgym.explore import ExploreResult, explore  # noqa: E402

__all__ = ["ENVIRONMENTS", "ExploreResult", "__version__", "explore"]
