"""The environments archgym knows: resolving an id a user typed, and describing an env from its code.

The command line, sweep specs and proxy training all name environments through ``resolve_env_id``:
a registered gymnasium id (``archgym/Systolic-v0``, a plug-in of the ``archgym.envs`` entry-point
group such as ``mylab/L2Cache-v0``, or any id a user's package registered), a short form of a design
env's id (``Systolic-v0``, ``systolic``, ``L2Cache-v0`` when only one env is called that), or
gymnasium's ``"package.module:ns/Name-vN"`` form, which imports ``package.module`` first (so a
user's env registered on import resolves with no other code). ``env_ids()`` lists the design envs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["describe_env", "env_ids", "make_env", "resolve_env_id", "split_env_module", "workload_keyword"]


def env_ids() -> list[str]:
    """Every design env id registered in this process: built-ins, plug-ins, then ids users registered."""
    import archgym  # noqa: F401  (registers the built-in and plug-in ids)
    from archgym.registry import design_env_ids

    return design_env_ids()


def split_env_module(text: str) -> tuple[str | None, str]:
    """``"pkg.mod:ns/Name-v0"`` -> ``("pkg.mod", "ns/Name-v0")``; an id without a module -> ``(None, id)``."""
    module, sep, env_id = text.partition(":")
    return (module, env_id) if sep else (None, text)


def resolve_env_id(text: str) -> str:
    """The registered env id ``text`` names (``ValueError`` listing what is available otherwise)."""
    import gymnasium

    import archgym

    if not isinstance(text, str) or not text:
        raise ValueError(f"an environment is named by its id, e.g. archgym/Systolic-v0; got {text!r}")
    if text in gymnasium.registry:
        return text
    module, env_id = split_env_module(text)
    if module is not None:  # gymnasium's "module:id" form: importing the module registers the id
        from simulators.loading import import_module

        import_module(module, "environment module")
        if env_id in gymnasium.registry:
            return env_id
        raise ValueError(f"importing {module!r} did not register environment {env_id!r}")
    known = env_ids()
    wanted = text.lower()

    def named(candidate: str) -> bool:
        short = candidate.split("/", 1)[-1]
        return wanted in (candidate.lower(), short.lower(), short.split("-v")[0].lower())

    builtin = [c for c in archgym.ENVIRONMENTS if named(c)]  # a built-in's short name is never ambiguous
    matches = builtin or [c for c in known if named(c)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"environment {text!r} is ambiguous: it could be any of {matches}; give the full id")
    raise ValueError(f"unknown environment {text!r}; available: {known} "
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
