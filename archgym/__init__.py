"""archgym: a gymnasium for machine-learning-assisted accelerator design.

Importing ``archgym`` registers the environment ids with gymnasium and nothing heavier: simulators
load when an env is made.

    import gymnasium as gym, archgym
    env = gym.make("archgym/Systolic-v0", workload="resnet18")
"""

from __future__ import annotations

import gymnasium

__version__ = "0.1.0"

#: env id -> the simulator class behind it ("module:Class"), in the order ``archgym list`` shows them
ENVIRONMENTS: dict[str, str] = {
    "archgym/Systolic-v0": "simulators.systolic:SystolicSimulator",
    "archgym/DRAM-v0": "simulators.dram:DRAMSimulator",
    "archgym/SoC-v0": "simulators.soc:SoCSimulator",
    "archgym/Quant-v0": "simulators.quant:QuantSimulator",
}

for _env_id, _simulator in ENVIRONMENTS.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(_env_id, entry_point="archgym.envs:make_design_env", kwargs={"simulator": _simulator})


# The loop itself (``archgym.explore(env, agent, budget=..., seed=...)``). Binding the function after
# the submodule import keeps ``archgym.explore`` the function even when ``archgym.explore`` the module
# is imported elsewhere. It pulls in numpy and gymnasium only.
from archgym.explore import ExploreResult, explore  # noqa: E402

__all__ = ["ENVIRONMENTS", "ExploreResult", "__version__", "explore"]
