"""The ``archgym`` command.

Exit codes: 0 success; 2 bad input (unknown env, design value outside its domain, malformed file or
option: the message names the field); 1 a failure while running; 130 interrupted (Ctrl-C), 143 by SIGTERM,
which every command takes as it takes Ctrl-C (collect and sweep keep what they have and say how to go on).

One module per group of commands: ``envs`` (list, evaluate), ``search`` (explore, optimum),
``sweeps`` (sweep, report), ``data`` (collect, dataset, proxy); ``common`` holds what they share.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from archgym.cli import data, envs, search, sweeps
from archgym.cli.common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, interrupted_by, sigterm_as_interrupt

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archgym",
        description="A gymnasium for ML-assisted accelerator design: environments, agents, sweeps.",
        epilog="Exit codes: 0 success, 2 bad input, 1 failure while running, 130 interrupted (143 by SIGTERM).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    envs.add_parsers(sub)
    search.add_parsers(sub)
    sweeps.add_parsers(sub)
    data.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; never a traceback for what a user typed or handed in.

    A ``ValueError`` (bad input; the message names the field) or an ``OSError`` on a file the user
    named exits 2; Ctrl-C exits 130. Anything else is a bug: one line saying so, exit 1, and the
    traceback only with ``ARCHGYM_DEBUG=1``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    python_format, warnings.formatwarning = warnings.formatwarning, _format_warning
    try:
        with sigterm_as_interrupt():
            return args.func(args)
    except ValueError as exc:
        print(f"archgym: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:  # a path the user gave: missing, a directory, not writable, disk full
        where = f": {exc.filename}" if exc.filename else ""
        print(f"archgym: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if isinstance(exc, SystemError) and isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            return _interrupted()  # Ctrl-C inside compiled code (a numba function) comes wrapped in a SystemError
        if os.environ.get("ARCHGYM_DEBUG"):
            raise
        print(f"archgym: internal error (a bug in archgym or a plug-in, please report it): "
              f"{type(exc).__name__}: {exc} (set ARCHGYM_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        warnings.formatwarning = python_format


def _interrupted() -> int:
    print("archgym: interrupted" + (" (SIGTERM)" if interrupted_by() == "SIGTERM" else ""), file=sys.stderr)
    return EXIT_INTERRUPTED[interrupted_by()]


_PYTHON_FORMAT_WARNING = warnings.formatwarning


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """archgym's own warnings as one line (``archgym: warning: ...``); others as Python formats them."""
    text = str(message)
    if text.startswith("archgym: "):
        return f"archgym: warning: {text.removeprefix('archgym: ')}\n"
    return _PYTHON_FORMAT_WARNING(message, category, filename, lineno, line)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
