"""A context relabeller for spotted events: which gesture it was, read from what
the stream did before the event began and just after it was emitted.

On HAPT's training subjects, 40 of the spotter's 41 false alarms (package defaults, 3-fold
leave-subjects-out CV) were emitted *inside* a real transition under another gesture's name:
sit-to-lie named stand-to-lie, lie-to-sit named lie-to-stand and the reverse. Those gestures
differ mostly in the posture they start from or end in, which the spotter's free-start
match does not weigh. A relabeller is a :class:`~gesturemap.models.spotting.verifier.SpotVerifier`
that never drops an event: multinomial logistic regression over an event's segment
statistics, the ``context`` frames before its start and the ``wait`` frames after its
emission (:func:`~gesturemap.models.spotting.verifier.event_row`), trained on the **labelled
gestures of the recordings themselves** (each labelled run read as if the spotter had found
it, at a few shifted starts and emissions) rather than on the spotter's few detections, plus
``weight`` in favour of the spotter's own label. It runs in the live stream exactly as a
verifier does (``Spotter(model, verifier=relabeller)``; ``gm.spot`` equals stepping; saved as
the verifier's JSON), and :func:`fit_relabeler` chooses its context, wait and weight by
cross-fitting over the recordings' groups, or leaves it off.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...models.spotting.core import Event
from ...models.spotting.verifier import (
    SpotVerifier,
    VerifierUnavailable,
    fit_logistic,
    verifier_features,
    wait_dues,
)
from .scores import SessionResult, ground_truth_events, spotting_metrics
from .streams import (
    Streams,
    cross_fit_folds,
    cross_fit_spotters,
    labelled_streams,
    length_grid,
    match_session,
    penalised_f1,
    spotting_model,
)
from .verifier_rule import DEFAULT_RULE, VerifierRule, apply_rule

__all__ = ["CONTEXTS_S", "EMIT_SHIFTS_S", "START_SHIFTS_S", "WAITS_S", "WEIGHTS",
           "fit_relabeler", "relabeler_from_rows", "truth_rows"]

#: The grid :func:`fit_relabeler` cross-fits by default: seconds before an event's start it
#: reads, seconds after the emission it waits for and reads, and the weight of the spotter's
#: own label (fixed before its held-out runs on HAPT, docs/spotting.md, "Naming events by
#: their context").
CONTEXTS_S = (0.0, 1.0, 2.0)
WAITS_S = (0.0, 0.5)
WEIGHTS = (1.0, 2.0, 4.0)
#: Where a training row puts an event relative to its labelled run: its start shifted by each
#: of these (seconds), its emission at the run's end plus each of these (the spotter emits
#: about half a second before a HAPT transition's labelled end).
START_SHIFTS_S = (-0.5, 0.0, 0.5)
EMIT_SHIFTS_S = (-1.0, -0.5, 0.0)


def _frames(seconds: float, rate_hz: float) -> int:
    return int(round(seconds * rate_hz))


def _placements(s: int, e: int, rate_hz: float) -> list[tuple[int, int]]:
    """Where a labelled run ``s .. e`` is read as an event: ``(start, emitted)`` for each of
    ``START_SHIFTS_S`` × ``EMIT_SHIFTS_S``, a start shift at most a quarter of the run's
    length and an emission shift at most half of it (a short gesture is not shifted off
    itself: every placement keeps at least a quarter of the run; HAPT's transitions of 2 s
    and more keep the shifts whole)."""
    n = e - s + 1
    out = []
    for ds, de in itertools.product(START_SHIFTS_S, EMIT_SHIFTS_S):
        a = int(np.clip(_frames(ds, rate_hz), -(n // 4), n // 4))
        b = int(np.clip(_frames(de, rate_hz), -(n // 2), n // 2))
        out.append((s + a, max(e + b, s + a)))
    return out


def truth_rows(st: Streams, idx: Sequence[int], classes: Sequence[str], context: int,
               wait: int) -> tuple[np.ndarray, list[str]]:
    """The relabeller's training rows from the labelled gestures of ``st``'s sessions
    ``idx``: every labelled run read as an event (:func:`_placements`) with ``context`` frames
    before its start and ``wait`` after its emission, as
    :func:`~gesturemap.models.spotting.verifier.verifier_features` reads a detection; the targets
    are the runs' labels (as text). A placement the session cannot hold (a start before its
    first frame, or fewer than ``wait`` frames after the emission: a live stream would never
    emit it) is left out."""
    rows, targets = [], []
    for i in idx:
        x = st.sessions[i]
        events = [Event(str(label), a, t, t, 1.0)
                  for label, s, e in ground_truth_events(st.labels[i], st.gestures)
                  for a, t in _placements(s, e, st.rate_hz) if a >= 0 and t + wait < len(x)]
        if not events:
            continue
        rows.append(verifier_features(events, x, {}, classes, context=context, wait=wait,
                                      dues=[ev.emitted + wait for ev in events] if wait
                                      else None))
        targets += [ev.label for ev in events]
    if not rows:
        raise VerifierUnavailable("no labelled gesture to train a relabeller on")
    return np.vstack(rows), targets


def relabeler_from_rows(features: np.ndarray, targets: Sequence[str], classes: Sequence[str],
                        weight: float, C: float = 1.0, context: int = 0, wait: int = 0
                        ) -> SpotVerifier:
    """A relabelling :class:`SpotVerifier` (its labels the gesture classes only: it never
    drops an event) from :func:`truth_rows`' rows: logistic regression (``C``) on every
    feature but the spotter's label and score, which a labelled run does not have; then the
    spotter's own label counts ``weight`` in the linear score of that label."""
    classes = [str(c) for c in classes]
    missing = [c for c in classes if c not in set(targets)]
    if missing:
        raise VerifierUnavailable(f"no labelled run of gesture(s) {missing} to train a "
                                  "relabeller on")
    n = features.shape[1]
    k = bool(context) + bool(wait)  # windows of 2·D + 2 statistics after the score
    d, rest = divmod(n - len(classes) - 2 - 2 * k, 4 + 2 * k)
    if rest or d < 1:
        raise VerifierUnavailable(f"{n} features do not fit {len(classes)} gestures with "
                                  f"context {context} and wait {wait} (truth_rows' rows for "
                                  "the same classes, context and wait)")
    seg = 4 * d + 1  # segment statistics, then the one-hot and the score
    keep = np.r_[0:seg, seg + len(classes) + 1:n]
    labels, mean, scale, coef, intercept = fit_logistic(features[:, keep], list(targets), C,
                                                        3000, flat=1e-9)
    full_mean, full_scale = np.zeros(n), np.ones(n)
    full_coef = np.zeros((len(labels), n))
    full_mean[keep], full_scale[keep], full_coef[:, keep] = mean, scale, coef
    for r, lb in enumerate(labels):
        full_coef[r, seg + classes.index(str(lb))] = weight
    return SpotVerifier(classes, [str(lb) for lb in labels], full_mean, full_scale, full_coef,
                        intercept, context=context, wait=wait)


