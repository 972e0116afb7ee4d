"""Metrics of an evaluation: accuracy, confusion, per-class precision / recall / F1, early
recognition and regression error. Pure functions over plain lists and arrays."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["FRACTIONS", "checkpoints", "classification_metrics", "regression_metrics"]

#: Fractions of a gesture at which the early-recognition curve reads the label.
FRACTIONS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def checkpoints(length: int, fractions: Sequence[float] = FRACTIONS) -> list[int]:
    """Frame index after which each fraction of a ``length``-frame gesture has been seen.

    Fraction f of T frames is frame ``ceil(f * T) - 1`` (at least the first frame), so 100 %
    is the last frame and 10 % of 7 frames is the first.
    """
    return [max(1, math.ceil(round(f * length, 9))) - 1 for f in fractions]


def _index(labels: Sequence[Any], values: Sequence[Any]) -> np.ndarray:
    where = {label: i for i, label in enumerate(labels)}
    # a label the model never saw (not in its classes) counts as wrong everywhere
    return np.array([where.get(v, -1) for v in values], dtype=np.int64)


def classification_metrics(
    labels: Sequence[Any], truth: Sequence[Any], predicted: Sequence[Any]
) -> dict[str, Any]:
    """Accuracy, confusion matrix and per-class precision / recall / F1 / support.

    Parameters
    ----------
    labels : sequence
        Every class, in the order of the confusion matrix's rows and columns.
    truth, predicted : sequence, same length
        The true and predicted label of each test recording.

    Returns
    -------
    dict
        ``accuracy`` (float), ``confusion`` ((C, C) int array, rows = true class, columns =
        predicted), ``per_class`` (list of dicts: label, precision, recall, f1, support),
        ``macro_f1`` (float: the mean F1 of the classes true or predicted at least once,
        as scikit-learn's ``f1_score(average="macro")``).
    """
    from sklearn.metrics import precision_recall_fscore_support

    t, p = _index(labels, truth), _index(labels, predicted)
    n = len(labels)
    confusion = np.zeros((n, n), dtype=np.int64)
    for a, b in zip(t, p, strict=True):
        if a >= 0 and b >= 0:
            confusion[a, b] += 1
    accuracy = float(np.mean(t == p)) if len(t) else float("nan")
    precision, recall, f1, support = precision_recall_fscore_support(
        t, p, labels=np.arange(n), zero_division=0
    )
    per_class = [
        {
            "label": label,
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    ]
    # scikit-learn's f1_score(average="macro"): over the classes that are true or predicted at
    # least once (a class only ever predicted wrongly counts, with F1 0)
    present = (support > 0) | np.isin(np.arange(n), p)
    macro = float(np.mean(f1[present])) if present.any() else float("nan")
    return {"accuracy": accuracy, "confusion": confusion, "per_class": per_class, "macro_f1": macro}


def early_accuracy(truth: Sequence[Any], early: Sequence[Sequence[Any]]) -> list[float]:
    """Accuracy at each checkpoint: ``early[i][j]`` is recording i's label at checkpoint j."""
    if not early:
        return []
    hits = np.array([[label == t for label in row] for t, row in zip(truth, early, strict=True)])
    return [float(v) for v in hits.mean(axis=0)]


def regression_metrics(truth: np.ndarray, estimate: np.ndarray) -> dict[str, list[Any]]:
    """Root-mean-square and mean absolute error of each output column over all frames, and
    for a column of class numbers (integers in the recordings: a classifier output, as in
    Wekinator) the share of frames whose rounded output is the right class (else None).

    Parameters
    ----------
    truth, estimate : ndarray, shape (N, D_out)
    """
    truth = np.asarray(truth, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    error = estimate - truth
    classes = [bool(np.all(truth[:, j] == np.rint(truth[:, j]))) for j in range(truth.shape[1])]
    accuracy = [
        float(np.mean(np.rint(estimate[:, j]) == truth[:, j])) if is_class else None
        for j, is_class in enumerate(classes)
    ]
    return {
        "rmse": np.sqrt(np.mean(error**2, axis=0)).tolist(),
        "mae": np.mean(np.abs(error), axis=0).tolist(),
        "frame_accuracy": accuracy,
    }
