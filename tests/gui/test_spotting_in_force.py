"""The Model tab's spotting settings follow a scene recall that changes only them, keeping
what the musician is typing, and its "Apply and retrain" never sends the scene's thresholds
back to the ones left behind (window offscreen, the engine in its process)."""

from __future__ import annotations

from gesturemap.project import Project

from ..stage_helpers import project_with_scenes
from .windows import open_window


def _scenes_on_two_spottings(folder):  # noqa: ANN001, ANN202
    """The scenes project, spotting: "plain" at a relative threshold of 0.5, "swapped" at 0.8
    holding 7 frames, the same model settings otherwise; it opens with "plain"'s."""
    project_with_scenes(folder)
    project = Project.load(folder)
    plain = {**project.model, "spotting": {"relative_threshold": 0.5}}
    project.model = plain
    project.save_scene("plain")
    project.trained = project.scene("swapped").trained
    project.model = {**plain, "spotting": {"relative_threshold": 0.8, "hold_frames": 7}}
    project.save_scene("swapped")
    project.model = plain
    return project


def test_the_spotting_settings_follow_a_recall_and_apply_keeps_them(qtbot, tmp_path):
    window = open_window(qtbot, _scenes_on_two_spottings(tmp_path / "piece"),
                         tmp_path / "piece")
    qtbot.waitUntil(lambda: window.scene_names() == ["plain", "swapped"], timeout=60000)
    fields = window.model_panel.spotting.fields
    assert fields["relative_threshold"].text() == "0.5"
    fields["min_duration"].setText("0.4")  # the musician's own edit, not applied yet
    assert window.recall_scene("swapped")
    qtbot.waitUntil(lambda: window.project.model["spotting"].get("hold_frames") == 7,
                    timeout=30000)
    qtbot.waitUntil(lambda: fields["relative_threshold"].text() == "0.8", timeout=30000)
    assert fields["hold_frames"].text() == "7"
    assert fields["min_duration"].text() == "0.4"
    assert window.model_panel.apply()
    qtbot.waitUntil(lambda: window.project.model["spotting"].get("min_duration") == 0.4,
                    timeout=30000)
    # the scene's settings stay in force: only the edit was new
    spotting = window.project.model["spotting"]
    assert spotting["relative_threshold"] == 0.8 and spotting["hold_frames"] == 7
