"""Recordings the tests build or read the same way in several modules: HAPT's transition takes,
a take replayed faster, slower or bigger, gestures drawn on the window's mouse pad, and a
spotting project with a rehearsal to audit."""

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


def ramp(rng: np.random.Generator, up: bool, n: int, a: float = 0.0, b: float = 1.0
         ) -> np.ndarray:
    """A gesture on two channels: a smooth move between two postures (``up``: from a to b),
    (n, 2)."""
    s = np.linspace(a, b, n) if up else np.linspace(b, a, n)
    return np.c_[s, 1 - s] + 0.03 * rng.normal(size=(n, 2))


def rest(rng: np.random.Generator, level: float, n: int) -> np.ndarray:
    """Resting in a posture (``level``, 1 - ``level``), (n, 2)."""
    return np.c_[np.full(n, level), np.full(n, 1 - level)] + 0.03 * rng.normal(size=(n, 2))


def rehearsal_project(**project: object) -> tuple[object, np.ndarray]:
    """docs/guides/rehearsal.md's example as a trained project (two gestures, swell and
    explosion, and a null class; HHMM spotting) and a two-minute rehearsal at 50 frames/s:
    resting, with two explosions performed by mistake and a swell begun and taken back. At
    a budget of one false trigger a minute, explosion's threshold stays lenient (every take
    recognised) unless its false triggers cost more. ``project``: more of
    :class:`~gesturemap.project.Project`'s arguments (a sensor...)."""
    import gesturemap as gm
    from gesturemap.project import Project

    rng = np.random.default_rng(1)
    p = Project("rehearsal", model={"kind": "hhmm", "params": {
        "states": 4, "gaussians": 1, "deltas": False}, "spotting": {}},
        input_names=["x", "y"], **project)
    for _ in range(6):
        p.add_take(ramp(rng, True, int(rng.integers(30, 50))), "swell")
        p.add_take(ramp(rng, False, int(rng.integers(30, 50))), "explosion")
        p.add_take(rest(rng, rng.integers(2), 100), gm.NULL)
    p.train()
    x = np.vstack([rest(rng, 1, 1400), ramp(rng, False, 40), rest(rng, 0, 100),
                   ramp(rng, True, 20, 0, 0.5), ramp(rng, False, 20, 0, 0.5),
                   rest(rng, 0, 1300), ramp(rng, True, 60), rest(rng, 1, 1400),
                   ramp(rng, False, 40), rest(rng, 0, 1640)])
    return p, x
