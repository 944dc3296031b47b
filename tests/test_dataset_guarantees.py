"""What a dataset promises: provenance on every row, plain Parquet any reader takes, crash loss bounded in
time (a real SIGKILL), resumed runs without duplicates, replay validation, upgrades of schema 1, and
explore runs whose memory does not grow per evaluation."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agents.testing import ToySimulator
from archgym.catalog import make_env
from archgym.cli import main
from archgym.dataset import (
    RunInfo,
    TrajectoryWriter,
    collect,
    load_arrays,
    read_dataset,
    scan_dataset,
    upgrade_dataset,
    validate_dataset,
)
from archgym.envs import DesignEnv
from archgym.explore import explore

ROOT = Path(__file__).resolve().parent.parent
ENV = "archgym/Systolic-v0"


def systolic_data(path: Path, n: int = 120, run_id: str = "a", seed: int = 0, **kwargs) -> DesignEnv:
    env = make_env(ENV, kwargs)
    collect(env, ENV, path, n, seed=seed, run_id=run_id)
    return env


def rewrite_part(part: Path, change) -> None:
    """Edit a part's table in place, keeping its metadata (a tampered file, as a user might make one)."""
    table = pq.read_table(part)
    pq.write_table(change(table).replace_schema_metadata(table.schema.metadata), part)


def set_cell(table: pa.Table, column: str, row: int, value) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(values, type=table.schema.field(i).type))


# -- 1. provenance ------------------------------------------------------------------------------------


def test_every_row_records_its_simulator_settings_objective_and_version(tmp_path):
    import archgym

    data = tmp_path / "data"
    systolic_data(data, 40, run_id="lp")
    systolic_data(data, 40, run_id="hbm", dram="hbm2", targets={"latency": 1e-3})
    layers = tmp_path / "mynet.csv"
    layers.write_text(resources.files("simulators.workloads").joinpath("data", "alexnet.csv").read_text())
    systolic_data(data, 40, run_id="file", workload=str(layers))
    df = read_dataset(data)
    assert set(df["simulator"].unique()) == {"simulators.systolic.simulator:SystolicSimulator"}
    assert set(df["archgym_version"].unique()) == {archgym.__version__}
    settings = {r: json.loads(s) for r, s in df.groupby("run_id", observed=True)["settings"].first().items()}
    assert settings["lp"] == {"dram": "lpddr4", "space": None, "traffic": "reuse", "workload": "resnet18"}
    assert settings["hbm"] == {"dram": "hbm2", "space": None, "traffic": "reuse", "workload": "resnet18"}
    digest = hashlib.sha256(layers.read_bytes()).hexdigest()
    assert settings["file"]["workload"] == {"file": str(layers.resolve()), "sha256": digest}
    objectives = {r: json.loads(s) for r, s in df.groupby("run_id", observed=True)["objective"].first().items()}
    assert objectives["hbm"] == {"type": "target", "targets": {"latency": {"value": 1e-3, "weight": 1.0}},
                                 "directions": {"latency": "minimize", "energy": "minimize", "area": "minimize",
                                                "power": "minimize", "utilization": "maximize",
                                                "cycles": "minimize"},
                                 "formula_version": 1}
    assert set(objectives["lp"]["targets"]) == {"latency", "energy", "area"}
    # the same designs (seed 0) under two settings: rows differ, and the settings column tells them apart
    lp, hbm = (df[df["run_id"] == r].reset_index(drop=True) for r in ("lp", "hbm"))
    assert (lp["rows"] == hbm["rows"]).all() and not np.allclose(lp["energy"], hbm["energy"])
    # every file carries its run's record too; the summary lists it
    info = scan_dataset(data)
    assert {p.run_id: p.run["settings"]["dram"] for p in info.parts} == {"lp": "lpddr4", "hbm": "hbm2",
                                                                          "file": "lpddr4"}
    assert main(["dataset", str(data)]) == 0


