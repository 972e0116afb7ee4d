"""Continuous spotting on HAPT's training subjects: gm.spot beside two baselines, held out.

Protocol (``datasets/HAPTTransitions/README.md`` of the shared data, ``shared_data``): gestures are the six postural
transitions (labels 7-12), everything else is null; an event counts when emitted within its
ground-truth event or up to 1 s after; micro/macro F1, median / p90 delay, false alarms per
minute of null. Nested leave-subjects-out cross-validation: 3 outer folds of 7 subjects; in each,
the settings are chosen by a 2-fold leave-subjects-out CV on its 14 training subjects (best F1,
false alarms over 0.3 per minute paid for), then a model trained on the 14 spots the 7 held-out
subjects' whole sessions. Every figure is out-of-fold; the withheld test subjects of HAPT are
never touched.

Systems:

- ``gm.spot`` over an HHMM (10 states, 1 Gaussian, left-right) trained on the transitions and on
  null takes (runs of 100 consecutive null frames, one every 1000 frames of each stretch of
  null; the null class is one state of 8 Gaussians via ``class_params``); raw 50 Hz accelerometer + gyroscope.
- Baseline "window": a 2 s sliding-window classifier (per channel mean, std, min, max, last -
  first over the last 100 frames, every 5 frames; extra-trees, 50 trees) with a null class,
  a majority filter over the last ``k`` decisions, an event when the filtered label turns to a
  gesture.
- Baseline "sDTW": subsequence (open-begin) DTW against every training transition (gm.DTW,
  standardised, length-normalised) with per-class thresholds (``factor`` times the class's
  median distance from a take to its nearest other take), through the same decision logic
  (``gm.Spotter`` on a DTW); run at 5 Hz (every 10th frame, events mapped back to the 50 Hz
  frame index) to keep the baseline to minutes.

Run from the repository root (minutes of CPU; longer niced on a busy machine)::

    nice -n 10 python3 -m benchmarks.spotting_hapt [--out docs/spotting.json] [--quick]

or the three systems side by side, then merged::

    for s in gm window dtw; do nice -n 10 python3 -m benchmarks.spotting_hapt --only $s & done
    wait; python3 -m benchmarks.spotting_hapt --merge

The shipped procedure (its estimate in docs/spotting.md)::

    nice -n 10 python3 -m benchmarks.spotting_hapt --only gm --fold K --verify \
        --verify-context 0 50 100 --verify-confidence 0.9 --partition-seed S --out DIR/spotting.json

for K = 0, 1, 2, then ``--select DIR --out DIR_select.json``.

``--quick`` runs only gm.spot with a 2-setting grid (and the HHMM's null floor alone). Variants of gm.spot (``--deltas``,
``--low-pass ALPHA``, ``--gaussians N``, ``--settle FRAMES...`` with
``--settle-ratio R...`` (waiting for the movement to settle before naming an event),
``--relabel CONTEXT...`` (a second stage relabelling each event, or not, chosen by the inner
CVs: 1-NN DTW, or with ``--relabel-with stats`` logistic regression on segment statistics),
``--verify`` (a stacked verifier trained on the spotter's own out-of-fold detections,
switched on per outer fold by a cross-fit over the inner folds; the held-out events come from
the live path, ``Spotter(..., verifier=...)``; with ``--verify-in-loop`` every setting is
cross-fitted and chosen by its better score, plain or verified; with ``--verify-folds K`` it
is cross-fitted over K folds of the outer training subjects of its own),
``--threshold``/``--defer`` grids, ``--null-model null+gestures`` the null model that also
holds every gesture state; ``--null-every FRAMES``, ``--null-states N``,
``--null-gaussians N``, ``--null-transition``, ``--null-relative-regularization R...`` the
null takes' spacing and the null class; with several floors, the default ``class
0.01``, each outer fold keeps the floor whose chosen setting has the best inner score)
run one outer fold at a time
(``--only gm --fold K``); ``--select DIR...`` pools each variant's folds and gives the held-out
figure of choosing the variant per outer fold by its inner-CV score
(``docs/spotting_variants.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import gesturemap as gm
from benchmarks.shared_data import DATASETS
from gesturemap.evaluation.spotting.cv import (
    SegmentStats,
    StackedVerifier,
    Streams,
    grouped_folds,
    load_streams,
    low_pass,
    make_dataset,
    nested_cv,
)
from gesturemap.evaluation.spotting.scores import ground_truth_events as gt_events
from gesturemap.evaluation.spotting.scores import match_detections, spotting_metrics
from gesturemap.evaluation.spotting.variants import (
    inner_score,
    nested_cv_variants,
    per_class_min_stay,
    pick_variant,
)
from gesturemap.evaluation.spotting.verifier_rule import verifier_rule
from gesturemap.models.spotting.core import NULL_MODELS
from gesturemap.models.spotting.verifier import parse_context, parse_wait

DATA = DATASETS / "HAPTTransitions"
RATE = 50.0
WINDOW = 100  # 2 s
HOP = 5


def _identity(x: np.ndarray) -> np.ndarray:
    return x


#: the HHMM's relative_regularization (``--relative-regularization``; the package default 0.1)
RELATIVE_REGULARIZATION = [0.1]
#: the HHMM's deltas (off unless ``--deltas``: the HHMM's default is on, which spots worse here)
DELTAS = [False]
#: Gaussians per gesture state (``--gaussians``; 1 unless told)
GAUSSIANS = [1]
#: the null class's parameters (``--null-states``, ``--null-gaussians``,
#: ``--null-transition``; one state of 8 Gaussians unless told)
NULL_CLASS: list[dict[str, Any]] = [{"states": 1, "gaussians": 8}]
#: the null class's floors each outer fold chooses among by inner score (None: the HHMM's;
#: ``--null-relative-regularization``): the declared rule adopted it, held out on
#: fresh partitions 9-11 (mean micro F1 0.785 against 0.780 with the HHMM's floor alone)
NULL_FLOORS: tuple[float | None, ...] = (None, 0.01)
#: frames between two null takes' starts in a stretch of null (``--null-every``; 1000 unless
#: told, ``make_dataset``'s default)
NULL_EVERY = [1000]


def hhmm(null_relative_regularization: float | None = None) -> gm.HHMM:
    """The spotting HHMM; ``null_relative_regularization``: the null class's own covariance
    floor (None: ``NULL_CLASS``'s, else the HHMM's)."""
    null = dict(NULL_CLASS[0])
    if null_relative_regularization is not None:
        null["relative_regularization"] = null_relative_regularization
    return gm.HHMM(states=10, gaussians=GAUSSIANS[0],
                   relative_regularization=RELATIVE_REGULARIZATION[0], deltas=DELTAS[0],
                   class_params={gm.NULL: null})


def _null_floor(text: str) -> float | None:
    """``--null-relative-regularization``'s values: a float, or 'class' (None: the HHMM's)."""
    return None if text == "class" else float(text)


def null_variants(floors: list[float | None] | None) -> dict[str, Any] | None:
    """The model variants of several null floors (name -> untrained HHMM), or None (one)."""
    if floors is None or len(floors) < 2:
        return None
    return {("class" if f is None else f"null_rr_{f:g}"): partial(hhmm, f) for f in floors}


#: ``--augment-speeds``: each gesture take is also added replayed this many times faster
#: (resampled by linear interpolation); empty: none
AUGMENT_SPEEDS: list[float] = []
#: ``--augment-rotations K DEGREES``: every take (gestures and null) is also added K times,
#: each turned by a random rotation of at most DEGREES about a random axis (the accelerometer's
#: and the gyroscope's three axes alike: the phone sitting differently); (0, 0): none
AUGMENT_ROTATIONS: list[float] = [0, 0.0]


def _rotation(rng: np.random.Generator, degrees: float) -> np.ndarray:
    """A random rotation matrix: a uniform axis, an angle uniform in +-degrees (Rodrigues)."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    a = np.radians(rng.uniform(-degrees, degrees))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


