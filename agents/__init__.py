"""Search agents: how to explore a ``simulators.core.DesignSpace``. Imports ``simulators``, never ``archgym``."""
