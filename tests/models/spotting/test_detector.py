"""The window detector beside the spotter: its statistics, its forest (scikit-learn's, in plain
arrays), its dict, the causal merge with the spotter's events, live and in one call alike."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.ensemble import ExtraTreesClassifier

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.spotting.core import Event, check_settings, spotting_stream
from gesturemap.models.spotting.detector import (
    DetectorMerge,
    WindowDetector,
    from_forest,
    n_features,
    window_ends,
    window_features,
)

SETTINGS = {"window": 4, "before": 1, "hop": 1, "smooth": 1, "tau": 0.5, "support": 0.1,
            "hold": 3, "gap": 10, "quiet": 5}


def numpy_features(x: np.ndarray, ends: np.ndarray, window: int, before: int) -> np.ndarray:
    """The statistics written with numpy's reductions over strided windows (an independent
    reference for the kernel)."""
    w = sliding_window_view(x, window, axis=0)[ends - window + 1]
    b = sliding_window_view(x, before, axis=0)[np.maximum(ends - window - before + 1, 0)]
    q = window // 4
    acc = np.linalg.norm(w[:, :3], axis=1)
    rot = np.linalg.norm(w[:, 3:], axis=1)
    first, last = w[..., :q].mean(-1), w[..., -q:].mean(-1)
    return np.concatenate([w.mean(-1), w.std(-1), w.min(-1), w.max(-1), first, last,
                           last - first, acc.std(-1)[:, None], acc.max(-1)[:, None],
                           acc.min(-1)[:, None], rot.mean(-1)[:, None], rot.max(-1)[:, None],
                           b[:, :3].mean(-1), b.std(-1), w[:, :3, -before:].mean(-1)
                           - b[:, :3].mean(-1)], axis=1)


@pytest.fixture(scope="module")
def hapt(datasets_dir):
    """A GMM spotter and a small detector trained on three of the kept HAPT sessions
    (subjects 1, 3, 5), and 5000 frames of subject 6's, held out."""
    from gesturemap.evaluation.spotting.streams import load_streams, make_dataset

    st = load_streams(str(datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz"))
    train = [0, 2, 4]
    model = gm.GMM(gaussians=2, relative_regularization=0.1).fit(
        make_dataset(st, train, lambda x: x, null_every=1000))
    det = gm.fit_detector([st.sessions[i] for i in train], [st.labels[i] for i in train],
                          gestures=list(st.gestures), rate_hz=st.rate_hz, trees=10,
                          max_leaves=32)
    return model, det, np.asarray(st.sessions[6][:5000], dtype=np.float64)


def test_kernel_statistics_equal_numpy_and_the_rings(hapt) -> None:
    _, det, x = hapt
    ends = window_ends(len(x), 200, 5)
    rows = window_features(x, ends)
    assert rows.shape == (len(ends), n_features(6)) == (len(ends), 59)
    np.testing.assert_allclose(rows, numpy_features(x, ends, 200, 50), rtol=0, atol=1e-9)
    # a stream's ring of window + before frames gives the batch rows, bit for bit
    merge = DetectorMerge(det, [int(c) for c in det.classes], Event)
    got = []
    for t in range(1500):
        merge.step(x[t], None, t)
        if t in set(ends.tolist()):
            got.append(merge._row[0].copy())
    assert np.array_equal(np.array(got), rows[:len(got)])
    # fewer than three channels: magnitudes over what there is, no rotation
    y = x[:400, :2]
    np.testing.assert_allclose(window_features(y, [250, 399], 200, 50),
                               numpy_features(y, np.array([250, 399]), 200, 50), atol=1e-9)


@pytest.mark.parametrize("leaves", [None, 16])
def test_forest_equals_scikit_learn(leaves) -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(600, n_features(6)))
    # targets 0 (null), 1 and 3 only: class 2 never seen gets probability 0
    y = np.where(rows[:, 0] > 0.5, 1, np.where(rows[:, 3] + rows[:, 7] > 1.0, 3, 0))
    clf = ExtraTreesClassifier(n_estimators=12, max_leaf_nodes=leaves, min_samples_leaf=2,
                               random_state=0, class_weight="balanced_subsample").fit(rows, y)
    det = from_forest(clf, ["a", "b", "c"], 6, {**SETTINGS, "window": 200, "before": 50})
    test = rng.normal(size=(300, rows.shape[1]))
    got = det.predict_proba(test)
    want = clf.predict_proba(test)
    np.testing.assert_allclose(got[:, [0, 1, 3]], want, rtol=0, atol=1e-12)
    assert np.all(got[:, 2] == 0)
    # and through its dict, as JSON
    back = WindowDetector.from_dict(json.loads(json.dumps(det.to_dict())))
    assert np.array_equal(back.predict_proba(test), got)
    assert back.settings == det.settings and back.classes == det.classes


def bare(**change) -> dict:
    """A hand-made detector's dict: one channel's window mean up to 0.5 is null, to 1.5 'a',
    above 'b'."""
    d = {"format": 1, "classes": ["a", "b"], "input_dim": 1, "settings": dict(SETTINGS),
         "trees": [0], "feature": [0, -1, 0, -1, -1], "threshold": [0.5, 0.0, 1.5, 0.0, 0.0],
         "left": [1, -1, 3, -1, -1], "right": [2, -1, 4, -1, -1],
         "values": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]}
    d.update(change)
    return d


