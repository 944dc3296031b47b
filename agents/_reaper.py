"""Ray's processes die with the process that started an embedded Ray, even on ``kill -9``.

A killed driver gives Ray no chance to stop its session: its raylet goes, but workers in a long
evaluation and agents waiting for a GCS that is gone live on for minutes. ``start_ray`` therefore
starts this file as a small separate process (``python _reaper.py DRIVER_PID``, in its own
session so a Ctrl-C to the terminal does not reach it first). Every ``every`` seconds it notes the
driver's Ray processes (descendants whose command line names Ray); once the driver is gone it kills
those still running (the same process: its start time is checked, so a reused pid is left alone) and
every other process of their Ray sessions (they share ``RAY_RAYLET_PID``), then exits. It needs Linux's
``/proc``; elsewhere it exits at once and Ray's own fate-sharing is all there is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

_PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of ``pid``, or None if it is gone or a zombie."""
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[19])


def _is_ray(pid: int) -> bool:
    try:
        cmdline = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False
    return b"/ray/" in cmdline or cmdline.startswith(b"ray::")  # Ray's binaries and scripts; its workers' titles


def _raylet(pid: int) -> bytes | None:
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return None
    return next((e for e in environ if e.startswith(b"RAY_RAYLET_PID=")), None)


def ray_descendants(driver: int) -> dict[int, int]:
    """The driver's descendants that are Ray processes, as {pid: start time}."""
    children: dict[int, list[int]] = {}
    started: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry.name))
                started[int(entry.name)] = stat[1]
    found: dict[int, int] = {}
    todo = [driver]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and child != os.getpid():
                found[child] = started[child]
                todo.append(child)
    return {pid: start for pid, start in found.items() if _is_ray(pid)}


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def reap(known: dict[int, int]) -> None:
    """Kill the ``known`` processes still running and every process of their Ray sessions."""
    sessions = {mark for pid in known if (mark := _raylet(pid)) is not None}
    for pid, start in known.items():
        stat = _stat(pid)
        if stat is not None and stat[1] == start:
            _kill(pid)
    if sessions:
        for entry in _PROC.iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid() and _raylet(int(entry.name)) in sessions:
                _kill(int(entry.name))


def watch(driver: int, every: float = 0.5) -> None:
    stat = _stat(driver)
    if stat is None:
        return
    born = stat[1]
    known: dict[int, int] = {}
    while True:
        stat = _stat(driver)
        if stat is None or stat[1] != born:
            reap(known)
            return
        known = {**{p: s for p, s in known.items() if _stat(p) is not None}, **ray_descendants(driver)}
        time.sleep(every)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit() or not _PROC.is_dir():
        return 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch(int(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
