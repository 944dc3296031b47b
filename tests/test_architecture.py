"""The import direction as a test: simulators <- agents <- archgym.

``simulators`` imports only the standard library, numpy and PyYAML (and numba for a hot loop), so
a cost model can be used, and checked, with nothing else installed; ``agents`` never imports
``archgym`` (the RL agent builds environments through gymnasium's registry). Every import in the
source counts, including those inside functions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
ALLOWED_IN_SIMULATORS = {"numpy", "yaml", "numba", "simulators"}


def imports(package: str) -> list[tuple[str, int, str]]:
    """(file, line, top-level module) for every import in a package's source."""
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out += [(str(path.relative_to(ROOT)), node.lineno, a.name.split(".")[0]) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.append((str(path.relative_to(ROOT)), node.lineno, node.module.split(".")[0]))
    return out


def test_simulators_import_only_numpy_and_pyyaml():
    bad = [f"{f}:{line} imports {m}" for f, line, m in imports("simulators")
           if m not in STDLIB and m not in ALLOWED_IN_SIMULATORS]
    assert not bad, "simulators/ may import only the standard library, numpy, PyYAML and numba:\n" + "\n".join(bad)


def test_agents_never_import_archgym():
    bad = [f"{f}:{line}" for f, line, m in imports("agents") if m == "archgym"]
    assert not bad, "agents/ must not import archgym:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["simulators", "agents", "archgym"])
def test_every_module_is_parsed(package):
    """The scan sees the packages (a moved tree would make the tests above pass vacuously)."""
    assert len(imports(package)) > 10
