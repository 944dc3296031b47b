"""Where env ids come from and who is told about them: gymnasium, and Ray's registry when Ray is in use.

- Built-in ids (``BUILTIN``) and plug-ins: a package adds its simulators as envs through the
  entry-point group ``archgym.envs``, each entry an env id naming a ``Simulator`` class, e.g. in its
  ``pyproject.toml``::

      [project.entry-points."archgym.envs"]
      "mylab/L2Cache-v0" = "mylab.cache:L2CacheSimulator"

  ``import archgym`` registers both kinds with gymnasium (as ``archgym.envs:make_design_env`` with
  ``simulator=<that class>``), so ``gym.make("mylab/L2Cache-v0")`` and every ``archgym`` command know
  the id; the class is imported only when an env is made.
- Ray: RLlib's env runners are separate processes that never ran ``import archgym``; they look an env
  name up in Ray Tune's registry (``ray.tune.registry.register_env``) before asking gymnasium. Every
  design env id is registered there as soon as the program imports that registry (watched for with
  an import hook, so ``import archgym`` never imports Ray itself), again after each ``ray.init``, and
  on demand with ``register_with_ray()`` (for ids a program registers later).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Collection
from typing import Any

import gymnasium

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "FACTORY", "check_builtin_simulator", "design_env_ids", "plugin_envs",
           "register_envs", "register_with_ray", "allow_modules", "trusted_module"]

ENTRY_POINT_GROUP = "archgym.envs"
#: the factory every design env id is registered with
FACTORY = "archgym.envs:make_design_env"

#: built-in env id -> the simulator class behind it ("module:Class"), in the order ``archgym list`` shows them
BUILTIN: dict[str, str] = {
    "archgym/Systolic-v0": "simulators.systolic:SystolicSimulator",
    "archgym/DRAM-v0": "simulators.dram:DRAMSimulator",
    "archgym/SoC-v0": "simulators.soc:SoCSimulator",
    "archgym/Quant-v0": "simulators.quant:QuantSimulator",
}


def plugin_envs() -> dict[str, str]:
    """Env id -> ``"module:SimulatorClass"`` of every installed plug-in (group ``archgym.envs``)."""
    from simulators.loading import plugin_entry_points

    return {name: ep.value for name, ep in plugin_entry_points(ENTRY_POINT_GROUP, BUILTIN, "environment").items()}


#: packages the user allowed for this process (``allow_modules``: the CLI's ``--import``)
_ALLOWED: set[str] = set()


def allow_modules(modules: Collection[str]) -> None:
    """Import each of ``modules`` (the user trusts them: ``--import``) and trust the modules in and under
    them from now on in this process (``trusted_module``)."""
    from simulators.loading import import_module

    for module in modules:
        import_module(module, "--import")
        _ALLOWED.add(module)


def trusted_module(module: str, allowed: Collection[str] = (), *, imported: bool = True, plugins: bool = True) -> bool:
    """Whether data (a dataset row, a proxy manifest) may make archgym import ``module``, which runs its code:
    only a module the user already runs or installed for archgym. That is archgym's own packages
    (``simulators``, ``agents``, ``archgym``), a module this process has already imported, the package of
    an installed plug-in (``archgym.envs`` entry points), or a module in or under a package in ``allowed``
    or given to ``allow_modules``. A ``__main__`` module is never trusted: importing one runs a program.
    ``imported=False`` leaves out what only this process imported or allowed (a sweep spec is also read
    by Ray workers, which have not), ``plugins=False`` the plug-ins' packages (a spec file of your own
    names every other module it imports under ``imports``)."""
    parts = module.split(".")
    if "__main__" in parts:
        return False
    if (imported and module in sys.modules) or parts[0] in ("simulators", "agents", "archgym"):
        return True
    packages = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    installed = {value.partition(":")[0] for value in plugin_envs().values()} if plugins else set()
    return bool(packages & (set(allowed) | (_ALLOWED if imported else set()) | installed
                            | {p.split(".")[0] for p in installed}))


def register_envs() -> None:
    """Register the built-in and plug-in ids with gymnasium (an id already registered is left as it is).

    A plug-in whose name is no valid gymnasium id is skipped with a warning naming it, so one broken
    package never breaks ``import archgym``.
    """
    for env_id, simulator in {**BUILTIN, **plugin_envs()}.items():
        if env_id in gymnasium.registry:
            continue
        try:
            gymnasium.register(env_id, entry_point=FACTORY, kwargs={"simulator": simulator})
        except gymnasium.error.Error as exc:
            warnings.warn(f"archgym: skipping the {ENTRY_POINT_GROUP} plug-in {env_id!r} = {simulator!r}: {exc}",
                          stacklevel=2)


def check_builtin_simulator(env_id: str, simulator: Any) -> None:
    """``ValueError`` when built-in id ``env_id`` was made with another simulator than its own (a
    ``simulator=`` keyword, or the id registered again by other code): its evaluations, datasets and
    reports would be labelled with the built-in's id. The proxy backend, wrapping the built-in's own
    simulator, is the built-in's."""
    target = BUILTIN.get(env_id)
    if target is None:
        return
    from simulators.loading import load_object

    proxy = sys.modules.get("archgym.proxy.simulator")  # not imported: no simulator here is a proxy
    if proxy is not None and isinstance(simulator, proxy.ProxySimulator) and simulator.simulator is not None:
        simulator = simulator.simulator  # the proxy of a simulator stands for it
    made = type(simulator)
    if made is load_object(target, "simulator"):
        return
    raise ValueError(f"simulator: {env_id} is archgym's {target} env, but this one was made with "
                     f"{made.__module__}:{made.__qualname__} (a simulator= keyword, or the id registered again); "
                     f"its results would be recorded as {env_id}'s. Register your simulator under an id of your own: "
                     f"gymnasium.register('mylab/Name-v0', entry_point={FACTORY!r}, "
                     "kwargs={'simulator': 'package.module:Class'})")


