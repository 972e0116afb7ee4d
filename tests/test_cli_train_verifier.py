"""``gesturemap train DIR --verifier RECORDINGS``: a project's spotting verifier
trained from rehearsal stream files through the real command, stored only when its
cross-fitting chooses it; bad input changes nothing. And a retrained project whose verifier
no longer fits its model drops it, saying so."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.cli import main
from gesturemap.evaluation.spotting.cv import make_dataset
from gesturemap.project import Project
from gesturemap.project.lock import LOCK_FILE
from tests.evaluation.spotting.test_scores import ramp_streams

MODEL = {"kind": "gmm", "params": {"gaussians": 1, "deltas": False}}
SPOTTING = {"gmm_frames": 40}


@pytest.fixture(scope="module")
def streams():
    return ramp_streams(4, excursions=True)


def _project(folder: Path, st, spotting=SPOTTING, model=MODEL) -> Project:
    project = Project("rehearsed", model={**model, **({} if spotting is None
                                                      else {"spotting": spotting})})
    for r in make_dataset(st, range(4), lambda a: a):
        project.add_take(r.inputs, r.label)
    project.train()
    project.save(folder)
    return project


def _npz(path: Path, st, idx=range(4), **replace) -> Path:
    idx = list(idx)
    arrays = {"X_concat": np.vstack([st.sessions[i] for i in idx]),
              "labels_concat": np.concatenate([st.labels[i] for i in idx]),
              "lengths": np.array([len(st.sessions[i]) for i in idx]),
              "subject": st.subject[idx], "gesture_labels": np.array([1, 2])}
    arrays.update(replace)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def _files(folder: Path) -> dict[str, bytes]:
    """The project's files and their bytes, but the lock file (its note of who last wrote,
    with the second it was taken, changes with every save: no data of the project)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != LOCK_FILE}


def test_chosen_verifier_is_stored_and_the_reloaded_project_spots_with_it(
        streams, tmp_path, capsys) -> None:
    folder = tmp_path / "proj"
    _project(folder, streams)
    takes = {k: v for k, v in _files(folder).items() if k != "project.json"}
    rc = main(["train", str(folder), "--verifier", str(_npz(tmp_path / "r.npz", streams))])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "verifier chosen: cross-fit F1" in out and "stored the verifier" in out
    project = Project.load(folder)
    stored = project.model["spotting"]["verifier"]
    assert stored["summary"]["chosen"] is True and stored["summary"]["gestures"] == ["1", "2"]
    assert stored["summary"]["f1_with"] > stored["summary"]["f1_without"]
    for k, v in takes.items():  # the takes untouched
        assert _files(folder).get(k, v) == v
    # the same verifier gm.fit_verifier trains from the same recordings, the context length
    # cross-fitted among 0, 1 and 2 s before each start (50 Hz: 0, 50, 100 frames)
    expected = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, streams.sessions[:4],
                               streams.labels[:4], streams.subject[:4], gestures=[1, 2],
                               context=[0, 50, 100])
    assert set(expected.cv_["context_scores"]) == {"0", "50", "100"}
    np.testing.assert_array_equal(gm.SpotVerifier.from_dict(stored).coef, expected.coef)
    assert stored.get("context", 0) == expected.context == stored["summary"]["context"]
    assert (f"reading {expected.context} frames before each start" in out) == (
        expected.context > 0), out
    changed = 0
    for i in range(4, 8):
        x = streams.sessions[i]
        got = gm.spot(project.trained, x, **project.model["spotting"])
        assert got == gm.spot(project.trained, x, **SPOTTING, verifier=expected)
        stream = gm.Spotter(project.trained, **project.model["spotting"]).stream()
        stepped = [r.event for r in (stream.step(f) for f in x) if r.event is not None]
        assert stepped == got
        changed += got != gm.spot(project.trained, x, **SPOTTING)
    assert changed  # the verifier does change events


