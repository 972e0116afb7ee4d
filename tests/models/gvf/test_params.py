"""GVF's settings in groups (gesturemap.models.gvf.params): nested parameters as scikit-learn's
meta-estimators have them, plain JSON in files, the flat names of before still read, the
removed options refused with their reason, bad values named."""

from __future__ import annotations

import copy
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError, GesturemapError
from gesturemap.models.base import jsonable_params
from gesturemap.models.gvf import Alignment, Estimates, Recognizer, Templates, Tracking
from gesturemap.models.gvf.params import GROUPS, OLD_NAMES, REMOVED, REMOVED_VALUES, UNUSED
from gesturemap.project.training import carry_runtime_settings

from .test_core import _shapes_dataset

#: A GVF saved by the code before the groups (its params flat: ``align_max_step``...).
OLD_FILE = Path(__file__).resolve().parents[2] / "data" / "gvf" / "gvf_flat_params.json"


def _old_file_dataset(datasets_dir: Path) -> gm.Dataset:
    """The takes the old file was trained on (tests/data/gvf/README.md)."""
    from tests.recordings import hapt_transition_takes

    takes, labels, _ = hapt_transition_takes(datasets_dir / "HAPTTransitions")
    ds = gm.Dataset()
    for label in sorted(set(labels))[:2]:
        for i in [i for i in range(len(takes)) if labels[i] == label][:3]:
            ds.add(takes[i][:, :3], label=label)
    return ds


def test_a_file_saved_with_the_flat_names_loads_silently_and_runs_as_the_groups_do(
        datasets_dir, tmp_path):
    assert "align_max_step" in json.loads(OLD_FILE.read_text())["params"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning for a file
        old = gm.load(OLD_FILE)
    assert old.alignment.max_step == 24 and old.templates.per_class == 2
    # (its estimates__speed_states, read only by the removed time warps, left out)
    assert old.recognizer.states == 3 and old.estimates == Estimates(scale_window=50.0)
    assert old.tolerance == 0.5 and old.particles == 60
    # the same settings in the new spelling, fitted now on the same takes: the same model
    new = gm.GVF(60, tolerance=0.5, templates=Templates(per_class=2),
                 recognizer=Recognizer(states=3),
                 estimates=Estimates(scale_window=50.0),
                 alignment=Alignment(max_step=24)).fit(_old_file_dataset(datasets_dir))
    assert new.get_params() == old.get_params()
    np.testing.assert_array_equal(new.templates_, old.templates_)
    x = np.vstack([r.inputs for r in _old_file_dataset(datasets_dir)][:2])
    # to rounding: the file's recogniser was fitted on another machine, whose BLAS and SIMD
    # sum in another order (its EM's log-likelihoods differ here in the 16th digit)
    for a, b in zip(old.stream().run(x), new.stream().run(x), strict=True):
        for field in ("log_likelihoods", "progress", "speed", "scale"):
            np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-10,
                                       atol=1e-12)
    # saved again, it writes the groups (plain JSON objects) and no flat name
    params = json.loads(old.save(tmp_path / "again").read_text())["params"]
    assert params["alignment"]["max_step"] == 24 and params["templates"]["per_class"] == 2
    assert not set(params) & (set(OLD_NAMES) | set(REMOVED) | set(UNUSED))
    assert "speed_states" not in params["estimates"]


def test_flat_names_in_code_still_work_and_warn_naming_the_new_spelling():
    with pytest.warns(DeprecationWarning, match=r"alignment=GVF\.Alignment\(max_step=\.\.\.\)"):
        model = gm.GVF(align_max_step=24, tolerance=0.5)
    assert model.alignment == Alignment(max_step=24) and model.tolerance == 0.5
    with pytest.warns(DeprecationWarning, match="tracking__restart_probability"):
        model.set_params(restart_probability=0.01)
    assert model.tracking.restart_probability == 0.01 and model.alignment.max_step == 24
    # a flat name beside its group: the group's other fields stay
    with pytest.warns(DeprecationWarning):
        model = gm.GVF(alignment=Alignment(floor=0.05), align_max_step=12)
    assert (model.alignment.floor, model.alignment.max_step) == (0.05, 12)
    # a field given twice is refused, saying so
    with pytest.raises(GesturemapError, match="alignment__max_step is given twice"), \
            pytest.warns(DeprecationWarning):
        gm.GVF(alignment={"max_step": 8}, align_max_step=12)


