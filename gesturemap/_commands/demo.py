"""A console demo on built-in data: train, then follow a gesture frame by frame.

The data is made here, deterministically: three mouse-like 2-D gestures (a circle, a
diagonal swipe, a zigzag), five takes each with the wobble and tempo changes of a real hand.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import numpy as np

LABELS = ("circle", "swipe", "zigzag")


def gesture(label: str, rng: np.random.Generator, frames: int | None = None) -> np.ndarray:
    """One take of a built-in gesture: (T, 2) positions in [-1, 1], with a human wobble."""
    t_total = frames or int(rng.integers(80, 121))
    s = np.linspace(0.0, 1.0, t_total)
    warp = s + rng.uniform(-0.15, 0.15) * s * (1 - s)  # faster or slower in the middle
    if label == "circle":
        xy = np.c_[np.cos(2 * np.pi * warp), np.sin(2 * np.pi * warp)] * 0.8
    elif label == "swipe":
        xy = np.c_[2 * warp - 1, 1 - 2 * warp] * 0.9
    else:
        xy = np.c_[2 * warp - 1, 0.6 * np.sign(np.sin(6 * np.pi * warp)) * np.abs(
            np.sin(6 * np.pi * warp)) ** 0.5]
    xy = xy * rng.uniform(0.9, 1.1) + rng.normal(0, 0.03, size=xy.shape)
    return xy


def builtin_dataset(takes: int = 5, seed: int = 7):  # -> gm.Dataset
    import gesturemap as gm

    rng = np.random.default_rng(seed)
    ds = gm.Dataset(input_names=["x", "y"])
    for label in LABELS:
        for _ in range(takes):
            ds.add(gesture(label, rng), label=label)
    return ds


def _bar(p: float, width: int = 20) -> str:
    n = int(round(p * width))
    return "█" * n + "·" * (width - n)


def run(out: TextIO = sys.stdout, delay_s: float = 0.0) -> int:
    import gesturemap as gm

    ds = builtin_dataset()
    print(f"gesturemap demo — built-in data: {len(ds)} takes of {', '.join(LABELS)} "
          f"({ds.n_frames} frames, 2-D like a mouse)", file=out)
    t0 = time.perf_counter()
    model = gm.HHMM(8, likelihood_window=5).fit(ds)
    print(f"trained a hierarchical HMM (8 states per gesture) in "
          f"{(time.perf_counter() - t0) * 1e3:.0f} ms", file=out)
    rng = np.random.default_rng(2026)
    stream = model.stream()
    step_us = []
    for label in ("zigzag", "circle"):
        take = gesture(label, rng, frames=100)
        print(f"\nperforming a new '{label}' ({len(take)} frames):", file=out)
        stream.reset()  # a gesture starts (the engine: a take, a reset trigger, an onset)
        for i, frame in enumerate(take):
            t = time.perf_counter_ns()
            r = stream.step(frame)
            step_us.append((time.perf_counter_ns() - t) / 1e3)
            if i % 20 == 19 or i == len(take) - 1:
                k = r.label_index
                bars = "  ".join(f"{lb[:6]:>6} {_bar(p, 10)}" for lb, p in
                                 zip(model.labels_, r.likelihoods, strict=True))
                print(f"  frame {i + 1:3d}  {bars}  -> {r.label:<7} progress "
                      f"{min(float(r.progress[k]), 1.0):4.0%}", file=out)
            if delay_s:
                time.sleep(delay_s)
    print(f"\nstep(): median {np.median(step_us):.1f} µs per frame. Next: gesturemap bench, "
          "or the Python API (README.md).", file=out)
    return 0
