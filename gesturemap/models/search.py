"""``gm.auto``: the family and settings for this dataset, chosen by cross-validation on its takes.

Every candidate (a model's settings) is scored by cross-validation grouped by take: each take is
held out whole, with the other takes of every class for training — leave-one-take-out when a
class has few takes, else ``folds`` folds that keep every class in every fold (with ``groups``,
whole groups held out, every class kept in every training part). The budget is
spent in three passes: the first candidate (the defaults, or a project's own model: what a
winner must beat) on every fold; every other candidate, in a fixed order (cheap families
first), on the first fold (a screen, within 60 % of the budget); then the other folds, best
screen first, for as many candidates as the budget allows. The best complete CV score wins (ties: the earlier candidate), and is
fitted on the whole dataset. A family's one-time start in a fresh process (imports, kernels
loaded) is spent on a few takes before its first fold, not counted as the candidate's fit time.

What a candidate is scored by depends on the task (``task``): how many held-out takes it names
right, how well its streamed outputs follow theirs, or, for spotting (a dataset with
``gm.NULL`` takes), how well :func:`gesturemap.spot` finds them played one after another
(:mod:`.spotting.choose`, with candidates that spot).

``model.selection_`` says what happened, truthfully: every candidate tried with its settings,
its CV score (fold by fold), its mean fit time and its status, the index of the winner (whose
``kind`` and ``params`` are exactly those of the returned model), and, when no cross-validation
was possible (a class with a single take, or a single group; a single class), why, and what was
fitted instead.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import GesturemapError, TrainingCancelled
from .base import (
    MODEL_REGISTRY,
    BaseModel,
    Cancel,
    jsonable_params,
    params_from_json,
    split_dataset,
)

#: Most of the budget the screen (every candidate on one fold) may take.
SCREEN_SHARE = 0.6

#: A candidate: (description, factory of an unfitted model).
Candidate = tuple[str, Callable[[], BaseModel]]


def default_candidates(bimodal: bool = False) -> list[Candidate]:
    """The candidates :func:`auto` tries, in order (each a fresh unfitted model)."""
    from .classic.core import KNN, SVM, NaiveBayes
    from .classic.nets import MLP, Linear, Polynomial
    from .classic.trees import DecisionTree
    from .dtw import DTW
    from .featured import Featured
    from .gmm import GMM
    from .hhmm import HHMM
    from .hmm import HMM

    if bimodal:
        return [
            ("GMR defaults", lambda: GMM()),
            ("HMR defaults", lambda: HHMM()),
            ("GMR 2 gaussians, regularisation 0.01",
             lambda: GMM(2, relative_regularization=0.01)),
            ("HMR 5 states, regularisation 0.01",
             lambda: HHMM(5, relative_regularization=0.01)),
            ("linear regression", lambda: Linear()),
            ("polynomial regression", lambda: Polynomial()),
            ("kNN regression", lambda: KNN()),
            ("MLP regression", lambda: MLP()),
        ]
    # cheap and often good first; hmmlearn's Baum-Welch (Python per iteration) is slower,
    # so its variants come once the quick families have a score
    return [
        ("HHMM defaults", lambda: HHMM()),
        ("DTW defaults", lambda: DTW()),
        ("GMM defaults", lambda: GMM()),
        ("HHMM regularisation 0.01", lambda: HHMM(relative_regularization=0.01)),
        ("GMM 2 gaussians, regularisation 0.01", lambda: GMM(2, relative_regularization=0.01)),
        ("HHMM + deltas, standardised", lambda: Featured.of(HHMM(), deltas=True)),
        ("HHMM standardised, regularisation 0.01",
         lambda: Featured.of(HHMM(relative_regularization=0.01), deltas=False)),
        ("HMM (hmmlearn) left-right 5 states", lambda: HMM()),
        ("DTW unconstrained band", lambda: DTW(band=1.0)),
        ("DTW not standardised", lambda: DTW(standardize=False)),
        ("DTW z-normalised per take", lambda: DTW(normalization="take")),
        ("kNN", lambda: KNN()),
        ("naive Bayes", lambda: NaiveBayes()),
        ("HHMM 5 states diagonal", lambda: HHMM(5, covariance="diagonal")),
        ("HMM (hmmlearn) + deltas", lambda: Featured.of(HMM(), deltas=True,
                                                        standardize=False)),
        ("HMM (hmmlearn) left-right 10 states + deltas",
         lambda: Featured.of(HMM(states=10), deltas=True, standardize=False)),
        ("HMM (hmmlearn) ergodic 5 states", lambda: HMM(transition="ergodic")),
        ("decision tree", lambda: DecisionTree(max_depth=8)),
        ("SVM", lambda: SVM()),
        ("MLP", lambda: MLP()),
        # not HMM(covariance="full"): hmmlearn's full-covariance emissions (a triangular solve
        # per state per iteration) took 83-133 s for one fold on HAPT / JapaneseVowels, and a
        # fold cannot be interrupted; gm.HMM(covariance="full") stays available
    ]


def take_folds(labels: Sequence[Any], folds: int = 5, seed: int = 0,
               groups: Sequence[Any] | None = None) -> tuple[list[np.ndarray], str]:
    """Held-out index sets for cross-validation grouped by take (or by ``groups``).

    Every class contributes to every fold (its takes dealt round-robin after a seeded
    shuffle), so each training part keeps every class. With fewer takes in a class than
    ``folds``, the number of folds is that smallest count (leave-one-take-out per class when
    it equals the number of takes). With ``groups`` (e.g. subjects), whole groups are held
    out together, dealt so that no fold holds every group a class has: each training part
    still keeps every class (with more folds than ``folds`` if the classes' groups leave no
    other way; one group a fold always does). Returns ``(held_out_indices, description)``;
    an empty list, and why, when a class cannot be held out without vanishing from training
    (a single take, or a single group, of that class).
    """
    _check_folds(folds)
    labels = list(labels)
    rng = np.random.default_rng(seed)
    if groups is not None:
        return _group_folds(labels, list(groups), folds, rng)
    # classes in order of first appearance: a set's order of text labels changes from one
    # process to the next (hash randomisation), and with it the folds the seed deals
    counts = {c: labels.count(c) for c in dict.fromkeys(labels)}
    smallest = min(counts.values())
    if smallest < 2:
        few = ", ".join(str(c) for c, n in counts.items() if n < 2)
        return [], (f"a class has a single take ({few}); record at least 2 takes of every "
                    "class to let gm.auto choose")
    k = min(folds, smallest)
    fold_of = np.zeros(len(labels), dtype=np.int64)
    for c in counts:
        idx = [i for i, lb in enumerate(labels) if lb == c]
        for j, i in enumerate(rng.permutation(idx)):
            fold_of[i] = j % k
    held = [np.flatnonzero(fold_of == f) for f in range(k)]
    if k == smallest and all(v == k for v in counts.values()):
        how = f"leave-one-take-out per class ({k} folds)"
    else:
        how = f"{k} folds grouped by take, every class in every fold"
    return held, how


def _check_folds(folds: Any) -> None:
    if not isinstance(folds, numbers.Integral) or isinstance(folds, bool) or folds < 2:
        raise GesturemapError(f"folds={folds!r} is not valid: expected a whole number >= 2 "
                              "(each fold is held out in turn while the others train), e.g. "
                              "gm.auto(ds, folds=5).")


#: Seeded deals of the groups tried for a number of folds before trying one fold more.
GROUP_DEALS = 20


def _group_folds(labels: list[Any], groups: list[Any], folds: int,
                 rng: np.random.Generator) -> tuple[list[np.ndarray], str]:
    """:func:`take_folds` with ``groups``: whole groups held out, every class kept in every
    training part (no fold holds all the groups of a class)."""
    uniq = sorted(set(groups), key=str)
    if len(uniq) < 2:
        return [], (f"every take is in one group ({uniq[0]}): give at least 2 groups to hold "
                    "out in turn")
    of_class = {c: sorted({g for g, lb in zip(groups, labels, strict=True) if lb == c}, key=str)
                for c in dict.fromkeys(labels)}
    lonely = [f"class {c} only in group {gs[0]}" for c, gs in of_class.items() if len(gs) < 2]
    if lonely:
        return [], (f"too few groups per class: {', '.join(lonely)}; holding out a class's "
                    "only group would leave it out of training and score it untrained. Record "
                    "every class in at least 2 groups to let gm.auto choose")
    classes_of = {g: {lb for h, lb in zip(groups, labels, strict=True) if h == g} for g in uniq}
    # one group a fold (k = len(uniq)) always works: every class has 2 groups, so 2 folds
    for k in range(min(folds, len(uniq)), len(uniq) + 1):
        for _ in range(GROUP_DEALS):
            fold_of = _deal_groups(uniq, classes_of, of_class, k, rng)
            if all(len({fold_of[g] for g in gs}) > 1 for gs in of_class.values()):
                at = np.array([fold_of[g] for g in groups])
                held = [np.flatnonzero(at == f) for f in range(k)]
                more = (f" (not {folds}: fewer would hold out every group of a class at once)"
                        if k > folds else "")
                return held, (f"{k} folds{more} grouped by {len(uniq)} groups, every class in "
                              "every training part")
    raise AssertionError("one group a fold keeps every class")  # pragma: no cover


def _deal_groups(uniq: list[Any], classes_of: dict[Any, set[Any]],
                 of_class: dict[Any, list[Any]], k: int,
                 rng: np.random.Generator) -> dict[Any, int]:
    """One seeded deal of the groups to ``k`` folds: the groups of the rarest classes first,
    each to the fold where it would not hold the last group of a class whose other groups are
    all there, then where fewer of its classes are already, then the emptiest (a round robin
    when every group has every class)."""
    order = [uniq[i] for i in rng.permutation(len(uniq))]
    order.sort(key=lambda g: min(len(of_class[c]) for c in classes_of[g]))
    fold_of: dict[Any, int] = {}
    left = {c: len(gs) for c, gs in of_class.items()}
    present: list[set[Any]] = [set() for _ in range(k)]
    load = [0] * k

    def cost(g: Any, f: int) -> tuple[int, int, int, int]:
        closes = sum(1 for c in classes_of[g] if left[c] == 1
                     and all(fold_of[h] == f for h in of_class[c] if h in fold_of))
        return closes, len(classes_of[g] & present[f]), load[f], f

    for g in order:
        f = min(range(k), key=lambda f, g=g: cost(g, f))
        fold_of[g] = f
        present[f] |= classes_of[g]
        load[f] += 1
        for c in classes_of[g]:
            left[c] -= 1
    return fold_of


def _subset(recs: list[Any], idx: Sequence[int]) -> Any:
    from ..data import Dataset

    ds = Dataset()
    for i in idx:
        r = recs[i]
        ds.add(r.inputs, label=r.label, outputs=r.outputs)
    return ds


#: What :func:`auto` chooses for: naming takes, following outputs, or spotting gestures in a
#: stream (``task``; None: spotting when the dataset holds ``gm.NULL`` takes).
TASKS = ("recognition", "regression", "spotting")


def _score(model: BaseModel, recs: list[Any], idx: Sequence[int], task: str) -> float:
    """Held-out accuracy of ``predict`` (recognition), R^2 of the streamed output
    (regression, every take streamed from a reset) or spotting's micro F1 over the held-out
    takes played as one stream (:func:`~.spotting.choose.spotting_score`)."""
    if task == "spotting":
        from .spotting.choose import spotting_score

        return spotting_score(model, [recs[i] for i in idx])
    if task != "regression":
        pred = model.predict([recs[i].inputs for i in idx])
        return float(np.mean([p == recs[i].label for p, i in zip(pred, idx, strict=True)]))
    truth, out = [], []
    for i in idx:
        stream = model.stream()
        out.append(np.array([r.output for r in stream.run(recs[i].inputs)]))
        truth.append(np.asarray(recs[i].outputs, dtype=np.float64))
    y, yhat = np.vstack(truth), np.vstack(out)
    var = y.var(axis=0)
    var[var <= 0] = 1.0
    return float(1.0 - np.mean(((y - yhat) ** 2).mean(axis=0) / var))


def describe(model: BaseModel) -> dict[str, Any]:
    return {"model": model.kind, "params": jsonable_params(model.get_params())}


def cross_validate(model_factory: Callable[[], BaseModel], recs: list[Any],
                   held_out: list[np.ndarray], bimodal: bool = False,
                   deadline: float | None = None, cancel: Cancel | None = None,
                   task: str | None = None) -> dict[str, Any]:
    """Cross-validate one candidate: fold scores, mean score and mean fit time.

    With ``deadline`` (a ``time.perf_counter()`` value), stops early when the folds left would
    not finish by then (``status`` says so and the score is None). ``task``: what is scored,
    one of :data:`TASKS` (None: regression with ``bimodal``, else recognition).
    """
    entry: dict[str, Any] = {"fold_scores": [], "fits": []}
    task = task or ("regression" if bimodal else "recognition")
    _run_folds(entry, model_factory, recs, held_out, len(held_out), task, deadline, cancel)
    del entry["fits"]
    return entry


def _run_folds(entry: dict[str, Any], model_factory: Callable[[], BaseModel], recs: list[Any],
               held_out: list[np.ndarray], until: int, task: str,
               deadline: float | None, cancel: Cancel | None) -> None:
    """Run the folds of ``entry`` not run yet, up to fold ``until``; keep its ``fold_scores``,
    ``fits``, ``fit_seconds``, ``status`` and ``cv_score`` (set once every fold has run)."""
    scores, fits = entry["fold_scores"], entry["fits"]
    all_idx = np.arange(len(recs))
    k = len(held_out)
    if not scores:
        warm_up(model_factory, recs, task, cancel)  # never timed as a fold's fit
    for f in range(len(scores), until):
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("the model search was cancelled")
        train = np.setdiff1d(all_idx, held_out[f])
        t0 = time.perf_counter()
        # the cancel flag reaches the numeric kernels: a cancelled search stops at once and
        # gives the CPU back (to a retrain, say)
        model = model_factory().fit(_subset(recs, train), cancel=cancel)
        t1 = time.perf_counter()
        scores.append(_score(model, recs, held_out[f], task))
        fits.append(t1 - t0)
        spent = time.perf_counter() - t0
        left = k - f - 1
        if deadline is not None and left and time.perf_counter() + spent * left > deadline:
            entry.update(status=f"stopped after {f + 1} of {k} folds: over budget",
                         cv_score=None, fit_seconds=float(np.mean(fits)))
            return
    entry["fit_seconds"] = float(np.mean(fits))
    if len(scores) == k:
        entry.update(status="ok", cv_score=float(np.mean(scores)))
    else:
        entry.update(status=f"screened on {len(scores)} of {k} folds", cv_score=None)


#: The model classes fitted in this process already: their one-time start (imports, compiled
#: kernels loaded: about 1 s for hmmlearn's first fit, 11 ms warm) is behind them.
_WARM: set[type] = set()


def _families(model: BaseModel) -> set[type]:
    """The model classes a candidate runs: its own, and a wrapped model's (``Featured``)."""
    out = {type(model)}
    if model.kind == "featured":
        spec = getattr(model, "model", None) or {}
        inner = MODEL_REGISTRY.get(spec.get("model", "hhmm")) if isinstance(spec, dict) else None
        if inner is not None:
            out.add(inner)
    return out


