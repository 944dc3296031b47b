"""The README's commands are the ones CI runs, and its examples work."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_install_and_test_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    section = ci.split("# --- the README's commands")[1].split("# ---")[0]
    commands = readme_commands()
    install, test = commands[0], commands[-1]
    assert install == 'pip install -e ".[all]"' and install in section
    assert test == "pytest" and re.search(r"^pytest \|\| status=\$\?$", section, flags=re.M)


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, flags=re.S).group(1)
    exec(compile(example, "README example", "exec"), {})
