"""GVF's speed and scale from an open-end alignment of each template (``estimates.speed="align"``,
``estimates.scale="align"``: gvf_align)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError

from .test_core import _replay, _shapes_dataset
from .test_recognizer import _same_stream
from .test_speed import _hapt, _hapt_replay

#: (speed, size) replays of a take: time-stretched, resized about its first frame, both
REPLAYS = [(0.5, 1.0), (1.0, 1.0), (2.0, 1.0), (1.0, 0.5), (1.0, 2.0), (0.5, 2.0), (2.0, 0.5)]


@pytest.fixture(scope="module")
def own_take(datasets_dir):
    """Subject 1's first two HAPT takes (two classes), each the only take of its class beside
    subjects 3-6's takes of the other classes: a GVF (300 particles, one scale for all inputs)
    per take, whose class's template is the take itself, so the truth of speed and scale is
    exactly the replay's factors."""
    takes, labels, subjects = _hapt(datasets_dir)
    out = []
    for i in [i for i in range(len(takes)) if subjects[i] == 1][:2]:
        ds = gm.Dataset()
        ds.add(takes[i], label=labels[i])
        for j in range(len(takes)):
            if labels[j] != labels[i] and 3 <= subjects[j] <= 6:
                ds.add(takes[j], label=labels[j])
        model = gm.GVF(300, uniform_scale=True,
                       estimates=gm.GVF.Estimates(speed="align", scale="align")).fit(ds)
        out.append((model, takes[i], model.labels_.index(labels[i])))
    return out


def _after_30(model, x, k):
    res = model.stream().run(x)
    n0 = int(0.3 * len(res))
    return (np.array([r.speed[k] for r in res])[n0:],
            np.array([r.scale[k].mean() for r in res])[n0:])


def test_on_a_real_take_the_alignment_reads_the_replays_factors(own_take):
    # measured (subject 1's takes 0 and 1, STAND_TO_SIT and SIT_TO_STAND, 80 and 83 frames
    # at 25 Hz): after 30 % of each replay, every frame's speed / factor in [0.931, 1.053]
    # and scale / factor in [0.942, 1.074]; the particles' sampled estimates are nowhere
    # near that tight (64-100 % of frames within 15 %)
    for model, take, k in own_take:
        for sp, sc in REPLAYS:
            speed, scale = _after_30(model, _hapt_replay(take, sp, sc), k)
            assert np.all(np.abs(speed / sp - 1.0) < 0.1), (sp, sc, speed.min(), speed.max())
            assert np.all(np.abs(scale / sc - 1.0) < 0.1), (sp, sc, scale.min(), scale.max())


def test_the_particles_speed_and_scale_do_not_read_them_so_well(own_take):
    """The bound above is one the filter's own estimates miss: the same replays read with
    the particles' sampled speed and scale leave it on some replay (so the test above reads
    the alignment, not something any estimate would pass)."""
    missed = 0
    for model, take, k in own_take:
        model.set_params(estimates__speed="sampled", estimates__scale="sampled")
        try:
            for sp, sc in REPLAYS:
                speed, scale = _after_30(model, _hapt_replay(take, sp, sc), k)
                missed += not (np.all(np.abs(speed / sp - 1.0) < 0.1)
                               and np.all(np.abs(scale / sc - 1.0) < 0.1))
        finally:
            model.set_params(estimates__speed="align", estimates__scale="align")
    # measured: 13 of the 14 (only take 0's x1 x2 within it)
    assert missed >= 10, missed


def _x():
    return np.vstack([_replay("wave", 1.3, 1.2), _replay("circle", 0.8, 0.9)])


def test_the_alignment_changes_speed_and_scale_only():
    ds = _shapes_dataset()
    x = _x()
    # (the gate, which reads speed and scale into the class's pool, off)
    before = gm.GVF(300, random_state=2,
                    recognizer=gm.GVF.Recognizer(gate=0.0),
                    estimates=gm.GVF.Estimates(scale="fitted", speed="sampled")).fit(ds)
    a = before.stream().run(x)
    for speed, scale in (("align", "fitted"), ("sampled", "align"), ("align", "align")):
        b = gm.GVF(300, random_state=2,
                   recognizer=gm.GVF.Recognizer(gate=0.0),
                   estimates=gm.GVF.Estimates(speed=speed, scale=scale)).fit(ds).stream().run(x)
        _same_stream(a, b, fields=("label", "likelihoods", "log_likelihoods", "progress",
                                   "instant_likelihoods"))
        speeds = np.array([r.speed for r in b])
        scales = np.array([r.scale for r in b])
        assert np.isfinite(speeds).all() and (speeds > 0).all()
        assert np.isfinite(scales).all() and (scales > 0).all()
        if speed == "align":
            assert not np.array_equal(speeds, [r.speed for r in a])
        else:
            np.testing.assert_array_equal(speeds, [r.speed for r in a])
        if scale == "align":
            assert not np.array_equal(scales, [r.scale for r in a])
        else:
            np.testing.assert_array_equal(scales, [r.scale for r in a])