def training_data(st: Streams, idx: Any, features: Any) -> gm.Dataset:
    """The training takes of sessions ``idx`` (``make_dataset``, null takes every
    ``NULL_EVERY`` frames), with ``AUGMENT_SPEEDS`` each gesture take also replayed faster or
    slower."""
    ds = make_dataset(st, idx, features, null_every=NULL_EVERY[0])
    for r in list(ds) if AUGMENT_SPEEDS else []:
        if r.label == gm.NULL:
            continue
        x = np.asarray(r.inputs, dtype=np.float64)
        for f in AUGMENT_SPEEDS:
            n = max(2, int(round(len(x) / f)))
            t = np.linspace(0, len(x) - 1, n)
            ds.add(np.column_stack([np.interp(t, np.arange(len(x)), c) for c in x.T]),
                   label=r.label)
    k, degrees = int(AUGMENT_ROTATIONS[0]), AUGMENT_ROTATIONS[1]
    rng = np.random.default_rng(len(idx) * 1000 + int(np.sum(idx)))  # the same per training set
    for r in list(ds) if k else []:
        x = np.asarray(r.inputs, dtype=np.float64)
        for _ in range(k):
            rot = _rotation(rng, degrees)
            ds.add(np.hstack([x[:, :3] @ rot.T, x[:, 3:6] @ rot.T]), label=r.label)
    return ds


def dtw_relabeler(gestures: gm.Dataset) -> gm.DTW:
    """The second stage of ``--relabel``: 1-NN DTW over per-take z-normalised takes."""
    return gm.DTW(normalization="take", n_jobs=1).fit(gestures)


def stats_relabeler(gestures: gm.Dataset) -> SegmentStats:
    """The second stage of ``--relabel --relabel-with stats``: logistic regression (C 0.3) on a
    segment's start / end posture (means of its first / last 10 frames), log length, per-channel
    mean and log std."""
    return SegmentStats(C=0.3, max_iter=3000).fit(gestures)


