"""What every ``archgym`` command shares: exit codes, ``KEY=VALUE`` options, env options, JSON output."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from archgym.io import json_default
from simulators.yamldata import load_yaml, read_text

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
#: exit codes of an interrupted command, as a shell reports them (128 + the signal number)
EXIT_INTERRUPTED = {"SIGINT": 130, "SIGTERM": 143}

_CAUGHT: list[str] = []  # the signals a command was interrupted by (``interrupted_by``)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM interrupts a command as Ctrl-C does (a ``KeyboardInterrupt``), so a killed ``collect`` or
    ``explore --log`` writes what it has and says how to go on; ``interrupted_by`` then names it."""
    _CAUGHT.clear()
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return

    def handler(signum: int, frame: Any) -> None:
        _CAUGHT.append("SIGTERM")
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_by() -> str:
    """The signal that interrupted the command (``SIGINT`` unless ``sigterm_as_interrupt`` caught a SIGTERM)."""
    return _CAUGHT[-1] if _CAUGHT else "SIGINT"


#: how every command's environment argument is described
ENV_HELP = ("environment id, e.g. archgym/Systolic-v0 (or Systolic-v0, systolic), a plug-in's id, or "
            "pkg.module:ns/Name-v0 (imports pkg.module first)")


def parse_assignments(pairs: Sequence[str] | None, what: str, *, yaml_values: bool = False) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}`` (values read as YAML when ``yaml_values``), with a
    clear error for a malformed pair or a key given twice."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key:
            raise ValueError(f"{what} must look like KEY=VALUE, got {pair!r}")
        if key in out:
            raise ValueError(f"{what} {key!r} given twice")
        if yaml_values and text:
            try:
                out[key] = load_yaml(text)
            except yaml.YAMLError as exc:
                raise ValueError(f"{what} {key!r}: cannot read {text!r} as a YAML value "
                                 f"({str(exc).splitlines()[0]})") from None
        else:
            out[key] = text
    return out


def path_arg(text: str) -> str:
    """The argparse ``type`` of every path argument: an empty path, which the file system reads as the
    current directory (writing a dataset or a model there), is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a path, got an empty string (write . for the current directory)")
    return text


def add_import_option(p: argparse.ArgumentParser) -> None:
    """``--import MODULE``: code named by data (a dataset's simulator, a run directory's spec, a proxy's
    env) is imported only from trusted modules; this imports one the user trusts, and those under it."""
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import this module (or package) first and let the data name it and the modules under it "
                        "(its code runs: only one you trust; repeatable)")


def allow_imports(args: argparse.Namespace) -> None:
    """Carry out ``--import`` (``add_import_option``)."""
    from archgym.registry import allow_modules

    allow_modules(getattr(args, "imports", None) or [])


def read_yaml_file(path: str, what: str) -> Any:
    """The data of a YAML file a user named (``ValueError`` for a missing, unreadable or unsafe file)."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{what} {path!r} is a directory, not a YAML file")
    if not p.is_file():
        raise ValueError(f"{what} {path!r} does not exist")
    try:
        return load_yaml(read_text(p, what))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} {path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def env_kwargs_from_args(args: argparse.Namespace, env_id: str) -> dict[str, Any]:
    """``--workload`` and ``-k KEY=VALUE`` (values read as YAML, so numbers and mappings work)."""
    from archgym.catalog import workload_keyword

    kwargs = parse_assignments(getattr(args, "kwarg", None), "environment keyword", yaml_values=True)
    workload = getattr(args, "workload", None)
    if workload is not None:
        key = workload_keyword(env_id)
        if key in kwargs:
            raise ValueError(f"the workload is given twice: --workload and -k {key}=...")
        kwargs[key] = workload
    return kwargs


def add_env_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workload", "-w", help="workload name or file (the env's workload/network keyword)")
    p.add_argument("--kwarg", "-k", action="append", metavar="KEY=VALUE",
                   help="an environment keyword for gym.make, value read as YAML (repeatable), e.g. "
                        "-k 'targets={latency: 0.002}'")


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=False, default=json_default))


def count_text(n: float) -> str:
    """A design count: exact up to 10^12, then in scientific notation."""
    if n == float("inf"):
        return "continuous"
    return f"{n:,}" if n < 10**12 else f"{n:.2e}"


def minimize(info: Mapping[str, Any], metric: str) -> bool:
    return next(m["direction"] for m in info["metrics"] if m["name"] == metric) == "minimize"