def test_not_chosen_stores_nothing(streams, tmp_path, capsys) -> None:
    """Deltas tell the ramps apart: the spotter alone is as good, the verifier is not kept."""
    st = ramp_streams(5)
    folder = tmp_path / "proj"
    _project(folder, st, model={"kind": "gmm", "params": {"gaussians": 1, "deltas": True}})
    before = _files(folder)
    rc = main(["train", str(folder), "--verifier", str(_npz(tmp_path / "r.npz", st))])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "verifier not chosen" in out and "nothing stored: off:" in out
    assert _files(folder) == before


@pytest.mark.parametrize("case, message", [
    ("no spotting", "no spotting settings"),
    ("no labels", "no labels_concat"),
    ("input size", "frames of 3 values, the project takes 2"),
    ("unknown gesture", "name no gesture of the project"),
    ("one group", "one performer or session"),
    ("not a file", "is damaged or not an .npz file"),
    ("folder", "a folder; give stream files"),
    ("pickled labels", "'labels_concat' holds pickled objects"),
    ("nan frames", "not finite"),
    ("truncated", "is damaged or not an .npz file"),
    ("one array", "is damaged or not an .npz file"),
    ("few subjects", "2 subjects for 4 recordings"),
    ("lengths", "summing to X_concat's"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(streams, tmp_path, capsys, case,
                                                            message) -> None:
    folder = tmp_path / "proj"
    _project(folder, streams, spotting=None if case == "no spotting" else SPOTTING)
    path = tmp_path / "r.npz"
    x = np.vstack(streams.sessions[:4])
    if case == "no labels":
        _npz(path, streams, labels_concat=None)
    elif case == "input size":
        _npz(path, streams, X_concat=np.hstack([x, x[:, :1]]))
    elif case == "unknown gesture":
        _npz(path, streams, gesture_labels=np.array([1, 3]))
    elif case == "one group":
        _npz(path, streams, subject=np.zeros(4, dtype=int))
    elif case == "not a file":
        path = tmp_path / "r.txt"
        path.write_text("frames")
    elif case == "folder":
        path = tmp_path
    elif case == "pickled labels":  # an object array is never unpickled
        _npz(path, streams, labels_concat=np.concatenate(streams.labels[:4]).astype(object))
    elif case == "nan frames":
        x[5, 0] = np.nan
        _npz(path, streams, X_concat=x)
    elif case == "truncated":  # a damaged archive: one line, never zipfile's traceback
        path.write_bytes(_npz(tmp_path / "whole.npz", streams).read_bytes()[:3000])
    elif case == "one array":
        path = tmp_path / "r.npy"
        np.save(path, x)
    elif case == "few subjects":
        _npz(path, streams, subject=np.array([0, 1]))
    elif case == "lengths":
        _npz(path, streams, lengths=np.array([100, 100, 100, 100]))
    else:
        _npz(path, streams)
    before = _files(folder)
    rc = main(["train", str(folder), "--verifier", str(path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert err.count(str(path)) <= 1, err  # the file named once
    assert _files(folder) == before


def _with_verifier(folder: Path, streams) -> Project:
    v = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, streams.sessions[:4],
                        streams.labels[:4], streams.subject[:4], gestures=[1, 2])
    return _project(folder, streams, spotting={**SPOTTING, "verifier": v.to_dict()})


def test_a_retrain_keeps_a_verifier_that_fits_and_drops_one_that_does_not(
        streams, tmp_path, caplog, capsys) -> None:
    project = _with_verifier(tmp_path / "a", streams)
    project.train()  # the same gestures: kept
    assert project.model["spotting"]["verifier"] is not None
    assert project.verifier_removed is None
    project.add_take(np.linspace([0.0, 0.0], [1.0, 0.5], 40), "3")  # a new gesture
    with caplog.at_level(logging.WARNING, logger="gesturemap.spotting"):
        project.train()
    assert "verifier" not in project.model["spotting"]
    assert project.model["spotting"] == SPOTTING
    assert "trained for the gestures ['1', '2']" in project.verifier_removed
    assert "the spotting verifier was removed" in caplog.text
    project.train()  # said of the last retraining only
    assert project.verifier_removed is None
    # and through the command: the note, and the project saved without it
    folder = tmp_path / "b"
    project = _with_verifier(folder, streams)
    project.add_take(np.linspace([0.0, 0.0], [1.0, 0.5], 40), "3")
    project.save(folder)
    assert main(["train", str(folder)]) == 0
    assert "note: the spotting verifier was removed" in capsys.readouterr().out
    assert "verifier" not in Project.load(folder).model["spotting"]


def test_the_engine_drops_a_stale_verifier_at_retraining_and_says_so(streams, tmp_path
                                                                     ) -> None:
    from gesturemap.live.engine import Engine

    project = _with_verifier(tmp_path / "c", streams)
    project.add_take(np.linspace([0.0, 0.0], [1.0, 0.5], 40), "3")
    engine = Engine(project, osc_in=None, trainer="thread").start()
    try:
        assert engine.stats()["verifier_removed"] is None
        engine.done_training.clear()
        engine.command("train")
        assert engine.done_training.wait(60)
        stats = engine.stats()
    finally:
        engine.stop()
    assert "trained for the gestures ['1', '2']" in stats["verifier_removed"]
    assert "verifier" not in project.model["spotting"]
    assert getattr(engine.stream, "spotter", None) is not None  # still spotting, without it


def test_a_verifier_summary_round_trips_through_json_and_is_checked(streams) -> None:
    import json

    v = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, streams.sessions[:4],
                        streams.labels[:4], streams.subject[:4], gestures=[1, 2])
    assert "summary" not in v.to_dict()  # nothing new in a dict without one
    v.summary = {"gestures": ["1", "2"], "f1_with": 0.9, "detections": 12, "note": None}
    w = gm.SpotVerifier.from_dict(json.loads(json.dumps(v.to_dict())))
    assert w.summary == v.summary and w.to_dict() == v.to_dict()
    for bad in ({"f1_with": float("nan")}, {"x": {"nested": 1}}, [1, 2]):
        with pytest.raises(gm.GesturemapError, match="summary"):
            gm.SpotVerifier.from_dict({**v.to_dict(), "summary": bad})


def test_text_labels_and_no_subject_each_recording_its_own_group(streams, tmp_path,
                                                                 capsys) -> None:
    """Labels as text (a performer's names), rests labelled null, no subject and no
    gesture_labels: the same verifier as with numbers and subjects given one group each."""
    folder = tmp_path / "proj"
    project = Project("named", model={**MODEL, "spotting": SPOTTING})
    names = {0: "null", 1: "up", 2: "down"}
    for r in make_dataset(streams, range(4), lambda a: a):
        project.add_take(r.inputs, {"1": "up", "2": "down"}.get(r.label, r.label))
    project.train()
    project.save(folder)
    text = np.array([names[int(v)] for v in np.concatenate(streams.labels[:4])])
    path = _npz(tmp_path / "r.npz", streams, labels_concat=text, subject=None,
                gesture_labels=None)
    assert main(["train", str(folder), "--verifier", str(path)]) == 0
    out = capsys.readouterr().out
    assert "verifier chosen" in out and "on 4 recordings (4 groups)" in out, out
    stored = Project.load(folder).model["spotting"].get("verifier")
    expected = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, streams.sessions[:4],
                               [np.array([names[int(v)] for v in lab])
                                for lab in streams.labels[:4]], None, gestures=["down", "up"],
                               context=[0, 50, 100])
    assert expected.cv_["chosen"] and sorted(stored["classes"]) == ["down", "up"]
    np.testing.assert_allclose(gm.SpotVerifier.from_dict(stored).coef, expected.coef)


def test_the_verifier_is_trained_over_the_model_that_spots(streams, tmp_path) -> None:
    """After a search swapped another family in (the trained model is an HHMM, the settings
    still say GMM), the verifier is cross-fitted over the HHMM that spots live, says so in its
    summary, and a retrain that brings another family back drops it."""
    from gesturemap.evaluation.rehearsal import train_project_verifier

    folder = tmp_path / "proj"
    project = _project(folder, streams)
    project.trained = gm.HHMM(3, deltas=False).fit(project.dataset())  # a search's swap
    project.save(folder)
    project = Project.load(folder)
    verifier, line = train_project_verifier(project, [str(_npz(tmp_path / "r.npz", streams))])
    assert verifier.summary["model"] == "hhmm", line
    expected = gm.fit_verifier({"kind": "hhmm", "params": project.trained.get_params(),
                                "spotting": SPOTTING}, streams.sessions[:4],
                               streams.labels[:4], streams.subject[:4], gestures=[1, 2],
                               context=[0, 50, 100])
    np.testing.assert_array_equal(verifier.coef, expected.coef)
    # stored, then the project retrained from its settings (a GMM): the verifier goes
    project.model = {**project.model, "spotting": {**SPOTTING, "verifier": verifier.to_dict()}}
    project.train()
    assert "verifier" not in project.model["spotting"]
    assert "trained over a hhmm model, the project's model is now gmm" in project.verifier_removed


def test_a_search_that_swaps_in_another_family_drops_the_verifier(streams) -> None:
    """The engine swaps in a search's winner of another family (an HHMM that tells the
    ramps apart, over the project's GMM that cannot): the verifier trained over the GMM's
    detections goes with a warning, as a retrain's would; the winner spots without it."""
    from gesturemap.live.engine import Engine
    from gesturemap.live.search import search_basis
    from gesturemap.live.trainer import TrainingJob

    v = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, streams.sessions[:4],
                        streams.labels[:4], streams.subject[:4], gestures=[1, 2])
    v.summary = {"model": "gmm"}
    project = Project("swap", model={**MODEL, "spotting": {**SPOTTING,
                                                          "verifier": v.to_dict()}})
    for r in make_dataset(streams, range(4), lambda a: a):
        project.add_take(r.inputs, r.label)
    project.train()
    assert project.verifier_removed is None
    winner = gm.auto(project.dataset(), 30, candidates=[
        ("project's model (gmm)", lambda: gm.GMM(1, deltas=False)),
        ("HHMM", lambda: gm.HHMM(3, deltas=False))])
    assert winner.kind == "hhmm"  # the search chose another family
    job = TrainingJob()
    job._finish(winner, None)
    engine = Engine(project, osc_in=None, trainer="thread")
    try:
        engine._cmd__searched(job, search_basis(project), 0.0)
    finally:
        engine.stop()
    assert engine.search_status["state"] == "swapped", engine.search_status
    assert engine.project.trained is winner
    assert "verifier" not in engine.project.model["spotting"]
    assert "trained over a gmm model, the project's model is now hhmm" in \
        engine.project.verifier_removed


def test_rehearsals_the_spotter_finds_nothing_in_say_so(streams, tmp_path, capsys) -> None:
    """A spotter that finds no gesture in the rehearsals (a threshold no event reaches) leaves
    nothing to train on: one line saying so and what to do, exit 2, nothing written."""
    folder = tmp_path / "proj"
    _project(folder, streams, spotting={**SPOTTING, "threshold": 1e6})
    before = _files(folder)
    rc = main(["train", str(folder), "--verifier", str(_npz(tmp_path / "r.npz", streams))])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "no verifier can be trained from these rehearsals (no training detections" in err
    assert "gesturemap eval --spotting" in err and len(err.strip().splitlines()) == 1, err
    assert _files(folder) == before


def test_frames_labelled_0_are_no_gesture_without_gesture_labels(streams, tmp_path) -> None:
    """Numbered frames, 0 between the gestures, no gesture_labels (docs/spotting.md): 0 is
    no gesture, as null is; any other label still has to name a gesture of the project."""
    from gesturemap.evaluation.rehearsal import read_rehearsals

    project = _project(tmp_path / "proj", streams)
    path = _npz(tmp_path / "r.npz", streams, gesture_labels=None)
    assert 0 in np.concatenate(streams.labels[:4])
    _, labels, _, gestures, _ = read_rehearsals([str(path)], project)
    assert gestures == ["1", "2"]
    for got, lab in zip(labels, streams.labels[:4], strict=True):
        np.testing.assert_array_equal(got, np.where(lab == 0, "null", lab.astype(str)))
    odd = _npz(tmp_path / "odd.npz", streams, gesture_labels=None,
               labels_concat=np.concatenate(streams.labels[:4]) * 3)  # 3 and 6: no gesture
    with pytest.raises(gm.GesturemapError, match=r"\['3', '6'\] name no gesture"):
        read_rehearsals([str(odd)], project)


def _change_while_training(monkeypatch, change) -> None:
    """``gesturemap train --verifier``'s training, with ``change`` (another process's save)
    made to the project folder before it ends."""
    from gesturemap.evaluation import rehearsal

    real = rehearsal.train_project_verifier

    def training(project, paths, relabel=False, progress=None):
        out = real(project, paths, relabel=relabel, progress=progress)
        change(project.folder)
        return out
    monkeypatch.setattr(rehearsal, "train_project_verifier", training)


def test_a_change_saved_while_the_verifier_trained_is_kept(streams, tmp_path, monkeypatch,
                                                          capsys) -> None:
    """Another process changes the model's settings while the verifier trains: the verifier
    goes onto the project as saved then, the change stays (not the copy loaded before over
    it)."""
    folder = tmp_path / "proj"
    _project(folder, streams)

    def other(folder: Path) -> None:
        project = Project.load(folder)
        project.model = {**project.model, "params": {"gaussians": 2, "deltas": False}}
        project.name = "renamed meanwhile"
        project.save(folder)
    _change_while_training(monkeypatch, other)
    rc = main(["train", str(folder), "--verifier", str(_npz(tmp_path / "r.npz", streams))])
    out = capsys.readouterr().out
    assert rc == 0 and "stored the verifier" in out, out
    project = Project.load(folder)
    assert project.model["params"] == {"gaussians": 2, "deltas": False}
    assert project.name == "renamed meanwhile"
    assert project.model["spotting"]["verifier"]["summary"]["chosen"] is True


def test_a_retrain_saved_while_the_verifier_trained_refuses_to_store_it(
        streams, tmp_path, monkeypatch, capsys) -> None:
    """Another process retrains the model while the verifier trains (over the old model):
    nothing is stored, one line says why, the other process's project stays as it saved it."""
    folder = tmp_path / "proj"
    _project(folder, streams)
    saved = {}

    def other(folder: Path) -> None:
        project = Project.load(folder)
        project.train()
        project.save(folder)
        saved.update(_files(folder))
    _change_while_training(monkeypatch, other)
    rc = main(["train", str(folder), "--verifier", str(_npz(tmp_path / "r.npz", streams))])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert "changed while the verifier trained" in err and "nothing stored" in err, err
    assert _files(folder) == saved


def test_a_retrain_that_drops_a_relabeller_says_train_it_with_relabeler(streams, tmp_path
                                                                       ) -> None:
    v = gm.fit_verifier({**MODEL, "spotting": SPOTTING}, streams.sessions[:4],
                        streams.labels[:4], streams.subject[:4], gestures=[1, 2])
    for kind, flag in (("relabeller", "--relabeler RECORDINGS"), (None, "--verifier RECORDINGS")):
        v.summary = {"kind": kind} if kind else None
        project = _project(tmp_path / str(kind), streams,
                           spotting={**SPOTTING, "verifier": v.to_dict()})
        project.add_take(np.linspace([0.0, 0.0], [1.0, 0.5], 40), "3")  # a new gesture
        project.train()
        assert f"train it again (gesturemap train DIR {flag}" in project.verifier_removed
        assert ("Rehearsal tab" in project.verifier_removed) == (kind == "relabeller")


def test_a_retrain_keeps_a_verifier_over_a_model_that_ignores_a_channel(streams, tmp_path):
    # the verifier reads the frames as given (3 channels); the retrain's check compared that
    # with the model's 2 kept channels and removed a verifier that fits
    import dataclasses

    rng = np.random.default_rng(0)
    wide = dataclasses.replace(streams, sessions=[np.c_[x, rng.normal(0, 1.0, len(x))]
                                                  for x in streams.sessions])
    model = {"kind": "gmm", "params": {"gaussians": 1, "deltas": False, "ignore_channels": [2]}}
    v = gm.fit_verifier({**model, "spotting": SPOTTING}, wide.sessions[:4], wide.labels[:4],
                        wide.subject[:4], gestures=[1, 2])
    assert v.input_dim == 3
    project = _project(tmp_path / "a", wide, spotting={**SPOTTING, "verifier": v.to_dict()},
                       model=model)
    project.train()
    assert project.verifier_removed is None
    assert project.model["spotting"]["verifier"] is not None


def _change_while_plain_training(monkeypatch, folder: Path, change) -> None:
    """Plain ``gesturemap train``: ``change`` (another process's save) made to ``folder``
    while the model trains."""
    real = Project.dataset

    def dataset(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        change(folder)
        return out
    monkeypatch.setattr(Project, "dataset", dataset)


def test_plain_train_keeps_what_another_process_saved_meanwhile(streams, tmp_path,
                                                                monkeypatch, capsys):
    # it saved the copy it had loaded before training: a name (or any setting) another
    # process saved meanwhile went back to the old one
    folder = tmp_path / "proj"
    _project(folder, streams)

    def other(folder: Path) -> None:
        project = Project.load(folder)
        project.name = "renamed meanwhile"
        project.save(folder)
    _change_while_plain_training(monkeypatch, folder, other)
    assert main(["train", str(folder)]) == 0
    assert "trained GMM" in capsys.readouterr().out
    project = Project.load(folder)
    assert project.name == "renamed meanwhile" and project.trained is not None


def test_plain_train_stores_nothing_over_takes_changed_meanwhile(streams, tmp_path,
                                                                 monkeypatch, capsys):
    folder = tmp_path / "proj"
    _project(folder, streams)
    before = Project.load(folder).model_file

    def other(folder: Path) -> None:  # a take relabelled: the model would not be its model
        project = Project.load(folder)
        project.relabel_take(project.takes[0].id, "2" if project.takes[0].label != "2" else "1")
        project.save(folder)
    _change_while_plain_training(monkeypatch, folder, other)
    assert main(["train", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "changed while the model trained" in err and len(err.strip().splitlines()) == 1
    assert Project.load(folder).model_file == before  # the other process's save stands


def _spotting_of(folder: Path) -> dict:
    return Project.load(folder).model["spotting"]


def test_relabeler_and_detector_in_one_command_as_in_two(streams, tmp_path, capsys) -> None:
    """``train DIR --relabeler R --detector R`` stores what the two commands one after the
    other store: the relabeller first, then the detector, cross-fitted spotting with it."""
    import shutil

    one, two = tmp_path / "one", tmp_path / "two"
    _project(one, streams)
    shutil.copytree(one, two)
    r = str(_npz(tmp_path / "r.npz", streams))
    assert main(["train", str(one), "--relabeler", r, "--detector", r]) == 0
    out = capsys.readouterr().out
    assert out.index("relabeller chosen") < out.index("detector ")
    assert main(["train", str(two), "--relabeler", r]) == 0
    assert main(["train", str(two), "--detector", r]) == 0
    assert out == capsys.readouterr().out.replace(str(two), str(one))
    stored = _spotting_of(one)
    assert stored == _spotting_of(two)
    assert stored["verifier"]["summary"]["kind"] == "relabeller"
    # the relabeller was in place when the detector was checked: without it the check differs
    three = tmp_path / "three"
    _project(three, streams)
    assert main(["train", str(three), "--detector", r]) == 0
    alone = capsys.readouterr().out
    assert alone.split("cross-fit F1")[1] != out.split("cross-fit F1")[-1]


def test_auto_then_the_second_opinions_over_the_model_it_chose(streams, tmp_path,
                                                               capsys) -> None:
    """``train DIR --auto --relabeler R --detector R``: the search's model is stored, then
    the relabeller and the detector are trained for it (as two more commands would), and
    the reloaded project spots live as in one call."""
    folder = tmp_path / "proj"
    _project(folder, streams)  # one Gaussian without deltas: the search chooses an HHMM
    r = str(_npz(tmp_path / "r.npz", streams))
    assert main(["train", str(folder), "--auto", "--budget", "5", "--relabeler", r,
                 "--detector", r]) == 0
    out = capsys.readouterr().out
    assert out.index("chose ") < out.index("relabeller ") < out.index("detector ")
    project = Project.load(folder)
    assert project.check_verifier(project.trained) is None  # fits the model now stored
    # the same relabeller as the command alone trains over that model
    from gesturemap.evaluation.rehearsal import train_project_verifier
    fresh = Project.load(folder)
    fresh.model = {**fresh.model, "spotting": {k: v for k, v in fresh.model["spotting"].items()
                                               if k not in ("verifier", "detector")}}
    again, _ = train_project_verifier(fresh, [r], relabel=True)
    if "verifier" in project.model["spotting"]:
        assert project.model["spotting"]["verifier"] == again.to_dict()
    else:
        assert not again.cv_["chosen"]
    x = streams.sessions[5]
    got = gm.spot(project.trained, x, **project.model["spotting"])
    stream = gm.Spotter(project.trained, **project.model["spotting"]).stream()
    assert [e.event for e in (stream.step(f) for f in x) if e.event is not None] == got


def test_budget_without_auto_is_refused_with_second_opinions(streams, tmp_path, capsys):
    folder = tmp_path / "proj"
    _project(folder, streams)
    before = _files(folder)
    r = str(_npz(tmp_path / "r.npz", streams))
    for args, message in ((["--budget", "3", "--detector", r], "--budget is the --auto search's"),
                          (["--verifier", r, "--relabeler", r], "--verifier and --relabeler both"),
                          (["--auto", "--verifier", r, "--relabeler", r], "both take the")):
        assert main(["train", str(folder), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert _files(folder) == before


def test_a_relabeller_for_a_model_with_per_class_settings(streams, tmp_path, capsys) -> None:
    """A model whose classes have their own settings (as a search's HHMM may have) is
    cross-fitted with them: its settings were passed on as JSON keeps them, which no model
    took, and no relabeller could be trained."""
    folder = tmp_path / "proj"
    _project(folder, streams, model={"kind": "hhmm", "params": {
        "states": 4, "deltas": False, "class_params": {"null": {"states": 1}}}})
    r = str(_npz(tmp_path / "r.npz", streams))
    assert main(["train", str(folder), "--relabeler", r]) == 0, capsys.readouterr().err
    assert "relabeller " in capsys.readouterr().out


def test_on_a_terminal_the_training_shows_its_steps_and_clears_them(streams, tmp_path):
    """Run in a pseudo-terminal, ``train --relabeler`` rewrites one stderr line with each
    step, and clears it before its verdict; through a pipe (above) nothing is printed."""
    import os
    import pty
    import subprocess
    import sys

    from tests.paths import REPO_DIR

    folder = tmp_path / "proj"
    _project(folder, streams)
    r = str(_npz(tmp_path / "r.npz", streams))
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "gesturemap", "train", str(folder),
                             "--relabeler", r], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=child_fd,
                            env={**os.environ, "PYTHONPATH": str(REPO_DIR)})
    os.close(child_fd)
    seen = b""
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read().decode()
    assert proc.wait(timeout=120) == 0, seen
    os.close(main_fd)
    text = seen.decode()
    assert "relabeller: a model for part 1 of 2" in text
    assert "relabeller: its settings, 1 of" in text
    assert "relabeller: the last training, on every performer" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared: the verdict stands alone
    assert "relabeller" in out and "\x1b" not in out
