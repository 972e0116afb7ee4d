"""GVF's time warp on an HHMM of its own (``estimates.speed_states`` > 0) instead of the recognizer's
(``estimates.speed_states=0``): trained in ``fit``, saved with the model, read only by the warp."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError, GesturemapError

from .test_core import _check_old_file_runs_as, _replay, _shapes_dataset, assert_as_recorded
from .test_recognizer import _same_stream
from .test_speed import WARP_BEFORE, _stream_x

#: every field of a result but the speed
NOT_SPEED = ("label", "likelihoods", "log_likelihoods", "progress", "scale",
             "instant_likelihoods")


@pytest.fixture(scope="module")
def shapes():
    return _shapes_dataset()


def _model(ds, states, how="warp_rescaled", **kw):
    # (the scale along the warp would follow it; the recognizer's 5 states, as measured;
    # 18l's gate, which reads the speed and scale into the pool's weight, off)
    kw = {"estimates__scale": "fitted", "recognizer__states": 5, "recognizer__gate": 0.0, **kw}
    return gm.GVF(300, random_state=2, **kw,
                  estimates=gm.GVF.Estimates(speed=how, speed_states=states)).fit(ds)


@pytest.mark.parametrize("how", ["warp", "warp_rescaled"])
def test_zero_is_the_recognizer_warp_as_before(shapes, how):
    model = _model(shapes, 0, how)
    assert model.speed_hhmm_ is None
    res = model.stream().run(_stream_x())
    for j, speed in WARP_BEFORE[how].items():  # the values of the code before the setting
        assert_as_recorded(res[j].speed, speed)
    # a file saved before the setting (no estimates.speed_states, no warp HHMM) loads with 0 and runs
    # exactly as it did
    _check_old_file_runs_as(model, ("estimates__speed_states",), list(model.dump()[1]))


def test_a_separate_hhmm_of_that_many_states_changes_the_speed_only(shapes):
    x = _stream_x()
    base = _model(shapes, 0)
    fine = _model(shapes, 12)
    hhmm = fine.speed_hhmm_
    assert hhmm.states == 12 and hhmm.labels_ == fine.labels_
    assert (hhmm._bank()["n_states"] == 12).all()
    # the recognizer keeps its states and its parameters (the class is its job)
    assert (fine.recognizer_._bank()["n_states"] == 5).all()
    for key, v in base.recognizer_.dump()[1].items():
        np.testing.assert_array_equal(fine.recognizer_.dump()[1][key], v)
    a, b = base.stream().run(x), fine.stream().run(x)
    _same_stream(a, b, fields=NOT_SPEED)
    assert not np.array_equal([r.speed for r in a], [r.speed for r in b])
    # an HHMM of its own with the recognizer's 5 states is the recognizer's warp exactly
    _same_stream(a, _model(shapes, 5).stream().run(x))
    # the particles' speed does not use it
    fine.set_params(estimates__speed="sampled")
    base.set_params(estimates__speed="sampled")
    _same_stream(base.stream().run(x), fine.stream().run(x))


def test_more_states_read_a_replay_twice_as_fast_or_slow_more_closely(shapes):
    # the shapes replayed x2 and x0.5 (sizes x1 and x2), the class's speed after 30 % of the
    # replay against the truth (the takes are the templates' shapes); measured median
    # errors: 5 states (the recognizer's) 0.07-0.08, 10 states 0.03-0.05, 20 states 0.02-0.03
    err = {}
    for n in (0, 10, 20):
        model = _model(shapes, n)
        e = []
        for label in ("wave", "circle"):
            k = model.labels_.index(label)
            for sp, sc in ((2.0, 1.0), (0.5, 1.0), (2.0, 2.0), (0.5, 2.0)):
                s = np.array([r.speed[k] for r in model.stream().run(_replay(label, sp, sc))])
                e.append(np.median(np.abs(s[int(0.3 * len(s)):] / sp - 1.0)))
        err[n] = np.array(e)
    assert np.mean(err[10]) < 0.7 * np.mean(err[0]), err
    assert np.mean(err[20]) < 0.5 * np.mean(err[0]), err
    assert (err[20] < err[0]).all(), err


def test_without_a_recognizer_the_warp_runs_its_own_hhmm(shapes):
    x = _stream_x()
    own = _model(shapes, 10, recognizer__weight=0.0)
    assert own.recognizer_ is None and own.speed_hhmm_.states == 10
    plain = _model(shapes, 0, "sampled", recognizer__weight=0.0)
    _same_stream(plain.stream().run(x), own.stream().run(x), fields=NOT_SPEED)
    speeds = np.array([r.speed for r in own.stream().run(x)])
    assert np.isfinite(speeds).all() and (speeds > 0).all()
    # with the recognizer's warp (0) there is none to run: the error says what to do
    plain.set_params(estimates__speed="warp_rescaled")
    with pytest.raises(GesturemapError, match="speed_states > 0"):
        plain.stream()


def test_save_and_load_keep_the_warp_hhmm(shapes, tmp_path):
    model = _model(shapes, 10)
    arrays = model.dump()[1]
    assert any(k.startswith("speed_hhmm_") for k in arrays)
    assert any(k.startswith("recognizer_") for k in arrays)
    loaded = gm.load(model.save(tmp_path / "gvf"))
    assert loaded.get_params() == model.get_params() and loaded.speed_hhmm_.states == 10
    for key, v in model.speed_hhmm_.dump()[1].items():
        np.testing.assert_array_equal(loaded.speed_hhmm_.dump()[1][key], v)
    x = _stream_x()
    _same_stream(model.stream().run(x), loaded.stream().run(x))
    # a file whose warp HHMM does not match its estimates.speed_states is refused
    from gesturemap.models.base import restore

    meta, arrays = model.dump()
    for params in ({**meta["params"], "estimates__speed_states": 0}, {**meta["params"], "estimates__speed_states": 8}):
        with pytest.raises(FormatError):
            restore({**meta, "params": params}, arrays)
    assert "speed_hhmm" in meta and "recognizer" in meta
    no_hhmm = {k: v for k, v in arrays.items() if not k.startswith("speed_hhmm_")}
    with pytest.raises(FormatError, match="estimates__speed_states"):
        restore({k: v for k, v in meta.items() if k != "speed_hhmm"}, no_hhmm)


def test_bad_speed_states_are_named(shapes):
    for bad in (-1, 1.5, "10", None):
        with pytest.raises(GesturemapError, match="estimates__speed_states"):
            gm.GVF(100, estimates=gm.GVF.Estimates(speed_states=bad)).fit(shapes)
    # takes shorter than the states: the error names the setting and what to do
    with pytest.raises(GesturemapError, match="speed_states=200.*Lower estimates__speed_states"):
        gm.GVF(100, estimates=gm.GVF.Estimates(speed_states=200)).fit(shapes)


# -- estimates.scale="warp_fitted": the least-squares scale along the warp's alignment --------

def test_warp_scale_is_the_least_squares_scale_along_the_alignment():
    from gesturemap.models.gvf.speed import warp_scale

    rng = np.random.default_rng(0)
    c, d = 2, 3
    start = rng.normal(size=(c, d))
    where_start, sxy, syy = np.zeros((c, d)), np.zeros((c, d)), np.zeros((c, d))
    out = np.zeros((c, d))
    truth = np.array([2.0, 0.5, 1.5])
    path = rng.normal(size=(20, c, d))
    for t in range(20):
        # the frame is class 1's start + truth * (its expected mean frame - the first one's)
        z = start[1] + truth * (path[t, 1] - path[0, 1])
        warp_scale(z, start, path[t], where_start, t == 0, 1.0, 0.0, False, sxy, syy,
                   np.ones((c, d)), out, True)
        if t == 0:  # nothing to fit yet: the base
            np.testing.assert_array_equal(out, 1.0)
    np.testing.assert_allclose(out[1], truth, rtol=1e-12)
    # one scale for all inputs: the pooled fit, sum(sxy) / sum(syy) (the last frame again)
    warp_scale(z, start, path[-1], where_start, False, 1.0, 0.0, True, sxy.copy(), syy.copy(),
               np.ones((c, d)), out, True)
    y = np.vstack([path[:, 1], path[-1:, 1]]) - path[0, 1]
    pooled = np.sum(y * y * truth) / np.sum(y * y)
    np.testing.assert_allclose(out[1], pooled, rtol=1e-9)
    big = np.zeros((c, d))
    warp_scale(z, start, path[-1], where_start, False, 1.0, 1e9, False, sxy.copy(), syy.copy(),
               np.full((c, d), 3.0), big, True)
    np.testing.assert_allclose(big, 3.0, rtol=1e-6)


def test_warp_fitted_changes_the_scale_only(shapes):
    x = _stream_x()
    for how in ("warp_rescaled", "sampled"):
        fitted = _model(shapes, 20, how, estimates__scale="fitted")
        warp = _model(shapes, 20, how, estimates__scale="warp_fitted")
        a, b = fitted.stream().run(x), warp.stream().run(x)
        _same_stream(a, b, fields=NOT_SPEED[:-2] + ("speed", "instant_likelihoods"))
        scales = np.array([r.scale for r in b])
        assert np.isfinite(scales).all()
        assert not np.array_equal(scales, [r.scale for r in a])


def test_warp_fitted_reads_a_shape_twice_as_big(shapes):
    # measured (wave and circle, x2 and x0.5 in speed too): within 15 % of the scale on
    # the unchanged replay times 2 on 0.96-1.00 of the frames after 30 %
    model = _model(shapes, 20, estimates__scale="warp_fitted", uniform_scale=True)
    for label in ("wave", "circle"):
        k = model.labels_.index(label)
        base = np.array([r.scale[k].mean() for r in model.stream().run(_replay(label, 1, 1))])
        for sp in (1.0, 2.0, 0.5):
            s = np.array([r.scale[k].mean()
                          for r in model.stream().run(_replay(label, sp, 2.0))])
            idx = np.clip(np.ceil((np.arange(len(s)) + 1) / len(s) * len(base)).astype(int)
                          - 1, 0, len(base) - 1)
            err = np.abs(s / (2.0 * base[idx]) - 1.0)[int(0.3 * len(s)):]
            assert np.mean(err <= 0.15) > 0.9, (label, sp, np.mean(err <= 0.15))


def test_warp_fitted_needs_a_warp_hhmm(shapes):
    model = gm.GVF(100,
                   recognizer=gm.GVF.Recognizer(weight=0.0),
                   estimates=gm.GVF.Estimates(scale="warp_fitted", speed_states=0)).fit(shapes)
    with pytest.raises(GesturemapError, match="warp_fitted"):
        model.stream()
    model = gm.GVF(100,
                   recognizer=gm.GVF.Recognizer(weight=0.0),
                   estimates=gm.GVF.Estimates(scale="warp_fitted", speed_states=10)).fit(shapes)
    assert np.isfinite([r.scale for r in model.stream().run(_stream_x())]).all()


def test_warp_fitted_scale_stays_a_size_where_the_warp_blends_variants():
    """A class performed two ways (its warp HHMM blends a circle and a wave): the least
    squares along that blended path can fall below 0, which is no size at all; the particles'
    scale then stands, and every value stays within the particles' bounds."""
    from gesturemap.models.gvf._kernels import FACTOR_MAX, FACTOR_MIN

    from .test_core import SHAPES, _two_variant_dataset

    model = gm.GVF(random_state=4,
                   templates=gm.GVF.Templates(per_class=2),
                   estimates=gm.GVF.Estimates(scale="warp_fitted")).fit(_two_variant_dataset())
    x = SHAPES["wave"](np.linspace(0, 1, round(70 / 1.5)))
    x = (x - x[0]) * 2.0 + x[0]
    scales = np.array([r.scale for r in model.stream().run(x)])
    assert np.isfinite(scales).all()
    assert scales.min() >= FACTOR_MIN and scales.max() <= FACTOR_MAX
    k = model.labels_.index("draw")
    after = scales[int(0.3 * len(x)):, k]
    assert np.all(after > 0.1)  # a size, not the fit's sign flip


def test_warp_scale_falls_back_to_the_particles_scale_below_zero():
    from gesturemap.models.gvf.speed import warp_scale

    c, d = 1, 2
    start, where_start = np.zeros((c, d)), np.zeros((c, d))
    sxy, syy = np.zeros((c, d)), np.zeros((c, d))
    scales = np.full((c, d), 1.3)  # the particles' scale, replaced in place (as the stream does)
    warp_scale(np.zeros(d), start, np.zeros((c, d)), where_start, True, 1.0, 1.0, False,
               sxy, syy, scales, scales, True)
    # the frames move against the alignment: the least squares is negative
    warp_scale(np.array([-5.0, 0.2]), start, np.array([[1.0, 1.0]]), where_start, False, 1.0,
               1.0, False, sxy, syy, scales, scales, True)
    assert scales[0, 0] == 1.3  # the particles' scale stands, not the fit (-1.85)
    assert scales[0, 1] == pytest.approx((0.2 + 1.3) / 2.0)
