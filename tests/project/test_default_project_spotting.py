"""The default mouse project spots its gestures drawn one after another, no key pressed."""

from __future__ import annotations

import numpy as np

from gesturemap.live.replay import replay_frames
from gesturemap.project.default import DEFAULT_CLASSES, default_project
from tests.recordings import mouse_frames as _frames
from tests.recordings import mouse_shape as _shape

RATE = 100.0


def test_default_project_spots_gestures_drawn_one_after_another() -> None:
    rng = np.random.default_rng(11)
    project = default_project()
    assert project.model["spotting"] == {"min_stay": 0.5}
    assert tuple(project.classes) == DEFAULT_CLASSES
    for label in DEFAULT_CLASSES:
        for _ in range(4):
            project.add_take(_frames(_shape(label, int(rng.integers(80, 120)), rng)), label)
    project.train()
    # one continuous performance: short pauses, the hand gliding to each gesture's start
    order = ["circle", "swipe", "zigzag", "swipe", "circle", "zigzag", "zigzag", "circle"]
    parts, pos = [], np.array([0.5, 0.5])
    for label in order:
        p = _shape(label, int(rng.integers(80, 120)), rng)
        pause = np.cumsum(rng.normal(0, 0.002, (int(rng.integers(5, 60)), 2)), axis=0) + pos
        parts += [pause, np.linspace(pause[-1], p[0], 15), p]
        pos = p[-1]
    parts.append(pos + np.cumsum(rng.normal(0, 0.002, (50, 2)), axis=0))
    x = _frames(np.vstack(parts))
    times = np.arange(len(x)) / RATE
    results = replay_frames(project, times, x)  # the engine's own stream code
    events = [r.event for _, r in results if r.event is not None]
    assert [e.label for e in events] == order
    # each emitted within a second of its gesture's end, never before its start
    ends = np.cumsum([len(p) for p in parts])[2::3][: len(order)] - 1
    starts = ends - np.array([len(p) for p in parts[2::3]][: len(order)]) + 1
    for e, s, end in zip(events, starts, ends, strict=True):
        assert s <= e.emitted <= end + RATE
