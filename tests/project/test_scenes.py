"""A project's scenes: saved beside its model files, listed in project.json, loaded back;
old projects open unchanged; the ``gesturemap scene`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.project import PROJECT_FILE, Project
from tests.paths import REPO_DIR


def _trained(folder=None, level: float = 0.0) -> Project:  # noqa: ANN001
    rng = np.random.default_rng(0)
    project = Project("scenes", model={"kind": "gmm", "params": {"gaussians": 1}},
                      output_names=["level"])
    for _ in range(3):
        project.add_take(rng.normal(size=(30, 2)), "move", outputs=np.full((30, 1), level))
    project.train()
    if folder is not None:
        project.save(folder)
    return project


def _output(model, frame=(0.0, 0.0)) -> float:  # noqa: ANN001
    stream = model.stream()
    return float(stream.step(np.array(frame)).output[0])


def test_scenes_round_trip_with_their_models_and_routes(tmp_path):
    project = _trained()
    project.outputs = {"port": 12001, "synth": {"routes": []}}
    project.save_scene("verse")
    low = project.trained
    project.trained = _trained(level=1.0).trained
    project.outputs = {"port": 12002}
    project.model = {"kind": "gmm", "params": {"gaussians": 1, "likelihood_window": 3}}
    project.save_scene("chorus")
    project.scene_fade_s = 1.5
    project.save(tmp_path / "p")

    document = json.loads((tmp_path / "p" / PROJECT_FILE).read_text())
    assert [s["name"] for s in document["scenes"]] == ["verse", "chorus"]
    assert document["scene_fade_s"] == 1.5
    for entry in document["scenes"]:
        assert (tmp_path / "p" / entry["model_file"]).exists()
        assert (tmp_path / "p" / entry["model_file"]).with_suffix(".npz").exists()

    loaded = Project.load(tmp_path / "p")
    assert loaded.scene_names == ["verse", "chorus"]
    assert loaded.scene_fade_s == 1.5
    verse, chorus = loaded.scenes
    assert verse.outputs == {"port": 12001, "synth": {"routes": []}}
    assert chorus.outputs == {"port": 12002}
    assert chorus.model["params"]["likelihood_window"] == 3
    assert abs(_output(verse.trained) - _output(low)) < 1e-12
    assert abs(_output(chorus.trained) - 1.0) < 0.05

    loaded.recall_scene("verse")
    assert loaded.outputs == verse.outputs and loaded.trained is verse.trained
    assert loaded.model == verse.model


def test_saving_again_rewrites_no_scene_and_removing_one_removes_its_files(tmp_path):
    project = _trained(tmp_path / "p")
    project.save_scene("a")
    project.save_scene("b")  # the same model: one pair of files would do, two names are fine
    project.save(tmp_path / "p")
    files = {e["name"]: e["model_file"] for e in
             json.loads((tmp_path / "p" / PROJECT_FILE).read_text())["scenes"]}
    stamp = {f: os.stat(tmp_path / "p" / f).st_mtime_ns for f in files.values()}
    project.save(tmp_path / "p")
    assert {f: os.stat(tmp_path / "p" / f).st_mtime_ns for f in files.values()} == stamp

    project.trained = _trained(level=1.0).trained
    project.save_scene("a")  # replaced in its place
    assert project.scene_names == ["a", "b"]
    project.remove_scene("b")
    project.save(tmp_path / "p")
    left = sorted(p.name for p in (tmp_path / "p").glob("scene-*"))
    entry = json.loads((tmp_path / "p" / PROJECT_FILE).read_text())["scenes"]
    assert [e["name"] for e in entry] == ["a"]
    assert left == sorted([entry[0]["model_file"],
                           entry[0]["model_file"].replace(".json", ".npz")])
    assert abs(_output(Project.load(tmp_path / "p").scene("a").trained) - 1.0) < 0.05


def test_a_project_without_scenes_is_written_and_read_as_before(tmp_path):
    _trained(tmp_path / "p")
    document = json.loads((tmp_path / "p" / PROJECT_FILE).read_text())
    assert "scenes" not in document and "scene_fade_s" not in document
    loaded = Project.load(tmp_path / "p")
    assert loaded.scenes == () and loaded.scene_fade_s == 0.5


def test_bad_scenes_are_refused_and_a_damaged_one_is_left_out(tmp_path):
    project = Project("untrained")
    with pytest.raises(GesturemapError, match="no trained model"):
        project.save_scene("verse")
    project = _trained()
    for bad in ("", "  ", 3, None):
        with pytest.raises(GesturemapError):
            project.save_scene(bad)
    with pytest.raises(KeyError, match="no scene"):
        project.remove_scene("nowhere")
    for bad in (-1, float("nan"), "1", True, 61):
        with pytest.raises(GesturemapError):
            project.scene_fade_s = bad
    project.save_scene("good")
    project.save_scene("broken")
    project.save(tmp_path / "p")
    document = json.loads((tmp_path / "p" / PROJECT_FILE).read_text())
    document["scenes"][1]["model_file"] = "../elsewhere.json"
    (tmp_path / "p" / PROJECT_FILE).write_text(json.dumps(document))
    with pytest.warns(UserWarning, match="scene was left out"):
        loaded = Project.load(tmp_path / "p")
    assert loaded.scene_names == ["good"]


def test_a_left_out_scene_saved_anew_takes_its_own_place(tmp_path):
    """A scene whose model file is damaged is left out and keeps its index; saving a scene
    of its name (the mapping trained again, as the warning asks) puts it back in that place:
    appended, it moved the scenes after it down one, and program 0 recalled "chorus"."""
    folder = tmp_path / "p"
    project = _trained()
    for level, name in enumerate(("intro", "verse", "chorus")):
        project.trained = _trained(level=float(level)).trained  # a model file each
        project.save_scene(name)
    project.save(folder)
    entries = json.loads((folder / PROJECT_FILE).read_text())["scenes"]
    (folder / entries[1]["model_file"]).write_text("{damaged")
    with pytest.warns(UserWarning, match="scene was left out"):
        loaded = Project.load(folder)
    assert [n for n, _ in loaded.scene_order()] == ["intro", "verse", "chorus"]
    loaded.save_scene("verse")
    assert loaded.scene_names == ["intro", "verse", "chorus"]
    loaded.save(folder)
    again = Project.load(folder)
    assert again.scene_order() == [("intro", None), ("verse", None), ("chorus", None)]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}
    return subprocess.run([sys.executable, "-m", "gesturemap", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_the_scene_command_saves_lists_and_removes(tmp_path):
    folder = tmp_path / "p"
    _trained(folder)
    saved = _cli("scene", str(folder), "save", "verse")
    assert saved.returncode == 0, saved.stderr
    assert _cli("scene", str(folder), "save", "chorus").returncode == 0
    listed = _cli("scene", str(folder), "list")
    assert listed.returncode == 0
    assert "0\tverse\tgmm" in listed.stdout and "1\tchorus\tgmm" in listed.stdout
    assert Project.load(folder).scene_names == ["verse", "chorus"]
    assert _cli("scene", str(folder), "remove", "verse").returncode == 0
    assert Project.load(folder).scene_names == ["chorus"]
    assert ": 1 scene (crossfade" in _cli("scene", str(folder), "list").stdout
    missing = _cli("scene", str(folder), "remove", "verse")
    assert missing.returncode == 2 and "no scene 'verse'" in missing.stderr
    nameless = _cli("scene", str(folder), "save")
    assert nameless.returncode == 2 and "NAME" in nameless.stderr
    # a folder that is not there: said as every command says it (not the lock file's errno)
    nowhere = _cli("scene", str(tmp_path / "nowhere"), "save", "verse")
    assert nowhere.returncode == 2
    assert nowhere.stderr == f"gesturemap scene: {tmp_path / 'nowhere'} does not exist: a " \
                             "project is a folder of files.\n"
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.slow
@pytest.mark.parametrize("bad", [-1, "fast"])
def test_a_bad_crossfade_time_opens_the_project_with_the_default_and_says_so(tmp_path, bad):
    """A wrong ``scene_fade_s`` in project.json is one setting: it stopped the whole project
    from opening (takes, model, every scene), where a damaged scene only leaves that scene
    out. The project opens with the default fade, and the warning names the value and the
    file."""
    folder = tmp_path / "p"
    project = _trained()
    project.save_scene("verse")
    project.save_scene("chorus")
    project.save(folder)
    document = json.loads((folder / PROJECT_FILE).read_text())
    document["scene_fade_s"] = bad
    (folder / PROJECT_FILE).write_text(json.dumps(document))
    listed = _cli("scene", str(folder), "list")
    assert listed.returncode == 0, listed.stderr
    assert "0\tverse\tgmm" in listed.stdout and "1\tchorus\tgmm" in listed.stdout
    assert "(crossfade 0.5 s)" in listed.stdout
    assert f"scene_fade_s is {bad!r}" in listed.stderr
    assert str(folder / PROJECT_FILE) in listed.stderr and "default 0.5 s" in listed.stderr
    with pytest.warns(UserWarning, match="scene_fade_s is"):
        loaded = Project.load(folder)
    assert loaded.scene_names == ["verse", "chorus"] and loaded.scene_fade_s == 0.5
    assert len(loaded.takes) == 3 and loaded.trained is not None


def test_a_save_in_the_middle_of_a_recall_writes_the_projects_own_mapping_whole(tmp_path):
    """The engine recalls a scene in steps (its settings, then its model, between two
    frames) while its I/O thread may save: a save between them wrote the scene's settings
    beside the project's own model, a pair that never played. It writes the project's own
    mapping, as a save after the recall does."""
    folder = tmp_path / "p"
    project = _trained(folder)
    own_settings, own_model = dict(project.model), project.trained
    project.model = {"kind": "gmm", "params": {"gaussians": 2}}
    project.trained = _trained(level=1.0).trained
    project.save_scene("chorus")
    project.model, project.trained = own_settings, own_model
    project.save(folder)
    before = json.loads((folder / PROJECT_FILE).read_text())
    chorus = project.scene("chorus")
    project.play_scene(chorus)  # the settings have changed, the model not yet
    project.save(folder)
    middle = json.loads((folder / PROJECT_FILE).read_text())
    assert middle["model"] == before["model"] and middle["model_file"] == before["model_file"]
    project.trained = chorus.trained  # the engine swaps the scene's model in
    project.save(folder)
    after = json.loads((folder / PROJECT_FILE).read_text())
    assert after["model"] == before["model"] and after["model_file"] == before["model_file"]
    assert project.model == chorus.model  # the scene plays
    project.trained = _trained(level=2.0).trained  # a training while it plays: its own now
    project.save(folder)
    assert Project.load(folder).model == chorus.model


@pytest.mark.slow
def test_a_blank_scene_name_is_refused_in_the_users_words(tmp_path):
    """``gesturemap scene DIR save "  "`` answered "expected a non-empty str": Python's word
    for text, not a musician's."""
    folder = tmp_path / "p"
    _trained(folder)
    blank = _cli("scene", str(folder), "save", "  ")
    assert blank.returncode == 2
    assert "a name of 1 to 200 characters, not only spaces" in blank.stderr
    assert " str " not in blank.stderr and Project.load(folder).scene_names == []


