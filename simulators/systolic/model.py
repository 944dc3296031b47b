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

Two traffic accountings share these compute cycles (``traffic``):

``"reuse"`` (the default) is what a weight-/output-stationary array with operand buffers does. Of the
three operands one is *stationary* in the PEs (outputs in ``os``, weights in ``ws``, inputs in ``is``).
The *row operand* (inputs in ``os``/``ws``, weights in ``is``) depends on the row fold and is reused
across column folds; the *column operand* (weights in ``os``, outputs in ``ws``/``is``) depends on the
column fold and is reused across row folds. A mapping is a fold order and a tiling of the streamed
dimension:

- the fold order runs column folds in blocks of ``fold_block``, row folds inside a block, blocks
  outermost. A block of 1 is SCALE-Sim's order (column folds outside): the row operand's reuse set is
  all of it, the column operand's one column fold's slice. A block of all column folds puts row folds
  outside: the row operand's set is one row fold's slice, the column operand's all of it. In between,
  the row operand's slice serves the block and all of it is visited once per block;
- in ``ws``/``is`` the streamed dimension may be cut into ``t`` tiles run one after the other (tile loop
  outermost), so that a tile's reuse sets fit their buffers; the stationary operand is then loaded into
  the array once per tile, and each extra tile repeats every fold's fill and drain, ``(t - 1) x folds x
  (2R + C - 2)`` *refill* cycles (``os`` streams the reduction, whose tiles would turn its outputs into
  partial sums: it is never tiled).

