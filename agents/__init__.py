"""Search agents: how to explore a ``simulators.core.DesignSpace``. Imports ``simulators``, never ``archgym``.

``agents.available()`` lists the names, ``agents.get(name)`` returns the class, built as
``cls(space, seed=..., **hyperparameters)``; see ``agents.base`` for the ask/tell interface and for
plugging in your own agent.
"""

from importlib.util import find_spec

from agents import _ray  # noqa: F401  (sets Ray's quiet defaults before any agent imports Ray)
from agents.base import (
    ENTRY_POINT_GROUP,
    Agent,
    Hyperparameter,
    available,
    get,
    plugins,
    refuse_unused_hyperparameters,
    register,
    unused_hyperparameters,
)

__all__ = ["ENTRY_POINT_GROUP", "TUNE_SEARCHERS", "Agent", "Hyperparameter", "available", "get", "register",
           "plugins", "refuse_unused_hyperparameters", "unused_hyperparameters"]

#: Ray Tune searchers that act as agents (``agents.tune_bridge``): name -> (library it needs, class).
#: Each is registered only when Ray and its library are installed, so ``available()`` lists only
#: what can be built; finding a module does not import it, so ``import agents`` stays cheap.
TUNE_SEARCHERS = {
    "optuna": ("optuna", "agents.tune_bridge:OptunaAgent"),
    "hyperopt": ("hyperopt", "agents.tune_bridge:HyperOptAgent"),
    "nevergrad": ("nevergrad", "agents.tune_bridge:NevergradAgent"),
}
for _name, (_library, _target) in TUNE_SEARCHERS.items():
    if find_spec("ray") is not None and find_spec(_library) is not None:
        register(_name, _target)
