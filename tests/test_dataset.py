"""The trajectory dataset: typed round trips, crash safety, concurrent writers, schema checks, CSV and collect."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from archgym.cli import main
from archgym.dataset import (
    SCHEMA_VERSION,
    RunInfo,
    TrajectoryWriter,
    collect,
    export_csv,
    load_arrays,
    read_dataset,
    validate_dataset,
)
from archgym.envs import DesignEnv
from simulators.core import BatchEvaluation, Choice, DesignSpace, Evaluation, FloatRange, IntRange, Metric, Simulator
from simulators.systolic import SystolicSimulator

ROOT = Path(__file__).resolve().parent.parent

SPACE = DesignSpace([
    Choice("mode", ["fast", "slow", "eco"]),
    Choice("flag", [True, False]),
    Choice("ratio", [0.5, 1, 2.5]),
    Choice("mixed", [1, "auto"]),
    IntRange("width", 4, 64, power_of_two=True, unit="bits"),
    IntRange("depth", 1, 9, step=2),
    FloatRange("vdd", 0.6, 1.2, levels=7, unit="V"),
    Choice("level", ["low", "mid", "high"], ordered=True),
])
METRICS = (Metric("latency", "s"), Metric("score", "fraction", "maximize"))
RUN = RunInfo(run_id="run/1", env_id="test/Toy-v0", workload="toy", agent="ga",
              hyperparameters={"population": 8, "mutation": 0.1}, seed=7)


def toy_evaluation(design: dict) -> Evaluation:
    """Deterministic fake metrics; designs with mode 'eco' and width 4 are infeasible."""
    if design["mode"] == "eco" and design["width"] == 4:
        return Evaluation(metrics={"latency": math.nan, "score": math.nan}, feasible=False, reason="too narrow")
    latency = design["width"] * design["depth"] * 1e-6 / design["vdd"]
    return Evaluation(metrics={"latency": latency, "score": 1 / (1 + latency)})


def toy_designs(n: int, seed: int = 0) -> list[dict]:
    return SPACE.sample(np.random.default_rng(seed), n)


def write_toy(path: Path, n: int, chunk_rows: int = 10, run: RunInfo = RUN) -> list[dict]:
    designs = toy_designs(n)
    with TrajectoryWriter(path, space=SPACE, metrics=METRICS, run=run, chunk_rows=chunk_rows) as w:
        for step, d in enumerate(designs):
            e = toy_evaluation(d)
            w.append(step=step, design=d, evaluation=e, reward=0.0 if not e.feasible else e.metrics["score"],
                     wall_time=0.001 * step)
    return designs


def test_typed_columns_round_trip(tmp_path):
    designs = write_toy(tmp_path / "data", 25, chunk_rows=10)
    parts = sorted((tmp_path / "data").glob("part-*.parquet"))
    # three chunks of 10 (and the run's empty first part) were compacted into one file when the run ended
    assert len(parts) == 1 and "run_1" in parts[0].name and os.listdir(tmp_path) == ["data"]
    assert pq.ParquetFile(parts[0]).metadata.num_rows == 25
    df = read_dataset(tmp_path / "data")
    assert len(df) == 25
    expected_dtypes = {"mode": "str", "flag": "bool", "ratio": "float64", "mixed": "str", "width": "int64",
                       "depth": "int64", "vdd": "float64", "level": "str", "latency": "float64", "score": "float64",
                       "seed": "Int64", "step": "int64", "reward": "float64", "feasible": "bool",
                       "wall_time": "float64", "hyperparameters": "str"}
    assert {k: str(df[k].dtype) for k in expected_dtypes} == expected_dtypes
    assert list(df.columns[:7]) == ["run_id", "env_id", "workload", "agent", "hyperparameters", "seed", "step"]
    for row, d in zip(df.itertuples(index=False), designs):
        e = toy_evaluation(d)
        assert row.mode == d["mode"] and row.flag is d["flag"] and row.ratio == d["ratio"]
        assert row.mixed == str(d["mixed"]) and row.width == d["width"] and row.vdd == d["vdd"]
        assert row.feasible == e.feasible
        if e.feasible:
            assert row.latency == e.metrics["latency"] and pd.isna(row.reason)
        else:
            assert math.isnan(row.latency) and row.reason == "too narrow"
    assert df["run_id"].unique().tolist() == ["run/1"] and df["seed"].unique().tolist() == [7]
    assert json.loads(df["hyperparameters"][0]) == {"mutation": 0.1, "population": 8}
    assert df["step"].tolist() == list(range(25))
    # units, the schema version, the space and the run's record travel in every file's metadata
    schema = pq.read_schema(parts[0])
    assert schema.field("latency").metadata[b"unit"] == b"s"
    assert schema.field("vdd").metadata[b"unit"] == b"V"
    assert schema.metadata[b"archgym.schema_version"] == str(SCHEMA_VERSION).encode() == b"2"
    assert DesignSpace.from_dict(json.loads(schema.metadata[b"archgym.space"])) == SPACE
    assert schema.field("mixed").type == "string"
    assert json.loads(schema.metadata[b"archgym.run"])["run_id"] == "run/1"
    assert json.loads(schema.metadata[b"archgym.parts"]) == [0, 3]


def test_load_arrays_gives_the_space_encoding(tmp_path):
    designs = write_toy(tmp_path / "data", 40)
    idx, metrics, feasible = load_arrays(tmp_path / "data", SPACE)
    assert np.array_equal(idx, SPACE.encode_indices_batch(designs))
    assert set(metrics) == {"latency", "score"}
    assert np.array_equal(feasible, [toy_evaluation(d).feasible for d in designs])
    ok = feasible
    assert np.array_equal(metrics["latency"][ok], [toy_evaluation(d).metrics["latency"] for d, f in
                                                   zip(designs, ok) if f])
    idx2, only, _ = load_arrays(tmp_path / "data", SPACE, ["score"], workload="toy")
    assert list(only) == ["score"] and len(idx2) == 40
    assert len(load_arrays(tmp_path / "data", SPACE, workload="other")[0]) == 0
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['power'\]"):
        load_arrays(tmp_path / "data", SPACE, ["power"])


def test_load_arrays_returns_rows_of_one_setting_or_refuses(tmp_path):
    # the same designs under two settings: returning both would give each design two results
    sim = "test.toy:Toy"
    for run_id, scale in (("run/a", 1), ("run/b", 2.0), ("run/c", 1.0)):
        write_toy(tmp_path / "data", 20, run=dataclasses.replace(RUN, run_id=run_id, simulator=sim,
                                                                  settings={"scale": scale, "trace": None}))
    with pytest.raises(ValueError, match=r"mixes rows of 2 kinds: scale=1 \(40 rows\); scale=2.0 \(20 rows\); .*"
                                         r"choose one kind with env_id=, workload= and settings="):
        load_arrays(tmp_path / "data", SPACE)
    with pytest.raises(ValueError, match=r"mixes rows of 2 kinds \(among its rows of workload='toy'\)"):
        load_arrays(tmp_path / "data", SPACE, workload="toy")
    # settings are compared by meaning: 1 and 1.0 are one setting
    idx, metrics, _ = load_arrays(tmp_path / "data", SPACE, settings={"scale": 1.0, "trace": None})
    assert len(idx) == 40 and np.array_equal(idx[:20], idx[20:])
    assert len(load_arrays(tmp_path / "data", SPACE, settings={"trace": None, "scale": 2})[0]) == 20
    with pytest.raises(ValueError, match=r"no rows with settings \{'scale': 3\}; it holds scale=1 \(40 rows\); "
                                         r"scale=2.0 \(20 rows\)"):
        load_arrays(tmp_path / "data", SPACE, settings={"scale": 3})
    with pytest.raises(ValueError, match="settings must be a mapping"):
        load_arrays(tmp_path / "data", SPACE, settings="scale=1")
    # rows of another simulator, and rows written without settings, are kinds of their own
    write_toy(tmp_path / "data", 5, run=dataclasses.replace(RUN, run_id="run/d", simulator="test.toy:Other",
                                                             settings={"scale": 1}))
    write_toy(tmp_path / "data", 5, run=dataclasses.replace(RUN, run_id="run/e"))
    with pytest.raises(ValueError, match=r"4 kinds: simulator='test.toy:Toy', scale=1 \(40 rows\); "
                                         r"simulator='test.toy:Toy', scale=2.0 \(20 rows\); "
                                         r"simulator='test.toy:Other', scale=1 \(5 rows\); "
                                         r"simulator='', no settings recorded \(5 rows\)"):
        load_arrays(tmp_path / "data", SPACE)

def test_append_batch_writes_the_same_rows_as_append(tmp_path):
    designs = toy_designs(30, seed=3)
    batch = BatchEvaluation.from_evaluations([toy_evaluation(d) for d in designs], ["latency", "score"])
    with TrajectoryWriter(tmp_path / "batch", space=SPACE, metrics=METRICS, run=RUN, chunk_rows=7) as w:
        w.append_batch(start_step=5, designs=designs, evaluations=batch,
                       rewards=np.arange(30.0), wall_time=0.5)
    with TrajectoryWriter(tmp_path / "single", space=SPACE, metrics=METRICS, run=RUN, chunk_rows=7) as w:
        for i, (d, e) in enumerate(zip(designs, batch)):
            w.append(step=5 + i, design=d, evaluation=e, reward=float(i), wall_time=0.5)
    a = read_dataset(tmp_path / "batch")
    b = read_dataset(tmp_path / "single")
    pd.testing.assert_frame_equal(a, b)
    assert len(list((tmp_path / "batch").glob("part-*"))) == 1  # 30 rows in chunks of 7, compacted at close


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_dataset import SPACE, METRICS, RunInfo, TrajectoryWriter, toy_designs, toy_evaluation
    path, run_id, n, chunk, hold, go = sys.argv[1:7]
    n, chunk = int(n), int(chunk)
    flush = float(sys.argv[7]) if len(sys.argv) > 7 else 3600.0
    run = RunInfo(run_id=run_id, env_id="test/Toy-v0", workload="toy", agent="rw", hyperparameters={{"w": run_id}},
                  seed=None)
    designs = toy_designs(n, seed=sum(map(ord, run_id))) if n > 0 else None
    while go != "-" and not __import__("os").path.exists(go):
        time.sleep(0.01)
    w = TrajectoryWriter(path, space=SPACE, metrics=METRICS, run=run, chunk_rows=chunk, flush_seconds=flush)
    step = 0
    while n < 0 or step < n:
        d = designs[step] if designs else SPACE.sample(__import__("numpy").random.default_rng(step))
        w.append(step=step, design=d, evaluation=toy_evaluation(d), reward=0.5, wall_time=0.0)
        step += 1
        if step % chunk == 0:
            print("flushed", step, flush=True)
    if hold == "hold":
        print("ready", flush=True)
        time.sleep(60)
    w.close()
""")


