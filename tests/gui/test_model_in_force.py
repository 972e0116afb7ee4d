"""The Model tab shows the model settings in force after a scene recall, and its "Apply and
retrain" never retrains with stale ones (window offscreen, the engine in its process)."""

from __future__ import annotations

from gesturemap.project import Project

from ..stage_helpers import project_with_scenes
from .windows import open_window


def _scenes_on_two_models(folder):  # noqa: ANN001, ANN202
    """The scenes project: "plain" a GMM of 1 gaussian, "swapped" of 3 with a relative
    regularization of 0.05; the project opens with "plain"'s settings."""
    project_with_scenes(folder)
    project = Project.load(folder)
    plain = dict(project.model)
    project.save_scene("plain")
    swapped = project.scene("swapped")
    project.trained = swapped.trained
    project.model = {"kind": "gmm", "params": {**plain["params"], "gaussians": 3,
                                               "relative_regularization": 0.05}}
    project.save_scene("swapped")
    project.model = plain
    return project


def test_the_model_tab_follows_a_scene_recall(qtbot, tmp_path):
    project = _scenes_on_two_models(tmp_path / "piece")
    window = open_window(qtbot, project, tmp_path / "piece")
    qtbot.waitUntil(lambda: window.scene_names() == ["plain", "swapped"], timeout=60000)
    panel = window.model_panel
    assert panel.editors["gaussians"].value() == 1
    assert window.recall_scene("swapped")
    qtbot.waitUntil(lambda: window.project.model["params"]["gaussians"] == 3, timeout=30000)
    qtbot.waitUntil(lambda: panel.editors["gaussians"].value() == 3, timeout=30000)


def test_a_model_edit_survives_a_scene_recall_and_apply_retrains_the_scene(qtbot, tmp_path):
    """A parameter the musician changed (not yet applied) keeps their value; the others show
    the scene's, and "Apply and retrain" sends the scene's settings with the one edit."""
    project = _scenes_on_two_models(tmp_path / "piece")
    window = open_window(qtbot, project, tmp_path / "piece")
    qtbot.waitUntil(lambda: window.scene_names() == ["plain", "swapped"], timeout=60000)
    panel = window.model_panel
    panel.editors["absolute_regularization"].setText("0.002")
    assert window.recall_scene("swapped")
    qtbot.waitUntil(lambda: panel.editors["gaussians"].value() == 3, timeout=30000)
    assert panel.editors["absolute_regularization"].text() == "0.002"
    assert panel.editors["relative_regularization"].value() == 0.05
    assert panel.apply()
    qtbot.waitUntil(lambda: window.project.model["params"].get("absolute_regularization")
                    == 0.002, timeout=30000)
    params = window.project.model["params"]
    assert params["gaussians"] == 3 and params["relative_regularization"] == 0.05
