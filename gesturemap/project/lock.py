"""One writer per project folder: an advisory lock that other gesturemap processes respect.

Two processes writing one project (``gesturemap run`` twice, ``gesturemap import`` or
``restore`` beside a running window) would both number their new takes from the same id, and
the second take's files would be skipped because the first one's are there: a take lost
without a word. So a process that writes a project holds ``.gesturemap-lock`` in its folder:

- a running engine (``gesturemap run``, the window) holds it from ``start()`` to ``stop()``;
- every :meth:`Project.save` / :meth:`Project.save_take` holds it while it writes.

A second writer is refused with :class:`ProjectBusy`, which names the process that holds it
(its pid, command and since when); nothing is written and nothing in memory is lost. Readers
(``Project.load``, ``gesturemap eval``, ``export``) never need it: a load that
meets a save under way reads the folder again.

The lock is ``flock(2)`` on that file: the system drops it when its process ends, however it
ends, so a crash never leaves a project locked (the file itself stays, harmless). A process
that gives the lock back removes the file first, so a project closed normally keeps no trace
of it; one that locked the file just as it was removed locks the folder's new one instead.
Within one process the lock is counted, so the engine's saves while it runs, or a window and
its engine in one process, never refuse each other. A child process forked while it is held
(the trainer) does not hold it. Where ``fcntl`` does not exist (Windows), nothing is locked.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ProjectBusy

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "FolderHold", "ProjectBusy", "acquire", "check_free", "describe",
           "holder", "holding", "release"]

#: the lock file inside a project folder (never a take, never listed in project.json)
LOCK_FILE = ".gesturemap-lock"


@dataclass
class _Held:
    fd: int
    count: int
    path: Path | None = None


_held: dict[Path, _Held] = {}
#: the errors of a folder this process cannot write (then there is no lock to take)
_CANNOT_WRITE = {errno.EROFS, errno.EACCES, errno.EPERM}
#: the errors of a file system that has no locks
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}
_guard = threading.Lock()


def _key(folder: Path) -> Path:
    return Path(os.path.realpath(folder))


def _read_info(path: Path) -> dict[str, Any] | None:
    from ..utils.reading import read_regular_file

    try:  # a regular file of a few bytes: never a FIFO that would hang the refused process
        info = json.loads(read_regular_file(path, max_bytes=4096).decode("utf-8"))
    except (OSError, ValueError):  # FormatError included
        return None
    return info if isinstance(info, dict) else None


def _command() -> str:
    first = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    if first.parent.name == "gesturemap" and first.name in ("cli.py", "__main__.py"):
        first = Path("gesturemap")  # `python -m gesturemap.cli run ...`: the command it is
    return " ".join([first.name, *sys.argv[1:]])[:300]


def acquire(folder: str | os.PathLike[str]) -> None:
    """Hold ``folder``'s lock for this process (counted: call :func:`release` as often).

    A folder this process cannot write (read-only, no permission) is taken as held: nothing
    can be written there to guard, and a project on a read-only medium must still play. So is
    a folder on a file system without locks (unguarded, as before the lock existed).

    Raises
    ------
    ProjectBusy
        If another process holds it.
    OSError
        If the lock file cannot be created for another reason (the folder is missing).
    """
    if fcntl is None:  # pragma: no cover
        return
    key = _key(Path(folder))
    with _guard:
        held = _held.get(key)
        if held is not None:
            held.count += 1
            return
        path = key / LOCK_FILE
        fd = _lock_file(path, Path(folder))
        if fd < 0:
            _held[key] = _Held(-1, 1)
            return
        info = {"pid": os.getpid(), "command": _command(),
                "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        try:  # who holds it, for the message a refused process gives
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        except OSError:
            pass
        _held[key] = _Held(fd, 1, path)


def _lock_file(path: Path, folder: Path) -> int:
    """Open and lock ``path``: its descriptor, or -1 where nothing can be locked (a read-only
    folder, a file system without locks). Raises ProjectBusy if another process holds it."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as error:
            if error.errno not in _CANNOT_WRITE:
                raise
            fd = _read_only_lock(path, folder)
            if fd < 0:
                # a read-only folder (a project on a locked medium, a shared install):
                # nothing can write it, so there is nothing to guard; playing it must work
                return -1
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ProjectBusy(folder, _read_info(path)) from None
        except OSError as error:
            os.close(fd)
            if error.errno not in _NO_LOCKS:
                raise
            # a file system without locks (some network or FUSE ones): the folder is used
            # as before the lock existed, unguarded
            return -1
        except BaseException:
            os.close(fd)
            raise
        if _still_there(fd, path):
            return fd
        # the holder released it and removed the file between our open and our lock: this
        # lock is on a file no other process will ever open; lock the folder's file anew
        os.close(fd)


