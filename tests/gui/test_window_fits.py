"""The window fits a laptop's screen (1366 x 768, less a panel and a title bar): before, the
Model tab's form (spotting, per-class and per-output editors) set the window's least height to
about 1,100 pixels, so its bottom was off screen. The form now scrolls."""

from __future__ import annotations

import pytest

from gesturemap.gui.window import MainWindow
from gesturemap.project.default import default_project

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


def test_apply_to_the_synth_is_in_view_at_1280_by_780(qtbot, tmp_path):
    """Its default size: the Synth tab's page is taller than the tab (more so under a long
    audio notice), and "Apply to the synth" was cut off at the bottom of the scrolled page.
    It now stays under the scrolled part."""
    from PySide6 import QtWidgets

    window = _window_at_1280_by_780(qtbot, tmp_path)
    window.audio_error = ("cannot open audio device 'Scarlett 2i2' at 48000 Hz, 2 channels, "
                          "block 128: Invalid device. Output devices: 0: system, 1: pulse, "
                          "2: default, 3: hdmi, 4: dmix")  # a long notice over the page
    window._update_audio()
    window.tabs.setCurrentWidget(window.synth_panel)
    qtbot.wait(50)
    apply = window.synth_panel.findChild(QtWidgets.QPushButton, "apply")
    assert window.size().width() == 1280 and window.size().height() == 780
    assert apply.isVisible() and apply.visibleRegion().boundingRect() == apply.rect()
    window.grab().save(str(tmp_path / "synth-tab.png"))  # to look at when this fails
    window.close()


def test_the_rehearsal_buttons_are_readable_at_1280(qtbot, tmp_path):
    """The Rehearsal tab's row of buttons at 1280 pixels: "Apply the proposed thresholds" was
    squeezed narrower than its label, which was clipped. Every button there is at least as
    wide as its label needs."""
    from PySide6 import QtWidgets

    window = _window_at_1280_by_780(qtbot, tmp_path)
    window.tabs.setCurrentWidget(window.rehearsal)
    qtbot.wait(50)
    assert window.size().width() == 1280
    window.grab().save(str(tmp_path / "rehearsal-tab.png"))  # to look at when this fails
    buttons = window.rehearsal.findChildren(QtWidgets.QPushButton)
    assert window.rehearsal.apply_button in buttons
    for button in buttons:
        assert button.width() >= button.sizeHint().width(), button.text()
    window.close()


def _window_at_1280_by_780(qtbot, tmp_path) -> MainWindow:  # noqa: ANN001
    """The default project's window at its default size; it never asks to save."""
    window = MainWindow(default_project(), autosave_dir=tmp_path / "autosave", osc_in=None,
                        trainer="thread", engine="thread", audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.resize(1280, 780)
    window.show()
    return window
