"""`gesturemap train --auto`: the search from the command line, and what it prints and saves."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import gesturemap as gm
from gesturemap.project import Project


def _project(folder, reference_dir, per_class, model="gmm"):
    project = Project("auto", model=model)
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    counts: dict = {}
    for rec in ds:
        counts[rec.label] = counts.get(rec.label, 0) + 1
        if counts[rec.label] <= per_class:
            project.add_take(rec.inputs[::4], rec.label)
    project.save(folder)


def _train(*args):
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", "train", *args],
                          capture_output=True, text=True, timeout=600)


def test_train_auto_saves_the_chosen_model_with_its_selection(reference_dir, tmp_path):
    folder = tmp_path / "proj"
    _project(folder, reference_dir, 3)
    out = _train(str(folder), "--auto", "--budget", "8")
    assert out.returncode == 0, out.stderr
    assert "project's model (gmm)" in out.stdout and "chose " in out.stdout
    trained = Project.load(folder).trained
    sel = gm.models.selection_of(trained)
    assert sel is not None and sel["candidates"][0]["name"] == "project's model (gmm)"
    assert trained.kind == sel["model"]
    assert f"chose {sel['chosen_name']} (CV {sel['cv_score']:.3f}" in out.stdout


def test_a_project_setting_asks_for_the_search_too(reference_dir, tmp_path):
    folder = tmp_path / "proj"
    _project(folder, reference_dir, 2,
             model={"kind": "gmm", "params": {"gaussians": 1}, "auto": {"budget_s": 5}})
    out = _train(str(folder))
    assert out.returncode == 0, out.stderr
    assert gm.models.selection_of(Project.load(folder).trained)["budget_s"] == 5.0


def test_one_take_a_class_explains_and_falls_back(reference_dir, tmp_path):
    folder = tmp_path / "proj"
    _project(folder, reference_dir, 1)
    out = _train(str(folder), "--auto", "--budget", "5")
    assert out.returncode == 0, out.stderr
    assert "single take" in out.stdout and "no cross-validation" in out.stdout
    trained = Project.load(folder).trained
    assert trained.kind == "gmm" and np.isfinite(trained.log_likelihood(
        np.zeros((3, trained.input_dim_)))).all()
