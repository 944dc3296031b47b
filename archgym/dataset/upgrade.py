"""Converting a schema-1 dataset (``manifest.json`` among its parts, no provenance) to the current schema.

Schema-1 rows do not say which simulator settings or objective produced them, so the conversion
takes them from an env the user names: the rows of that env id and workload become runs recorded
with the env's simulator, settings and objective (the run ids, agents, hyperparameters, seeds,
steps, designs, metrics and rewards are kept). ``archgym dataset validate`` then replays them and
reports any row the named settings do not reproduce. Copies of one row that the old ``collect``
wrote twice (same run id and step, same values) are kept once; copies that differ are refused.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from archgym.dataset.reader import design_indices, design_values
from archgym.dataset.schema import LEGACY_MANIFEST, PART_GLOB
from archgym.dataset.writer import RunInfo, TrajectoryWriter
from archgym.io import check_format, read_json
from simulators.core import BatchEvaluation, DesignSpace, Metric, metrics_difference, space_difference

__all__ = ["upgrade_dataset"]


def upgrade_dataset(old: str | os.PathLike[str], out: str | os.PathLike[str], env: Any, env_id: str,
                    ) -> dict[str, Any]:
    """Write the schema-1 dataset ``old``'s rows of ``env_id`` and the env's workload to ``out`` as runs
    recorded with ``env``'s settings and objective; returns what was converted and what was left."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    old = Path(old)
    manifest = read_json(old / LEGACY_MANIFEST, "schema-1 dataset manifest")
    check_format(manifest, str(old / LEGACY_MANIFEST), fmt="archgym-trajectories", version=1,
                 version_key="schema_version")
    sim = env.simulator
    where = old / LEGACY_MANIFEST
    missing = [k for k in ("space", "metrics") if k not in manifest]
    if missing:
        raise ValueError(f"{where}: not a schema-1 manifest (no {missing})")
    try:
        space = DesignSpace.from_dict(manifest["space"])
        metrics = [Metric(m["name"], m["unit"], m["direction"], m.get("description", ""))
                   for m in manifest["metrics"]]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{where}: its space or metrics are malformed ({type(exc).__name__}: {exc})") from None
    diff = space_difference(space.to_dict(), sim.space.to_dict()) or metrics_difference(
        [m.to_dict() for m in metrics], [m.to_dict() for m in sim.metrics])
    if diff:
        raise ValueError(f"{old} was written for another design space or other metrics than {env_id}'s: {diff}")
    tables = [pq.read_table(p) for p in sorted(old.glob(PART_GLOB))]
    df = pa.concat_tables(tables, promote_options="permissive").to_pandas() if tables else pd.DataFrame()
    if df.empty:
        raise ValueError(f"{old} holds no rows to convert")
    mine = (df["env_id"] == env_id) & (df["workload"] == sim.workload)
    left = [{"env_id": e, "workload": w, "rows": int(n)}
            for (e, w), n in df[~mine].groupby(["env_id", "workload"]).size().items()]
    if not mine.any():
        held = ", ".join(f"{e['env_id']} / {e['workload']} ({e['rows']} rows)" for e in left)
        raise ValueError(f"{old} has no rows of {env_id} with workload {sim.workload!r}; it holds {held}")
    rows_out, dropped, runs = 0, 0, 0
    value_columns = [c for c in df.columns if c != "wall_time"]
    for run_id, rows in df[mine].groupby("run_id", sort=False):
        rows = rows.sort_values("step", kind="stable")
        unique = rows.drop_duplicates(subset=value_columns)
        dropped += len(rows) - len(unique)
        clash = unique["step"].duplicated(keep=False)
        if clash.any():
            steps = sorted(set(unique.loc[clash, "step"].tolist()))
            raise ValueError(f"run {run_id!r} of {old} holds different rows for step(s) {steps[:10]}: they cannot "
                             "be told apart; remove them first")
        first = unique.iloc[0]
        seed = None if pd.isna(first["seed"]) else int(first["seed"])
        run = RunInfo.from_env(env, env_id, run_id=str(run_id), agent=str(first["agent"]),
                               hyperparameters=json.loads(first["hyperparameters"]), seed=seed)
        steps = unique["step"].to_numpy()
        breaks = np.flatnonzero(np.diff(steps) != 1) + 1
        with TrajectoryWriter(out, space=sim.space, metrics=sim.metrics, run=run) as writer:
            for segment in np.split(np.arange(len(unique)), breaks):
                seg = unique.iloc[segment]
                cols = {p.name: seg[p.name].to_numpy() for p in sim.space}
                if sim.space.indexable:
                    designs: Any = design_indices(sim.space, cols)
                else:
                    values = {p.name: design_values(p, cols[p.name]) for p in sim.space}
                    designs = [{n: values[n][i] for n in sim.space.names} for i in range(len(seg))]
                reasons = [None if r is None or (isinstance(r, float) and math.isnan(r)) else str(r)
                           for r in seg["reason"].tolist()]
                evaluations = BatchEvaluation(metrics={m.name: seg[m.name].to_numpy(dtype=np.float64)
                                                       for m in sim.metrics},
                                              feasible=seg["feasible"].to_numpy(dtype=bool), reasons=reasons)
                writer.append_batch(start_step=int(seg["step"].iloc[0]), designs=designs, evaluations=evaluations,
                                    rewards=seg["reward"].to_numpy(dtype=np.float64),
                                    wall_time=seg["wall_time"].to_numpy(dtype=np.float64))
        rows_out += len(unique)
        runs += 1
    return {"dataset": str(out), "from": str(old), "env": env_id, "workload": sim.workload, "runs": runs,
            "rows": rows_out, "duplicates_dropped": dropped, "left": left}
