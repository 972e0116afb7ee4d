"""An import stopped half way (Ctrl-C, a full disk) leaves the project as it was: the takes it
had written are removed again, and a folder it was creating goes whole. Before, loading found
the half import's takes (376 takes for 300) or a folder of takes with no project.json.

The interruption is injected where the takes' arrays are written (the real save otherwise):
the n-th take's write raises, as Ctrl-C or ENOSPC would there."""

from __future__ import annotations

import errno

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.interop.wekinator import arff
from gesturemap.interop.wekinator import project as wk
from gesturemap.project import folder as folder_module

from ..wekinator.test_arff import classification_rows, wekinator_file
from ..wekinator.test_project import unpack


def _interrupt_at(monkeypatch, n, exc):
    real = folder_module.save_npz
    calls = []

    def save_npz(path, **arrays):
        calls.append(path)
        if len(calls) == n:
            raise exc
        return real(path, **arrays)

    monkeypatch.setattr(folder_module, "save_npz", save_npz)
    return calls


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".gesturemap-lock"}


@pytest.fixture
def arff_file(tmp_path):
    rows = classification_rows(np.random.default_rng(0))
    return wekinator_file(tmp_path / "data.arff", ["inputs-1", "inputs-2", "inputs-3"],
                          [("outputs-1", "{0,1,2,3}")], rows)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left")])
def test_an_import_appended_and_stopped_leaves_the_project_as_it_was(tmp_path, monkeypatch,
                                                                      arff_file, exc):
    proj = tmp_path / "proj"
    arff.import_arff(arff_file, proj, model="gmm")
    before = _files(proj)
    calls = _interrupt_at(monkeypatch, 3, exc)
    with pytest.raises(type(exc)):
        arff.import_arff(arff_file, proj)
    assert len(calls) == 3  # two of the four new takes were written before the stop
    assert _files(proj) == before
    loaded = gm.Project.load(proj)
    assert [t.label for t in loaded.takes] == [1, 2, 1, 3]
    monkeypatch.undo()
    arff.import_arff(arff_file, proj)  # the import done again, whole
    assert [t.label for t in gm.Project.load(proj).takes] == [1, 2, 1, 3] * 2


def test_an_import_into_a_new_folder_stopped_leaves_no_folder(tmp_path, monkeypatch, arff_file):
    _interrupt_at(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        arff.import_arff(arff_file, tmp_path / "new" / "proj")
    assert (tmp_path / "new").is_dir() and not (tmp_path / "new" / "proj").exists()
    (tmp_path / "empty").mkdir()  # a folder the user made stays, empty as it was
    monkeypatch.undo()
    _interrupt_at(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        arff.import_arff(arff_file, tmp_path / "empty")
    assert (tmp_path / "empty").is_dir() and not any((tmp_path / "empty").iterdir())


def test_a_wekinator_project_import_stopped_leaves_no_folder(tmp_path, monkeypatch):
    source = unpack("drawing-game", tmp_path)  # a real project (tests/data/wekinator)
    whole, summary = wk.import_wekinator(source, tmp_path / "whole")
    assert len(whole.takes) >= 2
    _interrupt_at(monkeypatch, len(whole.takes), KeyboardInterrupt())  # the last take's write
    with pytest.raises(KeyboardInterrupt):
        wk.import_wekinator(source, tmp_path / "gm")
    assert not (tmp_path / "gm").exists()
    monkeypatch.undo()
    again, _ = wk.import_wekinator(source, tmp_path / "gm")
    assert len(gm.Project.load(tmp_path / "gm").takes) == len(whole.takes)


def test_a_stop_after_project_json_keeps_the_listed_takes(tmp_path, monkeypatch, arff_file):
    """A failure after project.json switched (removing an old model file, say) is no reason to
    remove takes it lists: they stay, and the project loads with them."""
    proj = tmp_path / "proj"
    arff.import_arff(arff_file, proj, model="gmm")

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(folder_module, "_remove_stale_temporaries", fail)
    with pytest.raises(KeyboardInterrupt):
        arff.import_arff(arff_file, proj)
    assert [t.label for t in gm.Project.load(proj).takes] == [1, 2, 1, 3] * 2
