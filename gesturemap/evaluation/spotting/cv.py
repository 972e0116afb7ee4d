"""Leave-subjects-out cross-validation of spotting on streams with per-frame labels.

Streams come as HAPT's file does: ``X_concat`` (N, D), ``labels_concat`` (N,), ``lengths``
(sessions,), ``subject`` (sessions,). A fold trains a model on the training subjects' gesture
runs (one take per ground-truth event) and null takes (runs of consecutive null frames),
then spots in the test subjects' whole sessions and matches the events by
:mod:`gesturemap.evaluation.spotting.scores`'s rule. Settings are chosen by an inner
leave-subjects-out cross-validation inside each outer training part (nested), so every figure
reported is held out.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...data import Dataset
from ...errors import GesturemapError
from ...models.spotting.core import NULL, Spotter
from ...models.spotting.detector import fit_detector
from ...models.spotting.verifier import (
    SpotVerifier,
    VerifierUnavailable,
    context_name,
    detection_targets,
    segment_stats,
    split_wait,
    verifier_features,
    wait_dues,
    wait_name,
)
from .relabel import fit_relabeler
from .scores import SessionResult, ground_truth_events, spotting_metrics
from .stack import SegmentStats, StackedVerifier, relabel
from .streams import (
    Streams,
    check_subjects,
    cross_fit_folds,
    cross_fit_spotters,
    grouped_folds,
    labelled_streams,
    length_grid,
    load_streams,
    low_pass,
    make_dataset,
    match_session,
    null_runs,
    penalised_f1,
    spotting_model,
)
from .verifier_rule import DEFAULT_RULE, VerifierRule, apply_rule

# (the names this module and its importers have long used)
_match = match_session
_score = penalised_f1

__all__ = ["SegmentStats", "StackedVerifier", "Streams", "VerifierUnavailable",
           "cross_validate_spotting", "detection_targets", "fit_verifier", "load_streams",
           "low_pass",
           "make_dataset", "null_runs", "relabel", "evaluate_sessions", "grouped_folds",
           "nested_cv", "segment_stats", "verifier_features"]


def evaluate_sessions(spotter: Spotter, st: Streams, idx: Sequence[int],
                      features: Callable[[np.ndarray], np.ndarray],
                      tolerance: int = 50) -> list[SessionResult]:
    """Spot in every session of ``idx`` and match the events to its ground truth."""
    return [_match(st, i, spotter.spot(features(st.sessions[i])), tolerance) for i in idx]


def _stack_verifier(st: Streams, parts: list[tuple[np.ndarray, dict, Any]],
                    best: tuple[dict[str, Any], dict[str, Any]], model: Any, test: np.ndarray,
                    spotted: dict[tuple[str, int], list[Any]],
                    features: Callable[[np.ndarray], np.ndarray],
                    make_verifier: Callable[[list[str]], Any], fa_budget: float,
                    events_by_session: dict[int, list[Any]],
                    decided: dict[str, Any] | None = None, contexts: Sequence[int] = (0,),
                    waits: Sequence[int] = (0,), without: float | None = None,
                    rule: VerifierRule | None = None
                    ) -> tuple[dict[str, Any], list[SessionResult]]:
    """The stacked verifier of one outer fold. The inner CV's out-of-fold detections of the
    chosen setting (``parts``: each inner test part, its events per setting and session, the
    model that spotted them) are labelled by :func:`detection_targets`; cross-fitted (each inner
    part verified by a verifier trained on the other parts), the inner score (``_score``) with
    it is compared with the chosen setting's; it is applied to the outer test part, trained on
    every inner detection, only when it scores higher — live: the held-out sessions are spotted
    by ``Spotter(model, ..., verifier=...)``, which verifies each event as it is emitted (the
    fold records whether that equals verifying the spotter's events after the fact). Returns
    the decision (with its reason, the inner figures and the held-out fixed / broken / dropped
    counts) and the outer test part's session results (verified or not);
    ``events_by_session`` gets the kept events. ``decided``: the cross-fit already made (by
    :func:`_choose_in_loop`), not made again. ``contexts``, ``waits``: the verifier's context
    lengths (frames before an event's start) and waits (frames after the spotter's emission)
    the cross-fit chooses among (:func:`_cross_fit_contexts`). ``without``: the score to beat
    (default: the chosen setting's inner score); ``rule``: how (None: strictly).
    """
    classes = [str(g) for g in st.gestures]
    settings = _settings(best[0])
    key = repr(sorted(settings.items()))
    rows_of = _rows_by_context(st, parts, settings, features, classes)
    without = _score(best[1], fa_budget) if without is None else without
    held = [_match(st, int(i), spotted[key, int(i)]) for i in test]
    if decided is not None:
        info = dict(decided)
    else:
        try:
            info = _cross_fit_contexts(st, rows_of, make_verifier, classes, without, fa_budget,
                                       contexts, waits=waits, rule=rule)
        except VerifierUnavailable as e:
            info = {"applied": False, "inner_score_without": without, "reason": f"off: {e}"}
    if not info["applied"]:
        return info, held
    c, w = info.get("context", 0), info.get("wait", 0)
    v = _fit_verifier(make_verifier, classes, [r for p in rows_of(c, w) for r in p], c, w)
    live = Spotter(model, **settings, verifier=v.verifier_)
    typical, frames = _typical(model, settings)
    out, counts, same = [], [], True
    for i in test:
        i, ev, f, t = _rows(st, int(i), spotted[key, int(i)], features, typical, classes, frames,
                            context=c, wait=w)
        events_by_session[i] = live.spot(features(st.sessions[i]))
        same = same and events_by_session[i] == v.apply(ev, f)
        out.append(_match(st, i, events_by_session[i]))
        counts.append((ev, v.predict(f), t))
    info["held_out_counts"] = _verify_counts(counts)
    info["held_out_live_equals_after_the_fact"] = same
    info["held_out_f1_without"] = spotting_metrics(held, classes, st.rate_hz)["f1"]
    return info, out


def _inner_rows(st: Streams, parts: list[tuple[np.ndarray, dict, Any]], settings: dict[str, Any],
                features: Callable[[np.ndarray], np.ndarray], classes: list[str],
                context: int = 0, wait: int = 0
                ) -> list[list[tuple[int, list[Any], np.ndarray, list[str]]]]:
    """Per inner part, the verifier's rows (session, events, features, targets) of the
    detections of ``settings`` (with ``context`` frames before each start, ``wait`` after)."""
    key = repr(sorted(settings.items()))
    rows = []
    for itest, spot, imodel in parts:
        typical, frames = _typical(imodel, settings)
        rows.append([_rows(st, int(i), spot[key, int(i)], features, typical, classes, frames,
                           context=context, wait=wait) for i in itest])
    return rows


def _rows_by_context(st: Streams, parts: list[tuple[np.ndarray, dict, Any]],
                     settings: dict[str, Any], features: Callable[[np.ndarray], np.ndarray],
                     classes: list[str]) -> Callable[..., list[list[Any]]]:
    """:func:`_inner_rows` of ``settings`` for a context length and wait, each made once."""
    made: dict[tuple[int, int], list[list[Any]]] = {}

    def rows_of(context: int, wait: int = 0) -> list[list[Any]]:
        if (context, wait) not in made:
            made[context, wait] = _inner_rows(st, parts, settings, features, classes, context,
                                              wait)
        return made[context, wait]
    return rows_of


def _cross_fit_contexts(st: Streams, rows_of: Callable[..., list[list[Any]]],
                        make_verifier: Callable[..., Any], classes: list[str], without: float,
                        fa_budget: float, contexts: Sequence[int], tolerance: int = 50,
                        waits: Sequence[int] = (0,), rule: VerifierRule | None = None
                        ) -> dict[str, Any]:
    """:func:`_cross_fit` for each context length (frames before an event's start the
    verifier reads) and each wait (frames after the spotter's emission), waits outermost, in
    the order given; the one with the highest cross-fitted score is kept (among equal scores
    the first), ``applied`` iff it beats ``without``. With more than the one context 0, the
    report also says ``context`` and every context's score (``context_scores``; with more
    than the one wait 0, ``wait`` too, scores keyed ``"context+wait"``); with ``(0,)`` for
    both it is :func:`_cross_fit`'s exactly. ``rule``: the kept one switched on by it
    (:func:`~.verifier_rule.apply_rule`; None: strictly above)."""
    best: dict[str, Any] | None = None
    scores = {}
    for w in waits:
        for c in contexts:
            info = _cross_fit(st, rows_of(c, w), make_verifier, classes, without, fa_budget,
                              tolerance, context=c, wait=w)
            on = info.pop("_on")
            key = context_name(c)
            scores[f"{key}+{wait_name(w)}" if tuple(waits) != (0,) else key] = info[
                "inner_score_with"]
            if best is None or info["inner_score_with"] > best["inner_score_with"]:
                best, best_on = {**info, "context": c, "wait": w}, on
    assert best is not None, "no context length"
    if rule is not None:
        rows = [r for p in rows_of(best["context"], best["wait"]) for r in p]
        off = [_match(st, r[0], r[1], tolerance) for r in rows]
        best = apply_rule(best, rule, best_on, off, [st.subject[r[0]] for r in rows],
                          lambda res: _score(spotting_metrics(res, classes, st.rate_hz),
                                             fa_budget))
    if tuple(waits) == (0,):
        del best["wait"]
    else:
        read, cap = split_wait(best["wait"])
        best["reason"] += (f" (wait {read} frames" + (f" once settled, at most {cap} frames "
                                                      "on)" if cap else ")"))
    if tuple(contexts) == (0,) and tuple(waits) == (0,):
        del best["context"]
    else:
        best["context_scores"] = scores
        best["reason"] += f" (context {context_name(best['context'])} frames)"
    return best


def _choose_in_loop(st: Streams, parts: list[tuple[np.ndarray, dict, Any]],
                    table: list[tuple[dict[str, Any], dict[str, Any]]],
                    features: Callable[[np.ndarray], np.ndarray],
                    make_verifier: Callable[[list[str]], Any], fa_budget: float,
                    contexts: Sequence[int] = (0,), waits: Sequence[int] = (0,),
                    rule: VerifierRule | None = None
                    ) -> tuple[tuple[dict[str, Any], dict[str, Any]], dict[str, Any],
                               list[dict[str, Any]]]:
    """The spotter setting chosen with the verifier in the loop: every setting's inner
    detections are cross-fitted (:func:`_cross_fit`), its score is the better of the plain
    score and the verified one (the verified only when strictly higher); the best setting wins,
    among equal scores first a plain one, then the grid's order. Returns the chosen (setting,
    plain inner metrics), its cross-fit (``applied`` iff its verified score won) and every
    setting's scores."""
    classes = [str(g) for g in st.gestures]
    both, decisions = [], []
    for combo, m in table:
        plain = _score(m, fa_budget)
        try:
            info = _cross_fit_contexts(
                st, _rows_by_context(st, parts, _settings(combo), features, classes),
                make_verifier, classes, plain, fa_budget, contexts, waits=waits, rule=rule)
        except VerifierUnavailable as e:
            info = {"applied": False, "inner_score_without": plain, "reason": f"off: {e}"}
        decisions.append(info)
        both.append({"setting": combo, "plain": plain, "verified": info.get("inner_score_with"),
                     "verified_wins": info["applied"],
                     "score": info["inner_score_with"] if info["applied"] else plain})
    k = max(range(len(table)), key=lambda j: (both[j]["score"], not both[j]["verified_wins"],
                                              -j))
    both[k]["chosen"] = True
    return table[k], decisions[k], both


def _cross_fit(st: Streams, rows: list[list[tuple[int, list[Any], np.ndarray, list[str]]]],
               make_verifier: Callable[[list[str]], Any], classes: list[str], without: float,
               fa_budget: float, tolerance: int = 50, context: int = 0, wait: int = 0
               ) -> dict[str, Any]:
    """Each part of ``rows`` (per part: session, events, features, targets; ``context``: the
    frames before each start its features carry) verified by a verifier trained on the other
    parts; the pooled metrics of the verified events give the
    score with it, ``applied`` iff strictly above ``without``. Raises
    :class:`VerifierUnavailable` when a part's verifier cannot be trained."""
    verified, counts = [], []
    for a, part in enumerate(rows):
        v = _fit_verifier(make_verifier, classes, [r for b, p in enumerate(rows)
                                                    if b != a for r in p], context, wait)
        for i, ev, f, t in part:
            verified.append(_match(st, i, v.apply(ev, f), tolerance))
            counts.append((ev, v.predict(f), t))
    m = spotting_metrics(verified, classes, st.rate_hz)
    info: dict[str, Any] = {"inner_score_without": without,
                            "inner_score_with": _score(m, fa_budget), "inner_with": {
                                k: m[k] for k in ("f1", "macro_f1", "false_alarms_per_min",
                                                  "delay_p90_s")},
                            "inner_counts": _verify_counts(counts), "_on": verified}
    info["applied"] = info["inner_score_with"] > without
    info["reason"] = (f"{'on' if info['applied'] else 'off'}: cross-fitted inner score "
                      f"{info['inner_score_with']:.3f} with, {without:.3f} without")
    return info


def _typical(model: Any, settings: dict[str, Any]) -> tuple[dict[Any, float], int]:
    """A spotter's typical score per label, and the frames a live stream's verifier sees."""
    sp = Spotter(model, **settings)
    return dict(zip(sp.labels, sp.typical_scores_.tolist(), strict=True)), sp.event_frames_


def _rows(st: Streams, i: int, events: list[Any], features: Callable[[np.ndarray], np.ndarray],
          typical: dict[Any, float], classes: list[str], frames: int, tolerance: int | None = None,
          context: int = 0, wait: Any = 0) -> tuple[int, list[Any], np.ndarray, list[str]]:
    """One session's verifier rows: its events, their features, their targets. With a
    ``wait`` the events are the ones the live stream emits when the verifier reads them
    (:func:`~gesturemap.models.spotting.verifier.due_frames`; an event not due before the session
    ends never comes), and their targets those of that emission."""
    truth = ground_truth_events(st.labels[i], st.gestures)
    tol = int(round(st.rate_hz)) if tolerance is None else tolerance
    x = features(st.sessions[i])
    dues = wait_dues(events, x, wait) if wait else None
    f = verifier_features(events, x, typical, classes, max_frames=frames, context=context,
                          wait=wait, dues=dues)
    if wait:
        keep = [k for k, d in enumerate(dues) if d is not None]
        events = [dataclasses.replace(events[k], emitted=dues[k]) for k in keep]
        f = f[keep]
    return (i, events, f, detection_targets(events, truth, tol))


def _fit_verifier(make_verifier: Callable[..., Any], classes: list[str],
                  rows: list[tuple[int, list[Any], np.ndarray, list[str]]], context: int = 0,
                  wait: int = 0) -> Any:
    """``make_verifier(classes)`` (``context=``, ``wait=`` too when not 0) fitted on
    ``rows``."""
    feats = [r[2] for r in rows if len(r[1])]
    if not feats:
        raise VerifierUnavailable("no training detections: the spotter found no gesture in "
                                  "the recordings it was cross-fitted on")
    made = make_verifier(classes, **{k: v for k, v in (("context", context), ("wait", wait))
                                     if v})
    return made.fit(np.vstack(feats), [t for r in rows for t in r[3]])


def _verify_counts(rows: list[tuple[list[Any], list[str], list[str]]]) -> dict[str, int]:
    """Over detections (spotter's label, verifier's label, target): wrong labels fixed, right
    ones broken (relabelled or dropped), null detections dropped / kept, real ones dropped."""
    c = dict.fromkeys(("detections", "fixed", "broken", "null_dropped", "null_kept",
                       "real_dropped", "wrong_before", "wrong_after"), 0)
    for events, after, targets in rows:
        for ev, a, t in zip(events, after, targets, strict=True):
            b = str(ev.label)
            c["detections"] += 1
            if t == NULL:
                c["null_dropped" if a == NULL else "null_kept"] += 1
                continue
            c["fixed"] += b != t and a == t
            c["broken"] += b == t and a != t
            c["real_dropped"] += a == NULL
            c["wrong_before"] += b != t
            c["wrong_after"] += a not in (t, NULL)
    return c


def nested_cv(st: Streams, make_model: Callable[[], Any], grid: dict[str, Sequence[Any]],
              features: Callable[[np.ndarray], np.ndarray], outer: int = 3, inner: int = 2,
              fa_budget: float = 0.3, log: Callable[[str], None] = print,
              only_fold: int | None = None,
              make_data: Callable[..., Dataset] = make_dataset,
              make_relabeler: Callable[[Dataset], Any] | None = None,
              make_verifier: Callable[..., Any] | None = None,
              verify_in_loop: bool = False,
              verifier_contexts: Sequence[int] = (0,),
              verifier_waits: Sequence[int] = (0,),
              verifier_folds: int | None = None,
              verifier_rule: VerifierRule | None = None,
              refine: Callable[..., tuple[dict, dict]] | None = None) -> dict[str, Any]:
    """Nested leave-subjects-out CV: each outer fold's settings are chosen by an ``inner``-fold
    leave-subjects-out CV on its training subjects (best F1 with false alarms per minute over
    ``fa_budget`` subtracted); the outer test subjects are then spotted with a model trained on
    all its training subjects. Returns the pooled held-out metrics, the settings chosen per
    fold, each session's events (for plots) and the inner CV's table. ``only_fold``: run
    that outer fold only (folds may run in separate processes; pool their session results).
    ``make_data(st, idx, features)``: the training dataset of sessions ``idx``. A grid key
    ``relabel_context`` (values: None = off, or frames of context) is not a spotter setting:
    events are relabelled by a classifier ``make_relabeler(dataset)`` trained on the gesture
    takes of the same training subjects. ``make_verifier(classes)``: a second stage trained on
    the spotter's own out-of-fold detections (:func:`_stack_verifier`), switched on per outer
    fold when it wins a cross-fit over the inner folds (``verifier`` in the result): on the
    setting chosen without it, or with ``verify_in_loop`` on every setting's inner detections,
    the setting chosen by its better score, plain or verified (:func:`_choose_in_loop`;
    ``in_loop`` in the result: every setting's two scores per outer fold).
    ``verifier_contexts``: the verifier's context lengths (frames before an event's start; 0:
    none) its cross-fit chooses among, the best cross-fitted score first, ties to the earlier
    (``make_verifier(classes, context=c)`` for c > 0); ``verifier_waits`` likewise, frames
    after the spotter's emission (``wait=``; the events then come that much later).
    ``verifier_folds``: None (or ``inner``) cross-fits the verifier over the inner CV's folds;
    another number K: over K folds of the outer training subjects of its own
    (:func:`_cross_fit_parts`: the chosen setting spotted by K models, each trained on the
    other folds), both its training detections and the plain score it must beat.
    ``verifier_rule``: when its cross-fit switches it on (:mod:`.verifier_rule`; None: its
    score strictly above the plain one). ``refine(st, parts, best, features, fa_budget)``:
    a further step on the inner folds after the grid's choice (before the verifier's), giving
    the setting and inner metrics kept (e.g. :func:`.spotting_variants.per_class_min_stay`)."""
    if make_verifier is not None and "relabel_context" in grid:
        raise ValueError("make_verifier and a relabel_context grid key are exclusive")
    if refine is not None and (verify_in_loop or "relabel_context" in grid):
        raise ValueError("refine works on the spotter's own setting: not with verify_in_loop "
                         "or a relabel_context grid key")
    if verify_in_loop and make_verifier is None:
        raise ValueError("verify_in_loop needs make_verifier")
    if verify_in_loop and verifier_folds not in (None, inner):
        raise ValueError("verify_in_loop cross-fits over the inner folds: verifier_folds must "
                         "be None or inner")
    keys = list(grid)
    combos = [dict(zip(keys, v, strict=True)) for v in itertools.product(*grid.values())]
    subj = st.subject
    held: list[SessionResult] = []
    chosen, events_by_session, inner_tables, verifiers, in_loop = [], {}, [], [], []
    for fo, test in enumerate(grouped_folds(subj, outer)):
        if only_fold is not None and fo != only_fold:
            continue
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        # inner CV over the outer training subjects
        sums: dict[int, list[SessionResult]] = {i: [] for i in range(len(combos))}
        parts = []  # per inner fold: its test sessions, spotted events, spotter's model
        for itest_local in grouped_folds(subj[train], inner):
            itest = train[itest_local]
            itrain = np.setdiff1d(train, itest)
            model, rel = _fit(st, itrain, features, make_model, make_data, make_relabeler)
            spotted: dict[tuple[str, int], list[Any]] = {}  # a setting's events, relabelled apart
            for ci, combo in enumerate(combos):
                sums[ci] += _evaluate(model, rel, combo, st, itest, features, spotted)
            parts.append((itest, spotted, model))
        table = [(combos[ci], spotting_metrics(r, [str(g) for g in st.gestures], st.rate_hz))
                 for ci, r in sums.items()]
        decided = None
        if verify_in_loop:
            best, decided, both = _choose_in_loop(st, parts, table, features, make_verifier,
                                                  fa_budget, verifier_contexts,
                                                  verifier_waits, verifier_rule)
            in_loop.append(both)
        else:
            best = max(table, key=lambda cm: _score(cm[1], fa_budget))
        if refine is not None:
            best = refine(st, parts, best, features, fa_budget)
            table += [] if best in table else [best]
        inner_tables.append([(c, {k: m[k] for k in ("f1", "macro_f1", "false_alarms_per_min",
                                                     "delay_p90_s")}) for c, m in table])
        log(f"outer fold {fo}: chosen {best[0]} (inner F1 {best[1]['f1']:.3f}, "
            f"FA/min {best[1]['false_alarms_per_min']:.3f})")
        chosen.append(best[0])
        model, rel = _fit(st, train, features, make_model, make_data, make_relabeler)
        spotted = {}
        res = _evaluate(model, rel, best[0], st, test, features, spotted)
        for (_, i), ev in spotted.items():
            events_by_session[i] = _relabelled(ev, features(st.sessions[i]), rel,
                                               best[0].get("relabel_context"))
        if make_verifier is not None:
            own = verifier_folds not in (None, inner)
            vparts, without = (_cross_fit_parts(st, train, verifier_folds, best[0], features,
                                                make_model, make_data, fa_budget) if own
                               else (parts, None))
            info, res = _stack_verifier(st, vparts, best, model, test, spotted, features,
                                        make_verifier, fa_budget, events_by_session, decided,
                                        verifier_contexts, verifier_waits, without,
                                        verifier_rule)
            if own:
                info["folds"] = verifier_folds
            verifiers.append(info)
            log(f"outer fold {fo}: verifier {'on' if info['applied'] else 'off'} "
                f"({info['reason']})")
        held += res
        m = spotting_metrics(res, [str(g) for g in st.gestures], st.rate_hz)
        log(f"outer fold {fo}: held-out F1 {m['f1']:.3f} macro {m['macro_f1']:.3f} "
            f"FA/min {m['false_alarms_per_min']:.3f} p90 delay {m['delay_p90_s']:.2f} s")
    return {"metrics": spotting_metrics(held, [str(g) for g in st.gestures], st.rate_hz),
            "chosen": chosen, "events": events_by_session, "inner": inner_tables,
            "sessions": held, **({"verifier": verifiers} if make_verifier is not None else {}),
            **({"in_loop": in_loop} if verify_in_loop else {})}


def _cross_fit_parts(st: Streams, train: np.ndarray, k: int, combo: dict[str, Any],
                     features: Callable[[np.ndarray], np.ndarray], make_model: Callable[[], Any],
                     make_data: Callable[..., Dataset], fa_budget: float
                     ) -> tuple[list[tuple[np.ndarray, dict, Any]], float]:
    """The verifier's own cross-fitting of the sessions ``train`` over ``k`` folds of their
    subjects (:func:`cross_fit_folds`): per fold, its sessions, the events of ``combo`` by a
    model trained on the other folds, that model; and the plain score of those events."""
    parts, res = [], []
    for local in cross_fit_folds(st.subject[train], k):
        itest = train[local]
        model, _ = _fit(st, np.setdiff1d(train, itest), features, make_model, make_data, None)
        spotted: dict[tuple[str, int], list[Any]] = {}
        res += _evaluate(model, None, combo, st, itest, features, spotted)
        parts.append((itest, spotted, model))
    return parts, _score(spotting_metrics(res, [str(g) for g in st.gestures], st.rate_hz),
                         fa_budget)


def _fit(st: Streams, idx: np.ndarray, features: Callable[[np.ndarray], np.ndarray],
         make_model: Callable[[], Any], make_data: Callable[..., Dataset],
         make_relabeler: Callable[[Dataset], Any] | None) -> tuple[Any, Any]:
    data = make_data(st, idx, features)
    model = make_model().fit(data)
    if make_relabeler is None:
        return model, None
    gestures = Dataset()
    for r in data:
        if r.label != NULL:
            gestures.add(r.inputs, label=r.label)
    return model, make_relabeler(gestures)


def _evaluate(model: Any, relabeler: Any, combo: dict[str, Any], st: Streams,
              idx: np.ndarray, features: Callable[[np.ndarray], np.ndarray],
              spotted: dict[tuple[str, int], list[Any]]) -> list[SessionResult]:
    """Each session's events for ``combo`` matched to its truth; the spotter's events are kept
    in ``spotted`` (by setting and session) so that relabelling variants spot once."""
    settings = _settings(combo)
    key = repr(sorted(settings.items()))
    spotter = None
    out = []
    for i in idx:
        x = features(st.sessions[i])
        if (key, int(i)) not in spotted:
            spotter = spotter or Spotter(model, **settings)
            spotted[key, int(i)] = spotter.spot(x)
        events = _relabelled(spotted[key, int(i)], x, relabeler, combo.get("relabel_context"))
        out.append(_match(st, int(i), events))
    return out


def _settings(combo: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in combo.items() if k != "relabel_context"}


def _relabelled(events: list[Any], x: np.ndarray, relabeler: Any,
                context: int | None) -> list[Any]:
    return events if relabeler is None or context is None else relabel(events, x, relabeler,
                                                                        context)


def cross_validate_spotting(st: Streams, model: str, params: dict[str, Any],
                            settings: dict[str, Any], folds: int = 3,
                            progress: bool = False, verify: bool = False,
                            verifier_context: int | Sequence[int] | None = None,
                            verifier_wait: int | Sequence[int] | None = None,
                            verifier_folds: int = 2,
                            verifier_rule: VerifierRule | None = DEFAULT_RULE,
                            relabel: bool = False, detector: bool = False) -> dict[str, Any]:
    """Leave-subjects-out CV of :func:`gesturemap.spot` with fixed ``settings``: each fold
    trains ``model`` (a kind name, with ``params``; the null class is one state of 8 Gaussians
    for an HHMM unless ``params`` says otherwise) on the other subjects' gestures and null
    takes and spots the fold's whole sessions. Returns the pooled out-of-fold metrics.

    ``verify``: each fold also trains a verifier on its training subjects' recordings
    (:func:`fit_verifier`, grouped by subject: its own cross-fitting inside them) and spots
    the held-out sessions with it where that cross-fitting chose it; ``verifier`` in the
    report says, per fold, whether it was on and why. ``verifier_context``: its context length
    (frames before an event's start), or several for its cross-fitting to choose among (None:
    0); ``verifier_wait`` likewise (frames after the spotter's emission); ``verifier_folds``: the
    folds of training subjects its cross-fitting deals them into (default 2: halves);
    ``verifier_rule``: when that cross-fitting switches it on (:func:`fit_verifier`'s).
    ``relabel``: the second stage is a context relabeller instead
    (:func:`~.spot_relabel.fit_relabeler`, the same arguments; ``verifier_context`` /
    ``verifier_wait`` None: its own grid). ``detector``: each fold also trains a window
    detector on its training subjects' recordings (:func:`~gesturemap.fit_detector`), merged
    with the spotter's events. The report's ``fold_metrics``: each fold's held-out metrics
    (``metrics``: pooled)."""
    settings, params = _checked(model, params, settings)
    held: list[SessionResult] = []
    verifiers: list[dict[str, Any]] = []
    per_fold = []
    verify = verify or relabel
    # more folds than subjects, or cross-fitting folds the training subjects cannot fill
    check_subjects(st.subject, folds, verifier_folds if verify else None)
    for k, test in enumerate(grouped_folds(st.subject, folds)):
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        fold, info = _train_and_spot(st, train, st, test, model, params, settings,
                                     (verifier_context, verifier_wait, verifier_folds,
                                      verifier_rule, relabel) if verify else None, detector)
        verifiers += [info] if info is not None else []
        per_fold.append(spotting_metrics(fold, [str(g) for g in st.gestures], st.rate_hz))
        held += fold
        if progress:
            on = (f", {'relabeller' if relabel else 'verifier'} "
                  f"{'on' if info['chosen'] else 'off'}: "
                  f"{info['reason']}") if info is not None else ""
            print(f"fold {k + 1}/{folds} done{on}", flush=True)
    report = {"protocol": f"{folds}-fold leave-subjects-out CV",
              "model": model, "params": params, "spotting": settings,
              "metrics": spotting_metrics(held, [str(g) for g in st.gestures], st.rate_hz),
              "fold_metrics": per_fold, **({"detector": True} if detector else {})}
    if verify:
        report["verifier"] = verifiers
    return report


def _checked(model: str, params: dict[str, Any], settings: dict[str, Any]
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The spotting settings checked and the model's parameters (an HHMM's null class one
    state of 8 Gaussians unless ``params`` says otherwise): a wrong name fails before any
    training."""
    from ...models import MODEL_REGISTRY
    from ...models.spotting.core import check_settings

    settings = check_settings(settings)
    if model not in MODEL_REGISTRY:
        raise GesturemapError(f"--model {model!r}: expected one of {sorted(MODEL_REGISTRY)}")
    params = dict(params)
    if model == "hhmm":
        params.setdefault("class_params", {NULL: {"states": 1, "gaussians": 8}})
    return settings, params


def _train_and_spot(train_st: Streams, train: np.ndarray, test_st: Streams, test: np.ndarray,
                    model: str, params: dict[str, Any], settings: dict[str, Any],
                    verifier: tuple[Any, Any, int, VerifierRule | None, bool] | None,
                    detector: bool = False
                    ) -> tuple[list[SessionResult], dict[str, Any] | None]:
    """Train on ``train_st``'s sessions ``train`` (and, given ``verifier`` = (context, wait,
    folds, rule, relabel), a verifier or with ``relabel`` a context relabeller on them; with
    ``detector`` a window detector on them too), spot ``test_st``'s sessions ``test``: their
    results, and the verifier's report (without the verifier itself) or None."""
    from ...models import MODEL_REGISTRY

    fitted = MODEL_REGISTRY[model](**params).fit(make_dataset(train_st, train, _same))
    spot_settings, info = dict(settings), None
    if verifier is not None:
        info = _fold_verifier(train_st, train, model, params, settings, *verifier)
        v = info.pop("verifier", None)
        if info["chosen"]:
            spot_settings["verifier"] = v
    if detector:
        spot_settings["detector"] = fit_detector(
            [train_st.sessions[i] for i in train], [train_st.labels[i] for i in train],
            gestures=train_st.gestures, rate_hz=train_st.rate_hz)
    held = evaluate_sessions(Spotter(fitted, **spot_settings), test_st, test, _same,
                             tolerance=int(round(test_st.rate_hz)))
    return held, info


