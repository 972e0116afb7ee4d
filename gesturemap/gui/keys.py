"""Space, the record key, from the number boxes beside the Record button.

A number box (a spin box) claims every printable key for its text, Space included, before
the window's shortcuts see it: a musician who has just set the count-in, a take's length
or a regression target, and then presses Space with the hands on the sensor, recorded
nothing. A space is never part of a number, so these boxes leave Space to the window.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["let_space_record"]


class _SpaceToWindow(QtCore.QObject):
    """An event filter: the box it watches does not claim Space (no modifier), so the
    window's Space shortcut gets it."""

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            event.type() == QtCore.QEvent.Type.ShortcutOverride
            and isinstance(event, QtGui.QKeyEvent)
            and event.key() == QtCore.Qt.Key.Key_Space
            and event.modifiers() == QtCore.Qt.KeyboardModifier.NoModifier
        ):
            event.ignore()  # not overridden: the shortcut fires
            return True
        return False


def let_space_record(box: QtWidgets.QAbstractSpinBox) -> None:
    """Leave Space to the window's record shortcut while ``box`` has the focus."""
    spy = _SpaceToWindow(box)  # a child of the box: it lives and dies with it
    box.installEventFilter(spy)
