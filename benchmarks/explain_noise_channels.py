"""Do explanations rank channels of pure noise last on motion sensors?

Three channels of standard-normal noise are appended to every recording of two 6-D IMU sets,
after the six real channels are standardised (mean and deviation of the training frames).
A model is fitted on the training recordings and ``gm.explain`` explains every held-out one;
reported is the share of held-out recordings whose three noise channels are the three least
influential (smallest ``|channel_contributions|``; "signed": the three smallest values), for
the leave-one-out contributions (the method before) and the Shapley values (the default), and
the median time of one explanation.

- HAPT transitions (the 250 postural-transition takes of the 21 training subjects): three
  folds of subjects (subject rank modulo 3), each held out once.
- ShoulderExerciseWatch: subjects 1-7 train, 8-10 held out (the dataset's split).

``--choose`` measures, on the training data only (HAPT: the training subjects of the first
fold, split again by subject; ShoulderExerciseWatch: subjects 1-5 against 6-7), how the share
depends on the number of coalitions scored (``SHAPLEY_BUDGET``), which is how that default was
chosen.

    nice -n 10 python3 -m benchmarks.explain_noise_channels [--choose] [--models gmm,hhmm]

Reads the repository's cut of the shared data unless GESTUREMAP_SHARED names a full copy (the
figures of docs/performance.md were measured on the full data).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks.shared_data import DATASETS, describe  # noqa: E402

EXPLAIN = sys.modules["gesturemap.explain"]
NOISE = 3
MODELS = {"gmm": gm.GMM, "hhmm": gm.HHMM}

Split = tuple[list[np.ndarray], list, list[np.ndarray], list]


def _load(path: Path) -> tuple[list[np.ndarray], list, np.ndarray]:
    z = np.load(path)
    xs = np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1])
    return xs, [str(v) for v in z["y"]], np.asarray(z["subject"])


def _by_subject(xs, ys, subjects, held: set) -> Split:
    tr = [i for i in range(len(xs)) if subjects[i] not in held]
    te = [i for i in range(len(xs)) if subjects[i] in held]
    return ([xs[i] for i in tr], [ys[i] for i in tr], [xs[i] for i in te], [ys[i] for i in te])


def hapt_splits(choose: bool) -> Iterator[Split]:
    xs, ys, subjects = _load(DATASETS / "HAPTTransitions" / "HAPT_transitions_train.npz")
    ranks = {s: r for r, s in enumerate(np.unique(subjects))}
    if choose:  # inside the training subjects of the first fold only
        keep = [i for i in range(len(xs)) if ranks[subjects[i]] % 3 != 0]
        xs, ys, subjects = [xs[i] for i in keep], [ys[i] for i in keep], subjects[keep]
        ranks = {s: r for r, s in enumerate(np.unique(subjects))}
        yield _by_subject(xs, ys, subjects, {s for s, r in ranks.items() if r % 3 == 0})
        return
    for fold in range(3):
        yield _by_subject(xs, ys, subjects, {s for s, r in ranks.items() if r % 3 == fold})


def shoulder_splits(choose: bool) -> Iterator[Split]:
    folder = DATASETS / "ShoulderExerciseWatch"
    train = _load(folder / "ShoulderExerciseWatch_train.npz")
    if choose:  # subjects 1-7 only: 1-5 fit, 6-7 explained
        yield _by_subject(*train, {6, 7})
        return
    test = _load(folder / "ShoulderExerciseWatch_test.npz")
    yield train[0], train[1], test[0], test[1]


def with_noise(train: list[np.ndarray], test: list[np.ndarray], seed: int,
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Real channels standardised on the training frames, then NOISE standard-normal ones."""
    frames = np.vstack(train)
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    rng = np.random.default_rng(seed)
    return tuple([np.hstack([(x - mean) / std, rng.normal(size=(len(x), NOISE))]) for x in xs]
                 for xs in (train, test))


def noise_last(c: np.ndarray) -> tuple[bool, bool]:
    """Are the NOISE last channels the least influential (by magnitude; by signed value)?"""
    noise = set(range(len(c) - NOISE, len(c)))
    return (set(np.argsort(np.abs(c), kind="stable")[:NOISE].tolist()) == noise,
            set(np.argsort(c, kind="stable")[:NOISE].tolist()) == noise)


def measure(splits: Iterator[Split], model_name: str, variants: dict[str, tuple[str, int]],
            ) -> dict[str, dict[str, float]]:
    """Per variant (contributions, budget): share noise-last (abs, signed), median seconds."""
    hits = {v: [] for v in variants}
    seconds = {v: [] for v in variants}
    for k, (trx, try_, tex, _) in enumerate(splits):
        trx, tex = with_noise(trx, tex, seed=k)
        ds = gm.Dataset()
        for x, y in zip(trx, try_, strict=True):
            ds.add(x, label=y)
        model = MODELS[model_name]().fit(ds)
        for x in tex:
            for v, (contributions, budget) in variants.items():
                EXPLAIN.SHAPLEY_BUDGET = budget
                t0 = time.perf_counter()
                ex = gm.explain(model, x, contributions=contributions)
                seconds[v].append(time.perf_counter() - t0)
                hits[v].append(noise_last(ex.channel_contributions))
    return {v: {"abs": float(np.mean([h[0] for h in hits[v]])),
                "signed": float(np.mean([h[1] for h in hits[v]])),
                "n": len(hits[v]), "median_s": float(np.median(seconds[v]))}
            for v in variants}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--choose", action="store_true",
                    help="compare coalition budgets on the training data only")
    ap.add_argument("--models", default="gmm,hhmm")
    ap.add_argument("--datasets", default="hapt,shoulder")
    args = ap.parse_args()
    default = EXPLAIN.SHAPLEY_BUDGET
    if args.choose:
        variants = {f"shapley, {b} coalitions": ("shapley", b) for b in (32, 64, 128, 256)}
        variants["shapley, exact"] = ("shapley", 1 << 12)
    else:
        variants = {"leave-one-out (before)": ("leave-one-out", default),
                    f"shapley, {default} coalitions (default)": ("shapley", default)}
    print(f"data: {describe()}")
    print("| dataset | model | contributions | held-out recordings | noise ranked last "
          "(by magnitude) | (signed) | median s / explanation |")
    print("|---|---|---|---|---|---|---|")
    sources = {"hapt": ("HAPT transitions", hapt_splits),
               "shoulder": ("ShoulderExerciseWatch", shoulder_splits)}
    for key in args.datasets.split(","):
        name, splits = sources[key]
        for model_name in args.models.split(","):
            result = measure(splits(args.choose), model_name, variants)
            for v, r in result.items():
                print(f"| {name} | {model_name.upper()}() | {v} | {r['n']} | {r['abs']:.3f} | "
                      f"{r['signed']:.3f} | {r['median_s']:.3f} |", flush=True)
    EXPLAIN.SHAPLEY_BUDGET = default


if __name__ == "__main__":
    main()
