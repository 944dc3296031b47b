"""A small progress line on stderr for long work (no dependency; silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


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
        text = f"\r{self.label} [{bar:<24}] {done}/{self.total} {now - self._start:.1f}s {note}"
        self.stream.write(text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def __exit__(self, *exc) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
