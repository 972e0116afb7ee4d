"""Why the rehearsal audit's recall drop was predicted too low on HAPT's held-out subjects.

For one outer fold of ``benchmarks/rehearsal_audit.py`` (its fitted models, from its
``--cache``), each class's recall at every strictness level of the audit's grid (the same
multiple of every class's typical score):

- ``cross-fit``: each cross-fitting part's sessions through the model trained on the other
  parts (what the audit counts);
- ``held out``: the held-out subjects' sessions through the model trained on all 14 (what the
  benchmark measures; a diagnosis, nothing is chosen from it);
- ``parts on held out``: the part models on the held-out subjects, at the default level and
  at 0.75, which tells apart what the subjects and what the model account for.

Run from the repository root::

    GESTUREMAP_SHARED=../shared nice -n 10 python3 -m experiments.rehearsal_recall_drop \\
        --fold 1 --cache DIR [--parts 4]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import gesturemap as gm
from benchmarks.rehearsal_audit import PARTS, fitted
from benchmarks.shared_data import DATASETS
from gesturemap.evaluation.audit import DEFAULT_GRID
from gesturemap.evaluation.spotting.scores import ground_truth_events, match_detections
from gesturemap.evaluation.spotting.streams import grouped_folds, load_streams


def per_level(st: Any, model: Any, sessions: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(G, C, 2): gestures found and counted per level and class."""
    classes = [str(g) for g in st.gestures]
    typical = dict(zip(map(str, gm.Spotter(model).labels), gm.Spotter(model).typical_scores_,
                       strict=True))
    out = np.zeros((len(grid), len(classes), 2), dtype=np.int64)
    for gi, m in enumerate(grid):
        sp = gm.Spotter(model, thresholds={lb: m * t for lb, t in typical.items()})
        for i in sessions:
            truth = [(str(g), s, e) for g, s, e in ground_truth_events(st.labels[i],
                                                                      st.gestures)]
            res = match_detections(truth, [(str(e.label), e.emitted)
                                           for e in sp.spot(st.sessions[i])], 50)
            for g, _, _ in truth:
                out[gi, classes.index(g), 1] += 1
            for g, _, _ in res.true_positives:
                out[gi, classes.index(g), 0] += 1
    return out


def show(name: str, counts: np.ndarray, classes: list[str]) -> None:
    print(f"{name}: micro recall by level",
          np.round(counts[..., 0].sum(-1) / counts[..., 1].sum(-1), 3))
    for c, lb in enumerate(classes):
        print(f"    {lb}", np.round(counts[:, c, 0] / np.maximum(counts[:, c, 1], 1), 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fold", type=int, default=1)
    ap.add_argument("--parts", type=int, default=PARTS)
    ap.add_argument("--cache", help="the benchmark's folder of fitted models")
    args = ap.parse_args()
    st = load_streams(DATASETS / "HAPTTransitions" / "HAPT_train_streams.npz")
    classes = [str(g) for g in st.gestures]
    grid = np.array(sorted(DEFAULT_GRID))
    test = grouped_folds(st.subject, 3)[args.fold]
    train = np.setdiff1d(np.arange(len(st.sessions)), test)
    print("levels", grid)
    cross, parts = 0, []
    for part in grouped_folds(st.subject[train], args.parts):
        model = fitted(st, np.setdiff1d(train, train[part]), args.cache, "part")
        cross = cross + per_level(st, model, train[part], grid)
        parts.append(model)
    show("cross-fit", cross, classes)
    show("held out", per_level(st, fitted(st, train, args.cache, "final"), test, grid), classes)
    two = np.array([0.4, 0.75])
    for k, model in enumerate(parts):
        c = per_level(st, model, test, two)
        print(f"part {k} on held out: micro recall at {two.tolist()}",
              np.round(c[..., 0].sum(-1) / c[..., 1].sum(-1), 3))


if __name__ == "__main__":
    main()