def design_env_ids() -> list[str]:
    """Every id gymnasium knows that makes an archgym design env: built-ins first, then the others sorted."""
    others = sorted(i for i, spec in gymnasium.registry.items()
                    if i not in BUILTIN and _is_design_env(spec.entry_point))
    return [i for i in BUILTIN if i in gymnasium.registry] + others


def _is_design_env(entry_point: Any) -> bool:
    if entry_point == FACTORY:
        return True
    return getattr(entry_point, "__module__", None) == "archgym.envs" and \
        getattr(entry_point, "__name__", None) == "make_design_env"


# --------------------------------------------------------------------------------------------------
# Ray
# --------------------------------------------------------------------------------------------------

_RAY_REGISTRY = "ray.tune.registry"


class RegisteredEnv:
    """An env creator for Ray's registry: ``gymnasium.make`` of one id with RLlib's ``env_config``.

    It carries the id's gymnasium spec, so a worker process that did not register the id (a user's
    own, registered in the driver) registers it before making the env.
    """

    def __init__(self, spec: gymnasium.envs.registration.EnvSpec) -> None:
        self.spec = spec

    def __call__(self, config: Any = None) -> gymnasium.Env:
        import archgym  # noqa: F401  (registers the built-in and plug-in ids in this process)

        if self.spec.id not in gymnasium.registry:
            gymnasium.registry[self.spec.id] = self.spec
        return gymnasium.make(self.spec.id, **dict(config or {}))

    def __repr__(self) -> str:
        return f"RegisteredEnv({self.spec.id!r})"


def register_with_ray() -> list[str]:
    """Register every design env id with Ray Tune's registry (imports Ray); returns the ids registered.

    RLlib's env runners then build ``PPOConfig().environment("archgym/Systolic-v0")`` in any process.
    An id whose spec cannot be sent to other processes is skipped with a warning.
    """
    from ray.tune.registry import register_env

    done = []
    for env_id in design_env_ids():
        try:
            register_env(env_id, RegisteredEnv(gymnasium.spec(env_id)))
        except Exception as exc:  # e.g. a spec holding an object Ray cannot pickle: say which
            warnings.warn(f"archgym: {env_id!r} is not registered with Ray ({type(exc).__name__}: {exc})",
                          stacklevel=2)
        else:
            done.append(env_id)
    return done


def _register_with_ray_quietly() -> None:
    try:
        register_with_ray()
    except Exception as exc:  # never break the user's import of Ray or their ray.init
        warnings.warn(f"archgym: could not register env ids with Ray ({type(exc).__name__}: {exc})", stacklevel=2)


def _follow_ray() -> None:
    """Register with Ray now and after every ``ray.init`` (a new Ray session starts an empty registry)."""
    _register_with_ray_quietly()
    worker = sys.modules.get("ray._private.worker")
    hooks = getattr(worker, "_post_init_hooks", None)
    if isinstance(hooks, list) and _register_with_ray_quietly not in hooks:
        hooks.append(_register_with_ray_quietly)


class _ThenRegister(importlib.abc.Loader):
    """The loader of Ray's registry module, followed by archgym's registration."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        _RAY_WATCH.stop()
        _follow_ray()

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... of the real loader
        return getattr(self._loader, name)


class _RayWatch(importlib.abc.MetaPathFinder):
    """Finds nothing itself; when Ray's registry module is imported, wraps its loader in ``_ThenRegister``."""

    def __init__(self) -> None:
        self._busy = False

    def find_spec(self, fullname, path, target=None):
        if fullname != _RAY_REGISTRY or self._busy:
            return None
        self._busy = True
        try:
            spec = importlib.util.find_spec(fullname)  # the real finders (this one answers None meanwhile)
        finally:
            self._busy = False
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRegister(spec.loader)
        return spec

    def start(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def stop(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)


_RAY_WATCH = _RayWatch()


def follow_ray() -> None:
    """Register with Ray's registry now if the program has imported it, else as soon as it does."""
    if _RAY_REGISTRY in sys.modules:
        _follow_ray()
    else:
        _RAY_WATCH.start()
