"""The model panel, on its own, driven as a person would, on a real engine.

A person picks ``per_output`` and builds Wekinator's mapping: one output classifies the
gesture from two of the three inputs, another regresses the pitch from the third. What the
panel sends must be what the engine trains (the columns each output sees, one value per output
at run time), a saved setting must show back exactly, and a setting the model would refuse
must be refused in the panel with a message, nothing sent. Every registered kind's form must
build and give settings its model accepts.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gesturemap.gui.model_forms import CHOICES, FloatEdit, ParamsForm, kinds_for, model_channels
from gesturemap.gui.panels import ModelPanel
from gesturemap.gui.session import WindowEngine
from gesturemap.models import MODEL_REGISTRY, PerOutput
from gesturemap.project import Project
from gesturemap.project.settings import stage_model
from gesturemap.sources.base import Frame

from .windows import open_window

pytestmark = pytest.mark.timeout(60)

CHECKED, UNCHECKED = QtCore.Qt.CheckState.Checked, QtCore.Qt.CheckState.Unchecked


def pitch_of(c: np.ndarray) -> np.ndarray:
    return 2.0 * c + 0.5


def mapping_project() -> Project:
    """Inputs a, b, c; outputs pitch, cutoff. The gesture ("up"/"down") lives in a and b, the
    pitch follows c, the cutoff is held still."""
    project = Project(
        "mapping",
        model={"kind": "knn", "params": {}},
        input_names=["a", "b", "c"],
        output_names=["pitch", "cutoff"],
    )
    rng = np.random.default_rng(0)
    for i in range(6):
        label = "up" if i % 2 == 0 else "down"
        n = 40
        sign = 1.0 if label == "up" else -1.0
        ab = sign * np.c_[np.linspace(0, 1, n), np.linspace(0.2, 0.8, n)]
        c = rng.uniform(0, 1, n)
        inputs = np.c_[ab + rng.normal(0, 0.02, (n, 2)), c]
        outputs = np.c_[pitch_of(c), np.full(n, 0.3)]
        project.add_take(inputs, label, times=np.arange(n) / 100.0, outputs=outputs)
    return project


def shown(editor: QtWidgets.QWidget) -> object:
    """The value a parameter editor shows."""
    if isinstance(editor, QtWidgets.QCheckBox):
        return editor.isChecked()
    return editor.value()


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def ticked(editor) -> list[str]:
    """The inputs ticked for the output shown."""
    items = [editor.inputs.item(i) for i in range(editor.inputs.count())]
    return [item.text() for item in items if item.checkState() == CHECKED]


def check_only(editor, names: list[str]) -> None:
    """Tick the inputs ``names`` of the output shown, untick the others (as a person clicks)."""
    for i in range(editor.inputs.count()):
        item = editor.inputs.item(i)
        item.setCheckState(CHECKED if item.text() in names else UNCHECKED)


def test_a_model_per_output_with_its_own_inputs_is_trained_and_run(qtbot):
    project = mapping_project()
    engine = WindowEngine(project, osc_in=None, trainer="thread").start()
    try:
        sent: list[dict] = []
        panel = ModelPanel(lambda s: (sent.append(s), engine.command("set_model_settings", s)))
        qtbot.addWidget(panel)
        panel.show_settings(engine.project.model)
        panel.set_channels(model_channels(engine.project), engine.project.output_names)
        # the person picks a model per output: one row per project output to start with
        panel.kind.setCurrentText("per_output")
        editor = panel.outputs_editor
        assert editor.isVisibleTo(panel) and not panel.params_box.isVisibleTo(panel)
        assert editor.rows.count() == 2
        # output 1: the gesture, from a and b (the label is always classified)
        editor.rows.setCurrentRow(0)
        assert [editor.target.itemText(i) for i in range(editor.target.count())] == [
            "label",
            "pitch",
            "cutoff",
        ]
        editor.target.setCurrentText("label")
        assert editor.type.currentText() == "classifier" and not editor.type.isEnabled()
        kinds = [editor.kind.itemText(i) for i in range(editor.kind.count())]
        assert kinds == kinds_for("classifier")
        assert "linear" not in kinds and "per_output" not in kinds and "svm" in kinds
        editor.kind.setCurrentText("knn")
        editor.params.editors["k"].setValue(3)
        check_only(editor, ["a", "b"])
        # output 2: the pitch, regressed linearly from c
        editor.rows.setCurrentRow(1)
        editor.target.setCurrentText("pitch")
        assert editor.type.currentText() == "regressor"
        kinds = [editor.kind.itemText(i) for i in range(editor.kind.count())]
        assert "linear" in kinds and "svm" not in kinds
        editor.kind.setCurrentText("linear")
        assert "alpha" in editor.params.editors  # the linear model's own form
        editor.name.setText("note")
        editor.name.textEdited.emit("note")
        check_only(editor, ["c"])
        click(qtbot, panel.apply_button)
        assert panel.message.text() == ""
        expected = {
            "kind": "per_output",
            "params": {
                "outputs": [
                    {
                        "kind": "knn",
                        "params": {"k": 3},
                        "inputs": ["a", "b"],
                        "target": "label",
                        "type": "classifier",
                    },
                    {
                        "kind": "linear",
                        "params": {},
                        "inputs": ["c"],
                        "target": "pitch",
                        "type": "regressor",
                        "name": "note",
                    },
                ]
            },
        }
        assert sent == [expected]
        qtbot.waitUntil(lambda: engine.project.model == expected, timeout=2000)
        # the engine trains it like any model
        engine.command("train")
        qtbot.waitUntil(lambda: engine.trainings >= 1, timeout=20000)
        model = engine.model
        assert isinstance(model, PerOutput)
        assert [c.tolist() for c in model.columns_] == [[0, 1], [2]]
        assert model.output_names_ == ["label", "note"]
        # running: one value per output, the class number and the pitch of c
        engine.command("start_running")
        qtbot.waitUntil(lambda: engine.running, timeout=2000)
        for i in range(10):
            engine.queue.put(Frame(1.0 + i / 100, np.array([-0.5, -0.5, 0.25]), "test"))
        qtbot.waitUntil(
            lambda: engine.last_result is not None and engine.frames_in >= 10, timeout=5000
        )
        output = engine.last_result.output
        assert output.shape == (2,)
        assert output[0] == model.labels_.index("down") + 1  # Wekinator's class number
        assert output[1] == pytest.approx(pitch_of(np.array(0.25)), abs=1e-6)
        # the saved settings show back exactly, each output in its details
        again = ModelPanel(lambda s: None)
        qtbot.addWidget(again)
        again.set_channels(["a", "b", "c"], ["pitch", "cutoff"])
        again.show_settings(engine.project.model)
        assert again.settings() == expected
        shown = again.outputs_editor
        shown.rows.setCurrentRow(1)
        assert shown.kind.currentText() == "linear" and shown.name.text() == "note"
        assert ticked(shown) == ["c"]
        assert again.settings() == expected  # looking at a row changes nothing

        # a bad configuration is refused with a message, nothing sent
        check_only(editor, [])  # output 2 (selected in the first panel) sees nothing
        click(qtbot, panel.apply_button)
        assert "output 2 (note) has no input" in panel.message.text()
        assert len(sent) == 1
        check_only(editor, ["c"])
        panel.set_channels(["a", "b", "c"], [])  # the project's outputs are gone
        click(qtbot, panel.apply_button)
        assert "learns 'pitch', but the project has no outputs" in panel.message.text()
        assert len(sent) == 1
        panel.set_channels(["a", "b", "c"], ["pitch", "cutoff"])
        editor.rows.setCurrentRow(0)
        k = editor.params.editors["k"]
        assert k.minimum() == 1  # k = 0 cannot be picked; a panel still refuses it
        k.setMinimum(0)
        k.setValue(0)
        click(qtbot, panel.apply_button)
        assert "k: got 0; expected an integer >= 1" in panel.message.text()
        assert len(sent) == 1
        editor.params.editors["k"].setValue(3)
        # adding and removing outputs
        click(qtbot, editor.add_button)
        assert editor.rows.count() == 3 and editor.rows.currentRow() == 2
        click(qtbot, editor.remove_button)
        assert editor.rows.count() == 2
        click(qtbot, panel.apply_button)
        assert panel.message.text() == "" and sent[-1] == expected
    finally:
        engine.stop()


@pytest.mark.parametrize("kind", sorted(MODEL_REGISTRY))
def test_every_kind_shows_a_form_whose_settings_build_its_model(qtbot, kind):
    panel = ModelPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.set_channels(["a", "b", "c"], ["pitch"])
    panel.kind.setCurrentText(kind)
    settings = panel.settings()
    assert settings["kind"] == kind
    assert panel.problems() == []
    model = MODEL_REGISTRY[kind](**settings["params"])
    if kind == "per_output":
        assert panel.outputs_editor.isVisibleTo(panel)
        assert model.outputs == [
            {"kind": "knn", "params": {}, "inputs": None, "target": "pitch", "type": "regressor"}
        ]
        return
    # a new project's settings for the kind (stage_model), untouched by the editors
    stage = stage_model(kind)["params"]
    assert settings["params"] == stage
    defaults = model.get_params(deep=True)  # (a parameter group's fields: an editor each)
    assert panel.editors and set(panel.editors) <= set(defaults)
    for name, editor in panel.editors.items():
        if name in CHOICES:  # a string with fixed values: every value offered
            assert [editor.itemText(i) for i in range(editor.count())] == list(CHOICES[name])
        else:
            assert shown(editor) == defaults[name]  # exactly: no rounding, no clamping
    # a changed value reaches the settings, and the model accepts it
    name, editor = next(iter(panel.editors.items()))
    if isinstance(editor, FloatEdit):
        editor.setValue(defaults[name] + 0.5)
    elif name in CHOICES:
        editor.setCurrentIndex((editor.currentIndex() + 1) % editor.count())
    elif isinstance(editor, QtWidgets.QCheckBox):
        editor.setChecked(not editor.isChecked())
    else:
        editor.setValue(defaults[name] + 1)
    changed = panel.settings()["params"]
    assert [k for k, v in changed.items() if k not in stage or stage[k] != v] == [name]
    MODEL_REGISTRY[kind](**changed)
    assert panel.problems() == []


def test_every_text_setting_of_every_kind_is_offered_as_its_choices():
    """A model parameter whose default is text takes one of a fixed set of values: the form
    offers them as a list (a free text field let a performer type a value only the check at
    Apply refused; GVF's alignment's scale_target was one). A parameter group's fields count
    by their nested names."""
    missing = [
        (kind, name)
        for kind, cls in MODEL_REGISTRY.items()
        for name, value in cls().get_params(deep=True).items()
        if isinstance(value, str) and name not in CHOICES
    ]
    assert missing == []
    assert CHOICES["alignment__scale_target"] == ("particles", "amplitude")


def test_gvf_settings_are_choices_and_counts_from_one(qtbot):
    """GVF's scale estimate and template are offered as their fixed values (not the removed
    ones); its counts (particles, templates, the recognizer's states) cannot be set to 0,
    which it refuses. A group's field has its own editor, and a changed one comes back in its
    group's dict, as the model and a project take it."""
    panel = ModelPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.show_settings({"kind": "gvf", "params": {}})
    for name, values in (("estimates__scale", ["sampled", "fitted", "align"]),
                         ("templates__kind", ["mean", "medoid"]),
                         ("estimates__speed", ["sampled", "align", "align_open"]),
                         ("recognizer__decision", ["decaying", "cumulative"]),
                         ("alignment__speed", ["slope", "chord"])):
        editor = panel.editors[name]
        assert isinstance(editor, QtWidgets.QComboBox), name
        assert [editor.itemText(i) for i in range(editor.count())] == values
    panel.editors["estimates__scale"].setCurrentText("sampled")
    assert panel.settings()["params"] == {"estimates": {"scale": "sampled"}}
    for name in ("particles", "templates__per_class", "recognizer__states",
                 "alignment__max_step"):
        editor = panel.editors[name]
        editor.setValue(0)
        assert editor.value() == 1, name
    panel.editors["alignment__max_step"].setValue(8)  # (below the default limit, 48)
    assert panel.settings()["params"]["alignment"] == {"max_step": 8}
    assert "estimates__speed_states" not in panel.editors  # (read only by the removed warps)
    assert panel.problems() == []
    model = MODEL_REGISTRY["gvf"](**panel.settings()["params"])
    assert (model.alignment.max_step, model.estimates.scale) == (8, "sampled")
    # settings saved with the flat names of before show in the groups' editors
    panel.show_settings({"kind": "gvf", "params": {"align_max_step": 24,
                                                   "posture_in_particles": False}})
    assert panel.editors["alignment__max_step"].value() == 24
    assert panel.settings()["params"] == {"alignment": {"max_step": 24}}
    # and those holding a removed estimate show the value they now run with
    panel.show_settings({"kind": "gvf", "params": {"speed_estimate": "warp_rescaled",
                                                   "scale_estimate": "warp_fitted",
                                                   "speed_states": 10}})
    assert panel.editors["estimates__speed"].currentText() == "align_open"
    assert panel.editors["estimates__scale"].currentText() == "align"
    assert panel.problems() == []
    gvf = MODEL_REGISTRY["gvf"]
    assert gvf(**panel.settings()["params"]).estimates == gvf.Estimates()


@pytest.mark.parametrize("kind, default", [("hhmm", 2), ("gmm", 4)])
def test_the_delta_lag_is_a_count_from_one(qtbot, kind, default):
    """The delta's lag (the HHMM's default 2) shows its default,
    cannot be set to 0, which the model refuses, and a lag typed in reaches the settings the
    model is built with."""
    panel = ModelPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.show_settings({"kind": kind, "params": {}})
    editor = panel.editors["delta_lag"]
    assert isinstance(editor, QtWidgets.QSpinBox) and editor.value() == default
    editor.setValue(0)
    assert editor.value() == 1
    editor.setValue(3)
    assert panel.settings()["params"] == {"delta_lag": 3}
    assert panel.problems() == []
    assert MODEL_REGISTRY[kind](**panel.settings()["params"]).delta_lag == 3


def test_choices_and_exact_numbers_of_the_classic_models(qtbot):
    panel = ModelPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.show_settings({"kind": "svm", "params": {"kernel": "poly", "coef0": -1.5}})
    assert panel.editors["kernel"].currentText() == "poly"
    assert panel.settings() == {"kind": "svm", "params": {"kernel": "poly", "coef0": -1.5}}
    panel.show_settings({"kind": "mlp", "params": {"activation": "tanh"}})
    panel.editors["activation"].setCurrentText("logistic")
    assert panel.settings()["params"] == {"activation": "logistic"}
    # tiny and large numbers are neither rounded nor clamped
    panel.show_settings({"kind": "naive_bayes", "params": {"var_smoothing": 1e-12}})
    assert panel.settings()["params"] == {"var_smoothing": 1e-12}
    panel.show_settings({"kind": "knn", "params": {}})
    assert panel.editors["max_frames"].value() == 20000
    # a value given equal to the default, or one without an editor, comes back as given
    saved = {"kind": "dtw", "params": {"band": 0.1, "n_jobs": 2}}
    panel.show_settings(saved)
    assert panel.settings() == saved
    # a number the model refuses is not sent
    panel.editors["band"].setText("two")
    assert panel.apply() is False
    assert "band" in panel.message.text()


def test_the_window_offers_its_channels_and_outputs_and_retrains_a_saved_per_output_model(
    qtbot, tmp_path
):
    project = mapping_project()
    saved_outputs = [
        {"kind": "knn", "inputs": [0, 1], "target": "label"},
        {"kind": "linear", "inputs": ["c"], "target": "pitch", "type": "regressor"},
    ]
    saved = {"kind": "per_output", "params": {"outputs": saved_outputs}}
    project.model = saved
    window = open_window(qtbot, project, tmp_path / "mapping")
    panel = window.model_panel
    editor = panel.outputs_editor
    # the window's refresh gives the panel the channels the model sees and the outputs
    qtbot.waitUntil(lambda: editor.channels == ["a", "b", "c"], timeout=10000)
    assert editor.output_names == ["pitch", "cutoff"]
    assert panel.kind.currentText() == "per_output" and panel.settings() == saved
    editor.rows.setCurrentRow(0)
    assert ticked(editor) == ["a", "b"]  # indices shown as the channels' names
    # the person lets output 1 see every input, and applies: the engine retrains
    check_only(editor, ["a", "b", "c"])
    trainings = window.engine.trainings
    click(qtbot, panel.apply_button)
    first = {"kind": "knn", "inputs": None, "target": "label"}  # all inputs: None
    expected = {"kind": "per_output", "params": {"outputs": [first, saved_outputs[1]]}}
    qtbot.waitUntil(lambda: window.project.model == expected, timeout=10000)
    qtbot.waitUntil(lambda: window.engine.trainings > trainings, timeout=20000)
    qtbot.waitUntil(lambda: "trained in" in window.train_status.text(), timeout=5000)
    assert panel.message.text() == ""


def test_outputs_written_by_hand_show_back_exactly(qtbot):
    """Indices stay indices, absent keys stay absent, before and after the channels are known."""
    written = {
        "kind": "per_output",
        "params": {
            "outputs": [
                {"kind": "svm", "params": {"kernel": "linear"}, "inputs": [2, 0]},
                {"kind": "knn", "target": 1, "name": ""},
                {"kind": "gmm", "target": 7, "type": "regressor"},  # no such output
            ]
        },
    }
    panel = ModelPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.show_settings(written)
    assert panel.settings() == written
    panel.set_channels(["a", "b", "c"], ["pitch", "cutoff"])
    editor = panel.outputs_editor
    for row in (2, 1, 0):
        editor.rows.setCurrentRow(row)
    assert ticked(editor) == ["a", "c"] and editor.kind.currentText() == "svm"
    assert panel.settings() == written
    assert any("7" in p and "not one of the project's outputs" in p for p in panel.problems())


@pytest.mark.parametrize("kind, params, message", [
    # checks the retrain runs and the panel used to skip (GMM/HHMM checks live elsewhere than
    # the classic models' _check_params)
    ("gmm", {"relative_regularization": 0.0, "absolute_regularization": 0.0},
     "both 0"),
    ("hhmm", {"states": 0}, "states: got 0; expected an integer >= 1"),
    ("hhmm", {"covariance": "spherical"}, "covariance: got 'spherical'"),
    ("hhmm", {"class_params": {"circle": {"states": 0}}},
     "class_params['circle'].states: got 0; expected an integer >= 1"),
    ("gmm", {"class_params": {"circle": {"gaussians": 0}}},
     "class_params['circle'].gaussians: got 0"),
    ("per_output", {"outputs": [{"kind": "gmm", "params": {"gaussians": 0}}]},
     "outputs[0].params: gaussians: got 0"),
])
def test_the_panel_refuses_what_the_retrain_refuses(qtbot, kind, params, message):
    import gesturemap as gm
    from gesturemap.errors import GesturemapError
    from gesturemap.gui.model_forms import check_kind_params

    with pytest.raises(GesturemapError, match=message.replace("[", r"\[").replace(".", r"\.")):
        gm.check_params(kind, params)
    wrong = check_kind_params(kind, params)
    assert wrong is not None and message in wrong
    panel = ModelPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.settings = lambda: {"kind": kind, "params": params}  # what the editors would hold
    if kind == "per_output":
        panel.outputs_editor.problems = lambda: []
    assert not panel.apply() and message in panel.message.text()


def test_the_dtw_form_offers_its_decision_normalisation_and_speed_settings(qtbot):
    panel = ModelPanel(lambda s: None)
    qtbot.addWidget(panel)
    panel.set_channels(["a", "b"], [])
    panel.kind.setCurrentText("dtw")
    editors = panel.editors
    assert {"decision", "normalization", "precision", "prune", "decimate"} <= set(editors)
    items = {name: [editors[name].itemText(i) for i in range(editors[name].count())]
             for name in ("decision", "normalization", "precision")}
    assert items["normalization"] == ["auto", "global", "window", "take", "running", "none"]
    assert items["precision"] == ["float64", "float32"]
    assert editors["decimate"].minimum() == 1
    editors["normalization"].setCurrentText("take")
    editors["prune"].setChecked(True)
    assert panel.settings()["params"] == {"decision": "following", "normalization": "take",
                                          "prune": True}
    assert panel.problems() == []
    editors["decision"].setCurrentText("window")  # DTW decides cumulatively or decaying
    assert panel.problems() and "decision" in panel.problems()[0]


def test_the_hmm_form_shows_its_em_settings_by_their_new_names(qtbot):
    """gm.HMM's EM stopping is ``em_max_iterations`` / ``em_tolerance``, as the XMM models
    say it; settings written with the old names (``iterations``, ``tolerance``) show in those
    editors and come back under the new names."""
    form = ParamsForm()
    qtbot.addWidget(form)
    form.show_params("hmm", {"iterations": 9, "tolerance": 0.5})
    assert "iterations" not in form.editors and "tolerance" not in form.editors
    assert form.editors["em_max_iterations"].value() == 9
    assert form.editors["em_tolerance"].value() == 0.5
    assert form.params() == {"em_max_iterations": 9, "em_tolerance": 0.5}


def test_a_number_typed_as_no_number_is_said_as_typed(qtbot, tmp_path):
    """1,5 (a decimal comma) or "abc" in a number field: "Not applied: ... got nan; expected
    a finite number", which named neither what was typed nor how to write it."""
    from .windows import mislabelled_pad_project

    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "p", engine="thread")
    panel = window.model_panel
    panel.kind.setCurrentText("hhmm")
    field = panel.editors["relative_regularization"]
    for text in ("1,5", "abc", ""):
        field.setText(text)
        assert not panel.apply()
        assert f"relative_regularization: {text!r} is not a number" in panel.message.text()
        assert "nan" not in panel.message.text()
    field.setText("0.05")
    assert panel.apply()
    qtbot.waitUntil(lambda: window.engine.project.model["kind"] == "hhmm", timeout=10000)


def test_the_kind_picked_again_shows_the_projects_settings(qtbot, tmp_path):
    """Looking at another kind and back at the project's own: the form showed that kind's
    defaults (gaussians 1 for a GMM trained with 2), and Apply then retrained with them."""
    from .windows import mislabelled_pad_project

    project, _ = mislabelled_pad_project()  # a GMM, gaussians 2
    window = open_window(qtbot, project, tmp_path / "p", engine="thread")
    panel = window.model_panel
    qtbot.waitUntil(lambda: panel.kind.currentText() == "gmm", timeout=10000)
    assert panel.editors["gaussians"].value() == 2
    panel.kind.setCurrentText("hhmm")
    assert "states" in panel.editors  # another kind: its own form
    panel.kind.setCurrentText("gmm")
    assert panel.editors["gaussians"].value() == 2
    assert panel.apply()
    qtbot.waitUntil(lambda: window._train_sent is None, timeout=20000)
    assert window.engine.project.model["params"]["gaussians"] == 2