def test_each_estimate_is_its_own_beside_the_other():
    """The alignment's speed with the particles' fitted scale, and the particles' speed with
    the alignment's scale: each estimate is exactly what it is beside its own kind."""
    ds = _shapes_dataset()
    x = _x()

    def run(speed, scale):
        m = gm.GVF(300, random_state=2,
                   recognizer=gm.GVF.Recognizer(gate=0.0),
                   estimates=gm.GVF.Estimates(speed=speed, scale=scale)).fit(ds)
        res = m.stream().run(x)
        return np.array([r.speed for r in res]), np.array([r.scale for r in res])

    sampled_speed, fitted_scale = run("sampled", "fitted")
    align_speed, align_scale = run("align", "align")
    assert not np.array_equal(sampled_speed, align_speed)
    assert not np.array_equal(fitted_scale, align_scale)
    s, c = run("align", "fitted")
    np.testing.assert_array_equal(s, align_speed)
    np.testing.assert_array_equal(c, fitted_scale)
    s, c = run("sampled", "align")
    np.testing.assert_array_equal(s, sampled_speed)
    np.testing.assert_array_equal(c, align_scale)


def test_reset_starts_the_alignment_again_and_streams_are_independent():
    model = gm.GVF(300, random_state=2,
                   estimates=gm.GVF.Estimates(speed="align", scale="align", speed_window=20.0)).fit(_shapes_dataset())
    x = _x()
    s = model.stream()
    first = [(r.speed.copy(), r.scale.copy()) for r in (s.step(f) for f in x[:40])]
    other = model.stream()
    for f in x[:25]:
        other.step(f)  # another stream of the same model moves on its own
    s.reset()
    again = [(r.speed.copy(), r.scale.copy()) for r in (s.step(f) for f in x[:40])]
    for (a, b), (c, d) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_a_window_makes_the_speed_local():
    """Since the reset the slope is the whole path's; with a window of a few frames it
    follows a change of tempo within the take: a take played at x1 for its first half and
    x2 for its second reads about twice the first half's speed at its end only locally."""
    wave = _replay("wave", 1.0, 1.0)
    half = len(wave) // 2
    fast = wave[half::2]
    x = np.vstack([wave[:half], fast])
    ds = _shapes_dataset()
    k = gm.GVF(300).fit(ds).labels_.index("wave")

    def end_speed(window):
        m = gm.GVF(300, random_state=2,
                   estimates=gm.GVF.Estimates(speed="align", speed_window=window),
                   alignment=gm.GVF.Alignment(speed="slope")).fit(ds)  # (the chord reads no window)
        res = m.stream().run(x)
        mid = res[half - 1].speed[k]
        return res[-1].speed[k] / mid

    # measured: 1.71 with a window of 10 frames, 1.27 since the reset
    local, whole = end_speed(10.0), end_speed(0.0)
    assert local > 1.6, local
    assert whole < local - 0.2, (whole, local)


def test_bad_settings_are_refused_with_their_name():
    ds = _shapes_dataset()
    for bad in ("aligned", "ALIGN", 1, None):
        with pytest.raises(GesturemapError, match="estimates__speed"):
            gm.GVF(100, estimates=gm.GVF.Estimates(speed=bad)).fit(ds)
        with pytest.raises(GesturemapError, match="estimates__scale"):
            gm.GVF(100, estimates=gm.GVF.Estimates(scale=bad)).fit(ds)
    model = gm.GVF(100, estimates=gm.GVF.Estimates(speed="align", scale="align")).fit(ds)
    for name in ("estimates__speed", "estimates__scale"):
        with pytest.raises(GesturemapError, match=name):
            model.set_params(**{name: "alignment"})
    for name in ("estimates__speed_window", "estimates__scale_window"):
        for bad in (0.5, -1.0, float("nan"), "long"):
            with pytest.raises(GesturemapError, match=name):
                gm.GVF(100, **{name: bad},
                       estimates=gm.GVF.Estimates(speed="align", scale="align")).fit(ds)


def test_save_and_load_keep_the_alignment_settings(tmp_path):
    model = gm.GVF(200, random_state=3,
                   estimates=gm.GVF.Estimates(speed="align", scale="align", speed_window=30.0, scale_window=50.0)).fit(_shapes_dataset())
    path = model.save(tmp_path / "gvf")
    params = json.loads(path.read_text())["params"]  # plain JSON, no pickle
    assert params["estimates"]["speed"] == "align" and params["estimates"]["scale"] == "align"
    assert params["estimates"]["speed_window"] == 30.0 and params["estimates"]["scale_window"] == 50.0
    loaded = gm.load(path)
    assert loaded.get_params() == model.get_params()
    x = _x()
    _same_stream(model.stream().run(x), loaded.stream().run(x))


def test_the_alignment_scale_and_the_open_alignment_speed_are_the_defaults():
    # the declared rule on the CV folds: gm.GVF(scale="align") scored 0.637 against
    # gm.GVF()'s 0.554 with the time warp's scale (since removed); then "align_open" read the
    # speed within 15 % on 0.600 of the frames against "sampled"'s 0.437, and back to back on
    # the training folds 0.486 against 0.129
    model = gm.GVF()
    assert model.estimates.scale == "align" and model.estimates.speed == "align_open"
    # (files saved before estimates.scale existed load "sampled", as they ran)
    assert gm.GVF.legacy_params["estimates__scale"] == "sampled"
    assert gm.GVF.legacy_params["estimates__speed"] == "sampled"
