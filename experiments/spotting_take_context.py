"""Gesture takes cut with the posture around them: does the spotter find more transitions on
new performers when each training take keeps some frames before its labelled start (and
after its end)?

HAPT's transitions differ mostly in the posture they start from and end in; a take cut
exactly at the labels starts mid-movement, so the HHMM never sees the still posture before
it. Padded takes let its first (last) state hold that posture; the spotter's duration rule
(``max_stay``) keeps a long still stretch from adding evidence.

Nested, held out: per partition of the 21 training subjects (seeds never used by an earlier
spotting run), 3 outer folds of 7 subjects; inside each outer fold the padding is chosen
among ``PADS`` by a 2-fold leave-subjects-out CV on its 14 training subjects (score: micro F1
minus false alarms per minute above 0.18), then the spotter (what ``gesturemap eval
--spotting`` trains, at its defaults) trained on the 14 with that padding spots the 7. Arm
``plain`` is the same spotter on takes cut at the labels (padding 0, 0). Each fold is cached
on disk.

    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m experiments.spotting_take_context \\
        --partitions 101 102 --out a.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.spotting_hapt import DATA, repartition
from gesturemap.data import Dataset
from gesturemap.evaluation.spotting.cv import _checked, _match, grouped_folds, load_streams
from gesturemap.evaluation.spotting.scores import (
    SessionResult,
    ground_truth_events,
    spotting_metrics,
)
from gesturemap.evaluation.spotting.streams import null_runs
from gesturemap.models import MODEL_REGISTRY
from gesturemap.models.spotting.core import NULL, Spotter

#: (frames before the start, frames after the end) each gesture take keeps
PADS = ((0, 0), (25, 0), (50, 0), (50, 25))
FA_BUDGET = 0.18
KEYS = ("f1", "recall", "precision", "false_alarms_per_min", "delay_p90_s")


def padded_dataset(st: Any, idx: Any, pad: tuple[int, int], null_take: int = 100,
                   null_every: int = 1000) -> Dataset:
    """``make_dataset``'s takes, each gesture take with ``pad`` frames before and after."""
    before, after = pad
    ds = Dataset()
    for i in idx:
        x, lab = st.sessions[i], st.labels[i]
        for label, s, e in ground_truth_events(lab, st.gestures):
            ds.add(x[max(0, s - before):min(len(x), e + 1 + after)], label=str(label))
        for a, b in null_runs(~np.isin(lab, st.gestures)):
            for k in range(a, b - null_take // 2, null_every):
                ds.add(x[k:min(k + null_take, b)], label=NULL)
    return ds


def spot(st: Any, train: np.ndarray, test: np.ndarray, pad: tuple[int, int]
         ) -> list[SessionResult]:
    settings, params = _checked("hhmm", {"deltas": False}, {})
    model = MODEL_REGISTRY["hhmm"](**params).fit(padded_dataset(st, train, pad))
    spotter = Spotter(model, **settings)
    return [_match(st, int(i), spotter.spot(st.sessions[i])) for i in test]


def score(m: dict[str, Any]) -> float:
    return m["f1"] - max(0.0, m["false_alarms_per_min"] - FA_BUDGET)


def outer_fold(st: Any, train: np.ndarray, test: np.ndarray) -> dict[str, Any]:
    classes = [str(g) for g in st.gestures]
    inner = {}
    for pad in PADS:
        held = []
        for itest in grouped_folds(st.subject[train], 2):
            itrain = np.setdiff1d(np.arange(len(train)), itest)
            held += spot(st, train[itrain], train[itest], pad)
        inner[pad] = score(spotting_metrics(held, classes, st.rate_hz))
    best = max(PADS, key=lambda p: (inner[p], -PADS.index(p)))
    chosen = spot(st, train, test, best)
    plain = chosen if best == (0, 0) else spot(st, train, test, (0, 0))
    return {"inner": {f"{a},{b}": round(v, 4) for (a, b), v in inner.items()},
            "chosen": list(best),
            "sessions": {"nested": [dataclasses.asdict(r) for r in chosen],
                         "plain": [dataclasses.asdict(r) for r in plain]}}


def run(seed: int, cache: Path) -> dict[str, Any]:
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    classes = [str(g) for g in st.gestures]
    held: dict[str, list[SessionResult]] = {"nested": [], "plain": []}
    chosen = []
    for k, test in enumerate(grouped_folds(st.subject, 3)):
        path = cache / f"ctx_p{seed}_f{k}.json"
        if path.exists():
            fold = json.loads(path.read_text())
        else:
            train = np.setdiff1d(np.arange(len(st.sessions)), test)
            fold = outer_fold(st, train, test)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(fold))
        print(f"partition {seed} fold {k}: inner {fold['inner']}, chosen {fold['chosen']}",
              flush=True)
        chosen.append({"inner": fold["inner"], "chosen": fold["chosen"]})
        for arm in held:
            held[arm] += [SessionResult(**r) for r in fold["sessions"][arm]]
    out: dict[str, Any] = {"folds": chosen}
    for arm, res in held.items():
        m = spotting_metrics(res, classes, st.rate_hz)
        out[arm] = {k: round(float(m[k]), 4) for k in KEYS} | {"missed": m["missed"]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--partitions", type=int, nargs="+", default=[101, 102, 103, 104])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/gesturemap_take_context"))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    runs = {str(s): run(s, args.cache) for s in args.partitions}
    text = json.dumps(runs, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    for s, r in runs.items():
        print(s, {arm: r[arm]["f1"] for arm in ("plain", "nested")}, r["folds"])


if __name__ == "__main__":
    main()
