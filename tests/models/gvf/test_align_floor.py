"""GVF's ``alignment.floor``: the floor of the alignments' size
normalisation, as a fraction of each template's root mean square. A take made smaller has a
smaller running root mean square but the same floor, so the higher the floor, the more a
size-only change moves what the alignment reads."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.base import restore
from gesturemap.models.gvf.align import FLOOR, normed_templates

from .test_align_connected import assert_refused
from .test_core import _replay, _shapes_dataset
from .test_recognizer import _same_stream
from .test_speed import _hapt, _hapt_replay


def subjects_3_to_8(datasets_dir):
    """``gm.GVF(300)`` on subjects 3-8's HAPT transitions (25 Hz), and subject 1's takes
    (take, label)."""
    takes, labels, subjects = _hapt(datasets_dir)
    ds = gm.Dataset()
    for i in range(len(takes)):
        if 3 <= subjects[i] <= 8:
            ds.add(takes[i], label=labels[i])
    test = [(takes[i], labels[i]) for i in range(len(takes)) if subjects[i] == 1]
    return gm.GVF(300).fit(ds), test


@pytest.fixture(scope="module")
def hapt_model(datasets_dir):
    return subjects_3_to_8(datasets_dir)


def _moved_by_half_size(model, test) -> float:
    """The mean over ``test``'s takes of the share of frames after 30 % whose speed at size
    x0.5 (speed x1) differs from the take's by more than 15 %."""
    shares = []
    for x, label in test:
        k = model.labels_.index(label)
        a = np.array([r.speed[k] for r in model.stream().run(_hapt_replay(x, 1.0, 1.0))])
        b = np.array([r.speed[k] for r in model.stream().run(_hapt_replay(x, 1.0, 0.5))])
        n0 = int(0.3 * len(a))
        shares.append(np.mean(np.abs(b[n0:] / a[n0:] - 1.0) > 0.15))
    return float(np.mean(shares))


def test_a_lower_floor_leaves_a_size_only_change_alone(hapt_model):
    # measured on subject 1's 12 takes: 9.3 % of frames moved at the floor 0.1, 3.3 % at
    # 0.03, 0.9 % at 0.01 (the same on the training folds)
    model, test = hapt_model
    moved = {}
    for floor in (0.1, 0.01):
        model.set_params(alignment__floor=floor)  # (a run-time parameter: no refit)
        moved[floor] = _moved_by_half_size(model, test)
    model.set_params(alignment__floor=0.1)
    assert moved[0.1] > 0.05
    assert moved[0.01] < 0.3 * moved[0.1]


def test_the_templates_are_normed_with_the_floor():
    rng = np.random.default_rng(1)
    templates = rng.standard_normal((30, 3))
    offsets = np.array([0, 12, 30])
    for floor in (0.1, 0.02):
        normed, floor2 = normed_templates(templates, offsets, floor)
        for m in range(2):
            y = templates[offsets[m]:offsets[m + 1]]
            sq = (y**2).mean(axis=1)
            assert floor2[m] == pytest.approx(floor**2 * sq.mean(), rel=1e-12)
            prefix = np.array([sq[:j + 1].mean() for j in range(len(y))])
            np.testing.assert_allclose(normed[offsets[m]:offsets[m + 1]],
                                       y / np.sqrt(prefix + floor**2 * sq.mean())[:, None],
                                       rtol=1e-12)


def _x() -> np.ndarray:
    return np.vstack([_replay("wave", 1.3, 0.6), _replay("circle", 0.8, 0.5)])


def test_the_default_is_the_cvs_floor_and_the_floor_reaches_the_stream():
    assert gm.GVF().alignment.floor == 0.02  # chosen by cross-validation on HAPT
    assert FLOOR == 0.1  # what files saved before the parameter computed
    model = gm.GVF(50, random_state=2, alignment=gm.GVF.Alignment(floor=0.1)).fit(_shapes_dataset())
    before = np.array([r.speed for r in model.stream().run(_x())])
    model.set_params(alignment__floor=0.02)
    after = np.array([r.speed for r in model.stream().run(_x())])
    assert np.mean(np.abs(after - before) > 1e-6) > 0.05
    default = gm.GVF(50, random_state=2).fit(_shapes_dataset())
    _same_stream(model.stream().run(_x()), default.stream().run(_x()))


def test_saved_loaded_and_older_files(tmp_path):
    model = gm.GVF(100, random_state=3,
                   alignment=gm.GVF.Alignment(floor=0.03)).fit(_shapes_dataset())
    path = model.save(tmp_path / "gvf")
    assert json.loads(path.read_text())["params"]["alignment"]["floor"] == 0.03
    loaded = gm.load(path)
    assert loaded.get_params() == model.get_params()
    _same_stream(model.stream().run(_x()), loaded.stream().run(_x()))
    meta, arrays = model.dump()
    del meta["params"]["alignment"]["floor"]
    assert restore(json.loads(json.dumps(meta)), arrays).alignment.floor == FLOOR


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf"), "low", True])
def test_a_bad_floor_is_refused_with_its_name(bad):
    assert_refused("alignment__floor", bad)


@pytest.mark.parametrize("speed", ["align_open", "align"])
def test_a_still_take_as_template_streams_without_dividing_by_zero(speed):
    """A class recorded as a held posture (every frame its first): its template has no size,
    so the floor was 0 and the alignment divided 0 by 0 at fit (NaN templates) and by zero at
    the stream's first frame (ZeroDivisionError on the real-time path)."""
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    t = np.linspace(0, 1, 30)[:, None]
    for _ in range(3):
        ds.add(np.hstack([np.sin(3 * t), t]) + rng.normal(0, 0.01, (30, 2)), label="move")
        ds.add(np.tile([0.5, -0.5], (30, 1)), label="hold")
    model = gm.GVF(100, estimates=gm.GVF.Estimates(speed=speed)).fit(ds)
    normed, floor2 = normed_templates(model.templates_, model.offsets_, model.alignment.floor)
    assert np.isfinite(normed).all() and (floor2 > 0).all()
    for x in (np.tile([0.5, -0.5], (20, 1)), list(ds)[0].inputs):
        results = model.stream().run(x)
        assert all(np.isfinite(r.speed).all() and np.isfinite(r.scale).all() for r in results)
    assert model.predict([np.tile([0.5, -0.5], (20, 1))]) == ["hold"]
