"""Regenerate the tables the docs carry from the code: knobs and metrics in ``docs/envs/*.md``, and the
hyperparameters of each agent in ``docs/agents.md``.

Run ``python scripts/update_doc_tables.py`` after changing a space, a metric or a hyperparameter
declaration; ``tests/test_cli.py`` fails until the docs say what ``archgym list`` prints.
"""

from __future__ import annotations

import re
from pathlib import Path

import archgym
from archgym.catalog import describe_env
from archgym.display import agent_table, env_tables

DOCS = Path(__file__).resolve().parent.parent / "docs"
_TABLE = re.compile(r"(?:^\|.*\|\n)+", re.MULTILINE)


def _replace_table(text: str, header: str, new: str, start: int = 0) -> tuple[str, int]:
    """Replace the first markdown table whose first line is ``header`` at or after ``start``."""
    for match in _TABLE.finditer(text, start):
        if match.group(0).startswith(header):
            return text[:match.start()] + new + "\n" + text[match.end():], match.start() + len(new)
    raise ValueError(f"no table starting {header!r} after offset {start}")


def envs() -> None:
    for env_id in archgym.ENVIRONMENTS:
        path = DOCS / "envs" / f"{env_id.split('/')[1].split('-')[0].lower()}.md"
        params, metrics = env_tables(describe_env(env_id), markdown=True).split("\n\n")
        text, end = _replace_table(path.read_text(), params.split("\n", 1)[0], params)
        text, _ = _replace_table(text, metrics.split("\n", 1)[0], metrics, end)
        path.write_text(text)


def agents() -> None:
    path = DOCS / "agents.md"
    text = path.read_text()
    for name in ("random_walk", "bayesopt", "ga", "aco", "nsga2", "ppo"):
        section = text.index(f"\n## {name}\n")
        text, _ = _replace_table(text, "| hyperparameter | default | allowed | meaning |", agent_table(name, True),
                                 section)
    path.write_text(text)


if __name__ == "__main__":
    envs()
    agents()
