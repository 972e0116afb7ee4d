"""Nested spotting CV over model variants: the model itself chosen per outer fold.

:func:`~gesturemap.evaluation.spotting.cv.nested_cv` chooses the spotter's settings (and its
verifier) by an inner leave-subjects-out CV, for one way of training the model. Some choices
belong to the model's training instead — on HAPT, the null class's own covariance floor
(a null class trained on walking as well as on still postures gets Gaussians too
wide for those postures unless its floor is lower). :func:`nested_cv_variants` runs the nested
CV once per model variant on the same folds and keeps, in each outer fold, the variant whose
chosen setting has the best inner score: the held-out figure of the whole selection, since
only inner scores decide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .cv import _evaluate, _score, nested_cv
from .scores import spotting_metrics
from .streams import Streams, grouped_folds


def inner_score(part: Mapping[str, Any], fa_budget: float = 0.3) -> float:
    """The inner-CV score of the setting one outer fold chose: with its verifier switched on,
    the verifier's cross-fitted inner score; else the chosen setting's F1 minus its false
    alarms per minute beyond ``fa_budget`` (nested_cv's own criterion). ``part``: a
    :func:`nested_cv` result of one outer fold (``only_fold``), or its JSON form."""
    verifier = part.get("verifier")
    if verifier and verifier[0]["applied"]:
        return float(verifier[0]["inner_score_with"])
    for combo, m in part["inner"][0]:
        if combo == part["chosen"][0]:
            return float(m["f1"] - max(0.0, m["false_alarms_per_min"] - fa_budget))
    raise ValueError("the chosen setting is not in the inner table")


def pick_variant(runs: Mapping[str, Mapping[str, Any]], fa_budget: float = 0.3) -> str:
    """The variant (a key of ``runs``: one outer fold's result each) with the best inner
    score; ties go to the earlier variant."""
    if not runs:
        raise ValueError("no variant to choose from")
    names = list(runs)
    scores = [inner_score(runs[n], fa_budget) for n in names]
    return names[int(np.argmax(scores))]


def nested_cv_variants(st: Streams, variants: Mapping[str, Callable[[], Any]],
                       grid: dict[str, Sequence[Any]],
                       features: Callable[[np.ndarray], np.ndarray], outer: int = 3,
                       only_fold: int | None = None, fa_budget: float = 0.3,
                       log: Callable[[str], None] = print, **kwargs: Any) -> dict[str, Any]:
    """:func:`nested_cv` once per model variant (``variants``: name -> a function returning
    the untrained model), outer fold by outer fold; in each outer fold the variant whose chosen
    setting has the best inner score (:func:`inner_score`; ties to the earlier variant) gives
    the held-out results. Returns ``nested_cv``'s keys for the selection (pooled ``metrics``,
    ``chosen``, ``events``, ``sessions``, ``inner`` and, with a verifier, ``verifier``, one
    entry per outer fold run), plus ``variant``: the variant picked per outer fold, and
    ``variants``: per outer fold, every variant's own ``nested_cv`` result and inner score
    (every variant's held-out figure is there too; none of them decides). ``kwargs`` go to
    ``nested_cv`` unchanged."""
    if not variants:
        raise ValueError("nested_cv_variants needs at least one model variant")
    folds = range(len(grouped_folds(st.subject, outer))) if only_fold is None else [only_fold]
    out: dict[str, Any] = {"chosen": [], "events": {}, "sessions": [], "inner": [],
                           "variant": [], "variants": []}
    for fo in folds:
        runs = {}
        for name, make_model in variants.items():
            log(f"outer fold {fo}: variant {name}")
            runs[name] = nested_cv(st, make_model, grid, features, outer=outer, only_fold=fo,
                                   fa_budget=fa_budget, log=log, **kwargs)
        best = pick_variant(runs, fa_budget)
        log(f"outer fold {fo}: variant {best} picked (inner scores "
            + ", ".join(f"{n} {inner_score(r, fa_budget):.3f}" for n, r in runs.items()) + ")")
        run = runs[best]
        out["variant"].append(best)
        out["variants"].append({n: {**r, "inner_score": inner_score(r, fa_budget)}
                                for n, r in runs.items()})
        out["chosen"] += run["chosen"]
        out["inner"] += run["inner"]
        out["events"].update(run["events"])
        out["sessions"] += run["sessions"]
        for key in ("verifier", "in_loop"):
            if key in run:
                out.setdefault(key, []).extend(run[key])
    out["metrics"] = spotting_metrics(out["sessions"], [str(g) for g in st.gestures], st.rate_hz)
    return out


def per_class_min_stay(st: Streams, parts: Sequence[tuple[np.ndarray, dict, Any]],
                       best: tuple[dict[str, Any], dict[str, Any]],
                       features: Callable[[np.ndarray], np.ndarray], fa_budget: float = 0.3,
                       values: Sequence[float] = (0.0, 0.5)
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ``refine`` step for :func:`nested_cv`: from the grid's chosen setting ``best``
    (setting, inner metrics), each gesture class in turn (``st.gestures``' order) tries each
    of ``values`` as its own ``min_stay`` (a ``{label: fraction}`` dict), every other class
    as it stands; a value is kept when the inner score (F1 minus false alarms per minute
    beyond ``fa_budget``, over every inner fold: ``parts``) rises. One pass; a gesture whose
    performers differ in how long they hold its first posture can then do without the
    minimum the others need. Returns the setting and its inner metrics."""
    combo, metrics = dict(best[0]), best[1]
    classes = [str(g) for g in st.gestures]
    for g in classes:
        for v in values:
            # every class's min_stay spelt out, so that one class's own value leaves the
            # others as they stand
            base = combo.get("min_stay", 0.0)
            own = dict(base) if isinstance(base, dict) else {c: base for c in classes}
            if own.get(g) == v:
                continue
            cand = {**combo, "min_stay": {**own, g: v}}
            res = []
            for itest, spotted, model in parts:
                res += _evaluate(model, None, cand, st, itest, features, spotted)
            m = spotting_metrics(res, classes, st.rate_hz)
            if _score(m, fa_budget) > _score(metrics, fa_budget):
                combo, metrics = cand, m
    return combo, metrics
