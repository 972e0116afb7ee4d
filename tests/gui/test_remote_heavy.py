"""A project's heavy spotting values (a window detector's trees: megabytes of numbers) cross
from the engine process to the window once, then by name: written as JSON at every project
change they held the engine process's GIL for tens of milliseconds, its frames waiting."""

from __future__ import annotations

import itertools
import time

import pytest

import gesturemap as gm
from gesturemap.gui.remote import (
    PACK_FROM,
    EngineProcess,
    _heavy_back,
    _lighten,
    _pack,
    _unpack,
)
from gesturemap.live.codec import decode, encode
from gesturemap.project import Project
from tests.evaluation.spotting.test_scores import ramp_streams
from tests.test_cli_train_verifier import SPOTTING, _project

pytestmark = pytest.mark.timeout(180)


def _crossed(value):
    return decode(encode({"v": value}))["v"]


def test_long_lists_of_numbers_cross_as_arrays_and_come_back_as_they_were():
    n = PACK_FROM
    value = {"ints": list(range(n)), "floats": [0.1 * i for i in range(n)],
             "rows": [[1.5, 2.5]] * n, "short": [1, 2, 3], "names": ["a"] * n,
             "mixed": [1, 2.5] * n, "ragged": [[1.0], [1.0, 2.0]] * n, "flags": [True] * n,
             "nested": {"trees": list(range(n))}, "text": "x", "none": None}
    packed = _pack(value)
    for key in ("ints", "floats", "rows"):
        assert isinstance(packed[key], dict)  # an array under its mark
    assert isinstance(packed["nested"]["trees"], dict)
    for key in ("short", "names", "ragged", "flags", "text", "none"):
        assert packed[key] == value[key]
    back = _unpack(_crossed(packed))
    assert back == value
    # ints stay ints, floats floats: the value reads as it was written
    assert [type(v) for v in back["ints"][:2]] == [int, int]
    assert type(back["floats"][1]) is float and type(back["rows"][0][0]) is float


def test_a_heavy_value_crosses_once_then_by_name():
    detector = {"trees": list(range(5000)), "threshold": [0.5] * 5000, "settings": {"tau": 0.5}}
    verifier = {"weights": [0.25] * 5000}
    doc = {"model": {"kind": "hhmm", "spotting": {"gmm_frames": 40, "detector": detector,
                                                   "verifier": verifier}}}
    sent, names, heavy = [], itertools.count(1), {}
    sizes, mirrored = [], []
    for _ in range(3):
        message = {"document": doc, "new_takes": []}
        _lighten(message, sent, names)
        wire = encode(message)
        sizes.append(len(wire))
        mirrored.append(_heavy_back(decode(wire)["document"], heavy))
    assert doc["model"]["spotting"]["detector"] is detector  # the engine's own is untouched
    assert sizes[1] == sizes[2] < 1000 < sizes[0]
    for m in mirrored:
        assert m["model"]["spotting"] == doc["model"]["spotting"]
    # by name: the window's copy is the same object every time
    assert mirrored[1]["model"]["spotting"]["detector"] is mirrored[0]["model"]["spotting"][
        "detector"]
    # a new detector crosses whole; none is none
    doc2 = {"model": {"kind": "hhmm", "spotting": {"gmm_frames": 40,
                                                    "detector": dict(detector)}}}
    message = {"document": doc2, "new_takes": []}
    _lighten(message, sent, names)
    assert len(encode(message)) > 1000
    assert _heavy_back(decode(encode(message))["document"], heavy) == doc2
    off = {"model": {"kind": "hhmm", "spotting": None}}
    message = {"document": off, "new_takes": []}
    _lighten(message, sent, names)
    assert message["document"] is off


def test_the_window_mirrors_the_detector_and_project_changes_leave_it_be(tmp_path):
    st = ramp_streams(4, excursions=True)
    d = gm.fit_detector(st.sessions[:4], st.labels[:4], gestures=[1, 2], trees=20,
                        max_leaves=32, window=20, before=5, hop=2).to_dict()
    assert len(d["feature"]) >= PACK_FROM  # heavy enough to be packed
    folder = tmp_path / "p"
    _project(folder, st, spotting={**SPOTTING, "detector": d})
    engine = EngineProcess(Project.load(folder), project_dir=folder, trainer="thread").start()
    try:
        def detector():
            return ((engine.project.model or {}).get("spotting") or {}).get("detector")

        opened = engine.project  # the window's copy until the engine process sends its own
        deadline = time.monotonic() + 60
        while engine.project is opened and time.monotonic() < deadline:
            time.sleep(0.05)
        first = detector()
        assert first == d
        # project changes (costs over the engine's command, as OSC sends them)
        for cost in (2.0, 3.0, 4.0):
            engine.command("costs", "1", cost, 1.0)
            deadline = time.monotonic() + 30
            while ((engine.project.model["spotting"].get("costs") or {}).get("1", {}).get(
                    "false") != cost and time.monotonic() < deadline):
                time.sleep(0.05)
            assert engine.project.model["spotting"]["costs"]["1"]["false"] == cost
            assert detector() is first  # crossed by name: not sent (nor rebuilt) again
        # a detector removed is gone from the window too
        engine.command("set_spotting_values", {"detector": None})
        deadline = time.monotonic() + 30
        while detector() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert detector() is None
        assert engine.stats().get("errors", 0) == 0
    finally:
        engine.stop()
    assert engine.exception is None
