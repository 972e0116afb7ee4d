"""The rehearsals the project keeps (:mod:`gesturemap.project.rehearsals`), written by the
engine: the process that holds the project's lock is its one writer, the window included.

- ``keep_rehearsal NAME TIMES FRAMES [TOKEN]``: frames recorded elsewhere, kept as
  ``rehearsals/NAME``;
- ``keep_rehearsal_file PATH [NAME] [TOKEN]``: a copy of a rehearsal file, checked as
  ``gesturemap audit`` reads one (NAME: the file's own name, made free);
- ``remove_rehearsal NAME [TOKEN]``: into ``trash/rehearsals/``;
- ``rehearsal 1`` / ``rehearsal 0`` (``/gesturemap/rehearsal``, from a controller or a pedal,
  in stage mode too, and the window's Record a rehearsal; the window stops it with
  ``end_rehearsal TOKEN``): the engine keeps the sensor's frames from now on, never as a take, and
  keeps them in the project as a new rehearsal when told to stop (``gesturemap audit DIR``
  audits it). The frames are written into arrays allocated once, as a take's are, bounded as
  a take is: at the bound the rehearsal stops there by itself. The engine records it, not the
  window, so that a window killed mid-rehearsal loses nothing: the engine keeps what it has
  when it stops, as it does a take.

The engine thread only checks the arguments and hands the writing to the I/O thread: a frame
never waits for a file. What became of each request is in ``stats()["rehearsals"]``, by its
TOKEN (the sender's, else the name): ``[name, "kept"]``, ``[name, "removed"]`` or ``[name,
why it failed]``; a failure is also a refusal (log, ``stats()``, OSC), and the frames the
window sent stay with the window. A rehearsal the engine recorded itself exists nowhere
else: when only its file cannot be written (the folder read-only, the disk full) it is kept
in memory, ``[name, "not kept yet: ..."]``, and written with the project as soon as the folder
can be written again (:mod:`gesturemap.live.saving`).

A mixin of :class:`gesturemap.live.engine.Engine`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GesturemapError
from .take_buffer import TakeBuffer

__all__ = ["KeptRehearsals"]

#: requests whose outcome ``stats()`` still reports (the oldest are forgotten first)
OUTCOMES_KEPT = 32


class KeptRehearsals:
    """Keeping and removing rehearsals (mixed into :class:`gesturemap.live.engine.Engine`)."""

    project_dir: Any
    project: Any
    _io: Any
    command: Any
    _refuse: Any
    _errlog: Any
    _unsaved_rehearsals: list[Any]
    _save_failed: Any
    recording: bool

    def _init_rehearsals(self) -> None:
        #: token -> [name, "kept" | "removed" | why it failed] (replaced whole: stats() reads it)
        self.rehearsal_outcomes: dict[str, list[str]] = {}
        #: the rehearsal being recorded (``/gesturemap/rehearsal 1``), else None; its frames of
        #: another width than its first are counted here and left out
        self._rehearsing: TakeBuffer | None = None
        self._rehearsal_armed = False
        #: ``rehearsal 1`` applied so far (one given while a rehearsal goes on included)
        self.rehearsals_started = 0
        self._rehearsal_width = 0
        self.rehearsal_frames_left_out = 0

    @property
    def rehearsing(self) -> bool:
        """Whether a rehearsal is being recorded (``/gesturemap/rehearsal 1``)."""
        return self._rehearsal_armed

    def _cmd_rehearsal(self, on: Any = None, *stray: Any) -> None:
        """``/gesturemap/rehearsal 1`` starts keeping the sensor's frames as a rehearsal (one
        under way goes on), ``0`` stops and keeps it in the project (what became of it is in
        ``stats()["rehearsals"]`` under its name). One value: a second one is refused, never
        read as something else (a controller's ``1 1`` is no request of the window's)."""
        if isinstance(on, str) and on.strip().lower() in ("1", "0", "on", "off", "true",
                                                          "false"):
            on = on.strip().lower() in ("1", "on", "true")
        if not stray and (isinstance(on, bool)
                          or (isinstance(on, (int, float)) and on in (0, 1))):
            on = bool(on)
        else:
            sent = " ".join(map(repr, (on, *stray))) if on is not None or stray else "nothing"
            raise GesturemapError(f"rehearsal: {sent}; send one value: /gesturemap/rehearsal 1 "
                                  "starts recording a rehearsal, /gesturemap/rehearsal 0 stops "
                                  "and keeps it in the project")
        if on:
            if self.recording and not self._rehearsal_armed:
                # a take's frames are a gesture: in the rehearsal, they would be ordinary
                # movement the spotter is wrong to find (as the window refuses it too)
                raise GesturemapError("rehearsal 1: a take is being recorded, and a rehearsal "
                                      "is ordinary movement, never a take; stop the take "
                                      "first")
            self._folder_or_refuse()
            self._rehearsal_armed = True
            self.rehearsals_started += 1
            return
        self._cmd_end_rehearsal()

    def _cmd_end_rehearsal(self, token: Any = None) -> None:
        """Stop the rehearsal under way and keep it in the project (the window's stop, and
        ``rehearsal 0``); what became of it is in ``stats()["rehearsals"]`` under ``token``
        (the window's), else under its name."""
        self._rehearsal_armed = False
        buffer, self._rehearsing = self._rehearsing, None
        if buffer is None or len(buffer) < 2:
            raise GesturemapError("rehearsal 0: no rehearsal was recorded (send "
                                  "/gesturemap/rehearsal 1 first, then move, then 0)")
        folder = self._folder_or_refuse()
        frames, times, _ = buffer.arrays()

        def write() -> None:
            from ..project.rehearsals import new_rehearsal_name, save_rehearsal
            name = new_rehearsal_name(folder)
            self._rehearsal_done("rehearsal", name, token,
                                 lambda: save_rehearsal(folder, name, frames, times), "kept",
                                 recorded=(frames, times))
        self._io.put(write)

    def _rehearse(self, values: Any, t_in: float) -> None:
        """Keep a frame in the rehearsal being recorded (on the frame path: a row written,
        nothing allocated but the arrays at its first frame)."""
        buffer = self._rehearsing
        if buffer is None:
            buffer = self._rehearsing = TakeBuffer(len(values))
            self._rehearsal_width = len(values)
        elif len(buffer) >= buffer.capacity:
            return  # full: its stop is on its way
        if len(values) != self._rehearsal_width:
            self.rehearsal_frames_left_out += 1  # another source's frames: not the sensor's
            return
        if not buffer.append(values, t_in):
            self._errlog("rehearsal bound", "the rehearsal reached %d frames: it is kept as if "
                         "stopped there", len(buffer))
            self.command("rehearsal", 0)

    def _folder_or_refuse(self) -> Path:
        if self.project_dir is None:
            raise GesturemapError("the project has no folder yet: save it first, then its "
                                  "rehearsals are kept in it")
        return Path(self.project_dir)

    def _cmd_keep_rehearsal(self, name: Any, times: Any, frames: Any, token: Any = None) -> None:
        folder = self._folder_or_refuse()
        try:
            t = np.asarray(times, dtype=np.float64)
            x = np.asarray(frames, dtype=np.float64)
        except (TypeError, ValueError):
            raise GesturemapError("keep_rehearsal takes a name, the frames' times and the "
                                  "frames, as numbers") from None

        def write() -> None:
            from ..project.rehearsals import save_rehearsal
            self._rehearsal_done("keep_rehearsal", name, token,
                                 lambda: save_rehearsal(folder, name, x, t), "kept")
        self._io.put(write)

    def _cmd_keep_rehearsal_file(self, source: Any, name: Any = None, token: Any = None
                                 ) -> None:
        folder = self._folder_or_refuse()
        if not isinstance(source, str) or not source:
            raise GesturemapError("keep_rehearsal_file needs the path of a stream file")

        project = self.project

        def write() -> None:
            from ..evaluation.rehearsal import check_rehearsal_file
            from ..project.rehearsals import keep_rehearsal_file, new_rehearsal_name

            target = name or new_rehearsal_name(folder, Path(source).stem)

            def keep() -> Any:
                check_rehearsal_file(source, project)  # one the audit could not read is not kept
                return keep_rehearsal_file(folder, source, target)
            self._rehearsal_done("keep_rehearsal_file", target, token, keep, "kept")
        self._io.put(write)

    def _cmd_remove_rehearsal(self, name: Any, token: Any = None) -> None:
        folder = self._folder_or_refuse()

        def move() -> None:
            from ..project.rehearsals import remove_rehearsal
            self._rehearsal_done("remove_rehearsal", name, token,
                                 lambda: remove_rehearsal(folder, name), "removed")
        self._io.put(move)

    def _rehearsal_done(self, command: str, name: Any, token: Any, job: Any, outcome: str,
                        recorded: tuple[Any, Any] | None = None) -> None:
        """Run ``job`` (on the I/O thread) and say how it went, under ``token``. A rehearsal
        the engine ``recorded`` (frames, times) whose file cannot be written (the folder
        read-only, the disk full) exists nowhere else: it is kept in memory and written with
        the project when the folder can be written again (the engine's save failure, said
        once, not a refusal: the sender did nothing wrong)."""
        try:
            job()
        except OSError as exc:
            if recorded is None:
                outcome = self._rehearsal_refused_now(command, exc)
            else:
                self._unsaved_rehearsals.append((str(name), *recorded))
                self._save_failed(f"rehearsal {name}", self.project_dir, exc)
                outcome = (f"not kept yet: {exc}; kept in memory and written into the "
                           "project when its folder can be written")
        except GesturemapError as exc:
            outcome = self._rehearsal_refused_now(command, exc)
        self._rehearsal_outcome(str(name if token is None else token), str(name), outcome)

    def _rehearsal_refused_now(self, command: str, exc: BaseException) -> str:
        self.command("_rehearsal_refused", command, str(exc))
        return f"not {'removed' if command == 'remove_rehearsal' else 'kept'}: {exc}"

    def _rehearsal_kept_late(self, original: str, name: str) -> None:
        """A rehearsal kept in memory was written at last: its outcome says so."""
        for key, (was, _) in list(self.rehearsal_outcomes.items()):
            if was == original:
                self._rehearsal_outcome(key, name, "kept")

    def _rehearsal_outcome(self, key: str, name: str, outcome: str) -> None:
        outcomes = {k: v for k, v in self.rehearsal_outcomes.items() if k != key}
        outcomes[key] = [name, outcome]
        self.rehearsal_outcomes = dict(list(outcomes.items())[-OUTCOMES_KEPT:])

    def _cmd__rehearsal_refused(self, command: str, why: str) -> None:
        self._refuse(command, GesturemapError(why))
