"""docs/clients.md: every example on the page runs, at a tiny budget, as the page shows it.

Each ``python`` block follows a marker ``<!-- test: MODE name=NAME [needs=mod,mod] [CONST=value ...] -->``:
MODE ``script`` runs the block as a script in a fresh interpreter (as a user would: subprocess vector
envs need a real ``__main__``), ``python`` runs it in this process, ``ray`` in this process with the
session's Ray; ``needs`` names the client libraries it imports (the test skips without them: they come
with the ``clients`` extra); each ``CONST=value`` replaces the block's ``CONST = ...`` line (the budgets).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "clients.md"
_MARKED = re.compile(r"<!-- test: (\w+) (.*?) -->\n```python\n(.*?)```", re.S)


def examples() -> list[tuple[str, str, list[str], str]]:
    text = DOC.read_text()
    found = []
    for mode, options, code in _MARKED.findall(text):
        fields = dict(item.split("=", 1) for item in options.split())
        name, needs = fields.pop("name"), [m for m in fields.pop("needs", "").split(",") if m]
        for const, value in fields.items():
            code, n = re.subn(rf"^{const} = .*$", f"{const} = {value}", code, flags=re.M)
            assert n == 1, f"{name}: no line '{const} = ...' to set"
        found.append((name, mode, needs, code))
    return found


EXAMPLES = examples()


def test_every_python_block_is_tested():
    assert len(EXAMPLES) == DOC.read_text().count("```python") and len(EXAMPLES) >= 10
    names = [e[0] for e in EXAMPLES]
    assert len(set(names)) == len(names)


def _run(name, mode, needs, code, tmp_path, monkeypatch):
    for module in needs:
        pytest.importorskip(module, reason=f"the {name} example needs {module} (the clients extra)")
    monkeypatch.chdir(tmp_path)
    if mode == "script":
        script = tmp_path / f"{name}.py"
        script.write_text(code)
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "PYTHONPATH": path})
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout
    namespace = {"__name__": "__main__"}
    exec(compile(code, f"docs/clients.md ({name})", "exec"), namespace)
    return namespace


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "mode", "needs", "code"), [e for e in EXAMPLES if e[1] != "ray"],
                         ids=[e[0] for e in EXAMPLES if e[1] != "ray"])
def test_example(name, mode, needs, code, tmp_path, monkeypatch, capsys):
    _run(name, mode, needs, code, tmp_path, monkeypatch)


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "mode", "needs", "code"), [e for e in EXAMPLES if e[1] == "ray"],
                         ids=[e[0] for e in EXAMPLES if e[1] == "ray"])
def test_ray_example(name, mode, needs, code, tmp_path, monkeypatch, ray_session):
    namespace = _run(name, mode, needs, code, tmp_path, monkeypatch)
    if name == "rllib":  # one iteration sampled by one remote env runner, which made the env from the plain id
        from ray.tune.registry import ENV_CREATOR, _global_registry

        assert namespace["config"].num_env_runners == 1 and namespace["config"].env == "archgym/Systolic-v0"
        assert namespace["result"]["env_runners"]["num_env_steps_sampled_lifetime"] >= 256
        assert _global_registry.contains(ENV_CREATOR, "archgym/Systolic-v0")
    if name == "tune":
        assert namespace["best"].metrics["reward"] > 0