RELABELERS = {"dtw": dtw_relabeler, "stats": stats_relabeler}


def stacked_verifier(classes: list[str], context: int = 0, wait: int = 0) -> StackedVerifier:
    """The second stage of ``--verify``: logistic regression (C 0.3) over the six transitions
    and null on a detection's segment statistics (frames start .. emitted), the spotter's
    label (one-hot) and log(score / the class's typical score), and with a ``context`` the
    statistics of that many frames before its start (``--verify-context``), with a ``wait``
    those of that many frames after the spotter's emission (``--verify-wait``), trained on the
    spotter's own out-of-fold detections in the inner CV."""
    return StackedVerifier(classes, C=0.3, max_iter=3000, context=context, wait=wait)


# -- baseline 1: sliding-window classifier ---------------------------------------------------
def _window_features(x: np.ndarray, ends: np.ndarray) -> np.ndarray:
    from numpy.lib.stride_tricks import sliding_window_view

    w = sliding_window_view(x, WINDOW, axis=0)[ends - WINDOW + 1]  # (n, D, W)
    return np.concatenate([w.mean(-1), w.std(-1), w.min(-1), w.max(-1),
                           w[..., -1] - w[..., 0]], axis=1)


def _window_label(lab: np.ndarray, ends: np.ndarray, gestures: list[int]) -> np.ndarray:
    out = np.zeros(len(ends), dtype=np.int64)
    for i, e in enumerate(ends):
        seg = lab[e - WINDOW + 1:e + 1]
        g = seg[np.isin(seg, gestures)]
        if len(g) >= WINDOW // 2:
            out[i] = np.bincount(g).argmax()
    return out


def window_baseline(st: Any, train: np.ndarray, test: np.ndarray, k: int,
                    refractory: int = 25) -> list[Any]:
    from sklearn.ensemble import ExtraTreesClassifier

    xs, ys = [], []
    for i in train:
        ends = np.arange(WINDOW - 1, len(st.sessions[i]), HOP)
        xs.append(_window_features(st.sessions[i], ends))
        ys.append(_window_label(st.labels[i], ends, st.gestures))
    clf = ExtraTreesClassifier(n_estimators=50, min_samples_leaf=2, random_state=0, n_jobs=1)
    clf.fit(np.vstack(xs), np.concatenate(ys))
    results = []
    for i in test:
        ends = np.arange(WINDOW - 1, len(st.sessions[i]), HOP)
        pred = clf.predict(_window_features(st.sessions[i], ends))
        dets, prev, quiet = [], 0, -1
        for j, e in enumerate(ends):
            votes = pred[max(0, j - k + 1):j + 1]
            lab = np.bincount(votes).argmax()
            if lab != 0 and lab != prev and e >= quiet:
                dets.append((str(lab), int(e)))
                quiet = e + refractory
            prev = lab
        truth = [(str(lb), s, e) for lb, s, e in gt_events(st.labels[i], st.gestures)]
        results.append(match_detections(truth, dets, 50,
                                        int(np.sum(~np.isin(st.labels[i], st.gestures)))))
    return results


# -- baseline 2: subsequence DTW with per-class thresholds -----------------------------------
DTW_STEP = 10


def _template(model: gm.DTW, k: int) -> np.ndarray:
    return model.templates_[model.offsets_[k]:model.offsets_[k + 1]]


