"""Provenance: what produced a run's rows, recorded so that rows stay distinguishable and replayable.

Every run of a dataset records its simulator (``module:Class``), every constructor setting as
resolved (defaults included) and its objective (the objective's description, each metric's
direction and the reward formula's version). A setting naming a file or a directory is recorded
with the SHA-256 of its content as well as its path, so an edited trace or layer file is another
setting; a simulator passed as a setting (the proxy backend's) is recorded by its own class and
settings, a design space by its description, and any other object passed in Python by its type and
a hash of its fields (distinguishable, but not rebuildable from the dataset).

``build_simulator`` and ``build_recorded_objective`` turn a record back into the objects, which is
what ``archgym dataset validate`` replays rows on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archgym.io import json_default
from archgym.objective import FORMULA_VERSION, Objective, build_objective
from simulators.core import DesignSpace, Metric, Simulator

__all__ = ["build_recorded_objective", "build_simulator", "canonical", "class_target", "comparable",
           "content_digest", "file_digest", "objective_record", "record_difference", "setting_value",
           "simulator_settings"]


def class_target(obj: Any) -> str:
    """``module:QualName`` of an object's class: what ``simulators.loading.load_object`` imports back."""
    return f"{type(obj).__module__}:{type(obj).__qualname__}"


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _directory_digest(path: Path) -> str:
    """SHA-256 over every file below ``path``: relative names and contents, in name order."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode() + b"\0" + file_digest(f).encode() + b"\n")
    return h.hexdigest()


def _as_path(value: Any) -> Path | None:
    """The existing file or directory a setting names, if it names one (a bare word such as
    ``resnet18`` is a name, not a path, unless it is given as a ``PathLike``)."""
    if isinstance(value, os.PathLike) or (isinstance(value, str) and value
                                          and (Path(value).suffix or os.sep in value or "/" in value)):
        path = Path(value)
    else:
        return None
    return path if path.exists() else None


def _walk(h: Any, obj: Any, depth: int = 0) -> None:
    if depth > 50:
        raise TypeError("too deeply nested")
    h.update(type(obj).__qualname__.encode() + b":")
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic)):
        h.update(repr(obj.item() if isinstance(obj, np.generic) else obj).encode())
    elif isinstance(obj, np.ndarray):
        h.update(f"{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes() if obj.dtype != object else repr(obj.tolist()).encode())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            h.update(f.name.encode() + b"=")
            _walk(h, getattr(obj, f.name), depth + 1)
    elif isinstance(obj, Mapping):
        for k in sorted(obj, key=str):
            h.update(str(k).encode() + b"=")
            _walk(h, obj[k], depth + 1)
    elif isinstance(obj, (Sequence, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        for item in items:
            _walk(h, item, depth + 1)
        if hasattr(obj, "name"):
            _walk(h, obj.name, depth + 1)
    else:
        raise TypeError(f"cannot hash a {type(obj).__name__}")
    h.update(b";")


def content_digest(obj: Any) -> str | None:
    """SHA-256 of an object's content (dataclass fields, arrays, mappings, sequences, plain values), or
    ``None`` when it holds something else."""
    h = hashlib.sha256()
    try:
        _walk(h, obj)
    except TypeError:
        return None
    return h.hexdigest()


def setting_value(value: Any) -> Any:
    """One constructor setting as JSON data (see the module docstring for files and objects)."""
    if isinstance(value, np.generic):
        value = value.item()
    path = _as_path(value)
    if path is not None:
        if path.is_dir():
            return {"directory": str(path.resolve()), "sha256": _directory_digest(path)}
        return {"file": str(path.resolve()), "sha256": file_digest(path)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):  # a path that does not exist (the simulator accepted it anyway)
        return os.fspath(value)
    if isinstance(value, DesignSpace):
        return {"design_space": json.loads(json.dumps(value.to_dict(), default=json_default))}
    if isinstance(value, Simulator):
        return {"simulator": class_target(value), "settings": simulator_settings(value)}
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: setting_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [setting_value(v) for v in value]
    return {"object": class_target(value), "sha256": content_digest(value)}


def simulator_settings(simulator: Simulator) -> dict[str, Any]:
    """Every constructor setting of ``simulator`` as resolved (``Simulator.settings``), as JSON data."""
    return {name: setting_value(value) for name, value in simulator.settings.items()}


def canonical(record: Any) -> str:
    """The JSON text of a record with sorted keys and no spaces (equal records give equal text)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=json_default)


def comparable(record: Any) -> Any:
    """A record with file and directory paths left out: what must agree for two records to mean the same
    (a trace moved elsewhere is the same trace; an edited one is not)."""
    if isinstance(record, Mapping):
        if set(record) in ({"file", "sha256"}, {"directory", "sha256"}):
            return {"sha256": record["sha256"]}
        return {k: comparable(v) for k, v in record.items()}
    if isinstance(record, list):
        return [comparable(v) for v in record]
    return record


