"""The model panel (model kind, its parameters by XMM's names, per-class overrides) and the
outputs panel (OSC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtWidgets

from ..models import MODEL_REGISTRY
from ..project.settings import stage_model
from ..project.training import effective_params
from .model_forms import (  # noqa: F401 - CHOICES, HIDDEN: where they were first
    CHOICES,
    HIDDEN,
    OutputsEditor,
    ParamsForm,
    _editor,
    _value,
    check_kind_params,
)
from .monitor import DTW_NOTE
from .spotting_editor import SPOTTING_KINDS, SpottingEditor

__all__ = ["ClassOverrides", "ModelPanel", "OutputsPanel", "SettingsPanel"]

_PER_OUTPUT = "per_output"


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
    """Edit the project's model settings; "Apply" checks them, sends them and retrains.

    Every registered kind shows its parameters (:class:`~gesturemap.gui.model_forms.ParamsForm`);
    ``per_output`` shows its outputs instead, each with its target, type, model and inputs
    (:class:`~gesturemap.gui.model_forms.OutputsEditor`). Settings the model would refuse are
    not sent: :attr:`message` says what to change.

    Parameters
    ----------
    apply : callable ``apply(settings)``
        Receives ``{"kind": ..., "params": {...}}`` with the parameters that differ from the
        kind's defaults (and those the shown settings had).
    """

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._apply = apply
        self._given: dict[str, Any] = {}
        self.kind = QtWidgets.QComboBox()
        self.kind.addItems(sorted(MODEL_REGISTRY))
        self.kind.setItemData(
            self.kind.findText(_PER_OUTPUT),
            "One model per output, each on its own inputs (Wekinator's way)",
            QtCore.Qt.ItemDataRole.ToolTipRole,
        )
        # a kind picked starts from a new project's settings for it (stage_model: the
        # decision that follows the performer; Wekinator's k for kNN)
        self.kind.currentTextChanged.connect(self._kind_picked)
        #: the settings show_settings was given (the project's): its kind picked again
        #: shows them, not that kind's defaults
        self._shown: dict[str, Any] = {}
        #: what settings() gave for them as first shown: a setting read otherwise since is
        #: an edit the musician has not applied
        self._shown_as: dict[str, Any] = {}
        self.params_form = ParamsForm()
        self.params_box = QtWidgets.QGroupBox("parameters (XMM names)")
        QtWidgets.QVBoxLayout(self.params_box).addWidget(self.params_form)
        self.outputs_editor = OutputsEditor()
        self.overrides = ClassOverrides()
        self.spotting = SpottingEditor()
        self.spotting.verifier_removed.connect(self.apply)  # saved and in effect at once
        self.spotting.detector_removed.connect(self.apply)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c53030")
        self.cost = QtWidgets.QLabel("retrain time: —")
        self.apply_button = QtWidgets.QPushButton("Apply and retrain")
        self.apply_button.clicked.connect(self.apply)
        # the project's optional "auto" and "onset" settings (kept as given when ticked)
        self._extras: dict[str, Any] = {}
        self.search = QtWidgets.QCheckBox("after each retrain, search a better model (gm.auto)")
        self.onset = QtWidgets.QCheckBox("reset the model's stream when motion starts")
        # the form in a scroll area: with spotting, per-class and per-output editors it is
        # taller than a laptop's screen, and the window's least height would follow it
        body = QtWidgets.QWidget()
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QtWidgets.QVBoxLayout(body)
        top = QtWidgets.QFormLayout()
        top.addRow("model", self.kind)
        layout.addLayout(top)
        layout.addWidget(self.params_box)
        layout.addWidget(self.outputs_editor)
        layout.addWidget(self.overrides)
        layout.addWidget(self.spotting)
        layout.addWidget(self.search)
        layout.addWidget(self.onset)
        layout.addWidget(self.message)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.cost)
        layout.addStretch(1)
        self._build(stage_model(self.kind.currentText())["params"])

    @property
    def editors(self) -> dict[str, QtWidgets.QWidget]:
        """The parameter editors of the kind shown, by parameter name."""
        return self.params_form.editors

    def show_settings(self, settings: dict[str, Any]) -> None:
        """Show ``{"kind", "params"}`` (the project's model settings) whole, replacing any
        edit not applied."""
        self._shown = dict(settings)
        self._display(settings)
        self._shown_as = self.settings()

    def follow(self, settings: dict[str, Any] | None) -> None:
        """The model settings now in force (a scene recalled, Apply done, thresholds set in
        the Rehearsal tab): what the musician has not edited shows them, so that "Apply and
        retrain" retrains with what is in force and never with the settings of the mapping
        left behind; a setting they edited keeps their edit. Cheap when nothing changed
        (called on every refresh)."""
        if not settings or settings == self._shown:
            return
        now = self.settings()
        # The spotting settings are followed by their own editor, field by field: a scene
        # may change only them, and its Apply then sent the thresholds left behind back.
        self.spotting.follow(settings.get("spotting"))
        self._spotting_was_on = settings.get("spotting") is not None
        # The kind, parameters and search/onset are followed here, only when they change: an
        # Apply coming back or a retraining's spotting change (a second opinion dropped,
        # thresholds from the Rehearsal tab) changes nothing shown, and rebuilding the
        # editors for either replaced the boxes under the musician's hand.
        if _followed(settings) == _followed(self._shown):
            self._shown = dict(settings)
            return
        if _followed(settings) == _followed(now):
            self._shown, self._shown_as = dict(settings), now
            return
        before = self._shown_as
        self._display(settings, spotting=False)
        self._shown, self._shown_as = dict(settings), self.settings()
        if _followed(now) != _followed(before):
            self._display(_edits_kept(before, now, settings), spotting=False)

    def edited(self) -> bool:
        """Whether the tab shows edits not applied (the kind, a parameter, a box ticked, a
        spotting field) since it showed the settings in force."""
        if _followed(self.settings()) != _followed(self._shown_as):
            return True
        return self.kind.currentText() in SPOTTING_KINDS and self.spotting.edited()

    def _display(self, settings: dict[str, Any], spotting: bool = True) -> None:
        """Show ``settings``; ``spotting=False`` leaves the spotting editor as it is (it
        follows the settings in force itself)."""
        self.kind.blockSignals(True)
        self.kind.setCurrentText(settings["kind"])
        self.kind.blockSignals(False)
        self._extras = {k: settings[k] for k in ("auto", "onset") if settings.get(k)}
        self.search.setChecked("auto" in self._extras)
        self.onset.setChecked("onset" in self._extras)
        if spotting:
            self.spotting.show_spotting(settings.get("spotting"))
            self._spotting_was_on = settings.get("spotting") is not None
        # what the model trains with: a spotting HHMM/GMM without deltas unless it says so
        self._build(effective_params(settings))

    def _kind_picked(self, kind: str) -> None:
        # another kind: its stage defaults; the project's own again: the project's settings
        # (a look at another kind then Apply retrained with the defaults, unseen)
        if kind == self._shown.get("kind"):
            self._build(effective_params(self._shown))
        else:
            self._build(stage_model(kind)["params"])

    def _with_extras(self, settings: dict[str, Any]) -> dict[str, Any]:
        for key, box in (("auto", self.search), ("onset", self.onset)):
            if box.isChecked():
                settings[key] = self._extras.get(key, True)
        return settings

    def set_classes(self, classes: list[str]) -> None:
        """The project's classes (for the per-class overrides)."""
        self.overrides.set_classes(classes)

    def set_channels(self, inputs: list[str], outputs: list[str]) -> None:
        """The channels a model sees (the pipeline's output names for the project's inputs)
        and the project's output names, for the per-output editor; cheap when unchanged."""
        self.outputs_editor.set_channels(inputs, outputs)

    def _build(self, params: dict[str, Any]) -> None:
        kind = self.kind.currentText()
        self._given = dict(params)
        self.message.setText("")
        per_output = kind == _PER_OUTPUT
        self.spotting.setVisible(kind in SPOTTING_KINDS)
        self.params_box.setVisible(not per_output)
        self.outputs_editor.setVisible(per_output)
        if per_output:
            outputs = params.get("outputs")
            self.outputs_editor.show_outputs(
                outputs if outputs else self.outputs_editor.default_outputs()
            )
            self.overrides.set_model({}, (), None)
            return
        self.params_form.show_params(kind, params)
        cls = MODEL_REGISTRY[kind]
        self.overrides.set_model(
            self.params_form.values(), tuple(cls.class_overridable), params.get("class_params")
        )

    def settings(self) -> dict[str, Any]:
        """The settings shown: the kind and the parameters that differ from its defaults."""
        kind = self.kind.currentText()
        if kind == _PER_OUTPUT:
            params = {k: v for k, v in self._given.items() if k != "outputs"}
            params["outputs"] = self.outputs_editor.outputs()
            return self._with_extras({"kind": kind, "params": params})
        params = self.params_form.params()
        class_params = self.overrides.class_params()
        if class_params:
            params["class_params"] = class_params
        else:
            params.pop("class_params", None)
        spec = {"kind": kind, "params": params}
        spotting = self.spotting.spotting() if kind in SPOTTING_KINDS else None
        if spotting is not None or getattr(self, "_spotting_was_on", False):
            spec["spotting"] = spotting  # None: turned off
        if spotting is not None and "deltas" in self.editors:
            # sent even when it is the kind's default: a spotting model's default differs
            params["deltas"] = self.params_form.values()["deltas"]
        return self._with_extras(spec)

    def problems(self) -> list[str]:
        """What must change before the settings shown can be trained (empty: nothing)."""
        settings = self.settings()
        if settings["kind"] == _PER_OUTPUT:
            found = self.outputs_editor.problems()
        else:  # a number typed that is none, said as typed
            found = self.params_form.problems()
        if not found:  # then the whole model's own check
            wrong = check_kind_params(settings["kind"], settings["params"])
            found = [wrong] if wrong else []
        if settings["kind"] in SPOTTING_KINDS:
            found += self.spotting.problems()
        return found

    def apply(self) -> bool:
        """Send the settings shown, unless they are wrong (then :attr:`message` says why)."""
        found = self.problems()
        if found:
            self.message.setText("Not applied: " + " ".join(found))
            return False
        self.message.setText("")
        settings = self.settings()
        self._spotting_was_on = settings.get("spotting") is not None
        self._apply(settings)
        return True


def _changed_kept(before: dict[str, Any], now: dict[str, Any], new: dict[str, Any]
                  ) -> dict[str, Any]:
    """``new``, with each key whose value ``now`` changed from ``before`` as in ``now``."""
    out = dict(new)
    for key in set(before) | set(now):
        if now.get(key) != before.get(key):
            if key in now:
                out[key] = now[key]
            else:
                out.pop(key, None)
    return out


def _followed(settings: dict[str, Any]) -> dict[str, Any]:
    """The part of model settings the Model tab's own editors follow when they change in
    force (the parameters as trained: turning spotting on changes an HHMM's deltas)."""
    return {"kind": settings.get("kind"), "params": effective_params(settings),
            **{k: settings.get(k) for k in ("auto", "onset")}}


def _edits_kept(before: dict[str, Any], now: dict[str, Any], new: dict[str, Any]
                ) -> dict[str, Any]:
    """The model settings ``new`` with the edits the panel shows (``now``, shown from
    ``before``) kept: parameter by parameter while the kind stays, else the edited kind with
    its parameters as shown; parameters edited for a kind the new settings do not use go."""
    out = _changed_kept(before, now, new)
    kind = out.get("kind")
    if kind == now.get("kind") == new.get("kind"):
        out["params"] = _changed_kept(before.get("params") or {}, now.get("params") or {},
                                      new.get("params") or {})
    elif kind == now.get("kind"):  # the musician's kind: their parameters for it
        out["params"] = now.get("params") or {}
    else:
        out["params"] = new.get("params") or {}
    return out


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
    """OSC host and port of the outputs, and whether gesturemap's own messages go out beside
    Wekinator's (``outputs.extras``: off by default); "Apply" sends them to the engine."""

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(apply, parent)
        self.host = QtWidgets.QLineEdit("127.0.0.1")
        self.port = QtWidgets.QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(12000)
        self.reject = QtWidgets.QDoubleSpinBox()
        self.reject.setRange(0.0, 1.0)
        self.reject.setSingleStep(0.05)
        self.reject.setDecimals(2)
        self.reject.setSpecialValueText("off")
        self._reject_tip = (
            "Below this likelihood of the likeliest class, /wek/outputs sends 0 (none of the "
            "classes) and the label is empty, MIDI releases its note, the synth plays no "
            "one-shot and the monitor shows unknown (the slider under the monitor sets it "
            "too); off: always the likeliest class, as Wekinator"
        )
        self.reject.setToolTip(self._reject_tip)
        self.extras = QtWidgets.QCheckBox("also send gesturemap's own messages")
        self.extras.setToolTip(
            "/gesturemap/label, /likelihoods, /progress, /regression, /variance, /event after "
            "each /wek/outputs. Off, the port carries exactly what Wekinator sends (some "
            "Wekinator clients take every message for a reply)")
        self.extras_port = QtWidgets.QSpinBox()
        self.extras_port.setRange(0, 65535)
        self.extras_port.setSpecialValueText("the same port")
        self.extras.toggled.connect(self.extras_port.setEnabled)
        self.extras_port.setEnabled(False)
        self.status = QtWidgets.QLabel("")
        form = QtWidgets.QFormLayout()
        form.addRow("OSC host", self.host)
        form.addRow("OSC port", self.port)
        form.addRow("send class 0 below", self.reject)
        form.addRow(self.extras)
        form.addRow("gesturemap's own on", self.extras_port)
        layout = QtWidgets.QVBoxLayout(self)
        box = QtWidgets.QGroupBox("OSC out (Wekinator's /wek/outputs, and gesturemap's own)")
        box.setLayout(form)
        layout.addWidget(box)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def show_settings(self, settings: dict[str, Any] | None) -> None:
        """Show ``settings`` (the project's outputs) whole, replacing any edit not applied."""
        self._settings = dict(settings or {})
        self._show(self._fields(self._settings))

    def follow(self, settings: dict[str, Any] | None) -> None:
        """The outputs now in force (a scene recalled, the monitor's slider moved, Apply
        done): each field the musician has not edited shows the new value, so that Apply
        sends what is in force and never an old route or threshold back; a field they edited
        keeps their edit. Cheap when nothing changed (called on every refresh)."""
        settings = dict(settings or {})
        if settings == self._settings:
            return
        before, now = self._fields(self._settings), self._fields(settings)
        shown = self._shown()
        self._settings = settings
        self._show({k: now[k] if shown[k] == before[k] else shown[k] for k in now})

    def edited(self) -> bool:
        """Whether a field shows an edit not applied since the tab showed the settings in
        force."""
        return self._shown() != self._fields(self._settings)

    @staticmethod
    def _fields(settings: dict[str, Any]) -> dict[str, Any]:
        """What the tab's fields show for ``settings``."""
        extras = settings.get("extras")
        return {"host": str(settings.get("host", "127.0.0.1")),
                "port": int(settings.get("port", 12000)),
                "reject": round(float(settings.get("reject_below") or 0.0), 2),
                "extras": bool(extras),
                "extras_port": int(extras["port"]) if isinstance(extras, dict) else 0}

    def _shown(self) -> dict[str, Any]:
        return {"host": self.host.text(), "port": int(self.port.value()),
                "reject": round(float(self.reject.value()), 2),
                "extras": self.extras.isChecked(), "extras_port": int(self.extras_port.value())}

    def _show(self, fields: dict[str, Any]) -> None:
        self.host.setText(fields["host"])
        self.port.setValue(fields["port"])
        self.reject.setValue(fields["reject"])
        self.extras.setChecked(fields["extras"])
        self.extras_port.setValue(fields["extras_port"])

    def set_dtw(self, dtw: bool) -> None:
        """Whether the project's model is DTW: "send class 0 below" is then greyed out (DTW
        sends distances, never class 0, and chooses by its match), its tooltip saying so; the
        value stays, for a classifier chosen again."""
        if dtw == (not self.reject.isEnabled()):
            return
        self.reject.setEnabled(not dtw)
        self.reject.setToolTip(DTW_NOTE if dtw else self._reject_tip)

    def show_reject_below(self, value: float) -> None:
        """The rejection threshold just set by the monitor's slider: shown at once, and what
        Apply sends even before the engine has it (:meth:`follow` keeps it as an edit until
        then, and the engine's value is the same one after)."""
        self.reject.setValue(float(value))

    def settings(self) -> dict[str, Any]:
        out = dict(self._settings)
        out["host"] = self.host.text().strip() or "127.0.0.1"
        out["port"] = int(self.port.value())
        if self.reject.value() > 0 or "reject_below" in out:
            out["reject_below"] = float(self.reject.value())
        if self.extras.isChecked():
            port = int(self.extras_port.value())
            out["extras"] = {"port": port} if port else True
        elif "extras" in out:
            out["extras"] = False
        return out
