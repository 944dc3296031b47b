"""Progress of long work on stderr (no dependency): a redrawn bar on a terminal, plain lines elsewhere.

On a terminal the line is redrawn in place (at most every 0.2 s). When stderr is not a terminal (CI,
``| tee``, a log file) a plain line without escape codes is written every ``interval`` seconds (10 by
default) and once at the end, so a long run is never silent and a log never fills with ``\\r``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "duration"]


def duration(seconds: float) -> str:
    """A human-sized duration: ``42 s``, ``3.5 min``, ``1.2 h``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


class Progress:
    """``with Progress(total, "explore ga") as p: p.update(done, "best 0.81")``.

    ``enabled=None`` (the default) shows progress on a terminal as a bar and elsewhere as plain lines
    every ``interval`` seconds; ``False`` shows nothing; ``True`` forces the bar.
    """

    def __init__(self, total: int, label: str, *, enabled: bool | None = None, stream: TextIO | None = None,
                 interval: float = 10.0, initial: int = 0) -> None:
        self.total, self.label = max(1, int(total)), label
        self.initial = int(initial)  # done before this progress started (a resumed run): not in the rate
        self.stream = stream or sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled is not False
        self.bar = tty if enabled is None else bool(enabled)
        self.interval = interval
        self._start = time.perf_counter()
        self._last = 0.0 if self.bar else self._start
        self._width = 0
        self._done = 0
        self._note = ""
        self._plain_written = -1

    def __enter__(self) -> Progress:
        return self

    def _left(self, done: int, elapsed: float) -> float | None:
        """Seconds left at the rate of this session (None before the first step or after the last)."""
        now_done = done - self.initial
        return elapsed * (self.total - done) / now_done if now_done > 0 and done < self.total else None

    def _text(self, done: int, note: str, now: float) -> str:
        elapsed = now - self._start
        seconds = self._left(done, elapsed)
        left = f", about {duration(seconds)} left" if seconds is not None else ""
        return f"{self.label}: {done}/{self.total}{' ' + note if note else ''} ({duration(elapsed)} so far{left})"

    def update(self, done: int, note: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        self._done, self._note = done, note
        now = time.perf_counter()
        if not self.bar:
            if now - self._last >= self.interval:
                self._last = now
                self._plain(now)
            return
        if not force and now - self._last < 0.2 and done < self.total:
            return
        self._last = now
        frac = min(1.0, done / self.total)
        bar = "#" * int(24 * frac)
        elapsed = now - self._start
        seconds = self._left(done, elapsed)
        left = f" ({duration(seconds)} left)" if seconds is not None else ""
        text = f"\r{self.label} [{bar:<24}] {done}/{self.total} {elapsed:.1f}s{left} {note}"
        self.stream.write(text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def _plain(self, now: float) -> None:
        self.stream.write(self._text(self._done, self._note, now) + "\n")
        self.stream.flush()
        self._plain_written = self._done

    def close(self) -> None:
        """End the display: a newline after the bar, or a last plain line if the run outlasted an interval."""
        if not self.enabled:
            return
        if self.bar:
            if self._width:
                self.stream.write("\n")
                self.stream.flush()
                self._width = 0
        elif self._plain_written >= 0 and self._plain_written != self._done:
            self._plain(time.perf_counter())

    def __exit__(self, *exc) -> None:
        self.close()
