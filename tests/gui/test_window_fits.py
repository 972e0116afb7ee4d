"""The window fits a laptop's screen (1366 x 768, less a panel and a title bar): before, the
Model tab's form (spotting, per-class and per-output editors) set the window's least height to
about 1,100 pixels, so its bottom was off screen. The form now scrolls."""

from __future__ import annotations

import pytest

from gesturemap.default_project import default_project
from gesturemap.gui.window import MainWindow

pytestmark = pytest.mark.timeout(120)


def test_the_window_fits_a_laptop_screen(qtbot, tmp_path):
    window = MainWindow(default_project(), autosave_dir=tmp_path / "autosave", osc_in=None,
                        trainer="thread", engine="thread", audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    for page in range(window.tabs.count()):  # whichever tab is open
        window.tabs.setCurrentIndex(page)
        qtbot.wait(20)
        least = window.minimumSizeHint()
        assert least.width() <= 1366 and least.height() <= 700, window.tabs.tabText(page)
    window.resize(1280, 700)
    qtbot.wait(50)
    assert window.height() <= 700  # the window manager may make it this small
    window.tabs.setCurrentWidget(window.model_panel)
    qtbot.wait(20)
    assert window.model_panel.apply_button.isVisibleTo(window)  # reached by scrolling
    window.close()
