"""Text output shared by the CLI and reports: SI-prefixed quantities and plain/markdown tables."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

# Units that take SI prefixes (the metric values are stored in these base units).
_PREFIXABLE = {"s", "J", "W", "B", "bytes", "bytes/s", "B/s", "Hz", "ops"}
_PREFIXES = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"),
             (1e-12, "p"), (1e-15, "f")]


def format_quantity(value: float, unit: str) -> str:
    """``0.0157, "s"`` -> ``"15.68 ms"``; units without SI prefixes print as ``%.4g``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "fraction":
        return f"{value:.4f}"
    if unit not in _PREFIXABLE or value == 0 or not math.isfinite(value):
        return f"{value:.6g} {unit}".rstrip()
    shown = {"bytes": "B", "bytes/s": "B/s"}.get(unit, unit)
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.4g} {prefix}{shown}"
    return f"{value:.4g} {shown}"


def table(rows: Sequence[Sequence[object]], header: Sequence[str], markdown: bool = False) -> str:
    """A left-aligned text table, or a GitHub-markdown one."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    if markdown:
        def esc(text: str) -> str:
            return text.replace("|", "\\|")

        lines = ["| " + " | ".join(esc(c) for c in cells[0]) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*cells[0]).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
    lines += [fmt.format(*r).rstrip() for r in cells[1:]]
    return "\n".join(lines)


def yaml_text(value: object) -> str:
    """A value as a YAML flow scalar (how tables show defaults: ``0.7``, ``tpe``, ``[4, 8]``)."""
    from simulators.yamldata import dump_yaml

    return dump_yaml(value, default_flow_style=True).strip().removesuffix("...").strip()


def env_tables(info: Mapping[str, Any], markdown: bool = False) -> str:
    """The parameter and metric tables of ``archgym list --env`` (also what the docs show)."""
    params = table([(p["name"], p["domain"], p["count"], p["unit"], p["description"]) for p in info["parameters"]],
                   ("parameter", "values", "count", "unit", "meaning"), markdown)
    metrics = table([(m["name"], m["unit"], m["direction"], m["description"]) for m in info["metrics"]],
                    ("metric", "unit", "better", "meaning"), markdown)
    return params + "\n\n" + metrics


def agent_table(name: str, markdown: bool = False) -> str:
    """The hyperparameter table of ``archgym list --agent NAME`` (also what docs/agents.md shows),
    read from the agent's declarations."""
    import agents

    cls = agents.get(name)
    rows = [(k, yaml_text(h.default), h.describe(), h.doc) for k, h in cls.hyperparameters.items()]
    return table(rows, ("hyperparameter", "default", "allowed", "meaning"), markdown)
