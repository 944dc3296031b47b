"""The compiled DRAM controller against the runs of the pure-Python one it replaced, and against itself
run uncompiled (``NUMBA_DISABLE_JIT=1``, the same source as plain Python)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.dram import DRAMSimulator, UnrealisableError, simulate
from simulators.dram.energy import active_cycles

RUNS = Path(__file__).parent / "data" / "dram_controller_runs.json"
COUNTS = ("end", "n_act", "n_miss", "n_pre", "n_rd", "n_wr", "n_ref", "n_pulled_in")


@cache
def simulator(workload: str, memspec: str, write_fraction: float) -> DRAMSimulator:
    return DRAMSimulator(workload, memspec=memspec, requests=1000, write_fraction=write_fraction)


def digest(run) -> str:
    h = hashlib.sha256()
    for a in (run.issue, run.response, run.open_start, run.open_end, run.ref_start):
        h.update(np.ascontiguousarray(a, dtype="<i8").tobytes())
    return h.hexdigest()[:16]


def replay(rows: list[dict]) -> list[dict]:
    """Each recorded run simulated again: its counts and digest, or that it is unrealisable."""
    out = []
    for row in rows:
        sim = simulator(row["workload"], row["memspec"], row["write_fraction"])
        try:
            run = simulate(sim.bursts, sim.spec, sim.config(row["design"]))
        except UnrealisableError:
            out.append({"unrealisable": True})
            continue
        out.append({**{k: getattr(run, k) for k in COUNTS}, "digest": digest(run)})
    return out


def recorded() -> list[dict]:
    return json.loads(RUNS.read_text())["runs"]


def test_controller_reproduces_the_pure_python_runs_exactly():
    rows = recorded()
    assert len(rows) == 84 and sum("unrealisable" in r for r in rows) == 2
    expected = [{k: v for k, v in r.items() if k not in ("workload", "memspec", "write_fraction", "design")}
                for r in rows]
    assert replay(rows) == expected


def test_uncompiled_source_gives_the_same_runs():
    """NUMBA_DISABLE_JIT=1 runs the same functions as plain Python (how coverage sees them)."""
    code = ("import json, sys; from tests.test_dram_controller import recorded, replay; "
            "from simulators.jit import COMPILED; assert not COMPILED; "
            "print(json.dumps(replay(recorded()[::7])))")
    root = Path(__file__).resolve().parents[1]
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=path)
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == replay(recorded()[::7])


@pytest.mark.parametrize("requests", [1, 3000])
def test_sparse_and_short_traces(requests):
    """A trace that idles across many refresh intervals needs more refresh records than the first guess
    (the controller runs again with room for all); a one-request trace is the isolated access."""
    sim = DRAMSimulator("random", requests=requests)
    t = sim.trace
    sparse = type(t)(t.name, t.cycle * 10000, t.is_write, t.address, t.length)  # one request per 12.5 us
    sim = DRAMSimulator(sparse)
    run = sim.run(dict(sim.default_design(), RefreshMaxPulledin=1))
    refi = sim.spec.timing.REFI
    assert len(run.ref_start) == run.n_ref >= run.end // refi - 8 - 1  # at most RefreshMaxPostponed missing
    if requests > 1:
        assert run.n_ref > requests // 4 + 64  # more than the first run made room for
    assert len(run.open_start) == len(run.open_end) >= run.n_act
    assert np.all(np.diff(run.ref_start) > 0) and run.response.max() == run.end


def test_jit_caches_in_the_temporary_directory_when_numba_finds_no_writable_place(monkeypatch):
    """A read-only site-packages and home: numba refuses cache=True; the cache moves to a temp folder."""
    import numba

    from simulators import jit as _jit

    calls = []

    def njit(**options):
        calls.append((options.get("cache", False), numba.config.CACHE_DIR))
        if options.get("cache") and not numba.config.CACHE_DIR:
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return lambda f: f

    monkeypatch.setattr(numba, "njit", njit)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(_jit, "COMPILED", True)
    assert _jit.jit(lambda: 7)() == 7
    assert calls == [(True, ""), (True, _jit._fallback_cache_dir())]
    assert _jit._fallback_cache_dir() == numba.config.CACHE_DIR


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-20, 120), st.integers(-5, 40)), max_size=25),
       st.lists(st.integers(-10, 120), max_size=4, unique=True), st.integers(0, 130), st.integers(1, 12))
def test_active_cycles_count_each_covered_cycle_once(opens, refreshes, end, refresh_cycles):
    """The union of bank-open intervals and refresh windows, against marking cycles one by one."""
    start = np.array([s for s, _ in opens], dtype=np.int64)
    stop = np.array([s + d for s, d in opens], dtype=np.int64)
    ref = np.array(sorted(refreshes), dtype=np.int64)
    run = replace(simulate(*_tiny()), open_start=start, open_end=stop, ref_start=ref, end=end)
    covered = np.zeros(end, dtype=bool)
    for a, b in [*zip(start, stop), *((r, r + refresh_cycles) for r in ref)]:
        covered[max(a, 0):max(min(b, end), 0)] = True
    assert active_cycles(run, refresh_cycles) == covered.sum()


@cache
def _tiny():
    sim = DRAMSimulator("random", requests=4)
    return sim.bursts, sim.spec, sim.config(sim.default_design())


def test_a_memspec_whose_waits_do_not_fit_the_scan_key_is_refused():
    bursts, spec, cfg = _tiny()
    huge = replace(spec, timing=replace(spec.timing, RFC=1 << 60))
    with pytest.raises(ValueError, match="too long"):
        simulate(bursts, huge, cfg)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([16, 32, 64, 128, 256]), min_size=1, max_size=40), st.integers(0, 2**16))
def test_buffer_slots_a_request_needs_are_counted_per_bank(lengths, seed):
    """What ``simulate`` checks against RequestBufferSize, computed once per trace: a request's bursts,
    or (Bankwise) the most of them on one bank; counted here burst by burst."""
    rng = np.random.default_rng(seed)
    sim = DRAMSimulator("random", requests=4)
    lengths = np.array(lengths, dtype=np.int64)
    address = rng.integers(0, sim.spec.capacity_bytes // 256, len(lengths)) * 256
    t = sim.trace
    trace = type(t)("t", np.arange(len(lengths)), np.zeros(len(lengths), bool), address, lengths)
    bursts = DRAMSimulator(trace).bursts
    per_bank: dict[tuple[int, int], int] = {}
    for p, b in zip(bursts.parent.tolist(), bursts.bank.tolist()):
        per_bank[p, b] = per_bank.get((p, b), 0) + 1
    assert bursts.slots_needed(sim.spec.banks, bankwise=False) == int(bursts.bursts.max())
    assert bursts.slots_needed(sim.spec.banks, bankwise=True) == max(per_bank.values())
    with pytest.raises(ValueError, match="read-only"):
        bursts.bank[0] = 1  # the counts above stay true: the trace cannot change under them
