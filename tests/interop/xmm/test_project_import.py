"""``gesturemap import`` of XMM training sets into an existing project: one file per gesture,
imported one after the other, appends as an ARFF import does (same rules, all or nothing,
under the project's lock). Real files: tests/data/xmm (SOURCES.md) and tests/data/shared/reference/xmm."""

from __future__ import annotations

import errno
import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.cli import main
from gesturemap.interop.xmm.model_export import save_xmm_model, save_xmm_training_set
from gesturemap.project import folder as folder_module
from tests.paths import DATA_DIR

from ...project.test_project_lock import _holder_process

DATA = DATA_DIR / "xmm"
CLIENT = DATA / "xmm-client" / "3gestures-unimodal-dim6.json"


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".gesturemap-lock"}


def _soundworks(tmp_path):
    path = tmp_path / "exampleTrainingSet.json"
    path.write_bytes(gzip.decompress((DATA / "soundworks" / "exampleTrainingSet.json.gz")
                                     .read_bytes()))
    return path


def _one_file_per_gesture(source, tmp_path):
    """XMM's training set split as a user keeping one file per gesture would have it."""
    doc = json.loads(source.read_text())
    files = []
    for label in sorted({p["label"] for p in doc["phrases"]}):
        phrases = [dict(p, index=i) for i, p in
                   enumerate(p for p in doc["phrases"] if p["label"] == label)]
        path = tmp_path / f"{label}.json"
        path.write_text(json.dumps({**doc, "phrases": phrases}))
        files.append(path)
    return files


def test_one_training_set_file_per_gesture_builds_one_project(tmp_path, reference_dir):
    whole = reference_dir / "data" / "trainingset_unimodal.xmm.json"
    files = _one_file_per_gesture(whole, tmp_path)
    assert len(files) == 5
    for path in files:
        assert main(["import", str(path), "--project", str(tmp_path / "gm")]) == 0
    project = gm.Project.load(tmp_path / "gm")
    expected = list(gm.Dataset.from_xmm(whole))
    assert len(project.takes) == len(expected) == 25
    assert sorted(project.classes) == ["g0", "g1", "g2", "g3", "g4"]
    got = sorted((t.label, t.inputs.tobytes()) for t in project.takes)
    assert got == sorted((r.label, r.inputs.tobytes()) for r in expected)