def start_child(tmp_path: Path, *args: str) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(ROOT / "tests")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True, env=env)


def kill_when_ready(child: subprocess.Popen) -> subprocess.Popen:
    """SIGKILL a child holding its writer open (once it says "ready"), and wait for it."""
    try:
        for line in child.stdout:
            if line.strip() == "ready":
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    return child


def test_writer_killed_with_an_open_chunk_keeps_every_flushed_row(tmp_path):
    data = tmp_path / "data"
    child = kill_when_ready(start_child(tmp_path, str(data), "killed", "35", "10", "hold", "-"))
    assert child.returncode == -signal.SIGKILL
    df = read_dataset(data)
    assert df["step"].tolist() == list(range(30))  # three flushed chunks; the open one (5 rows) is lost
    expected = toy_designs(35, seed=sum(map(ord, "killed")))[:30]
    assert df["width"].tolist() == [d["width"] for d in expected]


def test_writer_killed_while_writing_never_corrupts_the_dataset(tmp_path):
    data = tmp_path / "data"
    child = start_child(tmp_path, str(data), "busy", "-1", "20", "run", "-")
    try:
        flushed = 0
        for line in child.stdout:
            flushed += line.startswith("flushed")
            if flushed == 4:
                break
        time.sleep(0.05)  # let it get into another chunk, maybe into the middle of writing one
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    df = read_dataset(data)  # any half-written temporary part is invisible to readers
    n = len(df)
    assert n >= 80 and n % 20 == 0
    assert df["step"].tolist() == list(range(n))


