"""GVF's ``recognizer_input`` (the recognizer HHMM fed each class's frame brought back to its
size by its scale estimate, with or without the Jacobian term) and ``recognizer_gate`` (the
pool's weight moving towards the HHMM alone when the speed and scale estimates are near 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.gvf.recognizer import RECOGNIZER_HHMM, gated_weight
from gesturemap.models.gvf.rescaled import RescaledRecognizer

from .test_core import _check_old_file_runs_as, _replay, _shapes_dataset, assert_as_recorded
from .test_recognizer import _same_stream
from .test_recognizer_decision import _saved_and_loaded, _standardized, _stream_x

#: frame: (label index, log-likelihoods) of ``GVF(300, random_state=2)`` (the package
#: defaults then: the gate off) on the shapes, a wave x1.3 x2 then a circle x0.8 x0.5, from the code before
#: ``recognizer_input`` and ``recognizer_gate`` existed (commit 1ea5c90, run from a ``git
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
    model = gm.GVF(300, random_state=2, recognizer_gate=0.0).fit(_shapes_dataset())
    # (the CVs' choice, docs/decisions.md: the plain input, the gate
    # at 1)
    assert model.recognizer_input == "plain" and gm.GVF().recognizer_gate == 1.0
    res = model.stream().run(_resized_x())
    for j, (label, log) in BEFORE.items():
        assert res[j].label_index == label
        assert_as_recorded(res[j].log_likelihoods, log)


@pytest.mark.parametrize("decision", ["cumulative", "decaying"])
def test_at_scale_one_the_rescaled_passes_are_the_hhmm_decision(decision):
    """With every scale at 1 the rescaled passes read what the HHMM stream's decision reads
    (the same emissions, forward passes, floor and forgetting; the rescaling about the start
    rounds the frame in its last bits), with or without the Jacobian (log 1 = 0)."""
    ds = _shapes_dataset()
    model = gm.GVF(200, random_state=1, recognizer_states=5).fit(ds)
    hhmm = gm.HHMM(5, decision=decision, likelihood_window=200, **RECOGNIZER_HHMM).fit(
        _standardized(ds, model))
    z = (_resized_x() - model.mean_) / model.scale_
    ones = np.ones((len(model.labels_), z.shape[1]))
    for jacobian in (False, True):
        ref = hhmm.stream()
        rec = RescaledRecognizer(hhmm, decision, 200, jacobian)
        for _ in range(2):  # and again after a reset
            for frame in z:
                expect = ref.step(frame).log_likelihoods
                rec.advance(frame, ones)
                np.testing.assert_allclose(rec.log, expect, rtol=1e-12, atol=1e-9)
            ref.reset()
            rec.reset()


def test_rescaled_pools_the_hhmm_on_each_class_rescaled_frame_and_leaves_the_estimates():
    """Frame by frame the pool is ``w * L + (1 - w) * L_gvf``, ``L`` the HHMM's decision on
    ``start + (z - start) / scale_k`` per class with the scales the stream reports at that
    frame; the Jacobian variant adds ``-2 * sum_j log scale_kj`` per frame after the first
    (deltas: the frame and its difference are both rescaled); the estimates are the
    particles' as with the plain input."""
    ds = _shapes_dataset()
    w = 0.4
    model = gm.GVF(300, random_state=1, recognizer_weight=w, recognizer_states=5,
                   recognizer_gate=0.0).fit(ds)
    x = _resized_x()
    z = (x - model.mean_) / model.scale_
    plain = model.stream().run(x)
    alone = model.set_params(recognizer_weight=0.0).stream().run(x)
    runs = {how: model.set_params(recognizer_weight=w, recognizer_input=how).stream().run(x)
            for how in ("rescaled", "rescaled_jacobian")}
    hhmm = model.recognizer_
    assert hhmm.deltas
    recs = {how: RescaledRecognizer(hhmm, "cumulative", 200, how == "rescaled_jacobian")
            for how in runs}
    jac = np.zeros(len(model.labels_))
    for t, frame in enumerate(z):
        scales = np.array(runs["rescaled"][t].scale)
        np.testing.assert_array_equal(scales, runs["rescaled_jacobian"][t].scale)
        if t > 0:
            jac -= 2.0 * np.log(scales).sum(axis=1)
        for how, res in runs.items():
            recs[how].advance(frame, scales)
            expect = w * recs[how].log + (1.0 - w) * alone[t].log_likelihoods
            np.testing.assert_allclose(res[t].log_likelihoods, expect, rtol=1e-12, atol=1e-9)
            assert res[t].label_index == int(np.argmax(expect))
        np.testing.assert_allclose(recs["rescaled_jacobian"].log, recs["rescaled"].log + jac,
                                   rtol=1e-9, atol=1e-6)
    for res in runs.values():
        _same_stream(res, plain, ("speed", "scale", "progress", "instant_likelihoods"))
    # a resized replay: the rescaled HHMM reads something else than the plain one
    assert not np.allclose([r.log_likelihoods for r in runs["rescaled"][-20:]],
                           [r.log_likelihoods for r in plain[-20:]])
    # a reset starts the rescaled passes (and their start) again
    stream = model.set_params(recognizer_input="rescaled").stream()
    first = stream.run(x)
    stream.reset()
    _same_stream(stream.run(x), first)
    _same_stream(first, runs["rescaled"])