def test_real_files_of_two_apps_append_and_say_so(tmp_path, capsys):
    folder = tmp_path / "gm"
    assert main(["import", str(CLIENT), "--project", str(folder)]) == 0
    capsys.readouterr()
    assert main(["import", str(_soundworks(tmp_path)), "--project", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "12 takes" in out and "added after the project's 4 takes" in out
    project = gm.Project.load(folder)
    assert len(project.takes) == 16
    assert set(project.classes) == {"branches", "gadoue", "nage", "tempete", "vent"}
    project.train()  # the appended takes train with the others


@pytest.mark.parametrize("other, words", [
    ("bimodal", "recognises classes;"),
    ("como", "has 6 inputs;"),
    ("model", "is a trained model"),
])
def test_what_the_project_cannot_take_is_refused_and_nothing_changes(tmp_path, capsys,
                                                                    reference_dir, other,
                                                                    words):
    folder = tmp_path / "gm"
    assert main(["import", str(CLIENT), "--project", str(folder)]) == 0
    before = _files(folder)
    path = {"bimodal": reference_dir / "data" / "trainingset_bimodal.xmm.json",
            "como": DATA / "como-elements-fred" / ".ml-processed-examples.debug.json",
            "model": DATA / "xmm-cpp" / "test_gmm.json"}[other]
    capsys.readouterr()
    assert main(["import", str(path), "--project", str(folder)]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert _files(folder) == before


def test_interrupted_append_leaves_the_project_as_it_was(tmp_path, monkeypatch):
    folder = tmp_path / "gm"
    assert main(["import", str(CLIENT), "--project", str(folder)]) == 0
    before = _files(folder)
    real, calls = folder_module.save_npz, []

    def save_npz(path, **arrays):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, **arrays)

    monkeypatch.setattr(folder_module, "save_npz", save_npz)
    assert main(["import", str(_soundworks(tmp_path)), "--project", str(folder)]) == 2
    assert _files(folder) == before
    assert len(gm.Project.load(folder).takes) == 4


def test_append_while_another_process_writes_the_project_is_refused(tmp_path, repo_dir,
                                                                    capsys):
    folder = tmp_path / "gm"
    assert main(["import", str(CLIENT), "--project", str(folder)]) == 0
    before = _files(folder)
    proc = _holder_process(folder, repo_dir)
    try:
        capsys.readouterr()
        assert main(["import", str(_soundworks(tmp_path)), "--project", str(folder)]) == 2
    finally:
        proc.communicate("", timeout=60)
    assert "gesturemap import:" in capsys.readouterr().err
    assert _files(folder) == before
    assert main(["import", str(_soundworks(tmp_path)), "--project", str(folder)]) == 0
    assert len(gm.Project.load(folder).takes) == 16
    np.testing.assert_array_equal(gm.Project.load(folder).takes[0].inputs,
                                  list(gm.Dataset.from_xmm(CLIENT))[0].inputs)


def test_a_training_set_saved_with_a_byte_order_mark_imports(tmp_path):
    """A training set re-saved by a Windows editor starts with a UTF-8 byte-order mark: it
    imports as the file without it (it was refused as 'invalid JSON at line 1, column 1'),
    JSON or CoMo's JSON5 alike."""
    text = gm.examples_dir().joinpath("air-drums.xmm.json").read_text().rstrip()
    for name, body in (("set.json", text), ("session.json5", text[:-1] + ",}")):
        (tmp_path / name).write_text("\ufeff" + body + "\r\n", encoding="utf-8")
        out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "import", name,
                              "--project", f"my {name}"], capture_output=True, text=True,
                             cwd=tmp_path, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "8 takes, 4 classes (crash, hihat, rest, snare)" in out.stdout


def test_a_training_set_without_frames_is_refused_and_makes_no_project(tmp_path):
    """A training set whose phrases are all empty (or none) is refused with exit 2 and leaves
    no project behind (it made an empty project and said '0 takes, 0 classes ()')."""
    doc = json.loads(gm.examples_dir().joinpath("air-drums.xmm.json").read_text())
    for phrases in ([], [dict(doc["phrases"][0], data=[], length=0)]):
        (tmp_path / "set.json").write_text(json.dumps({**doc, "phrases": phrases}))
        out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "import", "set.json",
                              "--project", "p"], capture_output=True, text=True, cwd=tmp_path,
                             timeout=120)
        assert out.returncode == 2 and "set.json holds no phrase with frames" in out.stderr
        assert "Traceback" not in out.stderr and not (tmp_path / "p").exists()


def test_a_training_set_into_a_project_of_other_classes_matches_them_by_name(tmp_path):
    """A training set's named gestures into a project of Wekinator's numbers failed with
    "label: got 'crash'; expected a int"; into a named project, a new name sorting first moved
    every old class to another number on /wek/outputs. Now names match names, the new ones
    are said and numbered after the old ones; names that cannot meet numbers are refused,
    the project as it was."""
    rng = np.random.default_rng(9)
    drums = gm.examples_dir() / "air-drums.xmm.json"
    named = gm.Project("named", model="gmm")
    for label in ("snare", "zap"):
        named.add_take(rng.normal(size=(20, 6)), label)
    named.save(tmp_path / "named")
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "import", str(drums),
                          "--project", "named"], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert ("into the project's snare; new classes: rest (sent as 3), hihat (sent as 4), "
            "crash (sent as 5)") in out.stdout
    project = gm.Project.load(tmp_path / "named")
    assert project.outputs["class_numbers"] == {"snare": 1, "zap": 2, "rest": 3, "hihat": 4,
                                                "crash": 5}
    expected = list(gm.Dataset.from_xmm(drums))
    assert [(t.label, t.inputs.tobytes()) for t in project.takes[2:]] == [
        (r.label, r.inputs.tobytes()) for r in expected]

    numbers = gm.Project("numbers", model="gmm")
    for label in (1, 2):
        numbers.add_take(rng.normal(size=(20, 6)), label)
    numbers.save(tmp_path / "numbers")
    before = _files(tmp_path / "numbers")
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "import", str(drums),
                          "--project", "numbers"], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "the classes of numbers are numbers (1, 2)" in out.stderr
    assert _files(tmp_path / "numbers") == before