def test_concurrent_writers_share_one_directory(tmp_path):
    data, go = tmp_path / "data", tmp_path / "go"
    # two runs, and a third writer for the first run's id, which must be refused rather than interleave rows
    children = [start_child(tmp_path, str(data), run_id, "120", "25", "run", str(go))
                for run_id in ("run-a", "run-b", "run-a")]
    time.sleep(0.5)
    go.touch()
    codes = []
    for child in children:
        child.communicate(timeout=60)
        codes.append(child.returncode)
    assert sorted(codes) == [0, 0, 1]  # exactly one of the two run-a writers was refused
    df = read_dataset(data)
    assert len(df) == 240 and df.groupby("run_id").size().to_dict() == {"run-a": 120, "run-b": 120}
    assert sorted(df["step"].tolist()) == sorted(list(range(120)) * 2)
    assert len(list(data.glob("part-*.parquet"))) == 2  # one compacted file per run
    assert all(n.endswith(".parquet") for n in os.listdir(data))
    assert os.listdir(tmp_path).count(".data.tmp") == 0  # no temporary files left behind


def test_a_run_being_written_refuses_a_second_writer_at_once_and_a_killed_one_never_blocks(tmp_path):
    """Two `collect --run-id X` at once both exited 0: the second resumed the first's run, both wrote the
    same chunk numbers over each other, and the dataset held duplicated (or lost) rows. A writer now holds
    its run's lock for its whole life, so a second writer fails at once, whatever ``existing`` says."""
    data = tmp_path / "data"
    designs = toy_designs(12)

    def append(w, steps):
        for step in steps:
            e = toy_evaluation(designs[step])
            w.append(step=step, design=designs[step], evaluation=e, reward=0.0, wall_time=0.0)

    first = TrajectoryWriter(data, space=SPACE, metrics=METRICS, run=RUN, chunk_rows=5)
    append(first, range(7))
    for existing in ("error", "resume", "replace"):
        with pytest.raises(ValueError, match=r"run 'run/1' in .* is being written by another writer now .*wait "
                                             r"for it to finish, or choose another run id"):
            TrajectoryWriter(data, space=SPACE, metrics=METRICS, run=RUN, chunk_rows=5, existing=existing)
    append(first, range(7, 12))
    first.close()
    assert read_dataset(data)["step"].tolist() == list(range(12))  # nothing of the first run was touched
    with TrajectoryWriter(data, space=SPACE, metrics=METRICS, run=RUN, existing="resume") as again:  # lock released
        assert again.resumed_steps.tolist() == list(range(12))
    assert all(n.endswith(".parquet") for n in os.listdir(data)) and ".data.tmp" not in os.listdir(tmp_path)

    # a writer killed with SIGKILL leaves its lock file behind, but the kernel released the lock: a resume works
    kill_when_ready(start_child(tmp_path, str(data), "killed", "15", "5", "hold", "-"))
    killed = RunInfo(run_id="killed", env_id="test/Toy-v0", workload="toy", agent="rw",
                     hyperparameters={"w": "killed"}, seed=None)
    with TrajectoryWriter(data, space=SPACE, metrics=METRICS, run=killed, existing="resume") as resumed:
        assert resumed.resumed_steps.tolist() == list(range(15))


