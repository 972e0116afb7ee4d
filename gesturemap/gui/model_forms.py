"""Forms of the model panel: one kind's parameters (:class:`ParamsForm`) and the outputs of a
``per_output`` model, each with its target, type, model and inputs (:class:`OutputsEditor`).

Both show a settings dict and give it back exactly (``show`` then read gives what was shown),
and both check what they hold before the panel sends it (:func:`check_kind_params`,
:meth:`OutputsEditor.problems`), so a setting the model would refuse is refused in the panel
with a message instead of failing a retrain in the engine.
"""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6 import QtCore, QtWidgets

from ..errors import GesturemapError
from ..models import MODEL_REGISTRY, check_params
from ..models.base import FOLLOWING_DECISIONS, ParamGroup, fold_groups, with_new_names
from ..models.classic import ACTIVATIONS, SVM_KERNELS
from ..models.dtw import NORMALIZATIONS, PRECISIONS
from ..models.gmm import COVARIANCE_MODES, MULTICLASS_REGRESSION
from ..models.gvf.params import (
    ALIGN_SCALE_TARGETS,
    ALIGN_SPEEDS,
    RECOGNIZER_DECISIONS,
    SCALE_ESTIMATES,
    SPEED_ESTIMATES,
    TEMPLATES,
)
from ..models.hhmm import REGRESSION_ESTIMATORS, TRANSITIONS

__all__ = [
    "CHOICES",
    "HIDDEN",
    "FloatEdit",
    "OutputsEditor",
    "ParamsForm",
    "check_kind_params",
    "kinds_for",
    "model_channels",
]

#: Parameters with a fixed set of values, shown as a choice (the models' own lists).
CHOICES: dict[str, tuple[str, ...]] = {
    "covariance": tuple(COVARIANCE_MODES),
    "transition": tuple(TRANSITIONS),
    "regression_estimator": tuple(REGRESSION_ESTIMATORS),
    "multiclass_regression": tuple(MULTICLASS_REGRESSION),
    "kernel": tuple(SVM_KERNELS),  # SVM
    "activation": tuple(ACTIVATIONS),  # MLP
    "decision": tuple(FOLLOWING_DECISIONS),  # every classifier (docs/decisions.md); the
    # model refuses the ones it does not know (the instantaneous models: "following")
    "normalization": tuple(NORMALIZATIONS),  # DTW
    "precision": tuple(PRECISIONS),  # DTW
    # GVF's groups' fields, by their nested names (``<group>__<field>``)
    "estimates__scale": tuple(SCALE_ESTIMATES),
    "templates__kind": tuple(TEMPLATES),
    "estimates__speed": tuple(SPEED_ESTIMATES),
    "alignment__speed": tuple(ALIGN_SPEEDS),
    "alignment__scale_target": tuple(ALIGN_SCALE_TARGETS),
    "recognizer__decision": tuple(RECOGNIZER_DECISIONS),
}
#: Parameters the forms do not show (class_params has its own editor; n_jobs is the engine's).
#: A value given for one is kept as it is.
HIDDEN = ("class_params", "n_jobs")
#: Integer parameters that start at 1 (the others start at 0).
_FROM_ONE = {
    "k",
    "states",
    "gaussians",
    "degree",
    "rounds",
    "hidden",
    "layers",
    "max_iter",
    "likelihood_window",
    "min_samples_leaf",
    "decimate",
    "particles",  # GVF
    "templates__per_class",
    "recognizer__states",
    "alignment__max_step",
    "delta_lag",  # HHMM, GMM
}
#: Float parameters that may be negative.
_SIGNED = {"coef0"}
#: The model of a new output, and the kind the panel offers first.
_DEFAULT_KIND = "knn"
#: Kinds that regress besides the classic regressors: XMM's GMR and HMR.
_XMM_REGRESSORS = ("gmm", "hhmm")
_PER_OUTPUT = "per_output"


def model_channels(project: Any) -> list[str]:
    """The channels a project's model sees: its pipeline's output names for its inputs
    (empty while the input size is unknown or the pipeline does not fit the inputs)."""
    if not project.input_dim:
        return []
    try:
        return list(project.pipeline.output_names(project.input_dim, project.input_names))
    except GesturemapError:
        return []


