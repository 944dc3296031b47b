"""Files archgym writes and reads: JSON with numpy values, written atomically; versioned manifests.

One encoder (``json_default``), one writer (``write_text``, and ``write_json`` over it: a temporary
file, fsynced, then renamed, so a reader sees the old file or the new one, never half of one;
``exclusive=True`` publishes only if no file is there yet), one reader (``read_json``), one check of
a manifest's format and version (``check_format``), shared by datasets, proxy models, sweep records
and optima; and one lock (``exclusive_lock``) for a directory that only one process may write.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["acquire_lock", "check_file_to_write", "check_format", "checked_record", "dumps", "exclusive_lock",
           "json_data", "json_default", "lock_held", "plain", "read_json", "release_lock", "write_json", "write_text"]


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars and arrays and paths (anything else: ``TypeError``)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``np.int64(128)`` -> ``128``), anything else as it is:
    for messages and records that show a value as the user wrote it."""
    return value.item() if isinstance(value, np.generic) else value


def nan_to_none(record: Any) -> dict[str, Any]:
    """A dataclass record as a dict whose NaN floats are ``None`` (JSON ``null``, for tables and reports)."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(record).items()}


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``data`` (numpy values and paths allowed; NaN written as JSON ``NaN``)."""
    return json.dumps(data, indent=indent, default=json_default)


def json_data(data: Any) -> Any:
    """``data`` as it reads back from JSON text (tuples as lists, numpy values and paths as ``dumps`` writes them)."""
    return json.loads(dumps(data, indent=None))


def check_file_to_write(path: str | os.PathLike[str]) -> Path:
    """``path`` as a ``Path`` if a file can be written there, else a ``ValueError`` saying why (checked
    before long work whose result goes there, and by ``write_json``)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a file to write")
    if not path.parent.is_dir():
        raise ValueError(f"cannot write {path}: its directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):  # the file is written next to itself, then renamed
        raise ValueError(f"cannot write {path}: no permission to write in {path.parent}")
    return path


def write_json(path: str | os.PathLike[str], data: Any, *, indent: int | None = 2, exclusive: bool = False) -> bool:
    """Write ``data`` as JSON to ``path`` atomically (``write_text``); returns whether this call wrote the file."""
    return write_text(path, dumps(data, indent=indent) + "\n", exclusive=exclusive)


def write_text(path: str | os.PathLike[str], text: str, *, exclusive: bool = False) -> bool:
    """Write ``text`` to ``path`` atomically; returns whether this call wrote the file.

    With ``exclusive=True`` the file is published only if none exists (exactly one of several
    concurrent writers wins; the others return ``False`` and should read and check the winner's).
    """
    path = check_file_to_write(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    try:
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # fails if the target exists: exactly one writer wins
            return True
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: rename unless another writer got there first
            if path.exists():
                return False
            os.replace(tmp, path)
            return True
    finally:
        tmp.unlink(missing_ok=True)


def acquire_lock(path: Path, busy: str) -> int | None:
    """Lock the file ``path`` (created, with its folder, if missing) exclusively for this process: the
    descriptor holding the lock, for ``release_lock``; ``ValueError(busy)`` at once when another process
    holds it. The operating system releases the lock when its holder exits, even on SIGKILL, so a crash
    never leaves it stuck. ``None`` where there is no ``fcntl`` (Windows): nothing is locked there.

    ``release_lock`` removes the file while still holding it, so a process that has just locked a file
    checks that it is still the one at ``path`` (one removed meanwhile guards nothing) and tries again."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    for attempt in range(20):
        try:
            path.parent.mkdir(exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except (FileNotFoundError, FileExistsError):  # the folder removed by a releasing holder: again
            if attempt == 19:
                raise
            continue
        try:
            _lock_soon(fcntl, fd)
        except BlockingIOError:
            os.close(fd)
            raise ValueError(busy) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # its holder released and removed the file between our open and our lock
    raise ValueError(f"the lock {path} keeps changing hands")


def _lock_soon(fcntl: Any, fd: int, wait: float = 0.5) -> None:
    """``flock`` exclusively, trying for up to ``wait`` seconds (a reader's probe holds it for an instant);
    ``BlockingIOError`` when it stays held."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def release_lock(path: Path, fd: int | None) -> None:
    """Give up a lock ``acquire_lock`` took, removing its file first (while still holding it)."""
    if fd is not None:
        path.unlink(missing_ok=True)
        os.close(fd)


def lock_held(path: Path) -> bool:
    """Whether another process holds the lock at ``path`` now (``acquire_lock``), probed with a shared lock
    on the file opened read-only: nothing is written, so it answers where one may only read (a process
    locking meanwhile waits out the probe)."""
    try:
        import fcntl

        fd = os.open(path, os.O_RDONLY)
    except (ImportError, OSError):  # no lock file (nobody has held it since its last release), or no flock
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """``acquire_lock`` for the ``with`` block: ``what`` (say, a run directory) may be written by one
    process at a time; another gets a ``ValueError`` naming it at once."""
    path = Path(path)
    fd = acquire_lock(path, f"{what} is in use by another process (it holds {path}); wait for it to end, or choose "
                            "another")
    try:
        yield
    finally:
        release_lock(path, fd)


def read_json(path: str | os.PathLike[str], what: str = "file") -> Any:
    """The JSON data in ``path``; ``ValueError`` naming the ``what`` for a missing or malformed file."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {path} is a directory, not a JSON file")
    if not path.is_file():
        raise ValueError(f"{what} {path} does not exist")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def check_format(data: Any, where: str, *, fmt: str, version: int, version_key: str = "version",
                 hint: str = "") -> Mapping[str, Any]:
    """``data`` when it is a mapping of format ``fmt`` at ``version``; ``ValueError`` naming ``where`` else."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if data.get("format") != fmt:
        raise ValueError(f"{where}: format is {data.get('format')!r}, expected {fmt!r}{hint}")
    if data.get(version_key) != version:
        raise ValueError(f"{where}: {version_key} {data.get(version_key)!r}; this archgym reads and writes "
                         f"version {version}")
    return data


def checked_record(record: Any, where: str, hint: str = "") -> Any:
    """``record`` itself, or ``ValueError("WHERE: what is impossible in it HINT")`` when its ``_problem()``
    names a value it could not hold (the one check of a record read back from a run directory's file)."""
    problem = record._problem()
    if problem:
        raise ValueError(f"{where}: {problem}{hint}")
    return record
