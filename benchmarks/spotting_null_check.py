"""Issue 12p's check: each gesture class's per-frame log-likelihood ratio against the null
model on held-out still frames (sitting, standing), with ``null_model`` "null" and
"null+gestures", for one outer fold of one partition of HAPT's training subjects.

    nice -n 10 python3 -m benchmarks.spotting_null_check --partition-seed 1 --fold 2

The model is the benchmark's ``hhmm()`` trained on the fold's training sessions as
``nested_cv`` trains it (``make_dataset``); nothing is spotted and nothing is chosen.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

import gesturemap as gm
from benchmarks.spotting_hapt import DATA, hhmm, repartition
from gesturemap.evaluation.spotting.cv import grouped_folds, load_streams, make_dataset

#: HAPT's activities: 4 sitting, 5 standing, 6 lying
STILL = {4: "sitting", 5: "standing", 6: "lying"}


def class_llr(sp: gm.Spotter, x: np.ndarray) -> np.ndarray:
    """(frames, classes): each class's best state's log-likelihood ratio per frame."""
    out = np.full((len(x), len(sp.labels)), -np.inf)
    for ci in range(len(sp.labels)):
        for j in range(int(sp._b["n_states"][ci])):
            out[:, ci] = np.maximum(out[:, ci], sp._frame_llr(x, ci, j))
    return out


def fold_args(doc: str, out: str) -> argparse.Namespace:
    """The command line of a one-fold check: ``--partition-seed``, ``--fold``, ``--out``."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--partition-seed", type=int, default=1)
    ap.add_argument("--fold", type=int, default=2)
    ap.add_argument("--out", default=out)
    return ap.parse_args()


def fold_sessions(partition_seed: int, fold: int) -> tuple[Any, np.ndarray, np.ndarray]:
    """HAPT's streams dealt by ``partition_seed``, and outer fold ``fold``'s training and
    held-out sessions (as ``nested_cv`` deals them)."""
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), partition_seed)
    test = grouped_folds(st.subject, 3)[fold]
    return st, np.setdiff1d(np.arange(len(st.sessions)), test), test


def main() -> None:
    args = fold_args(__doc__, "docs/spotting_runs/null_check_p1f2.json")
    st, train, test = fold_sessions(args.partition_seed, args.fold)
    model = hhmm().fit(make_dataset(st, train, lambda x: x))
    out: dict = {"partition_seed": args.partition_seed, "fold": args.fold,
                 "test_sessions": [int(i) for i in test]}
    for null_model in ("null", "null+gestures"):
        sp = gm.Spotter(model, null_model=null_model)
        res: dict = {"labels": [int(lb) for lb in sp.labels],
                     "typical": sp.typical_scores_.round(1).tolist(),
                     "expected_frames": sp.expected_frames_.round(1).tolist()}
        for act, name in STILL.items():
            llr = np.vstack([class_llr(sp, st.sessions[i][st.labels[i] == act]) for i in test])
            best = np.argmax(llr, axis=1)
            res[name] = {
                "frames": len(llr),
                "median_llr": np.median(llr, axis=0).round(2).tolist(),
                "share_positive": (llr > 0).mean(axis=0).round(3).tolist(),
                "share_best": np.bincount(best, minlength=len(sp.labels)).astype(float)
                .__truediv__(len(llr)).round(3).tolist()}
        out[null_model] = res
        print(null_model, json.dumps(res), flush=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
