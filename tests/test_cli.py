"""The ``archgym`` command: list and evaluate, their JSON, exit codes and the docs they generate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archgym.catalog import describe_env
from archgym.cli import main
from archgym.display import env_tables
from simulators.systolic import REFERENCE_DESIGN, SystolicSimulator

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "archgym/Systolic-v0" in out and "5,268,480" in out
    code, out, _ = run(capsys, "list", "--json")
    data = json.loads(out)
    assert data["environments"][0]["id"] == "archgym/Systolic-v0"
    assert "resnet50" in data["environments"][0]["workloads"]


def test_list_env_shows_space_metrics_and_targets(capsys):
    code, out, _ = run(capsys, "list", "--env", "systolic")
    assert code == 0
    for word in ("dataflow", "one of 'os', 'ws', 'is'", "latency", "minimize", "utilization", "maximize",
                 "default targets (resnet18): latency <="):
        assert word in out


def test_evaluate_prints_metrics_with_units(capsys):
    code, out, _ = run(capsys, "evaluate", "archgym/Systolic-v0", "--design", "rows=64", "cols=64", "-w", "vgg16")
    assert code == 0
    assert "(default)" in out and " ms " in out and "mJ" in out and "reward:" in out


def test_evaluate_json_agrees_with_the_simulator(capsys):
    code, out, _ = run(capsys, "evaluate", "Systolic-v0", "-d", "dataflow=os", "bits=16", "--json")
    data = json.loads(out)
    design = {**REFERENCE_DESIGN, "dataflow": "os", "bits": 16}
    assert data["design"] == design
    assert data["metrics"] == SystolicSimulator("resnet18").evaluate(design).metrics
    assert data["units"]["latency"] == "s" and data["feasible"] is True
    assert set(data["defaulted"]) == set(design) - {"dataflow", "bits"}


def test_env_kwargs_from_the_command_line(capsys):
    code, out, _ = run(capsys, "evaluate", "systolic", "-k", "targets={latency: 1.0}", "-k", "dram=hbm2", "--json")
    data = json.loads(out)
    assert data["reward"] == 1.0 and data["objective"]["targets"] == {"latency": {"value": 1.0, "weight": 1.0}}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "systolic", "-d", "rows=63"], "'rows': 63 is not allowed; expected a power of two"),
        (["evaluate", "systolic", "-d", "depth=3"], "unknown parameter 'depth'"),
        (["evaluate", "systolic", "-d", "rows"], "must look like KEY=VALUE"),
        (["evaluate", "dram9"], "unknown environment 'dram9'"),
        (["evaluate", "systolic", "-w", "lenet"], "unknown workload 'lenet'"),
        (["list", "--env", "systolic", "-k", "colour=red"], "unknown keyword\\(s\\) \\['colour'\\]"),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, argv, message):
    import re

    code, _, err = run(capsys, *argv)
    assert code == 2 and re.search(message, err), err


def test_help_on_every_command():
    for argv in (["--help"], ["list", "--help"], ["evaluate", "--help"]):
        out = subprocess.run([sys.executable, "-m", "archgym.cli", *argv], capture_output=True, text=True)
        assert out.returncode == 0 and "usage: archgym" in out.stdout


def test_docs_tables_come_from_the_code():
    """The knob and metric tables in docs/envs/*.md are exactly what `archgym list --env ID --markdown` prints."""
    import archgym

    for env_id in archgym.ENVIRONMENTS:
        name = env_id.split("/")[1].split("-")[0].lower()
        doc = (ROOT / "docs" / "envs" / f"{name}.md").read_text()
        assert env_tables(describe_env(env_id), markdown=True) in doc, f"regenerate the tables in {name}.md"


def test_agent_tables_in_the_docs_come_from_the_code():
    from archgym.display import agent_table

    doc = (ROOT / "docs" / "agents.md").read_text()
    for name in ("random_walk", "bayesopt", "ga", "aco", "nsga2", "ppo"):
        assert agent_table(name, markdown=True) in doc, f"regenerate the {name} table in docs/agents.md"


def test_list_agent(capsys):
    code, out, _ = run(capsys, "list", "--agent", "ga")
    assert code == 0 and "population" in out and "individuals per generation" in out
    code, _, err = run(capsys, "list", "--agent", "sa")
    assert code == 2 and "unknown agent 'sa'" in err
