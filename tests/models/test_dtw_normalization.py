"""DTW's normalisations: ``"auto"`` chooses from the takes, ``"window"`` streams exactly what
``distances`` computes, and ``normalize`` is now ``per_frame_distance``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models import DTWStream
from tests.recordings import hapt_transition_takes


def _dataset(takes, labels) -> gm.Dataset:
    ds = gm.Dataset()
    for x, label in zip(takes, labels, strict=True):
        ds.add(x, label=str(label))
    return ds


def _vowels(datasets_dir, part: str) -> tuple[list[np.ndarray], np.ndarray]:
    z = np.load(datasets_dir / "JapaneseVowels" / f"JapaneseVowels_{part}.npz")
    return np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1]), z["y"]


@pytest.fixture(scope="module")
def hapt(datasets_dir):
    takes, labels, subject = hapt_transition_takes(datasets_dir / "HAPTTransitions")
    return takes, labels, subject


def test_window_stream_is_distances_of_the_frames_so_far(hapt):
    """At every frame, a "window" stream's distances are ``distances`` of the frames since the
    reset, to the last bit, and its label at the last frame is ``predict``'s; on and on past
    the longest reach (the buffer of frames wraps)."""
    takes, labels, _ = hapt
    ds = _dataset(takes[:24:2], labels[:24:2])
    model = gm.DTW(normalization="window", per_frame_distance=False).fit(ds)
    stream = model.stream()
    query = np.vstack(takes[25:61:2])
    assert len(query) > 2 * int(model.window_reach().max())
    checked = 0
    for t, frame in enumerate(query):
        r = stream.step(frame)
        if t % 7 == 0 or t == len(query) - 1:
            assert np.array_equal(r.distances, model.distances(query[:t + 1])), t
            checked += 1
    assert checked > 20
    for x in takes[25:31:2]:
        stream.reset()
        for frame in x:
            r = stream.step(frame)
        assert np.array_equal(r.distances, model.distances(x))
        assert r.label == model.predict([x])[0]
        assert r.progress.max() > 0.0


def test_window_is_per_take_z_normalisation_for_a_gesture_within_reach(hapt):
    """A gesture no longer than twice a template is z-normalised as a whole: the same
    distances as ``"take"``'s ``predict`` (up to rounding of the two normalisations)."""
    takes, labels, _ = hapt
    ds = _dataset(takes[:30], labels[:30])
    window = gm.DTW(normalization="window", per_frame_distance=False).fit(ds)
    take = gm.DTW(normalization="take", per_frame_distance=False).fit(ds)
    x = takes[40]
    assert len(x) <= window.window_reach().min()
    np.testing.assert_allclose(window.distances(x), take.distances(x), rtol=1e-9)


def test_auto_keeps_global_standardisation_on_speech_features(datasets_dir):
    """JapaneseVowels: the speaker is in the cepstra's levels, which z-normalising each take
    throws away (1-NN: 0.96 global against 0.66): "auto" must keep the global one."""
    takes, labels = _vowels(datasets_dir, "train")
    model = gm.DTW().fit(_dataset(takes, labels))
    assert model.normalization_ == "global"
    sel = model.normalization_selection_
    scores = {c["params"]["normalization"]: c["cv_score"] for c in sel["candidates"]}
    assert scores["global"] > scores["window"] + 0.1
    assert sel["chosen_name"].startswith("global")


def test_auto_chooses_z_normalisation_when_each_take_has_its_own_offset_and_gain(hapt):
    """HAPT takes as a phone strapped differently for every take records them (an offset and
    a gain per take and input): only z-normalising each take sees through it."""
    takes, labels, _ = hapt
    rng = np.random.default_rng(3)
    moved = [x * rng.uniform(0.5, 2.0, x.shape[1]) + rng.normal(0, 3, x.shape[1])
             for x in takes[:90]]
    model = gm.DTW().fit(_dataset(moved[:60], labels[:60]))
    assert model.normalization_ == "window"
    sel = model.normalization_selection_
    scores = {(c["params"]["normalization"], c["params"]["per_frame_distance"]): c["cv_score"]
              for c in sel["candidates"]}
    assert max(v for (n, _), v in scores.items() if n == "window") > max(
        v for (n, _), v in scores.items() if n == "global") + 0.1
    held = np.mean([p == y for p, y in zip(model.predict(moved[60:]), labels[60:90],
                                           strict=True)])
    plain = gm.DTW(normalization="global", per_frame_distance=False).fit(
        _dataset(moved[:60], labels[:60]))
    assert held > np.mean([p == y for p, y in zip(plain.predict(moved[60:]), labels[60:90],
                                                  strict=True)])


def test_explicit_settings_choose_nothing(hapt):
    takes, labels, _ = hapt
    model = gm.DTW(normalization="global").fit(_dataset(takes[:12], labels[:12]))
    assert model.normalization_selection_ is None
    assert model.normalization_ == "global" and model.per_frame_distance_ is True


def test_chosen_normalisation_survives_save_and_load(hapt, tmp_path):
    takes, labels, _ = hapt
    model = gm.DTW(normalization="auto", per_frame_distance=False).fit(
        _dataset(takes[:20], labels[:20]))
    loaded = gm.load(model.save(tmp_path / "m"))
    assert loaded.normalization_ == model.normalization_
    assert loaded.per_frame_distance_ is False
    assert loaded.normalization_selection_ == model.normalization_selection_
    assert np.array_equal(loaded.distances(takes[30]), model.distances(takes[30]))


def test_normalize_is_the_old_name_of_per_frame_distance(hapt, tmp_path):
    takes, labels, _ = hapt
    with pytest.warns(DeprecationWarning, match="per_frame_distance"):
        old = gm.DTW(normalize=False, normalization="global")
    assert old.per_frame_distance is False
    with pytest.warns(DeprecationWarning, match="per_frame_distance"):
        renamed = gm.DTW().set_params(normalize=True)
    assert renamed.per_frame_distance is True and "normalize" not in renamed.get_params()
    model = old.fit(_dataset(takes[:12], labels[:12]))
    path = model.save(tmp_path / "m")
    # a file saved before the rename and before "auto": "normalize", no chosen normalisation
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    params = meta["params"]
    params["normalize"] = params.pop("per_frame_distance")
    params.pop("normalization")
    for key in ("normalization", "per_frame_distance", "normalization_selection"):
        del meta[key]
    meta_path.write_text(json.dumps(meta))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        loaded = gm.load(path)
    assert loaded.per_frame_distance_ is False and loaded.normalization_ == "global"
    assert np.array_equal(loaded.distances(takes[20]), model.distances(takes[20]))


def test_an_open_begin_window_stream_finds_the_gesture_at_the_end(hapt):
    """A never-reset ("decaying") "window" stream lets a match start anywhere in its window:
    each distance at most the anchored one (the window's first frame is one of the starts),
    and a take after another of a different class is found."""
    takes, labels, _ = hapt
    ds = _dataset(takes[:40], labels[:40])
    model = gm.DTW(normalization="window", per_frame_distance=False).fit(ds)
    later = [k for k in range(40, 60) if labels[k] != labels[41]][0]
    frames = np.vstack([takes[41], takes[later]])
    anchored, open_begin = model.stream(), DTWStream(model, decision="decaying")
    for f in frames:
        a, o = anchored.step(f), open_begin.step(f)
    assert (o.distances <= a.distances).all() and (o.distances < a.distances).any()
    assert o.label == str(labels[later])
