"""Collecting: sample a space (uniformly or as a Latin hypercube) into a dataset with ``evaluate_batch``."""

from __future__ import annotations

import math
import os
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from archgym.dataset.writer import RunInfo, TrajectoryWriter
from simulators.core import BatchEvaluation
from simulators.params import check_int

__all__ = ["CollectResult", "collect"]


@dataclass(frozen=True)
class CollectResult:
    """What ``collect`` appended: the run, how many designs (and feasible ones), and how fast."""

    dataset: str
    run_id: str
    env: str
    workload: str
    method: str
    seed: int | None
    rows: int
    feasible: int
    seconds: float

    @property
    def designs_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "designs_per_second": self.designs_per_second}


def collect(env: Any, env_id: str, out: str | os.PathLike[str], samples: int, *, method: str = "random",
            seed: int | None = 0, batch: int = 4096, run_id: str | None = None,
            progress: Any = None) -> CollectResult:
    """Evaluate ``samples`` designs of ``env`` (a ``DesignEnv``) drawn by ``method`` and append them to
    the dataset ``out``; returns a summary. Designs are costed with ``evaluate_batch`` in batches of
    ``batch`` (one Parquet part each); ``progress(done, total, seconds)`` is called after each."""
    samples = check_int(samples, "samples", low=1)
    batch = check_int(batch, "batch", low=1)
    sim = env.simulator
    designs = sim.space.sample_batch(np.random.default_rng(seed), samples, method)
    run = RunInfo(run_id=run_id or f"collect-{method}-s{seed}-{uuid.uuid4().hex[:6]}", env_id=env_id,
                  workload=sim.workload, agent=method, hyperparameters={"samples": samples}, seed=seed)
    feasible = 0
    start = time.perf_counter()
    with TrajectoryWriter(out, space=sim.space, metrics=sim.metrics, run=run, chunk_rows=batch) as writer:
        for lo in range(0, samples, batch):
            chunk = designs[lo:lo + batch]
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
            writer.flush()
            feasible += int(np.count_nonzero(evaluations.feasible))
            if progress is not None:
                progress(min(samples, lo + batch), samples, time.perf_counter() - start)
    return CollectResult(dataset=str(out), run_id=run.run_id, env=env_id, workload=sim.workload, method=method,
                         seed=seed, rows=samples, feasible=feasible, seconds=time.perf_counter() - start)