def test_a_shared_temporary_directory_removed_under_a_writer_is_retried(tmp_path, monkeypatch):
    """Two trials of a sweep finishing at once: one removes the shared temporary directory while the
    other's mkdir(exist_ok=True) has seen it exist (pathlib then raises FileExistsError). Seen in a
    sweep as a failed trial; the writer now tries again."""
    real_mkdir, calls = Path.mkdir, []

    def racing_mkdir(self, *args, **kwargs):
        if self.name.endswith(".tmp") and not calls:
            calls.append(self)
            raise FileExistsError(17, "File exists", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", racing_mkdir)
    designs = write_toy(tmp_path / "data", 25, chunk_rows=10)
    assert calls and len(read_dataset(tmp_path / "data")) == len(designs)


def test_a_directory_for_another_space_or_metrics_is_a_clear_error(tmp_path):
    write_toy(tmp_path / "data", 5)
    other = DesignSpace([*SPACE.parameters[:4], IntRange("width", 4, 128, power_of_two=True, unit="bits"),
                         *SPACE.parameters[5:]])
    with pytest.raises(ValueError, match=r"different design space: parameter 'width' is a power of two in \[4, 64\] "
                                         r"vs a power of two in \[4, 128\]"):
        TrajectoryWriter(tmp_path / "data", space=other, metrics=METRICS, run=RUN)
    with pytest.raises(ValueError, match="different metrics: metrics latency \\[s, minimize\\]"):
        TrajectoryWriter(tmp_path / "data", space=SPACE, metrics=(Metric("latency", "ms"), METRICS[1]), run=RUN)
    with pytest.raises(ValueError, match="different design space"):
        load_arrays(tmp_path / "data", SystolicSimulator().space)
    # a description is free text: it does not make another space
    relabelled = DesignSpace([Choice("mode", ["fast", "slow", "eco"], description="new words"),
                              *SPACE.parameters[1:]])
    TrajectoryWriter(tmp_path / "data", space=relabelled, metrics=METRICS, run=RunInfo("run/2", "e", "w", "a", {},
                                                                                     None)).close()


def test_bad_rows_and_names_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=r"column name\(s\) \['seed'\] are used twice"):
        TrajectoryWriter(tmp_path / "x", space=DesignSpace([IntRange("seed", 1, 4)]), metrics=METRICS, run=RUN)
    with pytest.raises(ValueError, match="hyperparameters of run 'run/1' must be JSON-serialisable"):
        TrajectoryWriter(tmp_path / "y", space=SPACE, metrics=METRICS,
                         run=RunInfo("run/1", "e", "w", "a", {"f": object()}, None))
    w = TrajectoryWriter(tmp_path / "z", space=SPACE, metrics=METRICS, run=RUN)
    d = toy_designs(1)[0]
    with pytest.raises(ValueError, match=r"'width': 3 is not allowed"):
        w.append(step=0, design={**d, "width": 3}, evaluation=toy_evaluation(d), reward=0, wall_time=0)
    with pytest.raises(ValueError, match=r"metric\(s\) \['power'\] the dataset does not hold"):
        w.append(step=0, design=d, evaluation=Evaluation({"power": 1.0}), reward=0, wall_time=0)
    with pytest.raises(ValueError, match="step must be a non-negative integer"):
        w.append(step=-1, design=d, evaluation=toy_evaluation(d), reward=0, wall_time=0)
    w.close()
    with pytest.raises(ValueError, match="is closed"):
        w.append(step=1, design=d, evaluation=toy_evaluation(d), reward=0, wall_time=0)


