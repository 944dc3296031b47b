"""numba compilation of the hot loops (the DRAM controller, the proxy's tree walk), with an on-disk cache
that works wherever the package lives.

``jit(fn)`` returns ``fn`` compiled by ``numba.njit`` (machine code, GIL released) or, when numba is
missing or ``NUMBA_DISABLE_JIT=1`` is set, ``fn`` itself: the same source then runs as plain Python,
which is how a coverage run sees the loops' lines, only slower (see docs/envs/dram.md).

Compiled code is cached on disk (``cache=True``) so a fresh process loads it instead of compiling
again. numba keeps the cache next to the source (``__pycache__``) when that is writable, else in the
user's cache directory (``~/.cache/numba``), or under ``NUMBA_CACHE_DIR`` when set. When none of
these can be written (a read-only site-packages and a read-only home), the cache goes to a folder of
the temporary directory; failing that, the functions are compiled in every process, uncached.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

try:  # a core dependency; a broken install still gets a working (slow) controller
    import numba
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None

__all__ = ["COMPILED", "filled", "jit", "loop_input"]

#: True when the loops run as machine code (numba importable and the JIT not disabled)
COMPILED = numba is not None and not numba.config.DISABLE_JIT

if numba is None:  # pragma: no cover
    warnings.warn("numba is not installed: the DRAM controller and the proxy's tree walk run as plain Python, "
                  "tens of times slower (pip install numba)", RuntimeWarning, stacklevel=2)


#: ``filled(n, value)`` inside a jitted loop: a numpy array when compiled, a list for plain Python
filled = np.full if COMPILED else (lambda n, value: [value] * n)


def loop_input(a: Any) -> Any:
    """An argument for a jitted loop: ``a`` itself when compiled, a list for plain Python (which
    indexes lists several times faster than numpy arrays)."""
    return a if COMPILED or not isinstance(a, np.ndarray) else a.tolist()


def _fallback_cache_dir() -> str:
    return os.path.join(tempfile.gettempdir(), f"archgym-numba-{os.getuid() if hasattr(os, 'getuid') else 'user'}")


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled (nopython, GIL released, cached on disk) when numba is available, else ``fn`` itself."""
    if not COMPILED:
        return fn
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # numba found no writable cache location
        pass
    if not numba.config.CACHE_DIR:
        numba.config.CACHE_DIR = _fallback_cache_dir()
        try:
            return numba.njit(cache=True, nogil=True)(fn)
        except (RuntimeError, OSError):
            pass
    return numba.njit(nogil=True)(fn)