def dtw_baseline(st: Any, train: np.ndarray, test: np.ndarray, factor: float) -> list[Any]:
    ds = gm.Dataset()
    for i in train:
        x = st.sessions[i][::DTW_STEP]
        for lb, s, e in gt_events(st.labels[i], st.gestures):
            seg = x[s // DTW_STEP:e // DTW_STEP + 1]
            if len(seg) >= 2:
                ds.add(seg, label=str(lb))
    model = gm.DTW(standardize=True, normalize=True).fit(ds)
    thresholds = {}
    for ci, lb in enumerate(model.labels_):
        idx = np.flatnonzero(model.template_class_ == ci)
        near = []
        for a in idx:
            others = [_template(model, b) for b in idx if b != a]
            d = [gm.models._dtw_kernels.dtw(_template(model, a), o, 0.1, np.inf) /
                 len(_template(model, a)) for o in others[:10]]
            near.append(min(d))
        thresholds[lb] = factor * float(np.median(near))
    spotter = gm.Spotter(model, thresholds=thresholds, min_duration=0.5, hold_frames=2,
                         refractory_frames=5)
    results = []
    for i in test:
        events = spotter.spot(st.sessions[i][::DTW_STEP])
        dets = [(ev.label, ev.emitted * DTW_STEP + DTW_STEP - 1) for ev in events]
        truth = [(str(lb), s, e) for lb, s, e in gt_events(st.labels[i], st.gestures)]
        results.append(match_detections(truth, dets, 50,
                                        int(np.sum(~np.isin(st.labels[i], st.gestures)))))
    return results


def nested_baseline(st: Any, run: Any, grid: list[Any], log: Any) -> dict[str, Any]:
    """Nested leave-subjects-out CV of a baseline over one setting list (as nested_cv)."""
    classes = [str(g) for g in st.gestures]
    held, chosen = [], []
    for fo, test in enumerate(grouped_folds(st.subject, 3)):
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        scores = {v: [] for v in grid}
        for itl in grouped_folds(st.subject[train], 2):
            itest = train[itl]
            itrain = np.setdiff1d(train, itest)
            for v in grid:
                scores[v] += run(st, itrain, itest, v)
        table = {v: spotting_metrics(r, classes, RATE) for v, r in scores.items()}
        best = max(grid, key=lambda v: table[v]["f1"] - max(
            0.0, table[v]["false_alarms_per_min"] - 0.3))
        chosen.append(best)
        res = run(st, train, test, best)
        held += res
        m = spotting_metrics(res, classes, RATE)
        log(f"  fold {fo}: chose {best}; held-out F1 {m['f1']:.3f}, FA/min "
            f"{m['false_alarms_per_min']:.3f}")
    return {"metrics": spotting_metrics(held, classes, RATE), "chosen": chosen}


def _pooled(parts: list[dict[str, Any]], gestures: list[Any]) -> dict[str, Any]:
    """The held-out metrics of outer folds run apart (their sessions' matches pooled)."""
    from gesturemap.evaluation.spotting.scores import SessionResult

    sessions = []
    for p in parts:
        for d in p["sessions"]:
            sessions.append(SessionResult(
                [tuple(x) for x in d["true_positives"]], [tuple(x) for x in d["false_positives"]],
                [tuple(x) for x in d["missed"]], d["null_frames"], d.get("misnamed", 0)))
    return spotting_metrics(sessions, [str(g) for g in gestures], RATE)


def select_variants(folders: list[Path]) -> dict[str, Any]:
    """Each variant's pooled held-out figures (a folder of ``spotting.gm{0,1,2}.json``), and
    the figure of choosing, in each outer fold, the variant whose chosen setting has the best
    inner-CV score: the honest estimate of the whole selection (inner scores only). A folder
    run over several model variants (``--null-relative-regularization`` with several values)
    also gives each of its variants alone, as ``FOLDER:VARIANT``."""
    st = load_streams(str(DATA / "HAPT_train_streams.npz"))
    runs = {f.name: [json.loads((f / f"spotting.gm{k}.json").read_text()) for k in range(3)]
            for f in folders}
    for name, parts in list(runs.items()):
        if all("variants" in p for p in parts):
            for v in parts[0]["variants"]:
                runs[f"{name}:{v}"] = [p["variants"][v] for p in parts]
    out: dict[str, Any] = {"variants": {}}
    for name, parts in runs.items():
        m = _pooled(parts, st.gestures)
        out["variants"][name] = {
            "metrics": {k: v for k, v in m.items() if k != "per_class"},
            "per_class_f1": {k: v["f1"] for k, v in m["per_class"].items()},
            "inner_scores": [inner_score(p) for p in parts],
            "fold_f1": [_pooled([p], st.gestures)["f1"] for p in parts],
            "chosen": [p["chosen"][0] for p in parts]}
    picked = [pick_variant({n: r[k] for n, r in runs.items()}) for k in range(3)]
    m = _pooled([runs[n][k] for k, n in enumerate(picked)], st.gestures)
    out["selected"] = {"variant_per_fold": picked,
                       "metrics": {k: v for k, v in m.items() if k != "per_class"},
                       "per_class_f1": {k: v["f1"] for k, v in m["per_class"].items()}}
    return out


def merge_gm_folds(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool the three outer folds of gm.spot (run apart), draw the plot, and pick the package
    defaults: the grid setting with the best inner-CV score summed over the outer folds (every
    inner CV ran on training subjects only)."""
    st = load_streams(str(DATA / "HAPT_train_streams.npz"))
    metrics = _pooled(parts, st.gestures)
    events = {int(i): [gm.Event(**e) for e in ev] for p in parts for i, ev in p["events"].items()}
    best = max(events, key=lambda i: len(gt_events(st.labels[i], st.gestures)))
    plot_session(st, best, events[best], Path("docs/spotting_session.png"))
    return {"gm.spot (HHMM)": {"metrics": metrics, "chosen": [p["chosen"][0] for p in parts],
                               "grid": parts[0]["grid"], "plot_session": best}}


def select_defaults(st: Any, grid: dict[str, list[Any]]) -> dict[str, Any]:
    """The grid setting with the best 3-fold leave-subjects-out score on all subjects."""
    import itertools

    from gesturemap.evaluation.spotting.cv import evaluate_sessions

    combos = [dict(zip(grid, v, strict=True)) for v in itertools.product(*grid.values())]
    results: dict[int, list[Any]] = {i: [] for i in range(len(combos))}
    for test in grouped_folds(st.subject, 3):
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        model = hhmm().fit(training_data(st, train, _identity))
        for i, combo in enumerate(combos):
            results[i] += evaluate_sessions(gm.Spotter(model, **combo), st, test, _identity)
    classes = [str(g) for g in st.gestures]
    table = [(combos[i], spotting_metrics(r, classes, RATE)) for i, r in results.items()]
    best = max(table, key=lambda cm: cm[1]["f1"] - max(0.0, cm[1]["false_alarms_per_min"] - 0.3))
    table.sort(key=lambda cm: -(cm[1]["f1"] - max(0.0, cm[1]["false_alarms_per_min"] - 0.3)))
    return {"chosen": best[0], "cv_f1_of_chosen": best[1]["f1"],
            "table": [(c, {k: m[k] for k in ("f1", "macro_f1", "precision", "recall",
                                             "false_alarms_per_min", "delay_median_s",
                                             "delay_p90_s")}) for c, m in table]}


def plot_defaults(st: Any, path: Path) -> dict[str, Any]:
    """The plot with the package defaults: the session with the most transitions, spotted by
    a model trained on the other two outer folds' subjects (its own fold held out)."""
    best = max(range(len(st.sessions)), key=lambda i: len(gt_events(st.labels[i], st.gestures)))
    test = next(f for f in grouped_folds(st.subject, 3) if best in f)
    train = np.setdiff1d(np.arange(len(st.sessions)), test)
    events = gm.Spotter(hhmm().fit(training_data(st, train, _identity))).spot(st.sessions[best])
    plot_session(st, best, events, path)
    res = match_detections([(str(lb), s, e) for lb, s, e in gt_events(st.labels[best], st.gestures)],
                           [(ev.label, ev.emitted) for ev in events], 50,
                           int(np.sum(~np.isin(st.labels[best], st.gestures))))
    return {"session": best, "subject": int(st.subject[best]), "events": len(events),
            "true_positives": len(res.true_positives), "false_positives": res.false_positives,
            "missed": res.missed}


def plot_session(st: Any, i: int, events: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, lab = st.sessions[i], st.labels[i]
    t = np.arange(len(x)) / RATE
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(12, 4.5), sharex=True,
                                 gridspec_kw={"height_ratios": [2, 1]})
    a0.plot(t, x[:, :3], lw=0.5)
    a0.set_ylabel("acceleration (g)")
    a0.set_title(f"HAPT session {i} (subject {st.subject[i]}), held out: gm.spot events against "
                 "ground truth")
    names = {str(g): n.split(":")[1].lower() for g, n in zip(
        range(1, 13), np.load(DATA / "HAPT_train_streams.npz")["label_names"], strict=True)}
    cols = {str(g): c for g, c in zip(st.gestures, plt.cm.tab10.colors, strict=False)}
    for lb, s, e in gt_events(lab, st.gestures):
        a1.axvspan(s / RATE, (e + 1) / RATE, ymin=0.55, ymax=0.95, color=cols[str(lb)])
        a1.text(s / RATE, 1.0, names[str(lb)], fontsize=6, rotation=30, va="bottom")
    for ev in events:
        a1.axvspan(ev.start / RATE, (ev.end + 1) / RATE, ymin=0.05, ymax=0.45,
                   color=cols[str(ev.label)], alpha=0.6)
        a1.plot([ev.emitted / RATE], [0.25], "kv", ms=4)
    a1.set_yticks([0.25, 0.75], ["spotted (▼ emitted)", "ground truth"])
    a1.set_ylim(0, 1.3)
    a1.set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="docs/spotting.json")
    ap.add_argument("--plot", default="docs/spotting_session.png")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=("gm", "window", "dtw"),
                    help="run one system and write its part to OUT.<system>.json (run the "
                    "three side by side, then --merge)")
    ap.add_argument("--merge", action="store_true", help="merge the parts into OUT")
    ap.add_argument("--fold", type=int, help="with --only gm: one outer fold (0-2)")
    ap.add_argument("--relative-regularization", type=float, default=0.1,
                    help="the HHMM's relative_regularization (default 0.1)")
    ap.add_argument("--max-stay", type=float,
                    help="the grid's max_stay (default 1.0; --defaults: 0.75 and 1.0)")
    ap.add_argument("--gaussians", type=int, default=1,
                    help="Gaussians per state of the gesture classes' HMMs (default 1)")
    ap.add_argument("--deltas", action="store_true",
                    help="train the HHMM with deltas (the package HHMM's default; the spotter "
                    "scores them)")
    ap.add_argument("--low-pass", type=float, default=1.0,
                    help="gm.spot's inputs through the causal one-pole low-pass of the LowPass "
                    "feature stage with this alpha (default 1.0: raw)")
    ap.add_argument("--threshold", type=float, nargs="+", default=[0.2, 0.3, 0.4],
                    help="the grid's threshold values (default 0.2 0.3 0.4)")
    ap.add_argument("--projection", type=float, nargs="+", default=[0.0],
                    help="the grid's defer_projection values (default 0)")
    ap.add_argument("--relabel", type=int, nargs="+",
                    help="also choose among relabelling each event by 1-NN DTW (per-take "
                    "z-normalised, trained on the transition takes) over its frames from "
                    "start - CONTEXT to emitted, for these CONTEXT values, or not (None)")
    ap.add_argument("--relabel-with", choices=sorted(RELABELERS), default="dtw",
                    help="the relabeller of --relabel: 1-NN DTW (default) or logistic "
                    "regression on segment statistics (start / end posture, log length, "
                    "per-channel mean and log std)")
    ap.add_argument("--verify", action="store_true",
                    help="a stacked verifier trained on the inner CV's out-of-fold detections "
                    "of the chosen setting (drops the detections it calls null, relabels the "
                    "others), applied per outer fold when it wins a cross-fit over the inner "
                    "folds: the held-out sessions are spotted by Spotter(..., verifier=...)")
    ap.add_argument("--verify-in-loop", action="store_true",
                    help="with --verify: every grid setting's inner detections cross-fitted, "
                    "each setting scored by the better of its plain and verified inner score; "
                    "the verifier is on at the outer test iff the chosen setting's verified "
                    "score won")
    ap.add_argument("--verify-context", type=parse_context, nargs="+", default=[0],
                    metavar="FRAMES",
                    help="with --verify: the verifier's context lengths (frames before an "
                    "event's start whose statistics it reads; 0: none), chosen per outer fold "
                    "by the inner cross-fit (best score, ties to the earlier); two joined by a "
                    "comma (50,100): both windows read at once")
    ap.add_argument("--verify-folds", type=int, default=None, metavar="K",
                    help="with --verify: cross-fit the verifier over K folds of the outer "
                    "training subjects of its own (the chosen setting spotted by K models, "
                    "each trained on the other folds) instead of the inner CV's 2 folds")
    ap.add_argument("--verify-wait", type=parse_wait, nargs="+", default=[0],
                    metavar="FRAMES",
                    help="with --verify: the verifier's waits (frames after the spotter's "
                    "emission it reads; the event comes that much later; 0: none; READ,SETTLE: "
                    "READ frames once the movement settles, waiting at most SETTLE frames for "
                    "it), chosen with --verify-context by the inner cross-fit (waits first in "
                    "the order)")
    ap.add_argument("--augment-speeds", type=float, nargs="+", default=[], metavar="F",
                    help="each gesture take is also trained on replayed F times faster "
                    "(resampled; e.g. 0.8 1.25); default none")
    ap.add_argument("--augment-rotations", type=float, nargs=2, default=[0, 0.0],
                    metavar=("K", "DEGREES"),
                    help="every take is also trained on K copies turned by a random rotation "
                    "of at most DEGREES (accelerometer and gyroscope alike); default none")
    ap.add_argument("--verify-margin", type=float, default=0.0, metavar="M",
                    help="with --verify: switched on only when its cross-fitted inner score "
                    "beats the plain one by at least M (default 0: strictly)")
    ap.add_argument("--verify-confidence", type=float, default=None, metavar="Q",
                    help="with --verify: switched on only when it also beats the plain score "
                    "in at least a fraction Q of 1000 paired bootstrap draws of the inner "
                    "subjects (seed 0; default: no bootstrap)")
    ap.add_argument("--defer", type=int, nargs="+", default=[0, 50],
                    help="the grid's defer_frames values (default 0 50)")
    ap.add_argument("--settle", type=int, nargs="+", default=[0],
                    help="the grid's settle_frames values (default 0: off)")
    ap.add_argument("--settle-ratio", type=float, nargs="+", default=[0.5],
                    help="the grid's settle_ratio values, with --settle (default 0.5)")
    ap.add_argument("--null-model", nargs="+", default=["null"], choices=NULL_MODELS,
                    help="the grid's null_model values (default null)")
    ap.add_argument("--null-every", type=int, default=1000, metavar="FRAMES",
                    help="one null take every FRAMES frames of each stretch of null (default "
                    "1000)")
    ap.add_argument("--null-states", type=int, default=1,
                    help="the null class's states (default 1)")
    ap.add_argument("--null-gaussians", type=int, default=8,
                    help="the null class's Gaussians per state (default 8)")
    ap.add_argument("--null-transition", choices=("left-right", "ergodic"),
                    help="the null class's transition (default: the HHMM's)")
    ap.add_argument("--null-relative-regularization", type=_null_floor, nargs="+", metavar="R",
                    default=list(NULL_FLOORS),
                    help="the null class's relative_regularization, 'class' for the HHMM's "
                    "(--relative-regularization); several: each outer fold runs the "
                    "nested CV once per value and keeps the one whose chosen setting has the "
                    "best inner score (default: class 0.01; --quick: class)")
    ap.add_argument("--bound-matches", action="store_true",
                    help="the spotter drops a partial match inside the Viterbi pass once it "
                    "is longer than max_duration allows (gm.Spotter(bound_matches=True)); "
                    "default off")
    ap.add_argument("--per-class-min-stay", action="store_true",
                    help="after the grid's choice, each class in turn tries each of the grid's "
                    "min_stay values as its own (a {label: fraction} min_stay), kept when the inner score "
                    "rises")
    ap.add_argument("--defaults", action="store_true",
                    help="choose the package defaults: every setting of the grid (max_stay "
                    "0.75 and 1.0) by 3-fold leave-subjects-out CV over all 21 subjects; "
                    "writes --defaults-out; with --settle, settle_frames too")
    ap.add_argument("--defaults-out", default="docs/spotting_defaults_cv.json")
    ap.add_argument("--plot-defaults", action="store_true",
                    help="draw --plot with the package defaults: the session with the most "
                    "transitions, spotted by a model trained on the other outer folds")
    ap.add_argument("--select", type=Path, nargs="+",
                    help="folders of per-fold runs (variants): pooled figures of each, and of "
                    "choosing the variant per outer fold by inner-CV score; writes OUT")
    ap.add_argument("--partition-seed", type=int, default=0,
                    help="deal the subjects into folds after renumbering them by this seed's "
                    "permutation (0, the default: as numbered, the stored runs' folds); the "
                    "same procedure over another partition of the same subjects")
    args = ap.parse_args()
    if args.select:
        res = select_variants(args.select)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(res, indent=1))
        for name, v in [*res["variants"].items(), ("selected", res["selected"])]:
            m = v["metrics"]
            print(f"{name}: F1 {m['f1']:.3f} macro {m['macro_f1']:.3f} P {m['precision']:.3f} "
                  f"R {m['recall']:.3f} FA/min {m['false_alarms_per_min']:.3f} delay "
                  f"{m['delay_median_s']:.2f}/{m['delay_p90_s']:.2f} "
                  f"{v.get('fold_f1', v.get('variant_per_fold'))} {v.get('inner_scores', '')}")
        return
    if args.plot_defaults:
        print(plot_defaults(load_streams(str(DATA / "HAPT_train_streams.npz")), Path(args.plot)))
        return
    if args.defaults:
        st = load_streams(str(DATA / "HAPT_train_streams.npz"))
        grid = {"relative_threshold": [0.2, 0.3, 0.4], "min_stay": [0.0, 0.5], "hold_frames": [10, 25],
                "max_stay": [0.75, 1.0] if args.max_stay is None else [args.max_stay]}
        if args.settle != [0]:
            grid["settle_frames"] = list(args.settle)
            grid["settle_ratio"] = list(args.settle_ratio)
        res = select_defaults(st, grid)
        Path(args.defaults_out).write_text(json.dumps(res, indent=1))
        print("defaults:", res["chosen"])
        return
    RELATIVE_REGULARIZATION[0] = args.relative_regularization
    DELTAS[0] = args.deltas
    GAUSSIANS[0] = args.gaussians
    NULL_EVERY[0] = args.null_every
    AUGMENT_SPEEDS[:] = args.augment_speeds
    AUGMENT_ROTATIONS[:] = args.augment_rotations
    NULL_CLASS[0] = {"states": args.null_states, "gaussians": args.null_gaussians,
                     **({"transition": args.null_transition} if args.null_transition else {}),
                     **({"relative_regularization": args.null_relative_regularization[0]}
                        if args.null_relative_regularization is not None
                        and len(args.null_relative_regularization) == 1
                        and args.null_relative_regularization[0] is not None else {})}
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)  # a new run's folder (else lost at the end)
    systems = [args.only] if args.only else ["gm", "window", "dtw"]
    if args.quick:
        systems = ["gm"]
    if args.merge:
        out: dict[str, Any] = {"protocol": PROTOCOL}
        for part in ("gm", "window", "dtw"):
            path = out_path.with_suffix(f".{part}.json")
            if path.exists():
                out.update(json.loads(path.read_text()))
        folds = [out_path.with_suffix(f".gm{k}.json") for k in range(3)]
        if all(f.exists() for f in folds):
            out.update(merge_gm_folds([json.loads(f.read_text()) for f in folds]))
        out_path.write_text(json.dumps(out, indent=1, default=str))
        print(table(out))
        return
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), args.partition_seed)
    for system in systems:
        t0 = time.time()
        part = run_system(system, st, args)
        part[f"seconds_{system}"] = time.time() - t0
        name = system if args.fold is None else f"{system}{args.fold}"
        target = out_path.with_suffix(f".{name}.json") if args.only else out_path
        if not args.only:
            old = json.loads(out_path.read_text()) if out_path.exists() and system != "gm" else {}
            part = {**old, "protocol": PROTOCOL, **part}
        target.write_text(json.dumps(part, indent=1, default=str))
        print(table(part), flush=True)


