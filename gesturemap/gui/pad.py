"""The mouse pad: the mouse or trackpad over a drawing area, as a 4-channel sensor.

A timer samples the pointer at the profile's rate (``sensors/mouse.json``: 100 Hz) and puts
one :class:`~gesturemap.sources.Frame` ``(x, y, vx, vy)`` per tick into the engine's queue:
position normalised to the pad (0 at the left and top, 1 at the right and bottom) and velocity
in those units per second. Sampling on a timer, not on mouse events, gives the steady frame
rate the models expect, including the frames where the hand rests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..sources.base import Frame

__all__ = ["MousePad"]


class MousePad(QtWidgets.QWidget):
    """A drawing area whose pointer position and velocity feed the engine.

    Parameters
    ----------
    put : callable ``put(Frame)``
        Where frames go (the engine's ``queue.put``).
    rate_hz : float, default 100
        Frames per second.
    parent : QWidget, optional
    """

    def __init__(
        self,
        put: Callable[[Frame], object],
        rate_hz: float = 100.0,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._put = put
        self.setMouseTracking(True)
        self.setMinimumSize(220, 220)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding
        )
        self.setToolTip("Move the mouse here: its position and speed are the sensor")
        self._pos = np.array([0.5, 0.5])
        self._last_pos = self._pos.copy()
        self._last_t: float | None = None
        self._velocity = np.zeros(2)
        self.frames = 0
        self.recording = False
        self.trail: deque[tuple[float, float]] = deque(maxlen=60)
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(1000.0 / rate_hz)))
        self._timer.timeout.connect(self.tick)

    # -- feeding ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start sending frames."""
        self._timer.start()

    def stop(self) -> None:
        """Stop sending frames."""
        self._timer.stop()

    #: what the pad says while it is not the sensor (set by the window)
    off_text = "mouse pad off: another sensor feeds the model (Sensor tab)"

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def move_to(self, x: float, y: float) -> None:
        """Put the pointer at ``(x, y)`` in pad units (0..1); the next tick sends it."""
        self._pos = np.clip(np.array([x, y], dtype=np.float64), 0.0, 1.0)

    def tick(self) -> None:
        """Send one frame: the position now and the velocity since the last tick."""
        now = time.perf_counter()
        if self._last_t is not None and now > self._last_t:
            # a light smoothing: a mouse reports positions in whole pixels at its own rate
            raw = (self._pos - self._last_pos) / (now - self._last_t)
            self._velocity = 0.5 * self._velocity + 0.5 * raw
        self._last_t = now
        self._last_pos = self._pos.copy()
        values = np.array([self._pos[0], self._pos[1], self._velocity[0], self._velocity[1]])
        self._put(Frame(now, values, "mouse"))
        self.frames += 1
        self.trail.append((float(self._pos[0]), float(self._pos[1])))
        if self.frames % 3 == 0:  # 33 repaints a second are plenty for the trail
            self.update()

    # -- Qt events --------------------------------------------------------------------------
    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt's name
        p = event.position()
        self.move_to(p.x() / max(1, self.width()), p.y() / max(1, self.height()))

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        rect = self.rect().adjusted(1, 1, -1, -1)
        painter.fillRect(rect, QtGui.QColor("#1d2430"))
        border = QtGui.QColor("#e0413a" if self.recording else "#4a5568")
        painter.setPen(QtGui.QPen(border, 3 if self.recording else 1))
        painter.drawRect(rect)
        painter.setPen(QtGui.QPen(QtGui.QColor("#2d3748"), 1))
        for k in (1, 2, 3):
            x = rect.left() + rect.width() * k / 4
            y = rect.top() + rect.height() * k / 4
            painter.drawLine(QtCore.QPointF(x, rect.top()), QtCore.QPointF(x, rect.bottom()))
            painter.drawLine(QtCore.QPointF(rect.left(), y), QtCore.QPointF(rect.right(), y))
        n = len(self.trail)
        for i, (x, y) in enumerate(self.trail):
            alpha = int(40 + 200 * (i + 1) / n)
            colour = (
                QtGui.QColor(255, 120, 90, alpha)
                if self.recording
                else QtGui.QColor(100, 200, 255, alpha)
            )
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            r = 2 + 5 * (i + 1) / n
            painter.drawEllipse(
                QtCore.QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height()), r, r
            )
        painter.setPen(QtGui.QColor("#a0aec0"))
        painter.drawText(
            rect.adjusted(8, 6, -8, -6),
            int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
            | int(QtCore.Qt.TextFlag.TextWordWrap),
            "mouse pad — move here" if self.active else self.off_text,
        )
        painter.end()
