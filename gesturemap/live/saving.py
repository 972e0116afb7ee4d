"""Writing the project from the I/O thread, and what the engine does when its folder cannot be
written (a read-only USB stick, permissions, a full disk).

A take, a correction, a trained model or an edit is written by the I/O thread as soon as it
exists. When a write fails, nothing recorded is dropped: the project keeps it in memory, and
the performer hears of it at once and only once per outage:

- a clear line in the log (stderr in ``gesturemap run``): what could not be written, where,
  why, and that it is kept in memory and tried again;
- ``/gesturemap/save_failed WHAT FOLDER WHY`` over OSC (an output setting, ``save_failed``,
  with gesturemap's own messages), and a ``save_failed`` event in the session log;
- ``stats()["not_saved"]`` (what the window shows) and ``stats()["save_failures"]``.

While the folder stays unwritable, every later write is a save of the whole project (every
take not yet on disk, the model, the edits), tried again every :data:`RETRY_S` seconds and one
last time at :meth:`Engine.stop`; the first that succeeds ends the outage (said in the log).
What is still not on disk after that is in :meth:`ProjectSaves.unsaved`, and
:meth:`ProjectSaves.keep_unsaved` writes a whole copy of the project elsewhere
(``gesturemap run`` does so, and exits with code 4).

None of this runs on the frame path: the writes and their retries are the I/O thread's, the
OSC notice is sent by the engine thread between two frames.

A mixin of :class:`gesturemap.live.engine.Engine`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GesturemapError

__all__ = ["RETRY_S", "ProjectSaves"]

log = logging.getLogger("gesturemap.live.saving")

#: While the project's folder cannot be written, the whole project is saved again this often
#: (seconds): a folder made writable again gets what was recorded meanwhile without a restart.
RETRY_S = 5.0


class ProjectSaves:
    """Saves that may fail (mixed into :class:`gesturemap.live.engine.Engine`)."""

    project: Any
    project_dir: Path | None
    command: Any
    _io: Any
    _notice: Any
    _log_event: Any
    _count_error: Any

    def _init_saving(self) -> None:
        #: writes of the project that failed so far (a read-only folder, a full disk...): the
        #: world's doing, not a fault of gesturemap's, so not in ``errors``
        self.save_failures = 0
        #: the outage under way: {"what", "folder", "why", "since"} (replaced whole: stats()
        #: reads it on other threads), None while every write succeeds
        self.not_saved: dict[str, Any] | None = None
        #: rehearsals recorded live whose file could not be written: (name, frames, times)
        self._unsaved_rehearsals: list[tuple[str, np.ndarray, np.ndarray]] = []
        self._retry_due = 0.0
        self._retry_queued = False

    # -- on the I/O thread ----------------------------------------------------------------------
    def _save(self, what: str, folder: Path, write: Callable[[], Any]) -> None:
        """Run ``write`` (saving ``what`` into ``folder``); a failure is said, never raised.
        During an outage the whole project is saved instead: it holds this and whatever
        failed before."""
        if self.not_saved is not None:
            self._save_again()
            return
        try:
            write()
        except Exception as exc:  # noqa: BLE001 - what is not written stays in memory, said
            self._save_failed(what, folder, exc)

    def _save_failed(self, what: str, folder: Path | str | None, exc: BaseException) -> None:
        self.save_failures += 1
        if not isinstance(exc, (OSError, GesturemapError)):
            self._count_error(exc, "io")  # a bug of ours, not the folder's doing: counted too
        first = self.not_saved is None
        self.not_saved = {"what": what, "folder": str(folder), "why": str(exc),
                          "since": time.time() if first else self.not_saved["since"]}
        self._retry_due = time.monotonic() + RETRY_S
        if first:  # once per outage: not a line every few seconds for the whole show
            log.warning("could not save %s into %s: %s. It is kept in memory (with everything "
                        "recorded after it) and saving is tried again every %g s and when "
                        "gesturemap stops: make the folder writable (or free some space) to "
                        "keep it there", what, folder, exc, RETRY_S)
            # the notice goes out from the engine thread, between two frames (the output is
            # the frame path's)
            self.command("_say_not_saved", what, str(folder), str(exc))

    def _save_again(self) -> bool:
        """Save the whole project and the rehearsals waiting; True when all is on disk."""
        folder = self.project_dir
        if folder is None:
            return self.not_saved is None
        try:
            self.project.save(folder)
            self._write_rehearsals(folder)
        except Exception as exc:  # noqa: BLE001 - the outage goes on, said once already
            what = self.not_saved["what"] if self.not_saved else "the project"
            self._save_failed(what, folder, exc)
            return False
        if self.not_saved is not None:
            log.warning("saved the project into %s again: everything recorded since %s is "
                        "on disk", folder, time.strftime("%H:%M:%S",
                                                         time.localtime(self.not_saved["since"])))
            self.not_saved = None
        return True

    def _write_rehearsals(self, folder: Path) -> None:
        from ..project.rehearsals import kept_rehearsals, new_rehearsal_name, save_rehearsal

        while self._unsaved_rehearsals:
            name, frames, times = self._unsaved_rehearsals[0]
            if name in {p.name for p in kept_rehearsals(folder)}:  # (taken meanwhile)
                name = new_rehearsal_name(folder, Path(name).stem)
            save_rehearsal(folder, name, frames, times)
            original = self._unsaved_rehearsals.pop(0)[0]
            self._rehearsal_kept_late(original, name)

    def _rehearsal_kept_late(self, original: str, name: str) -> None:
        """A hook: the rehearsal kept in memory as ``original`` was written at last, as
        ``name``."""

    def _retry_if_due(self) -> None:
        """From the stats thread, once a second: queue a save of the whole project on the I/O
        thread when an outage's next try is due (one queued at a time)."""
        if self.not_saved is None or self._retry_queued or time.monotonic() < self._retry_due:
            return
        self._retry_queued = True

        def retry() -> None:
            self._retry_queued = False
            if self.not_saved is not None:
                self._save_again()
        self._io.put(retry)

    def _last_try(self) -> None:
        """The I/O thread's last job at stop: one more save of the whole project if the last
        ones failed, and the outcome said plainly."""
        if self.not_saved is None or self._save_again():
            return
        lost = self.unsaved()
        if lost is not None:
            log.error("%s", describe_unsaved(lost))

    def _saves_recovered(self) -> None:
        """The whole project was just saved by someone else's job (the window's Save As):
        the outage, if any, is over."""
        if self.not_saved is not None and not self._unsaved_rehearsals:
            log.warning("saved the project into %s: everything recorded is on disk",
                        self.project_dir)
            self.not_saved = None

    # -- on the engine thread -------------------------------------------------------------------
    def _cmd__say_not_saved(self, what: str, folder: str, why: str) -> None:
        self._log_event("save_failed", what=what, folder=folder, why=why)
        self._notice("save_failed", what, folder, why)

    # -- from any thread ------------------------------------------------------------------------
    def unsaved(self) -> dict[str, Any] | None:
        """What the project's folder does not hold (None: nothing is missing): ``folder``,
        ``why`` (the last failure), ``takes`` (their ids), ``model`` (whether the trained
        model is not written), ``rehearsals`` (names of rehearsals recorded live)."""
        state = self.not_saved
        if state is None:
            return None
        folder = self.project_dir or Path(state["folder"])
        takes = [t.id for t in self.project.unsaved_takes(folder)]
        trained = getattr(self.project, "trained", None)
        return {"folder": str(folder), "why": state["why"], "takes": takes,
                "model": trained is not None and self.project.model_file is None,
                "rehearsals": [r[0] for r in list(self._unsaved_rehearsals)]}

    def keep_unsaved(self, folder: str | Path) -> Path:
        """After :meth:`stop`, with :meth:`unsaved` not None: write a whole copy of the project
        into ``folder`` (new or empty; the project's own format, each file atomic, as
        :meth:`Project.save` writes it), with the rehearsals not written, and return it. The
        copy opens as any project does; its ``takes/`` files may be copied into the project's
        own ``takes/`` once that can be written (a take found there is loaded)."""
        folder = Path(folder)
        self.project.save(folder)
        self._write_rehearsals(folder)
        return folder


def describe_unsaved(lost: dict[str, Any]) -> str:
    """What :meth:`ProjectSaves.unsaved` says, as one sentence for a performer."""
    parts = []
    if lost["takes"]:
        n = len(lost["takes"])
        parts.append(f"{n} take{'s' if n != 1 else ''} ({', '.join(lost['takes'][:5])}"
                     f"{', ...' if n > 5 else ''})")
    if lost["model"]:
        parts.append("the trained model")
    if lost["rehearsals"]:
        n = len(lost["rehearsals"])
        parts.append(f"{n} rehearsal{'s' if n != 1 else ''}")
    what = ", ".join(parts) if parts else "the project's latest changes"
    return f"NOT SAVED: {what} could not be written into {lost['folder']}: {lost['why']}"