def test_scenes_saved_from_one_model_are_each_their_own_after_loading(tmp_path):
    """Two scenes saved from the same trained model opened as one model object: each scene's
    run-time settings could not both hold, and a setting applied while one played, or a refit
    of one, changed the other scene too."""
    project = _trained()
    project.model = {"kind": "gmm", "params": {"gaussians": 1, "likelihood_window": 5}}
    project.save_scene("verse")
    project.model = {"kind": "gmm", "params": {"gaussians": 1, "likelihood_window": 2}}
    project.save_scene("chorus")
    project.save(tmp_path / "p")
    files = {e["model_file"] for e in
             json.loads((tmp_path / "p" / PROJECT_FILE).read_text())["scenes"]}
    assert len(files) == 1  # written once

    loaded = Project.load(tmp_path / "p")
    verse, chorus = loaded.scene("verse"), loaded.scene("chorus")
    assert verse.trained is not chorus.trained
    # each plays by its own settings, as the project's own model does once loaded
    assert (verse.trained.likelihood_window, chorus.trained.likelihood_window) == (5, 2)
    loaded.save(tmp_path / "p")
    again = json.loads((tmp_path / "p" / PROJECT_FILE).read_text())["scenes"]
    assert [e["model_file"] for e in again] == [next(iter(files))] * 2  # nothing rewritten

    loaded.recall_scene("chorus")
    loaded.model = {"kind": "gmm", "params": {"gaussians": 1, "likelihood_window": 9}}
    assert loaded.apply_runtime_settings() == ["likelihood_window"]  # on the model it plays
    assert (verse.trained.likelihood_window, chorus.trained.likelihood_window) == (5, 9)

    before = _output(verse.trained)
    chorus.trained.fit(_trained(level=1.0).dataset())  # refitted through one scene
    assert abs(_output(chorus.trained) - 1.0) < 0.05
    assert _output(verse.trained) == before


def test_a_new_class_never_takes_a_number_a_scene_still_sends(tmp_path):
    """A scene sends wave as 5; the project's own numbers were set to send it as 3 since.
    A class added then took 4 for the project, and the scene's numbers were replaced by the
    project's: recalled, the scene sent its wave as 3. Now the new class comes after every
    number a scene sends (6), and the scene keeps its own."""
    rng = np.random.default_rng(2)
    project = Project(model={"kind": "gmm", "params": {"gaussians": 1}},
                      outputs={"class_numbers": {"circle": 1, "swipe": 2, "wave": 5}})
    for i, name in enumerate(("circle", "swipe", "wave")):
        project.add_take(rng.normal(size=(20, 2)) + 3 * i, name)
    project.train()
    project.save_scene("main")
    project.outputs = {"class_numbers": {"circle": 1, "swipe": 2, "wave": 3}}
    project.add_class("arrow")
    assert project.outputs["class_numbers"]["arrow"] == 6
    project.save(tmp_path / "p")
    scene = Project.load(tmp_path / "p").scene("main")
    assert scene.outputs["class_numbers"] == {"circle": 1, "swipe": 2, "wave": 5, "arrow": 6}