A reuse set that fits its buffer stays on chip: a whole operand may fill its SRAM, a slice gets the
active half (the other half takes the next slice); of a set that does not fit, the part the active half
holds stays and the rest is fetched again on every later visit. Outputs in ``ws``/``is`` accumulate in
the output SRAM (a read and a write per partial sum after the first); the part of the accumulating set
that does not fit spills to DRAM and is read back. Output-stationary outputs are written once (``M N``).
The mapper tries seven mappings: column folds in blocks of one (SCALE-Sim's order), of all of them (row
folds outside) and of as many as fit, untiled; and blocks of one and of all with the stream tile that
fits both the row and column operands' sets and with the one that fits the column operand's alone. It
keeps the one of least energy x (compute + refill) cycles for the GEMM (energy from ``unit_energies``),
the first of equals (SCALE-Sim's order, untiled); the choice does not depend on the DRAM bandwidth,
so more bandwidth never makes a layer slower. Compute cycles are SCALE-Sim's either way: refill
cycles are reported apart (``refill_cycles``) and count in ``total_cycles``.

``"scalesim"`` is SCALE-Sim 3.0.0's accounting, kept for comparison with it: column folds outside, no
tiling, its SRAM counts (including its output-stationary bookkeeping of ``R + C`` extra OFMAP writes per
fold), the OFMAP SRAM a drain buffer, not an accumulator (in ``ws``/``is`` each of the ``ceil(K / R)``
partial sums of an output is written out, and to DRAM), and an operand re-read at every column fold
unless the whole of it fits its active half-buffer (IFMAP in ``os``/``ws``, FILTER in ``is``; the ``os``
filter slice of one column fold is re-read at every row fold when it does not fit).

Stalls for a DRAM interface of ``B`` words per cycle: the first fold's operands must arrive before
compute starts (fill), the last fold's outputs drain after it ends, and all other traffic overlaps
compute through double buffering, stalling only when it needs more than the compute time:
``stall = (fill + drain) / B + max(0, (traffic - fill - drain) / B - compute - refill)``, with every
DRAM word in ``traffic`` (spilled partial sums both ways).
So ``total >= traffic / B`` and ``total >= compute``, and the stall vanishes as ``B`` grows.
"""

from __future__ import annotations

import math

import numpy as np

from simulators import tech

DATAFLOWS = ("os", "ws", "is")
OS, WS, IS = 0, 1, 2
TRAFFIC = ("reuse", "scalesim")


def _pick(cond, a, b):
    return a if cond else b


# (maximum, minimum, where, ceil) for plain Python numbers and for numpy arrays
_SCALAR_OPS = (max, min, _pick, math.ceil)
_ARRAY_OPS = (np.maximum, np.minimum, np.where, np.ceil)


def _ceil_div(a, b):
    return -(-a // b)


class _Gemm:
    """The mapping-independent quantities of one GEMM on one array (scalars or broadcast arrays)."""

    def __init__(self, m, n, k, rows, cols, dataflow, ifmap_words, filter_words, ofmap_words, arrays):
        self.ops = _ARRAY_OPS if arrays else _SCALAR_OPS
        self.arrays = arrays
        _maximum, _minimum, _where, _ceil = self.ops
        self.rows, self.cols, self.dataflow = rows, cols, dataflow
        self.is_os, self.is_ws, self.is_is = dataflow == OS, dataflow == WS, dataflow == IS
        # The array dimension each GEMM dimension lands on (see the module table).
        self.rows_dim = _where(self.is_os, m, k)
        self.cols_dim = _where(self.is_os, n, _where(self.is_ws, n, m))
        self.stream = _where(self.is_os, k, _where(self.is_ws, m, n))
        self.row_folds = _ceil_div(self.rows_dim, rows)
        self.col_folds = _ceil_div(self.cols_dim, cols)
        self.folds = self.row_folds * self.col_folds
        self.overhead = rows + cols - 2 + _where(self.is_os, 0, rows)  # per-fold cycles beyond the stream
        self.per_fold = self.stream + self.overhead
        self.compute = self.folds * self.per_fold - 1
        self.used_rows = _minimum(rows, self.rows_dim)
        self.used_cols = _minimum(cols, self.cols_dim)
        self.ifmap_elems, self.filter_elems, self.outputs = m * k, k * n, m * n
        self.macs = m * n * k
        self.ifmap_words, self.filter_words, self.ofmap_words = ifmap_words, filter_words, ofmap_words


def unit_energies(ifmap_kb, filter_kb, ofmap_kb, bits, dram_pj_per_bit):
    """Energy in pJ of one MAC and of one word read from or written to each SRAM and moved over DRAM
    (``simulators.tech``: Horowitz MACs, CACTI 45 nm SRAMs); arguments may be numpy arrays."""
    units = {"mac": tech.mac_energy_pj(bits), "dram": dram_pj_per_bit * bits}
    for op, kb in (("ifmap", ifmap_kb), ("filter", filter_kb), ("ofmap", ofmap_kb)):
        units[f"{op}_read"] = tech.sram_read_pj(kb, bits)
        units[f"{op}_write"] = tech.sram_write_pj(kb, bits)
    return units


def dram_words(counts):
    """Every word crossing the DRAM interface, spilled partial sums both ways."""
    return (counts["dram_ifmap_reads"] + counts["dram_filter_reads"] + counts["dram_ofmap_writes"]
            + counts["dram_ofmap_reads"])


def energy_pj(counts, units):
    """MAC, SRAM and DRAM energy (pJ) of a GEMM's counts. Every DRAM word is also written into (or read
    out of) its SRAM once; accumulating partial sums are read and written in the output SRAM."""
    reads = {"ifmap": counts["sram_ifmap_reads"], "filter": counts["sram_filter_reads"],
             "ofmap": counts["sram_ofmap_reads"] + counts["dram_ofmap_writes"]}
    writes = {"ifmap": counts["dram_ifmap_reads"], "filter": counts["dram_filter_reads"],
              "ofmap": counts["sram_ofmap_writes"] + counts["dram_ofmap_reads"]}
    return {
        "mac": counts["macs"] * units["mac"],
        "sram": sum(reads[op] * units[f"{op}_read"] + writes[op] * units[f"{op}_write"] for op in reads),
        "dram": dram_words(counts) * units["dram"],
    }


def gemm_cost(m, n, k, rows, cols, dataflow, ifmap_words, filter_words, ofmap_words, units, bandwidth=None,
              traffic="reuse"):
    """All counts for ``O[m, n] = I[m, k] x W[k, n]`` on a ``rows x cols`` array.

    ``dataflow`` is a code (``OS``/``WS``/``IS``); ``*_words`` are SRAM capacities in words; ``units``
    the unit energies (``unit_energies``); ``bandwidth`` is DRAM words per cycle (``None``: unlimited,
    no stalls); ``traffic`` is ``"reuse"`` or ``"scalesim"`` (see the module docstring). Arguments other
    than ``traffic`` may be Python numbers or broadcastable numpy arrays. Returns a dict of counts
    (cycles and words) and ``energy_pj``, the energy breakdown of the chosen mapping.
    """
    return with_stalls(gemm_mapping(m, n, k, rows, cols, dataflow, ifmap_words, filter_words, ofmap_words, units,
                                    traffic), bandwidth)


def gemm_mapping(m, n, k, rows, cols, dataflow, ifmap_words, filter_words, ofmap_words, units, traffic="reuse"):
    """``gemm_cost`` but for the DRAM interface: the GEMM's counts under the mapping the mapper picks.

    The mapper keeps the candidate of least energy x (compute + refill) cycles, the first of equals
    (SCALE-Sim's order, untiled), so its choice does not depend on the DRAM bandwidth: more bandwidth
    never makes a layer slower, and designs that differ only in their DRAM interface share this half
    (``with_stalls`` finishes it)."""
    arrays = any(isinstance(x, np.ndarray) for x in (m, n, k, rows, cols, dataflow, ifmap_words, filter_words,
                                                      ofmap_words))
    g = _Gemm(m, n, k, rows, cols, dataflow, ifmap_words, filter_words, ofmap_words, arrays)
    if traffic == "scalesim":
        mappings = [(None, None)]
    elif traffic == "reuse":
        mappings = _reuse_mappings(g)
    else:
        raise ValueError(f"traffic must be one of {list(TRAFFIC)}, got {traffic!r}")
    if not arrays:
        mappings = list(dict.fromkeys(mappings))  # the same mapping twice (e.g. one column fold) costs once
    elif len(mappings) > 1:  # all candidates at once, on a leading axis
        shape = np.broadcast_shapes(g.compute.shape, *(np.shape(x) for pair in mappings for x in pair))
        mappings = [tuple(np.stack([np.broadcast_to(pair[i], shape) for pair in mappings]) for i in (0, 1))]
    shared = _reuse_shared(g) if traffic == "reuse" else None
    _maximum, _minimum, _where, _ceil = g.ops
    best, best_cost = None, None
    for block, tiles in mappings:
        counts = _scalesim_traffic(g) if traffic == "scalesim" else _reuse_traffic(g, shared, block, tiles)
        tile = counts.pop("stream_tile")
        counts["macs"] = g.macs
        counts["energy_pj"] = energy_pj(counts, units)
        energy = counts["energy_pj"]["mac"] + counts["energy_pj"]["sram"] + counts["energy_pj"]["dram"]
        cost = energy * (g.compute + counts["refill_cycles"])  # the mapper's objective: energy x delay
        # the first fold's operands arrive before compute starts, the last fold's outputs drain after it
        fill = _where(g.is_os, g.used_rows * tile + tile * g.used_cols, g.used_rows * g.used_cols + g.used_rows * tile)
        drain = _where(g.is_os, g.used_rows * g.used_cols, tile * g.used_cols)
        counts["edge_words"] = fill + drain
        if arrays and np.ndim(block) > np.ndim(g.compute):  # stacked candidates: pick per element
            each = cost[0].size  # elements per candidate; the chosen candidate's flat positions:
            chosen = np.argmin(cost, axis=0).reshape(-1) * each + np.arange(each)
            def take(x, chosen=chosen, shape=cost.shape):
                if np.ndim(x) < len(shape):  # the same under every candidate
                    return x
                return np.ascontiguousarray(np.broadcast_to(x, shape)).reshape(-1)[chosen].reshape(shape[1:])
            best = {key: take(v) for key, v in counts.items() if key != "energy_pj"}
            best["energy_pj"] = {key: take(v) for key, v in counts["energy_pj"].items()}
        elif best_cost is None or cost < best_cost:
            best, best_cost = counts, cost
    if arrays:
        best = {key: v if key == "energy_pj" else np.asarray(v).astype(np.int64) for key, v in best.items()}
    best["dram_words"] = dram_words(best)
    return {
        "compute_cycles": g.compute,
        "row_folds": g.row_folds,
        "col_folds": g.col_folds,
        "folds": g.folds,
        "cycles_per_fold": g.per_fold,
        "mapped_rows": g.rows_dim,
        "mapped_cols": g.cols_dim,
        **best,
    }


def with_stalls(counts, bandwidth=None):
    """Add ``stall_cycles`` and ``total_cycles`` for a DRAM interface of ``bandwidth`` words per cycle
    (``None``: unlimited) to the counts of ``gemm_mapping``."""
    compute, refill = counts["compute_cycles"], counts["refill_cycles"]
    arrays = isinstance(refill, np.ndarray) or isinstance(bandwidth, np.ndarray)
    if bandwidth is None:
        stall = np.zeros_like(refill) if arrays else 0
    else:
        edge = counts["edge_words"]
        late = (counts["dram_words"] - edge) / bandwidth - compute - refill
        if arrays:
            stall = np.ceil(edge / bandwidth + np.maximum(0, late)).astype(np.int64)
        else:
            stall = math.ceil(edge / bandwidth + max(0, late))
    return {**counts, "stall_cycles": stall, "total_cycles": compute + refill + stall}


def _array_reads(g, tiles):
    """SRAM reads into the array: the row operand once per column fold, the column operand once per row
    fold, the stationary operand once per stream tile."""
    _maximum, _minimum, _where, _ceil = g.ops
    return {
        "sram_ifmap_reads": _where(g.is_is, g.ifmap_elems * tiles, g.ifmap_elems * g.col_folds),
        "sram_filter_reads": _where(g.is_os, g.filter_elems * g.row_folds,
                                    _where(g.is_ws, g.filter_elems * tiles, g.filter_elems * g.col_folds)),
    }


def _scalesim_traffic(g):
    """SCALE-Sim 3.0.0's OFMAP SRAM writes and DRAM traffic (column folds outside, drain-buffer OFMAP)."""
    _maximum, _minimum, _where, _ceil = g.ops
    ifmap_fits = g.ifmap_elems * 2 <= g.ifmap_words
    filter_fits = g.filter_elems * 2 <= g.filter_words
    os_slice_fits = g.stream * g.used_cols * 2 <= g.filter_words
    zero = 0 * g.outputs
    return {
        **_array_reads(g, 1),
        "sram_ofmap_writes": _where(g.is_os, g.outputs + (g.rows + g.cols) * g.folds, g.outputs * g.row_folds),
        "sram_ofmap_reads": zero,
        "dram_ifmap_reads": _where(g.is_is, g.ifmap_elems,
                                   _where(ifmap_fits, g.ifmap_elems, g.ifmap_elems * g.col_folds)),
        "dram_filter_reads": _where(
            g.is_os,
            _where(os_slice_fits, g.filter_elems, g.filter_elems * g.row_folds),
            _where(g.is_ws, g.filter_elems, _where(filter_fits, g.filter_elems, g.filter_elems * g.col_folds)),
        ),
        "dram_ofmap_writes": _where(g.is_os, g.outputs, g.outputs * g.row_folds),
        "dram_ofmap_reads": zero,
        "fold_block": zero + 1,
        "stream_tiles": zero + 1,
        "refill_cycles": zero,
        "stream_tile": g.stream,
    }


def _kept(g, reuse_set, whole, capacity):
    """Fraction of a reuse set that stays in a buffer of ``capacity`` words between visits.

    A set that is the whole operand may fill the SRAM (nothing else of the operand needs the space);
    otherwise the active half holds what it can and the other half streams the rest."""
    _maximum, _minimum, _where, _ceil = g.ops
    half = capacity // 2
    fits = (reuse_set <= half) | ((reuse_set >= whole) & (whole <= capacity))
    return _where(fits, 1.0, half / _maximum(reuse_set, 1))


def _refetched(g, total, visits, kept):
    """Words read from DRAM for an operand of ``total`` words visited ``visits`` times."""
    return g.ops[3](total + (visits - 1) * total * (1 - kept))


def _reuse_mappings(g):
    """The mappings the reuse accounting chooses from, as ``(fold block, stream tiles)`` pairs (see the
    module docstring); the first is SCALE-Sim's order, untiled."""
    _maximum, _minimum, _where, _ceil = g.ops
    row_half = _where(g.is_is, g.filter_words, g.ifmap_words) // 2  # active halves of the row and column
    col_half = _where(g.is_os, g.filter_words, g.ofmap_words) // 2  # operands' buffers
    # the largest block of column folds whose column-operand set fits, streaming everything
    fit_block = _minimum(g.col_folds, _maximum(1, col_half // _maximum(1, g.used_cols * g.stream)))
    mappings = [(1, 1), (g.col_folds, 1), (fit_block, 1)]
    for block in (1, g.col_folds):
        col_per = _minimum(block * g.cols, g.cols_dim)  # column-operand set per stream element
        row_per = _where(block == g.col_folds, g.used_rows, g.rows_dim)  # the row operand's, likewise
        for tile in (_minimum(row_half // row_per, col_half // col_per), col_half // col_per):
            tile = _minimum(g.stream, _maximum(1, tile))
            mappings.append((block, _where(g.is_os, 1, _ceil_div(g.stream, tile))))
    return mappings


def _reuse_shared(g):
    """What every reuse mapping of ``g`` shares."""
    _maximum, _minimum, _where, _ceil = g.ops
    stationary = _where(g.is_os, g.outputs, _where(g.is_ws, g.filter_elems, g.ifmap_elems))
    stationary_words = _where(g.is_ws, g.filter_words, g.ifmap_words)
    return {
        "row_total": g.rows_dim * g.stream,  # the row operand: inputs (os, ws) or weights (is)
        "col_total": g.cols_dim * g.stream,  # the column operand: weights (os) or outputs (ws, is)
        "row_words": _where(g.is_is, g.filter_words, g.ifmap_words),
        "col_words": _where(g.is_os, g.filter_words, g.ofmap_words),
        # the stationary operand (outputs in os, weights in ws, inputs in is): loaded once per stream tile
        "stationary": stationary,
        "stationary_kept": _where(g.is_os, 1.0, _kept(g, stationary, stationary, stationary_words)),
        "psums": _where(g.is_os, 0, g.outputs * (g.row_folds - 1)),  # accumulation read-modify-writes
    }


def _reuse_traffic(g, shared, block, tiles):
    """Counts of one mapping: column folds in blocks of ``block`` (row folds inside a block) and the
    streamed dimension in ``tiles`` tiles (the tile loop outermost)."""
    _maximum, _minimum, _where, _ceil = g.ops
    tile = _ceil_div(g.stream, tiles)
    blocks = _ceil_div(g.col_folds, block)
    row_total, col_total, psums = shared["row_total"], shared["col_total"], shared["psums"]
    # The row operand: a row fold's slice serves the block's column folds, and all of it every block.
    within = _kept(g, g.used_rows * tile, row_total, shared["row_words"])
    across = _kept(g, g.rows_dim * tile, row_total, shared["row_words"])
    row_dram = _ceil(row_total * (1 + (block - 1) * (1 - within)) * (1 + (blocks - 1) * (1 - across)))
    # The column operand: a block's columns are reused (os) or accumulated (ws, is) across the row folds.
    col_kept = _kept(g, _minimum(block * g.cols, g.cols_dim) * tile, col_total, shared["col_words"])
    spilled = _where(g.is_os, 0, _ceil((g.row_folds - 1) * col_total * (1 - col_kept)))
    col_dram = _where(g.is_os, _refetched(g, col_total, g.row_folds, col_kept), col_total + spilled)
    stationary_dram = _refetched(g, shared["stationary"], tiles, shared["stationary_kept"])
    return {
        **_array_reads(g, tiles),
        "sram_ofmap_writes": g.outputs + psums,
        "sram_ofmap_reads": psums,
        "dram_ifmap_reads": _where(g.is_is, stationary_dram, row_dram),
        "dram_filter_reads": _where(g.is_os, col_dram, _where(g.is_ws, stationary_dram, row_dram)),
        "dram_ofmap_writes": _where(g.is_os, stationary_dram, col_dram),
        "dram_ofmap_reads": spilled,
        "fold_block": 0 * g.outputs + block,
        "stream_tiles": tiles,
        "refill_cycles": (tiles - 1) * g.folds * g.overhead,
        "stream_tile": tile,
    }
