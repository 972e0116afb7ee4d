"""The spotter's second opinions live in files of their own beside project.json: written once,
named by project.json, never written again by a save that did not change them; projects
saved with them inline open as before; a missing file leaves the spotter without it."""

from __future__ import annotations

import json
import os

import pytest

import gesturemap as gm
from gesturemap.project import Project
from tests.evaluation.spotting.test_scores import ramp_streams
from tests.test_cli_train_verifier import SPOTTING, _project


@pytest.fixture(scope="module")
def made():
    st = ramp_streams(4, excursions=True)
    d = gm.fit_detector(st.sessions[:4], st.labels[:4], gestures=[1, 2], trees=20,
                        max_leaves=32, window=20, before=5, hop=2).to_dict()
    return st, d


def _doc(folder):
    return json.loads((folder / "project.json").read_text())


def _opinions(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(("detector-",
                                                                         "verifier-")))


def test_written_once_and_named_by_project_json(tmp_path, made):
    st, d = made
    folder = tmp_path / "p"
    _project(folder, st, spotting={**SPOTTING, "detector": d})
    assert _doc(folder)["model"]["spotting"]["detector"] == {"file": "detector-000001.json"}
    assert _opinions(folder) == ["detector-000001.json"]
    big = (folder / "detector-000001.json").stat().st_size
    assert (folder / "project.json").stat().st_size < big / 4
    project = Project.load(folder)
    assert project.model["spotting"]["detector"] == d
    # a cost changed and saved: project.json only; the detector's file is not written again
    stamp = (folder / "detector-000001.json").stat().st_mtime_ns
    os.utime(folder / "detector-000001.json", ns=(1, 1))
    project.model = {**project.model, "spotting": {**project.model["spotting"],
                                                   "costs": {"1": {"false": 5.0}}}}
    project.save(folder)
    assert (folder / "detector-000001.json").stat().st_mtime_ns == 1 != stamp
    assert _opinions(folder) == ["detector-000001.json"]
    again = Project.load(folder)
    assert again.model["spotting"]["detector"] == d
    assert again.model["spotting"]["costs"]["1"]["false"] == 5.0
    # another detector: a new file, and the old one goes
    other = dict(d, settings={**d["settings"], "tau": 0.75})
    again.model = {**again.model, "spotting": {**again.model["spotting"], "detector": other}}
    again.save(folder)
    assert _opinions(folder) == ["detector-000002.json"]
    assert Project.load(folder).model["spotting"]["detector"]["settings"]["tau"] == 0.75
    # none: no file
    again.model = {**again.model, "spotting": dict(SPOTTING)}
    again.save(folder)
    assert _opinions(folder) == []
    assert "detector" not in Project.load(folder).model["spotting"]


def test_the_same_detector_set_again_is_not_checked_again(made):
    _, d = made
    project = Project("p", model={"kind": "gmm", "spotting": {**SPOTTING, "detector": d}})
    kept = project.model["spotting"]["detector"]
    assert kept == d
    project.model = {**project.model, "spotting": {**project.model["spotting"],
                                                   "thresholds": {"1": 2.0}}}
    assert project.model["spotting"]["detector"] is kept
    # a changed copy is a new value: checked (and refused when wrong)
    with pytest.raises(gm.GesturemapError):
        project.model = {**project.model, "spotting": {
            **project.model["spotting"], "detector": dict(kept, feature=kept["feature"][:3])}}
    assert project.model["spotting"]["detector"] is kept


def test_a_project_saved_with_them_inline_opens_and_moves_them_out(tmp_path, made):
    st, d = made
    folder = tmp_path / "p"
    _project(folder, st, spotting={**SPOTTING, "detector": d})
    doc = _doc(folder)
    doc["model"]["spotting"]["detector"] = d  # as earlier versions wrote it
    (folder / "project.json").write_text(json.dumps(doc))
    (folder / "detector-000001.json").unlink()
    project = Project.load(folder)
    assert project.model["spotting"]["detector"] == d
    project.save(folder)
    assert _opinions(folder) == ["detector-000001.json"]
    assert _doc(folder)["model"]["spotting"]["detector"] == {"file": "detector-000001.json"}


def test_a_missing_or_damaged_file_leaves_the_spotter_without_it(tmp_path, made):
    st, d = made
    folder = tmp_path / "p"
    _project(folder, st, spotting={**SPOTTING, "detector": d})
    (folder / "detector-000001.json").write_text("{not json")
    with pytest.warns(UserWarning, match="detector was left out"):
        project = Project.load(folder)
    assert "detector" not in project.model["spotting"]
    assert project.trained is not None and len(project.takes) > 0
    doc = _doc(folder)
    doc["model"]["spotting"]["detector"] = {"file": "../project.json"}
    (folder / "project.json").write_text(json.dumps(doc))
    with pytest.warns(UserWarning, match="not a detector file"):
        project = Project.load(folder)
    assert "detector" not in project.model["spotting"]


def test_a_scenes_detector_is_kept_in_a_file_too(tmp_path, made):
    st, d = made
    folder = tmp_path / "p"
    project = _project(folder, st, spotting={**SPOTTING, "detector": d})
    project = Project.load(folder)
    project.save_scene("with detector")
    project.model = {**project.model, "spotting": dict(SPOTTING)}
    project.save(folder)
    doc = _doc(folder)
    (scene,) = doc["scenes"]
    name = scene["model"]["spotting"]["detector"]["file"]
    assert _opinions(folder) == [name]  # the project's own went with its detector
    assert "detector" not in doc["model"]["spotting"]
    loaded = Project.load(folder)
    assert loaded.scene("with detector").model["spotting"]["detector"] == d
