"""The recent projects (File > Open recent), kept in the user's settings."""

from __future__ import annotations

from typing import Any

__all__ = ["KEPT", "in_front", "recent_list"]

#: Projects the menu lists.
KEPT = 8


def recent_list(value: Any) -> list[str]:
    """The folders a settings value holds: Qt's settings file gives a list of one folder back
    as that folder's name alone (and a damaged file anything at all)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [v for v in value if isinstance(v, str) and v]


def in_front(folders: list[str], first: list[str]) -> list[str]:
    """``folders`` with each of ``first`` moved (or added) to the front, in turn."""
    for folder in first:
        folders = [folder] + [f for f in folders if f != folder]
    return folders[:KEPT]
