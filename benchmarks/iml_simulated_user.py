"""A simulated user in the explain-and-correct loop, on real recorded data (docs/guides/explain.md).

Three measurements, each on the training split only for every choice, the test split only for
the accuracies reported:

1. **Corrections vs. random takes.** The user starts with one take per class (the first of
   each class in a random order of the training takes). Each interaction adds one labelled
   take, by one of two strategies:
   - *random*: record another take, of a random class (a random training take not used yet);
   - *correct*: perform ``PERFORMANCES`` gestures live (random unused training takes), read
     the explanation of every wrong decision, and correct the worst one - the one the model
     was surest of (largest ``gm.explain(...).margin``) - with "that was X": it becomes a
     take with its true label. With no wrong decision, the user records a random take.
   Accuracy is measured on the held-out test split after every interaction; mean over seeds.
2. **Noise channels.** Pure-noise channels (as loud as the real ones) are appended to every
   take. The model is fitted on 2/3 of the training takes; the other third is explained
   (``gm.explain``) and its channel contributions summed; the user then says "this channel
   does not matter" for the channel ranked last, retrains with ``ignore_channels``, and
   repeats while the accuracy on that third does not drop. Reported: where the noise
   channels rank, which channels were ignored, and test accuracy clean / noisy / ignoring.
3. **Flipped labels.** 5 % of the training labels are changed to another class at random;
   ``gm.review_takes`` (10 folds) reviews the takes. Reported: precision and recall of the
   "probably mislabelled" verdict, and recall among the most suspicious takes (as many as
   were flipped), mean over seeds.

Data: JapaneseVowels (official train/test split, 12 channels) and ShoulderExerciseWatch
(subjects 1-7 train, 8-10 test; each recording averaged over blocks of 5 frames to 10 Hz to
keep the runs short). Model: GMM (gesturemap's defaults).

    nice -n 10 python3 benchmarks/iml_simulated_user.py [--quick] [--out figures.json]

draws docs/images/iml_*.png (``--quick``: iml_quick_*.png); ``--replot figures.json`` redraws
them from a run's ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks.shared_data import DATASETS as DATA  # noqa: E402
from gesturemap.evaluation.plots import figure, save_figure  # noqa: E402

IMAGES = ROOT / "docs" / "images"
PERFORMANCES = 8


def load(name: str, split: str) -> tuple[list[np.ndarray], list]:
    z = np.load(DATA / name / f"{name}_{split}.npz")
    xs = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
    y = z["y"]
    labels = [str(v) for v in y.astype(str)] if y.dtype.kind in "US" else [int(v) for v in y]
    if name == "ShoulderExerciseWatch":  # 50 Hz -> 10 Hz: mean of blocks of 5 frames
        xs = [x[: len(x) // 5 * 5].reshape(-1, 5, x.shape[1]).mean(axis=1) for x in xs]
    return xs, labels


def dataset(xs: list[np.ndarray], ys: list, index=None) -> gm.Dataset:
    ds = gm.Dataset()
    for i in range(len(xs)) if index is None else index:
        ds.add(xs[i], label=ys[i])
    return ds


def accuracy(model, xs, ys) -> float:
    return float(np.mean([p == y for p, y in zip(model.predict(xs), ys, strict=True)]))


# -- 1. corrections vs random takes -----------------------------------------------------------
def simulate(train, test, strategy: str, interactions: int, seed: int) -> list[float]:
    xs, ys = train
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(len(xs)))
    used = []
    for c in sorted(set(ys), key=str):
        first = next(i for i in order if ys[i] == c)
        used.append(first)
    pool = [i for i in order if i not in used]
    model = gm.GMM().fit(dataset(xs, ys, used))
    acc = [accuracy(model, *test)]
    for _ in range(interactions):
        if not pool:
            break
        pick = None
        if strategy == "correct":
            performed = [pool[int(k)] for k in rng.choice(len(pool), min(PERFORMANCES,
                                                                          len(pool)),
                                                          replace=False)]
            worst = -np.inf
            for i in performed:
                ex = gm.explain(model, xs[i])
                if ex.label != ys[i] and ex.margin > worst:
                    worst, pick = ex.margin, i
        if pick is None:
            pick = pool[int(rng.integers(len(pool)))]
        pool.remove(pick)
        used.append(pick)
        model = gm.GMM().fit(dataset(xs, ys, used))
        acc.append(accuracy(model, *test))
    return acc


# -- 2. noise channels ------------------------------------------------------------------------
def with_noise(xs: list[np.ndarray], k: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.hstack([x, rng.normal(size=(len(x), k)) * x.std()]) for x in xs]


def noise_experiment(train, test, k: int, seed: int) -> dict:
    xs, ys = train
    d = xs[0].shape[1]
    nxs, ntest = with_noise(xs, k, seed), with_noise(test[0], k, seed + 1000)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(xs))
    fit_i, val_i = order[: 2 * len(xs) // 3], order[2 * len(xs) // 3:]
    fit_ds = dataset(nxs, ys, fit_i)
    model = gm.GMM().fit(fit_ds)
    total = np.zeros(d + k)
    for i in val_i:
        total += gm.explain(model, nxs[i]).channel_contributions
    ranking = list(np.argsort(-total))
    noise_ranks = sorted(ranking.index(c) + 1 for c in range(d, d + k))
    # the user: "this channel does not matter", lowest-ranked first, while it does not hurt
    val = ([nxs[i] for i in val_i], [ys[i] for i in val_i])
    ignored: list[int] = []
    best = accuracy(model, *val)
    for c in reversed(ranking):
        trial = gm.GMM(ignore_channels=ignored + [int(c)]).fit(fit_ds)
        a = accuracy(trial, *val)
        if a < best:
            break
        ignored.append(int(c))
        best = a
    full_noisy = dataset(nxs, ys)
    return {
        "noise_channels": list(range(d, d + k)),
        "noise_ranks": noise_ranks,
        "channels": d + k,
        "ignored": sorted(ignored),
        "ignored_noise": len(set(ignored) & set(range(d, d + k))),
        "test_clean": accuracy(gm.GMM().fit(dataset(*train)), *test),
        "test_noisy": accuracy(gm.GMM().fit(full_noisy), ntest, test[1]),
        "test_ignoring": accuracy(gm.GMM(ignore_channels=ignored).fit(full_noisy), ntest,
                                  test[1]),
        "contributions": [float(v) for v in total],
    }


# -- 3. flipped labels ------------------------------------------------------------------------
def flip_experiment(train, fraction: float, seed: int) -> dict:
    xs, ys = train
    rng = np.random.default_rng(seed)
    classes = sorted(set(ys), key=str)
    flipped = rng.choice(len(ys), int(round(fraction * len(ys))), replace=False)
    noisy = list(ys)
    for i in flipped:
        noisy[i] = classes[int(rng.choice([j for j, c in enumerate(classes) if c != ys[i]]))]
    t0 = time.perf_counter()
    reviews = gm.review_takes(dataset(xs, noisy), gm.GMM(), folds=10)
    seconds = time.perf_counter() - t0
    truth = set(flipped.tolist())
    flagged = {r.index for r in reviews if r.verdict.startswith("probably mislabelled")}
    top = {r.index for r in sorted(reviews, key=lambda r: -r.suspicion)[: len(truth)]}
    fixed = sum(1 for r in reviews if r.index in truth and r.likely_label == ys[r.index])
    return {"flipped": len(truth), "flagged": len(flagged),
            "precision": len(flagged & truth) / max(1, len(flagged)),
            "recall": len(flagged & truth) / len(truth),
            "top_k_recall": len(top & truth) / len(truth),
            "likely_label_right": fixed / len(truth), "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one seed, few interactions")
    ap.add_argument("--out", help="write the figures as JSON here")
    ap.add_argument("--replot", metavar="JSON", help="redraw the plots from a run's --out")
    args = ap.parse_args()
    if args.replot:
        draw(json.loads(Path(args.replot).read_text()), IMAGES / "iml_")
        return
    seeds = [0] if args.quick else [0, 1, 2, 3, 4]
    results: dict = {"performances_per_round": PERFORMANCES, "model": "GMM()", "seeds": seeds}
    for name, interactions, noise in (("JapaneseVowels", 36, 6),
                                      ("ShoulderExerciseWatch", 28, 6)):
        if args.quick:
            interactions = 6
        train, test = load(name, "train"), load(name, "test")
        t0 = time.perf_counter()
        curves = {s: np.array([simulate(train, test, s, interactions, seed) for seed in seeds])
                  for s in ("random", "correct")}
        r = {"train_takes": len(train[0]), "test_takes": len(test[0]),
             "classes": len(set(train[1])), "interactions": interactions,
             "curves": {s: c.mean(axis=0).round(4).tolist() for s, c in curves.items()},
             "curves_std": {s: c.std(axis=0).round(4).tolist() for s, c in curves.items()},
             "all_takes_accuracy": accuracy(gm.GMM().fit(dataset(*train)), *test)}
        r["simulate_seconds"] = time.perf_counter() - t0
        r["noise"] = [noise_experiment(train, test, noise, seed) for seed in seeds[:3]]
        r["flip"] = [flip_experiment(train, 0.05, seed) for seed in seeds]
        results[name] = r
        print(name, json.dumps({k: v for k, v in r.items() if k != "curves_std"}, default=str)[
            :1500], flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    IMAGES.mkdir(parents=True, exist_ok=True)
    draw(results, IMAGES / ("iml_quick_" if args.quick else "iml_"))


def draw(results: dict, prefix: Path) -> None:
    """The three figures, from the results alone (``--replot`` redraws them from iml.json)."""
    names = [n for n in ("JapaneseVowels", "ShoulderExerciseWatch") if n in results]
    fig = figure(9.0, 3.4)
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, 2, k + 1)
        r = results[name]
        for s, colour in (("random", "#7f8c8d"), ("correct", "#c0392b")):
            m, sd = np.array(r["curves"][s]), np.array(r["curves_std"][s])
            x = np.arange(len(m))
            ax.plot(x, m, color=colour, label={"random": "add a random take",
                                               "correct": "correct the worst live error"}[s])
            ax.fill_between(x, m - sd, m + sd, color=colour, alpha=0.15)
        ax.axhline(r["all_takes_accuracy"], color="black", lw=0.6, ls=":",
                   label="all training takes")
        ax.set_xlabel("interactions (takes added)", fontsize=8)
        ax.set_ylabel(f"test accuracy (mean ± sd, {len(results['seeds'])} seeds)", fontsize=8)
        ax.set_title(f"{name} (start: 1 take per class)", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    save_figure(fig, Path(f"{prefix}corrections.png"))
    fig = figure(9.0, 3.0)
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, 2, k + 1)
        run = results[name]["noise"][0]
        total = np.array(run["contributions"])
        order = np.argsort(-total)
        noise = set(run["noise_channels"])
        ax.bar(np.arange(len(total)), total[order],
               color=["#c0392b" if c in noise else "#2c3e50" for c in order])
        ax.set_xticks(np.arange(len(total)), [f"{'N' if c in noise else 'ch'}{c}" for c in order],
                      rotation=90, fontsize=6)
        ax.set_ylabel("summed contribution (nats)", fontsize=8)
        ax.set_title(f"{name}: channels by contribution (red: noise)", fontsize=9)
    save_figure(fig, Path(f"{prefix}noise_channels.png"))
    fig = figure(9.0, 3.0)
    ax = fig.add_subplot(1, 2, 1)
    keys = (("test_clean", "real channels only"), ("test_noisy", "+ noise channels"),
            ("test_ignoring", "+ noise, ignore_channels"))
    for j, (key, text) in enumerate(keys):
        vals = [np.mean([n[key] for n in results[name]["noise"]]) for name in names]
        ax.bar(np.arange(len(names)) + (j - 1) * 0.27, vals, 0.27, label=text)
    ax.set_xticks(np.arange(len(names)), names, fontsize=8)
    ax.set_ylim(0.5, 1.1)
    ax.set_ylabel("test accuracy (mean over seeds)", fontsize=8)
    ax.legend(fontsize=6, loc="upper center", ncol=3)
    ax.set_title("noise channels, then ignored", fontsize=9)
    ax = fig.add_subplot(1, 2, 2)
    keys = (("precision", "precision"), ("recall", "recall"),
            ("top_k_recall", "recall in the top k"))
    for j, (key, text) in enumerate(keys):
        vals = [np.mean([f[key] for f in results[name]["flip"]]) for name in names]
        ax.bar(np.arange(len(names)) + (j - 1) * 0.27, vals, 0.27, label=text)
    ax.set_xticks(np.arange(len(names)), names, fontsize=8)
    ax.set_ylim(0, 1.15)
    ax.legend(fontsize=6, loc="upper center", ncol=3)
    ax.set_title("5 % flipped labels: 'probably mislabelled'", fontsize=9)
    save_figure(fig, Path(f"{prefix}noise_and_flips.png"))


if __name__ == "__main__":
    main()
