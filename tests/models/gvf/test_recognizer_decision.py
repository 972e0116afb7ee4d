"""GVF's ``recognizer.decision``: how the recognizer HHMM's evidence is read before the pool
(``"decaying"``, 18e's, with the GVF's forgetting; ``"cumulative"``, no forgetting)."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.gvf.recognizer import RECOGNIZER_HHMM

from .test_core import _check_old_file_runs_as, _replay, _shapes_dataset, assert_as_recorded
from .test_recognizer import _same_stream


def _stream_x() -> np.ndarray:
    return np.vstack([_replay("wave", 1.3, 1.2), _replay("circle", 0.8, 0.9)])


#: frame: (label index, log-likelihoods) of ``GVF(300, random_state=2)`` (then's defaults:
#: recognizer 0.5, "decaying" by construction) on the shapes, a wave x1.3 x1.2 then a circle
#: x0.8 x0.9, from the code before ``recognizer.decision`` existed (commit 95438a9, run from
#: a ``git archive`` of it)
BEFORE = {
    0: (1, [-123.41865144811958, 1.322054056385752, -1.1104802180128452]),
    40: (2, [-651.3229287689965, -1839.8168469963366, -26.82415333264056]),
    76: (2, [-1058.134112503114, -4755.211469073336, -163.0387070590175]),
    150: (2, [-1139.3619706355867, -7538.115738411601, -653.6953481751848]),
    201: (2, [-1022.637504305873, -13582.853043200437, -819.0725721673654]),
}


def _runs_as_recorded(model, recorded) -> None:
    """``model``'s stream on :func:`_stream_x` gives the ``recorded`` (frame: label index,
    log-likelihoods; :func:`assert_as_recorded`)."""
    res = model.stream().run(_stream_x())
    for j, (label, log) in recorded.items():
        assert res[j].label_index == label
        assert_as_recorded(res[j].log_likelihoods, log)


def test_decaying_is_the_pool_as_before():
    _runs_as_recorded(gm.GVF(300, random_state=2,
                             recognizer=gm.GVF.Recognizer(weight=0.5, states=5, decision="decaying", gate=0.0)).fit(_shapes_dataset()), BEFORE)


def test_cumulative_pools_the_hhmm_log_likelihood_since_the_reset_without_forgetting():
    """The pool is ``w * L`` of the recognizer HHMM run on its own with the ``"cumulative"``
    decision, plus ``(1 - w)`` times the particles' evidence; the estimates are untouched,
    and the decision can be switched at run time on the same model."""
    ds = _shapes_dataset()
    w = 0.4
    model = gm.GVF(300, random_state=1,
                   recognizer=gm.GVF.Recognizer(weight=w, states=5, decision="cumulative", gate=0.0)).fit(ds)
    x = _stream_x()
    pooled = model.stream().run(x)
    alone = model.set_params(recognizer__weight=0.0).stream().run(x)
    hhmm = gm.HHMM(5, decision="cumulative", **RECOGNIZER_HHMM).fit(_standardized(ds, model))
    h = hhmm.stream().run((x - model.mean_) / model.scale_)
    for p, a, r in zip(pooled, alone, h, strict=True):
        expect = w * r.log_likelihoods + (1.0 - w) * a.log_likelihoods
        np.testing.assert_allclose(p.log_likelihoods, expect, rtol=1e-12, atol=1e-9)
        assert p.label_index == int(np.argmax(expect))
        for f in ("speed", "scale", "progress", "instant_likelihoods"):
            np.testing.assert_array_equal(getattr(p, f), getattr(a, f))
    # the same model read with forgetting differs (late in the stream), and switching back
    # gives the cumulative stream again (run-time, the HHMM's setting follows)
    model.set_params(recognizer__weight=w, recognizer__decision="decaying")
    decaying = model.stream().run(x)
    assert not np.allclose([r.log_likelihoods for r in decaying[-50:]],
                           [r.log_likelihoods for r in pooled[-50:]])
    model.set_params(recognizer__decision="cumulative")
    _same_stream(model.stream().run(x), pooled)


def _standardized(ds, model) -> gm.Dataset:
    out = gm.Dataset()
    for r in ds:
        out.add((r.inputs - model.mean_) / model.scale_, label=r.label)
    return out


def _saved_and_loaded(tmp_path, name: str, value) -> gm.GVF:
    """A GVF (recognizer 0.5) with the run-time setting ``name=value``, saved and loaded: it
    keeps the setting and streams as the model saved. Returns the loaded model."""
    model = gm.GVF(200, random_state=3, **{name: value},
                   recognizer=gm.GVF.Recognizer(weight=0.5)).fit(
        _shapes_dataset())
    loaded = gm.load(model.save(tmp_path / "gvf"))
    assert loaded.get_params(deep=True)[name] == value
    assert loaded.get_params() == model.get_params()
    _same_stream(model.stream().run(_stream_x()), loaded.stream().run(_stream_x()))
    return loaded


def test_the_decision_is_saved_and_old_files_load_decaying(tmp_path):
    _saved_and_loaded(tmp_path, "recognizer__decision", "cumulative")
    # a file saved before the setting existed runs as "decaying" did
    old = gm.GVF(200, random_state=3,
                 recognizer=gm.GVF.Recognizer(weight=0.5, decision="decaying")).fit(_shapes_dataset())
    _check_old_file_runs_as(old, ("recognizer__decision",), list(old.dump()[1]))


def test_a_bad_decision_is_named():
    ds = _shapes_dataset()
    for bad in ("window", "forever", 1):
        with pytest.raises(GesturemapError, match="recognizer__decision"):
            gm.GVF(100, recognizer=gm.GVF.Recognizer(decision=bad)).fit(ds)
