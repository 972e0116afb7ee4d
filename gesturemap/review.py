"""Which takes should a musician look at again? Cross-validation on their own takes.

:func:`review_takes` trains the (unfitted) model again without each take — leave-one-take-out
when there are few takes, else ``folds`` folds of takes, each class spread over the folds, so
the cost stays bounded — and asks the model trained without a take what that take is. A take
the others do not recognise is suspicious: mislabelled, or a class that needs more takes.

For each take it reports ``suspicion`` (0..1), the ``likely_label`` and a ``verdict``:
``"fits"``, ``"confused with X"``, ``"outlier"`` (recognised, but unlike the other takes of its class)
or ``"probably mislabelled (looks like X)"`` (another class is much likelier, and the take
scores under it like that class's own takes do); plus, in ``reviews.summary``, the
per-class scores, the confusion matrix and the class that most needs another take.

How suspicion is scored: for a held-out take of ``n`` frames with log-likelihoods ``ll`` (C,)
under the model trained without it, the per-frame margin of the best other class over the
take's own class, ``m = (max_{c != own} ll[c] - ll[own]) / n``, goes through a logistic
whose scale is a quarter of the median ``|m|`` over all the takes reviewed (so it means the same for every
model family): 0.5 is the boundary, near 1 another class is much likelier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import GesturemapError
from .models.base import check_model

__all__ = ["ReviewSummary", "Reviews", "TakeReview", "review_takes"]

#: Above this suspicion a misrecognised take is "probably mislabelled", below "confused".
MISLABELLED = 0.8
#: A "probably mislabelled" take scores under its likely class at most this many robust
#: deviations below that class's own takes (it looks like one of them, not just unlike its own).
TYPICAL_Z = 3.0
#: A take whose own-class score is this many robust deviations below its class's is an outlier.
OUTLIER_Z = 3.5


@dataclass(frozen=True)
class TakeReview:
    """What cross-validation says about one take (``index`` in the dataset)."""

    index: int
    label: Any
    suspicion: float
    likely_label: Any
    verdict: str
    margin: float  # per-frame log-likelihood margin of the best other class over the own
    fold: int


@dataclass(frozen=True)
class ReviewSummary:
    """Per-class scores and the confusion matrix of the takes' cross-validation.

    ``confusion[i, j]``: takes labelled ``labels[i]`` recognised as ``labels[j]``.
    ``recall`` / ``precision`` / ``f1``: per class, in ``labels`` order (NaN when undefined).
    ``needs_take``: the class that most needs another take (lowest recall, then fewest takes,
    the probably mislabelled takes counted as their likely class), None when every class is
    recognised. ``mislabelled``: indices of the takes called "probably mislabelled".
    ``advice``: one sentence (the mislabelled takes, by dataset index ``#i``, then the class
    needing a take).
    """

    labels: list[Any]
    confusion: np.ndarray
    recall: np.ndarray
    precision: np.ndarray
    f1: np.ndarray
    takes_per_class: np.ndarray
    accuracy: float
    folds: int
    needs_take: Any
    advice: str
    mislabelled: list[int]

    def table(self) -> str:
        """The per-class scores and the confusion matrix as text."""
        width = max(6, *(len(str(lb)) for lb in self.labels))
        lines = [f"{'class':<{width}}  takes  recall  precision", ]
        for i, lb in enumerate(self.labels):
            lines.append(f"{str(lb):<{width}}  {self.takes_per_class[i]:5d}  "
                         f"{_pct(self.recall[i]):>6}  {_pct(self.precision[i]):>9}")
        lines.append("")
        lines.append("confusion (rows: labelled, columns: recognised)")
        lines.append(" " * width + "  " + " ".join(f"{str(lb)[:5]:>5}" for lb in self.labels))
        for i, lb in enumerate(self.labels):
            lines.append(f"{str(lb):<{width}}  " + " ".join(
                f"{int(v):5d}" for v in self.confusion[i]))
        return "\n".join(lines)


def _pct(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{100 * v:.0f}%"


class Reviews(list):
    """A list of :class:`TakeReview` (dataset order) with a :class:`ReviewSummary`."""

    summary: ReviewSummary

    def suspicious(self, threshold: float = 0.5) -> list[TakeReview]:
        """The takes at or above ``threshold`` suspicion, the most suspicious first."""
        return sorted((r for r in self if r.suspicion >= threshold),
                      key=lambda r: -r.suspicion)


def check_order(call: str, *, dataset: Any, model: Any) -> None:
    """Refuse a model and a dataset given the other way round, naming the order: reviewing
    takes names the dataset first, suggesting a take the model first, and a swap otherwise
    ends in "'GMM' object is not iterable"."""
    if hasattr(dataset, "fit"):
        raise TypeError(f"{call}: got a {type(dataset).__name__} as the dataset and a "
                        f"{type(model).__name__} as the model; are they swapped? Give the "
                        "takes as a gm.Dataset (or a project's takes) and a gesturemap model")
    check_model(call, model)
    if isinstance(dataset, (list, tuple)):  # arrays without labels end in "no attribute 'label'"
        bad = next((r for r in dataset if not (hasattr(r, "label") and hasattr(r, "inputs"))),
                   None)
        if bad is not None:
            raise TypeError(f"{call}: the dataset holds a {type(bad).__name__}, not a labelled "
                            "take: give a gm.Dataset (ds.add(x, label=...) for each take) or "
                            "a project's takes")


def review_takes(dataset: Any, model: Any, *, folds: int = 10, seed: int = 0,
                 cancel: Any = None) -> Reviews:
    """Review every take of ``dataset`` by cross-validation with ``model`` (unfitted).

    Parameters
    ----------
    dataset : a :class:`gesturemap.Dataset` of labelled takes (at least two classes).
    model : an unfitted gesturemap model (it is copied, never fitted itself).
    folds : at most this many trainings: leave-one-take-out when the dataset has no more
        takes than that, else this many folds of takes (each class spread over the folds).
    seed : the shuffle of takes into folds.
    cancel : an object with ``is_set()``; when it is set the review stops
        (:class:`~gesturemap.errors.TrainingCancelled`).

    Returns
    -------
    Reviews : one :class:`TakeReview` per take, in dataset order, and ``.summary``.
    """
    from .errors import TrainingCancelled

    check_order("review_takes(dataset, model)", dataset=dataset, model=model)
    recordings = list(dataset)
    labels = sorted({r.label for r in recordings})
    if len(labels) < 2:
        raise GesturemapError(
            f"review_takes needs takes of at least two classes; got {len(labels)}: record "
            "another gesture first.")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise GesturemapError(f"folds={folds!r} is not valid: expected an integer >= 2.")
    n = len(recordings)
    index = {lb: i for i, lb in enumerate(labels)}
    y = np.array([index[r.label] for r in recordings])
    counts = np.bincount(y, minlength=len(labels))
    fold_of = assign_folds(y, min(folds, n), seed)
    n_folds = int(fold_of.max()) + 1
    ll = np.full((n, len(labels)), -np.inf)
    checked = counts[y] > 1  # a class's only take cannot be checked against the others
    from .data import Dataset

    for f in range(n_folds):
        test = np.nonzero((fold_of == f) & checked)[0]
        if not len(test):
            continue
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("the review was cancelled")
        train = Dataset()
        for i in np.nonzero(fold_of != f)[0]:
            r = recordings[i]
            train.add(r.inputs, r.label, r.outputs)
        fitted = type(model)(**model.get_params()).fit(train)
        cols = [index[lb] for lb in fitted.labels_]
        for i in test:
            ll[i, cols] = fitted.log_likelihood(recordings[i].inputs)
    return _reviews(recordings, labels, y, ll, checked, fold_of, n_folds,
                    per_frame=getattr(model, "kind", "") != "dtw")


def assign_folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold of each take: each class's takes, shuffled, dealt round-robin from a running
    offset (so folds stay balanced and a class with two takes or more is never held out
    whole). The classes are dealt in the order of their first take, not of their codes in
    ``y``: those follow the sorted names, and renaming a class would then deal (and review)
    the same takes differently."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(y), dtype=np.int64)
    start = 0
    for c in np.argsort(first_takes(y, int(y.max()) + 1 if len(y) else 0)):
        idx = rng.permutation(np.nonzero(y == c)[0])
        out[idx] = (start + np.arange(len(idx))) % k
        start = (start + len(idx)) % k
    return out


def first_takes(y: np.ndarray, c: int) -> np.ndarray:
    """Index of each of the ``c`` classes' first take in ``y`` (``len(y)`` for a class with
    none): the order a choice between classes falls back on, which renaming leaves alone."""
    first = np.full(c, len(y), dtype=np.int64)
    np.minimum.at(first, y, np.arange(len(y)))
    return first


def _reviews(recordings: list[Any], labels: list[Any], y: np.ndarray, ll: np.ndarray,
             checked: np.ndarray, fold_of: np.ndarray, n_folds: int,
             per_frame: bool) -> Reviews:
    n, c = ll.shape
    lengths = np.array([len(r.inputs) for r in recordings], dtype=np.float64)
    own = ll[np.arange(n), y]
    others = ll.copy()
    others[np.arange(n), y] = -np.inf
    best_other = others.max(axis=1)
    with np.errstate(invalid="ignore"):  # unchecked takes: -inf - -inf
        margin = (best_other - own) / (lengths if per_frame else 1.0)
    margin = np.where(checked, margin, 0.0)
    finite = np.isfinite(margin)
    margin = np.where(finite, margin, np.where(best_other > own, 1e6, -1e6))
    # a quarter of the typical |margin|: a take as clearly another class's as the typical
    # take is its own's scores about 0.98
    scale = float(np.median(np.abs(margin[checked]))) / 4 if checked.any() else 1.0
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    suspicion = 1.0 / (1.0 + np.exp(-np.clip(margin / scale, -50, 50)))
    likely = np.argmax(ll, axis=1)
    # how each take scores under each class, against that class's own (held-out) takes:
    # robust z-scores of per-frame log-likelihoods (outliers: far below their own class;
    # mislabelled: as likely under another class as that class's own takes are)
    per_frame_ll = ll / (lengths[:, None] if per_frame else 1.0)
    own_pf = own / (lengths if per_frame else 1.0)
    centre, spread = np.full(c, np.nan), np.full(c, np.nan)
    for k in range(c):
        members = np.nonzero((y == k) & checked & np.isfinite(own_pf))[0]
        if len(members) >= 3:
            centre[k] = np.median(own_pf[members])
            spread[k] = 1.4826 * np.median(np.abs(own_pf[members] - centre[k]))
    with np.errstate(invalid="ignore", divide="ignore"):
        zscore = (per_frame_ll - centre) / spread
    zscore = np.where(np.isfinite(zscore), zscore, 0.0)
    z = zscore[np.arange(n), y]
    reviews = Reviews()
    confusion = np.zeros((c, c), dtype=np.int64)
    for i in range(n):
        if not checked[i]:
            reviews.append(TakeReview(i, labels[y[i]], 0.0, labels[y[i]],
                                      f"only take of {labels[y[i]]}: record another to check "
                                      "it", 0.0, int(fold_of[i])))
            continue
        confusion[y[i], likely[i]] += 1
        s = float(suspicion[i])
        if likely[i] != y[i]:
            other = labels[likely[i]]
            typical = zscore[i, likely[i]] >= -TYPICAL_Z  # like the other's own takes
            verdict = (f"probably mislabelled (looks like {other})"
                       if s >= MISLABELLED and typical else f"confused with {other}")
        elif z[i] < -OUTLIER_Z:
            verdict = "outlier"
        elif s >= 0.5:  # recognised, but another class comes close
            verdict = f"confused with {labels[int(np.argmax(others[i]))]}"
        else:
            verdict = "fits"
        reviews.append(TakeReview(i, labels[y[i]], s, labels[likely[i]], verdict,
                                  float(margin[i]), int(fold_of[i])))
    mislabelled = [r.index for r in reviews if r.verdict.startswith("probably mislabelled")]
    # a mislabelled take says nothing about a class lacking takes: counted as its likely class
    honest = confusion.copy()
    for i in mislabelled:
        honest[y[i], likely[i]] -= 1
        honest[likely[i], likely[i]] += 1
    reviews.summary = _summary(labels, confusion, honest, y, n_folds, mislabelled,
                               [labels[likely[i]] for i in mislabelled])
    return reviews


def _summary(labels: list[Any], confusion: np.ndarray, honest: np.ndarray, y: np.ndarray,
             n_folds: int, mislabelled: list[int], looks_like: list[Any]) -> ReviewSummary:
    total = confusion.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.diag(confusion) / confusion.sum(axis=1)
        precision = np.diag(confusion) / confusion.sum(axis=0)
        f1 = 2 * recall * precision / (recall + precision)
    counts = np.bincount(y, minlength=len(labels))
    accuracy = float(np.trace(confusion) / total) if total else math.nan
    # the class that most needs a take: a class with one take, else the lowest recall
    # (then the lowest precision, then the fewest takes), the mislabelled takes set aside
    with np.errstate(invalid="ignore", divide="ignore"):
        recall_h = np.diag(honest) / honest.sum(axis=1)
        precision_h = np.diag(honest) / honest.sum(axis=0)
    needs, advice = None, "every class is recognised from the others' takes."
    # ties go to the class recorded first, not to the first name in sorted order
    first = first_takes(y, len(labels))
    single = sorted((i for i in range(len(labels)) if counts[i] < 2), key=lambda i: first[i])
    if single:
        needs = labels[single[0]]
        advice = f"{needs} has one take only: record another."
    else:
        r = np.nan_to_num(recall_h, nan=1.0)
        p = np.nan_to_num(precision_h, nan=1.0)
        worst = min(range(len(labels)), key=lambda i: (r[i], p[i], counts[i], first[i]))
        if r[worst] < 1.0 or p[worst] < 1.0:
            needs = labels[worst]
            row = honest[worst].copy()
            row[worst] = 0
            if row.any() and r[worst] < 1.0:
                mixed = labels[int(np.argmax(row))]
                advice = (f"{needs} is recognised {100 * r[worst]:.0f}% of the time (mostly "
                          f"taken for {mixed}): record another take of {needs}.")
            else:
                advice = (f"other gestures are taken for {needs}: record another take of "
                          f"{needs}, or check its takes.")
    if mislabelled:
        first = ", ".join(f"#{i} ({labels[y[i]]}, looks like {other})"
                          for i, other in zip(mislabelled, looks_like, strict=True))
        advice = (f"check first: {first} — relabel or delete. Then: {advice}" if needs
                  else f"check {first}: relabel or delete.")
    return ReviewSummary(labels=labels, confusion=confusion, recall=recall,
                         precision=precision, f1=f1, takes_per_class=counts,
                         accuracy=accuracy, folds=n_folds, needs_take=needs, advice=advice,
                         mislabelled=mislabelled)
