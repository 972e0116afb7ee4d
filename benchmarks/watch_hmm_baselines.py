"""ShoulderExerciseWatch's README baselines "HMM left-right 10 states (+ deltas)", rebuilt with
hmmlearn directly as the README describes them (GaussianHMM per class, diagonal covariance, 30
EM iterations, left-right, initialised by uniform segmentation, classify by the largest
log-likelihood), on the README's subject split, with three readings of "deltas". Nothing is
chosen here: it measures how far the README's figures move with details the README leaves
open.

    python3 -m benchmarks.watch_hmm_baselines
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from hmmlearn.hmm import GaussianHMM

from benchmarks.shared_data import DATASETS

DATA = DATASETS / "ShoulderExerciseWatch"

#: three readings of "+ deltas": none, a first difference, numpy's central gradient
VARIANTS = {
    "left-right 10": lambda x: x,
    "left-right 10 + np.diff deltas": lambda x: np.hstack([x, np.diff(x, axis=0, prepend=x[:1])]),
    "left-right 10 + np.gradient deltas": lambda x: np.hstack([x, np.gradient(x, axis=0)]),
}


def load(part: str) -> tuple[list[np.ndarray], np.ndarray]:
    z = np.load(DATA / f"ShoulderExerciseWatch_{part}.npz")
    return np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1]), z["y"]


def left_right(seqs: list[np.ndarray], n: int) -> GaussianHMM:
    """A left-right GaussianHMM (diagonal), initialised by cutting every take into ``n``
    equal parts, fitted by 30 EM iterations."""
    m = GaussianHMM(n, "diag", n_iter=30, init_params="", params="stmc", random_state=0)
    m.startprob_ = np.eye(n)[0]
    a = np.zeros((n, n))
    for i in range(n):
        a[i, i] = 0.5
        a[i, min(i + 1, n - 1)] += 0.5
    m.transmat_ = a
    parts = [np.concatenate([np.array_split(x, n)[i] for x in seqs]) for i in range(n)]
    m.means_ = np.array([p.mean(0) for p in parts])
    m.covars_ = np.array([p.var(0) + 1e-3 for p in parts])
    m.fit(np.concatenate(seqs), [len(x) for x in seqs])
    return m


def accuracy(tr: list[np.ndarray], ytr: np.ndarray, te: list[np.ndarray], yte: np.ndarray,
             n: int = 10) -> float:
    classes = np.unique(ytr)
    models = {c: left_right([x for x, y in zip(tr, ytr, strict=True) if y == c], n)
              for c in classes}
    pred = [classes[np.argmax([models[c].score(x) for c in classes])] for x in te]
    return float(np.mean(np.array(pred) == yte))


def main() -> None:
    warnings.filterwarnings("ignore")  # hmmlearn's "not converging" on a few classes
    xtr, ytr = load("train")
    xte, yte = load("test")
    print("| method | test accuracy | seconds |")
    print("|---|---|---|")
    for name, f in VARIANTS.items():
        t = time.time()
        acc = accuracy([f(x) for x in xtr], ytr, [f(x) for x in xte], yte)
        print(f"| {name} | {acc:.3f} | {time.time() - t:.0f} |", flush=True)


if __name__ == "__main__":
    main()
