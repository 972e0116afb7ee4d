"""The recent projects (File > Open recent), kept in the user's settings.

The settings are read once, as the window opens, and written on a thread of their own: a
settings write rewrites the file and syncs it to disk, waiting for another gesturemap that
writes it at the same moment (Qt locks the file), and on the window's thread each project
opened or saved stood the window still for 20–150 ms on a loaded machine, or for as long as
the other writer held the file. The menu follows at once; the file a moment later, and
closing the window waits for it (briefly).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6 import QtCore

__all__ = ["KEPT", "RecentProjects", "in_front", "recent_list"]

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


def _settings() -> QtCore.QSettings:
    return QtCore.QSettings("gesturemap", "gesturemap")


class RecentProjects:
    """The recent-projects list of one window: :attr:`folders`, newest first."""

    def __init__(self) -> None:
        self.folders = recent_list(_settings().value("recent"))[:KEPT]
        self._lock = threading.Lock()
        #: folders remembered and not yet written, oldest first
        self._pending: list[str] = []
        self._writer: threading.Thread | None = None
        self._written = threading.Event()
        self._written.set()

    def remember(self, folder: str | Path) -> None:
        """Put ``folder`` first in the list now, and in the settings file in the background
        (with what another window wrote there meanwhile)."""
        path = str(Path(folder).resolve())
        self.folders = in_front(self.folders, [path])
        with self._lock:
            self._pending.append(path)
            self._written.clear()
            if self._writer is None:
                self._writer = threading.Thread(target=self._write, daemon=True,
                                                name="gesturemap-recent")
                self._writer.start()

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait (at most ``timeout_s``) for what was remembered to be written; True if it was."""
        return self._written.wait(timeout_s)

    def _write(self) -> None:
        while True:
            with self._lock:
                pending, self._pending = self._pending, []
                if not pending:
                    self._writer = None
                    self._written.set()
                    return
            # a QSettings object of this thread's own: they are reentrant, not shared
            settings = _settings()
            settings.setValue("recent", in_front(recent_list(settings.value("recent")),
                                                 pending))
            settings.sync()  # (a file that cannot be written: the menu lists them meanwhile)
