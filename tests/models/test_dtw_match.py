"""DTW's match (``Result.match``, Wekinator's ``/output_N``) fires for a gesture within the
spread of the user's own demonstrations, performed a little faster or slower: checked on the
real micro:bit gestures of a Wekinator DTW project, each held out in turn."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.interop.wekinator import project as wk

from ..interop.wekinator.test_project import unpack


def _resampled(x: np.ndarray, speed: float) -> np.ndarray:
    """``x`` performed ``speed`` times as fast (linear interpolation per input)."""
    n = max(2, round(len(x) / speed))
    t = np.linspace(0, len(x) - 1, n)
    return np.stack([np.interp(t, np.arange(len(x)), x[:, j]) for j in range(x.shape[1])], 1)


@pytest.fixture(scope="module")
def microbit(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("microbit")
    project, _ = wk.import_wekinator(unpack("microbit-motion-dtw", tmp), tmp / "gm")
    return project.takes


@pytest.mark.parametrize("speed", [0.75, 1.0, 1.33])
def test_a_held_out_gesture_matches_at_another_speed(microbit, speed):
    """Each of the 20 real takes held out, the others its templates: a stream reset at its
    start matches its gesture at its end, at 3/4, the same or 4/3 of its speed (with the
    threshold alone: 14, 16 and 18 of 20)."""
    matched = []
    for k, take in enumerate(microbit):
        ds = gm.Dataset()
        for j, other in enumerate(microbit):
            if j != k:
                ds.add(other.inputs, label=other.label)
        # a Wekinator project's DTW compares globally standardised inputs (its import says
        # so); with the learned threshold, "window" matched 14 of 20 here (labels: 18)
        model = gm.DTW(decision="cumulative", normalization="global").fit(ds)
        last = model.stream().run(_resampled(take.inputs, speed))[-1]
        matched.append(last.match == take.label)
    assert len(matched) == 20
    assert np.mean(matched) >= 0.9, matched


def test_a_match_above_the_threshold_needs_a_clear_margin():
    """Above the threshold the best class matches only when far nearer than every other class,
    and never beyond MATCH_REACH times the threshold; a project of one class: the threshold."""
    from gesturemap.models.dtw import MATCH_REACH

    t = np.linspace(0, 1, 40)
    circle = np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)]
    line = np.c_[2 * t - 1, 0.5 * t]
    both, alone = gm.Dataset(), gm.Dataset()
    for k in range(3):
        for ds in (both, alone):
            ds.add(circle + 0.01 * k, label="circle")
        both.add(line + 0.01 * k, label="line")
    faster = _resampled(circle, 1.5) + 0.05
    for ds, classes in ((both, 2), (alone, 1)):
        model = gm.DTW(decision="cumulative").fit(ds)
        d = model.distances(faster)
        assert len(d) == classes and d[0] < d[-1] / 10 or classes == 1
        for over, expected in ((0.5, "circle"), (1.5, "circle"), (MATCH_REACH + 0.5, None)):
            model.set_params(threshold=float(d[0]) / over)
            match = model.stream().run(faster)[-1].match
            if over < 1 or classes == 2:
                assert match == expected, (classes, over, match)
            else:  # one class: nothing to be nearer than, the threshold alone
                assert match is None, (over, match)
