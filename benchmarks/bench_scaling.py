"""``gesturemap bench --scaling``: retrain and step cost against classes, channels and takes.

Synthetic takes: every class is a smooth random trajectory in ``D`` channels; a take is that
trajectory, time-warped a little, with noise (``takes`` × ``frames`` per class). Each model is
built with its package defaults (no settings chosen here), retrained ``repeats`` times (median)
and stepped over held-out takes of the same classes (p50 / p99 per frame, one thread in the
stream). The grid is small enough to run in a few minutes on a busy 2-core machine.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

#: (classes, channels, takes per class) points of the default grid.
DEFAULT_GRID: tuple[tuple[int, int, int], ...] = (
    (5, 6, 5), (5, 60, 5), (20, 6, 5), (20, 30, 5), (20, 60, 5), (50, 60, 5), (20, 130, 5),
    (20, 60, 2),
)
MODELS = ("hhmm", "gmm", "dtw", "knn")
#: The previous defaults, measured beside the current ones in the same run ("before").
BEFORE_MODELS = ("hhmm-full", "gmm-full")
#: Grid points skipped for the "before" models (minutes per retrain on a 2-core machine).
BEFORE_SKIP = ((50, 60, 5), (20, 130, 5))


def synthetic_dataset(classes: int, channels: int, takes: int, frames: int = 150,
                      seed: int = 0):
    """A classification dataset of smooth random gestures, plus held-out takes for stepping."""
    import gesturemap as gm

    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    held = []
    for c in range(classes):
        shape = gesture_shape(rng, channels)
        for k in range(takes + 1):
            x = gesture_take(rng, shape, frames)
            if k < takes:
                ds.add(x, f"g{c}")
            else:
                held.append(x)
    return ds, held


def gesture_shape(rng: np.random.Generator, channels: int) -> tuple[np.ndarray, ...]:
    """A class's smooth random trajectory: per channel a frequency, phase and amplitude."""
    freq = rng.uniform(0.5, 2.0, size=channels)
    phase = rng.uniform(0, 2 * np.pi, size=channels)
    amp = rng.uniform(0.5, 1.5, size=channels)
    return freq, phase, amp


def gesture_take(rng: np.random.Generator, shape: tuple[np.ndarray, ...],
                 frames: int) -> np.ndarray:
    """One take (frames, channels) of a class's trajectory, time-warped a little, with noise."""
    freq, phase, amp = shape
    warp = np.linspace(0.0, 1.0, frames) ** rng.uniform(0.8, 1.25)
    x = amp * np.sin(2 * np.pi * freq * warp[:, None] + phase)
    return x + 0.1 * rng.standard_normal(x.shape)


def _model(kind: str) -> Any:
    import gesturemap as gm

    if kind.endswith("-full"):  # the defaults before covariance="auto"
        return {"hhmm-full": gm.HHMM, "gmm-full": gm.GMM}[kind](covariance="full")
    return {"hhmm": gm.HHMM, "gmm": gm.GMM, "dtw": gm.DTW, "knn": gm.KNN}[kind]()


