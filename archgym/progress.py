"""A small progress line on stderr for long work (no dependency; silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def duration(seconds: float) -> str:
    """A human-sized duration: ``42 s``, ``3.5 min``, ``1.2 h``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


class Progress:
    """``with Progress(total, "explore ga") as p: p.update(done, "best 0.81")`` redraws at most every 0.2 s."""

    def __init__(self, total: int, label: str, *, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.total, self.label = max(1, int(total)), label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._start = time.perf_counter()
        self._last = 0.0
        self._width = 0

    def __enter__(self) -> Progress:
        return self

    def update(self, done: int, note: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.2 and done < self.total:
            return
        self._last = now
        frac = min(1.0, done / self.total)
        bar = "#" * int(24 * frac)
        elapsed = now - self._start
        left = f" ({duration(elapsed * (self.total - done) / done)} left)" if 0 < done < self.total else ""
        text = f"\r{self.label} [{bar:<24}] {done}/{self.total} {elapsed:.1f}s{left} {note}"
        self.stream.write(text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def __exit__(self, *exc) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
