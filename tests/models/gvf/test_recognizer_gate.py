"""GVF's ``Recognizer.gate``: the pool's weight moving towards the HHMM alone when the speed and
scale estimates are near 1."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models._kernels import FAR_RANGE
from gesturemap.models.gvf.recognizer import RECOGNIZER_HHMM, gated_weight

from .test_core import _check_old_file_runs_as, _replay, _shapes_dataset, assert_as_recorded
from .test_recognizer import _same_stream
from .test_recognizer_decision import _saved_and_loaded, _standardized, _stream_x

#: frame: (label index, log-likelihoods) of ``GVF(300, random_state=2)`` (the package
#: defaults then: the gate off) on the shapes, a wave x1.3 x2 then a circle x0.8 x0.5, from the code before
#: ``recognizer_input`` and ``recognizer.gate`` existed (commit 1ea5c90, run from a ``git
#: archive`` of it)
BEFORE = {
    0: (1, [-206.14330765010874, 1.8486834341236416, -0.6136563930905157]),
    40: (2, [-1383.4437373506485, -4852.87410772576, -287.98736598979735]),
    76: (2, [-5192.656818361645, -10914.048357973621, -3906.617940582174]),
    150: (2, [-7611.532063609062, -12870.906218099613, -7088.3167704613315]),
    201: (2, [-7795.69092536369, -19590.36872532933, -7521.595740859354]),
}


def _resized_x() -> np.ndarray:
    return np.vstack([_replay("wave", 1.3, 2.0), _replay("circle", 0.8, 0.5)])


def test_plain_and_gate_off_are_the_stream_as_before():
    model = gm.GVF(300, random_state=2,
                   recognizer=gm.GVF.Recognizer(gate=0.0)).fit(_shapes_dataset())
    # (the CVs' choice, docs/decisions.md: the gate at 1)
    assert gm.GVF().recognizer.gate == 1.0
    res = model.stream().run(_resized_x())
    for j, (label, log) in BEFORE.items():
        assert res[j].label_index == label
        if j < 150:
            assert_as_recorded(res[j].log_likelihoods, log)
        else:
            # the resized circle takes the recognizer's HHMM to frames no Gaussian of it
            # reaches, which now keep their order just below XMM's floor instead of tying
            # (docs/decisions.md): each moves a log-likelihood by at most FAR_RANGE
            np.testing.assert_allclose(res[j].log_likelihoods, log, rtol=1e-12,
                                       atol=(j + 1) * FAR_RANGE)


def test_the_gate_moves_the_weight_towards_the_hhmm_when_the_estimates_are_near_one():
    """Frame by frame ``w_t = w + (1 - w) * exp(-dev / g)``, ``dev`` the previous frame's
    pooled posterior's mean of ``|log speed| + mean |log scale|`` at this frame's estimates;
    the first frame is the constant pool."""
    ds = _shapes_dataset()
    w, g = 0.3, 0.5
    # (the particles' fitted scale and the open alignment's speed from the first frame: with
    # the alignment's scale the least weight here is 0.51, with alignment.reset_margin the
    # largest 0.63)
    model = gm.GVF(300, random_state=1,
                   recognizer=gm.GVF.Recognizer(weight=w, states=5, decision="cumulative", gate=g),
                   estimates=gm.GVF.Estimates(scale="fitted"),
                   alignment=gm.GVF.Alignment(reset_margin=None)).fit(ds)
    x = _stream_x()
    gated = model.stream().run(x)
    alone = model.set_params(recognizer__weight=0.0).stream().run(x)
    hhmm = gm.HHMM(5, decision="cumulative", **RECOGNIZER_HHMM).fit(_standardized(ds, model))
    h = hhmm.stream().run((x - model.mean_) / model.scale_)
    np.testing.assert_allclose(gated[0].log_likelihoods, w * h[0].log_likelihoods
                               + (1 - w) * alone[0].log_likelihoods, rtol=1e-12)
    weights = []
    for t in range(1, len(x)):
        post, r = gated[t - 1].likelihoods, gated[t]
        dev = post @ (np.abs(np.log(r.speed)) + np.abs(np.log(r.scale)).mean(axis=1))
        wt = w + (1.0 - w) * math.exp(-dev / g)
        weights.append(wt)
        expect = wt * h[t].log_likelihoods + (1.0 - wt) * alone[t].log_likelihoods
        np.testing.assert_allclose(r.log_likelihoods, expect, rtol=1e-12, atol=1e-9)
    _same_stream(gated, alone, ("speed", "scale", "progress", "instant_likelihoods"))
    assert min(weights) < 0.5 and max(weights) > 0.7, (min(weights), max(weights))  # it moves
    # the weight itself: 1 where every estimate is 1, w far from it
    c, d = 3, 2
    post = np.array([0.2, 0.3, 0.5])
    assert gated_weight(w, g, post, np.ones(c), np.ones((c, d))) == 1.0
    assert gated_weight(w, g, post, np.full(c, 1e6), np.ones((c, d))) == pytest.approx(w)
    sc = np.array([[2.0, 0.5], [1.0, 1.0], [1.0, 1.0]])
    assert gated_weight(w, g, post, np.ones(c), sc) == pytest.approx(
        w + (1 - w) * math.exp(-0.2 * math.log(2.0) / g))


def test_the_gate_is_saved_and_old_files_load_it_off(tmp_path):
    for name, value in (("recognizer__gate", 0.2),):
        loaded = _saved_and_loaded(tmp_path / name, name, value)
        # run time: switched back, the loaded model runs as the default does
        default = gm.GVF(200, random_state=3,
                         recognizer=gm.GVF.Recognizer(weight=0.5)).fit(_shapes_dataset())
        _same_stream(loaded.set_params(**{name: default.get_params(deep=True)[name]}).stream().run(
            _stream_x()), default.stream().run(_stream_x()))
    # a file saved before the setting existed runs as 0 (the gate off) did
    before = gm.GVF(200, random_state=3,
                    recognizer=gm.GVF.Recognizer(weight=0.5, gate=0.0)).fit(_shapes_dataset())
    _check_old_file_runs_as(before, ("recognizer__gate",),
                            list(before.dump()[1]))


def test_bad_values_are_named():
    ds = _shapes_dataset()
    for name, bad in (("recognizer__gate", -0.1),
                      ("recognizer__gate", float("nan")), ("recognizer__gate", "wide"),
                      ("recognizer__gate", float("inf"))):
        with pytest.raises(GesturemapError, match=name):
            gm.GVF(100, **{name: bad}).fit(ds)
    model = gm.GVF(100).fit(ds)
    with pytest.raises(GesturemapError, match="recognizer__gate"):
        model.set_params(recognizer__gate=-1.0)