def test_a_trained_model_keeps_its_xmm_settings_when_its_project_is_trained_again(tmp_path):
    # CoMo keeps a session's model and the examples it was trained on side by side: imported
    # one after the other, then retrained, the project must train the model's own settings
    session = DATA / "como-elements-fred"
    folder = tmp_path / "gm"
    assert main(["import", str(session / ".ml-model.json"), "--project", str(folder)]) == 0
    imported = gm.Project.load(folder).trained.get_params()
    assert main(["import", str(session / ".ml-processed-examples.debug.json"),
                 "--project", str(folder)]) == 0
    assert main(["train", str(folder)]) == 0
    retrained = gm.Project.load(folder).trained
    assert retrained.kind == "hhmm" and len(retrained.labels_) == 5
    params = retrained.get_params()
    # the file's: 4 states, regularisation 0.01 / 0.01, full covariance, XMM's inputs as they are
    assert (params["states"], params["relative_regularization"],
            params["absolute_regularization"], params["covariance"], params["deltas"]) == \
        (4, 0.01, 0.01, "full", False)
    assert params == imported


def test_a_class_with_its_own_xmm_settings_keeps_them_when_the_project_is_trained_again(
        tmp_path):
    # XMM lets one class have its own states, Gaussians and regularisation: an imported model's
    # project must train that class with them again, not with the shared settings
    ds = gm.Dataset.from_xmm(CLIENT)
    own = {"states": 2, "gaussians": 2, "relative_regularization": 0.2}
    trained = gm.HHMM(states=4, gaussians=1, deltas=False,
                      class_params={"branches": own}).fit(ds)
    model_file, set_file, folder = (tmp_path / "model.json", tmp_path / "set.json",
                                    tmp_path / "gm")
    save_xmm_model(trained, model_file)
    save_xmm_training_set(ds, set_file)
    written = {m["label"]: m["parameters"] for m in json.loads(model_file.read_text())["models"]}
    assert (written["branches"]["states"], written["branches"]["gaussians"],
            written["branches"]["relative_regularization"]) == (2, 2, 0.2)
    assert (written["vent"]["states"], written["vent"]["gaussians"]) == (4, 1)

    assert main(["import", str(model_file), "--project", str(folder)]) == 0
    saved = json.loads((folder / "project.json").read_text())["model"]["params"]
    assert saved["class_params"] == {"branches": own}
    assert main(["import", str(set_file), "--project", str(folder)]) == 0
    assert main(["train", str(folder)]) == 0
    retrained = gm.Project.load(folder).trained
    shapes = {label: c["weights"].shape
              for label, c in zip(retrained.labels_, retrained.class_params_, strict=True)}
    assert shapes == {"branches": (2, 2), "tempete": (4, 1), "vent": (4, 1)}
    assert retrained.class_param("branches", "relative_regularization") == 0.2


def test_xmm_class_parameters_of_a_real_model_become_its_class_params(tmp_path):
    # XMM 1.x keeps a class's own settings in its entry's parameters and in the
    # configuration's class_parameters; the real file's classes share theirs
    doc = json.loads((DATA / "xmm-cpp" / "test_gmm.json").read_text())
    assert gm.load_xmm(DATA / "xmm-cpp" / "test_gmm.json").class_params is None
    entry = next(m for m in doc["models"] if m["label"] == "2")
    entry["parameters"] = {**entry["parameters"], "relative_regularization": 0.3,
                           "covariance_mode": 1}
    doc["configuration"]["class_parameters"] = [
        {**doc["configuration"]["default_parameters"], "absolute_regularization": 0.02,
         "label": "3"}]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    model = gm.load_xmm(path)
    assert model.class_params == {
        "2": {"relative_regularization": 0.3, "covariance": "diagonal"},
        "3": {"absolute_regularization": 0.02}}
