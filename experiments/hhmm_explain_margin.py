"""Which margin should an HHMM's explanation share out among the channels?

``gm.explain`` shares the margin of the chosen class over the runner-up. An HHMM can fit the
noise channels state by state, so against one rival a noise channel may carry some of the
margin; against all the other classes at once it may carry less. Compared, from the same
scorings of every coalition of channels (each class's HMM with the other channels
marginalised out of every Gaussian, as ``gm.explain`` scores them):

- ``runner-up``: ``ll[best] - ll[second]`` (the default);
- ``rest``: ``ll[best] - logsumexp(ll[others])`` (the chosen class against all the others);
- ``mean``: ``ll[best] - mean(ll[others])``.

The share of explained takes whose three noise channels rank least influential (by
magnitude), by ``benchmarks/explain_noise_channels.py``'s measure and noise, on HAPT's
training subjects of the benchmark's first fold only (subject rank modulo 3 != 0), split
again in three folds by subject (rank modulo 3 among them), each explained by a model fitted on
the other two. The benchmark's held-out folds are not read to choose.

``--held-out hapt|shoulder`` then measures the margins on the benchmark's own held-out
splits (its three HAPT folds, ShoulderExerciseWatch's subjects 8-10), the same noise.

    GESTUREMAP_SHARED=/path/to/shared nice -n 10 python3 -m experiments.hhmm_explain_margin \
        [--held-out hapt|shoulder]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from scipy.special import logsumexp

import gesturemap as gm
from benchmarks import explain_noise_channels as bench
from gesturemap.utils.shapley import shapley_values

EXPLAIN = sys.modules["gesturemap.explain"]
MARGINS = {
    "runner-up": lambda ll, b, s: ll[b] - ll[s],
    "rest": lambda ll, b, s: ll[b] - logsumexp(np.delete(ll, b)),
    "mean": lambda ll, b, s: ll[b] - np.delete(ll, b).mean(),
}


def inner_splits():
    xs, ys, subjects = bench._load(bench.DATASETS / "HAPTTransitions"
                                   / "HAPT_transitions_train.npz")
    ranks = {s: r for r, s in enumerate(np.unique(subjects))}
    keep = [i for i in range(len(xs)) if ranks[subjects[i]] % 3 != 0]
    xs, ys, subjects = [xs[i] for i in keep], [ys[i] for i in keep], subjects[keep]
    ranks = {s: r for r, s in enumerate(np.unique(subjects))}
    for fold in range(3):
        yield bench._by_subject(xs, ys, subjects, {s for s, r in ranks.items() if r % 3 == fold})


def contributions(model, x: np.ndarray) -> dict[str, np.ndarray]:
    d = x.shape[1]
    ll = model._sequence_loglik(x)
    best, second = (int(i) for i in np.argsort(-ll, kind="stable")[:2])
    cache: dict[bytes, np.ndarray] = {}

    def scores(mask: np.ndarray) -> np.ndarray:
        key = mask.tobytes()
        if key not in cache:
            cache[key] = EXPLAIN._without_channels(model, np.flatnonzero(~mask))._sequence_loglik(
                np.ascontiguousarray(x[:, mask]))
        return cache[key]

    out = {}
    empty = np.zeros(len(ll))
    for name, margin in MARGINS.items():
        out[name] = shapley_values(lambda m, margin=margin: float(margin(scores(m), best, second)),
                                   d, full=float(margin(ll, best, second)),
                                   empty=float(margin(empty, best, second)),
                                   budget=EXPLAIN.SHAPLEY_BUDGET)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--held-out", choices=("hapt", "shoulder"),
                    help="the benchmark's held-out splits (after the choice)")
    args = ap.parse_args()
    splits = {None: inner_splits, "hapt": lambda: bench.hapt_splits(False),
              "shoulder": lambda: bench.shoulder_splits(False)}[args.held_out]
    hits = {name: [] for name in MARGINS}
    for k, (trx, try_, tex, _) in enumerate(splits()):
        trx, tex = bench.with_noise(trx, tex, seed=k)
        ds = gm.Dataset()
        for x, y in zip(trx, try_, strict=True):
            ds.add(x, label=y)
        model = gm.HHMM().fit(ds)
        for x in tex:
            for name, c in contributions(model, x).items():
                hits[name].append(bench.noise_last(c)[0])
        print(f"fold {k}: " + ", ".join(f"{n} {np.mean(h):.3f} ({len(h)})"
                                        for n, h in hits.items()), flush=True)
    print("| margin | takes | noise ranked last (by magnitude) |\n|---|---|---|")
    for name, h in hits.items():
        print(f"| {name} | {len(h)} | {np.mean(h):.3f} |")


if __name__ == "__main__":
    main()
