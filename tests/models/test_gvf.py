"""The Gesture Variation Follower: speed, scale, rotation and class of a varied gesture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError

SHAPES = {
    "circle": lambda t: np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)],
    "line": lambda t: np.c_[2 * t - 1, 0.3 * t],
    "wave": lambda t: np.c_[2 * t - 1, 0.5 * np.sin(6 * np.pi * t)],
}


def _shapes_dataset(seed: int = 1) -> gm.Dataset:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 100)
    ds = gm.Dataset()
    for label, f in SHAPES.items():
        for _ in range(3):
            ds.add(f(t) + rng.normal(0, 0.02, (100, 2)), label=label)
    return ds


def _replay(label: str, speed: float, scale: float, angle: float = 0.0) -> np.ndarray:
    """The shape performed ``speed`` times faster, ``scale`` times bigger and turned by
    ``angle`` about its first point."""
    x = SHAPES[label](np.linspace(0, 1, int(round(100 / speed))))
    c, s = np.cos(angle), np.sin(angle)
    rel = (x - x[0]) @ np.array([[c, s], [-s, c]])
    return rel * scale + x[0]


@pytest.mark.parametrize("label", ["circle", "wave"])
def test_speed_and_scale_are_estimated_within_15_percent(label):
    model = gm.GVF(random_state=7).fit(_shapes_dataset())
    x = _replay(label, 1.5, 2.0)
    res = model.stream().run(x)
    k = model.labels_.index(label)
    after = res[int(0.3 * len(x)):]
    speed = np.median([r.speed[k] for r in after])
    scale = np.median([r.scale[k].mean() for r in after])
    assert speed == pytest.approx(1.5, rel=0.15)
    assert scale == pytest.approx(2.0, rel=0.15)
    assert np.mean([r.label == label for r in after]) > 0.9
    # it follows: progress grows to near the end
    assert after[-1].progress[k] > 0.85 and after[0].progress[k] < 0.5


def test_a_turned_gesture_gives_its_rotation():
    model = gm.GVF(rotation=True, uniform_scale=True, random_state=2).fit(_shapes_dataset())
    res = model.stream().run(_replay("circle", 1.0, 1.0, angle=0.5))
    k = model.labels_.index("circle")
    assert res[-1].rotation.shape == (3, 1)
    est = np.median([r.rotation[k, 0] for r in res[30:]])
    assert est == pytest.approx(0.5, abs=0.1)


def test_the_stream_is_seeded_and_the_seed_matters():
    ds = _shapes_dataset()
    x = _replay("wave", 0.8, 1.3)
    a = gm.GVF(300, random_state=5).fit(ds).stream().run(x)
    b = gm.GVF(300, random_state=5).fit(ds).stream().run(x)
    c = gm.GVF(300, random_state=6).fit(ds).stream().run(x)
    np.testing.assert_array_equal([r.speed for r in a], [r.speed for r in b])
    assert not np.array_equal([r.speed for r in a], [r.speed for r in c])


def test_an_absurd_frame_leaves_the_stream_finite():
    model = gm.GVF(300).fit(_shapes_dataset())
    s = model.stream()
    x = _replay("circle", 1.0, 1.0)
    s.run(x[:20])
    r = s.step([1e200, -1e200])
    assert np.isfinite(r.likelihoods).all() and np.isfinite(r.speed).all()
    res = s.run(x[20:])
    assert np.isfinite([q.likelihoods for q in res]).all()
    assert np.isfinite([q.scale for q in res]).all()


def test_bad_parameters_are_named():
    ds = _shapes_dataset()
    with pytest.raises(GesturemapError, match="particles"):
        gm.GVF(0).fit(ds)
    with pytest.raises(GesturemapError, match="resampling_threshold"):
        gm.GVF(resampling_threshold=2.0).fit(ds)
    with pytest.raises(GesturemapError, match="template"):
        gm.GVF(template="median").fit(ds)
    four = gm.Dataset()
    four.add(np.zeros((10, 4)) + np.arange(10)[:, None], label="a")
    with pytest.raises(GesturemapError, match="rotation"):
        gm.GVF(rotation=True).fit(four)


def test_mean_template_and_save_load_with_rotation(tmp_path):
    model = gm.GVF(200, rotation=True, template="mean").fit(_shapes_dataset())
    loaded = gm.load(model.save(tmp_path / "gvf"))
    x = _replay("line", 1.2, 0.7, 0.2)
    for a, b in zip(model.stream().run(x), loaded.stream().run(x), strict=True):
        np.testing.assert_array_equal(a.rotation, b.rotation)
        np.testing.assert_array_equal(a.scale, b.scale)


HAPT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "HAPTTransitions"


@pytest.mark.skipif(not (HAPT / "HAPT_transitions_train.npz").exists(),
                    reason="the shared HAPT data is not beside the repository")
def test_real_transition_replayed_faster_and_bigger():
    """A real postural transition (smartphone IMU), its own template, replayed x1.5 faster and
    x1.5 bigger: speed and scale found within 15 % after 30 % of the gesture."""
    z = np.load(HAPT / "HAPT_transitions_train.npz", allow_pickle=False)
    takes = np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])
    ds = gm.Dataset()
    chosen = {}
    for x, y in zip(takes, z["y"], strict=True):
        if y in ("SIT_TO_LIE", "STAND_TO_SIT", "LIE_TO_STAND") and len(x) > 150:
            chosen.setdefault(str(y), x[::2])  # 25 Hz
    for y, x in chosen.items():
        ds.add(x, label=y)
    model = gm.GVF(random_state=0).fit(ds)
    label = "SIT_TO_LIE"
    x = chosen[label]
    t = np.linspace(0, len(x) - 1, int(len(x) / 1.5))
    fast = np.stack([np.interp(t, np.arange(len(x)), x[:, j]) for j in range(x.shape[1])], 1)
    fast = (fast - fast[0]) * 1.5 + fast[0]
    res = model.stream().run(fast)
    k = model.labels_.index(label)
    after = res[int(0.3 * len(fast)):]
    assert np.median([r.speed[k] for r in after]) == pytest.approx(1.5, rel=0.15)
    assert np.median([r.scale[k].mean() for r in after]) == pytest.approx(1.5, rel=0.15)
    assert np.mean([r.label == label for r in after]) > 0.8