def _fold_verifier(st: Streams, train: np.ndarray, model: str, params: dict[str, Any],
                   settings: dict[str, Any], context: int | Sequence[int] | None = 0,
                   wait: int | Sequence[int] | None = 0, folds: int = 2,
                   rule: VerifierRule | None = None, relabel: bool = False) -> dict[str, Any]:
    """A fold's verifier (``relabel``: context relabeller), trained on its training sessions
    only: ``chosen``, ``reason`` and (when chosen) ``verifier``; one that cannot be trained is
    off, with the reason."""
    fit = fit_relabeler if relabel else fit_verifier
    if not relabel:
        context, wait = context or 0, wait or 0
    try:
        v = fit({"kind": model, "params": params, "spotting": settings},
                [st.sessions[i] for i in train], [st.labels[i] for i in train],
                st.subject[train], gestures=st.gestures, rate_hz=st.rate_hz,
                context=context, wait=wait, folds=folds, rule=rule)
    except VerifierUnavailable as e:
        return {"chosen": False, "reason": str(e)}
    return {"chosen": bool(v.cv_["chosen"]), "reason": v.cv_["reason"], "verifier": v,
            "inner_with": v.cv_.get("inner_with"), "inner_without": v.cv_.get("inner_without"),
            **{k: v.cv_[k] for k in ("context", "wait", "weight", "context_scores", "scores",
                                     "folds", "rule") if k in v.cv_}}


