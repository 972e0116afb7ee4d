"""The first Python path a user writes, ``gm.spot(gm.auto(ds), stream)``, against the CLI's
spotting paths, held out on HAPT's training subjects.

Per partition of the 21 subjects (``benchmarks.spotting_hapt.repartition``; seeds never used
by an earlier spotting run: 101 and on), 3 outer folds of 7 subjects. In each fold the training
takes are cut from the 14 training subjects' sessions as ``gesturemap eval --spotting`` cuts
them (every transition, and null takes of 100 frames every 1000 frames of null:
``make_dataset``), and the 7 held-out subjects' whole sessions are spotted by:

- ``auto``: ``gm.spot(gm.auto(ds), x)``, everything at its defaults (``gm.auto`` sees the
  null takes and chooses for spotting, within its default budget of 20 s);
- ``auto_recognition``: ``gm.spot(gm.auto(ds, task="recognition"), x)``, the choice by how
  well a model names held-out takes (what ``gm.auto`` did for any dataset before);
- ``auto_budget``: ``gm.auto(ds, budget_s=600)``, a search long enough to cross-validate
  every spotting candidate (at the default 20 s a first fold of HAPT's 14 subjects does not
  leave time for the others, and ``gm.auto`` fits its first candidate: ``cli``'s model);
- ``cli``: what ``gesturemap eval --spotting --train A --test B`` trains and spots with (an
  HHMM without deltas, the null class one state of 8 Gaussians, the spotter's defaults);
- ``cli_relabel``: the same with ``--relabel`` (a context relabeller cross-fitted over two
  folds of the training subjects, on where its rule chose it);
- ``auto_rehearsals``: ``gm.spot(gm.auto(ds), x)`` with ``ds =
  gm.dataset_from_rehearsals(sessions, labels, groups=subjects)``: the same takes, and the
  training subjects' sessions kept as rehearsals, from which ``gm.auto`` also trains the
  context relabeller and the window detector (each kept when its cross-fit chooses it).

Every setting is chosen inside the training subjects (``gm.auto``'s CV on their takes, the
relabeller's cross-fitting on their sessions): each figure is held out. Each fold's events are
cached on disk (``--cache``), so a run that stops resumes where it stopped.

Run from the repository root, with the full shared data (minutes of CPU per partition)::

    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m benchmarks.spotting_auto \\
        --partitions 101 102 --out a.json &
    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m benchmarks.spotting_auto \\
        --partitions 103 104 --out b.json
    python3 -m benchmarks.spotting_auto --merge a.json b.json --out docs/spotting_auto.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import gesturemap as gm
from benchmarks.shared_data import describe
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
from gesturemap.evaluation.spotting.verifier_rule import DEFAULT_RULE

ARMS = ("auto", "auto_recognition", "auto_budget", "cli", "cli_relabel", "auto_rehearsals")
#: ``auto_budget``'s search budget (seconds; ``--budget``)
BUDGET = [600.0]
KEYS = ("f1", "macro_f1", "precision", "recall", "false_alarms_per_min", "delay_median_s",
        "delay_p90_s")


def _same(x: np.ndarray) -> np.ndarray:
    return x


def run_arm(arm: str, st: Any, train: np.ndarray, test: np.ndarray,
            spot_settings: dict[str, Any] | None = None
            ) -> tuple[list[SessionResult], dict[str, Any]]:
    """One arm on one outer fold: its held-out sessions' results and what it chose.
    ``spot_settings``: the ``cli`` arms' spotting settings (``--spot K=V``; default none)."""
    t0 = time.perf_counter()
    if arm == "auto_rehearsals":
        ds = gm.dataset_from_rehearsals([st.sessions[i] for i in train],
                                        [st.labels[i] for i in train],
                                        groups=[int(st.subject[i]) for i in train],
                                        gestures=st.gestures, rate_hz=st.rate_hz)
        model = gm.auto(ds)
        sel = model.selection_
        held = [_match(st, int(i), gm.spot(model, st.sessions[i])) for i in test]
        info = {"task": sel["task"], "chosen": sel["chosen_name"], "reason": sel["reason"],
                "rehearsals": sel["rehearsals"]}
    elif arm.startswith("auto"):
        ds = make_dataset(st, train, _same)
        model = gm.auto(ds, task="recognition" if arm == "auto_recognition" else None,
                        budget_s=BUDGET[0] if arm == "auto_budget" else 20.0)
        sel = model.selection_
        held = [_match(st, int(i), gm.spot(model, st.sessions[i])) for i in test]
        info = {"task": sel["task"], "chosen": sel["chosen_name"], "cv_score": sel["cv_score"],
                "reason": sel["reason"]}
    else:
        settings, params = _checked("hhmm", {"deltas": False}, dict(spot_settings or {}))
        verifier = (None, None, 2, DEFAULT_RULE, True) if arm == "cli_relabel" else None
        held, info = _train_and_spot(st, train, st, test, "hhmm", params, settings, verifier)
        info = {k: v for k, v in (info or {}).items()
                if k in ("chosen", "reason", "context", "wait", "weight")}
    info["seconds"] = round(time.perf_counter() - t0, 1)
    return held, info


