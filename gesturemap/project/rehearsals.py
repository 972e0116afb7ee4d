"""Rehearsals a project keeps, in ``rehearsals/`` inside its folder.

A rehearsal is the performer moving as in the piece, without the gestures (or a run-through
with its gestures labelled): what ``gesturemap audit`` replays to count false triggers, and
what the spotter's second opinions are trained from. It is never a take: the model does not
learn from it. A rehearsal recorded in the window exists nowhere else, so the project keeps it
(a take is kept as soon as it ends for the same reason); a file recorded elsewhere is kept
when the performer asks. Either way it is there for the next audit, and for training the
second opinions again after a retraining dropped them.

Each is a stream file, as ``gesturemap audit`` reads one: ``X_concat`` (T, D) raw sensor
frames, ``labels_concat`` one label per frame (``null`` for ordinary movement), ``lengths``,
and, for one recorded in the window, ``times_concat`` (T,) the frames' times in seconds. Files
are written atomically under the project's lock (:mod:`.lock`), never overwritten, and a
removed one moves to ``trash/rehearsals/``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import GesturemapError
from ..utils.storage import atomic_write_bytes, save_npz
from .files import TRASH_DIR
from .lock import holding
from .takes import PathLike

__all__ = ["REHEARSALS_DIR", "copy_rehearsals", "keep_rehearsal_file", "kept_rehearsals",
           "new_rehearsal_name", "remove_rehearsal", "save_rehearsal"]

#: the folder of a project's rehearsals
REHEARSALS_DIR = "rehearsals"
#: a kept rehearsal's file name: a plain name (no folder), ending in .npz
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.+-]{0,99}\.npz")
#: the largest rehearsal file kept (a ten-minute run-through of 60 channels at 100 frames/s is
#: about 30 MB)
MAX_REHEARSAL_BYTES = 512 * 1024 * 1024


def kept_rehearsals(folder: PathLike | None) -> list[Path]:
    """The rehearsal files ``folder`` keeps, the oldest kept first, regular files only."""
    if folder is None:
        return []
    directory = Path(folder) / REHEARSALS_DIR
    if directory.is_symlink():  # a link out of the project: nothing in it is the project's
        return []
    try:
        found = [p for p in directory.iterdir()
                 if _NAME.fullmatch(p.name) and p.is_file() and not p.is_symlink()]
    except OSError:  # no rehearsal kept yet (or not readable): none to offer
        return []
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))


def new_rehearsal_name(folder: PathLike | None = None, stem: str | None = None,
                       now: float | None = None, taken: Iterable[str] = ()) -> str:
    """A file name for a new rehearsal: ``stem`` (a kept file's own name, cleaned) or
    ``rehearsal-YYYYMMDD-HHMMSS``, with ``-2``, ``-3``... when ``folder`` keeps one of that
    name already, or it is one of the names ``taken`` (asked for, not yet written)."""
    base = re.sub(r"[^A-Za-z0-9 _.+-]", "_", stem or "").strip(" ._-")[:80]
    if not base:
        base = time.strftime("rehearsal-%Y%m%d-%H%M%S", time.localtime(now))
    taken = {p.name for p in kept_rehearsals(folder)} | set(taken)
    name, k = f"{base}.npz", 1
    while name in taken:
        k += 1
        name = f"{base}-{k}.npz"
    return name


def _target(folder: PathLike, name: str) -> Path:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise GesturemapError(f"{name!r} is not a rehearsal's file name: letters, digits, "
                              "spaces and _.+- ending in .npz, no folder")
    path = Path(folder) / REHEARSALS_DIR / name
    if path.parent.is_symlink() or (path.parent.exists() and not path.parent.is_dir()):
        raise GesturemapError(f"{path.parent} is a link or not a folder: a project keeps its "
                              "rehearsals in a folder of its own; replace it by a folder")
    if path.exists() or path.is_symlink():
        raise GesturemapError(f"{REHEARSALS_DIR}/{name} is kept already: a rehearsal is never "
                              "overwritten; choose another name")
    return path


def save_rehearsal(folder: PathLike, name: str, frames: np.ndarray, times: np.ndarray,
                   labels: np.ndarray | None = None) -> Path:
    """Keep a rehearsal recorded live: ``frames`` (T, D) raw sensor frames at ``times`` (T,)
    in seconds, ``labels`` one per frame (default every frame ``null``). Written atomically
    into ``folder/rehearsals/name`` under the project's lock; returns its path.

    Raises :class:`GesturemapError` for a taken or bad name, or frames that are not a finite
    (T, D) array with T >= 2 and its times; :class:`~.lock.ProjectBusy` while another process
    writes the folder."""
    x = np.asarray(frames, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2 or x.shape[1] < 1 or t.shape != (len(x),):
        raise GesturemapError(f"a rehearsal of frames {x.shape} at times {t.shape}: expected "
                              "(T, D) frames with T >= 2 and one time each")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t))):
        raise GesturemapError("a rehearsal's frames and times must be finite numbers")
    lab = (np.full(len(x), "null") if labels is None else np.asarray(labels).astype(str))
    if lab.shape != (len(x),):
        raise GesturemapError(f"{lab.shape} labels for {len(x)} frames: give one per frame")
    folder = Path(folder)
    with holding(folder):
        path = _target(folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_npz(path, X_concat=x, labels_concat=lab, lengths=np.array([len(x)]),
                 times_concat=t)
    return path


def keep_rehearsal_file(folder: PathLike, source: PathLike, name: str | None = None) -> Path:
    """Keep a copy of the rehearsal file ``source`` (a stream file, checked by the caller) in
    ``folder/rehearsals/``, under ``name`` (default: its own name, made free); returns the
    copy's path. The bytes are copied as they are, atomically, under the project's lock."""
    source = Path(source)
    size = source.stat().st_size
    if size > MAX_REHEARSAL_BYTES:
        raise GesturemapError(f"{source}: {size / 2**20:.0f} MB, more than a rehearsal of "
                              f"{MAX_REHEARSAL_BYTES // 2**20} MB is kept")
    data = source.read_bytes()
    folder = Path(folder)
    with holding(folder):
        path = _target(folder, name or new_rehearsal_name(folder, source.stem))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    return path


def remove_rehearsal(folder: PathLike, name: str) -> Path:
    """Move a kept rehearsal to ``trash/rehearsals/`` (a free name there), under the project's
    lock; returns where it went. Put it back by moving the file."""
    folder = Path(folder)
    path = folder / REHEARSALS_DIR / name
    if (not isinstance(name, str) or not _NAME.fullmatch(name) or path.parent.is_symlink()
            or path.is_symlink() or not path.is_file()):
        raise GesturemapError(f"the project keeps no rehearsal {name!r}")
    with holding(folder):
        trash = folder / TRASH_DIR / REHEARSALS_DIR
        trash.mkdir(parents=True, exist_ok=True)
        target, k = trash / name, 1
        while target.exists():
            k += 1
            target = trash / f"{Path(name).stem}-{k}.npz"
        os.replace(path, target)
    return target


def copy_rehearsals(source: PathLike, folder: PathLike) -> None:
    """Copy the rehearsals ``source`` keeps that ``folder`` does not (a project saved into a
    new folder takes them along). The caller holds ``folder``'s lock."""
    if Path(source).resolve() == Path(folder).resolve():
        return
    for path in kept_rehearsals(source):
        target = Path(folder) / REHEARSALS_DIR / path.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, path.read_bytes())
            stat = path.stat()  # the order they were kept in stays
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
