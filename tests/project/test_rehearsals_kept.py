"""The rehearsals a project keeps (``rehearsals/``): written atomically as stream files the
audit reads, never overwritten, refused while another process writes the folder, removed into
the trash, and taken along when the project is saved into a new folder."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest

from gesturemap.errors import GesturemapError, ProjectBusy
from gesturemap.evaluation.spotting.streams import read_stream_file
from gesturemap.project import Project, kept_rehearsals
from gesturemap.project.lock import holding
from gesturemap.project.rehearsals import (
    keep_rehearsal_file,
    new_rehearsal_name,
    remove_rehearsal,
    save_rehearsal,
)
from gesturemap.utils.storage import save_npz


def _frames(n=50, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), 10.0 + 0.02 * np.arange(n)


def _project(tmp_path):
    project = Project("kept", input_names=["a", "b", "c"])
    project.add_take(np.zeros((10, 3)), "one")
    return project, project.save(tmp_path / "p")


def test_a_recorded_rehearsal_is_kept_as_a_stream_file_with_its_times(tmp_path):
    _, folder = _project(tmp_path)
    x, t = _frames()
    name = new_rehearsal_name(folder, now=0)
    assert name.startswith("rehearsal-") and name.endswith(".npz")
    path = save_rehearsal(folder, name, x, t)
    assert kept_rehearsals(folder) == [path]
    frames, labels, lengths, subject, gestures = read_stream_file(path)
    np.testing.assert_array_equal(frames, x)
    assert labels.tolist() == ["null"] * len(x) and lengths.tolist() == [len(x)]
    assert subject is None and gestures is None
    np.testing.assert_array_equal(np.load(path)["times_concat"], t)
    # never overwritten; the next name is free
    with pytest.raises(GesturemapError, match="kept already"):
        save_rehearsal(folder, name, x[:10], t[:10])
    np.testing.assert_array_equal(read_stream_file(path)[0], x)
    assert new_rehearsal_name(folder, now=0) == name[:-4] + "-2.npz"
    # the project itself is as it was: no take came of it
    assert [tk.label for tk in Project.load(folder).takes] == ["one"]


@pytest.mark.parametrize("bad", ["../out.npz", "a/b.npz", "x.json", "", ".npz", None])
def test_a_bad_name_is_refused_and_nothing_written(tmp_path, bad):
    _, folder = _project(tmp_path)
    x, t = _frames()
    with pytest.raises(GesturemapError, match="not a rehearsal's file name"):
        save_rehearsal(folder, bad, x, t)
    assert not (folder / "rehearsals").exists() or not any((folder / "rehearsals").iterdir())
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize("frames, times", [
    (np.zeros((1, 3)), np.zeros(1)),                # one frame
    (np.zeros((5, 3)), np.zeros(4)),                # a time short
    (np.full((5, 3), np.nan), np.arange(5.0)),      # not finite
    (np.zeros(5), np.arange(5.0)),                  # not (T, D)
])
def test_frames_that_are_no_recording_are_refused(tmp_path, frames, times):
    _, folder = _project(tmp_path)
    with pytest.raises(GesturemapError):
        save_rehearsal(folder, "r.npz", frames, times)
    assert kept_rehearsals(folder) == []


def _hold(folder, ready, release):
    with holding(folder):
        ready.set()
        release.wait(30)


def test_refused_while_another_process_writes_the_project(tmp_path):
    _, folder = _project(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold, args=(str(folder), ready, release))
    other.start()
    try:
        assert ready.wait(30)
        x, t = _frames()
        with pytest.raises(ProjectBusy):
            save_rehearsal(folder, "r.npz", x, t)
        assert kept_rehearsals(folder) == []
    finally:
        release.set()
        other.join(30)


def test_a_file_is_kept_as_it_is_and_removed_into_the_trash(tmp_path):
    _, folder = _project(tmp_path)
    x, _ = _frames(seed=1)
    source = tmp_path / "run through.npz"
    save_npz(source, X_concat=x, labels_concat=np.array(["null"] * 20 + ["one"] * 30),
             lengths=np.array([50]))
    kept = keep_rehearsal_file(folder, source)
    assert kept.name == "run through.npz" and kept.read_bytes() == source.read_bytes()
    again = keep_rehearsal_file(folder, source)
    assert again.name == "run through-2.npz"
    assert kept_rehearsals(folder) == [kept, again]
    gone = remove_rehearsal(folder, kept.name)
    assert gone == folder / "trash" / "rehearsals" / "run through.npz"
    assert gone.read_bytes() == source.read_bytes() and not kept.exists()
    assert kept_rehearsals(folder) == [again]
    with pytest.raises(GesturemapError, match="keeps no rehearsal"):
        remove_rehearsal(folder, kept.name)
    with pytest.raises(GesturemapError, match="keeps no rehearsal"):
        remove_rehearsal(folder, "../project.json")
    assert (folder / "project.json").exists()


def test_saved_into_a_new_folder_the_rehearsals_go_along(tmp_path):
    project, folder = _project(tmp_path)
    x, t = _frames()
    first = save_rehearsal(folder, "a.npz", x, t)
    os.utime(first, ns=(1, 1))  # kept long before the second
    second = save_rehearsal(folder, "b.npz", x[:20], t[:20])
    other = project.save(tmp_path / "q")
    copies = kept_rehearsals(other)
    assert [p.name for p in copies] == ["a.npz", "b.npz"]
    assert [p.read_bytes() for p in copies] == [first.read_bytes(), second.read_bytes()]
    # and the copy is the project's now: saved again there, nothing doubles
    project.save(other)
    assert [p.name for p in kept_rehearsals(other)] == ["a.npz", "b.npz"]


def test_a_rehearsals_folder_that_links_out_of_the_project_is_neither_read_nor_written(
        tmp_path):
    _, folder = _project(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    x, t = _frames()
    save_npz(outside / "theirs.npz", X_concat=x, labels_concat=np.array(["null"] * len(x)),
             lengths=np.array([len(x)]))
    (folder / "rehearsals").symlink_to(outside, target_is_directory=True)
    assert kept_rehearsals(folder) == []
    with pytest.raises(GesturemapError, match="a link or not a folder"):
        save_rehearsal(folder, "mine.npz", x, t)
    with pytest.raises(GesturemapError, match="keeps no rehearsal"):
        remove_rehearsal(folder, "theirs.npz")
    assert sorted(p.name for p in outside.iterdir()) == ["theirs.npz"]