def repartition(st: Streams, seed: int) -> Streams:
    """The same sessions with their subjects renumbered by a permutation drawn from ``seed``, so
    the folds (sorted subjects dealt round-robin) fall differently; seed 0 leaves them as they
    are. Every subject keeps all its sessions, and distinct subjects stay distinct."""
    if seed == 0:
        return st
    uniq = np.unique(st.subject)
    perm = np.random.default_rng(seed).permutation(len(uniq))
    subject = perm[np.searchsorted(uniq, st.subject)]
    return dataclasses.replace(st, subject=subject)


PROTOCOL = ("nested leave-subjects-out CV: 3 outer folds of 7 subjects, settings by 2-fold "
            "leave-subjects-out CV inside each")


def run_system(system: str, st: Any, args: argparse.Namespace) -> dict[str, Any]:
    log = lambda s: print("  " + s, flush=True)  # noqa: E731
    if system == "window":
        print("baseline: 2 s window classifier + majority filter", flush=True)
        return {"window classifier": nested_baseline(st, window_baseline, [3, 9], log)}
    if system == "dtw":
        print("baseline: subsequence DTW, per-class thresholds", flush=True)
        return {"subsequence DTW": nested_baseline(st, dtw_baseline, [0.25, 0.4, 0.6], log)}
    grid = {"relative_threshold": list(args.threshold), "min_stay": [0.0, 0.5], "hold_frames": [10, 25],
            "max_stay": [args.max_stay or 1.0], "defer_frames": list(args.defer)}
    if args.projection != [0.0]:
        grid["defer_projection"] = list(args.projection)
    if args.settle != [0]:
        grid["settle_frames"] = list(args.settle)
        grid["settle_ratio"] = list(args.settle_ratio)
    if args.null_model != ["null"]:
        grid["null_model"] = list(args.null_model)
    if args.bound_matches:
        grid["bound_matches"] = [True]
    relabeler = None
    if args.relabel:
        grid["relabel_context"] = [None, *args.relabel]
        relabeler = RELABELERS[args.relabel_with]
    if args.quick:
        grid = {"relative_threshold": [0.3, 0.4], "max_stay": [1.0]}
    print("gm.spot over an HHMM", flush=True)
    features = _identity if args.low_pass >= 1.0 else partial(low_pass, alpha=args.low_pass)
    variants = None if args.quick else null_variants(args.null_relative_regularization)
    kwargs = dict(log=log, only_fold=args.fold, make_data=training_data,
                  make_relabeler=relabeler,
                  make_verifier=stacked_verifier if args.verify else None,
                  verify_in_loop=args.verify_in_loop,
                  verifier_contexts=tuple(args.verify_context),
                  verifier_waits=tuple(args.verify_wait), verifier_folds=args.verify_folds,
                  verifier_rule=verifier_rule(args.verify_margin, args.verify_confidence),
                  refine=(partial(per_class_min_stay, values=grid.get("min_stay", [0.0, 0.5]))
                          if args.per_class_min_stay else None))
    res = (nested_cv(st, hhmm, grid, features, **kwargs) if variants is None else
           nested_cv_variants(st, variants, grid, features, **kwargs))
    if args.fold is not None:  # one outer fold: its sessions' matches, merged later
        return {"fold": args.fold, "grid": grid, "chosen": res["chosen"],
                "null_class": NULL_CLASS[0], "null_every": NULL_EVERY[0],
                "inner": res["inner"], **({"verifier": res["verifier"]} if args.verify else {}),
                **({"in_loop": res["in_loop"]} if args.verify_in_loop else {}),
                "sessions": [dataclasses.asdict(r) for r in res["sessions"]],
                "events": {str(i): [dataclasses.asdict(e) for e in ev]
                           for i, ev in res["events"].items()},
                **({"variant": res["variant"][0], "variants": {
                    n: {"inner_score": r["inner_score"], "chosen": r["chosen"],
                        "inner": r["inner"], **({"verifier": r["verifier"]} if args.verify
                                                else {}),
                        "sessions": [dataclasses.asdict(x) for x in r["sessions"]]}
                    for n, r in res["variants"][0].items()}} if variants else {})}
    out: dict[str, Any] = {"gm.spot (HHMM)": {"metrics": res["metrics"],
                                              "chosen": res["chosen"], "grid": grid,
                                              "inner": res["inner"]}}
    print(json.dumps({k: v for k, v in res["metrics"].items() if k != "per_class"}), flush=True)
    # the plot: the held-out session with the most events
    best = max(res["events"], key=lambda i: len(gt_events(st.labels[i], st.gestures)))
    plot_session(st, best, res["events"][best], Path(args.plot))
    return out


def table(out: dict[str, Any]) -> str:
    rows = ["| system | micro P | micro R | micro F1 | macro F1 | delay median (s) | "
            "delay p90 (s) | false alarms / min | settings chosen (per outer fold) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name in ("gm.spot (HHMM)", "window classifier", "subsequence DTW"):
        if name not in out:
            continue
        m = out[name]["metrics"]
        rows.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                    f"{m['macro_f1']:.3f} | {m['delay_median_s']:.2f} | {m['delay_p90_s']:.2f} | "
                    f"{m['false_alarms_per_min']:.3f} | {out[name]['chosen']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
