"""What :func:`gesturemap.auto` tries and how it scores a model when it chooses for spotting.

A search that scores each candidate by how well it *names* held-out takes chooses for
segmented takes: on HAPT's transitions its winner (an HHMM with delta features) names takes
well and spots badly (micro F1 0.58 held out, against 0.73 for what
``gesturemap eval --spotting`` trains). Choosing for spotting takes two changes:

- the candidates are models that spot, the first being the CLI's spotting model (an HHMM
  without delta features, the null class one state of 8 Gaussians), so a search that cannot
  finish its cross-validation within its budget falls back on it;
- each candidate is scored by spotting: the held-out takes of a fold are played one after
  another as one stream (each gesture take after a null take, in a seeded order) and
  :func:`~gesturemap.models.spotting.core.spot` at its defaults runs over it; the score is the
  micro F1 of its events against the takes (an event counts when it names a take not yet
  found, emitted inside it or up to half its length after).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core import NULL, Spotter

__all__ = ["event_f1", "spotting_candidates", "spotting_score", "take_stream"]

#: The null class of a spotting model: one state of several Gaussians fits "anything else"
#: (walking, sitting, turning) best (docs/spotting.md).
NULL_CLASS = {"states": 1, "gaussians": 8}


def spotting_candidates() -> list[tuple[str, Callable[[], Any]]]:
    """The candidates :func:`gesturemap.auto` tries when it chooses for spotting, in order.

    The first is what ``gesturemap eval --spotting`` trains (what the others must beat, and
    what is fitted when the search cannot cross-validate or runs out of budget); none has
    delta features (on HAPT's held-out subjects they cost spotting 0.1 micro F1)."""
    from ..gmm import GMM
    from ..hhmm import HHMM

    def hhmm(null: dict[str, Any] | None = None, **params: Any) -> Callable[[], Any]:
        return lambda: HHMM(deltas=False, class_params={NULL: {**NULL_CLASS, **(null or {})}},
                            **params)

    return [
        ("HHMM for spotting (the CLI's)", hhmm()),
        ("HHMM for spotting, null class floor 0.01",
         hhmm({"relative_regularization": 0.01})),
        ("HHMM for spotting, regularisation 0.1", hhmm(relative_regularization=0.1)),
        ("HHMM for spotting, 5 states", hhmm(states=5)),
        ("GMM for spotting", lambda: GMM(deltas=False, class_params={NULL: {"gaussians": 8}})),
    ]


def take_stream(takes: Sequence[Any], seed: int = 0
                ) -> tuple[np.ndarray, list[tuple[Any, int, int]]]:
    """The takes (each with ``inputs`` and ``label``) played one after another as one stream:
    the gesture takes in a seeded order, each after a null take (the null takes in turn, used
    again when there are fewer; none without null takes), a null take last. Returns the
    (T, D) stream and its gesture takes as ``(label, start, end)`` (``end`` the last frame)."""
    rng = np.random.default_rng(seed)
    gestures = [takes[i] for i in rng.permutation(len(takes)) if takes[i].label != NULL]
    nulls = [takes[i] for i in rng.permutation(len(takes)) if takes[i].label == NULL]
    parts, truth, at = [], [], 0
    for k, take in enumerate(gestures):
        x = np.asarray(take.inputs, dtype=np.float64)
        if nulls:
            before = np.asarray(nulls[k % len(nulls)].inputs, dtype=np.float64)
            parts.append(before)
            at += len(before)
        parts.append(x)
        truth.append((take.label, at, at + len(x) - 1))
        at += len(x)
    if nulls:
        parts.append(np.asarray(nulls[len(gestures) % len(nulls)].inputs, dtype=np.float64))
    return (np.vstack(parts) if parts else np.empty((0, 0))), truth


def spotting_score(model: Any, takes: Sequence[Any], seed: int = 0) -> float:
    """Micro F1 (:func:`event_f1`) of ``model`` spotting (:class:`Spotter` at its defaults)
    the ``takes`` played as one stream (:func:`take_stream`); 0 without a gesture take."""
    x, truth = take_stream(takes, seed)
    return event_f1(Spotter(model).spot(x), truth) if truth else 0.0


def event_f1(events: Sequence[Any], truth: Sequence[tuple[Any, int, int]]) -> float:
    """Micro F1 of ``events`` (each with ``label`` and ``emitted``) against gestures
    ``(label, start, end)``: in emission order, an event is a hit when a gesture of its label
    not yet found has ``start <= emitted <= end + half its length`` (among several, the
    earliest ending); every other event is a false alarm, every gesture not found a miss."""
    found = [False] * len(truth)
    hits = 0
    for ev in sorted(events, key=lambda ev: ev.emitted):
        open_ = [j for j, (label, s, e) in enumerate(truth) if not found[j]
                 and label == ev.label and s <= ev.emitted <= e + (e - s + 1) // 2]
        if open_:
            found[min(open_, key=lambda j: truth[j][2])] = True
            hits += 1
    total = len(events) + len(truth)
    return 2.0 * hits / total if total else 0.0