def mark_warm(cls: type) -> None:
    """Record that ``cls`` was fitted in this process (the trainer's start-up warm-up)."""
    _WARM.add(cls)


def warm_up(model_factory: Callable[[], BaseModel], recs: list[Any], task: str,
            cancel: Cancel | None = None) -> None:
    """Fit and score a fresh candidate once, untimed, on a few takes (one of each of two
    classes, or two with outputs) when its family was never fitted in this process: its
    one-time start is then spent (from the budget, which is wall time) but never counted as
    the candidate's fit time, which decides whether its other folds fit in the budget.
    ``task``: one of :data:`TASKS`."""
    bimodal = task == "regression"
    model = model_factory()
    families = _families(model)
    if families <= _WARM:
        return
    first: dict[Any, int] = {}
    for i, r in enumerate(recs):
        first.setdefault(r.label, i)
    few = list(range(min(2, len(recs)))) if bimodal else list(first.values())[:2]
    try:
        model.fit(_subset(recs, few), cancel=cancel)
        _score(model, recs, few[:1], task)
    except TrainingCancelled:
        raise
    except Exception:  # a warm-up only: the candidate's own folds will tell
        pass
    _WARM.update(families)


def auto(dataset: Any, budget_s: float = 20.0, *, folds: int = 5, seed: int = 0,
         groups: Sequence[Any] | None = None, candidates: Sequence[Candidate] | None = None,
         fallback: Callable[[], BaseModel] | None = None,
         progress: Callable[[float, str], None] | None = None,
         cancel: Cancel | None = None, task: str | None = None) -> BaseModel:
    """Choose a model family and its settings for ``dataset`` by cross-validation on its takes.

    Parameters
    ----------
    dataset : gesturemap.Dataset
        The takes (labelled; with outputs for a regression).
    budget_s : float
        Seconds the search may take (cross-validation; the final fit comes on top, about one
        fold's fit time). The first candidate is cross-validated first; every other one is
        screened on one fold, then completed, best screen first; only complete
        cross-validations compete. The budget is checked between
        folds (a candidate whose other folds would not finish in time is not completed, and is
        listed so), but a fold under way is not interrupted, so one slow fold may overrun it.
        A family's one-time start in a fresh process (about 1 s for hmmlearn) is spent once on
        a few takes, before its first fold: from the budget, but never as its fit time.
    folds : int
        Most folds, 2 or more (fewer when a class has fewer takes: leave-one-take-out).
    seed : int
        Seeds how takes are dealt to folds: the same seed, the same choice.
    groups : sequence, optional
        One group per take (e.g. the performer): whole groups are held out together, dealt so
        that every training part keeps every class (no fold holds all the groups of a class;
        more folds than ``folds`` when nothing else does). A class recorded by a single group
        cannot be held out without being scored untrained: no cross-validation then, as for a
        class with a single take (``reason`` names the class and its group).
    candidates : sequence of (description, factory), optional
        What to try, in order; default :func:`default_candidates`.
    fallback : callable, optional
        The model fitted when cross-validation is impossible (a class with a single take or
        group, a dataset of a single class: every candidate would name it for every take) or
        no candidate finished; default the first candidate (the defaults).
    task : str, optional
        What the model is chosen for (:data:`TASKS`): ``"recognition"`` (each candidate
        scored by how many held-out takes it names right), ``"regression"`` (R^2 of its
        streamed outputs; the only task of a dataset with outputs) or ``"spotting"`` (finding
        gestures in a continuous stream with :func:`gesturemap.spot`: the candidates are
        :func:`~.spotting.choose.spotting_candidates`, each scored by the micro F1 of its
        events over the held-out takes played one after another). None (default): spotting
        when the dataset holds ``gm.NULL`` takes (the "anything else" a spotter needs) and no
        ``candidates`` are given, regression with outputs, else recognition. A caller's own
        candidates are scored for recognition unless ``task`` says otherwise.

    Returns
    -------
    model : a fitted model, with ``model.selection_`` (also saved with it, in
        ``training_info_["selection"]``): ``{"task", "score", "cv", "folds", "budget_s",
        "elapsed_s",
        "candidates": [{"name", "model", "params", "cv_score", "fold_scores", "fit_seconds",
        "status"}], "chosen": index or None, "chosen_name", "model", "params", "cv_score",
        "reason"}``.
    """
    start = time.perf_counter()
    if (not isinstance(budget_s, numbers.Real) or isinstance(budget_s, bool)
            or not math.isfinite(budget_s) or budget_s <= 0):
        raise GesturemapError(f"budget_s={budget_s!r} is not valid: expected a finite number "
                              "of seconds > 0, e.g. gm.auto(ds, budget_s=20).")
    budget_s = float(budget_s)
    _check_folds(folds)
    _, _, d_out = split_dataset(dataset)  # validates, with fit()'s messages
    recs = list(dataset)
    bimodal = d_out > 0
    task = _task(task, recs, bimodal, candidates is not None)
    cands = list(candidates) if candidates is not None else _candidates_for(task)
    if not cands:
        raise GesturemapError("candidates is empty: give at least one (name, factory) pair.")
    if groups is not None and len(groups) != len(recs):
        raise GesturemapError(f"groups has {len(groups)} entries for {len(recs)} takes: give "
                              "one group per take, in the dataset's order.")
    classes = list(dict.fromkeys(r.label for r in recs))
    if bimodal:
        held, how = take_folds([0] * len(recs), folds, seed, groups)
    elif len(classes) < 2:
        # every candidate would name the one class it knows for every take: a CV score of 1
        # that cannot tell them apart
        held, how = [], (f"the dataset has a single class ({classes[0]}), and a recogniser "
                         "of one class names it for every take whatever its settings; record "
                         "a second class to let gm.auto choose")
    else:
        held, how = take_folds([r.label for r in recs], folds, seed, groups)
    deadline = start + budget_s
    tried: list[dict[str, Any]] = []
    reason = None
    fitted = cands[0][0] if fallback is None else "the given fallback"
    if not held:
        reason = f"cannot cross-validate: {how}. Fitted {fitted} instead, without a CV score."
    else:
        # Three passes, so that a tight budget is spent on the promising candidates: the first
        # candidate (the defaults, or a project's own model: what a winner must beat) fully;
        # then every other one on the first fold (a screen, in at most SCREEN_SHARE of the
        # budget); then the other folds, best screen first.
        tried = [{"name": name, **describe(factory()), "fold_scores": [], "fits": [],
                  "fit_seconds": None, "cv_score": None, "status": "not tried: budget spent"}
                 for name, factory in cands]
        k = len(held)
        screen_end = start + SCREEN_SHARE * float(budget_s)
        passes = [([0], k, deadline), (range(1, len(cands)), 1, screen_end), (None, k, deadline)]
        for order, until, stop in passes:
            if order is None:
                screened = [i for i, e in enumerate(tried) if e["status"].startswith("screened")]
                order = sorted(screened, key=lambda i: (-tried[i]["fold_scores"][0], i))
            for i in order:
                name, factory = cands[i]
                entry = tried[i]
                if cancel is not None and cancel.is_set():
                    raise TrainingCancelled("the model search was cancelled")
                if progress is not None:
                    progress(min(1.0, (time.perf_counter() - start) / budget_s),
                             f"trying {name}")
                now = time.perf_counter()
                if now >= stop:
                    if entry["fold_scores"]:
                        entry["status"] += "; not completed: budget spent"
                    continue
                if entry["fits"] and now + np.mean(entry["fits"]) * (
                        until - len(entry["fold_scores"])) > deadline:
                    entry["status"] += "; not completed: its other folds would overrun the budget"
                    continue
                try:
                    # a screen runs its one fold whatever it predicts; a full CV checks the
                    # budget between folds
                    _run_folds(entry, factory, recs, held, until, task,
                               deadline if until > 1 else None, cancel)
                except TrainingCancelled:
                    raise
                except (GesturemapError, ValueError, np.linalg.LinAlgError) as exc:
                    entry.update(status=f"failed: {exc}", cv_score=None)
        for entry in tried:
            entry.pop("fits", None)
    scored = [i for i, e in enumerate(tried) if e["cv_score"] is not None]
    if held and not scored:
        reason = ("no candidate finished its cross-validation within the budget "
                  f"({budget_s:g} s); fitted {fitted} instead. Give a larger budget_s.")
    if scored:
        best = max(scored, key=lambda i: (tried[i]["cv_score"], -i))
        factory = cands[best][1]
        chosen_name = tried[best]["name"]
    else:
        best = None
        factory = fallback or cands[0][1]
        chosen_name = "fallback: " + (cands[0][0] if fallback is None else "given fallback")
    model = factory().fit(dataset, cancel=cancel)
    selection = {
        "task": task,
        "score": _SCORES[task],
        "cv": how if held else None,
        "folds": len(held),
        "budget_s": budget_s,
        "elapsed_s": time.perf_counter() - start,
        "candidates": tried,
        "chosen": best,
        "chosen_name": chosen_name,
        **describe(model),
        "cv_score": tried[best]["cv_score"] if best is not None else None,
        "reason": reason,
    }
    model.selection_ = selection
    info = dict(getattr(model, "training_info_", None) or {})
    info["selection"] = selection
    model.training_info_ = info
    return model


