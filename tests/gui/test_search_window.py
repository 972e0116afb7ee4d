"""The window: what the background model search chose (and its CV score), and the reset key."""

from __future__ import annotations

from PySide6 import QtCore

import gesturemap as gm
from gesturemap.gui.panels import ModelPanel
from gesturemap.project import Project

from .windows import open_window


def _project(reference_dir):
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    project = Project("search-window", model={"kind": "gmm", "params": {"gaussians": 1},
                                              "auto": {"budget_s": 3, "margin": 0.0}})
    for rec in ds:
        project.add_take(rec.inputs[::4], rec.label)
    return project


def test_the_window_shows_the_search_and_resets_on_its_key(qtbot, tmp_path, reference_dir):
    window = open_window(qtbot, _project(reference_dir), tmp_path / "proj")
    window.train()
    qtbot.waitUntil(lambda: window.engine.trainings >= 1, timeout=60000)
    # the search reports what it chose (or kept) with a CV score
    qtbot.waitUntil(lambda: "search chose" in window.search_status.text()
                    or "search kept" in window.search_status.text(), timeout=120000)
    assert "CV " in window.search_status.text()
    search = window.engine.stats()["search"]
    assert f"{search['cv_score']:.2f}" in window.search_status.text()
    # F5 (or a pedal's PageDown): a gesture starts, the engine resets the model's stream
    qtbot.keyClick(window, QtCore.Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: (window.engine.stats().get("resets") or {}).get("trigger") == 1,
                    timeout=10000)
    qtbot.waitUntil(lambda: "trigger 1" in window.search_status.text(), timeout=5000)


def test_the_model_panel_keeps_the_search_and_onset_settings(qtbot):
    sent = []
    panel = ModelPanel(sent.append)
    qtbot.addWidget(panel)
    panel.show_settings({"kind": "hhmm", "params": {"states": 5},
                         "auto": {"budget_s": 7.0}, "onset": True})
    assert panel.search.isChecked() and panel.onset.isChecked()
    assert panel.settings() == {"kind": "hhmm", "params": {"states": 5},
                                "auto": {"budget_s": 7.0}, "onset": True}
    panel.onset.setChecked(False)
    assert "onset" not in panel.settings()
    panel.show_settings({"kind": "gmm", "params": {}})
    assert not panel.search.isChecked()
    panel.search.setChecked(True)
    assert panel.settings()["auto"] is True
    Project("x", model=panel.settings())  # a project accepts what the panel sends


def test_a_discarded_search_says_what_changed():
    from gesturemap.gui.search_status import search_text

    text = search_text({"state": "discarded", "cv_score": 1.0,
                        "message": "the takes and the model settings changed during the search"})
    assert text == ("search result discarded: the takes and the model settings changed during "
                    "the search")
