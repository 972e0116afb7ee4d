"""A project whose trained model is damaged or missing opens with its takes and retrains,
saying so: `gesturemap run` answers frames with the retrained model, `train` and `eval` work,
`Project.load` warns. Real files, real `gesturemap` processes, loopback UDP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gesturemap.project import Project
from tests.stage_helpers import (
    float_msg,
    free_port,
    osc_labels,
    osc_receiver,
    start_run,
    stop_run,
    two_level_project,
)

pytestmark = pytest.mark.timeout(240)


def _model_files(folder: Path) -> tuple[Path, Path]:
    name = json.loads((folder / "project.json").read_text())["model_file"]
    return folder / name, (folder / name).with_suffix(".npz")


def _truncate_arrays(folder: Path) -> None:
    npz = _model_files(folder)[1]
    npz.write_bytes(npz.read_bytes()[:100])


def _remove_model(folder: Path) -> None:
    for path in _model_files(folder):
        path.unlink()


def _garbage_model(folder: Path) -> None:
    _model_files(folder)[0].write_text("{not json")


DAMAGES = {"truncated": _truncate_arrays, "missing": _remove_model, "garbage": _garbage_model}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_project_with_a_damaged_model_opens_with_its_takes(tmp_path, damage):
    folder = two_level_project(tmp_path / "p")
    DAMAGES[damage](folder)
    with pytest.warns(UserWarning, match="trained model .* cannot be read"):
        project = Project.load(folder)
    assert len(project.takes) == 6 and project.trained is None
    assert "gesturemap train" in project.model_problem


def _cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=180)


def test_train_and_eval_work_on_a_project_whose_model_is_damaged(tmp_path):
    folder = two_level_project(tmp_path / "p")
    _truncate_arrays(folder)
    evaluated = _cli("eval", folder)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "cannot be read" in evaluated.stderr
    trained = _cli("train", folder)
    assert trained.returncode == 0, trained.stderr
    assert Project.load(folder).trained.labels_ == ["high", "low"]  # and saved, readable


def test_run_retrains_a_project_whose_model_is_missing_and_plays(tmp_path):
    import socket

    folder = two_level_project(tmp_path / "p")
    _remove_model(folder)
    rx = osc_receiver()
    port = free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}", "--osc-out",
                       f"127.0.0.1:{rx.getsockname()[1]}")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    err = ""
    try:
        labels: list[str] = []
        for _ in range(200):  # until the retrained model answers (a frame every 50 ms)
            tx.sendto(float_msg("/wek/inputs", 0.9, 0.9), ("127.0.0.1", port))
            labels += osc_labels(rx, 1, timeout=0.05)
            if labels:
                break
        assert labels and labels[-1] == "high"
    finally:
        err = stop_run(run)[1]
        tx.close()
        rx.close()
    assert "cannot be read" in err
    assert Project.load(folder).trained is not None  # the retrained model was saved


def test_the_window_retrains_a_project_whose_model_is_damaged(qtbot, tmp_path):
    from gesturemap.gui.window import MainWindow

    folder = two_level_project(tmp_path / "p")
    _garbage_model(folder)
    with pytest.warns(UserWarning, match="cannot be read"):
        project = Project.load(folder)
    window = MainWindow(project, folder, osc_in=None, trainer="thread", engine="thread",
                        audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    assert window.engine.model.labels_ == ["high", "low"]
    result = window.engine.project.trained.stream().step(np.array([0.9, 0.9]))
    assert result.label == "high"


def test_a_load_while_a_save_replaces_the_model_reads_the_saved_state(tmp_path, monkeypatch):
    """Readers take no lock (``gesturemap eval`` beside a running window): a save that lands
    between a load's read of project.json and its reads of the files it names (the old model
    deleted, a removed take moved to the trash) is read again, not taken for damage: the
    project opens trained, without the removed take and without a warning."""
    import warnings

    import gesturemap.project.folder as folder_module

    folder = two_level_project(tmp_path / "p")
    writer = Project.load(folder)
    gone = writer.takes[0].id
    writer.remove_take(gone)
    writer.train()
    old_model = _model_files(folder)[0]
    real, reads = folder_module.internalize, []

    def save_meanwhile(*args):
        reads.append(json.loads((folder / "project.json").read_text())["model_file"])
        if len(reads) == 1:  # the whole save, right after the reader's read of project.json
            writer.save(folder)
        return real(*args)

    monkeypatch.setattr(folder_module, "internalize", save_meanwhile)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning of the stale read fails the test
        project = Project.load(folder)
    assert not old_model.exists()  # the save deleted the model the first read named
    assert len(reads) == 2 and reads[0] == old_model.name != reads[1]
    assert project.trained is not None and project.model_problem is None
    assert project.model_file == writer.model_file == reads[1]
    assert gone not in [t.id for t in project.takes] and len(project.takes) == 5


def test_a_model_missing_without_a_save_is_still_said_once(tmp_path, monkeypatch):
    """The reading again is only for a save under way: a model that is simply missing is
    warned of once, after one read."""
    import gesturemap.project.folder as folder_module

    folder = two_level_project(tmp_path / "p")
    _remove_model(folder)
    real, reads = folder_module.internalize, []
    monkeypatch.setattr(folder_module, "internalize",
                        lambda *args: reads.append(1) or real(*args))
    with pytest.warns(UserWarning, match="trained model .* cannot be read") as said:
        project = Project.load(folder)
    assert len(reads) == 1 and project.trained is None
    assert len([w for w in said if "cannot be read" in str(w.message)]) == 1


def _newer(path: Path) -> None:
    """``path`` (a JSON file of gesturemap's) as a newer gesturemap would write it."""
    document = json.loads(path.read_text())
    document["version"] = 99
    path.write_text(json.dumps(document))


def _hashes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_scene_whose_model_cannot_be_read_survives_the_next_save(tmp_path):
    """A scene saved by a newer gesturemap: left out with a warning, but a save (a take, a
    training) keeps its entry and its files, and it opens again once readable (before, the
    save deleted both)."""
    from tests.stage_helpers import project_with_scenes

    folder = project_with_scenes(tmp_path / "p")
    entry = json.loads((folder / "project.json").read_text())["scenes"][1]
    model = folder / entry["model_file"]
    original = model.read_bytes()
    _newer(model)
    with pytest.warns(UserWarning, match="a scene was left out"):
        project = Project.load(folder)
    assert project.scene_names == ["plain"]
    project.add_take(np.full((40, 2), 0.5), "low")
    project.save(folder)
    assert model.exists() and model.with_suffix(".npz").exists()
    assert json.loads((folder / "project.json").read_text())["scenes"][1] == entry
    model.write_bytes(original)  # readable again (the newer gesturemap's reader, say)
    assert Project.load(folder).scene_names == ["plain", "swapped"]


def test_a_second_opinion_file_that_cannot_be_read_is_never_deleted(tmp_path):
    folder = two_level_project(tmp_path / "p")
    document = json.loads((folder / "project.json").read_text())
    document["model"] = {**document["model"], "spotting": {
        "verifier": {"file": "verifier-000001.json"}}}
    (folder / "project.json").write_text(json.dumps(document))
    (folder / "verifier-000001.json").write_text(json.dumps(
        {"format": "gesturemap.spotting-opinion", "version": 99, "kind": "verifier",
         "value": {}}))
    before = (folder / "verifier-000001.json").read_bytes()
    with pytest.warns(UserWarning, match="the spotting verifier was left out"):
        project = Project.load(folder)
    project.save(folder)
    assert (folder / "verifier-000001.json").read_bytes() == before


def test_a_relabelled_take_unreadable_during_a_save_keeps_its_label(tmp_path):
    """A relabel lives in project.json; a take that cannot be read while a save happens (a
    newer format, its permission taken away) kept its files but lost its listing, and came
    back later under its old label without a word."""
    folder = two_level_project(tmp_path / "p")
    project = Project.load(folder)
    first = project.takes[0].id
    project.relabel_take(first, "high")
    project.save(folder)
    take_json = folder / "takes" / f"{first}.json"
    original = take_json.read_bytes()
    _newer(take_json)
    with pytest.warns(UserWarning, match=f"{first} was left out"):
        project = Project.load(folder)
    assert first not in [t.id for t in project.takes]
    project.add_take(np.full((40, 2), 0.1), "low")
    project.save(folder)
    take_json.write_bytes(original)
    labels = {t.id: t.label for t in Project.load(folder).takes}
    assert labels[first] == "high" and len(labels) == 7


def test_a_newer_gesturemaps_settings_survive_a_train_here(tmp_path):
    """A project.json of the same format version with an entry this gesturemap does not know
    (a newer one's setting): `gesturemap train` here, and a save of every kind of project,
    write it back as it was."""
    folder = _with_scenes(tmp_path / "p")
    document = json.loads((folder / "project.json").read_text())
    document["performance_notes"] = {"tempo_bpm": 96, "cues": ["intro", "drop"]}
    (folder / "project.json").write_text(json.dumps(document))
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "train", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    saved = json.loads((folder / "project.json").read_text())
    assert saved["model_file"] != document["model_file"]  # the train did save
    assert saved["performance_notes"] == {"tempo_bpm": 96, "cues": ["intro", "drop"]}
    again = Project.load(folder)
    again.add_take(np.full((30, 2), 0.5), "low")
    again.save(tmp_path / "copy")  # saved elsewhere too
    copy = json.loads((tmp_path / "copy" / "project.json").read_text())
    assert copy["performance_notes"]["tempo_bpm"] == 96 and copy["scene_fade_s"] == 2.0


def _with_scenes(folder: Path) -> Path:
    two_level_project(folder)
    project = Project.load(folder)
    project.save_scene("plain")
    project.scene_fade_s = 2.0
    project.save(folder)
    return folder


def test_every_key_a_save_writes_is_known_to_the_load(tmp_path):
    """Else a key of this gesturemap's own would be kept as a newer one's, and written back
    stale over what the project now says."""
    from gesturemap.project.folder import _KNOWN_KEYS

    document = json.loads((_with_scenes(tmp_path / "p") / "project.json").read_text())
    assert "scenes" in document and "scene_fade_s" in document
    assert set(document) <= _KNOWN_KEYS
