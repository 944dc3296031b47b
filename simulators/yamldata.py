"""The one YAML reader of archgym's data and configs (spec files, agent and env configs, ``-k``/``--hp``
values, memspecs, layer tables and task graphs), and the one reader of a text file a user names
(``read_text``: a file that is not UTF-8 is refused naming the file and the byte, not with the codec's
bare message).

It is PyYAML's safe loader (no Python objects) with two changes, so that what a file says is what
archgym reads:

- **A key given twice in one mapping is an error**, naming the key and both lines. PyYAML keeps the
  last one silently, so ``budget: 5`` followed by ``budget: 7`` ran 7 and a second ``random_walk:``
  under ``agents`` replaced the first.
- **Scalars follow YAML 1.2's core schema**, not PyYAML's YAML 1.1. ``010`` is ten (1.1: octal
  eight), ``1:30`` is a string (1.1: ninety, base 60), ``2e-3`` and ``1e3`` are numbers (1.1: strings,
  as a float needs a dot there), and only ``true``/``false`` (any case) are booleans (1.1 also read
  ``yes``, ``no``, ``on`` and ``off``). Hexadecimal ``0x10`` and octal ``0o10`` stay integers, as 1.2 has
  them; ``.inf`` and ``.nan`` stay floats. Underscores between digits group them (``20_000``), as
  YAML 1.1 and Python allow.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["dump_yaml", "load_yaml", "read_text", "yaml_loader"]

_DIGITS = r"[0-9]+(?:_[0-9]+)*"  # digits, optionally grouped by underscores (20_000)
_INT = re.compile(rf"^(?:[-+]?{_DIGITS}|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(rf"^(?:[-+]?(?:\.[0-9]+|{_DIGITS}(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                    r"|\.(?:nan|NaN|NAN))$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


@functools.cache
def yaml_loader() -> type:
    """The loader class (a ``yaml.SafeLoader`` subclass; subclass it to add constructors)."""
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader with YAML 1.2 core scalars and duplicate keys refused."""

        def compose_mapping_node(self, anchor: Any) -> Any:
            # checked as written, before merge keys (<<) are flattened in: a merge may override a key
            node = super().compose_mapping_node(anchor)
            seen: dict[tuple[str, str], Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                first = seen.setdefault((key_node.tag, key_node.value), key_node)
                if first is not key_node:
                    raise yaml.composer.ComposerError(
                        None, None, f"key {key_node.value!r} is given twice in one mapping (first on line "
                                    f"{first.start_mark.line + 1}); YAML keeps only one of them, so say it once",
                        key_node.start_mark)
            return node

    # the implicit resolvers, without YAML 1.1's bool, int and float ones (a copy: SafeLoader keeps its own)
    replaced = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in replaced]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))

    def refuse(node: Any, what: str) -> Exception:
        return yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not {what}", node.start_mark)

    def construct_bool(loader: Any, node: Any) -> bool:
        text = loader.construct_scalar(node)
        if not _BOOL.match(text):
            raise refuse(node, "a boolean (YAML 1.2: true or false)")
        return text.lower() == "true"

    def integer(text: str) -> int:  # text matched by _INT
        base = {"0x": 16, "0o": 8}.get(text[:2], 10)
        return int(text[2:] if base != 10 else text.replace("_", ""), base)

    def construct_int(loader: Any, node: Any) -> int:
        text = loader.construct_scalar(node)
        if not _INT.match(text):
            raise refuse(node, "an integer (YAML 1.2: decimal digits, 0o octal or 0x hexadecimal)")
        return integer(text)

    def construct_float(loader: Any, node: Any) -> float:
        text = loader.construct_scalar(node)
        if _INT.match(text):  # !!float 3, !!float 0x10
            return float(integer(text))
        if not _FLOAT.match(text):
            raise refuse(node, "a number")
        low = text.lower()
        if low.endswith(".inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        return float("nan") if low == ".nan" else float(low.replace("_", ""))

    Loader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    return Loader


def load_yaml(text: str, loader: type | None = None) -> Any:
    """The data of YAML ``text`` (``yaml.YAMLError`` when it is not valid or gives a key twice)."""
    import yaml

    return yaml.load(text, Loader=loader or yaml_loader())  # noqa: S506 - a SafeLoader subclass


@functools.cache
def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        """SafeDumper that quotes every string ``load_yaml`` would not read back as that string (PyYAML
        quotes for YAML 1.1, so ``1e3`` or ``0o10`` went out plain and came back as numbers)."""

    def represent_str(dumper: Any, value: str) -> Any:
        style = None
        try:
            if load_yaml(value) != value:
                style = "'"
        except yaml.YAMLError:
            pass  # not a plain scalar at all: PyYAML's own representer quotes it
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


def dump_yaml(data: Any, **options: Any) -> str:
    """YAML text of ``data`` that ``load_yaml`` reads back as ``data`` (``options`` go to ``yaml.dump``)."""
    import yaml

    return yaml.dump(data, Dumper=_dumper(), **options)


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The text of the UTF-8 file ``path``, without a leading byte-order mark (``what`` names it in errors:
    "sweep spec", "trace file", ...)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # the byte-order mark spreadsheets write first
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ValueError(f"{what} {str(path)!r} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} "
                         f"(offset {exc.start}); save it as UTF-8") from None