class FloatEdit(QtWidgets.QLineEdit):
    """A number typed as text, kept exactly (``1e-09``, ``0.1``): a spin box would round it.

    ``value()`` / ``setValue()`` like a spin box; text that is no number reads as NaN, which
    the model's check refuses with a message naming the parameter.
    """

    def setValue(self, value: float) -> None:  # noqa: N802 - the spin boxes' name
        self.setText(repr(float(value)))

    def value(self) -> float:
        try:
            return float(self.text())
        except ValueError:
            return math.nan


def _editor(name: str, default: Any, value: Any) -> QtWidgets.QWidget | None:
    """An editor for one parameter, showing ``value`` (None for a kind it cannot edit)."""
    editor: QtWidgets.QWidget
    if name in CHOICES and isinstance(value, str):
        editor = QtWidgets.QComboBox()
        editor.addItems(CHOICES[name])
        if value not in CHOICES[name]:  # shown as it is; the check names what is allowed
            editor.addItem(value)
        editor.setCurrentText(value)
    elif isinstance(default, bool):
        editor = QtWidgets.QCheckBox()
        editor.setChecked(bool(value))
    elif isinstance(default, int) and isinstance(value, int) and not isinstance(value, bool):
        editor = QtWidgets.QSpinBox()
        editor.setRange(1 if name in _FROM_ONE else 0, 10**7)
        editor.setValue(int(value))
    elif isinstance(default, (int, float)) and isinstance(value, (int, float)):
        editor = FloatEdit()
        editor.setValue(float(value))
        if name not in _SIGNED:
            editor.setToolTip(f"{name}: a number >= 0 (1e-09 and the like are fine)")
    else:
        return None
    editor.setObjectName(name)
    return editor


