"""Class colours: one colour per class, the same in the class list, the monitor, the dataset
browser and the plots.

A class's colour is the one the musician picked (the project's ``display["class_colors"]``,
keyed by the class's name) or else the palette's colour for its place in the class list.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtGui

__all__ = ["CLASS_PALETTE", "class_colour", "class_colours"]

#: The default class colours, in class order (cycling after eight).
#: The window's dark style (Qt style sheet); the monitor's bars draw light text for it, so a
#: widget shown on its own (a screenshot) takes it too.
WINDOW_STYLE = (
    "QMainWindow, QWidget { background: #171c24; color: #e2e8f0; }"
    "QPushButton { background: #2d3748; border: 1px solid #4a5568;"
    " padding: 5px 10px; border-radius: 3px; }"
    "QPushButton:checked { background: #c53030; }"
    "QListWidget, QTreeWidget, QLineEdit, QSpinBox, QDoubleSpinBox,"
    " QComboBox { background: #1f2633; border: 1px solid #2d3748; }"
    "QTabBar::tab { background: #2d3748; padding: 5px 12px; }"
    "QTabBar::tab:selected { background: #4a5568; }"
)

CLASS_PALETTE = (
    "#4299e1",
    "#ed8936",
    "#48bb78",
    "#e53e3e",
    "#9f7aea",
    "#d69e2e",
    "#38b2ac",
    "#d53f8c",
)


def class_colour(index: int) -> QtGui.QColor:
    """The default colour of the ``index``-th class."""
    return QtGui.QColor(CLASS_PALETTE[index % len(CLASS_PALETTE)])


def class_colours(project: Any) -> dict[str, QtGui.QColor]:
    """Every class's colour, by the class's name (``str(label)``).

    Parameters
    ----------
    project : Project (or the engine's read-only mirror of one)
    """
    picked = (getattr(project, "display", None) or {}).get("class_colors") or {}
    return {
        str(c): QtGui.QColor(picked.get(str(c)) or CLASS_PALETTE[i % len(CLASS_PALETTE)])
        for i, c in enumerate(project.classes)
    }
