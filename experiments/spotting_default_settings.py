"""Would the spotter's settings chosen most often by the nested CVs, as new defaults, bring
the first Python path a user writes (``gm.spot(gm.auto(ds), stream)``) within reach of the
relabelled CLI (``gesturemap eval --spotting --relabel``)?

``benchmarks/spotting_relabel.py --nested`` chose the spotter's settings inside each outer
fold's training subjects; the modal choice over its 12 folds (partitions 101-104) was
``relative_threshold`` 0.2 and ``min_stay`` 0.5 (the defaults: 0.4 and 0.0), the other
settings at their defaults. Those choices saw training subjects only, so this measures the
candidate on partitions no spotting run has used, with ``benchmarks/spotting_auto.py``'s
protocol (3 outer folds of 7 of HAPT's 21 training subjects, the 14 others train) and four
arms:

- ``auto`` and ``cli_relabel``: exactly the benchmark's arms (the spotter's defaults);
- ``auto_cv_defaults``: the same fitted ``gm.auto`` model as ``auto`` (its choice made by its
  own CV, which spots at the defaults; unchanged), spotted with
  ``gm.spot(model, x, **CANDIDATE)``: one fit serves both arms, so they differ only in the
  spotter's settings;
- ``cli_relabel_cv_defaults``: ``cli_relabel`` with ``CANDIDATE`` as the spotting settings
  (``_train_and_spot``'s ``settings``: the relabeller's cross-fitting spots with them too, as
  a project whose spotting settings say so would).

Folds run one after another with all four arms each (a stopped run still compares the arms
over the same held-out sessions), each fold and arm cached on disk; how firm each difference is, by a bootstrap over the
held-out subjects. ``--check`` first shows,
on a few sessions, that the settings reach the spotters built on both paths.

    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m \\
        experiments.spotting_default_settings --partitions 105 --out a.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import gesturemap as gm
import gesturemap.evaluation.spotting.cv as spotting_cv
from benchmarks.shared_data import describe
from benchmarks.spotting_auto import KEYS, _cached, _same, run_arm
from benchmarks.spotting_hapt import DATA, repartition
from gesturemap.evaluation.spotting.cv import (
    _checked,
    _match,
    _train_and_spot,
    grouped_folds,
    load_streams,
    make_dataset,
)
from gesturemap.evaluation.spotting.scores import SessionResult, spotting_metrics

#: the nested CVs' modal choice (``benchmarks/spotting_relabel.py --nested``, 101-104)
CANDIDATE = {"relative_threshold": 0.2, "min_stay": 0.5}
ARMS = ("auto", "auto_cv_defaults", "cli_relabel", "cli_relabel_cv_defaults")


def run_auto_pair(st: Any, train: np.ndarray, test: np.ndarray
                  ) -> dict[str, tuple[list[SessionResult], dict[str, Any]]]:
    """``auto`` and ``auto_cv_defaults`` from one ``gm.auto`` fit (``run_arm``'s steps)."""
    t0 = time.perf_counter()
    model = gm.auto(make_dataset(st, train, _same), budget_s=20.0)
    sel = model.selection_
    info = {"task": sel["task"], "chosen": sel["chosen_name"], "cv_score": sel["cv_score"],
            "reason": sel["reason"], "fit_seconds": round(time.perf_counter() - t0, 1)}
    out = {}
    for arm, settings in (("auto", {}), ("auto_cv_defaults", CANDIDATE)):
        t1 = time.perf_counter()
        held = [_match(st, int(i), gm.spot(model, st.sessions[i], **settings)) for i in test]
        out[arm] = (held, {**info, "spot_seconds": round(time.perf_counter() - t1, 1)})
    return out


def fold_arms(seed: int, k: int, st: Any, train: np.ndarray, test: np.ndarray, cache: Path
              ) -> dict[str, tuple[list[SessionResult], dict[str, Any]]]:
    """The four arms on one outer fold, each read from the cache when there."""
    path = {arm: cache / f"p{seed}_f{k}_{arm}.json" for arm in ARMS}
    pair: dict[str, Any] = {}
    if not (path["auto"].exists() and path["auto_cv_defaults"].exists()):
        pair = run_auto_pair(st, train, test)
    out = {arm: _cached(path[arm], lambda a=arm: pair[a])
           for arm in ("auto", "auto_cv_defaults")}
    out["cli_relabel"] = _cached(path["cli_relabel"],
                                 lambda: run_arm("cli_relabel", st, train, test))
    out["cli_relabel_cv_defaults"] = _cached(path["cli_relabel_cv_defaults"],
                                             lambda: run_arm("cli_relabel", st, train, test,
                                                             CANDIDATE))
    return out


def scores(held: list[SessionResult], classes: list[str], rate_hz: float) -> dict[str, Any]:
    m = spotting_metrics(held, classes, rate_hz)
    return {**{k: round(float(m[k]), 4) for k in KEYS},
            "missed": m["missed"], "false_positives": m["false_positives"]}


def run_partition(seed: int, cache: Path, folds: int = 3) -> dict[str, Any]:
    """Every arm scored over the held-out sessions of the outer folds done (all ``folds``
    unless stopped): micro figures pooled over those sessions."""
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    classes = [str(g) for g in st.gestures]
    held: dict[str, list[SessionResult]] = {arm: [] for arm in ARMS}
    infos: dict[str, list[Any]] = {arm: [] for arm in ARMS}
    subjects: list[Any] = []
    done = 0
    for k, test in enumerate(grouped_folds(st.subject, 3)):
        if k >= folds:
            break
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        subjects += [st.subject[int(i)] for i in test]
        for arm, (fold, info) in fold_arms(seed, k, st, train, test, cache).items():
            held[arm] += fold
            infos[arm].append(info)
            print(f"partition {seed} fold {k} {arm}: {info}", flush=True)
        done += 1
    out: dict[str, Any] = {"folds_done": done}
    for arm in ARMS:
        out[arm] = {**scores(held[arm], classes, st.rate_hz), "folds": infos[arm]}
    for tag in ("", "_cv_defaults"):
        out[f"gap{tag or '_defaults'}"] = round(
            out[f"auto{tag}"]["f1"] - out[f"cli_relabel{tag}"]["f1"], 4)
    out["bootstrap"] = bootstrap(held, subjects, classes, st.rate_hz)
    return out


def bootstrap(held: dict[str, list[SessionResult]], subjects: list[Any], classes: list[str],
              rate_hz: float, draws: int = 500) -> dict[str, Any]:
    """How firm the differences in micro F1 are: the held-out subjects drawn with
    replacement (a subject's sessions together, every arm on the same draw); per difference
    its 5th and 95th percentiles and the share of draws above -0.03 (gaps) or 0 (gains)."""
    rng = np.random.default_rng(0)
    groups = sorted(set(subjects), key=str)
    rows = {g: [i for i, s in enumerate(subjects) if s == g] for g in groups}
    diffs = {"gap_defaults": ("auto", "cli_relabel", -0.03),
             "gap_cv_defaults": ("auto_cv_defaults", "cli_relabel_cv_defaults", -0.03),
             "gap_cv_auto_vs_cli_relabel": ("auto_cv_defaults", "cli_relabel", -0.03),
             "gain_auto": ("auto_cv_defaults", "auto", 0.0),
             "gain_cli_relabel": ("cli_relabel_cv_defaults", "cli_relabel", 0.0)}
    got: dict[str, list[float]] = {k: [] for k in diffs}
    for _ in range(draws):
        idx = [i for g in rng.choice(len(groups), len(groups)) for i in rows[groups[g]]]
        f1 = {arm: float(spotting_metrics([held[arm][i] for i in idx], classes,
                                          rate_hz)["f1"]) for arm in ARMS}
        for k, (a, b, _) in diffs.items():
            got[k].append(f1[a] - f1[b])
    return {k: {"p5": round(float(np.percentile(got[k], 5)), 4),
                "p95": round(float(np.percentile(got[k], 95)), 4),
                "above": diffs[k][2],
                "share_above": round(float(np.mean(np.array(got[k]) > diffs[k][2])), 3)}
            for k in diffs}


def check(seed: int) -> dict[str, Any]:
    """On a few sessions of one partition: the spotters both paths build carry ``CANDIDATE``
    (``Spotter`` is wrapped where ``_train_and_spot`` looks it up, to record what it got)."""
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    train, test = np.arange(4), np.arange(4, 5)
    model = gm.HHMM(deltas=False).fit(make_dataset(st, train, _same))
    x = st.sessions[int(test[0])]
    seen: list[dict[str, Any]] = []
    real = spotting_cv.Spotter

    def recording(m: Any, **kw: Any) -> Any:
        sp = real(m, **kw)
        seen.append({"relative_threshold": sp.relative_threshold, "min_stay": sp.min_stay,
                     "hold_frames": sp.hold_frames, "verifier": getattr(sp, "verifier", None) is not None})
        return sp

    spotting_cv.Spotter = recording
    try:
        settings, params = _checked("hhmm", {"deltas": False}, dict(CANDIDATE))
        _train_and_spot(st, train, st, test, "hhmm", params, settings, None)
    finally:
        spotting_cv.Spotter = real
    sp = gm.Spotter(model, **CANDIDATE)
    return {"train_and_spot_spotter": seen,
            "gm_spot_spotter": {"relative_threshold": sp.relative_threshold,
                                "min_stay": sp.min_stay},
            "gm_spot_events_defaults": len(gm.spot(model, x)),
            "gm_spot_events_candidate": len(gm.spot(model, x, **CANDIDATE)),
            "candidate_spotter_events": len(sp.spot(x))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--partitions", type=int, nargs="*", default=[105, 106])
    ap.add_argument("--folds", type=int, default=3, help="stop after this many outer folds")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/gesturemap_spotting_defaults"))
    ap.add_argument("--check", action="store_true", help="only check the settings take effect")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.check:
        print(json.dumps(check(args.partitions[0]), indent=1))
        return
    print(describe(), flush=True)
    runs = {str(s): run_partition(s, args.cache, args.folds) for s in args.partitions}
    report = {"candidate": CANDIDATE,
              "protocol": "benchmarks/spotting_auto.py's: 3 outer folds of 7 HAPT training "
                          "subjects per partition, every setting chosen inside the 14 "
                          "training subjects; micro figures over the folds done; held out",
              "partitions": runs}
    text = json.dumps(report, indent=1)
    if args.out:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(args.out)
    print(text)


if __name__ == "__main__":
    main()