def measure(kind: str, classes: int, channels: int, takes: int, *, repeats: int = 3,
            frames: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Retrain (median of ``repeats``) and step p50/p99 (µs) of one model at one grid point."""
    ds, held = synthetic_dataset(classes, channels, takes, seed=seed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = _model(kind).fit(ds)
        times.append(time.perf_counter() - t0)
    stream = model.stream()
    frames_in = np.concatenate(held)
    for f in frames_in[:50]:
        stream.step(f)
    samples = np.empty(frames)
    n, take_len = len(frames_in), len(held[0])
    correct = 0
    for i in range(frames):
        if i % take_len == 0:
            stream.reset()
        f = frames_in[i % n]
        t0 = time.perf_counter_ns()
        r = stream.step(f)
        samples[i] = (time.perf_counter_ns() - t0) / 1e3
        if i % take_len == take_len - 1:
            correct += r.label == f"g{(i % n) // take_len}"
    return {"model": kind, "classes": classes, "channels": channels, "takes": takes,
            "retrain_s": statistics.median(times),
            "step_us_p50": float(np.percentile(samples, 50)),
            "step_us_p99": float(np.percentile(samples, 99)),
            "held_out_takes_correct": int(correct), "held_out_takes": int(frames // take_len)}


def run(grid=DEFAULT_GRID, models=MODELS + BEFORE_MODELS, repeats: int = 3,
        frames: int = 2000, verbose: bool = True) -> list[dict[str, Any]]:
    rows = []
    if verbose:  # the rows are printed as they are measured: the table's head first
        print(HEAD, flush=True)
    for kind in models:
        measure(kind, 2, 3, 2, repeats=1, frames=10)  # warm-up (kernels compiled / cached)
        for classes, channels, takes in grid:
            if kind in BEFORE_MODELS and (classes, channels, takes) in BEFORE_SKIP:
                continue
            # the largest points are retrained once: their time dwarfs the noise
            reps = 1 if classes * channels * takes > 6000 else repeats
            row = measure(kind, classes, channels, takes, repeats=reps, frames=frames)
            rows.append(row)
            if verbose:
                print(format_row(row), flush=True)
    return rows


def format_row(r: dict[str, Any]) -> str:
    return (f"| {r['model'].upper()} | {r['classes']} | {r['channels']} | {r['takes']} | "
            f"{r['retrain_s']:.3f} | {r['step_us_p50']:.0f} | {r['step_us_p99']:.0f} | "
            f"{r['held_out_takes_correct']}/{r['held_out_takes']} |")


HEAD = ("| model | classes | channels | takes/class | retrain (s) | step p50 (µs) | "
        "step p99 (µs) | held-out takes right |\n|---|---|---|---|---|---|---|---|")


def format_rows(rows: list[dict[str, Any]]) -> str:
    return "\n".join([HEAD] + [format_row(r) for r in rows])


def plot(rows: list[dict[str, Any]], path) -> None:
    """Retrain time and step p50 against classes (60-D) and channels (20 classes); the
    previous defaults (``*-FULL``) dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for j, (axis, fixed, key) in enumerate((("classes", ("channels", 60), "classes"),
                                            ("channels", ("classes", 20), "channels"))):
        for i, metric in enumerate(("retrain_s", "step_us_p50")):
            ax = axes[i, j]
            for m_i, kind in enumerate(MODELS + BEFORE_MODELS):
                pts = sorted((r[key], r[metric]) for r in rows if r["model"] == kind
                             and r[fixed[0]] == fixed[1] and r["takes"] == 5)
                if pts:
                    ax.plot(*zip(*pts, strict=True), ":x" if kind.endswith("-full") else "-o",
                            color=f"C{m_i % len(MODELS)}", label=kind.upper())
            ax.set_xlabel(f"{axis} ({fixed[0]} = {fixed[1]}, 5 takes/class)")
            ax.set_ylabel("retrain (s)" if metric == "retrain_s" else "step p50 (µs)")
            ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def hmmlearn_yardstick(classes: int = 20, channels: int = 60, takes: int = 5,
                       covariance_type: str = "full", seed: int = 0) -> float:
    """Seconds hmmlearn takes to train one 5-state GaussianHMM per class (10 EM iterations)
    on the same synthetic takes with their deltas, as the issue's yardstick."""
    from hmmlearn.hmm import GaussianHMM

    ds, _ = synthetic_dataset(classes, channels, takes, seed=seed)
    by_class: dict[str, list[np.ndarray]] = {}
    for r in ds:
        x = np.asarray(r.inputs)
        d = np.vstack([np.zeros((1, x.shape[1])), np.diff(x, axis=0)])
        by_class.setdefault(r.label, []).append(np.hstack([x, d]))
    t0 = time.perf_counter()
    for seqs in by_class.values():
        GaussianHMM(5, covariance_type=covariance_type, n_iter=10, tol=0.0,
                    random_state=seed).fit(np.vstack(seqs), [len(s) for s in seqs])
    return time.perf_counter() - t0
