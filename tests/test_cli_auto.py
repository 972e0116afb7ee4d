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


#: A budget every candidate finishes within on a loaded machine whose kernels are not compiled
#: yet (a fresh clone): the search ends when its candidates are done, so it costs nothing more
#: on a quiet one. With 5 s, only the project's model finished there and no winner was found.
ROOMY_S = 60


def test_the_margin_keeps_the_projects_model_as_the_engine_does(reference_dir, tmp_path):
    """A winner not better than the project's model by the project's ``margin`` is turned down
    as the engine's background search turns it down (one rule): the project's own model is
    saved, its selection saying it was kept and why; by a margin it beats, the winner is."""
    from gesturemap.live.trainer import search_verdict

    bad = {"kind": "gmm", "params": {"gaussians": 1, "relative_regularization": 5.0}}
    folder = tmp_path / "kept"
    _project(folder, reference_dir, 3, model={**bad, "auto": {"budget_s": ROOMY_S, "margin": 0.6}})
    out = _train(str(folder))
    assert out.returncode == 0, out.stderr
    trained = Project.load(folder).trained
    sel = gm.models.selection_of(trained)
    first = sel["candidates"][0]
    best = max(c["cv_score"] for c in sel["candidates"] if c["cv_score"] is not None)
    assert first["cv_score"] < best < first["cv_score"] + 0.6  # the winner, turned down
    assert trained.kind == "gmm" and trained.relative_regularization == 5.0
    assert sel["chosen"] == 0 and sel["model"] == "gmm" and sel["cv_score"] == first["cv_score"]
    assert sel["reason"].startswith("kept the project's model over ")
    assert search_verdict({**sel, "chosen": 1, "cv_score": best}, 0.6) in sel["reason"]
    assert f"note: {sel['reason']}" in out.stdout
    assert f"chose project's model (gmm) (CV {first['cv_score']:.3f}" in out.stdout
    folder = tmp_path / "swapped"
    _project(folder, reference_dir, 3, model={**bad, "auto": {"budget_s": ROOMY_S, "margin": 0.3}})
    out = _train(str(folder))
    assert out.returncode == 0, out.stderr
    sel = gm.models.selection_of(Project.load(folder).trained)
    assert sel["chosen"] != 0 and sel["reason"] is None


def test_train_auto_keeps_the_projects_run_time_settings(reference_dir, tmp_path):
    """The winner saved by ``train --auto`` has the project's run-time settings its family
    has (``decision``), as the engine's search gives them."""
    folder = tmp_path / "proj"
    _project(folder, reference_dir, 3, model={
        "kind": "gmm", "params": {"gaussians": 1, "relative_regularization": 5.0,
                                  "decision": "decaying"}})
    out = _train(str(folder), "--auto", "--budget", str(ROOMY_S))
    assert out.returncode == 0, out.stderr
    trained = Project.load(folder).trained
    assert trained.kind != "gmm" and trained.decision == "decaying"
