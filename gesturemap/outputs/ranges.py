"""Each continuous output's range, one rule for every sink that scales outputs (MIDI's
controllers, the synth's default routes)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["output_ranges"]


def output_ranges(project: Any) -> list[tuple[float, float]]:
    """Each continuous output's range: the project's OSC scaling (``in_min``..``in_max``) if
    set, else the range of the targets recorded in its takes, else 0..1. The outputs are
    those the project names, or, where it names none, its takes' columns (a regression made
    without names had no range at all: only its first output was sent, and over 0..1).

    Read take by take, never copying them all into one array: the engine asks at each model
    swap, between two frames.
    """
    names = list(getattr(project, "output_names", None) or [])
    scales = list(((getattr(project, "outputs", None) or {}).get("scales")) or [])
    targets = [t.outputs for t in getattr(project, "takes", []) if t.outputs is not None]
    targets = [t for t in targets if t.ndim == 2 and t.shape[0] > 0]
    width = max((t.shape[1] for t in targets), default=0)
    lows, highs = np.full(width, np.inf), np.full(width, -np.inf)
    for t in targets:
        d = t.shape[1]
        np.minimum(lows[:d], t.min(axis=0), out=lows[:d])
        np.maximum(highs[:d], t.max(axis=0), out=highs[:d])
    out = []
    for k in range(len(names) or width):
        if k < len(scales) and {"in_min", "in_max"} <= set(scales[k]):
            lo, hi = float(scales[k]["in_min"]), float(scales[k]["in_max"])
        elif k < width and highs[k] > lows[k]:
            lo, hi = float(lows[k]), float(highs[k])
        else:
            lo, hi = 0.0, 1.0
        out.append((lo, hi))
    return out
