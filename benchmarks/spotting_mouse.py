"""Spotting on simulated mouse performances with the default mouse project (docs/spotting.md).

For each of ten seeds: the default project (x, y and their velocities at 100 Hz) trained on 4
takes per gesture (circle, swipe, zigzag), then one performance of 9 gestures drawn one after
another, with short pauses and a glide to each gesture's start. Counts, per spotting setting,
the gestures found (an event of the right label within its gesture or 1 s after), the false
alarms, the misses, and the performances found exactly. Run::

    python3 -m benchmarks.spotting_mouse
"""

from __future__ import annotations

import itertools

import numpy as np

import gesturemap as gm
from gesturemap.evaluation.spotting.scores import match_detections
from gesturemap.project.default import default_project

# the mouse performances the tests draw too (one definition for both)
from tests.recordings import mouse_frames as frames
from tests.recordings import mouse_shape as shape

ORDER = ["circle", "swipe", "zigzag", "swipe", "circle", "zigzag", "zigzag", "circle", "swipe"]


def idle(n: int, start: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.cumsum(rng.normal(0, 0.002, (n, 2)), axis=0) + start


def performance(seed: int) -> tuple[gm.HHMM, np.ndarray, list[tuple[str, int, int]]]:
    rng = np.random.default_rng(seed)
    project = default_project()
    for label in ("circle", "swipe", "zigzag"):
        for _ in range(4):
            project.add_take(frames(shape(label, int(rng.integers(80, 120)), rng)), label)
    project.train()
    parts, truth, t, pos = [], [], 0, np.array([0.5, 0.5])
    for label in ORDER:
        p = shape(label, int(rng.integers(80, 120)), rng)
        pause = idle(int(rng.integers(5, 60)), pos, rng)
        glide = np.linspace(pause[-1], p[0], 15)
        t += len(pause) + len(glide)
        truth.append((label, t, t + len(p) - 1))
        t += len(p)
        parts += [pause, glide, p]
        pos = p[-1]
    parts.append(idle(50, pos, rng))
    return project.trained, frames(np.vstack(parts)), truth


def main() -> None:
    settings = list(itertools.product([1.0, 1.25, 1.5], [0.3, 0.4, 0.5], [0.0, 0.5]))
    counts = {s: [0, 0, 0, 0] for s in settings}
    for seed in range(10):
        model, x, truth = performance(seed)
        for s in settings:
            max_stay, threshold, min_stay = s
            events = gm.spot(model, x, relative_threshold=threshold, max_stay=max_stay, min_stay=min_stay)
            r = match_detections(truth, [(e.label, e.emitted) for e in events], tolerance=100)
            c = counts[s]
            c[0] += len(r.true_positives)
            c[1] += len(r.false_positives)
            c[2] += len(r.missed)
            c[3] += int(not r.missed and not r.false_positives)
    print("| max_stay | threshold | min_stay | found | false alarms | missed | exact |")
    print("|---|---|---|---|---|---|---|")
    for s, c in counts.items():
        print(f"| {s[0]} | {s[1]} | {s[2]} | {c[0]}/90 | {c[1]} | {c[2]} | {c[3]}/10 |")


if __name__ == "__main__":
    main()