def _read_only_lock(path: Path, folder: Path) -> int:
    """A descriptor to lock ``path`` by when it cannot be opened for writing but the folder
    can be written (another user's lock file, left behind with mode 0644: its takes can still
    be written, so they must still be guarded; flock needs no write access); else -1."""
    if not (path.exists() and os.access(folder, os.W_OK)):
        return -1
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return -1


def _still_there(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        now = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    opened = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino)


def release(folder: str | os.PathLike[str]) -> None:
    """Give back one :func:`acquire` of ``folder``; the last one unlocks it. A folder this
    process does not hold is ignored."""
    if fcntl is None:  # pragma: no cover
        return
    key = _key(Path(folder))
    with _guard:
        held = _held.get(key)
        if held is None:
            return
        held.count -= 1
        if held.count > 0:
            return
        del _held[key]
        if held.fd < 0:  # a read-only folder: nothing was locked
            return
        try:
            # removed while still locked: a process waiting for it then finds it gone (or
            # locks a file no longer there, and tries again: _lock_file)
            if held.path is not None and _still_there(held.fd, held.path):
                os.unlink(held.path)
        except OSError:
            pass  # left behind, harmless: the next holder locks it as it is
        finally:
            try:
                fcntl.flock(held.fd, fcntl.LOCK_UN)
            finally:
                os.close(held.fd)


def describe(folder: str | os.PathLike[str], **info: Any) -> None:
    """Add ``info`` (JSON values) to what this process recorded in the lock of ``folder``,
    which it holds: e.g. where a running engine takes control messages (``osc``), so that
    another gesturemap process refused the project can ask the engine instead. A folder this
    process does not hold, or cannot write, is left alone."""
    if fcntl is None:  # pragma: no cover
        return
    key = _key(Path(folder))
    with _guard:
        held = _held.get(key)
        if held is None or held.fd < 0:
            return
        try:
            text = os.pread(held.fd, 4096, 0).decode("utf-8")
            old = json.loads(text) if text else {}
        except (OSError, ValueError):
            old = {}
        body = json.dumps({**(old if isinstance(old, dict) else {}), **info})
        try:
            os.ftruncate(held.fd, 0)
            os.pwrite(held.fd, body.encode("utf-8"), 0)
        except OSError:
            pass


@contextmanager
def holding(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``folder``'s lock for the ``with`` block (see :func:`acquire`)."""
    acquire(folder)
    try:
        yield
    finally:
        release(folder)


def holder(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """None if this process may write ``folder`` now (free, or held by this process); else
    what the holding process recorded (``pid``, ``command``, ``since``; empty if unreadable).
    A look only: the answer can change at once."""
    if fcntl is None:  # pragma: no cover
        return None
    key = _key(Path(folder))
    path = key / LOCK_FILE
    with _guard:
        if key in _held or not path.is_file():
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_info(path) or {}
        finally:
            os.close(fd)  # closing drops a lock this probe took
        return None


class FolderHold:
    """The lock of one folder at a time, for a long-lived writer (the engine: from its start
    to its stop, and to the new folder after a "save as")."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        #: what the holder tells other processes in the lock (see :func:`describe`)
        self.info: dict[str, Any] = {}

    def describe(self, **info: Any) -> None:
        """Record ``info`` in the held folder's lock, and in any folder held after a move."""
        self.info.update(info)
        if self.folder is not None:
            describe(self.folder, **self.info)

    def move(self, folder: Path | None) -> None:
        """Hold ``folder``'s lock instead of the one held so far (None: hold none). A folder
        that does not exist yet is left to its first save, which locks it while it writes.

        Raises
        ------
        ProjectBusy
            If another process holds ``folder``; the lock held so far is kept.
        """
        if folder is not None and (folder == self.folder or not Path(folder).is_dir()):
            return
        if folder is not None:
            acquire(folder)
        if self.folder is not None:
            release(self.folder)
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None and self.info:
            describe(self.folder, **self.info)


def check_free(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`ProjectBusy` if another process writes ``folder`` now: the look a command
    or the window takes before any work, so a busy project is refused at once (the saves
    hold the lock themselves)."""
    busy = holder(folder)
    if busy is not None:
        raise ProjectBusy(Path(folder), busy)


def _forget_in_child() -> None:
    # A forked child shares the parent's lock through the inherited descriptors: closing them
    # (never unlocking, which would unlock the parent too) leaves the child holding nothing.
    global _guard
    for held in _held.values():
        if held.fd < 0:
            continue
        try:
            os.close(held.fd)
        except OSError:
            pass
    _held.clear()
    _guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