def test_not_a_dataset_and_newer_schema_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="is not a trajectory dataset: it holds no part-\\*.parquet files"):
        read_dataset(tmp_path)
    with pytest.raises(ValueError, match="is not a trajectory dataset: it does not exist"):
        read_dataset(tmp_path / "nothing")
    write_toy(tmp_path / "data", 3)
    part = next((tmp_path / "data").glob("part-*.parquet"))
    table = pq.read_table(part)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"archgym.schema_version": b"99"}), part)
    with pytest.raises(ValueError, match="schema_version 99; this archgym reads and writes version 2"):
        read_dataset(tmp_path / "data")


def test_a_proxy_model_directory_is_named_as_one_not_as_a_schema_1_dataset(tmp_path, capsys):
    """A proxy model keeps a manifest.json too, and `archgym dataset MODEL_DIR` (or `collect --out MODEL_DIR`)
    told the user to convert it with `archgym dataset upgrade`."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "manifest.json").write_text(json.dumps({"format": "archgym-proxy", "version": 1}))
    message = r"model holds an archgym proxy model \(its manifest.json has format 'archgym-proxy'\), not a trajectory"
    with pytest.raises(ValueError, match=message):
        read_dataset(model)
    with pytest.raises(ValueError, match=message):
        write_toy(model, 3)
    assert main(["dataset", str(model)]) == 2
    err = capsys.readouterr().err
    assert "proxy model" in err and "upgrade" not in err
    assert main(["collect", "Systolic-v0", "--samples", "5", "--out", str(model), "-q"]) == 2
    assert "holds an archgym proxy model" in capsys.readouterr().err and not list(model.glob("*.parquet"))
    # a proxy written into a dataset directory: its parts are named, and what to move out
    write_toy(tmp_path / "data", 3)
    (tmp_path / "data" / "manifest.json").write_text((model / "manifest.json").read_text())
    with pytest.raises(ValueError, match=r"data holds an archgym proxy model .* among the Parquet parts of a dataset: "
                                         r"move the model's files \(manifest.json and the model files it names\)"):
        read_dataset(tmp_path / "data")

def test_empty_dataset_reads_as_typed_empty_table(tmp_path):
    TrajectoryWriter(tmp_path / "data", space=SPACE, metrics=METRICS, run=RUN).close()
    df = read_dataset(tmp_path / "data")
    assert len(df) == 0 and str(df["width"].dtype) == "int64" and "latency" in df.columns


def test_validate_takes_a_run_recorded_without_provenance_as_it_is(tmp_path):
    """A RunInfo built by hand records no simulator, settings or objective (null in its cells too): its rows
    cannot be replayed, but their run columns agree with the file's record."""
    write_toy(tmp_path / "data", 12, chunk_rows=5)
    report = validate_dataset(tmp_path / "data")
    assert report.mismatches == [] and report.checked == 0
    assert "cannot rebuild the simulator <none> (the run records no simulator settings)" in report.problems[0]