def _same(x: np.ndarray) -> np.ndarray:
    return x


def fit_verifier(model: Any, recordings: Sequence[Any], frame_labels: Sequence[Any],
                 groups: Sequence[Any] | None = None, *, gestures: Sequence[Any] | None = None,
                 rate_hz: float = 50.0, C: float = 0.3, fa_budget: float = 0.3,
                 context: int | Sequence[int] = 0, wait: int | Sequence[int] = 0,
                 folds: int = 2, rule: VerifierRule | None = DEFAULT_RULE,
                 **spotter_settings: Any) -> SpotVerifier:
    """Train a spotting verifier (``Spotter(..., verifier=...)``) from continuous recordings
    labelled frame by frame, on the spotter's own detections on data its model never saw.

    ``model``: a function returning a new, unfitted model (e.g. ``lambda: gm.HHMM(states=10,
    class_params={gm.NULL: {"states": 1, "gaussians": 8}})``), or a project's model settings
    (``{"kind": "hhmm", "params": {...}, "spotting": {...}}``: its spotting settings are the
    spotter's, ``spotter_settings`` override them). ``recordings``: (T, D) arrays, the frames
    the model takes; ``frame_labels``: one (T,) label array per recording, every frame of a
    gesture labelled with it, every other frame with anything not in ``gestures`` (default:
    every label except :data:`NULL`). ``groups``: one per recording (e.g. the performer or
    the session), default each recording its own. ``rate_hz``: frames per second (an event
    counts when emitted by 1 s after its gesture ends; false alarms per minute).

    Cross-fitting over ``folds`` folds of groups (default 2: halves; the sorted groups dealt
    round-robin, :func:`~.spot_streams.cross_fit_folds`): a model trained on the other folds'
    gestures (one take per labelled run) and null takes spots each fold; its detections,
    labelled by what each should have said (:func:`detection_targets`), train a verifier on
    the other folds' detections that checks this fold's. The verifier is ``chosen`` iff the
    pooled score of those verified detections (micro F1 minus false alarms per minute beyond
    ``fa_budget``) is strictly higher than the spotter's alone and (``rule``, by default)
    also in at least 0.9 of 1000 paired bootstrap draws of the groups (on HAPT, nested
    leave-subjects-out: held-out micro F1 0.808 against 0.785 with the strict comparison
    alone, which a few inner detections can swing). Returns the verifier trained on every
    detection (logistic regression, ``C``) with ``cv_``: ``chosen``, ``reason``, the scores and metrics with and without, the
    detections per target and the fixed / broken / dropped counts. ``context``: frames before
    each event's start the verifier also reads (:func:`~..models.spot_verifier.context_stats`;
    0: none), or several lengths: each is cross-fitted, the best score kept (ties to the
    earlier; ``cv_["context"]``, ``cv_["context_scores"]``). ``wait``: frames after the
    spotter's emission the verifier waits for and reads (the events come that much later),
    one or several, chosen likewise (``cv_["wait"]``). ``rule``: the rule for ``chosen``
    (:class:`~.verifier_rule.VerifierRule`: a margin, a paired bootstrap over the groups;
    ``cv_["rule"]``; None: strictly higher alone). Raises
    :class:`VerifierUnavailable` (a :class:`~gesturemap.GesturemapError`) when it cannot be
    trained: fewer than two groups, more ``folds`` than groups, a fold's model without takes to
    train on, too few detections, a gesture never detected (``cv_["folds"]``: the folds used)."""
    from ...models.spotting.core import check_settings

    make_model, settings = spotting_model(model, "fit_verifier")
    settings.update(spotter_settings)
    settings.pop("verifier", None)
    # (trained on the spotter's own events: the detector merges after the verifier)
    settings.pop("detector", None)
    settings = check_settings(settings)
    contexts, waits = length_grid(context, "context"), length_grid(wait, "wait")
    st = labelled_streams(recordings, frame_labels, groups, gestures, rate_hz)
    classes = [str(g) for g in st.gestures]
    tol = int(round(rate_hz))
    found, plain = [], []  # (part, session, events, typical scores, ring frames)
    parts = cross_fit_folds(st.subject, folds)
    for part, test, spotter in cross_fit_spotters(st, parts, make_model, settings):
        typical = dict(zip(spotter.labels, spotter.typical_scores_.tolist(), strict=True))
        for i in test:
            events = spotter.spot(st.sessions[i])
            found.append((part, int(i), events, typical, spotter.event_frames_))
            plain.append(_match(st, int(i), events, tol))

    made: dict[tuple[int, int], list[list[Any]]] = {}

    def rows_of(c: int, w: int = 0) -> list[list[Any]]:
        if (c, w) not in made:
            made[c, w] = [[_rows(st, i, ev, _same, typ, classes, frames, tol, context=c, wait=w)
                           for p, i, ev, typ, frames in found if p == part]
                         for part in range(len(parts))]
        return made[c, w]
    m = spotting_metrics(plain, classes, rate_hz)
    make = lambda c, context=0, wait=0: StackedVerifier(c, C=C, context=context,  # noqa: E731
                                                        wait=wait)
    info = _cross_fit_contexts(st, rows_of, make, classes, _score(m, fa_budget), fa_budget,
                               contexts, tol, waits, rule)
    rows = rows_of(info.get("context", 0), info.get("wait", 0))
    info["inner_without"] = {k: m[k] for k in ("f1", "macro_f1", "false_alarms_per_min",
                                                "delay_p90_s")}
    targets = [t for p in rows for r in p for t in r[3]]
    info["targets"] = {c: targets.count(c) for c in [*classes, NULL]}
    info["chosen"] = info.pop("applied")
    info["folds"] = len(parts)
    verifier = _fit_verifier(make, classes, [r for p in rows for r in p],
                             info.get("context", 0), info.get("wait", 0)).verifier_
    verifier.cv_ = info
    return verifier
