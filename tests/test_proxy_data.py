"""What a proxy trains on and what it loads: exactly one simulator setting, consistent rows, enough of them,
and a model directory checked against its schema (every tampering case a clear ValueError)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archgym.cli import main
from archgym.dataset import collect, read_dataset
from archgym.envs import DesignEnv
from archgym.proxy import ProxySimulator, load_proxy, train_proxy
from archgym.proxy.rows import proxy_rows
from simulators.core import Choice, DesignSpace, Evaluation, IntRange, Metric, Simulator

FAST = {"n_estimators": 40, "max_depth": 3}


class Scaled(Simulator):
    """cost = scale * (a * b + [c == 'y']): one setting, ``scale``, that changes every number."""

    metrics = (Metric("cost", "J"),)
    workload = "toy"

    def __init__(self, *, scale: float = 1.0) -> None:
        self.space = DesignSpace([IntRange("a", 1, 16), IntRange("b", 1, 16), Choice("c", ["x", "y"])])
        self.scale = scale

    def _evaluate(self, d):
        return Evaluation({"cost": self.scale * float(d["a"] * d["b"] + (d["c"] == "y"))})


def env_of(scale: float) -> DesignEnv:
    return DesignEnv(Scaled(scale=scale), targets={"cost": 10.0})


def test_training_keeps_exactly_the_rows_of_its_setting(tmp_path):
    data = tmp_path / "data"
    for scale in (1.0, 2.0):  # the same 300 designs under two settings
        collect(env_of(scale), "test/Scaled-v0", data, 300, seed=0, run_id=f"s{scale}")
    model = train_proxy(data, env_of(2.0).simulator, env_id="test/Scaled-v0", xgb_params=FAST)
    space = env_of(1.0).space
    distinct = len(np.unique(space.sample_batch(np.random.default_rng(0), 300, "random"), axis=0))
    assert model.manifest.training["distinct_designs"] == distinct  # one setting's designs, not both settings' rows
    assert model.manifest.simulator_settings == {"scale": 2.0}
    # what was left out is recorded, and said (train here; score below)
    t = model.manifest.training
    assert t["rows_other_settings"] == 300 and t["rows_repeated"] == 300 - distinct
    assert t["other_settings"] == ["scale=1.0 (dataset) vs 2.0 (wanted) (300 rows)"] and t["fitted_runs"] == ["s2.0"]
    prediction = ProxySimulator(model, simulator=env_of(2.0).simulator).evaluate({"a": 8, "b": 8, "c": "x"})
    assert prediction.metrics["cost"] == pytest.approx(128, rel=0.25)
    report = model.score(data)
    assert report["rows"] == distinct and report["rows_of_fitted_runs"] == distinct  # its own training runs
    assert report["left_out"].startswith("300 row(s) of other simulator settings left out (scale=1.0 (dataset)")
    table = read_dataset(data)
    table["workload"] = table["workload"].astype(str).where(table["run_id"] != "s1.0", "other")
    other = proxy_rows(table, space, env_of(2.0).simulator.metrics, "test/Scaled-v0", "toy", {"scale": 2.0})
    assert (other.other_workloads_rows, other.other_workloads) == (300, ("test/Scaled-v0 / 'other' (300 rows)",))
    assert other.left_out().startswith("300 row(s) of other envs or workloads left out (test/Scaled-v0 / 'other'")
    collect(env_of(2.0), "test/Scaled-v0", tmp_path / "fresh", 100, seed=9, run_id="fresh")
    fresh = model.score(tmp_path / "fresh")
    assert fresh["rows_of_fitted_runs"] == 0 and fresh["rows_other_settings"] == 0
    assert fresh["left_out"] == f"{100 - fresh['rows']} repeated row(s) of a design kept once"  # a small space
    with pytest.raises(ValueError, match=r"scale=1.0 \(dataset\) vs 2.0 \(wanted\) \(100 rows\)\. Score the proxy on "
                                         r"rows recorded with the settings it was trained on"):
        collect(env_of(1.0), "test/Scaled-v0", tmp_path / "other", 100, seed=9, run_id="other")
        model.score(tmp_path / "other")
    with pytest.raises(ValueError, match=r"600 rows of test/Scaled-v0 / 'toy' were produced with other simulator "
                                         r"settings than this one's: scale=1.0 \(dataset\) vs 3.0 \(wanted\) "
                                         r"\(300 rows\); scale=2.0 \(dataset\) vs 3.0 \(wanted\) \(300 rows\)"):
        train_proxy(data, env_of(3.0).simulator, env_id="test/Scaled-v0", xgb_params=FAST)


def test_a_design_with_two_results_under_one_setting_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for run in ("first", "second"):  # one draw twice (collect refuses that into one dataset: merged by hand)
        collect(env_of(1.0), "test/Scaled-v0", tmp_path / run, 200, seed=0, run_id=run)
        for part in (tmp_path / run).glob("*.parquet"):
            part.rename(data / part.name)
    part = next(p for p in data.glob("*.parquet") if "second" in p.name)
    table = pq.read_table(part)
    cost = table.column("cost").to_pylist()
    cost[5] *= 1.5
    i = table.schema.get_field_index("cost")
    pq.write_table(table.set_column(i, table.schema.field(i), pa.array(cost)), part)
    with pytest.raises(ValueError, match=r"1 pair\(s\) of rows of test/Scaled-v0 with the same settings give one "
                                         r"design different results, e.g. .*\['cost'\] differ between run 'first' "
                                         r"step 6 and run 'second' step 6; check the dataset with `archgym dataset "
                                         r"validate`"):
        train_proxy(data, env_of(1.0).simulator, env_id="test/Scaled-v0", xgb_params=FAST)


def test_proxy_train_on_too_few_rows_exits_2_with_the_counts(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["collect", "systolic", "-n", "5", "-o", data, "-q"]) == 0
    assert main(["proxy", "train", data, "--env", "systolic", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "too few rows to train and test a proxy: 5 distinct designs (3 train, 1 validation, 1 test)" in err
    assert "at least 20 train, 5 validation and 5 test designs (at least 31 distinct designs" in err
    assert not (tmp_path / "m").exists()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("proxy")
    collect(env_of(1.0), "test/Scaled-v0", root / "data", 300, seed=0, run_id="r")
    train_proxy(root / "data", env_of(1.0).simulator, env_id="test/Scaled-v0", xgb_params=FAST).save(root / "model")
    return root / "model"


def tampered(model_dir, tmp_path, edit):
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    edit(manifest, copy)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def _set(path, value):
    def edit(manifest, _copy):
        *keys, last = path
        target = manifest
        for k in keys:
            target = target[k]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return edit


def _garbage_booster(manifest, copy):
    (copy / manifest["models"][0]["file"]).write_text('{"learner": "not a model"}')


def _outside_file(manifest, copy):
    shutil.copy(copy / manifest["models"][0]["file"], copy.parent / "outside.json")
    manifest["models"][0]["file"] = "../outside.json"


@pytest.mark.parametrize(("edit", "message"), [
    (_set(("models", 0, "transform"), "sqrt"),
     r"models\[0\]: transform 'sqrt' is unknown; allowed: \['log', 'identity', 'constant'\]"),
    (_set(("models", 0, "rows_train"), KeyError), r"models\[0\]: missing field\(s\) \['rows_train'\]"),
    (_set(("workload",), KeyError), r"missing field\(s\) \['workload'\]"),
    (_set(("bogus",), 1), r"unknown field\(s\) \['bogus'\]; allowed: "),
    (_set(("models", 0, "extra"), 1), r"models\[0\]: unknown field\(s\) \['extra'\]"),
    (_outside_file, r"models\[0\].file: file must be a plain '\*.json' file name inside the model directory, got "
                    r"'../outside.json'"),
    (_set(("models", 0, "file"), "missing.json"), r"its manifest names missing.json, which is not in the directory"),
    (_garbage_booster, r"metric-00.json is not a readable XGBoost model"),
    (_set(("version",), 99), r"version 99; this archgym reads and writes version 1"),
    (_set(("canonical",), "yes"), r"canonical must be true or false, got 'yes'"),
])
def test_a_tampered_model_directory_is_refused_on_load(model_dir, tmp_path, edit, message):
    with pytest.raises(ValueError, match=message):
        load_proxy(tampered(model_dir, tmp_path, edit))


def test_a_proxy_is_refused_for_another_env_or_settings(model_dir):
    with pytest.raises(ValueError, match="was trained for test/Scaled-v0, not for archgym/DRAM-v0"):
        load_proxy(model_dir, env_id="archgym/DRAM-v0")
    assert load_proxy(model_dir, env_id="test/Scaled-v0").env_id == "test/Scaled-v0"
    with pytest.raises(ValueError, match=r"other simulator settings: scale=1.0 \(proxy\) vs 2.0 \(env\)"):
        ProxySimulator(model_dir, simulator=Scaled(scale=2.0))


def test_a_setting_one_side_never_recorded_is_named_as_such():
    # e.g. a DRAM proxy trained before the simulator recorded ``buffer_admission``
    from archgym.dataset.provenance import record_difference

    assert record_difference({"memspec": "ddr3"}, {"memspec": "ddr3", "buffer_admission": "incoming"},
                             ("proxy", "env")) == "buffer_admission: not recorded (proxy) vs 'incoming' (env)"
    assert record_difference({"a": None}, {}, ("x", "y")) == "a: None (x) vs not recorded (y)"
    assert record_difference({"a": 1}, {"a": 1}, ("x", "y")) is None


def test_choices_use_the_validation_split_and_the_final_fit_adds_it_never_the_test_split(tmp_path):
    from archgym.dataset import read_dataset
    from archgym.proxy.rows import proxy_rows
    from archgym.proxy.train import _split

    data = tmp_path / "data"
    env = env_of(1.0)
    collect(env, "test/Scaled-v0", data, 400, seed=0, run_id="r")
    model = train_proxy(data, env.simulator, env_id="test/Scaled-v0", xgb_params=FAST)
    entry = model.manifest.models[0]
    assert entry.rows_fit == entry.rows_train + entry.rows_val and entry.target_weight in (0, 1)
    assert set(entry.validation_score_by_depth) == {"3"} and entry.trees <= FAST["n_estimators"]
    # scramble the metric on the test rows only: the trained model must not change at all
    rows = proxy_rows(data, env.space, env.simulator.metrics, "test/Scaled-v0", "toy", {"scale": 1.0}).rows
    _, _, test = _split(len(rows), np.random.default_rng(0), 0.15, 0.15, None)
    test_designs = {tuple(rows.loc[i, list(env.space.names)]) for i in test}
    part = next(data.glob("*.parquet"))
    table = pq.read_table(part)
    df = read_dataset(data)
    is_test = np.array([tuple(r) in test_designs for r in df[list(env.space.names)].itertuples(index=False)])
    cost = np.where(is_test, df["cost"].to_numpy() * 100, df["cost"].to_numpy())
    i = table.schema.get_field_index("cost")
    pq.write_table(table.set_column(i, table.schema.field(i), pa.array(cost)), part)
    scrambled = train_proxy(data, env.simulator, env_id="test/Scaled-v0", xgb_params=FAST)
    features = model.encoder.from_indices(env.space.sample_batch(np.random.default_rng(1), 200, "random"))
    assert np.array_equal(model.predict(features).metrics["cost"], scrambled.predict(features).metrics["cost"])
    assert scrambled.report["metrics"][0]["rmse"] > 10 * model.report["metrics"][0]["rmse"]  # only the score moved


# -- saving: a model directory is replaced whole, and its files are bound to its manifest ---------------------------
def _two_models(tmp_path):
    """Two proxies that disagree: on ``cost`` and on ``1000 * cost`` fitted as it is (no log)."""
    collect(env_of(1.0), "test/Scaled-v0", tmp_path / "d1", 300, seed=0, run_id="r1")
    collect(env_of(1000.0), "test/Scaled-v0", tmp_path / "d2", 300, seed=1, run_id="r2")
    first = train_proxy(tmp_path / "d1", Scaled(scale=1.0), env_id="test/Scaled-v0", xgb_params=FAST)
    second = train_proxy(tmp_path / "d2", Scaled(scale=1000.0), env_id="test/Scaled-v0", xgb_params=FAST,
                         transforms={"cost": "identity"}, seed=1)
    return first, second


def _fresh(path):
    """``load_proxy(path)`` as a new process would: not from this one's cache."""
    import archgym.proxy.model as model_module

    model_module._load_cached.cache_clear()
    return load_proxy(path)


