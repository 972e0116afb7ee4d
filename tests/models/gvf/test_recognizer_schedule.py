"""GVF's ``recognizer_schedule``: the pool's weight per frame (``"constant"``, as before;
``"progress"``, ``w + (1 - w) * p_t`` with ``p_t`` the gesture's expected progress under the
previous frame's pooled posterior: the constant pool at the start, the HHMM alone at the end)."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.gvf.recognizer import (
    RECOGNIZER_HHMM,
    recognizer_pool,
    recognizer_stream,
    scheduled_weight,
)

from .test_core import _check_old_file_runs_as, _shapes_dataset
from .test_recognizer import _same_stream
from .test_recognizer_decision import (
    _runs_as_recorded,
    _saved_and_loaded,
    _standardized,
    _stream_x,
)

#: frame: (label index, log-likelihoods) of ``GVF(300, random_state=2)`` (then's defaults:
#: 10 states, "cumulative", weight 0.5) on the shapes, a wave x1.3 x1.2 then a circle x0.8
#: x0.9, from the code before ``recognizer_schedule`` existed (commit 9d736a5, run from a
#: ``git archive`` of it)
BEFORE = {
    0: (1, [-206.14330765010874, 1.8486834341236416, -0.6136563930905157]),
    40: (2, [-1663.0527093192818, -1978.6677409608985, -9.472547195637365]),
    76: (2, [-2291.156591704558, -5492.384498057315, -194.28068972672065]),
    150: (2, [-9353.204486755569, -12269.27905400475, -4653.542102361497]),
    201: (2, [-10688.390350944866, -21563.430286584018, -6339.775330883498]),
}


def test_constant_is_the_stream_as_before_bit_for_bit():
    _runs_as_recorded(gm.GVF(300, random_state=2, recognizer_weight=0.5, recognizer_states=10,
                             recognizer_decision="cumulative",
                             recognizer_schedule="constant",
                             recognizer_gate=0.0).fit(_shapes_dataset()), BEFORE)


def test_progress_pools_with_the_weight_of_the_expected_progress_under_the_last_posterior():
    """Frame by frame, the pool is ``w_t * L_hhmm + (1 - w_t) * L_gvf`` with ``w_t`` computed
    here from the previous frame's pooled likelihoods and this frame's progress; the first
    frame is the constant pool; the estimates are the particles' alone."""
    ds = _shapes_dataset()
    w = 0.3
    model = gm.GVF(300, recognizer_weight=w, random_state=1, recognizer_states=5,
                   recognizer_schedule="progress", recognizer_gate=0.0).fit(ds)
    x = _stream_x()
    scheduled = model.stream().run(x)
    constant = model.set_params(recognizer_schedule="constant").stream().run(x)
    alone = model.set_params(recognizer_weight=0.0).stream().run(x)
    hhmm = gm.HHMM(5, decision="cumulative", **RECOGNIZER_HHMM).fit(_standardized(ds, model))
    h = hhmm.stream().run((x - model.mean_) / model.scale_)
    np.testing.assert_array_equal(scheduled[0].log_likelihoods, constant[0].log_likelihoods)
    weights = [w]
    for t in range(1, len(x)):
        p = float(np.clip(scheduled[t - 1].likelihoods @ scheduled[t].progress, 0.0, 1.0))
        wt = w + (1.0 - w) * p
        weights.append(wt)
        expect = wt * h[t].log_likelihoods + (1.0 - wt) * alone[t].log_likelihoods
        np.testing.assert_allclose(scheduled[t].log_likelihoods, expect, rtol=1e-12,
                                   atol=1e-9)
        assert scheduled[t].label_index == int(np.argmax(expect))
    for s, a in zip(scheduled, alone, strict=True):
        for f in ("speed", "scale", "progress", "instant_likelihoods"):
            np.testing.assert_array_equal(getattr(s, f), getattr(a, f))
    # the weight does move through the gesture (towards the HHMM as it goes on)
    assert min(weights) == w and max(weights) > 0.8
    # and a reset starts again at the constant pool
    stream = model.set_params(recognizer_weight=w, recognizer_schedule="progress").stream()
    first = stream.run(x)
    stream.reset()
    _same_stream(stream.run(x), first)
    _same_stream(first, scheduled)


def test_at_the_end_of_a_gesture_the_pool_is_the_hhmm_alone_and_at_its_start_the_constant():
    ds = _shapes_dataset()
    w = 0.5
    model = gm.GVF(200, recognizer_weight=w, recognizer_states=5, random_state=4,
                   recognizer_schedule="progress", recognizer_gate=0.0).fit(ds)
    c = len(model.labels_)
    z = (_stream_x()[:30] - model.mean_) / model.scale_
    hhmm = recognizer_stream(model)  # the same HHMM, run on its own
    log = np.array([-3.0, -40.0, -7.5])  # some particle evidence
    post = np.array([0.2, 0.1, 0.7])  # the previous frame's posterior
    ends, starts = recognizer_pool(model, c), recognizer_pool(model, c)
    for t, frame in enumerate(z):
        ref = np.array(hhmm.step(frame).log_likelihoods)
        _, end = ends.pool(frame, log, 0, np.ones(c), post)  # every class at its end
        _, start = starts.pool(frame, log, 0, np.zeros(c), post)  # at its start
        if t == 0:  # no posterior yet after a reset: the constant pool
            np.testing.assert_array_equal(end, w * ref + (1 - w) * log)
        else:
            np.testing.assert_array_equal(end, ref)
            assert ends.last_weight == 1.0
        np.testing.assert_array_equal(start, w * ref + (1 - w) * log)
    # the weight itself: clipped progress, the same for every class
    assert scheduled_weight(0.3, post, np.full(c, 1.7)) == 1.0
    assert scheduled_weight(0.3, post, np.full(c, -0.2)) == 0.3
    assert scheduled_weight(0.3, post, np.array([0.0, 1.0, 0.5])) == pytest.approx(
        0.3 + 0.7 * 0.45)


def test_the_schedule_is_saved_and_old_files_load_constant(tmp_path):
    loaded = _saved_and_loaded(tmp_path, "recognizer_schedule", "progress")
    # run time: the loaded model switched to "constant" runs as a constant model
    x = _stream_x()
    constant = gm.GVF(200, recognizer_weight=0.5, random_state=3).fit(_shapes_dataset())
    _same_stream(loaded.set_params(recognizer_schedule="constant").stream().run(x),
                 constant.stream().run(x))
    # a file saved before the setting existed runs as "constant" did
    _check_old_file_runs_as(constant, ("recognizer_schedule",), list(constant.dump()[1]))


def test_a_bad_schedule_is_named():
    ds = _shapes_dataset()
    for bad in ("ramp", "Progress", 1, None):
        with pytest.raises(GesturemapError, match="recognizer_schedule"):
            gm.GVF(100, recognizer_schedule=bad).fit(ds)
    model = gm.GVF(100).fit(ds)
    with pytest.raises(GesturemapError, match="recognizer_schedule"):
        model.set_params(recognizer_schedule="linear").stream()
