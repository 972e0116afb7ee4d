"""The model panel (model kind, its parameters by XMM's names, per-class overrides) and the
outputs panel (OSC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtWidgets

from ..models import MODEL_REGISTRY

__all__ = ["ClassOverrides", "ModelPanel", "OutputsPanel", "SettingsPanel"]

#: Parameters with a fixed set of values (XMM's), shown as a choice.
CHOICES = {
    "covariance": ("full", "diagonal"),
    "transition": ("left-right", "ergodic"),
    "regression_estimator": ("full", "windowed", "likeliest"),
    "multiclass_regression": ("likeliest", "mixture"),
}
#: Parameters the panel does not show among the model's (class_params has its own editor).
HIDDEN = ("class_params", "n_jobs")


def _editor(name: str, default: Any, value: Any) -> QtWidgets.QWidget | None:
    """An editor for one parameter, showing ``value`` (None for a kind it cannot edit)."""
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
        return None
    editor.setObjectName(name)
    return editor


def _value(editor: QtWidgets.QWidget) -> Any:
    if isinstance(editor, QtWidgets.QComboBox):
        return editor.currentText()
    if isinstance(editor, QtWidgets.QCheckBox):
        return editor.isChecked()
    return editor.value()  # type: ignore[attr-defined]


class ClassOverrides(QtWidgets.QGroupBox):
    """XMM's per-class configuration: pick a class, override some of its parameters.

    Each parameter the model lets a class override (``class_overridable``) has a check box
    ("override for this class") and an editor. :meth:`class_params` gives
    ``{class name: {parameter: value}}`` for the model's ``class_params``.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("per-class overrides", parent)
        self.overrides: dict[str, dict[str, Any]] = {}
        self.defaults: dict[str, Any] = {}
        self.names: tuple[str, ...] = ()
        self.checks: dict[str, QtWidgets.QCheckBox] = {}
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.class_box = QtWidgets.QComboBox()
        self.class_box.setToolTip("The class whose parameters to override")
        self.class_box.currentTextChanged.connect(self._class_picked)
        self._current = ""
        self.form = QtWidgets.QFormLayout(self)
        self.form.addRow("class", self.class_box)

    def set_model(self, defaults: dict[str, Any], names: tuple[str, ...], cp: Any) -> None:
        """Show the overridable ``names`` (with the model's ``defaults``) and ``cp``, the
        settings' ``class_params`` (or None)."""
        self.defaults = defaults
        self.names = names
        self.overrides = {
            str(k): {p: v for p, v in dict(over).items() if p in names}
            for k, over in dict(cp or {}).items()
        }
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.checks, self.editors = {}, {}
        for name in names:
            check = QtWidgets.QCheckBox(name)
            editor = _editor(name, defaults[name], defaults[name])
            if editor is None:
                continue
            editor.setEnabled(False)
            check.toggled.connect(editor.setEnabled)
            self.checks[name], self.editors[name] = check, editor
            self.form.addRow(check, editor)
        self.setVisible(bool(names))
        self._current = ""
        self._class_picked(self.class_box.currentText())

    def set_classes(self, classes: list[str]) -> None:
        """The project's classes, in order."""
        if [self.class_box.itemText(i) for i in range(self.class_box.count())] == classes:
            return
        self._store()
        current = self.class_box.currentText()
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItems(classes)
        if current in classes:
            self.class_box.setCurrentText(current)
        self.class_box.blockSignals(False)
        self._current = ""
        self._class_picked(self.class_box.currentText())

    def _store(self) -> None:
        """Keep what the editors show for the class being edited."""
        if not self._current:
            return
        over = {n: _value(self.editors[n]) for n, c in self.checks.items() if c.isChecked()}
        if over:
            self.overrides[self._current] = over
        else:
            self.overrides.pop(self._current, None)

    def _class_picked(self, label: str) -> None:
        self._store()
        self._current = label
        over = self.overrides.get(label, {})
        for name, check in self.checks.items():
            editor = self.editors[name]
            value = over.get(name, self.defaults.get(name))
            if isinstance(editor, QtWidgets.QComboBox):
                editor.setCurrentText(str(value))
            elif isinstance(editor, QtWidgets.QCheckBox):
                editor.setChecked(bool(value))
            else:
                editor.setValue(value)  # type: ignore[attr-defined]
            check.setChecked(name in over)

    def class_params(self) -> dict[str, dict[str, Any]]:
        """``{class name: {parameter: value}}``: the overrides of every class."""
        self._store()
        return {k: dict(v) for k, v in self.overrides.items() if v}


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
        self.overrides = ClassOverrides()
        self.cost = QtWidgets.QLabel("retrain time: —")
        self.apply_button = QtWidgets.QPushButton("Apply and retrain")
        self.apply_button.clicked.connect(lambda: self._apply(self.settings()))
        layout = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QFormLayout()
        top.addRow("model", self.kind)
        layout.addLayout(top)
        box = QtWidgets.QGroupBox("parameters (XMM names)")
        box.setLayout(self.form)
        layout.addWidget(box)
        layout.addWidget(self.overrides)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.cost)
        layout.addStretch(1)

    def show_settings(self, settings: dict[str, Any]) -> None:
        """Show ``{"kind", "params"}`` (the project's model settings)."""
        self.kind.blockSignals(True)
        self.kind.setCurrentText(settings["kind"])
        self.kind.blockSignals(False)
        self._build(settings.get("params") or {})

    def set_classes(self, classes: list[str]) -> None:
        """The project's classes (for the per-class overrides)."""
        self.overrides.set_classes(classes)

    def _build(self, params: dict[str, Any]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        cls = MODEL_REGISTRY[self.kind.currentText()]
        defaults = cls().get_params()
        for name, default in defaults.items():
            if name in HIDDEN:
                continue
            editor = _editor(name, default, params.get(name, default))
            if editor is None:
                continue
            self.editors[name] = editor
            self.form.addRow(name, editor)
        shown = {n: _value(e) for n, e in self.editors.items()}
        self.overrides.set_model(
            {**defaults, **shown}, tuple(cls.class_overridable), params.get("class_params")
        )

    def settings(self) -> dict[str, Any]:
        """The settings shown: the kind and the parameters that differ from its defaults."""
        kind = self.kind.currentText()
        defaults = MODEL_REGISTRY[kind]().get_params()
        params: dict[str, Any] = {}
        for name, editor in self.editors.items():
            value = _value(editor)
            if value != defaults[name]:
                params[name] = value
        class_params = self.overrides.class_params()
        if class_params:
            params["class_params"] = class_params
        return {"kind": kind, "params": params}


class SettingsPanel(QtWidgets.QWidget):
    """A panel that edits one settings dict of the project and sends it with "Apply".

    Parameters
    ----------
    apply : callable ``apply(settings)``
        Receives :meth:`settings` (a JSON dict).
    """

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._apply = apply
        self._settings: dict[str, Any] = {}
        self.apply_button = QtWidgets.QPushButton("Apply")
        self.apply_button.clicked.connect(lambda: self._apply(self.settings()))

    def settings(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


class OutputsPanel(SettingsPanel):
    """OSC host and port of the outputs; "Apply" sends them to the engine."""

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(apply, parent)
        self.host = QtWidgets.QLineEdit("127.0.0.1")
        self.port = QtWidgets.QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(12000)
        self.status = QtWidgets.QLabel("")
        form = QtWidgets.QFormLayout()
        form.addRow("OSC host", self.host)
        form.addRow("OSC port", self.port)
        layout = QtWidgets.QVBoxLayout(self)
        box = QtWidgets.QGroupBox("OSC out (Wekinator's /wek/outputs and gesturemap's own)")
        box.setLayout(form)
        layout.addWidget(box)
        layout.addWidget(self.apply_button)
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
