"""Search agents: how to explore a ``simulators.core.DesignSpace``. Imports ``simulators``, never ``archgym``.

``agents.available()`` lists the names, ``agents.get(name)`` returns the class, built as
``cls(space, seed=..., **hyperparameters)``; see ``agents.base`` for the ask/tell interface and for
plugging in your own agent.
"""

from agents.base import ENTRY_POINT_GROUP, Agent, Hyperparameter, available, get, register

__all__ = ["ENTRY_POINT_GROUP", "Agent", "Hyperparameter", "available", "get", "register"]