def test_nested_parameters_as_scikit_learn_names_them():
    model = gm.GVF(2000, alignment=Alignment(max_step=24))
    shallow, deep = model.get_params(), model.get_params(deep=True)
    assert not any("__" in k for k in shallow)  # what clone, copy and the trainer use
    assert shallow["alignment"] == Alignment(max_step=24)
    assert deep["alignment__max_step"] == 24 and deep["particles"] == 2000
    for name, group in GROUPS.items():
        for field, value in group().get_params().items():
            if (name, field) != ("alignment", "max_step"):
                assert deep[f"{name}__{field}"] == value, (name, field)
    assert model.set_params(alignment__max_step=12, recognizer__weight=0.0) is model
    assert model.alignment == Alignment(max_step=12) and model.recognizer.weight == 0.0
    assert model.alignment.floor == Alignment().floor  # the other fields stay
    model.set_params(alignment={"floor": 0.05})  # a whole group, as a dict of its fields
    assert model.alignment == Alignment(floor=0.05)
    clone = type(model)(**model.get_params())
    assert clone.get_params() == model.get_params() == copy.deepcopy(model).get_params()
    # as the trainer sends a model to its worker: JSON, each group a dict of its fields
    sent = json.loads(json.dumps(jsonable_params(model.get_params())))
    assert sent["alignment"] == Alignment(floor=0.05).get_params()
    assert type(model)(**sent).get_params() == model.get_params()
    assert gm.check_params("gvf", sent) == model.get_params()
    # groups are frozen: a change is a new group, the model's own stays
    with pytest.raises(AttributeError):
        model.alignment.max_step = 3
    assert model.alignment.replace(max_step=3).max_step == 3 and model.alignment.max_step == 48
    # the groups are the model's public names
    assert gm.GVF.Alignment is Alignment and gm.GVF.Tracking is Tracking
    assert Alignment(max_step=8) == {"max_step": 8}  # as a project's settings hold it


def test_saved_and_loaded_the_groups_are_plain_json_and_the_streams_the_same(tmp_path):
    model = gm.GVF(150, random_state=4, tracking=Tracking(speed_noise=0.02),
                   templates=Templates(per_class=2, learned_tolerance=True),
                   alignment=Alignment(max_step=24, reset_margin=None)).fit(_shapes_dataset())
    path = model.save(tmp_path / "gvf")
    params = json.loads(path.read_text())["params"]
    assert params["alignment"]["max_step"] == 24 and params["alignment"]["reset_margin"] is None
    assert params["tracking"] == Tracking(speed_noise=0.02).get_params()
    loaded = gm.load(path)
    assert loaded.get_params(deep=True) == model.get_params(deep=True)
    x = np.vstack([r.inputs for r in _shapes_dataset()][:3])
    for a, b in zip(model.stream().run(x), loaded.stream().run(x), strict=True):
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)
        np.testing.assert_array_equal(a.speed, b.speed)
        np.testing.assert_array_equal(a.scale, b.scale)


