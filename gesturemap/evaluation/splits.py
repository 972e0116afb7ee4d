"""Cross-validation splits: stratified k-fold and leave-one-group-out (leave-one-take-out).

Each split is a list of test-index arrays, one per fold; a fold trains on every index not in
its test array. Both are deterministic: the same labels and seed give the same folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..utils.thread_warnings import silencing_warnings
from ..utils.validation import Described, validation_error

__all__ = ["leave_one_group_out", "stratified_kfold"]


def stratified_kfold(labels: Sequence[Any], folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test indices of each of ``folds`` stratified folds (scikit-learn's StratifiedKFold,
    shuffled with ``seed``).

    Every item is in exactly one test fold; each class is spread over the folds as evenly as
    its count allows. A class with fewer items than folds leaves some folds without it
    (scikit-learn warns about it); that is allowed, so small projects can still be evaluated.

    Parameters
    ----------
    labels : sequence of str or int, length n
        One label per recording (or take).
    folds : int
        Number of folds K, 2 <= K <= n.
    seed : int, default 0
        Shuffling seed.

    Returns
    -------
    list of numpy.ndarray of int
        Sorted test indices of each fold.
    """
    from sklearn.model_selection import StratifiedKFold

    n = len(labels)
    if isinstance(folds, bool) or not isinstance(folds, int | np.integer) or not 2 <= folds <= n:
        raise validation_error(
            "folds",
            folds,
            f"an integer from 2 to the number of recordings ({n})",
            "Use fewer folds, or leave-one-take-out on a small data set.",
        )
    # StratifiedKFold wants one kind of label; str() keeps ints and strs apart enough here
    # because a dataset never mixes them.
    y = np.array([str(label) for label in labels])
    largest = int(np.unique(y, return_counts=True)[1].max())
    if folds > largest:  # every fold must hold at least one take of some class
        # with one take a class there is no smaller count to suggest (folds must be >= 2)
        hint = (f"Use --folds {largest} or fewer, or record more takes of a class."
                if largest >= 2 else
                "Every class has one take: record a second take of a class to cross-validate.")
        raise validation_error(
            "folds", folds, f"at most the takes of the largest class ({largest})", hint)
    splitter = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=seed)
    with silencing_warnings("The least populated class"):  # (a review runs on a thread)
        return [np.sort(test) for _, test in splitter.split(np.zeros(n), y)]


def leave_one_group_out(groups: Sequence[Any]) -> list[np.ndarray]:
    """Test indices of one fold per distinct group, in the order groups first appear.

    With one group per take this is leave-one-take-out; with subjects, leave-one-subject-out.

    Raises
    ------
    GesturemapError
        If there are fewer than two groups (nothing would be left to train on).
    """
    keys = [str(g) for g in groups]
    order = list(dict.fromkeys(keys))
    if len(order) < 2:
        raise validation_error(
            "groups",
            Described(f"{len(order)} distinct group(s)"),
            "at least two groups",
            "Record more takes, or use a held-out test set.",
        )
    index = np.arange(len(keys))
    array = np.array(keys)
    return [index[array == key] for key in order]
