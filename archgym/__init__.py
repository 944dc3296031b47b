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
}

for _env_id, _simulator in ENVIRONMENTS.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(_env_id, entry_point="archgym.envs:make_design_env", kwargs={"simulator": _simulator})

__all__ = ["ENVIRONMENTS", "__version__"]
