"""The one YAML reader (simulators.yamldata): YAML 1.2 core scalars, a key given twice refused, everywhere."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from archgym.cli import main
from simulators.yamldata import dump_yaml, load_yaml


@pytest.mark.parametrize(("text", "value"), [
    ("010", 10), ("-7", -7), ("+5", 5), ("0x10", 16), ("0o10", 8),  # YAML 1.1 read 010 as octal 8
    ("2e-3", 0.002), ("1e3", 1000.0), ("1.", 1.0), ("-.5", -0.5), (".inf", math.inf), ("-.Inf", -math.inf),
    ("true", True), ("False", False),
    ("1:30", "1:30"), ("yes", "yes"), ("off", "off"), ("'010'", "010"),  # YAML 1.1: 90, True, False
    ("20_000", 20000), ("1_000.5", 1000.5), ("_1", "_1"), ("1__0", "1__0"),  # digits grouped by underscores
    ("~", None), ("null", None),
])
def test_scalars_follow_yaml_1_2_core(text, value):
    assert load_yaml(f"v: {text}") == {"v": value}


def test_nan_is_a_float():
    assert math.isnan(load_yaml("v: .nan")["v"])


@given(st.integers())
def test_every_integer_reads_back(n):
    assert load_yaml(str(n)) == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_reads_back(x):
    value = load_yaml(repr(x))
    assert isinstance(value, float) and value == x


@pytest.mark.parametrize("text", ["a: 1\nb: 2\na: 3\n", "top:\n  x: 1\n  x: 1\n", "- {k: 1, k: 2}\n"])
def test_a_key_given_twice_is_refused_with_both_lines(text):
    with pytest.raises(yaml.YAMLError, match=r"key '(a|x|k)' is given twice in one mapping \(first on line \d\)"):
        load_yaml(text)


def test_merge_keys_still_override():
    assert load_yaml("base: &b {p: 1, q: 2}\nuse:\n  <<: *b\n  p: 3\n")["use"] == {"p": 3, "q": 2}
    # an anchored mapping that overrides a merged key, merged again deeper down (a layer table's templates)
    text = ("templates:\n  base: &conv {kind: conv, in_c: 64}\n  strided:\n    down: &down\n      <<: *conv\n"
            "      in_c: 128\nlayers:\n  - <<: *conv\n    name: c1\n  - <<: *down\n    name: c2\n")
    assert [layer["in_c"] for layer in load_yaml(text)["layers"]] == [64, 128]


@pytest.mark.parametrize(("text", "message"), [
    ("v: !!bool yes", "'yes' is not a boolean"), ("v: !!int 0b1010", "'0b1010' is not an integer"),
    ("v: !!int 1:30", "'1:30' is not an integer"), ("v: !!float x", "'x' is not a number"),
])
def test_explicit_tags_follow_the_same_rules(text, message):
    with pytest.raises(yaml.YAMLError, match=message):
        load_yaml(text)
    assert load_yaml("v: !!float 3") == {"v": 3.0} and load_yaml("v: !!int 0x10") == {"v": 16}


def test_the_cli_refuses_duplicate_keys_and_reads_1_2_numbers(tmp_path, capsys):
    config = tmp_path / "ga.yaml"
    config.write_text("agent: ga\nhyperparameters:\n  population: 8\n  population: 16\n")
    assert main(["explore", "archgym/Systolic-v0", "-a", "ga", "--budget", "5", "--agent-config", str(config)]) == 2
    assert "key 'population' is given twice in one mapping (first on line 3)" in capsys.readouterr().err
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\nenv: {id: archgym/Systolic-v0}\nbudget: 5\nbudget: 7\nseeds: [0]\n"
                    "agents: {random_walk: {}}\n")
    assert main(["sweep", str(spec)]) == 2
    assert "key 'budget' is given twice" in capsys.readouterr().err
    # -k values: 2e-3 is a number (YAML 1.1 read a string and the target check refused it)
    assert main(["list", "--env", "archgym/Systolic-v0", "-k", "targets={latency: 2e-3}", "--json"]) == 0
    capsys.readouterr()
    assert main(["explore", "archgym/Systolic-v0", "-a", "ga", "--budget", "5", "--hp", "population=010",
                 "--json"]) == 0
    assert '"population": 10' in capsys.readouterr().out


_DATA = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                     max_leaves=12)


@given(_DATA)
def test_what_dump_yaml_writes_load_yaml_reads_back(data):
    """A run directory's spec.yaml is written and read back: strings such as '1e3' or '0o10', which PyYAML's
    YAML 1.1 dumper leaves plain, must come back as strings."""
    assert load_yaml(dump_yaml(data)) == data


def test_a_spec_named_like_a_number_round_trips_through_its_run_directory(tmp_path):
    from archgym.config import parse_sweep
    from archgym.runs import load_run_spec, write_spec

    spec = parse_sweep({"env": "archgym/Systolic-v0", "budget": 5, "agents": {"random_walk": {}},
                        "run_dir": str(tmp_path)}, source="1e3.yaml")
    write_spec(tmp_path, spec)
    assert load_run_spec(tmp_path).to_dict() == spec.to_dict() and spec.name == "1e3"
