"""An evaluation of a classifier on recordings of one class is refused: with one class to
choose from it is never wrong, and it reported an accuracy of 1.0 that said nothing (as
``gesturemap eval DIR``'s review already refused it). Outputs are still measured on
recordings of one label (a mapping by demonstration)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gesturemap as gm
from gesturemap import evaluation as ev
from gesturemap.errors import GesturemapError
from gesturemap.project import Project


def _one_class(n: int = 4) -> gm.Dataset:
    rng = np.random.default_rng(0)
    ds = gm.Dataset()
    for _ in range(n):
        ds.add(rng.uniform(-1, 1, size=(30, 2)), label="circle")
    return ds


def test_cross_validation_and_holdout_of_one_class_are_refused():
    with pytest.raises(GesturemapError, match="all of class 'circle'.*never wrong"):
        ev.cross_validate("gmm", _one_class(), folds=2, early="none")
    with pytest.raises(GesturemapError, match="training recordings are all of class 'circle'"):
        ev.holdout("gmm", _one_class(), _one_class(2), early="none")


def test_eval_of_a_project_of_one_gesture_says_why_it_measures_nothing(tmp_path, repo_dir):
    project = Project(classes=["circle"])
    for take in _one_class(3):
        project.add_take(take.inputs, "circle")
    project.save(tmp_path / "p")
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "eval", "--project",
                          str(tmp_path / "p"), "--quiet"],
                         capture_output=True, text=True, timeout=300, cwd=repo_dir)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == (
        "gesturemap eval: the project's takes are all of class 'circle': a classifier with "
        "one class to choose from is never wrong, so its accuracy would say nothing; record "
        "takes of another gesture first.")
