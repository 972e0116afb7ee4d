"""The motion-onset detector: one onset per gesture after a rest, none from jitter."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.onset import OnsetDetector


def _performance(rng, rests=3):
    """Rest (sensor noise), gesture, rest, gesture...: (frames, index of each gesture start)."""
    frames, starts = [], []
    t = np.linspace(0, 1, 60)[:, None]
    for _ in range(rests):
        frames += list(0.01 * rng.standard_normal((40, 3)))
        starts.append(len(frames))
        frames += list(np.sin(2 * np.pi * t * [1, 2, 3]) * 5 + 0.01 * rng.standard_normal((60, 3)))
    frames += list(0.01 * rng.standard_normal((40, 3)))
    return np.array(frames), starts


def test_one_onset_at_each_gesture_start():
    rng = np.random.default_rng(0)
    x, starts = _performance(rng)
    det = OnsetDetector(threshold=0.05, quiet_frames=10)
    fired = [i for i, f in enumerate(x) if det.step(f)]
    assert len(fired) == len(starts) and det.onsets == len(starts)
    for f, s in zip(fired, starts, strict=True):
        assert s <= f <= s + 5  # within a few frames of the start


def test_threshold_learned_from_takes_fires_on_motion_not_on_rest():
    rng = np.random.default_rng(1)
    x, starts = _performance(rng)
    det = OnsetDetector()
    assert not any(det.step(f) for f in x)  # nothing to go by before calibration
    takes = [x[s:s + 60] for s in starts]  # takes are the gestures themselves
    det.calibrate(takes)
    assert det.threshold is not None and det.threshold > 0
    det.reset()
    fired = [i for i, f in enumerate(x) if det.step(f)]
    assert len(fired) == len(starts)
    rest = 0.01 * rng.standard_normal((500, 3))
    det.reset()
    assert not any(det.step(f) for f in rest)


def test_jitter_around_the_threshold_fires_once():
    det = OnsetDetector(threshold=1.0, quiet_frames=5, smoothing=1.0)
    # energy alternates just above and just below the threshold (never under half of it)
    pos = np.zeros(2)
    fired = 0
    det.step(pos)
    for i in range(100):
        step = np.sqrt(1.1 if i % 2 else 0.9)
        pos = pos + np.array([step, 0.0])
        fired += det.step(pos)
    assert fired == 1


def test_bad_settings_say_what_is_expected():
    with pytest.raises(GesturemapError, match="quiet_frames"):
        OnsetDetector(quiet_frames=0)
    with pytest.raises(GesturemapError, match="unknown"):
        OnsetDetector.from_settings({"treshold": 1.0})
    assert OnsetDetector.from_settings(None) is None
    assert OnsetDetector.from_settings(True).threshold is None