def _relabelled(st: Streams, i: int, events: list[Event], v: SpotVerifier | None,
                frames: int, tolerance: int) -> SessionResult:
    """Session ``i``'s events as a live stream with relabeller ``v`` emits them (None: as
    spotted), matched to its truth."""
    x = st.sessions[i]
    if v is not None and events:
        dues = wait_dues(events, x, v.wait) if v.wait else None
        f = verifier_features(events, x, {}, v.classes, max_frames=frames, context=v.context,
                              wait=v.wait, dues=dues)
        labels = v.predict(f)
        out = [dataclasses.replace(ev, label=lb, emitted=ev.emitted if dues is None
                                   else dues[k])
               for k, (ev, lb) in enumerate(zip(events, labels, strict=True))
               if dues is None or dues[k] is not None]
        events = out
    return match_session(st, i, events, tolerance)


def fit_relabeler(model: Any, recordings: Sequence[Any], frame_labels: Sequence[Any],
                  groups: Sequence[Any] | None = None, *, gestures: Sequence[Any] | None = None,
                  rate_hz: float = 50.0, context: int | Sequence[int] | None = None,
                  wait: int | Sequence[int] | None = None,
                  weight: float | Sequence[float] = WEIGHTS, folds: int = 2, C: float = 1.0,
                  fa_budget: float = 0.3, rule: VerifierRule | None = DEFAULT_RULE,
                  progress: Callable[[str], None] | None = None,
                  **spotter_settings: Any) -> SpotVerifier:
    """Train a spotting relabeller (``Spotter(model, verifier=relabeller)``) from continuous
    recordings labelled frame by frame; the arguments are :func:`~.spotting_cv.fit_verifier`'s.

    ``context`` / ``wait``: frames before each event's start / after its emission it reads
    (one or several; default ``CONTEXTS_S`` / ``WAITS_S`` at ``rate_hz``); ``weight``: the
    spotter's own label's weight (one or several). Every combination is cross-fitted over
    ``folds`` folds of the groups: a model trained on the other folds spots each fold, a
    relabeller trained on the other folds' labelled gestures relabels its events, and the
    pooled score (micro F1 minus false alarms per minute beyond ``fa_budget``) is compared
    with the spotter's alone. The best combination (ties to the earlier in the order given:
    with the default grids, shorter context, shorter wait, smaller weight) is ``chosen`` when
    it beats the spotter by ``rule`` (the verifier's: strictly higher, and in 0.9 of 1000
    paired bootstrap draws of the groups; the best of several combinations is compared, so
    the rule's confidence is that of the winner, as in ``fit_verifier``'s choice of a
    context). Returns the relabeller of that combination trained on every recording's
    labelled gestures, with ``cv_`` (``chosen``, ``reason``, ``context``, ``wait``,
    ``weight``, every combination's score in ``scores``, ``inner_with`` / ``inner_without``
    metrics, ``folds``, the cross-fit's ``detections``). Use it only when ``chosen``.
    ``progress``, when given, is called with a line of text as each step starts (a model per
    part, its spotting, each combination tried, the last training). Raises
    :class:`VerifierUnavailable` (a :class:`~gesturemap.GesturemapError`) when it cannot be
    trained: fewer than two groups, more ``folds`` than groups, a fold's model that cannot
    be trained, a gesture without a labelled run."""
    from ...models.spotting.core import check_settings

    make_model, settings = spotting_model(model, "fit_relabeler")
    settings.update(spotter_settings)
    settings.pop("verifier", None)
    # (trained on the spotter's own events: the detector merges after the verifier)
    settings.pop("detector", None)
    settings = check_settings(settings)
    st = labelled_streams(recordings, frame_labels, groups, gestures, rate_hz)
    contexts = length_grid([_frames(s, rate_hz) for s in CONTEXTS_S] if context is None
                           else context, "context")
    waits = length_grid([_frames(s, rate_hz) for s in WAITS_S] if wait is None else wait,
                        "wait")
    if any(isinstance(c, tuple) for c in (*contexts, *waits)):
        raise VerifierUnavailable("a relabeller reads one context and one wait: give lengths "
                                  "in frames, not pairs")
    try:
        weights = [float(w) for w in np.atleast_1d(np.asarray(weight, dtype=np.float64))]
    except (TypeError, ValueError):
        weights = []
    if not weights or any(not np.isfinite(w) or w < 0 for w in weights):
        raise VerifierUnavailable(f"weight {weight!r}: one or several numbers >= 0")
    if not (isinstance(C, (int, float)) and np.isfinite(C) and C > 0):
        raise VerifierUnavailable(f"C {C!r}: a number > 0 (the logistic regression's inverse "
                                  "regularisation)")
    classes = [str(g) for g in st.gestures]
    if len(classes) < 2:
        raise VerifierUnavailable(f"one gesture ({classes[0]}): a relabeller chooses among "
                                  "gestures, it needs at least two")
    tol = int(round(rate_hz))
    labelled = {str(lb) for lab in st.labels for lb, _, _ in ground_truth_events(lab, st.gestures)}
    never = [c for c in classes if c not in labelled]
    if never:
        raise VerifierUnavailable(f"gesture(s) {never} have no labelled run in the recordings: "
                                  "a relabeller learns each gesture from its labelled runs")
    parts = cross_fit_folds(st.subject, folds)
    for p, test in enumerate(parts):  # before any training: what each part's rows lack
        seen = {str(lb) for i in np.setdiff1d(np.arange(len(st.sessions)), test)
                for lb, _, _ in ground_truth_events(st.labels[i], st.gestures)}
        lacking = [c for c in classes if c not in seen]
        if lacking:
            raise VerifierUnavailable(
                f"gesture(s) {lacking} are labelled only in the recordings of cross-fitting "
                f"fold {p + 1} of {len(parts)} (groups "
                f"{sorted({str(g) for g in st.subject[test]})}): the relabeller that names "
                "that fold's events has none to learn from; record them in more groups, or "
                "give fewer folds")
    say = progress or (lambda _text: None)
    found = []  # (part, session, events, the spotter's event frames)
    say(f"relabeller: a model for part 1 of {len(parts)} of the performers")
    for p, test, spotter in cross_fit_spotters(st, parts, make_model, settings):
        say(f"relabeller: spotting part {p + 1} of {len(parts)} of the performers")
        found += [(p, int(i), spotter.spot(st.sessions[i]), spotter.event_frames_)
                  for i in test]
        if p + 1 < len(parts):
            say(f"relabeller: a model for part {p + 2} of {len(parts)} of the performers")

    def score(results: list[SessionResult]) -> float:
        return penalised_f1(spotting_metrics(results, classes, rate_hz), fa_budget)
    off = [_relabelled(st, i, ev, None, fr, tol) for _, i, ev, fr in found]
    without = score(off)
    scores, best = {}, None
    tried, settings_count = 0, len(contexts) * len(waits) * len(weights)
    for c, w in itertools.product(contexts, waits):
        rows = [truth_rows(st, np.setdiff1d(np.arange(len(st.sessions)), test), classes, c, w)
                for test in parts]
        for beta in weights:
            tried += 1
            say(f"relabeller: its settings, {tried} of {settings_count}")
            made = [relabeler_from_rows(*rows[p], classes, beta, C, c, w)
                    for p in range(len(parts))]
            on = [_relabelled(st, i, ev, made[p], fr, tol) for p, i, ev, fr in found]
            got = score(on)
            scores[f"{c}+{w}+{beta:g}"] = got
            if best is None or got > best[0]:
                best = (got, c, w, beta, on)
    assert best is not None
    got, c, w, beta, on = best
    info: dict[str, Any] = {
        "inner_score_with": got, "inner_score_without": without,
        "reason": f"x: cross-fitted inner score {got:.3f} with, {without:.3f} without "
                  f"(context {c}, wait {w} frames, weight {beta:g})"}
    if rule is None:
        info["applied"] = got > without
        info["reason"] = ("on" if info["applied"] else "off") + info["reason"][1:]
    else:
        info = apply_rule(info, rule, on, off, [st.subject[i] for _, i, _, _ in found],
                          score)
    pick = {k: spotting_metrics(r, classes, rate_hz) for k, r in (("with", on), ("without", off))}
    info.update({"chosen": info.pop("applied"), "context": c, "wait": w, "weight": beta,
                 "scores": scores, "folds": len(parts),
                 "detections": sum(len(ev) for _, _, ev, _ in found),
                 **{f"inner_{k}": {q: m[q] for q in ("f1", "macro_f1", "false_alarms_per_min",
                                                      "delay_p90_s")}
                    for k, m in pick.items()}})
    say("relabeller: the last training, on every performer")
    relabeler = relabeler_from_rows(*truth_rows(st, range(len(st.sessions)), classes, c, w),
                                    classes, beta, C, c, w)
    relabeler.cv_ = info
    return relabeler
