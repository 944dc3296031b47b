"""The one resolver of ``"package.module:Name"`` strings (simulator classes, agent plug-ins, env ids).

Naming code by a string imports that module and runs its top level: only resolve strings from a
config you trust (a sweep spec or ``gym.make(..., simulator="mylab.sims:L2Cache")`` is code, like
an import statement). Every failure is a ``ValueError`` that names the string and what went wrong.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Collection
from importlib import metadata
from types import ModuleType
from typing import Any

__all__ = ["import_module", "load_object", "plugin_entry_points", "split_target"]


_WARNED: set[tuple[str, str, str]] = set()  # the clashes already warned about (once per process)


def plugin_entry_points(group: str, builtin: Collection[str], what: str) -> dict[str, metadata.EntryPoint]:
    """The installed entry points of ``group`` by name; one named like a built-in ``what`` (an agent, an
    environment) is left out, with a warning naming it (once per process), rather than silently shadowed."""
    out = {}
    for ep in metadata.entry_points(group=group):
        if ep.name in builtin:
            if (group, ep.name, ep.value) in _WARNED:
                continue
            _WARNED.add((group, ep.name, ep.value))
            warnings.warn(f"archgym: ignoring the {group} plug-in {ep.name!r} = {ep.value!r}: {ep.name!r} is a "
                          f"built-in {what} (rename the entry point)", stacklevel=3)
            continue
        out[ep.name] = ep
    return out


def split_target(target: str, what: str = "object") -> tuple[str, str]:
    """``"pkg.mod:Attr"`` -> ``("pkg.mod", "Attr")``, or ``ValueError`` for anything else."""
    if not isinstance(target, str):
        raise ValueError(f"{what} must be a 'package.module:Name' string, got {target!r}")
    module_name, sep, attr = target.partition(":")
    parts_ok = all(part.isidentifier() for part in module_name.split(".")) and \
        all(part.isidentifier() for part in attr.split("."))
    if not sep or not module_name or not attr or not parts_ok:
        raise ValueError(f"{what} {target!r} is not of the form 'package.module:Name'")
    return module_name, attr


def import_module(module_name: str, what: str = "module") -> ModuleType:
    """Import ``module_name``; ``ValueError`` naming it when it is missing or fails while importing."""
    if not isinstance(module_name, str) or not all(p.isidentifier() for p in module_name.split(".")):
        raise ValueError(f"{what} {module_name!r} is not a module name like 'package.module'")
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        raise ValueError(f"{what} {module_name!r}: no module named {missing!r} (is its package installed?)") from None
    except Exception as exc:  # the module itself failed while importing: say which and why
        raise ValueError(f"{what} {module_name!r}: importing it failed: {type(exc).__name__}: {exc}") from exc


def load_object(target: str, what: str = "object") -> Any:
    """Import ``"package.module:Name"`` (``Name`` may be dotted) and return the object it names."""
    module_name, attr = split_target(target, what)
    obj: Any = import_module(module_name, f"{what} {target!r}: module")
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{what} {target!r}: module {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj
