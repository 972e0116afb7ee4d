"""The motion-onset detector: one onset per gesture after a rest, none from jitter."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.live.onset import OnsetDetector


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


def test_threshold_learned_from_takes_that_hold_rest_still_fires_at_each_gesture():
    """Takes recorded with rest before and after the gesture (a performer who waits for the
    recording to start): mostly rest, so their median frame energy is the sensor's jitter.
    The learned threshold comes from the movement's energy all the same, the detector falls
    quiet in the rests and fires once at each gesture."""
    rng = np.random.default_rng(2)
    x, starts = _performance(rng, rests=4)
    takes = [x[max(0, s - 40): s + 100] for s in starts]  # 40 frames of rest each side
    det = OnsetDetector()
    det.calibrate(takes)
    gesture_only = OnsetDetector()
    gesture_only.calibrate([x[s:s + 60] for s in starts])
    # the rest in the takes moves the threshold by less than half (the median moved it 10x+)
    assert 0.5 < det.threshold / gesture_only.threshold <= 1.0
    fired = [i for i, f in enumerate(x) if det.step(f)]
    assert len(fired) == len(starts)
    for f, s in zip(fired, starts, strict=True):
        assert s <= f <= s + 5


def test_hapt_transitions_taken_with_rest_fire_in_another_subjects_streams(datasets_dir):
    """Real data: HAPT's postural transitions cut with 3 s of the posture before and after
    (calibration), one subject's sessions replayed (another subject): an onset within 0.5 s
    before to 1.5 s after most transitions' starts. At a tenth of the median (the rule of
    before) this rest-heavy calibration fired at 0 of these."""
    z = np.load(datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz")
    cuts = np.cumsum(z["lengths"])[:-1]
    streams = np.split(z["X_concat"].astype(np.float64), cuts)
    labels = np.split(z["labels_concat"].astype(int), cuts)
    subject = z["subject"]

    def transitions(lab):
        edges = np.flatnonzero(np.diff(np.r_[-99, lab, -99]))
        return [(a, b - 1) for a, b in zip(edges[:-1], edges[1:], strict=True)
                if 7 <= lab[a] <= 12]

    calib = [i for i in range(len(streams)) if subject[i] in (1, 3, 5)]
    takes = [streams[i][max(0, a - 150): b + 151] for i in calib
             for a, b in transitions(labels[i])]
    det = OnsetDetector()
    det.calibrate(takes)
    hit = n = 0
    for i in np.flatnonzero(subject == 6):
        det.reset()
        fired = np.array([det.step(f) for f in streams[i]])
        for a, _ in transitions(labels[i]):
            n += 1
            hit += bool(fired[max(0, a - 25): a + 75].any())
    assert n >= 10
    assert hit >= 0.75 * n, (hit, n)


def test_a_setting_of_the_wrong_type_is_refused_with_its_name():
    """As a project's settings are checked when it loads: a message, never a TypeError."""
    with pytest.raises(GesturemapError, match=r"onset\.threshold: got 'high'"):
        OnsetDetector(threshold="high")
    with pytest.raises(GesturemapError, match=r"onset\.smoothing: got 'x'"):
        OnsetDetector.from_settings({"smoothing": "x"})
    assert OnsetDetector.from_settings({"threshold": None, "quiet_frames": 3}).quiet_frames == 3