@pytest.mark.parametrize("build, name", [
    (lambda: Alignment(max_step=0), "alignment__max_step"),
    (lambda: Alignment(max_step=1.5), "alignment__max_step"),
    (lambda: Alignment(speed="fast"), "alignment__speed"),
    (lambda: Alignment(reset_margin=-1.0), "alignment__reset_margin"),
    (lambda: Tracking(restart_probability=2.0), "tracking__restart_probability"),
    (lambda: Tracking(phase_noise=float("nan")), "tracking__phase_noise"),
    (lambda: Templates(per_class=0), "templates__per_class"),
    (lambda: Templates(start_posture="yes"), "templates__start_posture"),
    (lambda: Recognizer(weight=1.5), "recognizer__weight"),
    (lambda: Estimates(scale="big"), "estimates__scale"),
    (lambda: Estimates(scale_window=0.5), "estimates__scale_window"),
    (lambda: gm.GVF(alignment={"max_stp": 4}), "alignment key"),
    (lambda: gm.GVF(alignment=4), "alignment"),
    (lambda: gm.GVF().set_params(alignment__max_step=100), "alignment__max_step"),
    (lambda: gm.GVF().set_params(alignment__nothing=1), "alignment__nothing"),
    (lambda: gm.GVF().set_params(particles__max_step=1), "particles__max_step"),
])
def test_a_bad_value_is_refused_naming_the_parameter(build, name):
    with pytest.raises(GesturemapError, match=name):
        build()


def test_a_bad_value_in_a_file_is_a_format_error_naming_it(tmp_path):
    path = gm.GVF(100).fit(_shapes_dataset()).save(tmp_path / "gvf")
    meta = json.loads(path.read_text())
    meta["params"]["alignment"]["max_step"] = -4
    path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="alignment__max_step"):
        gm.load(path)


@pytest.mark.parametrize("name, rejected", [("posture_in_particles", True),
                                            ("recognizer_schedule", "progress"),
                                            ("recognizer_input", "rescaled")])
def test_a_removed_option_keeps_its_kept_value_and_refuses_the_rejected_one(
        name, rejected, tmp_path):
    kept = REMOVED[name][0]
    with pytest.warns(DeprecationWarning, match=f"{name!r} was removed"):
        model = gm.GVF(100, **{name: kept})
    assert model.get_params() == gm.GVF(100).get_params()
    with pytest.raises(GesturemapError, match=f"{name}={rejected!r} is no longer available"):
        gm.GVF(100, **{name: rejected})
    # in a file: the kept value loads silently, the rejected one is refused, saying why
    shutil.copy(OLD_FILE.with_suffix(".npz"), tmp_path / OLD_FILE.with_suffix(".npz").name)
    meta = json.loads(OLD_FILE.read_text())
    assert meta["params"][name] == kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gm.load(OLD_FILE)
    meta["params"][name] = rejected
    (tmp_path / OLD_FILE.name).write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="no longer available: .*cross-validation"):
        gm.load(tmp_path / OLD_FILE.name)


def _old_file_with(tmp_path, name, **params):
    """The old file (flat names) with ``params`` changed, as the code of before saved them."""
    shutil.copy(OLD_FILE.with_suffix(".npz"), tmp_path / OLD_FILE.with_suffix(".npz").name)
    meta = json.loads(OLD_FILE.read_text())
    meta["params"].update(params)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(meta))
    return path


def test_a_file_with_a_removed_estimate_loads_with_the_default_said_once_in_the_log(
        tmp_path, caplog, monkeypatch):
    # the flat names of before: the time warps' speed and scale, their HHMM's states, the
    # warp HHMM's meta and arrays ("speed_hhmm") beside the recognizer's
    meta = json.loads(OLD_FILE.read_text())
    assert meta["params"]["speed_states"] == 3 and "speed_hhmm" in meta
    assert any(k.startswith("speed_hhmm_") for k in np.load(OLD_FILE.with_suffix(".npz")))
    path = _old_file_with(tmp_path, "warps", speed_estimate="warp_rescaled",
                          scale_estimate="warp_fitted")
    reference = gm.load(OLD_FILE)  # (the kept estimates: align_open, align)
    # (what the log said before in this process: nothing, whichever tests ran first)
    monkeypatch.setattr("gesturemap.models.base._SAID", set())
    caplog.set_level("WARNING", logger="gesturemap.models")
    caplog.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file: the log says it, no DeprecationWarning
        model = gm.load(path)
        gm.load(path)
    assert model.estimates == Estimates(scale_window=50.0)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2, said  # once per value, not once per load
    assert "estimates__speed='warp_rescaled' was removed" in said[0] and "'align_open'" in said[0]
    assert "estimates__scale='warp_fitted' was removed" in said[1] and "'align'" in said[1]
    x = np.vstack([reference.templates_[:40], reference.templates_[-40:]]) * reference.scale_ \
        + reference.mean_
    for a, b in zip(model.stream().run(x), reference.stream().run(x), strict=True):
        np.testing.assert_array_equal(a.speed, b.speed)
        np.testing.assert_array_equal(a.scale, b.scale)
    # saved again: the kept values, the groups' names, no time warp or its HHMM
    again = model.save(tmp_path / "again")
    meta = json.loads(again.read_text())
    assert meta["params"]["estimates"] == {"speed": "align_open", "scale": "align",
                                           "speed_window": 0.0, "scale_window": 50.0}
    assert "speed_hhmm" not in meta
    assert not any(k.startswith("speed_hhmm_") for k in np.load(again.with_suffix(".npz")))


