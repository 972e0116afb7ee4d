"""Leave-subjects-out cross-validation of spotting on streams with per-frame labels.

Streams come as HAPT's file does: ``X_concat`` (N, D), ``labels_concat`` (N,), ``lengths``
(sessions,), ``subject`` (sessions,). A fold trains a model on the training subjects' gesture
runs (one take per ground-truth event) and null takes (their null frames, cut into chunks),
then spots in the test subjects' whole sessions and matches the events by
:mod:`gesturemap.evaluation.spotting`'s rule. Settings are chosen by an inner
leave-subjects-out cross-validation inside each outer training part (nested), so every figure
reported is held out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import Dataset
from ..models.spotting import NULL, Spotter
from .spotting import SessionResult, ground_truth_events, match_detections, spotting_metrics

__all__ = ["Streams", "cross_validate_spotting", "load_streams", "low_pass", "make_dataset",
           "evaluate_sessions", "grouped_folds", "nested_cv"]


@dataclass
class Streams:
    """Sessions of a labelled stream file."""

    sessions: list[np.ndarray]  # each (T, D)
    labels: list[np.ndarray]  # each (T,)
    subject: np.ndarray  # (S,)
    gestures: list[Any]  # the labels that are gestures
    rate_hz: float


def load_streams(path: str, gestures: Sequence[Any] | None = None,
                 rate_hz: float = 50.0) -> Streams:
    """Load a stream file (HAPT's layout). ``gestures`` defaults to HAPT's transitions 7-12."""
    z = np.load(path, allow_pickle=False)
    if gestures is None and "gesture_labels" in z.files:
        gestures = [g.item() for g in z["gesture_labels"]]
    cuts = np.cumsum(z["lengths"])[:-1]
    sessions = np.split(np.asarray(z["X_concat"], dtype=np.float64), cuts)
    labels = np.split(np.asarray(z["labels_concat"]).astype(np.int64), cuts)
    subject = np.asarray(z["subject"]) if "subject" in z.files else np.arange(len(sessions))
    gest = list(gestures) if gestures is not None else list(range(7, 13))
    return Streams(sessions, labels, subject, gest, rate_hz)


def low_pass(x: np.ndarray, alpha: float) -> np.ndarray:
    """The causal one-pole low-pass of the LowPass feature stage (``alpha``), started at x[0]."""
    if alpha >= 1.0:
        return x
    from scipy.signal import lfilter

    y, _ = lfilter([alpha], [1.0, alpha - 1.0], x, axis=0, zi=(1 - alpha) * x[:1])
    return y


def make_dataset(st: Streams, idx: Sequence[int], features: Callable[[np.ndarray], np.ndarray],
                 null_chunk: int = 1000, null_stride: int = 10) -> Dataset:
    """Gesture takes (every ground-truth event) and null takes (null frames in chunks of
    ``null_chunk`` frames, every ``null_stride``-th frame kept: a one-state null class does not
    depend on frame order) of sessions ``idx``."""
    ds = Dataset()
    for i in idx:
        x = features(st.sessions[i])
        lab = st.labels[i]
        for label, s, e in ground_truth_events(lab, st.gestures):
            ds.add(x[s:e + 1], label=str(label))
        null = ~np.isin(lab, st.gestures)
        xn = x[null][::null_stride]
        for k in range(0, len(xn) - null_chunk // 2, null_chunk):
            ds.add(xn[k:k + null_chunk], label=NULL)
    return ds


def evaluate_sessions(spotter: Spotter, st: Streams, idx: Sequence[int],
                      features: Callable[[np.ndarray], np.ndarray],
                      tolerance: int = 50) -> list[SessionResult]:
    """Spot in every session of ``idx`` and match the events to its ground truth."""
    out = []
    for i in idx:
        events = spotter.spot(features(st.sessions[i]))
        truth = [(str(lb), s, e) for lb, s, e in ground_truth_events(st.labels[i], st.gestures)]
        null_frames = int(np.sum(~np.isin(st.labels[i], st.gestures)))
        out.append(match_detections(truth, [(ev.label, ev.emitted) for ev in events],
                                    tolerance, null_frames))
    return out


def grouped_folds(groups: np.ndarray, k: int) -> list[np.ndarray]:
    """``k`` folds of distinct groups (sorted groups dealt round-robin): test indices."""
    uniq = np.unique(groups)
    return [np.flatnonzero(np.isin(groups, uniq[f::k])) for f in range(k)]


def _score(m: dict[str, Any], fa_budget: float) -> float:
    # F1 first, with false alarms beyond the budget paid for
    return m["f1"] - max(0.0, m["false_alarms_per_min"] - fa_budget)


def nested_cv(st: Streams, make_model: Callable[[], Any], grid: dict[str, Sequence[Any]],
              features: Callable[[np.ndarray], np.ndarray], outer: int = 3, inner: int = 2,
              fa_budget: float = 0.3, log: Callable[[str], None] = print,
              only_fold: int | None = None,
              make_data: Callable[..., Dataset] = make_dataset) -> dict[str, Any]:
    """Nested leave-subjects-out CV: each outer fold's settings are chosen by an ``inner``-fold
    leave-subjects-out CV on its training subjects (best F1 with false alarms per minute over
    ``fa_budget`` subtracted); the outer test subjects are then spotted with a model trained on
    all its training subjects. Returns the pooled held-out metrics, the settings chosen per
    fold, each session's events (for plots) and the inner CV's table. ``only_fold``: run
    that outer fold only (folds may run in separate processes; pool their session results).
    ``make_data(st, idx, features)``: the training dataset of sessions ``idx``."""
    keys = list(grid)
    combos = [dict(zip(keys, v, strict=True)) for v in itertools.product(*grid.values())]
    subj = st.subject
    held: list[SessionResult] = []
    chosen, events_by_session, inner_tables = [], {}, []
    for fo, test in enumerate(grouped_folds(subj, outer)):
        if only_fold is not None and fo != only_fold:
            continue
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        # inner CV over the outer training subjects
        sums: dict[int, list[SessionResult]] = {i: [] for i in range(len(combos))}
        for itest_local in grouped_folds(subj[train], inner):
            itest = train[itest_local]
            itrain = np.setdiff1d(train, itest)
            model = make_model().fit(make_data(st, itrain, features))
            for ci, combo in enumerate(combos):
                sums[ci] += evaluate_sessions(Spotter(model, **combo), st, itest, features)
        table = [(combos[ci], spotting_metrics(r, [str(g) for g in st.gestures], st.rate_hz))
                 for ci, r in sums.items()]
        best = max(table, key=lambda cm: _score(cm[1], fa_budget))
        inner_tables.append([(c, {k: m[k] for k in ("f1", "macro_f1", "false_alarms_per_min",
                                                     "delay_p90_s")}) for c, m in table])
        log(f"outer fold {fo}: chosen {best[0]} (inner F1 {best[1]['f1']:.3f}, "
            f"FA/min {best[1]['false_alarms_per_min']:.3f})")
        chosen.append(best[0])
        model = make_model().fit(make_data(st, train, features))
        spotter = Spotter(model, **best[0])
        res = evaluate_sessions(spotter, st, test, features)
        held += res
        for i in test:
            events_by_session[int(i)] = spotter.spot(features(st.sessions[i]))
        m = spotting_metrics(res, [str(g) for g in st.gestures], st.rate_hz)
        log(f"outer fold {fo}: held-out F1 {m['f1']:.3f} macro {m['macro_f1']:.3f} "
            f"FA/min {m['false_alarms_per_min']:.3f} p90 delay {m['delay_p90_s']:.2f} s")
    return {"metrics": spotting_metrics(held, [str(g) for g in st.gestures], st.rate_hz),
            "chosen": chosen, "events": events_by_session, "inner": inner_tables,
            "sessions": held}


def cross_validate_spotting(st: Streams, model: str, params: dict[str, Any],
                            settings: dict[str, Any], folds: int = 3,
                            progress: bool = False) -> dict[str, Any]:
    """Leave-subjects-out CV of :func:`gesturemap.spot` with fixed ``settings``: each fold
    trains ``model`` (a kind name, with ``params``; the null class is one state of 8 Gaussians
    for an HHMM unless ``params`` says otherwise) on the other subjects' gestures and null
    takes and spots the fold's whole sessions. Returns the pooled out-of-fold metrics."""
    from ..models import MODEL_REGISTRY
    from ..models.spotting import check_settings

    settings = check_settings(settings)  # a wrong name fails before any training
    if model not in MODEL_REGISTRY:
        from ..errors import GesturemapError

        raise GesturemapError(f"--model {model!r}: expected one of {sorted(MODEL_REGISTRY)}")
    params = dict(params)
    if model == "hhmm":
        params.setdefault("class_params", {NULL: {"states": 1, "gaussians": 8}})
    held: list[SessionResult] = []
    for k, test in enumerate(grouped_folds(st.subject, folds)):
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        fitted = MODEL_REGISTRY[model](**params).fit(make_dataset(st, train, _same))
        held += evaluate_sessions(Spotter(fitted, **settings), st, test, _same,
                                  tolerance=int(round(st.rate_hz)))
        if progress:
            print(f"fold {k + 1}/{folds} done", flush=True)
    return {"protocol": f"{folds}-fold leave-subjects-out CV",
            "model": model, "params": params, "spotting": settings,
            "metrics": spotting_metrics(held, [str(g) for g in st.gestures], st.rate_hz)}


def _same(x: np.ndarray) -> np.ndarray:
    return x