def test_resuming_with_other_settings_or_appending_an_existing_run_is_refused(tmp_path):
    data = tmp_path / "data"
    systolic_data(data, 30, run_id="r")
    with pytest.raises(ValueError, match=r"run 'r' .* was recorded with other settings, so it cannot be resumed: "
                                         r"settings: dram='lpddr4' \(dataset\) vs 'hbm2' \(this run\)"):
        systolic_data(data, 30, run_id="r", dram="hbm2")
    with pytest.raises(ValueError, match=r"hyperparameters: \{'samples': 30\} \(dataset\) vs \{'samples': 50\}"):
        systolic_data(data, 50, run_id="r")
    with pytest.raises(ValueError, match="objective: targets="):
        systolic_data(data, 30, run_id="r", targets={"latency": 1e-3})
    env = make_env(ENV, {})
    with pytest.raises(ValueError, match="already holds run 'r' \\(30 rows\\): choose another run id"):
        explore(env, "random_walk", budget=5, seed=0, log=data, run_id="r")
    assert len(read_dataset(data)) == 30


def test_collecting_a_draw_the_dataset_already_holds_is_refused(tmp_path, capsys):
    """The same env, settings, method and seed draw the same designs: a second run of them repeated every
    row under a new run id (exit 0), and a proxy weighed them twice."""
    data = tmp_path / "data"
    systolic_data(data, 30, run_id="r")
    for n, run_id in ((30, None), (50, None), (10, "other")):  # a uniform sample of any size shares its start
        with pytest.raises(ValueError, match=r"already holds run 'r', drawn by random with seed 0 from the same space "
                                             r"and simulator settings: a new run would repeat its designs"):
            systolic_data(data, n, run_id=run_id)
    systolic_data(data, 30, run_id="r")  # resuming the run itself is not a repeat
    systolic_data(data, 30, run_id=None, seed=1)
    systolic_data(data, 30, run_id=None, workload="vgg16")
    env = make_env(ENV, {})
    collect(env, ENV, data, 20, method="lhs", seed=0)
    collect(env, ENV, data, 25, method="lhs", seed=0)  # another Latin hypercube
    with pytest.raises(ValueError, match=r"drawn by lhs with seed 0"):
        collect(env, ENV, data, 25, method="lhs", seed=0)
    assert main(["collect", "systolic", "-n", "5", "-o", str(data), "-q"]) == 2
    assert "Choose another seed (or, to finish that run if it was interrupted, give its run_id, --run-id r)" in \
        capsys.readouterr().err
    assert main(["collect", "systolic", "-n", "5", "-o", str(data), "-q", "--run-id", ""]) == 2
    assert "--run-id must name a run, got an empty string" in capsys.readouterr().err
    assert len(read_dataset(data)) == 30 * 3 + 20 + 25


# -- 2. plain Parquet ----------------------------------------------------------------------------------