def _candidates_for(task: str) -> list[Candidate]:
    """:func:`auto`'s default candidates for ``task``."""
    if task == "spotting":
        from .spotting.choose import spotting_candidates

        return spotting_candidates()
    return default_candidates(task == "regression")


def _task(task: Any, recs: list[Any], bimodal: bool, given: bool) -> str:
    """:func:`auto`'s ``task``, checked, or the one its dataset asks for (None)."""
    if task is None:
        from .spotting.core import NULL

        if bimodal:
            return "regression"
        # null takes are what a spotter is trained with: a dataset that holds them is meant
        # for spotting, unless the caller's own candidates say what is chosen among
        return "spotting" if not given and any(r.label == NULL for r in recs) else "recognition"
    if task not in TASKS:
        raise GesturemapError(f"task={task!r} is not valid: expected one of "
                              f"{', '.join(map(repr, TASKS))} or None (chosen from the dataset)")
    if (task == "regression") != bimodal:
        raise GesturemapError(
            f"task={task!r} for a dataset {'with' if bimodal else 'without'} outputs: "
            + ("its takes' outputs are followed, task='regression' (or leave task out)"
               if bimodal else "regression follows takes' outputs; record them, or give "
               "task='recognition' or 'spotting'"))
    return task


#: How each task's CV score is computed (``selection_["score"]``).
_SCORES = {"recognition": "accuracy of predict on the held-out takes",
           "regression": "R^2 of the streamed outputs on the held-out takes",
           "spotting": "micro F1 of gm.spot at its defaults over each fold's held-out takes "
                       "played one after another (each gesture take after a null take)"}


def selection_of(model: Any) -> dict[str, Any] | None:
    """A model's search record: ``model.selection_``, or the one saved with it, or None."""
    sel = getattr(model, "selection_", None)
    if sel is None:
        sel = (getattr(model, "training_info_", None) or {}).get("selection")
    return sel


def model_from_description(desc: dict[str, Any]) -> BaseModel:
    """An unfitted model from ``{"model": kind, "params": {...}}`` (a selection entry)."""
    return MODEL_REGISTRY[desc["model"]](**params_from_json(desc["params"]))
