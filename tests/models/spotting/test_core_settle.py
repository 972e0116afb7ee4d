"""Spotting's ``settle_frames``: a candidate due for emission waits while the movement goes
on, so that a short gesture that begins a longer one ("sit": A to B) is not named before the
longer one ("lie": A to B, then on to C) is over."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.scores import match_detections
from gesturemap.models.spotting import _kernels as _k

A, B, C = np.array([0.0, 0.0]), np.array([3.0, 0.0]), np.array([3.0, 3.0])


def _ramp(p: np.ndarray, q: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return p + (q - p) * t + rng.normal(0, 0.01, (n, 2))


def _still(p: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return p + rng.normal(0, 0.01, (n, 2))


def _postures(seed: int) -> tuple[gm.HHMM, np.ndarray, list[tuple[str, int, int]]]:
    """"sit" moves from posture A to B; "lie" moves from A to B and on to C. Null takes: a
    posture held, then a slow return to A. The stream: lie, sit, lie, sit, each from A, the
    end posture held, then back to A."""
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    for _ in range(5):
        ds.add(_ramp(A, B, int(rng.integers(36, 44)), rng), label="sit")
        ds.add(np.vstack([_ramp(A, B, int(rng.integers(36, 44)), rng),
                          _ramp(B, C, int(rng.integers(36, 44)), rng)]), label="lie")
    for p in (A, B, C):
        for _ in range(2):
            ds.add(np.vstack([_still(p, 50, rng), _ramp(p, A, 80, rng), _still(A, 50, rng)]),
                   label=gm.NULL)
    parts, truth, t = [], [], 0
    for g in ("lie", "sit", "lie", "sit"):
        rest = _still(A, int(rng.integers(80, 120)), rng)
        x = _ramp(A, B, int(rng.integers(36, 44)), rng)
        if g == "lie":
            x = np.vstack([x, _ramp(B, C, int(rng.integers(36, 44)), rng)])
        end = C if g == "lie" else B
        after = np.vstack([_still(end, int(rng.integers(80, 120)), rng), _ramp(end, A, 80, rng)])
        parts += [rest, x, after]
        truth.append((g, t + len(rest), t + len(rest) + len(x) - 1))
        t += len(rest) + len(x) + len(after)
    return gm.HHMM(states=6).fit(ds), np.vstack(parts), truth


def _found(events: list[gm.Event], truth: list[tuple[str, int, int]]) -> int:
    res = match_detections(truth, [(e.label, e.emitted) for e in events], tolerance=25)
    return len(res.true_positives)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_settle_names_the_gesture_once_the_movement_is_over(seed: int) -> None:
    model, stream, truth = _postures(seed)
    quick = gm.spot(model, stream)  # defer_frames 50, settle off
    # the first lie is named "sit" as soon as B is reached: its matching had not ended
    assert quick[0].label == "sit" and quick[0].emitted < truth[0][2], quick
    settled = gm.spot(model, stream, settle_frames=50, settle_ratio=0.8)
    assert [e.label for e in settled] == [g for g, _, _ in truth], settled
    assert _found(settled, truth) == len(truth)
    # the wait is bounded, and a sit (then still) is not held to the end of it
    hold = gm.Spotter(model).hold_frames
    assert all(e.emitted - e.end <= hold + 50 for e in settled)
    assert any(e.emitted - e.end < hold + 50 for e in settled if e.label == "sit")


def test_settle_spot_equals_stepping_and_reset() -> None:
    model, stream, _ = _postures(0)
    spotter = gm.Spotter(model, settle_frames=50, settle_ratio=0.8)
    s = spotter.stream()
    stepped = [ev for ev in (s.step(f).event for f in stream) if ev is not None]
    assert stepped == gm.spot(spotter, stream) and len(stepped) == 4
    # a stream stepped halfway, then run: the motion averages carry over
    s = spotter.stream()
    half = len(stream) // 2
    first = [ev for ev in (s.step(f).event for f in stream[:half]) if ev is not None]
    assert first + s.run_events(stream[half:]) == stepped
    s.reset()
    assert s.run_events(stream) == stepped


def test_settle_defaults_and_checks() -> None:
    model, stream, _ = _postures(0)
    sp = gm.Spotter(model)
    assert sp.settle_frames == gm.models.spotting.DEFAULT_SETTLE_FRAMES
    assert sp.settle_ratio == gm.models.spotting.DEFAULT_SETTLE_RATIO
    # off (0) is the rule without settling, whatever the ratio
    assert gm.spot(model, stream, settle_frames=0, settle_ratio=0.1) == gm.spot(
        model, stream, settle_frames=0)
    for name, bad in (("settle_frames", -1), ("settle_frames", 2.5), ("settle_ratio", 0.0)):
        with pytest.raises(gm.GesturemapError, match=name):
            gm.Spotter(model, **{name: bad})
    assert {"settle_frames", "settle_ratio"} <= set(gm.models.spotting.SETTINGS)
    assert gm.models.spotting.check_settings({"settle_frames": 25, "settle_ratio": 0.8})


def test_track_motion_averages_the_squared_frame_change() -> None:
    prev, motion = np.zeros(2), np.zeros(3)
    _k.track_motion(np.array([1.0, 1.0]), prev, motion)  # the first frame: no change yet
    assert motion.tolist() == [0.0, 0.0, 1.0] and prev.tolist() == [1.0, 1.0]
    _k.track_motion(np.array([2.0, 3.0]), prev, motion)  # change (1, 2): energy 5
    assert motion[0] == pytest.approx(5.0 / _k.SETTLE_SHORT_FRAMES)
    assert motion[1] == pytest.approx(5.0 / _k.SETTLE_LONG_FRAMES)
    for _ in range(200):  # held still: the short average falls far below the long one
        _k.track_motion(np.array([2.0, 3.0]), prev, motion)
    assert motion[0] < 0.01 * motion[1]
