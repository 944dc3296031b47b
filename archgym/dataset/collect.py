"""Collecting: sample a space (uniformly or as a Latin hypercube) into a dataset with ``evaluate_batch``.

The designs of a run follow from its space, method, seed and sample count alone, so a run given a
``run_id`` resumes when collected again: the rows it already has are kept and only the missing
designs are evaluated (a run recorded with other settings, objective, method, seed or count is
refused, naming the difference). Batches are sized from the measured speed to take about half a
second, and rows are written at least every ``flush_seconds``, so a killed collect loses at most
about that much work, whatever the simulator's speed.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from archgym.dataset import provenance
from archgym.dataset.reader import collect_samples
from archgym.dataset.schema import scan_dataset
from archgym.dataset.writer import RunInfo, TrajectoryWriter
from archgym.explore import check_memory
from simulators.core import BatchEvaluation
from simulators.params import MAX_SEED, check_int

__all__ = ["CollectInterrupted", "CollectResult", "collect"]

_BATCH_SECONDS = 0.5  # aim of one evaluate_batch call, so the time bound of a flush holds on slow simulators


@dataclass(frozen=True)
class CollectResult:
    """What ``collect`` appended: the run, how many designs (and feasible ones), how many the run already
    had when it was resumed, and how fast."""

    dataset: str
    run_id: str
    env: str
    workload: str
    method: str
    seed: int | None
    rows: int
    feasible: int
    seconds: float
    resumed: int = 0

    @property
    def designs_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "designs_per_second": self.designs_per_second}


class CollectInterrupted(KeyboardInterrupt):
    """A ``collect`` stopped by Ctrl-C after writing what it had: which run, how many designs it holds of
    how many asked for (collecting again with ``run_id`` resumes it)."""

    def __init__(self, run_id: str, rows: int, samples: int) -> None:
        super().__init__(f"run {run_id} holds {rows:,} of {samples:,} designs")
        self.run_id, self.rows, self.samples = run_id, rows, samples


def collect(env: Any, env_id: str, out: str | os.PathLike[str], samples: int, *, method: str = "random",
            seed: int | None = 0, batch: int = 4096, run_id: str | None = None, flush_seconds: float = 5.0,
            progress: Any = None) -> CollectResult:
    """Evaluate ``samples`` designs of ``env`` (a ``DesignEnv``) drawn by ``method`` and append them to
    the dataset ``out`` as one run; returns a summary. A ``run_id`` the dataset already holds is resumed
    (see the module docstring). Designs are costed with ``evaluate_batch``, at most ``batch`` per call;
    ``progress(done, total, seconds)`` is called after each call. Ctrl-C raises ``CollectInterrupted`` (a
    ``KeyboardInterrupt``) once the rows evaluated so far are written."""
    samples = check_int(samples, "samples", low=1)
    batch = check_int(batch, "batch", low=1)
    seed = check_int(seed, "seed", low=0, high=MAX_SEED, allow_none=True)
    sim = env.simulator
    # the designs are drawn up front (a Latin hypercube needs them all; a resumed run redraws the same)
    check_memory(samples, 24 * len(sim.space), f"samples {samples:,}", "sampled designs")
    designs = sim.space.sample_batch(np.random.default_rng(seed), samples, method)
    run = RunInfo.from_env(env, env_id, run_id=f"collect-{method}-s{seed}-{uuid.uuid4().hex[:6]}"
                           if run_id is None else run_id, agent=method, hyperparameters={"samples": samples}, seed=seed)
    _refuse_a_repeated_draw(out, run, samples)
    feasible = 0
    start = time.perf_counter()
    writer = TrajectoryWriter(out, space=sim.space, metrics=sim.metrics, run=run, flush_seconds=flush_seconds,
                              existing="resume" if run_id else "error")
    try:
        with writer:
            done, feasible = _collect_rows(env, writer, designs, samples, batch, flush_seconds, progress, start)
    except KeyboardInterrupt:
        raise CollectInterrupted(run.run_id, len(writer.resumed_steps) + writer.rows_written, samples) from None
    return CollectResult(dataset=str(out), run_id=run.run_id, env=env_id, workload=sim.workload, method=method,
                         seed=seed, rows=samples - done, feasible=feasible, seconds=time.perf_counter() - start,
                         resumed=done)


def _refuse_a_repeated_draw(out: str | os.PathLike[str], run: RunInfo, samples: int) -> None:
    """``ValueError`` when another run of dataset ``out`` drew the designs this new run would draw: the same env,
    simulator and settings, method and seed (and, for a Latin hypercube, sample count; a uniform sample
    of another size shares its first designs). Its rows would be repeated under another run id: counted
    twice by any reader (archgym's proxy keeps one row per design, pandas or polars statistics do not)."""
    info = scan_dataset(out, allow_empty=True) if run.seed is not None and os.path.isdir(out) else None
    runs = info.runs() if info else {}
    if run.run_id in runs:  # resumed: the writer checks that it is the same draw
        return
    for run_id, have in runs.items():
        same = all(have.get(k) == getattr(run, k) for k in ("env_id", "workload", "simulator", "agent", "seed"))
        if not same or collect_samples(have) is None or provenance.record_difference(have.get("settings"),
                                                                                      run.settings, ("", "")):
            continue
        if run.agent != "random" and collect_samples(have) != samples:  # a Latin hypercube of another size
            continue
        raise ValueError(f"dataset {out} already holds run {run_id!r}, drawn by {run.agent} with seed {run.seed} "
                         f"from the same space and simulator settings: a new run would repeat its designs. Choose "
                         f"another seed (or, to finish that run if it was interrupted, give its run_id, --run-id "
                         f"{run_id})")


def _collect_rows(env: Any, writer: TrajectoryWriter, designs: Any, samples: int, batch: int, flush_seconds: float,
                  progress: Any, start: float) -> tuple[int, int]:
    """Evaluate and append the designs the run lacks; returns how many it had and how many new ones were
    feasible."""
    sim, run, out, feasible = env.simulator, writer.run, writer.path, 0
    done = len(writer.resumed_steps)
    if done and not np.array_equal(writer.resumed_steps, np.arange(1, done + 1)):
        raise ValueError(f"run {run.run_id!r} in {out} does not hold steps 1..{done} in order, so it cannot be "
                         "resumed as a collect run")
    lo, size, per_design = done, min(batch, 16), None
    while lo < samples:
        chunk = designs[lo:lo + size]
        if per_design is not None and writer.buffered_rows \
                and writer.seconds_since_flush + per_design * len(chunk) >= flush_seconds:
            writer.flush()  # the next batch would hold unsaved rows past the time bound
        t0 = time.perf_counter()
        if isinstance(chunk, np.ndarray):
            evaluations = sim.evaluate_batch(chunk)
        else:  # a continuous parameter: no index matrix, so one design at a time
            evaluations = BatchEvaluation.from_evaluations([sim.evaluate(d) for d in chunk], sim.metric_names)
        seconds = time.perf_counter() - t0
        rewards = env.objective.batch(evaluations)
        # wall time as the explore loop logs it: seconds since the run started, when the evaluation
        # finished (a batch's time is spread evenly over its designs); steps count from 1 likewise
        finished = t0 - start + seconds * np.arange(1, len(evaluations) + 1) / len(evaluations)
        writer.append_batch(start_step=lo + 1, designs=chunk, evaluations=evaluations, rewards=rewards,
                            wall_time=finished)
        feasible += int(np.count_nonzero(evaluations.feasible))
        lo += len(evaluations)
        per_design = max(seconds / len(evaluations), 1e-9)
        size = int(min(batch, max(1, _BATCH_SECONDS / per_design)))
        if progress is not None:
            progress(lo, samples, time.perf_counter() - start)
    return done, feasible
