"""The environments archgym knows: resolving an id a user typed, and describing an env from its code.

The command line, sweep specs and proxy training all name environments through ``resolve_env_id``:
a registered gymnasium id (``archgym/Systolic-v0``, or any id a user's package registered), a short
form of a built-in id (``Systolic-v0``, ``systolic``), or gymnasium's ``"module:ns/Name-vN"`` form,
which imports ``module`` first (so a user's env registered on import resolves with no other code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["describe_env", "make_env", "resolve_env_id", "workload_keyword"]


def resolve_env_id(text: str) -> str:
    """The registered env id ``text`` names (``ValueError`` listing what is available otherwise)."""
    import gymnasium

    import archgym

    if not isinstance(text, str) or not text:
        raise ValueError(f"an environment is named by its id, e.g. archgym/Systolic-v0; got {text!r}")
    if text in gymnasium.registry:
        return text
    if ":" in text:  # gymnasium's "module:id" form: importing the module registers the id
        from simulators.loading import import_module

        module, _, env_id = text.partition(":")
        import_module(module, "environment module")
        if env_id in gymnasium.registry:
            return env_id
        raise ValueError(f"importing {module!r} did not register environment {env_id!r}")
    for env_id in archgym.ENVIRONMENTS:
        short = env_id.split("/", 1)[1]
        if text.lower() in (env_id.lower(), short.lower(), short.split("-v")[0].lower()):
            return env_id
    raise ValueError(f"unknown environment {text!r}; available: {list(archgym.ENVIRONMENTS)} "
                     "(or a registered id, or 'package.module:namespace/Name-v0')")


def make_env(env_id: str, kwargs: Mapping[str, Any] | None = None):
    """The unwrapped ``DesignEnv`` of ``env_id`` made with ``kwargs`` (``ValueError`` if it is no design env)."""
    import gymnasium

    import archgym  # noqa: F401  (registers the ids)
    from archgym.envs import DesignEnv

    env = gymnasium.make(env_id, **dict(kwargs or {})).unwrapped
    if not isinstance(env, DesignEnv):
        raise ValueError(f"{env_id} is not an archgym design environment (it makes a {type(env).__name__})")
    return env


def workload_keyword(env_id: str) -> str:
    """The simulator keyword that names the workload (``workload``, or ``network`` for Quant)."""
    import inspect

    import gymnasium

    from simulators.loading import load_object

    spec = gymnasium.registry.get(env_id)
    target = (spec.kwargs or {}).get("simulator") if spec is not None else None
    if isinstance(target, str):
        params = inspect.signature(load_object(target, "simulator").__init__).parameters
        for name in ("workload", "network"):
            if name in params:
                return name
    return "workload"


def describe_env(env_id: str, kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Space, metrics, workloads and default targets of an env, read from the code itself."""
    env = make_env(env_id, kwargs or {})
    sim = env.simulator
    return {
        "id": env_id,
        "simulator": type(sim).__name__,
        "workload": sim.workload,
        "workloads": list(sim.available_workloads()),
        "designs": sim.space.cardinality,
        "parameters": sim.space.describe(),
        "metrics": [m.to_dict() for m in sim.metrics],
        "default_targets": sim.default_targets(),
        "objective": env.objective.to_dict(),
    }
