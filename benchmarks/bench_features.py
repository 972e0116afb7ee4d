"""Per-frame cost of the streaming feature pipeline.

A typical pipeline (select + One Euro + derivative + standardise) runs over real smartwatch
IMU data (50 Hz, 6 channels); each ``push`` is timed alone. Prints p50 / p99 in microseconds.

Run from the repository root: ``python3 -m benchmarks.bench_features [--frames N]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.shared_data import DATASETS
from gesturemap.features import (
    Derivative,
    Magnitude,
    OneEuro,
    Pipeline,
    Resample,
    Select,
    Standardize,
    WindowStats,
)

DATA = DATASETS / "ShoulderExerciseWatch" / "ShoulderExerciseWatch_train.npz"
NAMES = ("ax", "ay", "az", "wx", "wy", "wz")


def load_frames(n: int) -> np.ndarray:
    """Return (n, 6) frames: the recorded IMU data if present, else a synthetic stand-in."""
    if DATA.exists():
        with np.load(DATA, allow_pickle=False) as data:
            X = data["X_concat"]
        return np.ascontiguousarray(np.resize(X, (n, X.shape[1])))
    rng = np.random.default_rng(0)
    return np.cumsum(rng.normal(size=(n, 6)), axis=0)


def time_pushes(pipeline: Pipeline, X: np.ndarray, warmup: int = 1000) -> np.ndarray:
    """Microseconds taken by each ``push`` of ``X``'s rows (after ``warmup`` untimed pushes)."""
    state = pipeline.start(X.shape[1], NAMES)
    for frame in X[:warmup]:
        state.push(frame)
    state.reset()
    clock = time.perf_counter_ns
    push = state.push
    out = np.empty(len(X))
    for i, frame in enumerate(X):
        t0 = clock()
        push(frame)
        out[i] = clock() - t0
    return out / 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    args = parser.parse_args()
    X = load_frames(args.frames)
    fit_on = [X[:5000]]
    pipelines = {
        "empty (validation only)": Pipeline([], rate_hz=50.0),
        "select+one_euro+derivative+standardize": Pipeline(
            [
                Select(("ax", "ay", "az")),
                OneEuro(min_cutoff=1.0, beta=0.05),
                Derivative(append=True),
                Standardize(),
            ],
            rate_hz=50.0,
        ),
        "magnitude+window_stats(10, mean/std/min/max)": Pipeline(
            [
                Magnitude(("ax", "ay", "az"), append=True),
                WindowStats(10, ("mean", "std", "min", "max")),
            ],
            rate_hz=50.0,
        ),
        "one_euro+resample 50->100 Hz": Pipeline([OneEuro(), Resample(100.0)], rate_hz=50.0),
    }
    print(f"{len(X)} pushes of 6-channel frames; microseconds per push")
    for name, pipeline in pipelines.items():
        pipeline.fit(fit_on, input_names=NAMES)
        us = time_pushes(pipeline, X)
        p50, p99 = np.percentile(us, [50, 99])
        print(f"  {name:46s} p50 {p50:6.2f}  p99 {p99:6.2f}")


if __name__ == "__main__":
    main()