def _flat(params: dict[str, Any], groups: set[str]) -> dict[str, Any]:
    """``params`` with each parameter group (a group, or the dict of its fields a project
    holds) of ``groups`` given as its fields, ``<group>__<field>``: an editor each."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, ParamGroup):
            value = value.get_params()
        if name in groups and isinstance(value, dict):
            out.update({f"{name}__{k}": v for k, v in value.items()})
        else:
            out[name] = value
    return out


def _value(editor: QtWidgets.QWidget) -> Any:
    if isinstance(editor, QtWidgets.QComboBox):
        return editor.currentText()
    if isinstance(editor, QtWidgets.QCheckBox):
        return editor.isChecked()
    return editor.value()  # type: ignore[attr-defined]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == float(b)
    return bool(a == b) and type(a) is type(b)


def check_kind_params(kind: str, params: dict[str, Any]) -> str | None:
    """What is wrong with ``params`` for a model of ``kind`` (None: nothing): every setting,
    checked as the retrain would (:func:`gesturemap.check_params`), with its message."""
    try:
        check_params(kind, params)
    except GesturemapError as exc:
        return f"{kind}: {exc}" if not str(exc).startswith(f"{kind}:") else str(exc)
    return None


def kinds_for(type_: str) -> list[str]:
    """The kinds a per-output output of ``type_`` ("classifier" / "regressor") may use."""
    out = []
    for kind, cls in sorted(MODEL_REGISTRY.items()):
        if kind == _PER_OUTPUT:
            continue
        if type_ == "regressor":
            ok = getattr(cls, "can_regress", kind in _XMM_REGRESSORS)
        else:
            ok = getattr(cls, "can_classify", True)
        if ok:
            out.append(kind)
    return out


class ParamsForm(QtWidgets.QWidget):
    """The parameters of one model kind, an editor per parameter (by the kind's defaults).

    :meth:`params` gives the parameters that differ from the kind's defaults plus every one
    that :meth:`show_params` was given, so what was shown comes back exactly. A parameter with
    no editor (a list, a dict, None) is shown read-only and kept; hidden ones are kept unseen.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QtWidgets.QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.kind = ""
        self.defaults: dict[str, Any] = {}
        self._given: dict[str, Any] = {}
        self._kept: dict[str, Any] = {}
        self._groups: set[str] = set()

    def show_params(self, kind: str, params: dict[str, Any] | None) -> None:
        """Editors for ``kind``'s parameters, showing ``params`` (the others: defaults)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.kind = kind
        # a parameter group's fields each have an editor, named <group>__<field>
        shallow = MODEL_REGISTRY[kind]().get_params()
        self._groups = {n for n, v in shallow.items() if isinstance(v, ParamGroup)}
        self.defaults = _flat(shallow, self._groups)
        self._given = dict(params or {})
        try:  # settings written before a parameter was renamed: its editor, by the new name
            self._given = with_new_names(MODEL_REGISTRY[kind], self._given)
        except GesturemapError:  # both names given: kept as they are, the check says so
            pass
        self._given = _flat(self._given, self._groups)
        self.editors, self._kept = {}, {}
        for name, default in self.defaults.items():
            value = self._given.get(name, default)
            if name in HIDDEN:
                if name in self._given:
                    self._kept[name] = value
                continue
            editor = _editor(name, default, value)
            if editor is None:
                if name in self._given:
                    self._kept[name] = value
                label = QtWidgets.QLabel(json.dumps(value, default=str))
                label.setObjectName(name)
                label.setToolTip("not editable here (edit project.json); kept as it is")
                self.form.addRow(name, label)
                continue
            self.editors[name] = editor
            self.form.addRow(name, editor)
        for name, value in self._given.items():  # unknown names: the check will say so
            if name not in self.defaults:
                self._kept[name] = value

    def problems(self) -> list[str]:
        """The numbers typed that are no number (``1,5``, ``abc``, nothing): each said with
        the text typed. Read as NaN, the model's check said "got nan", which names neither
        what was typed nor how to write it."""
        out = []
        for name, editor in self.editors.items():
            if isinstance(editor, FloatEdit) and math.isnan(editor.value()):
                text = editor.text().strip()
                if text.lower() != "nan":
                    out.append(f"{self.kind}: {name}: {text!r} is not a number; write it "
                               "with a point, as 0.01 or 1e-09.")
        return out

    def values(self) -> dict[str, Any]:
        """Every parameter as shown (defaults for those without an editor); a parameter
        group's fields by their nested names (``alignment__max_step``)."""
        return {**self.defaults, **self._kept, **{n: _value(e) for n, e in self.editors.items()}}

    def params(self) -> dict[str, Any]:
        """The parameters that differ from the defaults, and those that were given."""
        out: dict[str, Any] = {}
        for name in self.defaults:
            if name in self.editors:
                value = _value(self.editors[name])
                if name in self._given or not _same(value, self.defaults[name]):
                    out[name] = value
            elif name in self._kept:
                out[name] = self._kept[name]
        for name, value in self._kept.items():
            out.setdefault(name, value)
        # a group's fields go back into its dict, as the model and a project take them
        return fold_groups(MODEL_REGISTRY[self.kind], out) if self._groups else out


def _new_output(target: str, type_: str) -> dict[str, Any]:
    return {"kind": _DEFAULT_KIND, "params": {}, "inputs": None, "target": target, "type": type_}


def _default_type(target: Any) -> str:
    return "classifier" if target == "label" else "regressor"


class OutputsEditor(QtWidgets.QGroupBox):
    """The outputs of a ``per_output`` model: one row each, the selected one in detail.

    Each output has a name, a target (``label`` or one of the project's outputs), a type
    (classifier / regressor; the label is always classified), a model kind (those that can do
    the type) with its parameters, and the input channels it sees (all checked: ``None``).
    :meth:`outputs` gives the list of output dicts of :class:`~gesturemap.models.PerOutput`.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("outputs (a model each, on its own inputs)", parent)
        self.channels: list[str] = []
        self.output_names: list[str] = []
        self._specs: list[dict[str, Any]] = []
        self._keys: list[set[str]] = []
        self._row = -1
        self._loading = False
        self.rows = QtWidgets.QListWidget()
        self.rows.setMaximumHeight(110)
        self.rows.currentRowChanged.connect(self._row_picked)
        self.add_button = QtWidgets.QPushButton("Add output")
        self.add_button.clicked.connect(lambda: self.add_output())
        self.remove_button = QtWidgets.QPushButton("Remove output")
        self.remove_button.clicked.connect(lambda: self.remove_output(self.rows.currentRow()))
        self.name = QtWidgets.QLineEdit()
        self.name.setPlaceholderText("(the target's name)")
        self.target = QtWidgets.QComboBox()
        self.target.setToolTip(
            "What this output learns: the takes' labels, or one of the "
            "project's outputs (the values held while recording)"
        )
        self.type = QtWidgets.QComboBox()
        self.type.addItems(["classifier", "regressor"])
        self.kind = QtWidgets.QComboBox()
        self.params = ParamsForm()
        self.inputs = QtWidgets.QListWidget()
        self.inputs.setToolTip(
            "The channels this output's model sees (the pipeline's "
            "outputs); all checked: every channel, now and later"
        )
        self.inputs.setMaximumHeight(120)
        self.name.textEdited.connect(lambda _: self._changed())
        self.target.currentTextChanged.connect(lambda _: self._target_changed())
        self.type.currentTextChanged.connect(lambda _: self._type_changed())
        self.kind.currentTextChanged.connect(lambda _: self._kind_changed())
        self.inputs.itemChanged.connect(lambda _: self._changed())
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        self.details = QtWidgets.QGroupBox("output")
        form = QtWidgets.QFormLayout(self.details)
        form.addRow("name", self.name)
        form.addRow("target", self.target)
        form.addRow("type", self.type)
        form.addRow("model", self.kind)
        form.addRow(self.params)
        form.addRow("inputs", self.inputs)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.rows)
        layout.addLayout(buttons)
        layout.addWidget(self.details)

    # -- what the project offers ------------------------------------------------------------
    def set_channels(self, inputs: list[str], outputs: list[str]) -> None:
        """The channel names a model sees (the pipeline's outputs) and the project's output
        names (the targets a regressor may learn)."""
        inputs, outputs = list(inputs), list(outputs)
        if inputs == self.channels and outputs == self.output_names:
            return
        self._store()
        self.channels, self.output_names = inputs, outputs
        self._show_row(self._row)
        self._fill_rows()

    # -- the outputs ------------------------------------------------------------------------
    def show_outputs(self, outputs: list[dict[str, Any]]) -> None:
        """Show the output dicts of a ``per_output`` model's settings."""
        self._specs = [dict(o) for o in outputs]
        for spec in self._specs:
            spec["params"] = dict(spec.get("params") or {})
        self._keys = [set(o) for o in outputs]
        self._row = -1
        self._fill_rows()
        self.rows.setCurrentRow(0 if self._specs else -1)
        self._row_picked(self.rows.currentRow())

    def default_outputs(self) -> list[dict[str, Any]]:
        """A start: a regressor of each of the project's outputs, else a label classifier."""
        if self.output_names:
            return [_new_output(name, "regressor") for name in self.output_names]
        return [_new_output("label", "classifier")]

    def add_output(self, spec: dict[str, Any] | None = None) -> None:
        """A new output (default: a classifier of the label on every input), selected."""
        self._store()
        spec = dict(spec or _new_output("label", "classifier"))
        spec["params"] = dict(spec.get("params") or {})
        self._specs.append(spec)
        self._keys.append(set(spec) | {"kind", "params", "inputs", "target", "type"})
        self._row = -1
        self._fill_rows()
        self.rows.setCurrentRow(len(self._specs) - 1)

    def remove_output(self, row: int) -> None:
        if not 0 <= row < len(self._specs) or len(self._specs) <= 1:
            return
        self._row = -1  # the row's widgets are not stored back
        del self._specs[row], self._keys[row]
        self._fill_rows()
        self.rows.setCurrentRow(min(row, len(self._specs) - 1))
        self._row_picked(self.rows.currentRow())

    def outputs(self) -> list[dict[str, Any]]:
        """The output dicts: a key is given when it was shown or differs from its default."""
        self._store()
        out = []
        for spec, keys in zip(self._specs, self._keys, strict=True):
            defaults = {
                "params": {},
                "inputs": None,
                "target": "label",
                "type": _default_type(spec.get("target", "label")),
                "name": None,
            }
            item = {"kind": spec["kind"]}
            for key in ("params", "inputs", "target", "type", "name"):
                value = spec.get(key, defaults[key])
                if key in keys or value != defaults[key]:
                    item[key] = value
            out.append(item)
        return out

    def problems(self) -> list[str]:
        """What must change before these outputs can be trained (empty: nothing)."""
        found = []
        for i, spec in enumerate(self.outputs()):
            where = f"output {i + 1} ({spec.get('name') or spec.get('target', 'label')})"
            target = spec.get("target", "label")
            type_ = spec.get("type", _default_type(target))
            if target != "label":
                if not self.output_names:
                    found.append(
                        f"{where} learns {target!r}, but the project has no outputs: "
                        "name them (File › project outputs / the targets), or learn "
                        "the label."
                    )
                elif target not in self.output_names and not (
                    isinstance(target, int) and 0 <= target < len(self.output_names)
                ):
                    found.append(
                        f"{where} learns {target!r}, which is not one of the "
                        f"project's outputs ({', '.join(self.output_names)})."
                    )
            if spec["kind"] not in kinds_for(type_):
                found.append(
                    f"{where}: {spec['kind']} cannot be a {type_}; pick one of "
                    f"{', '.join(kinds_for(type_))}."
                )
            inputs = spec.get("inputs")
            if inputs is not None and not inputs:
                found.append(f"{where} has no input: check at least one channel.")
            elif inputs is not None and self.channels:
                missing = [c for c in inputs if isinstance(c, str) and c not in self.channels]
                if missing:
                    found.append(f"{where}: no channel named {', '.join(missing)} now; uncheck it.")
            wrong = check_kind_params(spec["kind"], spec.get("params") or {})
            if wrong:
                found.append(f"{where}: {wrong}")
        return found

    # -- the rows ---------------------------------------------------------------------------
    def _summary(self, i: int, spec: dict[str, Any]) -> str:
        target = spec.get("target", "label")
        inputs = spec.get("inputs")
        if inputs is None:
            seen = "all inputs"
        else:
            seen = (
                ", ".join(
                    self.channels[c]
                    if isinstance(c, int) and 0 <= c < len(self.channels)
                    else str(c)
                    for c in inputs
                )
                or "no input"
            )
        name = spec.get("name") or str(target)
        type_ = spec.get("type", _default_type(target))
        return f"{i + 1}. {name}: {spec['kind']} {type_} of {target} on {seen}"

    def _fill_rows(self) -> None:
        self.rows.blockSignals(True)
        current = self.rows.currentRow()
        self.rows.clear()
        for i, spec in enumerate(self._specs):
            self.rows.addItem(self._summary(i, spec))
        self.rows.setCurrentRow(min(current, len(self._specs) - 1))
        self.rows.blockSignals(False)
        self.remove_button.setEnabled(len(self._specs) > 1)

    def _row_picked(self, row: int) -> None:
        if row == self._row:
            return
        self._store()
        self._show_row(row)

    def _show_row(self, row: int) -> None:
        self._row = row
        self.details.setEnabled(0 <= row < len(self._specs))
        if not 0 <= row < len(self._specs):
            return
        spec = self._specs[row]
        target = spec.get("target", "label")
        self._loading = True
        try:
            self.details.setTitle(f"output {row + 1}")
            self.name.setText(spec.get("name") or "")
            self.target.clear()
            self.target.addItems(["label", *self.output_names])
            shown = self._target_text(target)
            if self.target.findText(shown) < 0:
                self.target.addItem(shown)  # kept; problems() says it is not there
            self.target.setCurrentText(shown)
            type_ = "classifier" if target == "label" else spec.get("type", "regressor")
            self.type.setCurrentText(type_)
            self.type.setEnabled(target != "label")
            self._fill_kinds(type_, spec["kind"])
            self.params.show_params(spec["kind"], spec.get("params"))
            self._fill_inputs(spec.get("inputs"))
        finally:
            self._loading = False

    def _target_text(self, target: Any) -> str:
        """A target as the combo shows it: an index by its output's name."""
        if isinstance(target, int) and 0 <= target < len(self.output_names):
            return self.output_names[target]
        return str(target)

    def _fill_kinds(self, type_: str, kind: str) -> None:
        self.kind.blockSignals(True)
        self.kind.clear()
        self.kind.addItems(kinds_for(type_))
        if self.kind.findText(kind) < 0:
            self.kind.addItem(kind)  # kept; problems() says it cannot do the type
        self.kind.setCurrentText(kind)
        self.kind.blockSignals(False)

    def _fill_inputs(self, inputs: list[Any] | None) -> None:
        """The project's channels (checked: seen), plus any the spec names that are gone."""
        self.inputs.blockSignals(True)
        self.inputs.clear()
        chosen: set[Any] = set()
        extra: list[Any] = []
        for c in inputs or []:
            if isinstance(c, int) and 0 <= c < len(self.channels):
                chosen.add(self.channels[c])
            elif isinstance(c, str) and c in self.channels:
                chosen.add(c)
            else:
                extra.append(c)
        for key in [*self.channels, *extra]:
            missing = key not in self.channels
            item = QtWidgets.QListWidgetItem(f"{key} (not a channel now)" if missing else key)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            seen = inputs is None or key in chosen or missing
            item.setCheckState(
                QtCore.Qt.CheckState.Checked if seen else QtCore.Qt.CheckState.Unchecked
            )
            self.inputs.addItem(item)
        self.inputs.blockSignals(False)

    def _checked_inputs(self) -> list[Any] | None:
        """The inputs the list shows: None when every channel (and nothing else) is checked."""
        keys, checked = [], []
        for i in range(self.inputs.count()):
            item = self.inputs.item(i)
            key = item.data(QtCore.Qt.ItemDataRole.UserRole)
            keys.append(key)
            if item.checkState() == QtCore.Qt.CheckState.Checked:
                checked.append(key)
        if self.channels and checked == keys == self.channels:
            return None
        return checked

    def _store(self) -> None:
        """Keep what the details show for the output being edited."""
        row = self._row
        if self._loading or not 0 <= row < len(self._specs):
            return
        spec = self._specs[row]
        name = self.name.text().strip()
        spec["name"] = name or ("" if spec.get("name") == "" else None)
        shown_target = self.target.currentText()
        if shown_target != self._target_text(spec.get("target", "label")):
            spec["target"] = shown_target  # else kept as written (an index stays an index)
        spec["type"] = self.type.currentText()
        spec["kind"] = self.kind.currentText()
        spec["params"] = self.params.params()
        inputs = self._checked_inputs()
        old = spec.get("inputs")
        if not self.channels and (old is None or inputs == list(old)):
            inputs = old  # no channels known yet: kept as written
        elif old is not None and inputs is not None and self._same_inputs(old, inputs):
            inputs = old  # the same channels, kept as written (indices stay indices)
        spec["inputs"] = inputs
        if self.rows.item(row) is not None:
            self.rows.item(row).setText(self._summary(row, spec))

    def _same_inputs(self, old: list[Any], new: list[Any]) -> bool:
        """The same channels (indices read as the channels' names), in any order."""

        def key(c: Any) -> str:
            return (
                self.channels[c] if isinstance(c, int) and 0 <= c < len(self.channels) else str(c)
            )

        return len(old) == len(new) and sorted(map(key, old)) == sorted(map(key, new))

    # -- edits ------------------------------------------------------------------------------
    def _changed(self) -> None:
        if not self._loading:
            self._store()

    def _target_changed(self) -> None:
        if self._loading:
            return
        label = self.target.currentText() == "label"
        was_label = (
            0 <= self._row < len(self._specs)
            and self._specs[self._row].get("target", "label") == "label"
        )
        self._loading = True
        try:
            self.type.setEnabled(not label)
            if label:
                self.type.setCurrentText("classifier")
            elif was_label:  # a project output: regressed, as Wekinator's continuous outputs
                self.type.setCurrentText("regressor")
        finally:
            self._loading = False
        self._type_changed()

    def _type_changed(self) -> None:
        if self._loading:
            return
        kinds = kinds_for(self.type.currentText())
        kind = self.kind.currentText()
        self._fill_kinds(self.type.currentText(), kind if kind in kinds else _DEFAULT_KIND)
        if self.kind.currentText() != self.params.kind:
            self.params.show_params(self.kind.currentText(), {})
        self._store()

    def _kind_changed(self) -> None:
        if self._loading:
            return
        self.params.show_params(self.kind.currentText(), {})
        self._store()
