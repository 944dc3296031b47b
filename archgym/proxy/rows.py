"""Which dataset rows a proxy learns from or is scored on: one env and workload, one row per design."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archgym.dataset import check_dataset, read_dataset
from simulators.core import DesignSpace, Metric

if TYPE_CHECKING:
    import pandas

__all__ = ["proxy_rows"]


def proxy_rows(data: str | os.PathLike[str] | pandas.DataFrame, space: DesignSpace, metrics: Sequence[Metric],
              env_id: str, workload: str) -> pandas.DataFrame:
    """The dataset rows of ``env_id``/``workload``, one per distinct design, checked against the space."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        df = data
        missing = [c for c in (*space.names, *(m.name for m in metrics), "env_id", "workload", "feasible")
                   if c not in df.columns]
        if missing:
            raise ValueError(f"the table has no column(s) {missing}")
    else:
        check_dataset(data, space, metrics)
        df = read_dataset(data)
    rows = df[(df["env_id"] == env_id) & (df["workload"] == workload)]
    if rows.empty:
        held = df.groupby(["env_id", "workload"]).size()
        listed = ", ".join(f"{e} / {w} ({n} rows)" for (e, w), n in held.items()) or "no rows at all"
        raise ValueError(f"the dataset has no rows for {env_id} with workload {workload!r}; it holds {listed}")
    return rows.drop_duplicates(subset=list(space.names), keep="first").reset_index(drop=True)
