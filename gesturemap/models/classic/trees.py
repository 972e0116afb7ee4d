"""Wekinator's tree classifiers behind gesturemap's model API: a decision tree (J48's
counterpart) and AdaBoost over trees. scikit-learn grows the trees; their nodes are stored back
to back in plain arrays (saved as ``.npz``) and walked by a numba kernel at run time.
See :mod:`gesturemap.models.classic.core` for what every classic model shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import GesturemapError
from ..base import check_float, check_int, check_size, register_model
from . import _kernels as _k
from .core import RANDOM_STATE, ClassicModel, Evaluator, _get


def _tree_arrays(trees: list[Any], values: list[np.ndarray]) -> dict[str, np.ndarray]:
    """scikit-learn trees stored back to back (child indices shifted to the joint arrays)."""
    left, right, feature, threshold, roots = [], [], [], [], []
    offset = 0
    for tree in trees:
        t = tree.tree_
        roots.append(offset)
        left.append(np.where(t.children_left >= 0, t.children_left + offset, -1))
        right.append(np.where(t.children_right >= 0, t.children_right + offset, -1))
        feature.append(np.where(t.children_left >= 0, t.feature, 0))
        threshold.append(t.threshold)
        offset += t.node_count
    return {"roots": np.array(roots, dtype=np.int64),
            "left": np.concatenate(left).astype(np.int64),
            "right": np.concatenate(right).astype(np.int64),
            "feature": np.concatenate(feature).astype(np.int64),
            "threshold": np.concatenate(threshold).astype(np.float64),
            "value": np.ascontiguousarray(np.vstack(values), dtype=np.float64)}


def _tree_evaluator(arrays: dict[str, np.ndarray], kernel: Any) -> Evaluator:
    a = arrays
    z32 = np.zeros(len(a["mean"]), dtype=np.float32)
    zr = np.zeros(len(a["mean"]))
    roots, left, right = a["roots"], a["left"], a["right"]
    feature, threshold, value = a["feature"], a["threshold"], a["value"]

    def run(z: np.ndarray, out: np.ndarray) -> None:
        z32[:] = z  # scikit-learn's trees see float32 inputs
        zr[:] = z32
        kernel(zr, roots, left, right, feature, threshold, value, out)

    return run


def _check_tree_arrays(arrays: dict[str, np.ndarray], d: int, c: int) -> dict[str, np.ndarray]:
    left = _get(arrays, "left", (None,), integer=True)
    n = len(left)
    right = _get(arrays, "right", (n,), integer=True)
    feature = _get(arrays, "feature", (n,), integer=True)
    roots = _get(arrays, "roots", (None,), integer=True)
    idx = np.arange(n)
    leaf = left < 0
    # a child always comes after its parent (as scikit-learn builds trees): every walk ends
    if n == 0 or len(roots) == 0 or (roots < 0).any() or (roots >= n).any():
        raise ValueError("tree roots out of range")
    if ((~leaf) & ((left <= idx) | (left >= n) | (right <= idx) | (right >= n))).any():
        raise ValueError("tree children out of range")
    if ((~leaf) & ((feature < 0) | (feature >= d))).any():
        raise ValueError("tree features out of range")
    return {"roots": roots, "left": left, "right": right, "feature": feature,
            "threshold": _get(arrays, "threshold", (n,)), "value": _get(arrays, "value", (n, c))}


@register_model
class DecisionTree(ClassicModel):
    """Decision tree classifier (Wekinator's J48 counterpart; scikit-learn's CART).

    Parameters
    ----------
    max_depth : deepest level of the tree (0 = grow until the leaves are pure).
    min_samples_leaf : fewest training frames in a leaf (larger: smoother probabilities).
    standardize : scale inputs first (a tree does not need it: off by default).
    max_frames : train on at most about this many frames per the whole set (0 = all).
    likelihood_window : frames over which log-probabilities are averaged (``decision="window"``)
        or forgotten (``"decaying"``) (run-time).
    decision : ``"cumulative"`` (label of everything since the reset, = ``predict``),
        ``"window"`` (XMM's) or ``"decaying"`` (never-reset streams) (run-time).
    """

    kind = "tree"

    def __init__(self, max_depth: int = 0, *, min_samples_leaf: int = 1,
                 standardize: bool = False, max_frames: int = 0,
                 likelihood_window: int = 5, decision: str = "cumulative") -> None:
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    def _check_params(self) -> None:
        check_size("max_depth", self.max_depth, 0)
        check_int("min_samples_leaf", self.min_samples_leaf, 1)

    def _fit_classifier(self, z, y, n_classes):
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier(max_depth=int(self.max_depth) or None,
                                      min_samples_leaf=int(self.min_samples_leaf),
                                      random_state=RANDOM_STATE).fit(z, y)
        value = tree.tree_.value[:, 0, :]
        return _tree_arrays([tree], [value / value.sum(axis=1, keepdims=True)])

    def _evaluator(self) -> Evaluator:
        return _tree_evaluator(self.arrays_, _k.tree_proba)

    def _check_arrays(self, arrays):
        return _check_tree_arrays(arrays, self.input_dim_, len(self.labels_))


@register_model
class AdaBoost(ClassicModel):
    """AdaBoost classifier (SAMME) over small decision trees (Wekinator's AdaBoost.M1 over
    decision stumps).

    Parameters
    ----------
    rounds : boosting rounds (trees).
    max_depth : depth of each tree (1 = decision stumps).
    learning_rate : shrinks each tree's weight.
    standardize, max_frames, likelihood_window, decision : as for :class:`DecisionTree`.
    """

    kind = "adaboost"

    def __init__(self, rounds: int = 50, *, max_depth: int = 1, learning_rate: float = 1.0,
                 standardize: bool = False, max_frames: int = 0,
                 likelihood_window: int = 5, decision: str = "cumulative") -> None:
        self.rounds = rounds
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    def _check_params(self) -> None:
        check_size("rounds", self.rounds)
        check_size("max_depth", self.max_depth)
        check_float("learning_rate", self.learning_rate, 0.0, strict=True)

    def _fit_classifier(self, z, y, n_classes):
        from sklearn.ensemble import AdaBoostClassifier
        from sklearn.tree import DecisionTreeClassifier

        boost = AdaBoostClassifier(DecisionTreeClassifier(max_depth=int(self.max_depth)),
                                   n_estimators=int(self.rounds),
                                   learning_rate=float(self.learning_rate),
                                   random_state=RANDOM_STATE)
        try:
            boost.fit(z, y)
        except ValueError as exc:  # e.g. a first tree no better than chance
            raise GesturemapError(
                f"AdaBoost cannot be trained on these takes ({str(exc).split('.')[0]}): the "
                "classes' frames are too alike for its trees (identical takes under two "
                "labels, or inputs that barely vary). Check the takes, or choose another "
                "model (knn, svm, mlp)."
            ) from None
        trees = list(boost.estimators_)
        weights = boost.estimator_weights_
        total = weights.sum()
        values = []
        for tree, w in zip(trees, weights, strict=False):
            # each tree votes w for its class and -w / (C - 1) for the others (SAMME)
            vote = tree.tree_.value[:, 0, :].argmax(axis=1)
            onehot = np.eye(n_classes)[tree.classes_.astype(np.int64)[vote]]
            values.append(np.where(onehot > 0, w, -w / (n_classes - 1)) / total)
        return _tree_arrays(trees, values)

    def _evaluator(self) -> Evaluator:
        return _tree_evaluator(self.arrays_, _k.adaboost_proba)

    def _check_arrays(self, arrays):
        return _check_tree_arrays(arrays, self.input_dim_, len(self.labels_))
