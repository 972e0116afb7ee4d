"""GUI tests keep the window's settings (recent projects) in temporary folders, and no modal
dialog ever waits for a click that cannot come.

A dialog opened offscreen blocks its test for ever; worse, a test that fails leaves its window
to pytest-qt, which closes it, and an "unsaved changes?" question there would hang the whole
run. Every static dialog answers at once, as a person cancelling would (or discarding, for the
unsaved-changes question); a test that wants another answer sets it on the window itself
(e.g. ``window._ask_save = lambda: "save"``).
"""

from __future__ import annotations

import gc

import pytest
from PySide6 import QtCore, QtGui, QtWidgets


@pytest.fixture(autouse=True)
def _qt_garbage_collected_here():
    """After each GUI test (its widgets closed), collect the garbage in the main thread. Left
    for later, the cyclic collector may free those Qt objects in whatever thread allocates
    next — a later test's sensor thread — and deadlock against the main thread deleting
    others (seen: a serial-source test hung with both threads waiting on each other)."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _settings_in_tmp(tmp_path_factory, monkeypatch):
    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QtCore.QSettings.Format.NativeFormat, QtCore.QSettings.Format.IniFormat):
        QtCore.QSettings.setPath(fmt, QtCore.QSettings.Scope.UserScope, folder)


@pytest.fixture(autouse=True)
def _no_blocking_dialogs(monkeypatch):
    buttons = QtWidgets.QMessageBox.StandardButton
    answers = {"question": buttons.Discard, "warning": buttons.Ok,
               "information": buttons.Ok, "critical": buttons.Ok}
    for name, answer in answers.items():
        monkeypatch.setattr(QtWidgets.QMessageBox, name,
                            staticmethod(lambda *args, _a=answer, **kwargs: _a))
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText",
                        staticmethod(lambda *args, **kwargs: ("", False)))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *args, **kwargs: ""))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: ("", "")))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *args, **kwargs: ("", "")))
    monkeypatch.setattr(QtWidgets.QColorDialog, "getColor",
                        staticmethod(lambda *args, **kwargs: QtGui.QColor()))  # invalid: cancel