def test_csv_export(tmp_path):
    designs = write_toy(tmp_path / "data", 12)
    assert export_csv(tmp_path / "data", tmp_path / "out.csv") == 12
    csv = pd.read_csv(tmp_path / "out.csv")
    assert list(csv.columns) == list(read_dataset(tmp_path / "data").columns)
    assert csv["width"].tolist() == [d["width"] for d in designs]
    assert csv["mode"].tolist() == [d["mode"] for d in designs]
    assert json.loads(csv["hyperparameters"][0]) == RUN.hyperparameters


def test_latin_hypercube_is_stratified_and_random_is_not_forced():
    space = SystolicSimulator().space
    n = 300
    lhs = space.sample_batch(np.random.default_rng(1), n, "lhs")
    for j, p in enumerate(space):
        counts = np.bincount(lhs[:, j], minlength=p.cardinality)
        assert np.all(np.abs(counts - n / p.cardinality) <= 2), (p.name, counts)
    continuous = DesignSpace([FloatRange("x", 0.0, 1.0), FloatRange("y", 1.0, 100.0, log=True)])
    designs = continuous.sample_batch(np.random.default_rng(2), 50, "lhs")
    for name in ("x", "y"):
        u = np.array([continuous[name].to_unit(d[name]) for d in designs])
        assert sorted(np.floor(u * 50).astype(int)) == list(range(50))  # one design per stratum
    with pytest.raises(ValueError, match="unknown sampling method 'sobol'"):
        space.sample_batch(np.random.default_rng(0), 5, "sobol")