def test_any_parquet_reader_reads_the_directory_as_it_is(tmp_path):
    data = tmp_path / "data"
    systolic_data(data, 100, run_id="a")
    systolic_data(data, 50, run_id="b", seed=1)
    names = os.listdir(data)  # one compacted file per run, and nothing else
    assert len(names) == 2 and all(n.startswith("part-") and n.endswith(".parquet") for n in names)
    import pandas as pd
    import pyarrow.dataset as ds

    assert len(pd.read_parquet(data)) == 150
    dataset = ds.dataset(data)
    assert dataset.count_rows() == 150
    assert dataset.schema.field("latency").metadata[b"unit"] == b"s"
    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    assert polars.scan_parquet(data).select(polars.len()).collect().item() == 150
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{data}/*.parquet')").fetchall() == [(150,)]


def test_the_reading_examples_of_the_docs_run(tmp_path, monkeypatch):
    """docs/data.md's examples, run on a dataset of their shape (each needs its reader installed)."""
    pytest.importorskip("polars")
    pytest.importorskip("duckdb")
    systolic_data(tmp_path / "data" / "systolic", 60)
    text = (ROOT / "docs" / "data.md").read_text()
    blocks = re.findall(r"<!-- tested example -->\n```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "docs/data.md", "exec"), {})


def test_a_schema_1_dataset_is_refused_with_how_to_convert_it_and_upgrade_converts_it(tmp_path, capsys):
    new = tmp_path / "new"
    env = systolic_data(new, 80)
    # a schema-1 dataset as the old writer left it: manifest.json among parts without provenance columns,
    # and 5 rows written twice by an old resumed collect
    old = tmp_path / "old"
    old.mkdir()
    table = pq.read_table(next(new.glob("*.parquet"))).drop_columns(["simulator", "settings", "objective",
                                                                      "archgym_version"])
    table = pa.concat_tables([table, table.slice(10, 5)])
    pq.write_table(table.replace_schema_metadata({b"archgym.schema_version": b"1"}), old / "part-x-0.parquet")
    (old / "manifest.json").write_text(json.dumps({"format": "archgym-trajectories", "schema_version": 1,
                                                   "space": env.space.to_dict(),
                                                   "metrics": [m.to_dict() for m in env.simulator.metrics]}))
    run = RunInfo("z", "e", "w", "a", {}, None)
    for call in (lambda: read_dataset(old),
                 lambda: TrajectoryWriter(old, space=env.space, metrics=env.simulator.metrics, run=run)):
        with pytest.raises(ValueError, match=r"schema version 1 .* Convert it with `archgym dataset upgrade .* --out "
                                             r"NEW_DIR --env ENV"):
            call()
    assert main(["dataset", "upgrade", str(old), "--out", str(tmp_path / "up"), "--env", "systolic", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == 80 and result["duplicates_dropped"] == 5 and result["left"] == []
    up = read_dataset(tmp_path / "up")
    before = read_dataset(new)
    assert up.drop(columns=["archgym_version"]).equals(before.drop(columns=["archgym_version"]))
    assert validate_dataset(tmp_path / "up").ok
    # naming the wrong settings is caught by the replay
    upgrade_dataset(old, tmp_path / "wrong", make_env(ENV, {"dram": "hbm2"}), ENV)
    report = validate_dataset(tmp_path / "wrong")
    assert not report.ok and {m.column for m in report.mismatches} >= {"energy", "power"}


# -- 3. crash loss and resuming ------------------------------------------------------------------------

SLOW = textwrap.dedent('''
    """A simulator whose evaluations take SLOWSIM_DELAY seconds and are logged with their finishing time."""
    import os, time
    import gymnasium
    from simulators.core import Choice, DesignSpace, Evaluation, IntRange, Metric, Simulator

    DELAY = float(os.environ.get("SLOWSIM_DELAY", "0"))
    LOG = os.environ.get("SLOWSIM_LOG")
    _log = open(LOG, "a", buffering=1) if LOG else None

    class SlowSimulator(Simulator):
        metrics = (Metric("cost", "J"),)

        def __init__(self, workload: str = "toy") -> None:
            self.space = DesignSpace([IntRange("a", 1, 64), IntRange("b", 1, 64), Choice("c", ["x", "y"])])
            self.workload = workload

        def default_targets(self):
            return {"cost": 10.0}

        def _evaluate(self, d):
            if DELAY:
                time.sleep(DELAY)
            if _log:
                _log.write(f"{time.time()}\\n")
            return Evaluation({"cost": float(d["a"] * d["b"] + (d["c"] == "y"))})

    if "test/Slow-v0" not in gymnasium.registry:
        gymnasium.register("test/Slow-v0", entry_point="archgym.envs:make_design_env",
                           kwargs={"simulator": "slowsim:SlowSimulator"})
''')


def _slow_collect(tmp_path, *extra):
    """A ``collect`` of 20,000 slow designs in a child process, once it has evaluated its first one: the
    child, its arguments, the dataset and the log of evaluation times."""
    (tmp_path / "slowsim.py").write_text(SLOW)
    data, log = tmp_path / "data", tmp_path / "evaluations.log"
    args = ["collect", "slowsim:test/Slow-v0", "--samples", "20000", "--out", str(data), *extra, "-q"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "SLOWSIM_DELAY": "0.002", "SLOWSIM_LOG": str(log)}
    child = subprocess.Popen([sys.executable, "-m", "archgym.cli", *args], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not (log.is_file() and log.stat().st_size) and time.time() < deadline:
        time.sleep(0.05)
    return child, args, data, log


def test_kill_9_loses_at_most_5_seconds_and_collect_resumes_without_duplicates(tmp_path, monkeypatch, capsys):
    child, args, data, log = _slow_collect(tmp_path, "--run-id", "r")
    try:
        time.sleep(7.0)  # past the first 5-second flush, and into the next window
        os.kill(child.pid, signal.SIGKILL)
        killed_at = time.time()
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()[-2000:]
    finished = np.array([float(t) for t in log.read_text().split()])
    kept = read_dataset(data)
    k = len(kept)
    assert 0 < k < len(finished) <= 20000
    assert kept["step"].tolist() == list(range(1, k + 1))
    lost_seconds = killed_at - finished[k - 1]  # every evaluation after the last kept one was lost
    assert lost_seconds <= 6.0, (lost_seconds, k, len(finished))

    # the same command again (in this process, without the delay) resumes the run: no duplicates
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("SLOWSIM_LOG", raising=False)
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["resumed"] == k and result["rows"] == 20000 - k
    df = read_dataset(data)
    assert df["step"].tolist() == list(range(1, 20001)) and len(list(data.glob("*.parquet"))) == 1
    sim = make_env("test/Slow-v0", {}).simulator
    expected = sim.space.sample_batch(np.random.default_rng(0), 20000, "random")
    assert np.array_equal(sim.space.encode_columns({p: df[p].to_numpy() for p in sim.space.names}), expected)
    assert main(args) == 0  # complete: nothing to add
    assert "already holds all 20,000 designs: nothing to do" in capsys.readouterr().out
    assert len(read_dataset(data)) == 20000


def test_sigterm_stops_a_collect_as_ctrl_c_does(tmp_path):
    """A killed (SIGTERM) collect writes what it has, says how to resume, and exits 143; it used to die
    with the default handler, saying nothing."""
    child, _, data, _ = _slow_collect(tmp_path)
    try:
        time.sleep(0.5)
        child.send_signal(signal.SIGTERM)
    finally:
        child.wait(timeout=60)
    err = child.stderr.read().decode()
    assert child.returncode == 143, err[-2000:]
    held = len(read_dataset(data))
    assert 0 < held < 20000 and f"holds {held:,} of 20,000 designs; resume it with: archgym collect" in err


def test_an_interrupted_collect_says_how_to_resume_and_readers_say_the_run_is_short(tmp_path, monkeypatch, capsys):
    """Ctrl-C on collect printed only "archgym: interrupted", and nothing said later that the run held fewer
    designs than it was asked for."""
    import importlib
    import shlex

    collect_module = importlib.import_module("archgym.dataset.collect")
    data = tmp_path / "da ta"
    real, calls = collect_module.TrajectoryWriter.append_batch, []

    def interrupted(self, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, **kwargs)

    monkeypatch.setattr(collect_module.TrajectoryWriter, "append_batch", interrupted)
    assert main(["collect", "Systolic-v0", "-n", "400", "-o", str(data), "--seed", "3", "-w", "vgg16", "-q"]) == 130
    err = capsys.readouterr().err
    held = len(read_dataset(data))
    run_id = read_dataset(data)["run_id"].iloc[0]
    assert held == 16  # the first batch (16 designs); the second interrupted
    assert f"archgym: interrupted: run {run_id} in {data} holds {held} of 400 designs; resume it with: " in err
    command = shlex.split(err.split("resume it with: ")[1].strip())
    assert command[:2] == ["archgym", "collect"] and command[-2:] == ["--run-id", run_id]

    assert main(["dataset", str(data)]) == 0
    out = capsys.readouterr().out
    assert f"note: run {run_id}: {held} of 400 samples (interrupted, or still being collected); resume it with " \
           f"`archgym collect archgym/Systolic-v0 --workload vgg16 --samples 400 --out '{data}' --method random " \
           f"--seed 3 --run-id {run_id}`, with the -k options it was collected with" in out
    assert main(["dataset", str(data), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["run_records"]
    assert [(r["rows"], r["samples"]) for r in runs] == [(held, 400)]
    report = validate_dataset(data)
    assert report.ok and report.notes == [out.split("note: ")[1].strip()]

    monkeypatch.setattr(collect_module.TrajectoryWriter, "append_batch", real)
    assert main(command[1:]) == 0
    assert f"(run {run_id} resumed: it had {held} of them already)" in capsys.readouterr().out
    assert len(read_dataset(data)) == 400 and not validate_dataset(data).notes
    assert main(["dataset", str(data)]) == 0 and "note:" not in capsys.readouterr().out

def test_rows_reach_the_disk_within_flush_seconds_without_a_close(tmp_path):
    env = DesignEnv(ToySimulator(), targets={"cost": 1.0})
    run = RunInfo.from_env(env, "test/Toy-v0", run_id="t", agent="a", hyperparameters={}, seed=None)
    writer = TrajectoryWriter(tmp_path / "data", space=env.space, metrics=env.simulator.metrics, run=run,
                              flush_seconds=0.2)
    designs = env.space.sample(np.random.default_rng(0), 6)
    for step, d in enumerate(designs, 1):
        e = env.simulator.evaluate(d)
        writer.append(step=step, design=d, evaluation=e, reward=env.objective(e), wall_time=0.0)
        time.sleep(0.25 if step == 3 else 0.0)
    # the append after the pause (step 4) found 0.25 s since the last write and wrote steps 1-4
    assert read_dataset(tmp_path / "data")["step"].tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="step 6 does not follow step 6"):
        writer.append(step=6, design=designs[0], evaluation=e, reward=0.0, wall_time=0.0)
    writer.close()
    assert read_dataset(tmp_path / "data")["step"].tolist() == [1, 2, 3, 4, 5, 6]


# -- 4. validation ---------------------------------------------------------------------------------------


def test_validate_replays_rows_and_catches_a_tampered_one(tmp_path, capsys):
    data = tmp_path / "data"
    systolic_data(data, 150)
    assert main(["dataset", "validate", str(data)]) == 0
    assert "replayed 150 of 150 rows" in capsys.readouterr().out
    part = next(data.glob("*.parquet"))
    table = pq.read_table(part)
    latency = table.column("latency")[17].as_py()
    rewrite_part(part, lambda t: set_cell(set_cell(t, "latency", 17, latency * 1.01), "reward", 40, 0.5))
    report = validate_dataset(data)
    assert not report.ok and report.mismatched_rows == 2
    assert [(m.step, m.column) for m in report.mismatches] == [(18, "latency"), (41, "reward")]
    assert report.mismatches[0].recorded == pytest.approx(latency * 1.01) and report.mismatches[0].replayed == latency
    assert main(["dataset", "validate", str(data)]) == 1
    out = capsys.readouterr().out
    assert "2 mismatch(es) in 2 row(s)" in out and "latency" in out and "reward" in out
    assert main(["dataset", "validate", str(data), "--sample", "20", "--json"]) in (0, 1)
    sampled = json.loads(capsys.readouterr().out)
    assert sampled["checked"] == 20 and sampled["rows"] == 150
    assert main(["dataset", str(data), "--sample", "3"]) == 2
    assert "--sample only applies to `archgym dataset validate`" in capsys.readouterr().err
    assert main(["dataset", "validate", str(data), "--sample", "3", "--seed", "-1"]) == 2
    assert "seed must be an integer in [0, 9223372036854775807], got -1" in capsys.readouterr().err
    assert main(["dataset", "validate", str(data), "--sample", "3", "--seed", str(2**40)]) in (0, 1)  # any archgym seed
    capsys.readouterr()
    report = validate_dataset(data, sample=1000)
    assert report.checked == 150 and "a sample of 1,000 rows is not fewer than the dataset's 150" in report.notes[-1]


def test_validate_reports_an_infinite_metric_or_reward_that_the_replay_does_not_give(tmp_path):
    """|inf - x| <= rtol * inf held for every finite x, so a metric or reward tampered to +-inf passed."""
    data = tmp_path / "data"
    systolic_data(data, 30)
    part = next(data.glob("*.parquet"))
    rewrite_part(part, lambda t: set_cell(set_cell(set_cell(t, "latency", 2, float("inf")), "energy", 4,
                                                   float("-inf")), "reward", 6, float("inf")))
    report = validate_dataset(data)
    assert [(m.step, m.column, m.recorded) for m in report.mismatches] == [
        (3, "latency", float("inf")), (5, "energy", float("-inf")), (7, "reward", float("inf"))]
    # equal infinities (and NaN for NaN: no value on either side) still match
    from archgym.dataset.validate import _differs

    recorded = np.array([np.inf, -np.inf, np.nan, 1.0, np.inf, 1.0])
    replayed = np.array([np.inf, -np.inf, np.nan, 1.0 + 1e-12, -np.inf, np.nan])
    assert _differs(recorded, replayed, 1e-9).tolist() == [False, False, False, False, True, True]

def test_validate_checks_each_row_s_run_columns_against_its_file_s_run_record(tmp_path):
    """env_id, workload and run_id cells were never compared with anything, and the proxy selects rows by
    them: a file whose rows claim another env or workload validated. They are checked against the run
    record in the file's metadata now, like the replayed cells."""
    data = tmp_path / "data"
    env = make_env(ENV, {})

    def interrupt(done, total, seconds):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # a resumed run (its record rewritten by the resume) still matches
        collect(env, ENV, data, 60, seed=0, run_id="a", progress=interrupt)
    collect(env, ENV, data, 60, seed=0, run_id="a")
    assert validate_dataset(data).ok
    part = next(data.glob("*.parquet"))
    rewrite_part(part, lambda t: set_cell(set_cell(set_cell(set_cell(set_cell(
        t, "env_id", 2, "archgym/DRAM-v0"), "workload", 4, "cloud-2"), "run_id", 6, "b"), "agent", 8, "ga"),
        "seed", 10, 3))
    report = validate_dataset(data)
    assert sorted((m.run_id, m.step, m.column, m.recorded, m.replayed) for m in report.mismatches) == [
        ("a", 3, "env_id", "archgym/DRAM-v0", ENV), ("a", 5, "workload", "cloud-2", "resnet18"),
        ("a", 9, "agent", "ga", "random"), ("a", 11, "seed", 3, 0), ("b", 7, "run_id", "b", "a")]
    assert report.mismatched_rows == 5 and validate_dataset(data, sample=60).mismatched_rows == 5

def test_a_part_relabelled_after_writing_is_refused_by_every_reader_and_listed_by_validate(tmp_path, capsys):
    """A part's settings column rewritten to say lpddr4 while its run record says hbm2 trained an "lpddr4"
    proxy on hbm2 results (exit 0): readers select rows by those columns. Every reader now refuses a part
    whose run columns contradict its own run record, naming the file and column; validate lists the rows."""
    data = tmp_path / "data"
    systolic_data(data, n=40, dram="hbm2")
    part = next(data.glob("*.parquet"))
    relabelled = json.dumps({**json.loads(pq.read_table(part)["settings"][0].as_py()), "dram": "lpddr4"})
    rewrite_part(part, lambda t: t.set_column(t.schema.get_field_index("settings"), t.schema.field("settings"),
                                              pa.array([relabelled] * len(t)).dictionary_encode()))
    for read in (lambda: read_dataset(data), lambda: load_arrays(data, make_env(ENV, {}).unwrapped.space)):
        with pytest.raises(ValueError, match=rf"{part.name}: its settings column holds .*lpddr4.* where the file's "
                                             r"run record says .*hbm2"):
            read()
    assert main(["proxy", "train", str(data), "--env", ENV, "--out", str(tmp_path / "m"), "-k", "dram=lpddr4"]) == 2
    assert "its settings column holds" in capsys.readouterr().err and not (tmp_path / "m").exists()
    report = validate_dataset(data)
    assert report.mismatched_rows == 40 and sum(m.column == "settings" for m in report.mismatches) == 40


def test_validate_reports_other_files_steps_out_of_order_and_where_a_design_leaves_the_space(tmp_path, capsys):
    """Three things validate passed or told vaguely: a README.txt or .DS_Store in the directory (exit 0, while
    pandas and polars then refuse the directory), a run's rows stored out of step order (exit 0), and a design
    outside the space (exit 2 without saying which row)."""
    data = tmp_path / "data"
    systolic_data(data, n=30)
    part = next(data.glob("*.parquet"))
    original = pq.read_table(part)
    (data / "README.txt").write_text("my notes\n")
    (data / ".DS_Store").write_bytes(b"\0")
    report = validate_dataset(data)
    assert not report.ok and report.problems == [
        "2 entries other than Parquet parts in the directory (.DS_Store, README.txt): archgym skips them, but pandas "
        "and pyarrow fail on a file that is not Parquet, and polars on any other file, hidden ones too; move them out"]
    assert main(["dataset", str(data)]) == 0
    assert "warning: 2 entries other than Parquet parts" in capsys.readouterr().out
    (data / "README.txt").unlink()
    (data / ".DS_Store").unlink()
    rewrite_part(part, lambda t: t.take(pa.array([*range(10), 20, *range(10, 20), *range(21, 30)])))
    assert validate_dataset(data).problems == [
        f"run 'a': its steps go back 1 time(s), first to step 11 after step 21 (in {part.name}); a run's rows are "
        "stored in the order they were evaluated"]
    rewrite_part(part, lambda t: set_cell(original, "rows", 7, 512))
    with pytest.raises(ValueError, match=r"run 'a' step 8: its design is not in the dataset's space \(parameter "
                                         r"'rows': 512 is not allowed"):
        validate_dataset(data)


def test_the_text_summary_says_when_superseded_files_make_other_readers_count_rows_twice(tmp_path, capsys):
    """After a crash between a compaction's merge and its deletions, `archgym dataset DIR` said 3,971 rows
    while pandas read 7,942: only --json and validate mentioned the superseded files."""
    import pandas as pd

    data = tmp_path / "data"
    systolic_data(data, 25)
    merged = next(data.glob("*.parquet"))
    left = merged.with_name(merged.name.replace("-00000.parquet", "-00001.parquet"))
    shutil.copy(merged, left)  # a chunk the merged file (chunks [0, 0] here) also covers
    table = pq.read_table(left)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"archgym.parts": b"[0, 0]"}), left)
    assert len(pd.read_parquet(data)) == 50 and len(read_dataset(data)) == 25
    assert main(["dataset", str(data)]) == 0
    out = capsys.readouterr().out
    assert ("warning: 1 chunk file(s) of runs whose other parts hold the same chunks (left by an interrupted "
            f"compaction, or copied in) are still in {data}: their 25 rows are also "
            "in their run's merged file, so archgym skips them but pandas, polars and duckdb read 50 rows, not 25; "
            f"delete them (rm {left}), or resume the run (its next writer deletes them)") in out

def test_validate_reports_what_it_cannot_replay(tmp_path):
    layers = tmp_path / "mynet.csv"
    layers.write_text(resources.files("simulators.workloads").joinpath("data", "alexnet.csv").read_text())
    data = tmp_path / "data"
    systolic_data(data, 20, workload=str(layers))
    assert validate_dataset(data).ok
    layers.write_text(layers.read_text().replace("\n", "\n", 1) + "\n")  # edited after the run
    report = validate_dataset(data)
    assert report.checked == 0 and "has changed since the run" in report.problems[0]
    # a copy of the run's file, as a crash between compacting and deleting the chunks would leave one
    copy = data / "part-copy-00000000-00001.parquet"
    shutil.copy(next(data.glob("*.parquet")), copy)
    assert len(read_dataset(data)) == 20  # archgym skips what the run's first file already holds
    assert any("superseded by another part of their run" in p for p in validate_dataset(data).problems)
    table = pq.read_table(copy)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"archgym.parts": b"[7, 7]"}), copy)
    assert len(read_dataset(data)) == 40
    assert any("20 (run_id, step) pair(s) appear more than once" in p for p in validate_dataset(data).problems)


# -- 5. bounded memory -----------------------------------------------------------------------------------


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_explore_and_the_cli_keep_a_few_floats_per_evaluation(monkeypatch, capsys):
    env = DesignEnv(ToySimulator(), targets={"cost": 1.0})

    def run(budget: int, keep: bool):
        return lambda: explore(env, "random_walk", budget=budget, seed=0, keep_records=keep, progress=False)

    run(200, False)()  # warm up: one-time imports and caches are not per-evaluation growth
    small, large = _peak(run(200, False)), _peak(run(1200, False))
    assert (large - small) / 1000 < 64  # the reward and best-so-far arrays: 16 bytes per evaluation
    assert (_peak(run(1200, True)) - large) / 1200 > 300  # records, when asked for, are what grows
    # the command line asks for no records
    module = sys.modules["archgym.explore"]
    results = []

    def spy(*args, **kwargs):
        results.append(module_explore(*args, **kwargs))
        return results[-1]

    module_explore = module.explore
    monkeypatch.setattr(module, "explore", spy)
    assert main(["explore", ENV, "--agent", "random_walk", "--budget", "50"]) == 0
    capsys.readouterr()
    assert results[0].evaluations == 50 and results[0].records == []


def test_validate_imports_no_module_a_dataset_names_unless_allowed(tmp_path, monkeypatch, capsys):
    """A dataset is data: a recorded simulator class from a module outside archgym is not imported (its
    code would run) unless the user allows that module."""
    (tmp_path / "side_effect_sim.py").write_text(textwrap.dedent("""
        from pathlib import Path
        Path(__file__).with_name("imported.flag").write_text("ran")
        from simulators.systolic import SystolicSimulator as Sim
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "side_effect_sim", raising=False)
    data = tmp_path / "data"
    systolic_data(data, 10)
    part = next(data.glob("*.parquet"))

    def retarget(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("simulator")
        return t.set_column(i, t.schema.field(i), pa.array(["side_effect_sim:Sim"] * len(t)).dictionary_encode()
                            .cast(t.schema.field(i).type))

    rewrite_part(part, retarget)
    table = pq.read_table(part)  # the file's run record names the module too (else validate reports the cells)
    record = {**json.loads(table.schema.metadata[b"archgym.run"]), "simulator": "side_effect_sim:Sim"}
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata,
                                                  b"archgym.run": json.dumps(record).encode()}), part)
    report = validate_dataset(data)
    assert report.checked == 0 and not (tmp_path / "imported.flag").exists()
    assert "would import 'side_effect_sim', which runs that module's code; allow it with --import side_effect_sim" \
        in report.problems[0]
    assert main(["dataset", "validate", str(data), "--import", "side_effect_sim"]) == 0
    assert (tmp_path / "imported.flag").exists() and "replayed 10 of 10 rows" in capsys.readouterr().out


def test_a_part_missing_a_column_is_named_in_one_line(tmp_path):
    data = tmp_path / "data"
    systolic_data(data, 10)
    part = next(data.glob("*.parquet"))
    rewrite_part(part, lambda t: t.drop_columns(["latency"]))
    with pytest.raises(ValueError, match=r"cannot read this Parquet part \(it lacks the column\(s\) \['latency'\] "
                                         r"that the dataset's schema has\)$"):
        read_dataset(data)


def test_an_empty_cell_in_a_design_column_names_its_part(tmp_path):
    data = tmp_path / "data"
    systolic_data(data, 10)
    part = next(data.glob("*.parquet"))
    rewrite_part(part, lambda t: t.set_column(t.schema.get_field_index("rows"), pa.field("rows", pa.int64()),
                                              pa.array([None] * 3 + t.column("rows").to_pylist()[3:], pa.int64())))
    with pytest.raises(ValueError, match=rf"{re.escape(str(part))}: cannot read this Parquet part \(.*'rows'"):
        read_dataset(data)


@pytest.mark.parametrize("change", ["extra column", "retyped column"])
def test_validate_reports_a_part_whose_columns_polars_would_refuse(tmp_path, change):
    """archgym selects and casts a part's columns, so it reads such a part; polars checks every file against
    the first one's schema and fails on it: validate says so."""
    import polars as pl

    data = tmp_path / "data"
    systolic_data(data, 10, run_id="a")
    systolic_data(data, 10, run_id="b", seed=1)
    assert validate_dataset(data).ok and len(pl.read_parquet(data / "*.parquet")) == 20
    part = sorted(data.glob("*.parquet"))[-1]
    if change == "extra column":
        rewrite_part(part, lambda t: t.append_column("extra", pa.array([1.0] * len(t))))
        expected = r"extra column\(s\) \['extra'\]"
    else:
        i = pq.read_schema(part).get_field_index("rows")
        rewrite_part(part, lambda t: t.set_column(i, pa.field("rows", pa.float64()),
                                                  t.column("rows").cast(pa.float64())))
        expected = r"'rows' is double, the dataset's int64"
    with pytest.raises(pl.exceptions.PolarsError):
        pl.read_parquet(data / "*.parquet")
    report = validate_dataset(data)
    assert not report.ok and report.mismatched_rows == 0 and report.checked == 20
    assert len(report.problems) == 1 and re.search(rf"^{re.escape(part.name)}: .*{expected}", report.problems[0])


def test_the_import_rule_covers_packages_plugins_and_never_a_main_module(tmp_path, monkeypatch):
    from archgym.dataset.provenance import build_simulator
    from archgym.registry import trusted_module

    (tmp_path / "labpkg").mkdir()
    (tmp_path / "labpkg" / "__init__.py").write_text("")
    (tmp_path / "labpkg" / "sims.py").write_text("from simulators.systolic import SystolicSimulator as Sim\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("labpkg", "labpkg.sims"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    # a package allowed covers its modules
    assert not trusted_module("labpkg.sims") and trusted_module("labpkg.sims", ["labpkg"])
    assert build_simulator("labpkg.sims:Sim", {}, imports=["labpkg"]).settings["workload"] == "resnet18"
    assert trusted_module("simulators.dram") and not trusted_module("archgym.cli.__main__")
    monkeypatch.setattr("archgym.registry.plugin_envs", lambda: {"lab/Cache-v0": "installedlab.cache:Cache"})
    assert trusted_module("installedlab.cache") and trusted_module("installedlab.other")  # an installed plug-in
    with pytest.raises(ValueError, match="names a program's __main__ module, which data never makes archgym import"):
        build_simulator("archgym.cli.__main__:main", {})
