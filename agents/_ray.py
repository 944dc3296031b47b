"""Shared Ray plumbing for the agents that need Ray (``agents.rl``, ``agents.tune_bridge``) and for
``archgym.cluster``: starting it the one safe way, and hushing its per-build notices."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["quiet_ray_logs", "start_ray"]

# Quiet, local-friendly Ray defaults, set before Ray is imported by anything that starts it (users can
# override them in their environment): no auth-token notice, trials keep our working directory, and no
# C++ failure-signal handler (Ray's would take SIGTERM from the driver's own handler while ray.init runs
# and abort with a stack dump, exit 134; the cost is Ray's C++ stack dump on a crash).
for _key, _value in (("RAY_AUTH_MODE", "disabled"), ("RAY_DEDUP_LOGS", "0"), ("RAY_AIR_NEW_OUTPUT", "0"),
                     ("RAY_CHDIR_TO_TRIAL_DIR", "0"), ("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")):
    os.environ.setdefault(_key, _value)

_NOISY_LOGGERS = ("ray.rllib", "ray.tune", "ray.train", "ray._common", "ray.util")


def start_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Use the Ray of this process, or join ``address``, or start a fresh embedded one-machine Ray.

    Embedded Ray starts with ``address="local"`` so a stale cluster file from an earlier session is
    never joined. It stays up for later calls in this process; ``ray.shutdown()`` frees it. Its processes
    die with this one, even on ``kill -9`` (``agents._reaper``).
    """
    import ray

    if ray.is_initialized():
        return
    with _keep_signal_handlers():
        _init(ray, address, num_cpus)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _keep_signal_handlers() -> Iterator[None]:
    """Keep the caller's SIGINT/SIGTERM handlers over ``ray.init`` (archgym's CLI takes SIGTERM as Ctrl-C, so
    work is kept and the exit code is 143), and hold a signal that arrives meanwhile until Ray is up.

    ``ray.init`` sets a SIGTERM handler that exits at once (exit code 15); it is not let in. And a Ctrl-C
    raised inside ``ray.init`` leaves Ray half started, so that the process later dies in a segfault (exit
    139): the first signal is therefore delivered to the caller's handler once ``ray.init`` has returned
    (or failed). A second one is delivered at once, for a start that hangs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # (a handler installed outside Python reads as None: that signal is left alone)
    previous = {sig: handler for sig in _STOP_SIGNALS if (handler := signal.getsignal(sig)) is not None}
    held: list[int] = []
    set_handler = signal.signal

    def deliver(signum: int) -> None:
        for sig, handler in previous.items():
            set_handler(sig, handler)
        signal.raise_signal(signum)

    def hold(signum: int, frame: Any) -> None:
        held.append(signum)
        if len(held) > 1:
            deliver(signum)
        else:
            print("archgym: stopping once Ray has started (press Ctrl-C again to stop at once)", file=sys.stderr)

    def keep_ours(signum: int, handler: Any) -> Any:  # what ray.init may install for these signals
        return set_handler(signum, handler) if signum not in previous else signal.getsignal(signum)

    for sig in previous:
        set_handler(sig, hold)
    signal.signal = keep_ours
    try:
        yield
    finally:
        signal.signal = set_handler
        for sig, handler in previous.items():
            set_handler(sig, handler)
        if len(held) == 1:
            signal.raise_signal(held[0])


def _init(ray: Any, address: str | None, num_cpus: int | None) -> None:
    if address:
        if num_cpus is not None:
            raise ValueError("num_cpus applies to an embedded Ray, not when joining a cluster at address")
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    else:
        _start_reaper()
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, num_gpus=0, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.WARNING)


_REAPER: tuple[int, int] | None = None  # (the process it watches, the reaper's pid)


def _start_reaper() -> None:
    """Once per process: the watcher that kills this process's Ray if it dies without shutting Ray down
    (spawned in a session of its own; it outlives Ray's shutdown and exits with this process)."""
    global _REAPER
    if (_REAPER is not None and _REAPER[0] == os.getpid()) or not hasattr(os, "posix_spawn"):
        return
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_reaper.py")  # standard library only
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    _REAPER = os.getpid(), os.posix_spawn(sys.executable, [sys.executable, script, str(os.getpid())], os.environ,
                                          file_actions=quiet, setsid=True)


@contextlib.contextmanager
def quiet_ray_logs() -> Iterator[None]:
    """Raise Ray's library loggers to ERROR for the block (new-API-stack, deprecation, gputil and
    "wrote experiment state" notices), then restore them."""
    import ray.tune  # noqa: F401  (importing Ray's libraries sets their loggers' levels: do that first)

    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