def _predictions(model):
    idx = model.space.sample_batch(np.random.default_rng(3), 50, "random")
    return model.predict(model.encoder.from_indices(idx)).metrics["cost"]


def test_a_save_that_dies_before_its_manifest_leaves_the_old_model_whole(tmp_path, monkeypatch):
    import archgym.proxy.model as model_module

    first, second = _two_models(tmp_path)
    first.save(tmp_path / "m")
    expected = _predictions(_fresh(tmp_path / "m"))

    def killed(*_args, **_kwargs):  # the process dies once every booster is written
        raise KeyboardInterrupt

    monkeypatch.setattr(model_module, "write_json", killed)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "m")
    monkeypatch.undo()
    np.testing.assert_array_equal(_predictions(_fresh(tmp_path / "m")), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d1", "d2", "m"]  # nothing half-written left over
    second.save(tmp_path / "m")  # and a complete save replaces it
    np.testing.assert_array_equal(_predictions(_fresh(tmp_path / "m")), _predictions(second))


def test_a_save_killed_outright_leaves_the_old_model_or_the_new_never_a_mix(tmp_path):
    import subprocess
    import sys

    first, second = _two_models(tmp_path)
    first.save(tmp_path / "m")
    second.save(tmp_path / "new")
    expected = _predictions(_fresh(tmp_path / "m"))
    script = ("import os, signal, sys\n"
              "import archgym.proxy.model as m\n"
              "def die(*a, **k): os.kill(os.getpid(), signal.SIGKILL)\n"
              "model = m.load_proxy(sys.argv[1])\n"
              "m.write_json = die\n"
              "model.save(sys.argv[2])\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "new"), str(tmp_path / "m")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr
    np.testing.assert_array_equal(_predictions(_fresh(tmp_path / "m")), expected)
    leftover = [p.name for p in tmp_path.iterdir() if p.name not in ("d1", "d2", "m", "new")]
    assert len(leftover) == 1 and leftover[0].startswith(".m.partial-"), leftover  # named as what it is
    with pytest.raises(ValueError, match="not a proxy model directory"):
        load_proxy(tmp_path / leftover[0])
    second.save(tmp_path / "m")  # the next save replaces the model (the leftover is not in its way)
    np.testing.assert_array_equal(_predictions(_fresh(tmp_path / "m")), _predictions(second))


def test_a_save_stopped_between_its_two_renames_puts_the_old_model_back(tmp_path, monkeypatch):
    """Ctrl-C (or a failing rename) after the old model was moved aside used to leave the directory missing,
    the old model hidden in .m.replaced-*."""
    import archgym.proxy.model as model_module

    first, second = _two_models(tmp_path)
    first.save(tmp_path / "m")
    expected = _predictions(_fresh(tmp_path / "m"))
    renames, real_rename = [], os.rename

    def rename(src, dst):
        renames.append(Path(src).name)
        if len(renames) == 2:  # staging -> m, after m -> .m.replaced-*
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(model_module.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "m")
    monkeypatch.undo()
    assert renames[0] == "m" and sorted(p.name for p in tmp_path.iterdir()) == ["d1", "d2", "m"]
    np.testing.assert_array_equal(_predictions(_fresh(tmp_path / "m")), expected)


def test_a_save_killed_between_its_two_renames_says_where_the_old_model_is(tmp_path):
    (tmp_path / ".m.replaced-0123abcd").mkdir()
    with pytest.raises(ValueError, match=r"m is not a proxy model directory: it has no manifest.json .*a save into it "
                                         r"was interrupted, and the model it replaced is in .*\.m\.replaced-0123abcd"):
        load_proxy(tmp_path / "m")


def test_a_booster_copied_in_from_another_model_is_refused_on_load(tmp_path):
    first, second = _two_models(tmp_path)
    first.save(tmp_path / "m")
    second.save(tmp_path / "other")
    shutil.copy(tmp_path / "other" / "metric-00.json", tmp_path / "m" / "metric-00.json")
    with pytest.raises(ValueError, match=r"proxy .*m: metric-00.json is not the file its manifest was saved with "
                                         r"\(sha256 [0-9a-f]{12}\.\.\. recorded, [0-9a-f]{12}\.\.\. found\)"):
        load_proxy(tmp_path / "m")


def test_a_model_saved_before_digests_were_recorded_still_loads(model_dir, tmp_path):
    def strip(manifest, _copy):
        for entry in (*manifest["models"], manifest["feasibility"]):
            entry.pop("sha256", None)
    old = load_proxy(tampered(model_dir, tmp_path, strip))
    assert all(m.sha256 is None for m in old.manifest.models)
    np.testing.assert_array_equal(_predictions(old), _predictions(load_proxy(model_dir)))


def test_a_model_saved_before_check_rows_were_recorded_still_loads(model_dir, tmp_path):
    old = load_proxy(tampered(model_dir, tmp_path, _set(("check",), KeyError)))
    assert old.manifest.check is None
    np.testing.assert_array_equal(_predictions(old), _predictions(load_proxy(model_dir)))
    with pytest.raises(ValueError, match=r"check: p_feasible must be a list of 8 numbers"):
        load_proxy(tampered(model_dir, tmp_path / "x", _set(("check", "p_feasible"), [0.5])))


def test_a_malformed_digest_is_refused(model_dir, tmp_path):
    with pytest.raises(ValueError, match=r"models\[0\].sha256 must be a SHA-256 digest \(64 lowercase hex digits\), "
                                         r"got 'abc'"):
        load_proxy(tampered(model_dir, tmp_path, _set(("models", 0, "sha256"), "abc")))


# -- where a model may be saved: checked before training -------------------------------------------------------------
@pytest.fixture
def no_training(monkeypatch):
    """``archgym proxy train`` with training replaced by a failure: what is refused is refused before it."""
    import archgym.proxy

    def train(*_args, **_kwargs):
        raise AssertionError("trained although the output cannot be written")

    monkeypatch.setattr(archgym.proxy, "train_proxy", train)


def test_proxy_train_refuses_an_output_it_cannot_write_before_training(tmp_path, capsys, no_training, monkeypatch):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "model"
    assert main(["proxy", "train", str(tmp_path), "--env", "systolic", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write the proxy model {out}: {tmp_path / 'file'} is a file, not a directory" in err

    import archgym.proxy.model as model_module

    (tmp_path / "ro").mkdir()
    real = model_module.os.access
    monkeypatch.setattr(model_module.os, "access", lambda p, mode: False if str(p) == str(tmp_path / "ro")
                        else real(p, mode))  # what a read-only mount answers (root may write anywhere else)
    assert main(["proxy", "train", str(tmp_path), "--env", "systolic", "--out", str(tmp_path / "ro" / "m")]) == 2
    assert (f"cannot write the proxy model {tmp_path / 'ro' / 'm'}: no permission to write in {tmp_path / 'ro'}"
            in capsys.readouterr().err)


def test_a_model_is_never_saved_into_a_dataset_or_among_other_files(tmp_path, capsys, model_dir, no_training):
    data = tmp_path / "data"
    collect(env_of(1.0), "test/Scaled-v0", data, 30, seed=0, run_id="r")
    before = sorted(p.name for p in data.iterdir())
    assert main(["proxy", "train", str(data), "--env", "systolic", "--out", str(data)]) == 2
    assert (f"{data} is a trajectory dataset (it holds part-*.parquet files): write the proxy model to a directory of "
            "its own" in capsys.readouterr().err)
    model = load_proxy(model_dir)
    with pytest.raises(ValueError, match="is a trajectory dataset"):
        model.save(data)
    assert sorted(p.name for p in data.iterdir()) == before
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    with pytest.raises(ValueError, match=r"notes is not a proxy model directory \(it holds todo.txt and no "
                                         r"manifest.json\)"):
        model.save(tmp_path / "notes")
    shutil.copytree(model_dir, tmp_path / "m")
    (tmp_path / "m" / "mine.csv").write_text("x")
    with pytest.raises(ValueError, match=r"m holds mine.csv besides its proxy model; saving replaces the whole "
                                         r"directory"):
        model.save(tmp_path / "m")
    (tmp_path / "m" / "mine.csv").unlink()
    assert model.save(tmp_path / "m") == tmp_path / "m"  # a proxy model directory is replaced
    (tmp_path / "empty").mkdir()
    assert load_proxy(model.save(tmp_path / "empty")).env_id == "test/Scaled-v0"
    (tmp_path / "m" / "metric-07.json").write_text("{}")  # a booster an older save left behind: replaced too
    assert model.save(tmp_path / "m") == tmp_path / "m" and not (tmp_path / "m" / "metric-07.json").exists()


def test_a_model_saved_into_the_current_directory(tmp_path, monkeypatch, model_dir):
    """`--out .` in an empty directory writes there, as before saves replaced whole directories; the
    current directory holding a model is not renamed away under the shell."""
    model = load_proxy(model_dir)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert model.save(".") == tmp_path / "here"
    assert _fresh(tmp_path / "here").env_id == model.env_id
    with pytest.raises(ValueError, match="holds the current directory, and a save replaces the model's directory "
                                         r"whole: run it from outside \(e.g. --out ../here\)"):
        model.save(".")
    (tmp_path / "link").symlink_to(tmp_path)  # the same place through a symlink, as a shell's $PWD may name it
    monkeypatch.chdir(tmp_path / "link" / "here")
    with pytest.raises(ValueError, match="holds the current directory"):
        model.save(tmp_path / "link" / "here")
    monkeypatch.chdir(tmp_path)
    assert model.save("here") == tmp_path / "here"


# -- a dataset of another workload or setting: said in one line, not as a list of the knobs that differ ------------
class Wide(Simulator):
    """``width`` knobs named after the workload: the space differs with the workload and the setting (like SoC-v0's)."""

    metrics = (Metric("cost", "J"),)

    def __init__(self, *, workload: str = "big", width: int = 30) -> None:
        self.workload, self.width = workload, width
        self.space = DesignSpace([IntRange(f"{workload}_{i}", 1, 8) for i in range(width)])

    def _evaluate(self, d):
        return Evaluation({"cost": float(sum(d.values()))})


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    return train_proxy(_wide_data(tmp_path_factory.mktemp("wide"), "big", 30), Wide(), env_id="test/Wide-v0",
                       xgb_params=FAST)


@pytest.mark.parametrize(("workload", "width", "lead", "knob"), [
    ("small", 30, "the dataset has no rows for test/Wide-v0 with workload 'big'; it holds test/Wide-v0 / small "
                  "(60 rows)", "small_0"),
    ("big", 31, "the dataset's 60 rows of test/Wide-v0 / 'big' were produced with other simulator settings than "
                "this one's: width=31 (dataset) vs 30 (wanted) (60 rows)", "big_30"),
])
def test_scoring_on_another_workload_or_setting_leads_with_it(wide_model, tmp_path, workload, width, lead, knob):
    with pytest.raises(ValueError) as caught:
        wide_model.score(_wide_data(tmp_path, workload, width))
    message = str(caught.value)
    assert message.startswith(lead) and knob not in message and len(message) < 300, message


def _wide_data(tmp_path, workload, width):
    out = tmp_path / f"{workload}-{width}"
    collect(DesignEnv(Wide(workload=workload, width=width), targets={"cost": 10.0}), "test/Wide-v0", out,
            60 if (workload, width) != ("big", 30) else 300, seed=0, run_id="r")
    return out


def test_feasible_rows_with_a_nan_or_infinite_metric_are_counted_as_left_out(tmp_path):
    collect(env_of(1.0), "test/Scaled-v0", tmp_path / "data", 300, seed=0, run_id="r")
    df = read_dataset(tmp_path / "data").drop_duplicates(subset=["a", "b", "c"]).reset_index(drop=True)
    assert df["feasible"].all()
    df.loc[[3, 10, 20], "cost"] = [np.nan, np.inf, -np.inf]
    model = train_proxy(df, Scaled(), env_id="test/Scaled-v0", xgb_params=FAST)
    training = model.manifest.training
    assert training["rows_nonfinite"] == {"cost": 3}
    note = "3 feasible row(s) with a NaN or infinite metric left out of that metric's fit and score (cost: 3)"
    assert note in training["left_out"]
    entry = model.manifest.model("cost")
    assert entry.rows_train + entry.rows_val + model.report["metrics"][0]["rows"] == len(df) - 3
    report = model.score(df)
    assert report["rows_nonfinite"] == {"cost": 3} and note in report["left_out"]
    assert report["metrics"][0]["rows"] == len(df) - 3
    assert load_proxy(model.save(tmp_path / "m")).manifest.training["rows_nonfinite"] == {"cost": 3}
