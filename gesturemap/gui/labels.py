"""Lines of text that must not widen the window.

A class name is the musician's, of any length. Shown whole in a line of the monitor, the
"why?" strip or the distinctness meter, an 80-character name widened the window beyond the
screen and squeezed the class list's buttons to "enam" and "Delet". Those lines take the
width the window gives them (a word too long for it is cut, not the window widened), and a
long name is shortened in the middle in them; the class list shows it whole.
"""

from __future__ import annotations

from PySide6 import QtWidgets

__all__ = ["NAME_SHOWN", "never_widens", "shown_name"]

#: The longest class name shown whole in a line of text; longer ones keep both ends.
NAME_SHOWN = 40


def shown_name(name: object, limit: int = NAME_SHOWN) -> str:
    """``name`` as a line shows it: whole up to ``limit`` characters, else its start and its
    end around an ellipsis (names often differ at the end: "swipe left", "swipe right")."""
    text = str(name)
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head):]}"


def never_widens(*labels: QtWidgets.QLabel) -> None:
    """Let each label take the width its layout gives it, whatever its text asks for."""
    for label in labels:
        policy = label.sizePolicy()
        policy.setHorizontalPolicy(QtWidgets.QSizePolicy.Policy.Ignored)
        label.setSizePolicy(policy)
        label.setMinimumWidth(1)