@pytest.mark.parametrize(("change", "says"), [
    ({"left": [1, -1, 0, -1, -1]}, "children"),  # a loop back to the root
    ({"feature": [0, -1, 99, -1, -1]}, "feature"),
    ({"values": [[1.0, 0.0, 0.0]]}, "values"),
    ({"classes": ["a", gm.NULL]}, "null"),
    ({"settings": {**SETTINGS, "tau": 2}}, "tau"),
    ({"settings": {**SETTINGS, "before": 9}}, "window"),
    ({"format": 7}, "format"),
    ({"extra": 1}, "unknown"),
    ({"threshold": [0.5, float("nan"), 1.5, 0.0, 0.0]}, "threshold"),
])
def test_bad_dicts_say_what_is_wrong(change, says) -> None:
    WindowDetector.from_dict(bare())
    with pytest.raises(GesturemapError, match=says):
        WindowDetector.from_dict(bare(**change))
    without = bare()
    del without["trees"]
    with pytest.raises(GesturemapError, match="without"):
        WindowDetector.from_dict(without)
    with pytest.raises(GesturemapError, match="dict"):
        WindowDetector.from_dict([1, 2])
    det = WindowDetector.from_dict(bare())
    assert det.mismatch(["a", "b"], 1) is None
    assert "gestures" in det.mismatch(["a", "c"], 1)
    assert "dimensional" in det.mismatch(["b", "a"], 3)


def test_with_settings_changes_a_level_and_shares_the_forest() -> None:
    det = WindowDetector.from_dict(bare())
    higher = det.with_settings(tau=0.95)
    assert higher.tau == 0.95 and det.tau == SETTINGS["tau"]  # the original is left as it was
    assert higher.feature is det.feature and higher.values is det.values
    assert higher.to_dict() == {**det.to_dict(), "settings": {**SETTINGS, "tau": 0.95}}
    # checked as at building: a probability, a known setting
    with pytest.raises(GesturemapError, match="tau"):
        det.with_settings(tau=1.5)
    with pytest.raises(GesturemapError, match="settings"):
        det.with_settings(level=0.5)
    with pytest.raises(GesturemapError, match="trained on"):  # its statistics' own
        det.with_settings(window=8)
    assert det.tau == SETTINGS["tau"]
    # the level decides: a leaf that says 'a' with probability 0.6 fires at 0.5, not at 0.95
    x = np.zeros((60, 1))
    x[20:28] = 1.0
    mixed = WindowDetector.from_dict(bare(values=[[1.0, 0.0, 0.0], [0.4, 0.6, 0.0],
                                                  [0.0, 0.0, 1.0]]))
    assert [e.label for e in DetectorMerge(mixed, ["a", "b"], Event).run(x, 0, [])] == ["a"]
    assert DetectorMerge(mixed.with_settings(tau=0.95), ["a", "b"], Event).run(x, 0, []) == []


def merged(spotted: list[tuple[str, int]], frames: np.ndarray, **change: int) -> list[tuple]:
    """The hand-made detector merged with spotter events ``(label, frame)``, stepped frame by
    frame and in one call (which must agree): ``(label, start, emitted)`` of what passes."""
    det = WindowDetector.from_dict(bare(settings={**SETTINGS, **change}))
    events = [Event(lb, t - 5, t, t, 1.0) for lb, t in spotted]
    at = {ev.emitted: ev for ev in events}
    m = DetectorMerge(det, ["a", "b"], Event)
    live = [m.step(f, at.get(t), t) for t, f in enumerate(frames)]
    live = [e for e in live if e is not None]
    m = DetectorMerge(det, ["a", "b"], Event)
    half = len(frames) // 2
    batch = m.run(frames[:half], 0, [e for e in events if e.emitted < half]) + m.run(
        frames[half:], half, [e for e in events if e.emitted >= half])
    assert live == batch
    return [(e.label, e.start, e.emitted) for e in live]


