"""Progress lines: the time left comes from this run's rate, also for a resumed sweep."""

from __future__ import annotations

import io

from archgym.progress import Progress


def test_time_left_counts_only_this_runs_steps():
    fresh = Progress(100, "sweep", stream=io.StringIO(), enabled=True)
    resumed = Progress(100, "sweep", stream=io.StringIO(), enabled=True, initial=50)
    assert "about 7 s left" in fresh._text(60, "", fresh._start + 10)  # 60 in 10 s: 40 more in ~7 s
    assert "about 40 s left" in resumed._text(60, "", resumed._start + 10)  # 10 in 10 s: 40 more in 40 s
    assert "left" not in resumed._text(50, "", resumed._start + 10)  # nothing done yet in this run
    assert "left" not in fresh._text(100, "", fresh._start + 10)


def test_plain_lines_off_a_terminal():
    out = io.StringIO()
    p = Progress(10, "explore", stream=out, interval=0.0)
    p.update(3, "best 0.5")
    assert out.getvalue().startswith("explore: 3/10 best 0.5 (") and "\r" not in out.getvalue()
