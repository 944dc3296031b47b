"""The trees of XGBoost boosters walked by compiled code, for predictions of a handful of designs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from simulators.jit import filled, jit, loop_input

if TYPE_CHECKING:
    import xgboost

__all__ = ["TreeWalker"]

#: trees walked side by side: independent chains of loads the processor overlaps
LANES = 8


class TreeWalker:
    """The trees of several boosters in flat arrays, walked ``LANES`` trees at a time without branches.

    XGBoost's predictor costs a fraction of a millisecond per booster and call even for one row,
    which dominates one-design-at-a-time use (``env.step``). Here each tree is renumbered so that a
    node's right child follows its left child, a leaf is its own child with threshold +inf, and a
    step is ``node = left[node] + (x[feature[node]] >= threshold[node])``: XGBoost's ``x <
    threshold`` goes left, compared in float32 as XGBoost does. Trees are sorted by depth and walked
    in groups of ``LANES`` for their group's depth (a leaf stays put), tree-major so that a group's
    nodes stay in cache across rows. Features are never missing here (designs are validated), so
    XGBoost's default branches never apply. The intercept is read off XGBoost's own margin, and the
    margins agree with ``Booster.inplace_predict(..., predict_type="margin")`` to XGBoost's float32
    rounding (tested). Slower than XGBoost for many rows, where XGBoost is used.
    """

    def __init__(self, boosters: Sequence[xgboost.Booster], n_features: int) -> None:
        feat, thr, val, left, roots, owner, depth = [], [], [], [], [], [], []
        offset = 0
        for b, booster in enumerate(boosters):
            for tree in json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]:
                f, t, v, lc, d = _adjacent_children(tree)
                feat.append(f)
                thr.append(t)
                val.append(v)
                left.append(lc + offset)
                roots.append(offset)
                owner.append(b)
                depth.append(d)
                offset += len(lc)
        # a leaf of value 0 pads the last group
        feat.append(np.zeros(1, dtype=np.int64))
        thr.append(np.full(1, np.inf, dtype=np.float32))
        val.append(np.zeros(1))
        left.append(np.array([offset], dtype=np.int64))
        order = np.argsort(-np.asarray(depth, dtype=np.int64), kind="stable")
        pad = -len(order) % LANES
        self._roots = np.concatenate([np.asarray(roots, dtype=np.int64)[order], np.full(pad, offset, dtype=np.int64)])
        self._owner = np.concatenate([np.asarray(owner, dtype=np.int64)[order], np.zeros(pad, dtype=np.int64)])
        depths = np.concatenate([np.asarray(depth, dtype=np.int64)[order], np.zeros(pad, dtype=np.int64)])
        self._group_depth = depths.reshape(-1, LANES).max(axis=1) if len(depths) else np.zeros(0, dtype=np.int64)
        self._feat = np.concatenate(feat)
        self._thr = np.concatenate(thr)
        self._val = np.concatenate(val)
        self._left = np.concatenate(left)
        self.n_boosters = len(boosters)
        probe = np.zeros((1, n_features), dtype=np.float32)
        xgb_margin = np.array([float(b.inplace_predict(probe, predict_type="margin")[0]) for b in boosters])
        self._intercept = xgb_margin - self._sum_leaves(probe)[0]

    def _sum_leaves(self, features: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(features, dtype=np.float32)
        arrays = (self._feat, self._thr, self._val, self._left, self._roots, self._owner, self._group_depth, x)
        out = _walk(*(loop_input(a) for a in arrays), self.n_boosters)
        return np.asarray(out, dtype=np.float64).reshape(len(x), self.n_boosters)

    def margins(self, features: np.ndarray) -> np.ndarray:
        """``(rows, boosters)`` margins (the regressors' predictions before the inverse transform)."""
        return self._sum_leaves(features) + self._intercept


def _adjacent_children(tree: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """One XGBoost tree renumbered breadth first, so that every right child is its left child + 1:
    (feature, threshold, leaf value, left child, depth), leaves their own children with threshold +inf."""
    lc, rc = tree["left_children"], tree["right_children"]
    order, depth_of = [0], {0: 0}
    for node in order:  # breadth first; grows while it is read
        if lc[node] >= 0:
            order += [lc[node], rc[node]]
            depth_of[lc[node]] = depth_of[rc[node]] = depth_of[node] + 1
    new = {old: i for i, old in enumerate(order)}
    n = len(order)
    feat = np.zeros(n, dtype=np.int64)
    thr = np.full(n, np.inf, dtype=np.float32)
    val = np.zeros(n)
    left = np.arange(n, dtype=np.int64)
    split_feat, split_cond = tree["split_indices"], np.asarray(tree["split_conditions"], dtype=np.float32)
    for old, i in new.items():
        if lc[old] >= 0:
            feat[i] = split_feat[old]
            thr[i] = split_cond[old]
            left[i] = new[lc[old]]
        else:
            val[i] = split_cond[old]  # a leaf's "split condition" is its value
    return feat, thr, val, left, max(depth_of.values())


@jit
def _walk(feat, thr, val, left, roots, owner, group_depth, x, n_boosters):
    """Per row, the sum of each booster's leaves reached by that row (row-major, rows x boosters)."""
    n_rows = len(x)
    out = filled(n_rows * n_boosters, 0.0)
    nodes = filled(LANES, 0)
    for g in range(len(group_depth)):
        first = g * LANES
        for i in range(n_rows):
            row = x[i]
            for k in range(LANES):
                nodes[k] = roots[first + k]
            for _ in range(group_depth[g]):
                for k in range(LANES):
                    nd = nodes[k]
                    nodes[k] = left[nd] + (row[feat[nd]] >= thr[nd])
            base = i * n_boosters
            for k in range(LANES):
                out[base + owner[first + k]] += val[nodes[k]]
    return out