def test_the_merge_rule_clause_by_clause() -> None:
    x = np.zeros((60, 1))
    x[20:28] = 1.0  # windows ending 22 .. 28 say 'a' (three of their four frames or more)
    # the detector's event: its window 19 .. 22, held 3 frames
    assert merged([], x) == [("a", 19, 25)]
    # a spotter's event before the release takes its place (nothing within the gap after)
    assert merged([("a", 24)], x) == [("a", 19, 24)]
    # one the detector gave no support over the last 10 frames is dropped
    assert merged([("b", 24)], x) == [("a", 19, 25)]
    # none within the gap of a passed event; past it, it passes again (support from
    # the windows up to 28); a spotter's event before any window passes (no word yet) and is
    # more than the gap before the release
    assert merged([("a", 1), ("a", 24), ("a", 30), ("a", 35)], x) == [
        ("a", -4, 1), ("a", 19, 24), ("a", 35 - 5, 35)]
    # the support window ends: 'a' at 45 has had no window saying 'a' since 28
    assert merged([("a", 45)], x) == [("a", 19, 25)]
    # the detector's next event: only once its probability fell below tau / 2 ...
    y = np.zeros((80, 1))
    y[20:28] = 1.0
    y[40:48] = 1.0  # windows ending 42 .. 48 say 'a' again, those ending 29 .. 41 null
    assert [e[2] for e in merged([], y)] == [25, 45]
    y[20:60] = 1.0  # 'a' all along: one event
    assert [e[2] for e in merged([], y)] == [25]
    # ... and ``quiet`` frames after its last
    y[28:40] = 0.0
    assert [e[2] for e in merged([], y, quiet=40)] == [25]  # (windows to 60)
    assert [e[2] for e in merged([], y, quiet=30)] == [25, 55]  # (from 52)


def test_live_equals_batch_on_real_frames(hapt) -> None:
    model, det, x = hapt
    plain = gm.spot(model, x)
    both = gm.spot(model, x, detector=det)
    assert both != plain  # the detector has a say on these frames
    sp = gm.Spotter(model, detector=det.to_dict())
    s = sp.stream()
    assert [r.event for r in map(s.step, x) if r.event is not None] == both
    s = sp.stream()
    assert [e for e in map(s.step_event, x) if e is not None] == both
    s = sp.stream()
    assert [e for part in np.array_split(x, 7) for e in s.run_events(part)] == both
    s.reset()
    assert s.run_events(x) == both
    # the merge of the spotter's own events with the detector's, by the rule written out
    ends = window_ends(len(x), det.window, det.hop)
    p = det.predict_proba(det.features(x, ends))
    ps = np.array([p[max(j - det.smooth + 1, 0):j + 1].sum(0) / det.smooth
                   for j in range(len(p))])
    assert [(str(e.label), e.emitted) for e in both] == rule_merge(plain, ends, ps, det)


def rule_merge(plain: list[Event], ends: np.ndarray, ps: np.ndarray, det: WindowDetector
               ) -> list[tuple[str, int]]:
    """The merge as the experiment writes it: the detector's events from its smoothed
    probabilities, the spotter's events kept by support, then the gap in time order."""
    names = ["null"] + det.classes
    found, armed, quiet = [], np.ones(ps.shape[1], bool), -1
    for j, e in enumerate(ends):
        armed |= ps[j] < det.tau / 2
        c = int(np.argmax(ps[j, 1:])) + 1
        if ps[j, c] >= det.tau and armed[c] and e >= quiet:
            found.append((names[c], int(e)))
            armed[c] = False
            quiet = e + det.quiet

    def support(label: str, t: int) -> float:
        sel = (ends <= t) & (ends >= t - det.gap)
        return float(ps[sel, names.index(label)].max()) if sel.any() else 1.0

    kept = [(str(e.label), e.emitted) for e in plain
            if support(str(e.label), e.emitted) >= det.support]
    cands = sorted([(t, 0, lb) for lb, t in kept] + [(t + det.hold, 1, lb) for lb, t in found])
    out, last = [], -10 ** 9
    for t, _, lb in cands:
        if t - last > det.gap:
            out.append((lb, t))
            last = t
    return out