def _cached(path: Path, compute: Any) -> tuple[list[SessionResult], dict[str, Any]]:
    if path.exists():
        d = json.loads(path.read_text())
        return [SessionResult(**r) for r in d["sessions"]], d["info"]
    held, info = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"sessions": [dataclasses.asdict(r) for r in held],
                               "info": info}, default=str))
    tmp.replace(path)
    return held, info


def run_partition(seed: int, arms: list[str], cache: Path) -> dict[str, Any]:
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    classes = [str(g) for g in st.gestures]
    out: dict[str, Any] = {}
    for arm in arms:
        held, infos = [], []
        for k, test in enumerate(grouped_folds(st.subject, 3)):
            train = np.setdiff1d(np.arange(len(st.sessions)), test)
            fold, info = _cached(cache / f"p{seed}_f{k}_{arm}.json",
                                 lambda a=arm, tr=train, te=test: run_arm(a, st, tr, te))
            held += fold
            infos.append(info)
            print(f"partition {seed} fold {k} {arm}: {info}", flush=True)
        m = spotting_metrics(held, classes, st.rate_hz)
        out[arm] = {**{k: round(float(m[k]), 4) for k in KEYS},
                    "missed": m["missed"], "false_positives": m["false_positives"],
                    "folds": infos}
    return out


def summary(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per arm: the mean, spread and range over partitions of each figure; per pair of arms
    the mean difference in micro F1."""
    arms = sorted({a for r in runs.values() for a in r})
    out: dict[str, Any] = {}
    for arm in arms:
        have = [r[arm] for r in runs.values() if arm in r]
        out[arm] = {k: {"mean": round(float(np.mean([h[k] for h in have])), 4),
                        "sd": round(float(np.std([h[k] for h in have], ddof=1)), 4)
                        if len(have) > 1 else None,
                        "min": min(h[k] for h in have), "max": max(h[k] for h in have)}
                    for k in KEYS}
        out[arm]["partitions"] = len(have)
    if {"auto", "cli"} <= set(arms) or {"auto", "cli_relabel"} <= set(arms):
        for other in ("cli", "cli_relabel", "auto_recognition", "auto_budget"):
            both = [r for r in runs.values() if "auto" in r and other in r]
            if both:
                out[f"auto_minus_{other}_f1"] = round(float(np.mean(
                    [r["auto"]["f1"] - r[other]["f1"] for r in both])), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--partitions", type=int, nargs="*", default=[101, 102, 103, 104])
    ap.add_argument("--arms", nargs="*", default=list(ARMS), choices=ARMS)
    ap.add_argument("--budget", type=float, default=BUDGET[0],
                    help="auto_budget's budget_s (seconds)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/gesturemap_spotting_auto"))
    ap.add_argument("--merge", nargs="*", type=Path, help="merge these outputs")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    BUDGET[0] = args.budget
    if args.merge:
        runs: dict[str, Any] = {}
        for p in args.merge:
            for seed, arms in json.loads(p.read_text())["partitions"].items():
                runs.setdefault(seed, {}).update(arms)  # one run's arms beside another's
    else:
        print(describe(), flush=True)
        runs = {str(s): run_partition(s, args.arms, args.cache) for s in args.partitions}
    report = {"protocol": "3 outer folds of 7 HAPT training subjects per partition; every "
                          "setting chosen inside the 14 training subjects; held out",
              "partitions": runs, "summary": summary(runs)}
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(json.dumps(report["summary"], indent=1))


if __name__ == "__main__":
    main()
