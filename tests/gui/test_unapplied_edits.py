"""Closing the window (or opening another project) with a tab's edits not applied asks first:
they were dropped without a word, though the project had no unsaved change (window
offscreen, the engine in its process)."""

from __future__ import annotations

from gesturemap.project.default import default_project

from .windows import open_window


def _never(*_):  # noqa: ANN002, ANN202
    raise AssertionError("asked about changes not applied, though there were none")


def test_closing_with_an_edit_not_applied_asks_and_cancel_keeps_it(qtbot, tmp_path):
    window = open_window(qtbot, default_project(), tmp_path / "p")
    panel = window.model_panel
    states = panel.editors["states"].value()
    panel.editors["states"].setValue(states - 2)  # typed, Apply not pressed
    window.synth_panel.parameters["master_gain"].setValue(0.2)
    asked: list[list[str]] = []
    window._ask_unapplied = lambda tabs: asked.append(tabs) or "cancel"
    window.close()
    assert asked == [["Model", "Synth"]]
    assert window.isVisible() and panel.editors["states"].value() == states - 2
    # applied, and back from the engine: nothing left to ask about
    assert panel.apply() and window.synth_panel.apply()
    qtbot.waitUntil(lambda: window.project.model["params"].get("states") == states - 2
                    and not window._unapplied_tabs(), timeout=30000)
    window._ask_unapplied = _never
    window.close()
    assert not window.isVisible()


def test_a_window_left_as_opened_closes_without_asking(qtbot, tmp_path):
    window = open_window(qtbot, default_project(), tmp_path / "p")
    qtbot.wait(600)  # a few refreshes: the tabs follow what the engine has
    window._ask_unapplied = _never
    window.close()
    assert not window.isVisible()