def test_settings_hold_a_detector_and_one_that_does_not_fit_is_off(hapt, caplog) -> None:
    model, det, x = hapt
    d = det.to_dict()
    assert check_settings({"detector": d})["detector"] == d
    with pytest.raises(GesturemapError, match="spotting detector"):
        check_settings({"detector": {**d, "trees": "x"}})
    s = spotting_stream(model, {"detector": d})
    assert s.spotter.detector is not None
    wrong = {**d, "classes": [c + "x" for c in d["classes"]]}
    with pytest.raises(GesturemapError, match="train the detector again"):
        gm.Spotter(model, detector=wrong)
    with caplog.at_level(logging.WARNING, logger="gesturemap.spotting"):
        s = spotting_stream(model, {"detector": wrong, "relative_threshold": 0.4})
    assert "detector is off" in caplog.text
    assert s.spotter.detector is None
    assert [e for e in map(s.step_event, x[:3000]) if e is not None] == gm.spot(model, x[:3000])


def test_fit_scales_the_settings_by_the_rate(hapt) -> None:
    model, det, x = hapt
    assert det.settings == {"window": 200, "before": 50, "hop": 5, "smooth": 3, "tau": 0.7,
                            "support": 0.1, "hold": 10, "gap": 200, "quiet": 100}
    labels = np.zeros(len(x), dtype=np.int64)
    labels[1000:1100] = 7
    labels[3000:3080] = 8
    small = gm.fit_detector([x], [labels], [7, 8], rate_hz=25.0, trees=2, max_leaves=4, tau=0.6)
    assert small.classes == ["7", "8"]
    assert small.settings == {"window": 100, "before": 25, "hop": 2, "smooth": 3,
                              "tau": 0.6, "support": 0.1, "hold": 5, "gap": 100, "quiet": 50}
    assert small.summary["rate_hz"] == 25.0 and small.summary["gesture_windows"] > 0
    assert WindowDetector.from_dict(json.loads(json.dumps(small.to_dict()))).summary == (
        small.summary)
    with pytest.raises(GesturemapError, match="setting"):
        gm.fit_detector([x], [labels], windw=3)


def test_a_stream_compiles_its_kernels_where_it_is_built() -> None:
    """The per-frame kernels are compiled (or loaded from numba's cache) when a stream's merge
    is built, not on its first window: on a new machine that first window would otherwise
    hold the frame path for a few hundred milliseconds. Run in a fresh process, where nothing
    has called them yet."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import numpy as np
        from sklearn.ensemble import ExtraTreesClassifier
        from gesturemap.models.spotting import detector as dm
        from gesturemap.models.spotting.core import Event
        rng = np.random.default_rng(0)
        rows = rng.normal(size=(60, dm.n_features(2)))
        clf = ExtraTreesClassifier(n_estimators=2, max_leaf_nodes=4, random_state=0).fit(
            rows, np.arange(60) % 3)
        d = dm.from_forest(clf, ["a", "b"], 2, {"window": 8, "before": 2, "hop": 1,
                                              "smooth": 1, "tau": 0.5, "support": 0.1,
                                              "hold": 2, "gap": 5, "quiet": 3})
        assert not dm._row.signatures
        dm.DetectorMerge(d, ["a", "b"], Event)
        print(len(dm._row.signatures), len(dm._forest.signatures))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split() == ["1", "1"], out


@pytest.mark.slow
def test_a_rehearsal_too_short_for_the_detector_is_refused_in_the_users_words(tmp_path):
    """``gesturemap train DIR --detector FILE`` with runs shorter than the detector's window
    answered "fit_detector: the recordings hold no full window...": a function's name. It
    names the window detector, as the command line and the Rehearsal tab do."""
    import subprocess
    import sys

    from tests.stage_helpers import spotting_project

    spotting_project().save(tmp_path / "p")
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 40)[:, None]
    run = np.vstack([np.full((30, 2), 0.5), np.hstack([t, 1 - t]), np.full((30, 2), 0.5)])
    labels = np.array(["null"] * 30 + ["swell"] * 40 + ["null"] * 30)
    path = tmp_path / "short.npz"
    np.savez(path, X_concat=np.vstack([run + rng.normal(scale=0.03, size=run.shape)
                                       for _ in range(4)]),
             labels_concat=np.tile(labels, 4), lengths=np.full(4, len(run)),
             groups=np.arange(4))
    done = subprocess.run([sys.executable, "-m", "gesturemap", "train", str(tmp_path / "p"),
                           "--detector", str(path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    assert "the window detector: the recordings hold no full window" in done.stderr
    assert "fit_detector" not in done.stderr, done.stderr
