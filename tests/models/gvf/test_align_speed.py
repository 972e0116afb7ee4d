"""``GVF(speed="chord")``: the alignments' speed read as the path's advance over its
frames instead of the least-squares slope."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.base import restore

from .test_align_open import REPLAYS, _back_to_back, _speed, two_takes_dataset
from .test_core import _shapes_dataset
from .test_speed import _hapt_replay


@pytest.fixture(scope="module")
def chords(datasets_dir):
    """test_gvf_align_open's two takes (each its class's only template), a model per
    alignment reading the chord (300 particles, one scale for all inputs; the open
    alignment's paths compared per frame, ``alignment.null_cost=0``, as measured here)."""
    ds, two = two_takes_dataset(datasets_dir)
    models = {how: gm.GVF(300, uniform_scale=True,
                          estimates=gm.GVF.Estimates(speed=how),
                          alignment=gm.GVF.Alignment(speed="chord", null_cost=0.0)).fit(ds) for how in ("align_open", "align")}
    return models, two


def test_the_since_reset_chord_is_the_open_end_over_the_frames(chords, monkeypatch):
    models, two = chords
    model = models["align"]
    gaps = []
    for take, label in two:
        k = model.labels_.index(label)
        for sp in (0.5, 2.0):  # (unchanged, the path is the diagonal: chord = slope = 1)
            x = _hapt_replay(take, sp, 1.0)
            s = model.stream()
            align = s._align  # the stream's alignment estimate (gvf_align.AlignEstimate)
            chord = []
            for t, frame in enumerate(x):
                r = s.step(frame)
                if t > 0:
                    m = align._best_of[k]
                    want = align._pos[m] / t * align._speed_factors[m]
                    assert r.speed[k] == pytest.approx(min(max(want, 0.05), 20.0), rel=1e-12)
                    chord.append(r.speed[k])
            with monkeypatch.context() as patch:
                patch.setattr(model, "alignment", model.alignment.replace(speed="slope"))
                slope = _speed(model, x, label)[1:]
            gaps.append(np.max(np.abs(np.array(chord) - slope)))
    assert max(gaps) > 0.02, gaps  # a different reading (measured: 0.07, 0.04, 0.08, 0.00)


def test_on_a_take_that_is_its_own_template_the_chord_reads_the_factor(chords):
    # measured: after 30 % of each replay (x0.5, x1, x2 in time, each at size x1, x0.5, x2),
    # speed / factor in [0.957, 1.250] (open alignment) and [0.980, 1.206] (since the reset);
    # the largest on the first frames after 30 % of x2 replays
    models, two = chords
    for how, lo, hi in (("align_open", 0.95, 1.26), ("align", 0.97, 1.22)):
        for take, label in two:
            for sp, sc in REPLAYS:
                v = _speed(models[how], _hapt_replay(take, sp, sc), label)
                v = v[int(0.3 * len(v)):] / sp
                assert lo <= v.min() and v.max() <= hi, (how, label, sp, sc, v.min(), v.max())


def test_the_open_chord_restarts_for_a_second_gesture_and_holds_a_held_end(chords):
    models, (a, b) = chords
    for first, second in ((a, b), (b, a)):
        for sp in (0.5, 1.0, 2.0):
            # measured: speed / factor in [0.977, 1.067] after 30 % of the second take
            v = _back_to_back(models["align_open"], first, second, sp)
            assert np.all(np.abs(v - 1.0) < 0.08), (second[1], sp, v.min(), v.max())
    for take, label in (a, b):
        x = np.vstack([take, np.repeat(take[-1:], 100, axis=0)])
        v = _speed(models["align_open"], x, label)
        assert (v[len(take):] / v[len(take) - 1]).min() >= 0.99  # measured 1.000
        v = _speed(models["align"], x, label)
        assert v[-1] / v[len(take) - 1] < 0.6  # since the reset: decays (measured 0.44, 0.45)


def test_saved_and_loaded_and_older_files_read_the_slope(tmp_path):
    model = gm.GVF(50, alignment=gm.GVF.Alignment(speed="chord")).fit(_shapes_dataset())
    path = tmp_path / "gvf.json"
    model.save(path)
    assert gm.load(path).alignment.speed == "chord"
    meta, arrays = model.dump()
    del meta["params"]["alignment"]["speed"]  # a file saved before the parameter existed
    assert restore(json.loads(json.dumps(meta)), arrays).alignment.speed == "slope"


@pytest.mark.parametrize("bad", ["", "Chord", "mean", 1, None])
def test_a_bad_reading_is_refused_with_its_name(bad):
    with pytest.raises(GesturemapError, match="alignment__speed"):
        gm.GVF(50, alignment=gm.GVF.Alignment(speed=bad)).fit(_shapes_dataset())
