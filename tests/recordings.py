"""Recordings the tests build or read the same way in several modules: HAPT's transition takes,
a take replayed faster, slower or bigger, and gestures drawn on the window's mouse pad."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The mouse pad's frame rate (frames per second).
PAD_RATE = 100.0


def hapt_transition_takes(folder: Path) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """HAPT's postural-transition takes in ``folder`` at 25 Hz (every other frame of the 50 Hz
    recording), their labels and their subjects."""
    z = np.load(folder / "HAPT_transitions_train.npz", allow_pickle=False)
    takes = [x[::2].copy() for x in np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])]
    return takes, z["y"].astype(str), z["subject"]


def replayed(x: np.ndarray, speed: float, scale: float) -> np.ndarray:
    """Take ``x`` performed ``speed`` times as fast and ``scale`` times as big about its first
    frame (linear interpolation)."""
    n = max(2, int(round(len(x) / speed)))
    t = np.linspace(0, len(x) - 1, n)
    y = np.stack([np.interp(t, np.arange(len(x)), x[:, j]) for j in range(x.shape[1])], 1)
    return y[0] + scale * (y - y[0])


def mouse_shape(label: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A circle, swipe or zigzag drawn on the pad: (n, 2) positions about its centre, a little
    bigger or smaller each time, with a hand's jitter."""
    t = np.linspace(0, 1, n)
    s = 0.25 * rng.uniform(0.85, 1.15)
    if label == "circle":
        p = np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)] * s
    elif label == "swipe":
        p = np.c_[(t - 0.5) * 2.5, 0 * t] * s
    else:  # zigzag
        p = np.c_[(t - 0.5) * 2.5, (np.abs(((3 * t) % 1) * 2 - 1) * 2 - 1) * 0.8] * s
    return p + 0.5 + rng.normal(0, 0.004, p.shape)


def mouse_frames(p: np.ndarray) -> np.ndarray:
    """The pad's frames for positions ``p``: x, y and their velocities (units per second)."""
    return np.c_[p, np.gradient(p, axis=0) * PAD_RATE]
