"""The trees of XGBoost boosters walked in numpy, for predictions of a handful of designs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xgboost

__all__ = ["TreeWalker"]


class TreeWalker:
    """The trees of several boosters as complete binary trees in numpy arrays, walked together.

    XGBoost's predictor costs about a millisecond per booster and call even for one row, which
    dominates one-design-at-a-time use (``env.step``); walking every tree at once in numpy is an
    order of magnitude faster for a handful of rows (and slower for many, where XGBoost is used).

    Each tree is laid out as a complete tree of its booster's depth (a leaf above the bottom is
    copied into every position below it), so a walk is ``depth`` steps of ``i -> 2 i + 1 + right``
    for all trees of that depth at once. A split is XGBoost's ``x < threshold`` goes left; the
    distinct (feature, threshold) conditions are evaluated once per row. Features are never missing
    here (designs are validated), so XGBoost's default branches never apply. The intercept is read
    off XGBoost's own margin, and the margins agree with ``Booster.inplace_predict(...,
    predict_type="margin")`` to XGBoost's float32 rounding (tested).
    """

    MAX_NODES = 1 << 23  # trees x 2**depth above this: too deep to lay out, XGBoost predicts instead

    def __init__(self, boosters: Sequence[xgboost.Booster], n_features: int) -> None:
        feat, split, left, right, roots, owner = [], [], [], [], [], []
        offset = 0
        for b, booster in enumerate(boosters):
            trees = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
            for tree in trees:
                lc = np.asarray(tree["left_children"], dtype=np.intp)
                rc = np.asarray(tree["right_children"], dtype=np.intp)
                leaf = lc < 0
                ids = np.arange(len(lc))
                roots.append(offset)
                owner.append(b)
                left.append(np.where(leaf, ids, lc) + offset)  # a leaf is its own child; its "split" is its value
                right.append(np.where(leaf, ids, rc) + offset)
                feat.append(np.where(leaf, -1, np.asarray(tree["split_indices"], dtype=np.intp)))
                split.append(np.asarray(tree["split_conditions"], dtype=np.float32))
                offset += len(lc)
        self._feat, self._split = np.concatenate(feat), np.concatenate(split)
        self._left, self._right = np.concatenate(left), np.concatenate(right)
        inner = self._feat >= 0
        pairs, inverse = np.unique(np.stack([self._feat[inner], self._split[inner].astype(np.float64)], axis=1),
                                   axis=0, return_inverse=True)
        self._cond_feat = pairs[:, 0].astype(np.intp)
        self._cond_split = pairs[:, 1].astype(np.float32)
        self._cond = np.full(len(self._feat), len(pairs), dtype=np.intp)  # len(pairs): "go left", copied leaves
        self._cond[inner] = inverse.ravel()
        self.n_boosters = len(boosters)
        roots_a, owner_a = np.asarray(roots, dtype=np.intp), np.asarray(owner, dtype=np.intp)
        depth = self._depths(roots_a)
        booster_depth = np.zeros(len(boosters), dtype=np.intp)
        np.maximum.at(booster_depth, owner_a, depth)
        self.usable = bool(np.sum(2 ** booster_depth[owner_a].astype(np.float64)) <= self.MAX_NODES)
        if not self.usable:
            return
        self._groups = [self._layout(roots_a[booster_depth[owner_a] == d], owner_a[booster_depth[owner_a] == d], d)
                        for d in np.unique(booster_depth[owner_a]).tolist()]
        probe = np.zeros((1, n_features), dtype=np.float32)
        xgb_margin = np.array([float(b.inplace_predict(probe, predict_type="margin")[0]) for b in boosters])
        self._intercept = xgb_margin - self._sum_leaves(probe)[0]

    def _depths(self, roots: np.ndarray) -> np.ndarray:
        """Depth of each tree (0 for a lone leaf), level by level over all trees at once."""
        depth = np.zeros(len(roots), dtype=np.intp)
        frontier, tree = roots, np.arange(len(roots))
        level = 0
        while frontier.size:
            split_here = self._feat[frontier] >= 0
            frontier, tree = frontier[split_here], tree[split_here]
            level += 1
            depth[tree] = level
            frontier, tree = np.concatenate([self._left[frontier], self._right[frontier]]), np.concatenate([tree, tree])
        return depth

    def _layout(self, roots: np.ndarray, owner: np.ndarray, depth: int) -> dict[str, Any]:
        """Complete-tree tables for trees of at most ``depth`` levels (trees grouped by booster, in order)."""
        level = roots[:, None]  # the original node at each position of the current level
        conds = []
        for _ in range(depth):
            is_leaf = self._feat[level] < 0
            conds.append(self._cond[level])  # a copied leaf's condition is "go left": both children are itself
            below = np.empty((len(roots), level.shape[1] * 2), dtype=np.intp)
            below[:, 0::2] = np.where(is_leaf, level, self._left[level])
            below[:, 1::2] = np.where(is_leaf, level, self._right[level])
            level = below
        cond = np.concatenate(conds, axis=1) if conds else np.zeros((len(roots), 0), dtype=np.intp)
        boosters, starts = np.unique(owner, return_index=True)
        return {"depth": depth, "cond": cond.ravel(), "cond_base": (np.arange(len(roots)) * cond.shape[1])[None, :],
                "leaf": self._split[level].astype(np.float64).ravel(),
                "leaf_base": (np.arange(len(roots)) * level.shape[1])[None, :],
                "boosters": boosters, "starts": starts}

    def _sum_leaves(self, features: np.ndarray) -> np.ndarray:
        n = features.shape[0]
        right = np.zeros((n, len(self._cond_feat) + 1), dtype=np.intp)
        right[:, :-1] = features[:, self._cond_feat] >= self._cond_split
        rows = np.arange(n)[:, None]
        out = np.zeros((n, self.n_boosters))
        for g in self._groups:
            pos = np.zeros((n, g["cond_base"].shape[1]), dtype=np.intp)
            for _ in range(g["depth"]):
                pos = 2 * pos + 1 + right[rows, g["cond"][g["cond_base"] + pos]]
            leaf = g["leaf"][g["leaf_base"] + pos - ((1 << g["depth"]) - 1)]
            out[:, g["boosters"]] = np.add.reduceat(leaf, g["starts"], axis=1)
        return out

    def margins(self, features: np.ndarray) -> np.ndarray:
        """``(rows, boosters)`` margins (the regressors' predictions before the inverse transform)."""
        return self._sum_leaves(np.asarray(features, dtype=np.float32)) + self._intercept
