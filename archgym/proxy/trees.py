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
    """The trees of several boosters in flat arrays, walked ``LANES`` trees at a time without branches,
    giving XGBoost's own margins to the bit.

    XGBoost's predictor costs a fraction of a millisecond per booster and call even for one row,
    which dominates one-design-at-a-time use (``env.step``). Here each tree is renumbered so that a
    node's right child follows its left child, a leaf is its own child with threshold +inf, and a
    step is ``node = left[node] + (x[feature[node]] >= threshold[node])``: XGBoost's ``x <
    threshold`` goes left, compared in float32 as XGBoost does. Trees are sorted by depth and walked
    in groups of ``LANES`` for their group's depth (a leaf stays put), tree-major so that a group's
    nodes stay in cache across rows. Features are never missing here (designs are validated), so
    XGBoost's default branches never apply.

    The leaves reached are then added up as XGBoost's CPU predictor adds them: in float32, tree by
    tree in the booster's order, onto the booster's base margin. So a design's prediction does not
    depend on how many designs are predicted with it (one ``env.step`` or a batch that XGBoost
    predicts). The base margin is the one that reproduces XGBoost's margins on probe rows; when no
    float32 value does (an XGBoost that sums otherwise), ``exact`` is False and the caller should
    let XGBoost predict every batch.
    """

    def __init__(self, boosters: Sequence[xgboost.Booster], n_features: int) -> None:
        feat, thr, val, left, roots, depth = [], [], [], [], [], []
        starts = [0]
        offset = 0
        models = [json.loads(booster.save_raw("json"))["learner"]["gradient_booster"] for booster in boosters]
        # DART scales each tree by a weight, gblinear has no trees: only plain gbtree models are walked
        walkable = all(m.get("name") == "gbtree" for m in models)
        for model in models if walkable else []:
            for tree in model["model"]["trees"]:
                f, t, v, lc, d = _adjacent_children(tree)
                feat.append(f)
                thr.append(t)
                val.append(v)
                left.append(lc + offset)
                roots.append(offset)
                depth.append(d)
                offset += len(lc)
            starts.append(len(roots))
        starts += [0] * (len(boosters) + 1 - len(starts))  # not walkable: no trees at all
        n_trees = len(roots)
        # a leaf of value 0 pads the last group; its leaves land in an extra slot that no booster sums
        feat.append(np.zeros(1, dtype=np.int64))
        thr.append(np.full(1, np.inf, dtype=np.float32))
        val.append(np.zeros(1, dtype=np.float32))
        left.append(np.array([offset], dtype=np.int64))
        order = np.argsort(-np.asarray(depth, dtype=np.int64), kind="stable")
        pad = -len(order) % LANES
        self._roots = np.concatenate([np.asarray(roots, dtype=np.int64)[order], np.full(pad, offset, dtype=np.int64)])
        self._slot = np.concatenate([order, np.full(pad, n_trees)]).astype(np.int64)  # the tree's place in its booster
        depths = np.concatenate([np.asarray(depth, dtype=np.int64)[order], np.zeros(pad, dtype=np.int64)])
        self._group_depth = depths.reshape(-1, LANES).max(axis=1) if len(depths) else np.zeros(0, dtype=np.int64)
        self._feat = np.concatenate(feat)
        self._thr = np.concatenate(thr)
        self._val = np.concatenate(val).astype(np.float32)
        self._left = np.concatenate(left)
        self._starts = np.asarray(starts, dtype=np.int64)
        self.n_boosters = len(boosters)
        self._base = np.zeros(self.n_boosters, dtype=np.float32)
        self.exact = walkable and self._fit_base(boosters, n_features)

    def _leaves(self, features: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(features, dtype=np.float32)
        arrays = (self._feat, self._thr, self._val, self._left, self._roots, self._slot, self._group_depth, x)
        return np.asarray(_walk(*(loop_input(a) for a in arrays), int(self._starts[-1]) + 1), dtype=np.float32)

    def _sums(self, leaves: np.ndarray, n_rows: int, base: np.ndarray) -> np.ndarray:
        arrays = (leaves, self._starts, base)
        out = _sum_leaves(*(loop_input(a) for a in arrays), n_rows)
        return np.asarray(out, dtype=np.float32).reshape(n_rows, self.n_boosters)

    def _fit_base(self, boosters: Sequence[xgboost.Booster], n_features: int) -> bool:
        """Each booster's base margin as XGBoost holds it (float32), found from XGBoost's own margins: the one
        value, within a few units in the last place of what the booster's first tree alone (``booster[0:1]``)
        implies, that gives that tree XGBoost's margins on many rows and the whole booster its margins on
        some. False when that does not single out one value."""
        finite = self._thr[np.isfinite(self._thr)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        rng = np.random.default_rng(0)
        many = rng.uniform(lo - 1, hi + 1, (4096, n_features)).astype(np.float32)
        probe = np.vstack([np.zeros((1, n_features), dtype=np.float32), many[:63]])
        leaves = self._leaves(probe)
        inf = np.float32(np.inf)
        for b, booster in enumerate(boosters):
            theirs = np.asarray(booster.inplace_predict(probe, predict_type="margin"), dtype=np.float32)
            first = np.asarray(booster[0:1].inplace_predict(many, predict_type="margin"), dtype=np.float32)
            first_leaf = self._first_leaf(int(self._starts[b]), many)
            guess = np.float32(np.median(first.astype(np.float64) - first_leaf.astype(np.float64)))
            stated = _stated_base_margin(booster)
            candidates, up, down = [guess], guess, guess
            for _ in range(16):
                up, down = np.nextafter(up, inf), np.nextafter(down, -inf)
                candidates += [up, down]
            if stated is not None and stated not in candidates:
                candidates.append(stated)
            fits = []
            for value in candidates:
                if not np.array_equal(value + first_leaf, first):  # float32 + float32: one rounding
                    continue
                self._base[b] = value
                if np.array_equal(self._sums(leaves, len(probe), self._base)[:, b], theirs):
                    fits.append(value)
            if len(fits) > 1 and stated in fits:  # the probes cannot tell them apart; the booster says which
                fits = [stated]
            if len(fits) != 1:
                return False
            self._base[b] = fits[0]
        return True

    def _first_leaf(self, tree: int, x: np.ndarray) -> np.ndarray:
        """The leaf value the original tree number ``tree`` gives each row of ``x`` (float32)."""
        k = int(np.flatnonzero(self._slot == tree)[0])
        node = np.full(len(x), self._roots[k])
        rows = np.arange(len(x))
        for _ in range(int(self._group_depth[k // LANES])):
            node = self._left[node] + (x[rows, self._feat[node]] >= self._thr[node])
        return self._val[node]

    def margins(self, features: np.ndarray) -> np.ndarray:
        """``(rows, boosters)`` margins (the regressors' predictions before the inverse transform), equal to
        ``Booster.inplace_predict(..., predict_type="margin")`` when ``exact``."""
        return self._sums(self._leaves(features), len(features), self._base).astype(np.float64)


def _stated_base_margin(booster: xgboost.Booster) -> np.float32 | None:
    """The base margin the booster's configuration states (its ``base_score`` through the objective's link,
    in float32 as XGBoost computes it), for the objectives a proxy trains with; ``None`` otherwise."""
    try:
        learner = json.loads(booster.save_config())["learner"]
        text = str(learner["learner_model_param"]["base_score"]).strip("[]").split(",")[0]
        score = np.float32(float(text))
        objective = learner["objective"]["name"]
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    if objective == "reg:squarederror":
        return score
    if objective == "binary:logistic" and 0 < score < 1:
        return np.float32(-np.log(np.float32(1) / score - np.float32(1)))
    return None


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
    val = np.zeros(n, dtype=np.float32)
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
def _walk(feat, thr, val, left, roots, slot, group_depth, x, n_slots):
    """Per row, the leaf each tree reaches, at the tree's slot (row-major, rows x slots)."""
    n_rows = len(x)
    out = filled(n_rows * n_slots, np.float32(0))
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
            base = i * n_slots
            for k in range(LANES):
                out[base + slot[first + k]] = val[nodes[k]]
    return out


@jit
def _sum_leaves(leaves, starts, base, n_rows):
    """Per row and booster, its base margin plus its trees' leaves, added in float32 in tree order (as
    XGBoost's CPU predictor adds them; a sum of two float32 rounded once to float32 is what the plain
    Python run computes too)."""
    n_boosters = len(starts) - 1
    n_slots = starts[n_boosters] + 1
    out = filled(n_rows * n_boosters, np.float32(0))
    for i in range(n_rows):
        row = i * n_slots
        for b in range(n_boosters):
            acc = np.float32(base[b])
            for t in range(starts[b], starts[b + 1]):
                acc = np.float32(acc + leaves[row + t])
            out[i * n_boosters + b] = acc
    return out
