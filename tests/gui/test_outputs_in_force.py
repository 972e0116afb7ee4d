"""The Outputs tab shows the outputs in force after a scene recall, and its Apply never
sends a stale value back (window offscreen, the engine in its process)."""

from __future__ import annotations

from gesturemap.project import Project

from ..stage_helpers import free_port, project_with_scenes
from .windows import open_window


def _scenes_on_two_routes(folder, port_a: int, port_b: int):  # noqa: ANN001, ANN202
    """The scenes project: "plain" sends to ``port_a`` with no rejection, "swapped" to
    ``port_b`` rejecting below 0.7."""
    project_with_scenes(folder)
    project = Project.load(folder)
    project.outputs = {"extras": True, "port": port_a}
    project.save_scene("plain")
    swapped = project.scene("swapped")
    project.trained = swapped.trained
    project.outputs = {"extras": True, "port": port_b, "reject_below": 0.7}
    project.save_scene("swapped")
    project.outputs = {"extras": True, "port": port_a}
    return project


def _window_on_two_routes(qtbot, tmp_path):  # noqa: ANN001, ANN202
    """A window on the two-route scenes project, its scenes ready: (window, port_a, port_b)."""
    port_a, port_b = free_port(), free_port()
    project = _scenes_on_two_routes(tmp_path / "piece", port_a, port_b)
    window = open_window(qtbot, project, tmp_path / "piece")
    qtbot.waitUntil(lambda: window.scene_names() == ["plain", "swapped"], timeout=60000)
    return window, port_a, port_b


def test_the_outputs_tab_follows_a_scene_recall_and_applies_no_stale_route(qtbot, tmp_path):
    window, port_a, port_b = _window_on_two_routes(qtbot, tmp_path)
    panel = window.outputs_panel
    assert panel.port.value() == port_a
    assert window.recall_scene("swapped")
    qtbot.waitUntil(lambda: panel.port.value() == port_b, timeout=30000)
    assert abs(panel.reject.value() - 0.7) < 1e-9
    panel.extras.setChecked(False)  # one edit of the musician's own, then Apply
    panel.apply_button.click()
    qtbot.waitUntil(lambda: window.project.outputs.get("extras") is False, timeout=30000)
    # the scene's route and threshold stay in force: only the edit was new
    assert window.project.outputs["port"] == port_b
    assert window.project.outputs["reject_below"] == 0.7


def test_an_edit_being_typed_survives_a_scene_recall(qtbot, tmp_path):
    """A field the musician changed (not yet applied) keeps their value; the others follow."""
    window, port_a, port_b = _window_on_two_routes(qtbot, tmp_path)
    panel = window.outputs_panel
    panel.host.setText("localhost")
    assert window.recall_scene("swapped")
    qtbot.waitUntil(lambda: panel.port.value() == port_b, timeout=30000)
    assert panel.host.text() == "localhost"
    assert panel.settings()["port"] == port_b and panel.settings()["reject_below"] == 0.7
