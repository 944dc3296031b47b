"""The trajectory dataset: one row per evaluated design, in plain Parquet, with each run's provenance.

A dataset is a directory of Parquet files and nothing else, so pandas, pyarrow, polars and duckdb
read it as it is::

    DATA/
      part-<run>-<hash>-00000.parquet     one file per run once the run has ended (compacted)
      part-<run>-<hash>-00001.parquet     while a run is going: its chunks, written every few seconds

Each row is one evaluation: who produced it (run id, env id, workload, agent, agent
hyperparameters as a JSON string, seed), when (step, and ``wall_time``: seconds since the run
started when it finished), what (one typed column per design parameter), what it cost (one float
column per metric, in the metric's unit), the reward, feasibility and the reason for
infeasibility, and the run's provenance (simulator class, its settings as resolved and the
objective, as JSON, and the archgym version). Units, the space and each run's record also travel
in every file's key-value metadata.

- ``schema``: columns, Parquet types and metadata, the scan and checks of a directory;
- ``provenance``: how a run's simulator settings and objective are recorded and rebuilt;
- ``writer``: ``TrajectoryWriter`` appends a run's rows, bounded crash loss, one writer per run;
- ``reader``: every row as an Arrow or pandas table, arrays for training, CSV export, a summary;
- ``collect``: sample a space into a dataset with ``evaluate_batch`` (resumable);
- ``validate``: replay recorded rows on the recorded simulator and report every mismatch;
- ``upgrade``: convert a schema-1 dataset, naming the settings its rows were produced with.
"""

from archgym.dataset.collect import CollectInterrupted, CollectResult, collect
from archgym.dataset.reader import (
    dataset_summary,
    design_indices,
    export_csv,
    load_arrays,
    read_dataset,
    read_table,
)
from archgym.dataset.schema import (
    FORMAT,
    PROVENANCE_COLUMNS,
    RESULT_COLUMNS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    DatasetInfo,
    check_dataset,
    scan_dataset,
)
from archgym.dataset.upgrade import upgrade_dataset
from archgym.dataset.validate import Mismatch, ValidationReport, validate_dataset
from archgym.dataset.writer import RunInfo, TrajectoryWriter, remove_run

__all__ = [
    "FORMAT",
    "PROVENANCE_COLUMNS",
    "RESULT_COLUMNS",
    "RUN_COLUMNS",
    "SCHEMA_VERSION",
    "CollectInterrupted",
    "CollectResult",
    "DatasetInfo",
    "Mismatch",
    "RunInfo",
    "TrajectoryWriter",
    "ValidationReport",
    "check_dataset",
    "collect",
    "dataset_summary",
    "design_indices",
    "export_csv",
    "load_arrays",
    "read_dataset",
    "read_table",
    "remove_run",
    "scan_dataset",
    "upgrade_dataset",
    "validate_dataset",
]