@pytest.mark.parametrize("estimates", [
    {"speed": "align_anchor", "scale": "align", "speed_window": 0.0, "scale_window": 50.0,
     "speed_states": 10},
    {"speed": "warp", "scale": "warp_fitted", "speed_window": 0.0, "scale_window": 50.0,
     "speed_states": 0}])
def test_a_file_with_the_groups_and_a_removed_estimate_loads_with_the_default(
        tmp_path, estimates):
    # as files were saved once the settings were grouped and before the options left
    grouped = json.loads(gm.load(OLD_FILE).save(tmp_path / "grouped").read_text())
    grouped["params"]["estimates"] = estimates
    path = tmp_path / "grouped.json"
    path.write_text(json.dumps(grouped))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = gm.load(path)
    assert model.estimates == Estimates(scale_window=50.0)
    for name, (values, _) in REMOVED_VALUES.items():
        field = name.split("__")[1]
        assert getattr(model.estimates, field) == values.get(estimates[field], estimates[field])


def test_a_project_with_a_removed_estimate_loads_with_the_default(tmp_path):
    gm.Project(model={"kind": "gvf", "params": {}}).save(tmp_path / "p")
    project_file = tmp_path / "p" / "project.json"
    for params in ({"speed_estimate": "align_anchor", "scale_estimate": "warp_fitted",
                    "speed_states": 10, "align_max_step": 24},
                   {"estimates": {"speed": "warp_rescaled", "speed_states": 0},
                    "alignment": {"max_step": 24}}):
        saved = json.loads(project_file.read_text())
        saved["model"]["params"] = params
        project_file.write_text(json.dumps(saved))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            project = gm.Project.load(tmp_path / "p")
        model = project.new_model()
        assert model.estimates == Estimates() and model.alignment == Alignment(max_step=24)
        project.save(tmp_path / "p")
        saved = json.loads(project_file.read_text())["model"]["params"]
        # (the kept values, written as they were given; the groups' names only)
        assert set(saved) <= {"alignment", "estimates"} and saved["alignment"] == {"max_step": 24}
        assert Estimates.from_value(saved.get("estimates")) == Estimates(), saved


def test_a_project_with_the_flat_names_loads_them_into_the_groups(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project = gm.Project(model={"kind": "gvf", "params": {"align_max_step": 24,
                                                              "posture_in_particles": False}})
    project.save(tmp_path / "p")
    saved = json.loads((tmp_path / "p" / "project.json").read_text())["model"]
    assert saved["params"] == {"alignment": {"max_step": 24}}
    assert gm.Project.load(tmp_path / "p").new_model().alignment == Alignment(max_step=24)


def test_a_projects_run_time_fields_reach_a_trained_model_without_a_new_fit():
    model = gm.GVF(100).fit(_shapes_dataset())
    settings = {"kind": "gvf", "params": {"alignment": {"max_step": 12},
                                          "templates": {"per_class": 2}}}
    # the alignment's step is run-time; the templates per class need a new fit
    assert carry_runtime_settings(settings, model) == ["alignment__max_step"]
    assert model.alignment.max_step == 12 and model.templates.per_class == 4
    assert carry_runtime_settings(settings, model) == []  # nothing left to change
