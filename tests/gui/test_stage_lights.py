"""The stage view's lights say the whole of what they have to say, read from across a room."""

from __future__ import annotations

import numpy as np
from PySide6 import QtGui

from gesturemap.gui.stage import StageView
from gesturemap.gui.synth_panel import audio_light


def _ink_columns(image: QtGui.QImage, top: int) -> np.ndarray:
    """Columns of ``image`` below row ``top`` holding anything but the background."""
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint32, count=image.bytesPerLine() // 4 * h)
    rows = pixels.reshape(h, -1)[top:, :w]
    return np.flatnonzero((rows != rows[-1, 0]).any(axis=0))


def test_the_sound_light_shows_the_whole_of_a_lost_audio_server(qtbot):
    """The audio server gone: the light's line was cut at both ends on a 1280-pixel screen
    ("r gone (JACK stopped?): silent until gesturemap starts again; OSC anc")."""
    stage = StageView()
    qtbot.addWidget(stage)
    stage.resize(1280, 720)
    stage.show()
    stage.audio.set_state(*audio_light({"audio_callbacks": 5, "audio_lost": True}))
    qtbot.waitExposed(stage)
    light = stage.audio
    ink = _ink_columns(light.grab().toImage(), light.diameter + 24)
    assert len(ink), "no detail drawn"
    assert ink[0] > 0 and ink[-1] < light.width() - 1, (ink[0], ink[-1], light.width())


def test_the_sound_light_is_off_with_no_audio_and_says_why(qtbot, tmp_path):
    """Opened with --no-audio nothing sounds here: the stage view's sound light was green,
    showing the OSC output as if it were sound."""
    from gesturemap.project.default import default_project

    from .windows import open_window

    window = open_window(qtbot, default_project(), tmp_path / "p", audio=False)
    stage = window.show_stage(full_screen=False)
    out = window.engine.output.settings

    def says_off() -> None:
        assert (stage.audio.state, stage.audio.detail) == ("off", "off (opened with --no-audio)")
        assert "--no-audio" in stage.audio.toolTip()
        assert f"OSC to {out.host}:{out.port}" in stage.audio.toolTip()

    says_off()  # from the moment it shows
    # and once the window has read the engine's health (the status bar's light) and redrawn
    qtbot.waitUntil(lambda: window.audio_light.text() == "audio: off (opened with --no-audio)",
                    timeout=30000)
    window.refresh()
    says_off()
    assert "--no-audio" in window.audio_light.toolTip()
    stage.close()
    window.close()


def test_the_sound_light_is_off_with_the_engine_inside_the_window(qtbot, tmp_path):
    """A window whose engine runs on one of its threads has no built-in synth: its stage view's
    sound light showed the OSC output, green, as if sound played."""
    from gesturemap.project.default import default_project

    from .windows import open_window

    window = open_window(qtbot, default_project(), tmp_path / "p", engine="thread")
    stage = window.show_stage(full_screen=False)
    out = window.engine.output.settings
    said = "off (engine inside the window: no built-in synth)"

    def says_off() -> None:
        assert (stage.audio.state, stage.audio.detail) == ("off", said)
        assert "no built-in synth" in stage.audio.toolTip()
        assert f"OSC to {out.host}:{out.port}" in stage.audio.toolTip()

    says_off()  # from the moment it shows
    qtbot.waitUntil(lambda: window.audio_light.text() == f"audio: {said}", timeout=30000)
    window.refresh()
    says_off()
    assert "no built-in synth" in window.audio_light.toolTip()
    stage.close()
    window.close()
