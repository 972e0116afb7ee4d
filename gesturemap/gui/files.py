"""The window's project files: save, save as, open, unsaved changes, recent folders.

A mixin of :class:`gesturemap.gui.window.MainWindow`. Saving is an engine command: the engine
(in its own process, or its I/O thread) writes the project atomically and says when it is done.
"""

from __future__ import annotations

import shutil
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from ..project import Project
from ..utils.thread_warnings import recording_warnings
from .recent import RecentProjects

__all__ = ["WindowFiles", "load_project", "wait_drawing"]


class WindowFiles:
    """Save / open / recent (mixed into the main window)."""

    folder: Path | None
    autosave_dir: Path | None
    engine: Any
    recent_projects: RecentProjects
    #: an untitled project's autosave folder the person chose to discard, deleted once the
    #: next project is open or the window closed (None: none)
    _discarded: Path | None

    def save(self) -> bool:
        """Save into the project's folder (Save As for an untitled project)."""
        if self.folder is None:
            return self.save_as_dialog()
        return self.save_to(self.folder)

    def save_to(self, folder: str | Path, timeout_s: float = 60.0) -> bool:
        """Save the project into ``folder`` and work there from now on. The window goes on
        drawing while the engine saves (a big project takes seconds); clicks and keys wait."""
        folder = Path(folder)
        done, errors = threading.Event(), []
        self.engine_command("save", folder, done, errors)
        if not wait_drawing(done, timeout_s) or errors:
            why = str(errors[0]) if errors else "timed out"
            # the project's refusals name the folder themselves: not twice
            QtWidgets.QMessageBox.warning(
                self, "Not saved", why if str(folder) in why else f"{folder}: {why}")
            return False
        old_autosave = self.autosave_dir
        self.folder, self.autosave_dir = folder, None
        self._saved_edits = self.engine.edits
        self.undo_stack.setClean()
        if old_autosave is not None and old_autosave != folder:
            shutil.rmtree(old_autosave, ignore_errors=True)
        self._remember_recent(folder)
        self._update_title()
        return True

    def save_as_dialog(self) -> bool:
        # a save dialog, not a folder picker: typing a new name makes the folder (a folder
        # picker answers "Directory not found" to a name that does not exist yet)
        folder, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save the project as a new folder (type its name)",
            str(self.folder.parent if self.folder else Path.home()), "project folder (*)"
        )
        return bool(folder) and self.save_to(folder)

    def new_project_dialog(self) -> bool:
        """File > New…: ask where and what, then :meth:`new_project`."""
        from .new_project import NewProjectDialog

        dialog = NewProjectDialog(self.folder.parent if self.folder else Path.home(), self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return False
        return self.new_project(**dialog.values())

    def new_project(self, folder: str | Path, **settings: Any) -> bool:
        """Create a project in ``folder`` (new or empty), as ``gesturemap new`` does, and work
        there (asks first if this one has unsaved changes).

        Parameters
        ----------
        folder : path
        **settings
            ``model``, ``inputs``, ``outputs`` or ``preset``
            (:func:`gesturemap.project.create.create_project`).
        """
        from ..project.create import check_new_folder, create_project

        try:  # a folder that cannot take it: said before this project is closed
            check_new_folder(folder)
        except Exception as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot create the project", str(exc))
            return False
        if not self._maybe_save():
            return False
        made: list[tuple[Project, Any]] = []
        status = self.train_status.text()  # type: ignore[attr-defined]
        try:  # on a worker thread, the window drawing: each file written is synced to the
            # disk, which a busy disk makes wait (a third of a second, measured)
            self._in_background(  # type: ignore[attr-defined]
                "creating the project…",
                lambda: made.append(create_project(folder, **settings)))
        except Exception as exc:
            self.train_status.setText(status)  # type: ignore[attr-defined]
            QtWidgets.QMessageBox.warning(self, "Cannot create the project",
                                          self._still_open(str(exc)))
            return False
        return self._work_in(Path(folder), made[0][0])

    def open_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open a project folder")
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str | Path) -> bool:
        """Open another project in this window (asks first if this one has unsaved changes)."""
        if not self._maybe_save():
            return False
        from ..project.lock import check_free

        try:
            project, left_out = self._read_drawing(folder)
            if Path(folder) != self.folder:  # refused before this project's engine is closed
                check_free(folder)
        except Exception as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot open", self._still_open(str(exc)))
            return False
        if self.folder is not None and Path(folder).resolve() == self.folder.resolve():
            # this project opened again: read once its engine has stopped, with what that
            # saved as it stopped (a take under way), else its next take would take that id
            self._close_engine(drawing=True)
            try:
                project, left_out = self._read_drawing(folder)
            except Exception as exc:
                QtWidgets.QMessageBox.warning(self, "Cannot open", str(exc))
        if not self._work_in(Path(folder), project):
            return False
        self.say_left_out(left_out)
        return True

    def _read_drawing(self, folder: str | Path) -> tuple[Project, list[str]]:
        """:func:`load_project` on a worker thread, the window drawing on and saying it is
        opening (a project of many long takes reads for a second or more); clicks and keys
        wait. Raises what the reading raised, the window's status line as it was."""
        read: list[tuple[Project, list[str]]] = []
        status = self.train_status.text()  # type: ignore[attr-defined]
        try:
            self._in_background(  # type: ignore[attr-defined]
                "opening the project…", lambda: read.append(load_project(folder)))
        except Exception:
            self.train_status.setText(status)  # type: ignore[attr-defined]
            raise
        return read[0]

    def say_left_out(self, notes: list[str]) -> None:
        """Say what the project's files held that could not be read (a damaged take, a
        scene...), which the project opened without: the files are left as they are."""
        if notes:
            QtWidgets.QMessageBox.warning(
                self, "Opened without some of its files",
                "\n\n".join(notes) + "\n\nEverything else is open; the files left out are "
                "where they were, untouched.")

    def _work_in(self, folder: Path, project: Project) -> bool:
        """Close this project's engine and open one on ``project``, saved in ``folder``; the
        window goes on drawing meanwhile. False (said) when that engine cannot start: the
        project before is then opened again from its folder, where all of it was saved."""
        before = self.folder, self.autosave_dir
        self._end_recording_state()  # a count-in under way begins no take on either engine
        self._retrain_timer.stop()  # nor does a retrain asked for this project
        self._close_engine(drawing=True)
        self.folder, self.autosave_dir = folder, None
        try:
            self._open_engine(project, drawing=True)  # (its title, its place among the recent)
        except Exception as exc:
            why = str(exc)  # a refusal that names the folder itself: not twice
            why = why if str(folder) in why else f"{folder}: {why}"
            self.folder, self.autosave_dir = before
            # one dialog, once the window runs again: what failed, and what is open now
            QtWidgets.QMessageBox.warning(self, "Cannot open", self._reopen(why))
            return False
        self._drop_discarded()
        return True

    def _reopen(self, why: str) -> str:
        """Open the project before again from its folder (an engine that could not start
        in its place), else a new untitled project: the window always runs an engine.
        ``why`` the other did not open, with what is open now."""
        where = self.folder or self.autosave_dir
        try:
            project, _ = self._read_drawing(where)
            self._open_engine(project, drawing=True)
            return self._still_open(why)
        except Exception as exc:
            self._discarded = None  # kept where it is, for File > Open
            why += (f"\n\n{where} could not be opened again either: {exc}. Its takes and "
                    "edits are saved there: open it from File > Open.")
        from ..project.default import default_project

        self.folder = self.autosave_dir = None  # a new autosave folder
        try:
            self._open_engine(default_project(), drawing=True)
            return why + "\n\nA new untitled project is open meanwhile."
        except Exception as exc:
            return why + f"\n\nNo project could be opened: {exc}"

    def _ask_save(self) -> str:
        """Ask what to do with unsaved changes: "save", "discard" or "cancel"."""
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.project.name}?",
            buttons.Save | buttons.Discard | buttons.Cancel,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def _unapplied_tabs(self) -> list[str]:
        """The tabs whose fields hold edits not applied yet (Apply sends them; closing the
        project drops them)."""
        tabs = (("Model", self.model_panel), ("Synth", self.synth_panel),  # type: ignore[attr-defined]
                ("Outputs", self.outputs_panel))  # type: ignore[attr-defined]
        return [name for name, panel in tabs if panel.edited()]

    def _ask_unapplied(self, tabs: list[str]) -> str:
        """Ask whether to close with the ``tabs``' edits not applied: "discard" or "cancel"."""
        buttons = QtWidgets.QMessageBox.StandardButton
        named = " and ".join(f"the {name} tab" for name in tabs)
        answer = QtWidgets.QMessageBox.question(
            self,
            "Changes not applied",
            f"{named[0].upper()}{named[1:]} {'have' if len(tabs) > 1 else 'has'} changes you "
            "have not applied: closing the project drops them. Close without them? (Cancel, "
            "then Apply, to keep them.)",
            buttons.Discard | buttons.Cancel,
        )
        return "cancel" if answer == buttons.Cancel else "discard"

    def _maybe_save(self) -> bool:
        # a tab's edits are not in the project until applied: asked about first, since
        # saving would not keep them either
        tabs = self._unapplied_tabs()
        if tabs and self._ask_unapplied(tabs) != "discard":
            return False
        if not self.modified:
            return True
        answer = self._ask_save()
        if answer == "save":
            return self.save()
        if answer == "discard" and self.autosave_dir is not None:
            # deleted once the next project is open (or the window closed): one that cannot
            # open leaves this one running as it was, its takes kept
            self._discarded = self.autosave_dir
        return answer == "discard"

    def _drop_discarded(self) -> None:
        """Delete the untitled project discarded (its engine has stopped)."""
        discarded, self._discarded = self._discarded, None
        if discarded is not None:
            shutil.rmtree(discarded, ignore_errors=True)

    def _still_open(self, why: str) -> str:
        """``why`` a project did not open, and, when the untitled project was to be
        discarded for it, that this one is still open: nothing was discarded."""
        if self._discarded is None or self._discarded != self.autosave_dir:
            return why
        self._discarded = None
        return why + ("\n\nThe untitled project is still open, with its takes: nothing was "
                      "discarded.")

    def _remember_recent(self, folder: Path) -> None:
        self.recent_projects.remember(folder)
        self._fill_recent()

    def _fill_recent(self) -> None:
        """The menu of recent projects: a project whose folder is gone greyed (its tooltip
        says so), then "Clear list". Filled again each time the menu opens, so a folder
        deleted meanwhile is greyed there."""
        menu = self.recent_menu
        for old in menu.actions():  # deleted later: "Clear list" or a project clicked is
            menu.removeAction(old)  # one of them, still in its own signal
            old.deleteLater()
        for folder in self.recent_projects.folders:
            action = menu.addAction(folder)
            if Path(folder).is_dir():
                action.triggered.connect(lambda _=False, f=folder: self.open_folder(f))
            else:
                action.setEnabled(False)
                action.setToolTip(f"The folder {folder} is missing: it was moved, renamed or "
                                  "deleted (or its drive is not connected).")
        menu.addSeparator()
        clear = menu.addAction("Clear list")
        clear.setEnabled(bool(self.recent_projects.folders))
        clear.triggered.connect(self.clear_recent)

    def clear_recent(self) -> None:
        """File > Open recent > Clear list."""
        self.recent_projects.clear()
        self._fill_recent()


def load_project(folder: str | Path) -> tuple[Project, list[str]]:
    """:meth:`Project.load`, and what it left out as it opened (a damaged take's files...),
    which it warns about: said to the person (:meth:`WindowFiles.say_left_out`), not only in
    the terminal."""
    # this thread's only: a review or a training may be warning on another thread meanwhile
    with recording_warnings() as caught:
        project = Project.load(folder)
    notes = []
    for w in caught:
        if issubclass(w.category, UserWarning) and not issubclass(w.category,
                                                                  DeprecationWarning):
            notes.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)  # the log too
    return project, notes


def wait_drawing(done: threading.Event, timeout_s: float) -> bool:
    """Wait for ``done`` with the window's own events going on (its timers, so its plots,
    and repaints), but not the user's input: nothing can start a second save meanwhile.
    True when ``done`` was set within ``timeout_s``."""
    if done.wait(0.02):
        return True
    end = time.monotonic() + timeout_s
    loop = QtCore.QEventLoop()
    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: (done.is_set() or time.monotonic() > end) and loop.quit())
    timer.start()
    try:
        loop.exec(QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    finally:
        timer.stop()
    return done.is_set()
