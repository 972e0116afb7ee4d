"""The model panel (model kind and its parameters by XMM's names) and the outputs panel (OSC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtWidgets

from ..models import MODEL_REGISTRY

__all__ = ["ModelPanel", "OutputsPanel"]

#: Parameters with a fixed set of values (XMM's), shown as a choice.
CHOICES = {
    "covariance": ("full", "diagonal"),
    "transition": ("left-right", "ergodic"),
    "regression_estimator": ("full", "windowed", "likeliest"),
    "multiclass_regression": ("likeliest", "mixture"),
}
#: Parameters the panel does not show (per-class overrides have no editor yet).
HIDDEN = ("class_params", "n_jobs")


class ModelPanel(QtWidgets.QWidget):
    """Edit the project's model settings; "Apply" sends them and retrains.

    Parameters
    ----------
    apply : callable ``apply(settings)``
        Receives ``{"kind": ..., "params": {...}}`` with the parameters that differ from the
        kind's defaults.
    """

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._apply = apply
        self.kind = QtWidgets.QComboBox()
        self.kind.addItems(sorted(MODEL_REGISTRY))
        self.kind.currentTextChanged.connect(lambda _: self._build({}))
        self.form = QtWidgets.QFormLayout()
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.cost = QtWidgets.QLabel("retrain time: —")
        apply_button = QtWidgets.QPushButton("Apply and retrain")
        apply_button.clicked.connect(lambda: self._apply(self.settings()))
        layout = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QFormLayout()
        top.addRow("model", self.kind)
        layout.addLayout(top)
        box = QtWidgets.QGroupBox("parameters (XMM names)")
        box.setLayout(self.form)
        layout.addWidget(box)
        layout.addWidget(apply_button)
        layout.addWidget(self.cost)
        layout.addStretch(1)

    def show_settings(self, settings: dict[str, Any]) -> None:
        """Show ``{"kind", "params"}`` (the project's model settings)."""
        self.kind.blockSignals(True)
        self.kind.setCurrentText(settings["kind"])
        self.kind.blockSignals(False)
        self._build(settings.get("params") or {})

    def _build(self, params: dict[str, Any]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        defaults = MODEL_REGISTRY[self.kind.currentText()]().get_params()
        for name, default in defaults.items():
            if name in HIDDEN:
                continue
            value = params.get(name, default)
            editor: QtWidgets.QWidget
            if name in CHOICES:
                editor = QtWidgets.QComboBox()
                editor.addItems(CHOICES[name])
                editor.setCurrentText(str(value))
            elif isinstance(default, bool):
                editor = QtWidgets.QCheckBox()
                editor.setChecked(bool(value))
            elif isinstance(default, int):
                editor = QtWidgets.QSpinBox()
                editor.setRange(0, 1000)
                editor.setValue(int(value))
            elif isinstance(default, float):
                editor = QtWidgets.QDoubleSpinBox()
                editor.setDecimals(4)
                editor.setRange(0.0, 1000.0)
                editor.setSingleStep(0.01)
                editor.setValue(float(value))
            else:
                continue
            editor.setObjectName(name)
            self.editors[name] = editor
            self.form.addRow(name, editor)

    def settings(self) -> dict[str, Any]:
        """The settings shown: the kind and the parameters that differ from its defaults."""
        kind = self.kind.currentText()
        defaults = MODEL_REGISTRY[kind]().get_params()
        params: dict[str, Any] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QtWidgets.QComboBox):
                value: Any = editor.currentText()
            elif isinstance(editor, QtWidgets.QCheckBox):
                value = editor.isChecked()
            else:
                value = editor.value()  # type: ignore[attr-defined]
            if value != defaults[name]:
                params[name] = value
        return {"kind": kind, "params": params}


class OutputsPanel(QtWidgets.QWidget):
    """OSC host and port of the outputs; "Apply" sends them to the engine."""

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._apply = apply
        self._settings: dict[str, Any] = {}
        self.host = QtWidgets.QLineEdit("127.0.0.1")
        self.port = QtWidgets.QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(12000)
        self.status = QtWidgets.QLabel("")
        apply_button = QtWidgets.QPushButton("Apply")
        apply_button.clicked.connect(lambda: self._apply(self.settings()))
        form = QtWidgets.QFormLayout()
        form.addRow("OSC host", self.host)
        form.addRow("OSC port", self.port)
        layout = QtWidgets.QVBoxLayout(self)
        box = QtWidgets.QGroupBox("OSC out (Wekinator's /wek/outputs and gesturemap's own)")
        box.setLayout(form)
        layout.addWidget(box)
        layout.addWidget(apply_button)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def show_settings(self, settings: dict[str, Any] | None) -> None:
        self._settings = dict(settings or {})
        self.host.setText(str(self._settings.get("host", "127.0.0.1")))
        self.port.setValue(int(self._settings.get("port", 12000)))

    def settings(self) -> dict[str, Any]:
        out = dict(self._settings)
        out["host"] = self.host.text().strip() or "127.0.0.1"
        out["port"] = int(self.port.value())
        return out
