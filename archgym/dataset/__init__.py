"""The trajectory dataset: one row per evaluated design, in Parquet, safe against crashes.

A dataset is a directory::

    DATA/
      manifest.json                             written once: schema version, design space, metrics
      part-<run>-<writer>-<counter>.parquet     one file per flushed chunk of rows

Each row is one evaluation: who produced it (run id, env id, workload, agent, agent
hyperparameters as a JSON string, seed), when (step, and ``wall_time``: seconds since the run
started when it finished), what (one typed column per design parameter), what it cost (one float
column per metric, in the metric's unit), the reward, feasibility and the reason for infeasibility.

- ``schema``: columns, Parquet types, the manifest and its checks;
- ``writer``: ``TrajectoryWriter`` appends a run's rows in crash-safe parts;
- ``reader``: every row as an Arrow or pandas table, arrays for training, CSV export, a summary;
- ``collect``: sample a space into a dataset with ``evaluate_batch``.
"""

from archgym.dataset.collect import CollectResult, collect
from archgym.dataset.reader import (
    dataset_summary,
    design_indices,
    export_csv,
    load_arrays,
    read_dataset,
    read_table,
    remove_run,
)
from archgym.dataset.schema import (
    FORMAT,
    MANIFEST,
    RESULT_COLUMNS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    check_dataset,
    dataset_manifest,
    read_manifest,
)
from archgym.dataset.writer import RunInfo, TrajectoryWriter

__all__ = [
    "FORMAT",
    "MANIFEST",
    "RESULT_COLUMNS",
    "RUN_COLUMNS",
    "SCHEMA_VERSION",
    "CollectResult",
    "RunInfo",
    "TrajectoryWriter",
    "check_dataset",
    "collect",
    "dataset_manifest",
    "dataset_summary",
    "design_indices",
    "export_csv",
    "load_arrays",
    "read_dataset",
    "read_manifest",
    "read_table",
    "remove_run",
]
