"""One absurd frame (a corrupted but finite value: the engine drops only non-finite frames) in
a GVF stream: the alignments, the fitted scale's sums, the particles' weights, the class
evidence and the recognizer skip it, so the speed, scale and label that follow read as
without it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models._absurd import absurd_limit, is_absurd

from .test_align_open import two_takes_dataset
from .test_speed import _hapt, _hapt_replay

#: (estimates.speed, estimates.scale): the defaults, the since-reset alignment's speed, and
#: the particles' speed with their fitted scale
SETTINGS = [("align_open", "align"), ("align", "align"), ("sampled", "fitted")]
#: (inputs, value) of the absurd frame: 1e200 on one input (its square overflows), -1e30 on
#: every input (nothing overflows: only the bound catches it)
ABSURD = [(slice(0, 1), 1e200), (slice(None), -1e30)]


@pytest.fixture(scope="module")
def hapt(datasets_dir):
    """Subject 1's first two HAPT takes (STAND_TO_SIT, SIT_TO_STAND), each its class's only
    take, beside subjects 3-6's takes of the other classes; a model (300 particles) per
    setting."""
    ds, two = two_takes_dataset(datasets_dir)
    models = {s: gm.GVF(300, estimates=gm.GVF.Estimates(speed=s[0], scale=s[1])).fit(ds)
              for s in SETTINGS}
    return models, two, _hapt(datasets_dir)[0]


def _runs(model, x, at, inputs, value):
    """The stream's results on ``x`` and on ``x`` with an absurd frame inserted before frame
    ``at`` (its own result dropped, so both lists line up), the latter with warnings as
    errors."""
    bad = np.vstack([x[:at], x[at:at + 1], x[at:]])
    bad[at, inputs] = value
    clean = model.stream().run(x)
    with warnings.catch_warnings():  # the real-time step neither raises nor warns
        warnings.simplefilter("error")
        dirty = model.stream().run(bad)
    return clean, dirty[:at] + dirty[at + 1:]


def _ratios(clean, dirty, k, start):
    speed = np.array([d.speed[k] / c.speed[k] for c, d in zip(clean, dirty, strict=True)])
    scale = np.array([d.scale[k].mean() / c.scale[k].mean()
                      for c, d in zip(clean, dirty, strict=True)])
    same = np.mean([c.label == d.label for c, d in zip(clean, dirty, strict=True)][start:])
    assert np.isfinite(speed).all() and np.isfinite(scale).all()
    return speed[start:], scale[start:], same


@pytest.mark.parametrize("setting", SETTINGS, ids=["+".join(s) for s in SETTINGS])
def test_an_absurd_frame_mid_gesture_leaves_what_follows_as_without_it(hapt, setting):
    # measured (every take, x1 and x2, both frames), after the frame: the alignments' speed
    # exactly the clean run's, their scale 0.991-1.012 of it (pulled towards the particles'
    # fitted scale, whose random numbers run one frame apart), the particles' fitted scale
    # 0.983-1.042, the label the same on every frame. Before the fix: the alignments' speed
    # 0.024-1.41 (the since-reset one stuck at its first template frame), the scales up to
    # 20 times (the sums ruled by the frame), with -1e30 the label lost until the reset.
    models, takes, _ = hapt
    model = models[setting]
    for take, label in takes:
        k = model.labels_.index(label)
        for sp in (1.0, 2.0):
            x = _hapt_replay(take, sp, 1.0)
            mid = len(x) // 2
            for inputs, value in ABSURD:
                speed, scale, same = _ratios(*_runs(model, x, mid, inputs, value), k, mid)
                if setting[0] != "sampled":  # (the particles' speed is random: not compared)
                    assert np.all(np.abs(speed - 1.0) < 0.02), (label, sp, value, speed)
                bound = 0.1 if setting[1] == "fitted" else 0.05
                assert np.all(np.abs(scale - 1.0) < bound), (label, sp, value, scale)
                assert same >= 0.9, (label, sp, value, same)


def test_an_absurd_first_frame_is_not_the_gestures_start(hapt):
    # the particles, the alignments and the recognizer start on the next frame. Measured with
    # the defaults, after 30 %: speed exactly the clean run's, the label the same on every
    # frame, scale 0.95-1.35 of it (medians 0.99-1.04: the particles' random numbers run one
    # frame apart). Before the fix: scale 15-23 times the clean run's.
    models, takes, _ = hapt
    model = models[SETTINGS[0]]
    for take, label in takes:
        k = model.labels_.index(label)
        for sp in (1.0, 2.0):
            x = _hapt_replay(take, sp, 1.0)
            for inputs, value in ABSURD:
                clean, dirty = _runs(model, x, 0, inputs, value)
                speed, scale, same = _ratios(clean, dirty, k, int(0.3 * len(x)))
                assert np.all(np.abs(speed - 1.0) < 0.02), (label, sp, value, speed)
                assert abs(np.median(scale) - 1.0) < 0.1, (label, sp, value, scale)
                assert same >= 0.9, (label, sp, value, same)


def test_no_real_frame_is_absurd(hapt):
    """The bound leaves every real frame: all HAPT takes (every subject, standardised as the
    model does), and every take performed 20 times bigger (the particles' largest scale);
    a frame just past it on one input is absurd, as are NaN and infinity."""
    models, _, takes = hapt
    model = models[SETTINGS[0]]
    center, limit = absurd_limit(model.postures_, model.templates_)
    for x in takes:
        z = (x - model.mean_) / model.scale_
        big = z[0] + 20.0 * (z - z[0])
        assert not any(is_absurd(f, center, limit) for f in np.vstack([z, big]))
    f = center.copy()
    f[-1] += 1.01 * limit
    assert is_absurd(f, center, limit)
    f[-1] = center[-1] + 0.99 * limit
    assert not is_absurd(f, center, limit)
    for bad in (np.nan, np.inf, -np.inf):
        f[0] = bad
        assert is_absurd(f, center, limit)