def test_the_gate_moves_the_weight_towards_the_hhmm_when_the_estimates_are_near_one():
    """Frame by frame ``w_t = w + (1 - w) * exp(-dev / g)``, ``dev`` the previous frame's
    pooled posterior's mean of ``|log speed| + mean |log scale|`` at this frame's estimates;
    the first frame is the constant pool."""
    ds = _shapes_dataset()
    w, g = 0.3, 0.5
    # (the warp's scale and the open alignment's speed from the first frame, the defaults
    # when this was measured; with 18p's "align" scale the least weight here is 0.51, with
    # 18y's align_reset_margin the largest 0.63)
    model = gm.GVF(300, random_state=1, recognizer_weight=w, recognizer_states=5,
                   recognizer_decision="cumulative", recognizer_gate=g,
                   scale_estimate="warp_fitted", align_reset_margin=None).fit(ds)
    x = _stream_x()
    gated = model.stream().run(x)
    alone = model.set_params(recognizer_weight=0.0).stream().run(x)
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
    assert min(weights) < 0.5 and max(weights) > 0.7  # it does move, both ways
    # the weight itself: 1 where every estimate is 1, w far from it
    c, d = 3, 2
    post = np.array([0.2, 0.3, 0.5])
    assert gated_weight(w, g, post, np.ones(c), np.ones((c, d))) == 1.0
    assert gated_weight(w, g, post, np.full(c, 1e6), np.ones((c, d))) == pytest.approx(w)
    sc = np.array([[2.0, 0.5], [1.0, 1.0], [1.0, 1.0]])
    assert gated_weight(w, g, post, np.ones(c), sc) == pytest.approx(
        w + (1 - w) * math.exp(-0.2 * math.log(2.0) / g))


def test_the_settings_are_saved_and_old_files_load_plain_and_off(tmp_path):
    for name, value in (("recognizer_input", "rescaled_jacobian"), ("recognizer_gate", 0.2)):
        loaded = _saved_and_loaded(tmp_path / name, name, value)
        # run time: switched back, the loaded model runs as the default does
        default = gm.GVF(200, recognizer_weight=0.5, random_state=3).fit(_shapes_dataset())
        _same_stream(loaded.set_params(**{name: default.get_params()[name]}).stream().run(
            _stream_x()), default.stream().run(_stream_x()))
    # a file saved before the settings existed runs as "plain", 0 (the gate off) did
    before = gm.GVF(200, recognizer_weight=0.5, random_state=3,
                    recognizer_gate=0.0).fit(_shapes_dataset())
    _check_old_file_runs_as(before, ("recognizer_input", "recognizer_gate"),
                            list(before.dump()[1]))


def test_bad_values_are_named():
    ds = _shapes_dataset()
    for name, bad in (("recognizer_input", "scaled"), ("recognizer_input", None),
                      ("recognizer_input", 1), ("recognizer_gate", -0.1),
                      ("recognizer_gate", float("nan")), ("recognizer_gate", "wide"),
                      ("recognizer_gate", float("inf"))):
        with pytest.raises(GesturemapError, match=name):
            gm.GVF(100, **{name: bad}).fit(ds)
    model = gm.GVF(100).fit(ds)
    with pytest.raises(GesturemapError, match="recognizer_input"):
        model.set_params(recognizer_input="Rescaled").stream()


def test_on_real_transitions_replayed_twice_as_big_the_rescaled_hhmm_recognises_more(
        datasets_dir):
    """HAPT postural transitions (25 Hz, HAPT's transition takes at 25 Hz), templates from
    gvf_eval's training subjects but 1 and 3, whose 24 takes are replayed twice as big about
    their first frame; the HHMM alone on the class (weight 1): at the end of each take the
    rescaled input is right on takes where the plain HHMM is wrong, and right more often."""
    from tests.recordings import hapt_transition_takes as load_takes
    from tests.recordings import replayed as replay

    takes, labels, subjects = load_takes(datasets_dir / "HAPTTransitions")
    held = {5, 7, 11, 17, 21, 26, 28, 1, 3}  # gvf_eval's test subjects, and 1 and 3
    ds = gm.Dataset()
    for x, y, s in zip(takes, labels, subjects, strict=True):
        if s not in held:
            ds.add(x, label=y)
    # (the warp's scale, the default when this was measured, 18l; with 18p's "align" the two
    # inputs are right on 12 takes each)
    model = gm.GVF(300, tolerance=0.15, learned_tolerance=True, uniform_scale=True,
                   recognizer_weight=1.0, random_state=0, scale_estimate="warp_fitted").fit(ds)
    test = [i for i in range(len(takes)) if subjects[i] in (1, 3)]
    right = {}
    for how in ("plain", "rescaled"):
        model.set_params(recognizer_input=how)
        right[how] = np.array([model.stream().run(replay(takes[i], 1.0, 2.0))[-1].label
                               == labels[i] for i in test])
    # 24 takes: plain 12 right, rescaled 15
    assert (right["rescaled"] & ~right["plain"]).sum() >= 3
    assert right["rescaled"].sum() > right["plain"].sum()
