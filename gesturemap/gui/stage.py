"""The stage view: a full-screen, minimal monitor readable from across a room.

The likeliest class in very large type, the class bars, and three status lights: the sensor
(frames arriving, and at what rate), the model (running or not) and the sound output (OSC, or
the built-in synth once the project has one). Escape or F11 leaves it.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .monitor import Monitor

__all__ = ["StageView", "StatusLight"]

_LIGHT_COLOURS = {"ok": "#48bb78", "warn": "#ecc94b", "off": "#4a5568", "bad": "#e53e3e"}


class StatusLight(QtWidgets.QWidget):
    """A large round light with a name and a line of detail under it."""

    def __init__(
        self, name: str, parent: QtWidgets.QWidget | None = None, diameter: int = 36
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.state = "off"
        self.detail = ""
        self.diameter = diameter
        # room for a detail of three lines: the sound light's says what to do when the audio
        # server went away, and one line cut at both ends said neither what nor what to do
        self.setMinimumSize(diameter * 5, diameter + 24 + 3 * 16)

    def set_state(self, state: str, detail: str = "") -> None:
        """``state``: "ok", "warn", "bad" or "off"."""
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        d = self.diameter
        p.setBrush(QtGui.QColor(_LIGHT_COLOURS.get(self.state, "#4a5568")))
        p.setPen(QtGui.QPen(QtGui.QColor("#1a202c"), 2))
        p.drawEllipse(QtCore.QRectF((self.width() - d) / 2, 2, d, d))
        p.setPen(QtGui.QColor("#e2e8f0"))
        font = p.font()
        font.setPointSize(12)
        font.setBold(True)
        p.setFont(font)
        centre = QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop
        p.drawText(QtCore.QRectF(0, d + 6, self.width(), 20), centre, self.name)
        font.setBold(False)
        font.setPointSize(9)
        p.setFont(font)
        p.setPen(QtGui.QColor("#a0aec0"))
        p.drawText(QtCore.QRectF(4, d + 24, self.width() - 8, self.height() - d - 24),
                   centre | QtCore.Qt.TextFlag.TextWordWrap, self.detail)
        p.end()


class StageView(QtWidgets.QWidget):
    """Full-screen performance view; the window refreshes it from the same timer."""

    closed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("gesturemap — stage")
        self.setStyleSheet("background: #0b0e13; color: #e2e8f0;")
        self.monitor = Monitor(big_pt=96, row_height=56, bar_pt=16)
        self.sensor = StatusLight("sensor")
        self.model = StatusLight("model")
        self.audio = StatusLight("sound")
        lights = QtWidgets.QHBoxLayout()
        for light in (self.sensor, self.model, self.audio):
            lights.addWidget(light)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(lights)
        layout.addWidget(self.monitor, 1)
        hint = QtWidgets.QLabel("Esc: leave the stage view")
        hint.setStyleSheet("color: #4a5568")
        layout.addWidget(hint, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        for key in ("Escape", "F11"):
            QtGui.QShortcut(QtGui.QKeySequence(key), self, activated=self.close)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.closed.emit()
        super().closeEvent(event)
