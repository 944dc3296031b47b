"""Closed-form cost of one GEMM on a systolic array, exact to SCALE-Sim 3.0.0 where it is stall-free.

One formula serves both callers: plain Python ints (``simulate_gemm``, a few microseconds per layer)
and numpy arrays broadcast over designs x layers (``SystolicSimulator.evaluate_batch``). Helpers
``gemm_cost`` picks ``max``/``np.maximum`` (and friends) by argument type, so the arithmetic is
written once.

Mapping of ``O[M, N] = I[M, K] x W[K, N]`` onto an ``R x C`` array (SCALE-Sim's conventions):

============  ===========  ===========  ==========  ============================
dataflow      on rows      on cols      streamed    cycles per fold
============  ===========  ===========  ==========  ============================
``os``        M (outputs)  N            K           ``K + R + C - 2``
``ws``        K (weights)  N            M           ``2R + C + M - 2``
``is``        K (inputs)   M            N           ``2R + C + N - 2``
============  ===========  ===========  ==========  ============================

``folds = ceil(rows_dim / R) * ceil(cols_dim / C)``; folds run back to back without overlap, and the
compute-cycle figure is ``folds * cycles_per_fold - 1`` (SCALE-Sim reports the zero-based index of the
last output write; we keep its convention so the numbers compare one to one).

SRAM traffic (words) is SCALE-Sim's, including its output-stationary bookkeeping of ``R + C`` extra
OFMAP writes per fold. SCALE-Sim's OFMAP SRAM is a drain buffer, not an accumulator: in ``ws``/``is``
each of the ``ceil(K / R)`` partial sums of an output is written out (and to DRAM).

DRAM traffic: each operand is double buffered, so half of its SRAM is the active buffer. The loop
order is column folds outside, row folds inside. An operand slice reused across column folds is
re-read from DRAM at every column fold unless the whole operand fits in its active buffer (IFMAP in
``os``/``ws``, FILTER in ``is``); the ``os`` filter slice of one column fold is re-read at every row
fold when it does not fit. Otherwise an operand is read once.

Stalls for a DRAM interface of ``B`` words per cycle: the first fold's operands must arrive before
compute starts (fill), the last fold's outputs drain after it ends, and all other traffic overlaps
compute through double buffering, stalling only when it needs more than the compute time:
``stall = fill + drain + max(0, (traffic - fill_words - drain_words) / B - compute)``.
So ``total >= traffic / B`` and ``total >= compute``, and the stall vanishes as ``B`` grows.
"""

from __future__ import annotations

import math

import numpy as np

DATAFLOWS = ("os", "ws", "is")
OS, WS, IS = 0, 1, 2


def _pick(cond, a, b):
    return a if cond else b


# (maximum, minimum, where, ceil) for plain Python numbers and for numpy arrays
_SCALAR_OPS = (max, min, _pick, math.ceil)
_ARRAY_OPS = (np.maximum, np.minimum, np.where, np.ceil)


def _ceil_div(a, b):
    return -(-a // b)


def gemm_cost(m, n, k, rows, cols, dataflow, ifmap_words, filter_words, ofmap_words, bandwidth=None):
    """All counts for ``O[m, n] = I[m, k] x W[k, n]`` on a ``rows x cols`` array.

    ``dataflow`` is a code (``OS``/``WS``/``IS``); ``*_words`` are SRAM capacities in words;
    ``bandwidth`` is DRAM words per cycle (``None``: unlimited, no stalls). Arguments may be Python
    numbers or broadcastable numpy arrays. Returns a dict of counts (cycles and words).
    """
    arrays = any(isinstance(x, np.ndarray) for x in (m, n, k, rows, cols, dataflow, ifmap_words, filter_words,
                                                      ofmap_words, bandwidth))
    _maximum, _minimum, _where, _ceil = _ARRAY_OPS if arrays else _SCALAR_OPS
    is_os = dataflow == OS
    # The array dimension each GEMM dimension lands on (see the module table).
    rows_dim = _where(is_os, m, k)
    cols_dim = _where(is_os, n, _where(dataflow == WS, n, m))
    stream = _where(is_os, k, _where(dataflow == WS, m, n))

    row_folds = _ceil_div(rows_dim, rows)
    col_folds = _ceil_div(cols_dim, cols)
    folds = row_folds * col_folds
    per_fold = stream + rows + cols - 2 + _where(is_os, 0, rows)
    compute = folds * per_fold - 1

    macs = m * n * k
    ifmap_elems, filter_elems, outputs = m * k, k * n, m * n

    # SRAM reads/writes (SCALE-Sim's counts)
    sram_ifmap = _where(dataflow == IS, ifmap_elems, ifmap_elems * col_folds)
    sram_filter = _where(is_os, filter_elems * row_folds,
                         _where(dataflow == WS, filter_elems, filter_elems * col_folds))
    sram_ofmap = _where(is_os, outputs + (rows + cols) * folds, outputs * row_folds)

    # DRAM traffic: compulsory, plus re-fetch of an operand that does not fit its active half-buffer.
    ifmap_fits = ifmap_elems * 2 <= ifmap_words
    filter_fits = filter_elems * 2 <= filter_words
    os_slice_fits = k * _minimum(cols, n) * 2 <= filter_words
    dram_ifmap = _where(dataflow == IS, ifmap_elems, _where(ifmap_fits, ifmap_elems, ifmap_elems * col_folds))
    dram_filter = _where(
        is_os,
        _where(os_slice_fits, filter_elems, filter_elems * row_folds),
        _where(dataflow == WS, filter_elems, _where(filter_fits, filter_elems, filter_elems * col_folds)),
    )
    dram_ofmap = _where(is_os, outputs, outputs * row_folds)

    result = {
        "compute_cycles": compute,
        "row_folds": row_folds,
        "col_folds": col_folds,
        "folds": folds,
        "cycles_per_fold": per_fold,
        "macs": macs,
        "mapped_rows": rows_dim,
        "mapped_cols": cols_dim,
        "sram_ifmap_reads": sram_ifmap,
        "sram_filter_reads": sram_filter,
        "sram_ofmap_writes": sram_ofmap,
        "dram_ifmap_reads": dram_ifmap,
        "dram_filter_reads": dram_filter,
        "dram_ofmap_writes": dram_ofmap,
    }

    if bandwidth is None:
        stall = np.zeros_like(compute) if arrays else 0
    else:
        used_rows = _minimum(rows, rows_dim)
        used_cols = _minimum(cols, cols_dim)
        fill = _where(is_os, used_rows * stream + stream * used_cols, used_rows * used_cols + used_rows * stream)
        drain = _where(is_os, used_rows * used_cols, stream * used_cols)
        traffic = dram_ifmap + dram_filter + dram_ofmap
        overlapped = _maximum(0, (traffic - fill - drain) / bandwidth - compute)
        stall = _ceil((fill + drain) / bandwidth + overlapped)
        if arrays:
            stall = stall.astype(np.int64)
    result["stall_cycles"] = stall
    result["total_cycles"] = compute + stall
    return result