def record_difference(have: Mapping[str, Any] | None, want: Mapping[str, Any] | None, labels: tuple[str, str],
                      ) -> str | None:
    """How two records (settings, objectives) differ, key by key (``None`` when they mean the same)."""
    a, b = comparable(dict(have or {})), comparable(dict(want or {}))
    if a == b:
        return None
    def value(record: Mapping[str, Any], key: str) -> str:
        # a key one side lacks was not recorded there (e.g. a setting added after that run): say so,
        # rather than print a placeholder that reads like a value
        return repr(record[key]) if key in record else "not recorded"

    parts = [f"{k}: {value(a, k)} ({labels[0]}) vs {value(b, k)} ({labels[1]})" if k not in a or k not in b
             else f"{k}={a[k]!r} ({labels[0]}) vs {b[k]!r} ({labels[1]})"
             for k in sorted(set(a) | set(b)) if (k in a, a.get(k)) != (k in b, b.get(k))]
    return "; ".join(parts)


def objective_record(objective: Objective, metrics: Sequence[Metric]) -> dict[str, Any]:
    """An objective as a dataset records it: its description, every metric's direction and the version of
    the reward formulas (``archgym.objective.FORMULA_VERSION``)."""
    return {**json.loads(json.dumps(objective.to_dict(), default=json_default)),
            "directions": {m.name: m.direction.value for m in metrics}, "formula_version": FORMULA_VERSION}


def build_recorded_objective(record: Mapping[str, Any], metrics: Sequence[Metric]) -> Objective:
    """The objective a run recorded, rebuilt over ``metrics`` (``ValueError`` when this archgym computes
    rewards with another formula version or the directions differ)."""
    spec = dict(record)
    version = spec.pop("formula_version", None)
    directions = spec.pop("directions", None)
    if version != FORMULA_VERSION:
        raise ValueError(f"the objective was recorded with reward formula version {version!r}; this archgym "
                         f"computes version {FORMULA_VERSION}")
    actual = {m.name: m.direction.value for m in metrics}
    if directions is not None and directions != actual:
        raise ValueError(f"the objective was recorded with metric directions {directions}, the simulator has "
                         f"{actual}")
    return build_objective(spec, metrics)


def _decode(name: str, value: Any, imports: Collection[str]) -> Any:
    if isinstance(value, Mapping):
        keys = set(value)
        if keys in ({"file", "sha256"}, {"directory", "sha256"}):
            kind = "file" if "file" in keys else "directory"
            path = Path(value[kind])
            if not (path.is_file() if kind == "file" else path.is_dir()):
                raise ValueError(f"setting {name!r}: the {kind} {path} it was recorded from is not there")
            digest = file_digest(path) if kind == "file" else _directory_digest(path)
            if digest != value["sha256"]:
                raise ValueError(f"setting {name!r}: {path} has changed since the run (sha256 {digest[:12]}..., "
                                 f"recorded {str(value['sha256'])[:12]}...)")
            return str(path)
        if keys == {"design_space"}:
            return DesignSpace.from_dict(value["design_space"])
        if keys == {"simulator", "settings"}:
            return build_simulator(value["simulator"], value["settings"], imports=imports)
        if keys == {"object", "sha256"}:
            raise ValueError(f"setting {name!r} was a Python object ({value['object']}), which a dataset records "
                             "by a hash only: the simulator cannot be rebuilt from the dataset")
        return {k: _decode(f"{name}.{k}", v, imports) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(name, v, imports) for v in value]
    return value


def build_simulator(target: str, settings: Mapping[str, Any], *, imports: Collection[str] = ()) -> Simulator:
    """The simulator a run recorded: class ``target`` (``module:Class``) built with the recorded settings
    (files checked against their hashes); ``ValueError`` naming what cannot be rebuilt.

    A dataset is data, and importing a module runs its code: the class must come from a module
    ``archgym.registry.trusted_module`` allows (archgym's own, one already imported, an installed
    plug-in's, or one in or under a package listed in ``imports``: ``archgym dataset validate --import
    MODULE``). Anything else is refused before it is imported."""
    from archgym.registry import trusted_module
    from simulators.loading import load_object, split_target

    if not isinstance(target, str) or not target:
        raise ValueError("the run records no simulator class")
    module, _ = split_target(target, "simulator")
    if "__main__" in module.split("."):
        raise ValueError(f"the recorded simulator {target!r} names a program's __main__ module, which data never "
                         "makes archgym import")
    if not trusted_module(module, imports):
        raise ValueError(f"the recorded simulator {target!r} would import {module!r}, which runs that module's code; "
                         f"allow it with --import {module} (import_modules=[{module!r}] in Python) if you trust it")
    cls = load_object(target, "simulator")
    if not (isinstance(cls, type) and issubclass(cls, Simulator)):
        raise ValueError(f"{target} is not a simulators.core.Simulator class")
    kwargs = {k: _decode(k, v, imports) for k, v in dict(settings).items()}
    return cls(**kwargs)
