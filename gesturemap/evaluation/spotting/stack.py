"""Second opinions on spotted events for :mod:`~gesturemap.evaluation.spotting.cv`: a causal
relabeller (:func:`relabel`, :class:`SegmentStats`) and the stacked verifier
(:class:`StackedVerifier`) trained on the spotter's own detections, held and applied by the live
stream's :class:`~gesturemap.models.spotting.verifier.SpotVerifier`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...data import Dataset
from ...models.spotting.core import NULL, Event
from ...models.spotting.verifier import SpotVerifier, fit_logistic, segment_stats

__all__ = ["SegmentStats", "StackedVerifier", "relabel"]


def relabel(events: list[Event], sequence: Any, classifier: Any, context: int = 0
            ) -> list[Event]:
    """A second, causal opinion on each event's label: ``classifier`` (a fitted model with
    ``predict``, e.g. ``gm.DTW(normalization="take")`` trained on the gesture takes) labels the
    frames ``start - context .. emitted`` of ``sequence`` (never a frame after ``emitted``).
    Frame indices, scores and emission times are kept: false alarms and delays are unchanged.
    Not part of the live stream: measured by :func:`nested_cv` (grid key
    ``relabel_context``), it lost held out on HAPT (docs/spotting.md). Costs one ``predict``
    per event (1-NN DTW: every template against the segment)."""
    if not events:
        return []
    x = np.asarray(sequence, dtype=np.float64)
    segs = [x[max(0, ev.start - context):ev.emitted + 1] for ev in events]
    labels = classifier.predict(segs)
    return [dataclasses.replace(ev, label=lb.item() if isinstance(lb, np.generic) else lb)
            for ev, lb in zip(events, labels, strict=True)]


class SegmentStats:
    """A relabeller for :func:`relabel`: multinomial logistic regression (``C``) on the
    standardised :func:`segment_stats` of a segment. ``fit(dataset)`` on gesture takes;
    ``predict(segments)`` gives one label per segment. After fitting, everything it needs is in
    plain arrays: ``labels_``, ``mean_``, ``scale_``, ``coef_`` (classes × features),
    ``intercept_``."""

    def __init__(self, C: float = 0.3, max_iter: int = 3000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, dataset: Dataset) -> SegmentStats:
        feats = np.array([segment_stats(r.inputs) for r in dataset])
        labels, self.mean_, self.scale_, self.coef_, self.intercept_ = fit_logistic(
            feats, [r.label for r in dataset], self.C, self.max_iter)
        self.labels_ = [c.item() if isinstance(c, np.generic) else c for c in labels]
        return self

    def decision(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """(segments, classes) linear scores; the label is the column of the largest."""
        feats = np.array([segment_stats(s) for s in segments])
        return ((feats - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_

    def predict(self, segments: Sequence[np.ndarray]) -> list[Any]:
        if not len(segments):
            return []
        return [self.labels_[k] for k in np.argmax(self.decision(segments), axis=1)]


class StackedVerifier:
    """The second stage of two-stage spotting, trained on the spotter's own detections, for
    :func:`nested_cv`: fitted by :meth:`SpotVerifier.fit` (standardised
    :func:`verifier_features`, multinomial logistic regression (``C``) over the gesture
    ``classes`` and :data:`NULL`), held and applied by the live stream's own
    :class:`~gesturemap.models.spotting.verifier.SpotVerifier` (``verifier_``).
    ``fit(features, targets)`` takes one row and one target (:func:`detection_targets`) per
    detection and raises :class:`VerifierUnavailable` when the targets hold fewer than two
    labels or no detection of one of ``classes``; ``apply(events, rows)`` (after the fact)
    drops the events it calls null and relabels the others, keeping their frames, scores and
    emission times; a :class:`Spotter` given ``verifier_`` does the same as it emits."""

    def __init__(self, classes: Sequence[Any], C: float = 0.3, max_iter: int = 3000,
                 context: int = 0, wait: int = 0) -> None:
        self.classes = [str(c) for c in classes]
        self.C = C
        self.max_iter = max_iter
        self.context = context  # frames before the start its rows carry (0: none)
        self.wait = wait  # frames after the emission they carry (0: none)

    def fit(self, features: np.ndarray, targets: Sequence[str]) -> StackedVerifier:
        self.verifier_ = SpotVerifier.fit(features, targets, self.classes, C=self.C,
                                          max_iter=self.max_iter, context=self.context,
                                          wait=self.wait)
        return self

    def predict(self, features: np.ndarray) -> list[str]:
        return self.verifier_.predict(features)

    def apply(self, events: Sequence[Event], features: np.ndarray) -> list[Event]:
        return [dataclasses.replace(ev, label=lb) for ev, lb in
                zip(events, self.predict(features), strict=True) if lb != NULL]