class Continuous(Simulator):
    """A space no index matrix can hold: collect must still work (one design at a time)."""

    metrics = (Metric("y", "J"),)
    workload = "none"

    def __init__(self) -> None:
        self.space = DesignSpace([FloatRange("x", 0.5, 2.0), Choice("k", ["a", "b"])])

    def _evaluate(self, design):
        return Evaluation({"y": design["x"] * (2.0 if design["k"] == "b" else 1.0)})


def test_collect_a_continuous_space(tmp_path):
    env = DesignEnv(Continuous(), targets={"y": 1.0}, action_type="box")
    summary = collect(env, "test/Continuous-v0", tmp_path / "data", 40, method="lhs", seed=3, batch=16)
    df = read_dataset(tmp_path / "data")
    assert summary.rows == 40 and len(df) == 40 and len(list((tmp_path / "data").glob("part-*"))) == 1
    assert np.allclose(df["y"], df["x"] * np.where(df["k"] == "b", 2.0, 1.0))
    assert sorted(np.floor((df["x"] - 0.5) / 1.5 * 40).astype(int)) == list(range(40))


def test_collect_cli_writes_simulator_rows(tmp_path, capsys):
    data = str(tmp_path / "data")
    code = main(["collect", "systolic", "--samples", "300", "--out", data, "--method", "lhs", "--seed", "1",
                 "--batch", "128", "-q", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["rows"] == 300 and summary["feasible"] == 300 and summary["method"] == "lhs"
    code = main(["collect", "Systolic-v0", "-n", "50", "-o", data, "-w", "vgg16", "-k", "targets={latency: 0.01}",
                 "--run-id", "mine"])
    out = capsys.readouterr().out
    assert code == 0 and "50 designs of archgym/Systolic-v0 (vgg16, random, seed 0)" in out
    df = read_dataset(data)
    assert len(df) == 350 and len(list(Path(data).glob("part-*"))) == 2  # one file per run
    sims = {"resnet18": SystolicSimulator("resnet18"), "vgg16": SystolicSimulator("vgg16")}
    for row in df.sample(20, random_state=0).to_dict("records"):
        design = {p: row[p] for p in sims["resnet18"].space.names}
        assert {m: row[m] for m in sims[row["workload"]].metric_names} == \
            sims[row["workload"]].evaluate(design).metrics
    mine = df[df["run_id"] == "mine"]
    assert (mine["agent"] == "random").all() and (mine["workload"] == "vgg16").all()
    assert np.allclose(mine["reward"], np.minimum(1, 1 / (1 + np.maximum(0, np.log(mine["latency"] / 0.01)))))
    # the two runs' objectives differ, and every row says which it was rewarded by
    objectives = {r: json.loads(o) for r, o in df.groupby("run_id", observed=True)["objective"].first().items()}
    assert objectives["mine"]["targets"] == {"latency": {"value": 0.01, "weight": 1.0}}
    assert set(objectives[next(r for r in objectives if r != "mine")]["targets"]) == {"latency", "energy", "area"}
    # the same seed draws the same designs
    main(["collect", "systolic", "-n", "300", "-o", str(tmp_path / "again"), "--method", "lhs", "--seed", "1", "-q"])
    capsys.readouterr()
    again = read_dataset(tmp_path / "again")
    assert again["rows"].tolist() == df["rows"][:300].tolist()


def test_dataset_cli_summary_and_csv(tmp_path, capsys):
    data = tmp_path / "data"
    write_toy(data, 20)
    assert main(["dataset", str(data), "--csv", str(tmp_path / "all.csv"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 20 and info["runs"] == 1 and info["agents"] == ["ga"]
    assert info["envs"] == [{"env_id": "test/Toy-v0", "workload": "toy", "rows": 20}]
    assert info["csv"]["rows"] == 20 and (tmp_path / "all.csv").is_file()
    assert main(["dataset", str(tmp_path / "nothing")]) == 2
    assert "is not a trajectory dataset: it does not exist" in capsys.readouterr().err
