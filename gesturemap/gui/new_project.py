"""File > New…: a new project folder, as ``gesturemap new`` makes one.

The dialog asks for what ``gesturemap new DIR [--model KIND] [--outputs N] [--inputs N]
[--preset NAME]`` takes; :func:`gesturemap.project.create.create_project` makes the folder,
and the window then works there (:meth:`WindowFiles.new_project`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtWidgets

from ..project.create import model_kinds, preset_names

__all__ = ["EMPTY", "NewProjectDialog"]

#: The "start from" choice of an empty project (the others are presets).
EMPTY = "an empty project"


class NewProjectDialog(QtWidgets.QDialog):
    """Where the new project goes and what it starts as.

    Parameters
    ----------
    start_dir : path
        Where the folder chooser opens.
    parent : QWidget, optional
    """

    def __init__(self, start_dir: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.setMinimumWidth(480)
        self._start_dir = Path(start_dir)
        self.folder = QtWidgets.QLineEdit()
        self.folder.setPlaceholderText("a new folder: its name is the project's")
        choose = QtWidgets.QPushButton("Choose…")
        choose.clicked.connect(self._choose_folder)
        where = QtWidgets.QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(choose)
        self.start = QtWidgets.QComboBox()
        self.start.addItems([EMPTY, *(f"preset: {name}" for name in preset_names())])
        self.start.setToolTip("A preset is a ready project: its takes, trained model and "
                              "mapping (presets/README.md)")
        self.model = QtWidgets.QComboBox()
        self.model.addItems(model_kinds())
        self.model.setCurrentText("hhmm")
        self.outputs = QtWidgets.QSpinBox()
        self.outputs.setRange(0, 64)
        self.outputs.setSpecialValueText("none: the model recognises classes")
        self.outputs.setToolTip("Continuous outputs, for a regression (mapping) project")
        self.inputs = QtWidgets.QSpinBox()
        self.inputs.setRange(0, 4096)
        self.inputs.setSpecialValueText("from the sensor's first frame")
        self.start.currentTextChanged.connect(self._start_changed)
        form = QtWidgets.QFormLayout()
        form.addRow("folder", where)
        form.addRow("start from", self.start)
        form.addRow("model", self.model)
        form.addRow("continuous outputs", self.outputs)
        form.addRow("inputs", self.inputs)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Create")
        self.ok_button.setEnabled(False)
        self.folder.textChanged.connect(lambda text: self.ok_button.setEnabled(bool(text.strip())))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _choose_folder(self) -> None:
        # a save dialog, not a folder picker: typing a new name makes the folder
        folder, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "The new project's folder (type its name)", str(self._start_dir),
            "project folder (*)")
        if folder:
            self.folder.setText(folder)

    def _start_changed(self, text: str) -> None:
        empty = text == EMPTY  # a preset brings its own model, inputs and outputs
        for box in (self.model, self.outputs, self.inputs):
            box.setEnabled(empty)

    def values(self) -> dict[str, Any]:
        """The new project's folder and settings, as :func:`create_project` takes them."""
        start = self.start.currentText()
        folder = self.folder.text().strip()
        if start != EMPTY:
            return {"folder": folder, "preset": start.removeprefix("preset: ")}
        return {"folder": folder, "model": self.model.currentText(),
                "outputs": self.outputs.value(), "inputs": self.inputs.value() or None}
