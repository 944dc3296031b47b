"""Bad input anywhere is a clear ValueError (CLI: exit 2) or works; never another exception, never silence.

Hypothesis drives ``gym.make`` keywords and the command line with generated wrong values; the
cases the outside audit reported are pinned as examples.
"""

from __future__ import annotations

import inspect
import json

import gymnasium as gym
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archgym
from archgym.cli import main
from archgym.envs import ENV_KEYWORDS
from simulators.loading import load_object

# -- values a user might pass by mistake ------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", "fast", "nosuch:X", "../x.yaml", "archgym/Nope-v0", "-1", "1e400"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=6), scalars, max_size=3))


def env_keywords(env_id: str) -> list[str]:
    target = gym.registry[env_id].kwargs["simulator"]
    params = inspect.signature(load_object(target).__init__).parameters
    return [*ENV_KEYWORDS, "backend", "proxy", *(n for n in params if n != "self")]


ENV_IDS = list(archgym.ENVIRONMENTS)
KEYWORDS = [(e, k) for e in ENV_IDS for k in env_keywords(e)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(KEYWORDS), value=values)
def test_gym_make_keywords_are_clear_errors_or_work(case, value):
    env_id, key = case
    try:
        env = gym.make(env_id, **{key: value})
    except ValueError:
        return
    if key == "requests" and isinstance(value, int) and value > 10_000:  # a long valid trace: too slow to run here
        return
    env.reset(seed=0)
    env.step(env.action_space.sample())  # what was accepted must work


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workload": None}, "workload must be"),
        ({"workload": 5}, "workload must be"),
        ({"targets": ["latency"]}, "targets must map metric names"),
        ({"targets": "fast"}, "targets must map metric names"),
        ({"targets": {}}, "targets is empty"),
        ({"simulator": "nosuch:X"}, "no module named 'nosuch'"),
        ({"objective": {"type": "weighted_sum", "weights": [1]}}, "weights must map metric names"),
    ],
)
def test_the_audited_keyword_cases(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("archgym/Systolic-v0", **kwargs)


# -- the command line -------------------------------------------------------------------------------------------

def run(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors exit 2
        code = exc.code
    err = capsys.readouterr().err
    return code, err


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=16)
yaml_texts = st.one_of(texts, values.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip()),
                       st.sampled_from(["!!python/object/apply:os.system ['true']", "{a: [1", "[]", "{}", "~"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_cli_options_are_clear_errors_or_work(data, capsys, tmp_path_factory):
    env_id = data.draw(st.sampled_from(["systolic", "soc", "quant"]))
    key = data.draw(st.sampled_from(env_keywords(archgym.catalog.resolve_env_id(env_id))))
    command = data.draw(st.sampled_from(["evaluate-design", "evaluate-kwarg", "explore", "list"]))
    if command == "evaluate-design":
        argv = ["evaluate", env_id, "--design", f"{data.draw(texts)}={data.draw(texts)}"]
    elif command == "evaluate-kwarg":
        argv = ["evaluate", env_id, "-k", f"{key}={data.draw(yaml_texts)}"]
    elif command == "explore":
        budget = data.draw(st.one_of(st.integers(-5, 5), st.just(10**12)))
        argv = ["explore", env_id, "--agent", data.draw(st.sampled_from(["random_walk", "ga", "nosuch"])),
                "--budget", str(budget), "--hp", f"{data.draw(texts)}={data.draw(yaml_texts)}", "--json"]
    else:
        argv = ["list", "--env", data.draw(st.one_of(texts, st.just(env_id))), "-k", f"{key}={data.draw(yaml_texts)}"]
    code, err = run(capsys, *argv)
    assert code in (0, 2), f"{argv} exited {code}: {err}"
    assert "Traceback" not in err and "internal error" not in err, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "systolic", "-k", "workload=5"], "workload must be"),
        (["evaluate", "systolic", "-k", "targets=fast"], "targets must map metric names"),
        (["evaluate", "systolic", "--design", "rows=64", "--design", "rows=32"], "design value 'rows' given twice"),
        (["explore", "systolic", "--agent", "ga", "--budget", str(10**12)], "more than half of this machine"),
        (["explore", "systolic", "--agent", "ga", "--budget", "5", "--hp", "population=16", "--hp",
          "population=8"], "hyperparameter 'population' given twice"),
        (["explore", "systolic", "--agent", "ga", "--budget", "5", "--seed", "-1"], "seed must be"),
        (["explore", "systolic", "--agent", "ga", "--budget", "5", "--hp", "population=4", "--hp",
          "tournament_size=5"], "tournament_size (5) must be at most population (4)"),
        (["optimum", "systolic", "--limit", "-5"], "limit must be a positive integer"),
        (["collect", "quant", "--samples", str(10**12), "--out", "never-written"], "more than half of this machine"),
        # an empty path is the current directory to the file system: refused, never written into
        (["collect", "systolic", "-n", "5", "-o", ""], "argument --out/-o: must be a path, got an empty string"),
        (["explore", "systolic", "-a", "random_walk", "-b", "5", "--log", " "], "argument --log: must be a path"),
        (["proxy", "train", "data", "--env", "systolic", "--out", ""], "argument --out/-o: must be a path"),
        (["report", ""], "argument run_dir: must be a path"),
        (["optimum", "systolic", "--out", ""], "argument --out: must be a path"),
        (["dataset", ""], "a dataset directory is an empty path"),
        (["dataset", "validate", ""], "a dataset directory is an empty path"),
        (["evaluate", "systolic", "-k", "backend=proxy", "-k", "proxy=''"], "the model directory is an empty path"),
        (["evaluate", "quant", "-k", "bits=[4, 8, 4]"], "bits must list each bit width once"),
        # options that would be silently ignored
        (["explore", "systolic", "-a", "random_walk", "-b", "5", "--hp", "restart=0.5"],
         "random_walk: hyperparameter(s) that would be ignored: restart (acts only with mode 'local'; mode is "
         "'uniform')"),
        (["explore", "systolic", "-a", "bayesopt", "-b", "5", "--hp", "kappa=3"],
         "kappa (acts only with acq_func 'LCB' or 'gp_hedge'; acq_func is 'EI')"),
        (["optimum", "systolic", "--search-budget", "5"], "--search-budget only applies with --best-known"),
        (["optimum", "soc", "--best-known", "--limit", "5"], "--limit only applies to the exact optimum"),
        (["list", "--workload", "resnet18"], "--workload and -k choose an environment's options: they need --env"),
        (["list", "--agent", "ga", "--env", "systolic"], "give --agent or --env, not both"),
        (["list", "--json", "--markdown"], "give --json or --markdown, not both"),
        # seeds beyond int64 overflowed when a row was written (after a part file existed)
        (["explore", "systolic", "-a", "random_walk", "-b", "5", "-s", str(2**63), "--log", "never-written"],
         "seed must be an integer in [0, 9223372036854775807]"),
        (["collect", "systolic", "-n", "5", "-o", "never-written", "--seed", str(10**20)],
         "seed must be an integer in [0, 9223372036854775807]"),
    ],
)
def test_the_audited_cli_cases(capsys, argv, message):
    code, err = run(capsys, *argv)
    assert code == 2 and message in err, err


