"""The recent projects (File > Open recent), in a JSON file of gesturemap's own.

The file is ``recent.json`` in gesturemap's folder under the user's configuration folder
(:func:`recent_file`). It is read once, as the window opens, and written on a thread of its
own: the menu follows at once, the file a moment later, and closing the window waits for it
(briefly). Nothing in it waits on a lock another program holds: Qt's settings file, where the
list used to be kept, is locked by every gesturemap writing it, and a window waited as long as
another held it. Each write is atomic (a temporary file renamed over the file): two windows
writing at once leave the one list or the other, never a mix; the last written wins.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import GesturemapError
from ..utils.storage import read_json, write_json

__all__ = ["FORMAT", "KEPT", "RecentProjects", "in_front", "read_recent", "recent_file",
           "recent_list"]

logger = logging.getLogger(__name__)

#: Projects the menu lists.
KEPT = 8
#: The file's format name (version 1).
FORMAT = "gesturemap.recent"

#: The writer threads of this process take turns: each reads the file and writes it back
#: (the window's thread never takes it).
_FILE_TURN = threading.Lock()


def recent_file() -> Path:
    """The file of recent projects: ``gesturemap/recent.json`` where this platform keeps a
    user's settings (Qt's ``QStandardPaths``: ``$XDG_CONFIG_HOME``, default ``~/.config``, on
    Linux; ``~/Library/Preferences`` on macOS; ``%LOCALAPPDATA%`` on Windows)."""
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home()) / "gesturemap" / "recent.json"


def recent_list(value: Any) -> list[str]:
    """The folders a stored value holds: Qt's settings file gives a list of one folder back
    as that folder's name alone, and a damaged or hand-edited file anything at all."""
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


def read_recent(path: Path) -> list[str] | None:
    """The folders listed in ``path``, newest first; None when there is no file yet, and an
    empty list (logged) when it is damaged: a menu with nothing in it, not a window that
    cannot open."""
    if not os.path.lexists(path):
        return None
    try:
        document = read_json(path, format=FORMAT, max_version=1)
    except GesturemapError as exc:
        logger.warning("the recent projects are not listed: %s", exc)
        return []
    return recent_list(document.get("folders"))[:KEPT]


def _legacy_list() -> list[str]:
    """The list Qt's settings held, for a first start with this file: reading them takes no
    lock (Qt locks its settings file only to write it)."""
    from PySide6 import QtCore

    return recent_list(QtCore.QSettings("gesturemap", "gesturemap").value("recent"))[:KEPT]


def _applied(folders: list[str], changes: list[str | None]) -> list[str]:
    """``folders`` after ``changes``, oldest first: a folder opened (put first), or None for
    the list cleared."""
    for change in changes:
        folders = [] if change is None else in_front(folders, [change])
    return folders


class RecentProjects:
    """The recent-projects list of one window: :attr:`folders`, newest first.

    Parameters
    ----------
    path : path, optional
        The file (default :func:`recent_file`).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else recent_file()
        stored = read_recent(self.path)
        #: what a first start found in Qt's settings: the base of the file's first write
        self._legacy = _legacy_list() if stored is None else []
        self.folders = self._legacy if stored is None else stored
        self._lock = threading.Lock()
        #: changes not yet written, oldest first (a folder put first; None: list cleared)
        self._pending: list[str | None] = []
        self._writer: threading.Thread | None = None
        self._written = threading.Event()
        self._written.set()

    def remember(self, folder: str | Path) -> None:
        """Put ``folder`` first in the list now, and in the file in the background (with
        what another window wrote there meanwhile)."""
        path = str(Path(folder).resolve())
        self.folders = in_front(self.folders, [path])
        self._queue(path)

    def clear(self) -> None:
        """Empty the list, now and in the file."""
        self.folders = []
        self._queue(None)

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait (at most ``timeout_s``) for what was remembered to be written; True if it was."""
        return self._written.wait(timeout_s)

    def _queue(self, change: str | None) -> None:
        with self._lock:
            self._pending.append(change)
            self._written.clear()
            if self._writer is None:
                self._writer = threading.Thread(target=self._write, daemon=True,
                                                name="gesturemap-recent")
                self._writer.start()

    def _write(self) -> None:
        while True:
            with self._lock:
                pending, self._pending = self._pending, []
                if not pending:
                    self._writer = None
                    self._written.set()
                    return
            with _FILE_TURN:
                self._write_file(pending)

    def _write_file(self, changes: list[str | None]) -> None:
        stored = read_recent(self.path)
        folders = _applied(self._legacy if stored is None else stored, changes)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json(self.path, {"folders": folders}, format=FORMAT, version=1)
        except (OSError, GesturemapError) as exc:  # the menu lists them meanwhile
            logger.warning("the recent projects could not be saved: %s", exc)
