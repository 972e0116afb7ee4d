"""`gesturemap export` refusals: one line that says what is wrong and what to do instead, and
nothing written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.cli import EXIT_USAGE, main
from tests.paths import DATA_DIR


def _project(folder, kind="gmm", takes=4):
    project = gm.Project(folder.name, model={"kind": kind, "params": {"deltas": False}}
                         if kind in ("gmm", "hhmm") else kind, input_names=["a", "b"])
    rng = np.random.default_rng(2)
    for i in range(takes):
        project.add_take(rng.normal(size=(20, 2)) + 3 * (i % 2), "ab"[i % 2])
    if takes:
        project.train()
    project.save(folder)
    return folder


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(("case", "options", "told"), [
    # a Wekinator ARFF given where the project goes: import it first
    ("arff", ["--xmm-set", "out.json"], "gesturemap import data.arff --project DIR"),
    # a table: it needs an ARFF header, then an import
    ("csv", ["--arff", "out.arff"], "put an ARFF header above its rows"),
    # the project's own file: its folder
    ("project.json", ["--arff", "out.arff"], "Give its folder, p."),
    # no takes: record or import them
    ("no takes", ["--arff", "out.arff"], "gesturemap import FILE --project p"),
    ("no takes", ["--xmm-set", "out.json"], "record takes"),
    # a model XMM has no counterpart of: which kinds it has, and where to set one
    ("knn", ["--xmm-model", "out.json"], 'set the model\'s "kind" to "gmm" or "hhmm"'),
    # a folder that is not there: make it
    ("missing folder", ["--arff", "nowhere/out.arff"], "make it first"),
])
def test_a_refusal_names_what_to_do(tmp_path, monkeypatch, capsys, case, options, told):
    monkeypatch.chdir(tmp_path)
    if case == "arff":
        shutil.copy(DATA_DIR / "wekinator" / "pong-puck" / "current" / "currentData.arff",
                    "data.arff")
        given = "data.arff"
    elif case == "csv":
        (tmp_path / "data.csv").write_text("a,b,outputs-1\n0.1,0.2,1\n")
        given = "data.csv"
    else:
        _project(tmp_path / "p", kind="knn" if case == "knn" else "gmm",
                 takes=0 if case == "no takes" else 4)
        given = "p/project.json" if case == "project.json" else "p"
    before = _files(tmp_path)
    assert main(["export", given, *options]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and told in err, err
    assert _files(tmp_path) == before
