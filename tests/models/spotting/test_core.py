"""The spotter's settings by their names: ``relative_threshold`` (one fraction of every
class's typical score) beside ``thresholds`` (classes' own absolute scores), and ``min_stay``
(one number, or a dict ``{label: number}`` of classes' own); the names of earlier releases
(``threshold``, ``min_stays``) still work, with a DeprecationWarning, in code and in saved
projects."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.models.spotting.core import check_settings, spotting_stream
from gesturemap.project import Project
from tests.models.spotting.test_core_min_stays import two_class  # noqa: F401 - fixture


def _events(spotter_or_stream, x: np.ndarray) -> list:
    stream = spotter_or_stream
    return [r.event for r in (stream.step(f) for f in x) if r.event is not None]


def test_one_fraction_for_every_class_and_classes_own(two_class) -> None:  # noqa: F811
    model, x = two_class
    sp = gm.Spotter(model, relative_threshold=0.3, min_stay=0.2)
    assert (sp.relative_threshold, sp.thresholds, sp.min_stay, sp.min_stays) == (0.3, {}, 0.2, {})
    i = sp.labels.index("up")
    own = gm.Spotter(model, thresholds={"up": 7.0}, min_stay={"up": 0.5})
    assert (own.relative_threshold, own.min_stay) == (
        gm.models.spotting.core.DEFAULT_THRESHOLD, 0.0)
    assert own.thresholds_[i] == 7.0 and own.min_stays == {"up": 0.5}
    # the classes the dict does not name keep the relative threshold
    j = sp.labels.index("down")
    assert own.thresholds_[j] == pytest.approx(own.relative_threshold * own.typical_scores_[j])
    # one number for thresholds is refused: it would mean a fraction, not a score
    with pytest.raises(GesturemapError, match="relative_threshold"):
        gm.Spotter(model, thresholds=0.4)


def test_the_old_names_warn_and_spot_the_same(two_class) -> None:  # noqa: F811
    model, x = two_class
    new = gm.Spotter(model, relative_threshold=0.3, min_stay={"up": 50.0})
    with pytest.warns(DeprecationWarning) as caught:
        old = gm.Spotter(model, threshold=0.3, min_stays={"up": 50.0})
    assert sorted(str(w.message).split(";")[0] for w in caught) == [
        "Spotter: 'min_stays' is deprecated", "Spotter: 'threshold' is deprecated"]
    assert all("use 'relative_threshold'" in str(w.message) or "use 'min_stay'" in
               str(w.message) for w in caught)
    assert {w.filename for w in caught} == {__file__}
    np.testing.assert_array_equal(old.thresholds_, new.thresholds_)
    np.testing.assert_array_equal(old._min_stay, new._min_stay)
    assert old.spot(x) == new.spot(x)
    # beside the classes' own: a dict's classes override the number
    typical = gm.Spotter(model).typical_scores_
    with pytest.warns(DeprecationWarning):
        both = gm.Spotter(model, threshold=0.3, thresholds={"up": 7.0}, min_stay=0.25,
                          min_stays={"up": 2.0})
    i, j = both.labels.index("up"), both.labels.index("down")
    assert both.thresholds_[i] == 7.0 and both.thresholds_[j] == pytest.approx(0.3 * typical[j])
    assert (both.min_stay, both.min_stays) == (0.25, {"up": 2.0})
    # an old name beside its new one giving the same thing is refused
    with pytest.warns(DeprecationWarning), pytest.raises(GesturemapError, match="^threshold"):
        gm.Spotter(model, threshold=0.3, relative_threshold=0.5)
    with pytest.warns(DeprecationWarning), pytest.raises(GesturemapError, match="'min_stays'"):
        gm.Spotter(model, min_stay={"up": 1.0}, min_stays={"down": 1.0})
    with pytest.warns(DeprecationWarning), pytest.raises(GesturemapError, match="min_stays"):
        gm.Spotter(model, min_stays=0.5)


def test_settings_are_checked_and_written_with_the_new_names() -> None:
    assert check_settings({"threshold": 0.3, "min_stays": {"up": 0.5}}) == {
        "relative_threshold": 0.3, "min_stay": {"up": 0.5}}
    # min_stays beside a number for every class: both kept, the spotter merges them
    both = {"threshold": 0.3, "thresholds": {"up": 7.0}, "min_stay": 0.2,
            "min_stays": {"up": 0.5}}
    assert check_settings(both) == {"relative_threshold": 0.3, "thresholds": {"up": 7.0},
                                    "min_stay": 0.2, "min_stays": {"up": 0.5}}
    for wrong, name in (({"relative_threshold": -1}, "relative_threshold"),
                        ({"thresholds": 0.4}, "thresholds"),
                        ({"threshold": {"up": 1}}, "threshold"),
                        ({"min_stay": {"up": -1}}, "min_stay"),
                        ({"min_stays": 0.5}, "min_stays")):
        with pytest.raises(GesturemapError, match=name):
            check_settings(wrong)


@pytest.mark.parametrize("old", [
    {"threshold": 0.3, "min_stays": {"up": 50.0}, "hold_frames": 5},
    {"threshold": 0.3, "thresholds": {"down": 4.0}, "min_stay": 0.1,
     "min_stays": {"up": 50.0}, "hold_frames": 5},
])
def test_a_project_saved_with_the_old_spotting_keys_loads_and_spots_the_same(
        two_class, tmp_path: Path, old: dict) -> None:  # noqa: F811
    """A ``project.json`` whose ``spotting`` block has the names of earlier releases loads, and
    its stream emits the events the same settings give by their new names."""
    model, x = two_class
    Project(model={"kind": "hhmm", "spotting": {}}).save(tmp_path / "p")
    path = tmp_path / "p" / "project.json"
    doc = json.loads(path.read_text())
    doc["model"]["spotting"] = old
    path.write_text(json.dumps(doc))
    settings = Project.load(tmp_path / "p").model["spotting"]
    if "min_stay" not in old:  # said as the new names say it
        new = {"relative_threshold": 0.3, "min_stay": {"up": 50.0}, "hold_frames": 5}
        assert settings == new
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            stream = spotting_stream(model, settings)
        expected = gm.Spotter(model, **new)
    else:  # min_stays beside a number for every class: kept, merged by the spotter
        assert settings == {"relative_threshold": 0.3, "thresholds": {"down": 4.0},
                            "min_stay": 0.1, "min_stays": {"up": 50.0}, "hold_frames": 5}
        with pytest.warns(DeprecationWarning):
            stream = spotting_stream(model, settings)
        sp = stream.spotter
        assert (sp.relative_threshold, sp.thresholds, sp.min_stay, sp.min_stays) == (
            0.3, {"down": 4.0}, 0.1, {"up": 50.0})
        with pytest.warns(DeprecationWarning):
            expected = gm.Spotter(model, **old)
    events = _events(stream, x)
    assert events and events == expected.spot(x)


def test_settings_of_a_class_the_model_does_not_spot_are_set_aside_not_spotting(
        two_class, caplog) -> None:  # noqa: F811
    """A project's threshold, costs or minimum stay for a class its model does not spot (a
    class not trained yet, or retrained away): the stream spots with the others, as it
    would without them, and says what it set aside; it never turns spotting off."""
    from gesturemap.models.spotting.core import SpottingStream

    model, x = two_class
    plain = _events(spotting_stream(model, {}), x)
    assert plain
    settings = {"thresholds": {"circle": 5.0}, "costs": {"circle": {"false": 2.0, "miss": 1.0}},
                "min_stay": {"circle": 0.5}}
    with caplog.at_level("WARNING", logger="gesturemap.spotting"):
        stream = spotting_stream(model, settings)
    assert isinstance(stream, SpottingStream)
    assert [(e.label, e.end) for e in _events(stream, x)] == [(e.label, e.end) for e in plain]
    assert "'circle'" in caplog.text and "set aside" in caplog.text
    assert settings["costs"] == {"circle": {"false": 2.0, "miss": 1.0}}  # the settings kept