def test_repeated_design_and_hp_accumulate(capsys):
    code = main(["evaluate", "systolic", "--design", "rows=64", "--design", "cols=64", "--json"])
    out = capsys.readouterr().out
    assert code == 0 and '"rows": 64' in out and '"cols": 64' in out


def test_files_given_where_directories_go_and_unsafe_yaml(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, err = run(capsys, "explore", "systolic", "--agent", "random_walk", "--budget", "3", "--log", str(afile))
    assert code == 2 and "afile" in err
    code, err = run(capsys, "optimum", "systolic", "--out", str(tmp_path))
    assert code == 2 and "is a directory" in err
    # refused before the enumeration, not after it
    code, err = run(capsys, "optimum", "systolic", "--out", str(tmp_path / "missing" / "opt.json"))
    assert code == 2 and "does not exist" in err and "optimum:" not in err
    config = tmp_path / "agent.yaml"
    config.write_text("!!python/object/apply:os.system ['true']\n")
    code, err = run(capsys, "explore", "systolic", "--agent-config", str(config), "--budget", "3")
    assert code == 2 and "not valid YAML" in err
    code, err = run(capsys, "explore", "systolic", "--agent-config", str(tmp_path), "--budget", "3")
    assert code == 2 and "is a directory" in err
    (tmp_path / "spec.yaml").write_text("name: x\n")
    code, err = run(capsys, "sweep", str(tmp_path))
    assert code == 2 and "is a directory" in err and "--resume" in err


def test_a_trace_must_be_in_time_order(tmp_path):
    trace = tmp_path / "shuffled.stl"
    trace.write_text("10: read 0x0\n5: read 0x40\n20: write 0x80\n")
    with pytest.raises(ValueError, match="line 2: cycle 5 is earlier than the previous request's 10"):
        gym.make("archgym/DRAM-v0", workload=str(trace))


@pytest.mark.parametrize(("env_id", "kwargs", "message"), [
    ("archgym/DRAM-v0", {"requests": 10**9}, "requests must be at most 10,000,000"),
    ("archgym/DRAM-v0", {"initiator_mhz": 1e300}, r"initiator_mhz must be a number in \[1, 100000\]"),
    ("archgym/Quant-v0", {"rows": 10**15}, r"rows must be an integer in \[1, 4096\]"),
])
def test_implausible_sizes_are_refused_up_front(env_id, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize(("argv", "what"), [
    (["sweep", "{f}.yaml"], "sweep spec"),
    (["evaluate", "dram", "-k", "workload={f}.stl"], "trace file"),
    (["evaluate", "dram", "-k", "memspec={f}.yaml"], "memspec file"),
    (["evaluate", "systolic", "-w", "{f}.csv"], "workload file"),
    (["evaluate", "soc", "-w", "{f}.yaml"], "task graph file"),
    (["explore", "systolic", "-a", "ga", "-b", "5", "--agent-config", "{f}.yaml"], "agent config"),
])
def test_a_file_that_is_not_utf8_is_named_with_the_byte(capsys, tmp_path, argv, what):
    stem = tmp_path / "latin1"
    for suffix in (".yaml", ".stl", ".csv"):
        stem.with_suffix(suffix).write_bytes("name: caf\u00e9\n".encode("latin-1"))
    code, err = run(capsys, *[a.format(f=stem) for a in argv])
    assert code == 2 and f"{what} " in err and "is not UTF-8 text: byte 0xe9 at line 1 (offset 9)" in err, err


def test_a_malformed_schema_1_manifest_is_named(capsys, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text('{"format": "archgym-trajectories", "schema_version": 1}')
    code, err = run(capsys, "dataset", "upgrade", str(old), "--out", str(tmp_path / "new"), "--env", "systolic")
    assert code == 2 and "manifest.json: not a schema-1 manifest (no ['space', 'metrics'])" in err, err


def test_messages_say_what_the_path_or_setting_really_is(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    code, err = run(capsys, "report", str(tmp_path / "afile"))
    assert code == 2 and "is a file, not a sweep's run directory" in err
    run_dir = tmp_path / "run"
    (run_dir / "trajectories").mkdir(parents=True)
    (run_dir / "spec.yaml").write_text("name: r\n")
    code, err = run(capsys, "dataset", str(run_dir))
    assert code == 2 and f"a sweep's run directory, not a trajectory dataset: its evaluations are the dataset " \
        f"{run_dir / 'trajectories'}" in err
    code, err = run(capsys, "explore", "systolic", "-a", "random_walk", "-b", "3", "--log", str(run_dir))
    assert code == 2 and "is a sweep's run directory, not a trajectory dataset" in err
    assert not list(run_dir.glob("*.parquet"))
    code, err = run(capsys, "collect", "systolic", "-n", "40", "-o", str(tmp_path / "one"), "-q")
    assert code == 0
    code, err = run(capsys, "proxy", "train", str(tmp_path / "one"), "--env", "systolic", "--out",
                    str(tmp_path / "m"), "--split", "run")
    assert code == 2 and "split by run puts whole runs in the train, validation and test sets, so it needs at " \
                         "least 3 runs; the rows come from 1" in err


def test_a_utf8_file_with_a_byte_order_mark_reads_as_without(capsys, tmp_path):
    from importlib import resources

    text = resources.files("simulators.workloads").joinpath("data", "alexnet.csv").read_text()
    (tmp_path / "plain.csv").write_text(text, encoding="utf-8")
    (tmp_path / "bom.csv").write_text(text, encoding="utf-8-sig")  # as spreadsheets save CSV
    results = []
    for name in ("plain.csv", "bom.csv"):
        assert main(["evaluate", "systolic", "-w", str(tmp_path / name), "--json"]) == 0
        results.append(json.loads(capsys.readouterr().out)["metrics"])
    assert results[0] == results[1]
