"""The window: record demonstrations, retrain at once, monitor likelihoods; and a stage view.

``gesturemap`` opens :class:`MainWindow` on the built-in default project
(:func:`gesturemap.project.default.default_project`); ``gesturemap open DIR`` on a project
folder. See :func:`main`.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["MainWindow", "autosave_folder", "data_folder", "main"]


def data_folder() -> Path:
    """gesturemap's folder under the user's data folder, where this platform keeps it.

    Qt's ``QStandardPaths`` knows each platform's place: ``$XDG_DATA_HOME`` (default
    ``~/.local/share``) on Linux, ``~/Library/Application Support`` on macOS,
    ``%LOCALAPPDATA%`` on Windows.
    """
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home()) / "gesturemap"


def autosave_folder() -> Path:
    """A new folder for an untitled project's autosave, under :func:`data_folder`."""
    base = data_folder()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = base / "autosave" / f"untitled-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = folder.with_name(f"untitled-{stamp}-{n}")
    return folder


def main(
    folder: str | os.PathLike[str] | None = None,
    *,
    osc_in: tuple[str, int] | None = None,
    trainer: str = "process",
    audio: bool | dict[str, object] = True,
) -> int:
    """Open the window and run Qt's event loop until it closes; returns the exit code.

    Parameters
    ----------
    folder : path, optional
        A project folder to open; None opens the built-in default project (untitled, saved
        as it goes into :func:`autosave_folder`).
    osc_in : (host, port), optional
        Also take OSC frames and Wekinator control messages there.
    trainer : "process" or "thread"
    audio : bool or dict
        Play the built-in synth (a dict: :class:`~gesturemap.synth.AudioSettings` fields over
        the project's); False: no synth.
    """
    import gc
    import signal

    # the window's process-wide settings (Ctrl-C and SIGTERM handlers, automatic collection
    # off: see .garbage) are undone when it closes: a script or notebook that opened it goes on as it was,
    # its Ctrl-C a KeyboardInterrupt again, not a close of a window that is gone. SIGHUP stays
    # ignored: a terminal closing while the process finishes (its last saves) does not end it
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    collecting = gc.isenabled()
    try:
        return _open_and_run(folder, osc_in=osc_in, trainer=trainer, audio=audio)
    finally:
        for signum, handler in handlers.items():
            if handler is not None:  # (None: set outside Python, left as it is)
                signal.signal(signum, handler)
        if collecting:
            gc.enable()


def _open_and_run(folder: str | os.PathLike[str] | None, *, osc_in: tuple[str, int] | None,
                  trainer: str, audio: bool | dict[str, object]) -> int:
    """:func:`main`'s work: the window opened, Qt's event loop run until it closes."""
    from PySide6 import QtCore, QtWidgets

    from ..project.default import default_project
    from .files import load_project
    from .window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("gesturemap")
    _stay_on_hangup()
    early = _note_ctrl_c_while_opening()
    left_out: list[str] = []
    if folder is not None:
        project, left_out = load_project(folder)
        window = MainWindow(project, folder, osc_in=osc_in, trainer=trainer, audio=audio)
    else:
        window = MainWindow(
            default_project(),
            autosave_dir=autosave_folder(),
            osc_in=osc_in,
            trainer=trainer,
            audio=audio,
        )
    window.show()
    if left_out:  # said once the window is up
        QtCore.QTimer.singleShot(0, lambda: window.say_left_out(left_out))
    _close_on_ctrl_c(window, opened_after=early)
    return int(app.exec())


def _note_ctrl_c_while_opening() -> list[int]:
    """Note Ctrl-C (or SIGTERM) that comes while the window is still being built, its engine
    already started: Python's own handler would end the window half-built (exit 130) and leave
    its engine to notice alone. The list the handler fills is read once the window is up, and
    it then closes as its close button does; a second signal meanwhile ends it at once."""
    import signal

    seen: list[int] = []

    def interrupted(signum: int, _frame: Any) -> None:
        signal.signal(signum, signal.SIG_DFL)
        seen.append(signum)

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    return seen


def _close_on_ctrl_c(window: Any, opened_after: list[int] | None = None) -> None:
    """Ctrl-C in the terminal (or SIGTERM) closes the window as its close button does (asking
    to save what is not saved); a second one ends it at once. Qt's event loop runs no Python,
    so a timer wakes the interpreter to run the handler. ``opened_after``: the signals that
    came while the window was being built (:func:`_note_ctrl_c_while_opening`): one closes
    it now."""
    import signal

    from PySide6 import QtCore

    def interrupted(signum: int, _frame: Any) -> None:
        signal.signal(signum, signal.SIG_DFL)
        QtCore.QTimer.singleShot(0, window.close)

    for signum in (signal.SIGINT, signal.SIGTERM):
        if signum not in (opened_after or ()):  # (a second one still ends it at once)
            signal.signal(signum, interrupted)
    if opened_after:
        QtCore.QTimer.singleShot(0, window.close)
    wake = QtCore.QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(200)


def _stay_on_hangup() -> None:
    """The terminal that started the window closing (SIGHUP) does not close it: the window
    is the musician's to close. Called before the engine and workers start: an ignored
    signal stays ignored in the processes they run."""
    import signal

    if hasattr(signal, "SIGHUP"):  # (not on Windows)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)


def __getattr__(name: str) -> object:
    if name == "MainWindow":  # imported on demand: `import gesturemap.gui` needs no Qt
        from .window import MainWindow

        return MainWindow
    raise AttributeError(name)
