"""Tests of gesturemap.project: takes, training set, saving, loading, and a process killed mid-save."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.features import OneEuro, Pipeline, Resample, Select, Standardize
from gesturemap.models import GMM, HHMM, MODEL_REGISTRY
from gesturemap.project import Project, Take
from gesturemap.utils import storage as _io
from tests.paths import REPO_DIR
from tests.stage_helpers import rest_of


def _gesture(seed: int, t: int = 30, d: int = 3, offset: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, t)[:, None] * np.arange(1, d + 1)
    return ramp + offset + 0.05 * rng.normal(size=(t, d))


def _times(t: int, seed: int) -> np.ndarray:
    # Jittery but increasing, as arrival times are.
    return np.cumsum(0.02 + 0.002 * np.random.default_rng(seed).random(t)) - 0.02


def _regression_project(**settings: object) -> Project:
    project = Project(
        "theremin",
        model={"kind": "hhmm", "params": {"states": 3}},
        pipeline=Pipeline([OneEuro(min_cutoff=2.0, beta=0.01), Standardize()], rate_hz=50.0),
        sensor={"transport": "osc", "host": "127.0.0.1", "port": 6448, "profile": "wekinator"},
        outputs={"host": "127.0.0.1", "port": 12000,
                 "addresses": {"outputs": "/wek/outputs"}},
        input_names=["ax", "ay", "az"],
        output_names=["pitch", "gain"],
        classes=["up", "down", "still"],
        **settings,  # type: ignore[arg-type]
    )
    for i in range(6):
        label = "up" if i % 2 else "down"
        inputs = _gesture(i, offset=0.0 if label == "up" else 2.0)
        targets = np.column_stack([np.linspace(0, 1, 30), np.full(30, i % 2)])
        project.add_take(inputs, label, times=_times(30, i), outputs=targets)
    return project


def _assert_same_takes(a: Project, b: Project) -> None:
    assert [t.id for t in a.takes] == [t.id for t in b.takes]
    for x, y in zip(a.takes, b.takes, strict=True):
        assert (x.label, x.created) == (y.label, y.created)
        for name in ("inputs", "times", "outputs"):
            u, v = getattr(x, name), getattr(y, name)
            assert (u is None) == (v is None), name
            if u is not None:
                assert u.dtype == v.dtype == np.float64 and np.array_equal(u, v), name
                assert not v.flags.writeable


def _stream_results(model: object, frames: np.ndarray) -> list:
    stream = model.stream()  # type: ignore[attr-defined]
    return [dataclasses.astuple(stream.step(f)) for f in frames]


def _same_results(a: list, b: list) -> bool:
    for ra, rb in zip(a, b, strict=True):
        for u, v in zip(ra, rb, strict=True):
            if isinstance(u, np.ndarray):
                if not np.array_equal(u, v):
                    return False
            elif u != v:
                return False
    return True


# ---- takes --------------------------------------------------------------------------------------


def test_add_take_copies_freezes_and_numbers_takes() -> None:
    project = Project()
    assert project.input_dim is None and project.takes == () and project.trained is None
    inputs = _gesture(0)
    take = project.add_take(inputs, "circle")
    inputs[0, 0] = 99.0
    assert isinstance(take, Take) and take.id == "take-000000" and take.length == 30
    assert take.inputs[0, 0] != 99.0 and not take.inputs.flags.writeable
    assert take.times is None and take.outputs is None and take.created
    assert project.input_dim == 3 and project.classes == ["circle"]
    second = project.add_take(_gesture(1), "swipe", times=np.arange(30) / 50)
    assert second.id == "take-000001" and second.times is not None
    assert project.take("take-000001") is second


def test_take_ids_are_never_reused(tmp_path: Path) -> None:
    project = Project()
    for i in range(3):
        project.add_take(_gesture(i), "a")
    project.remove_take("take-000002")
    assert project.add_take(_gesture(3), "a").id == "take-000003"
    project.save(tmp_path / "p")
    project.remove_take("take-000003")
    project.save(tmp_path / "p")
    reloaded = Project.load(tmp_path / "p")
    assert [t.id for t in reloaded.takes] == ["take-000000", "take-000001"]
    assert reloaded.add_take(_gesture(4), "a").id == "take-000004"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inputs": np.zeros((10, 4))}, "3 columns"),
        ({"inputs": np.full((10, 3), np.nan)}, "NaN"),
        ({"inputs": np.zeros((0, 3))}, "at least one frame"),
        ({"label": 7}, "str"),
        ({"label": True}, "True/False"),
        ({"label": ""}, "non-empty"),
        ({"times": np.arange(9.0)}, "one time per input frame"),
        ({"times": np.full(10, np.inf)}, "finite"),
        ({"outputs": np.zeros((10, 2))}, "None"),
    ],
)
def test_add_take_refuses_bad_data_and_leaves_the_project_unchanged(
    change: dict, message: str
) -> None:
    project = Project()
    project.add_take(np.zeros((10, 3)), "a")
    take = {"inputs": np.ones((10, 3)), "label": "b", "times": None, "outputs": None} | change
    with pytest.raises(GesturemapError, match=message):
        project.add_take(**take)
    assert len(project.takes) == 1 and project.classes == ["a"]
    assert len(project.raw_dataset()) == 1
    assert project.add_take(np.ones((10, 3)), "b").id == "take-000001"


def test_input_size_from_names_or_first_frame() -> None:
    named = Project(input_names=["x", "y"])
    assert named.input_dim == 2
    with pytest.raises(GesturemapError, match="2 columns"):
        named.add_take(np.zeros((5, 3)), "a")
    fresh = Project()
    fresh.input_dim = 4  # the sensor's first frame had 4 values
    with pytest.raises(GesturemapError, match="4 columns"):
        fresh.add_take(np.zeros((5, 3)), "a")
    fresh.add_take(np.zeros((5, 4)), "a")
    with pytest.raises(GesturemapError, match="input_dim"):
        fresh.input_dim = 3
    with pytest.raises(GesturemapError, match="integer"):
        Project().input_dim = 0


def test_names_can_be_set_later_when_they_fit_the_takes(tmp_path: Path) -> None:
    project = Project()
    project.input_names = ["a", "b"]  # Wekinator's setInputNames, before any take
    assert project.input_dim == 2
    project.add_take(np.zeros((5, 2)), "x", outputs=np.ones((5, 1)))
    project.input_names = ["left", "right"]
    project.output_names = ["pitch"]
    assert project.raw_dataset().input_names == ("left", "right")
    assert project.dataset().output_names == ("pitch",)
    with pytest.raises(GesturemapError, match="2 names"):
        project.input_names = ["only"]
    with pytest.raises(GesturemapError, match="names do not fit take-000000"):
        project.output_names = ["pitch", "gain"]
    assert project.output_names == ("pitch",) and project.input_names == ("left", "right")
    project.save(tmp_path / "p")
    reloaded = Project.load(tmp_path / "p")
    assert (reloaded.input_names, reloaded.output_names) == (("left", "right"), ("pitch",))
    plain = Project()
    plain.add_take(np.zeros((5, 2)), "x")
    with pytest.raises(GesturemapError, match="names do not fit"):
        plain.output_names = ["pitch"]  # its takes have no outputs
    assert plain.output_names is None and plain.output_dim == 0


def test_a_save_queued_before_a_removal_writes_nothing(tmp_path: Path) -> None:
    project = Project.new(tmp_path / "p")
    take = project.add_take(_gesture(0), "a")
    project.remove_take(take.id)
    project.save_take(tmp_path / "p", take)  # the engine's autosave thread, running late
    assert not (tmp_path / "p" / "takes" / "take-000000.json").exists()
    with pytest.raises(GesturemapError, match="one of this project's takes"):
        project.save_take(tmp_path / "p", Project().add_take(_gesture(1), "a"))


def test_classes_relabel_and_remove() -> None:
    project = Project(classes=["a", "b"])
    first = project.add_take(_gesture(0), "a")
    project.add_take(_gesture(1), "c")
    assert project.classes == ["a", "b", "c"]
    relabelled = project.relabel_take(first.id, "b")
    assert relabelled.label == "b" and project.take(first.id).label == "b"
    assert np.array_equal(relabelled.inputs, first.inputs)
    with pytest.raises(GesturemapError, match="str"):
        project.relabel_take(first.id, 3)
    with pytest.raises(GesturemapError, match="remove_takes=True"):
        project.remove_class("b")
    assert [t.id for t in project.remove_class("b", remove_takes=True)] == [first.id]
    assert project.classes == ["a", "c"] and [t.label for t in project.takes] == ["c"]
    project.remove_class("a")
    with pytest.raises(KeyError):
        project.remove_class("zzz")
    with pytest.raises(KeyError, match="take-000009"):
        project.remove_take("take-000009")
    with pytest.raises(GesturemapError, match="int"):
        Project(classes=["a", 1])


def test_rename_class_relabels_its_takes_and_keeps_its_place(tmp_path: Path) -> None:
    project = Project(classes=["a", "b", "c"])
    kept = project.add_take(_gesture(0), "a")
    first = project.add_take(_gesture(1), "b")
    second = project.add_take(_gesture(2), "b")
    renamed = project.rename_class("b", "slide")
    assert [t.id for t in renamed] == [first.id, second.id]
    assert project.classes == ["a", "slide", "c"]
    assert [t.label for t in project.takes] == ["a", "slide", "slide"]
    assert project.take(kept.id).label == "a"
    assert [r.label for r in project.raw_dataset()] == ["a", "slide", "slide"]
    assert project.rename_class("c", "d") == [] and project.classes == ["a", "slide", "d"]
    project.save(tmp_path / "p")
    loaded = Project.load(tmp_path / "p")
    assert loaded.classes == ["a", "slide", "d"]
    assert [t.label for t in loaded.takes] == ["a", "slide", "slide"]
    # refused: unchanged
    with pytest.raises(KeyError, match="zzz"):
        project.rename_class("zzz", "y")
    with pytest.raises(GesturemapError, match="no other class"):
        project.rename_class("a", "d")
    with pytest.raises(GesturemapError, match="str"):
        project.rename_class("slide", 3)
    assert project.classes == ["a", "slide", "d"]
    assert [t.label for t in project.takes] == ["a", "slide", "slide"]


def test_a_renamed_class_keeps_every_setting_made_for_it(tmp_path: Path) -> None:
    from gesturemap.models.spotting.core import set_aside
    from gesturemap.models.spotting.verifier import SpotVerifier
    from gesturemap.synth import SynthMapping

    verifier = SpotVerifier(["boom", "swell"], ["boom", "swell"], np.zeros(16), np.ones(16),
                            np.zeros((2, 16)), np.zeros(2)).to_dict()  # inputs of 3

    synth = {"routes": [{"source": "likelihood:boom", "target": "loudness"},
                        {"source": "progress:*", "target": "follower_position"}],
             "oneshots": {"boom": "click"}}
    project = Project(
        classes=["boom", "swell"],
        model={"kind": "gmm", "params": {"gaussians": 1,
                                         "class_params": {"boom": {"gaussians": 2}}},
               "spotting": {"thresholds": {"boom": 0.8}, "costs": {"boom": 20},
                            "verifier": verifier}},
        outputs={"synth": synth}, display={"class_colors": {"boom": "#ff0000"}})
    for k in range(2):
        project.add_take(_gesture(k), "boom")
        project.add_take(_gesture(10 + k, offset=3.0), "swell")
    project.train()
    project.save_scene("verse")  # a scene keeps the settings of when it was saved
    project.rename_class("boom", "explosion")
    project.save(tmp_path / "p")
    for p in (project, Project.load(tmp_path / "p")):
        spotting = p.model["spotting"]
        assert spotting["thresholds"] == {"explosion": 0.8}
        assert spotting["costs"] == {"explosion": {"false": 20.0, "miss": 1.0}}
        assert spotting["verifier"]["classes"] == ["explosion", "swell"]
        assert spotting["verifier"]["labels"] == ["explosion", "swell"]
        assert p.model["params"]["class_params"] == {"explosion": {"gaussians": 2}}
        mapping = SynthMapping.from_dict(p.outputs["synth"])
        assert mapping.oneshots == {"explosion": "click"}
        assert [r.source for r in mapping.routes] == ["likelihood:explosion", "progress:*"]
        assert p.display["class_colors"] == {"explosion": "#ff0000"}
        scene = p.scene("verse")
        assert scene.model["spotting"]["costs"] == {"explosion": {"false": 20.0, "miss": 1.0}}
        assert SynthMapping.from_dict(scene.outputs["synth"]).oneshots == {"explosion": "click"}
    # the model retrained on the new name finds the cost and the threshold: none set aside
    project.train()
    assert set_aside(project.trained.labels_, project.model["spotting"])[1] == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": {"kind": "nope"}}, "'gmm', .*'hhmm'"),
        ({"model": {"kind": "gmm", "params": {"gausians": 2}}}, "gaussians"),
        ({"model": {"kind": "gmm", "params": {"gaussians": (1, 2)}}}, "JSON"),
        ({"sensor": {"port": float("nan")}}, "JSON"),
        ({"outputs": {1: "int key"}}, "JSON"),
        ({"pipeline": [Standardize()]}, "Pipeline"),
        ({"input_names": ["x", "x"]}, "different"),
    ],
)
def test_bad_settings_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(GesturemapError, match=message):
        Project(**settings)


def test_model_settings_and_new_model() -> None:
    assert Project().model == {"kind": "hhmm", "params": {}}
    assert Project(model="gmm").model == {"kind": "gmm", "params": {}}
    project = Project(model={"kind": "gmm", "params": {"gaussians": 2}})
    model = project.new_model()
    assert isinstance(model, GMM) and model.gaussians == 2 and not hasattr(model, "labels_")
    assert set(MODEL_REGISTRY) >= {"gmm", "hhmm"}
    project.model = "hhmm"  # settings are checked whenever they are set
    assert project.model == {"kind": "hhmm", "params": {}} and isinstance(project.new_model(), HHMM)
    with pytest.raises(GesturemapError, match="model kind"):
        project.model = {"kind": "no-such-model"}
    with pytest.raises(GesturemapError, match="JSON"):
        project.sensor = {"port": {1, 2}}
    with pytest.raises(GesturemapError, match="Pipeline"):
        project.pipeline = None  # type: ignore[assignment]
    assert project.model["kind"] == "hhmm" and project.sensor is None


def test_a_project_saved_with_a_models_old_parameter_names_loads_with_the_new_ones(
    tmp_path: Path,
) -> None:
    """``project.json`` written before gm.HMM's ``iterations`` / ``tolerance`` became
    ``em_max_iterations`` / ``em_tolerance``: it loads without a warning (the file is not the
    user's code), its settings say the new names and build the same model."""
    Project(model="hmm").save(tmp_path / "p")
    path = tmp_path / "p" / "project.json"
    doc = json.loads(path.read_text())
    doc["model"]["params"] = {"iterations": 7, "tolerance": 0.2, "states": 3}
    path.write_text(json.dumps(doc))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project = Project.load(tmp_path / "p")
        model = project.new_model()
    assert project.model["params"] == {"em_max_iterations": 7, "em_tolerance": 0.2, "states": 3}
    assert (model.em_max_iterations, model.em_tolerance, model.states) == (7, 0.2, 3)


# ---- the training set ---------------------------------------------------------------------------


def test_dataset_runs_the_streaming_pipeline_with_each_takes_times() -> None:
    project = _regression_project()
    with pytest.raises(GesturemapError, match="fit"):
        project.dataset()  # Standardize is not fitted yet
    project.fit_pipeline()
    dataset = project.dataset()
    assert len(dataset) == 6 and dataset.input_names == ("ax", "ay", "az")
    assert dataset.output_names == ("pitch", "gain")
    for take, recording in zip(project.takes, dataset, strict=True):
        expected = project.pipeline.transform_sequence(take.inputs, take.times, project.input_names)
        assert np.array_equal(recording.inputs, expected)
        # Timing matters: without the take's own times the filter gives other features.
        assert not np.array_equal(
            recording.inputs, project.pipeline.transform_sequence(take.inputs)
        )
        assert np.array_equal(recording.outputs, take.outputs)  # one frame out per frame in
        assert recording.label == take.label
    stacked = np.concatenate([r.inputs for r in dataset])
    assert np.allclose(stacked.mean(axis=0), 0.0, atol=0.2)  # standardised on the takes


def test_dataset_interpolates_outputs_when_the_pipeline_resamples() -> None:
    project = Project(
        pipeline=Pipeline([Select(("b", "a")), Resample(rate_hz=25.0)], rate_hz=100.0),
        input_names=["a", "b"],
    )
    times = np.arange(40) / 100.0
    targets = np.column_stack([10.0 * times, np.sin(times)])
    project.add_take(np.column_stack([times, 2 * times]), "a", times=times, outputs=targets)
    project.add_take(np.ones((20, 2)), "a", outputs=np.ones((20, 2)))  # no times: 100 Hz
    dataset = project.dataset()
    assert dataset.input_names == ("b", "a")
    first = dataset[0]
    _, out_times = project.pipeline.transform_sequence(
        project.takes[0].inputs, times, ["a", "b"], return_times=True
    )
    assert 5 <= len(first.inputs) < 40 and len(first.outputs) == len(first.inputs)
    assert np.allclose(first.outputs[:, 0], 10.0 * out_times)
    assert np.allclose(first.outputs[:, 1], np.interp(out_times, times, np.sin(times)))
    assert np.allclose(first.inputs, np.column_stack([2 * out_times, out_times]))
    assert np.array_equal(dataset[1].outputs, np.ones((len(dataset[1].inputs), 2)))


def test_train_fits_pipeline_then_model() -> None:
    project = _regression_project()
    with pytest.raises(GesturemapError, match="no takes"):
        Project().train()
    model = project.train()
    assert project.trained is model and isinstance(model, HHMM)
    assert model.labels_ == ["down", "up"] and model.output_dim_ == 2
    assert project.pipeline.fitted


# ---- saving and loading -------------------------------------------------------------------------


def test_round_trip_settings_pipeline_takes_and_trained_model(tmp_path: Path) -> None:
    project = _regression_project()
    project.train()
    folder = project.save(tmp_path / "theremin")
    assert project.folder == folder
    reloaded = Project.load(folder)
    assert reloaded.name == "theremin" and reloaded.model == project.model
    assert reloaded.sensor == project.sensor and reloaded.outputs == project.outputs
    assert reloaded.input_names == ("ax", "ay", "az") and reloaded.output_names == ("pitch", "gain")
    assert reloaded.classes == ["up", "down", "still"]  # "still" has no take yet
    assert reloaded.pipeline == project.pipeline and reloaded.input_dim == 3
    _assert_same_takes(project, reloaded)
    frames = _gesture(42, t=25)
    features = project.pipeline.transform_sequence(frames, None, project.input_names)
    again = reloaded.pipeline.transform_sequence(frames, None, reloaded.input_names)
    assert np.array_equal(features, again)
    assert _same_results(
        _stream_results(project.trained, features), _stream_results(reloaded.trained, again)
    )
    # Saving the reloaded project where it came from rewrites nothing but project.json (the
    # lock file held while it writes is gone once it is written).
    kept = ("project.json",)
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.name not in kept}
    reloaded.save(folder)
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.name not in kept} == before


def test_round_trip_takes_without_outputs_or_times(tmp_path: Path) -> None:
    project = Project(model="gmm", classes=[3, 1])
    project.add_take(_gesture(0, t=12, d=2), 1)
    project.add_take(_gesture(1, t=15, d=2), 3, times=np.linspace(0, 1, 15))
    project.save(tmp_path / "p")
    reloaded = Project.load(tmp_path / "p")
    _assert_same_takes(project, reloaded)
    assert reloaded.classes == [3, 1] and reloaded.trained is None
    assert reloaded.output_dim == 0 and reloaded.pipeline == Pipeline()
    reloaded.train()
    assert reloaded.trained.labels_ == [1, 3]


def test_folder_layout_and_take_files_written_once(tmp_path: Path) -> None:
    project = Project.new(tmp_path / "p", model="gmm")
    assert project.name == "p" and project.folder == tmp_path / "p"
    take = project.add_take(_gesture(0), "a", outputs=np.zeros((30, 1)))
    project.save_take(tmp_path / "p", take)
    json_path = tmp_path / "p" / "takes" / "take-000000.json"
    npz_path = json_path.with_suffix(".npz")
    written = json_path.read_bytes(), npz_path.read_bytes()
    meta = json.loads(written[0])
    assert meta["format"] == "gesturemap.take" and meta["frames"] == 30
    assert meta["output_dim"] == 1 and meta["has_times"] is False
    project.relabel_take(take.id, "b")
    project.add_take(_gesture(1), "a", outputs=np.zeros((30, 1)))
    project.train()
    project.save(tmp_path / "p")
    assert (json_path.read_bytes(), npz_path.read_bytes()) == written  # never rewritten
    names = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert names == ["model-000001.json", "model-000001.npz", "project.json", "takes"]
    document = _io.read_json(
        tmp_path / "p" / "project.json", format="gesturemap.project", max_version=1
    )
    assert document["model_file"] == "model-000001.json"
    assert document["takes"] == [
        {"id": "take-000000", "label": "b"},
        {"id": "take-000001", "label": "a"},
    ]
    assert Project.load(tmp_path / "p").take("take-000000").label == "b"
    # A new training gets a new file; project.json switches to it, the old pair goes.
    project.train()
    project.save(tmp_path / "p")
    names = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert names == ["model-000002.json", "model-000002.npz", "project.json", "takes"]
    project.trained = None
    project.save(tmp_path / "p")
    names = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert names == ["project.json", "takes"]


def test_takes_saved_but_not_listed_are_found(tmp_path: Path) -> None:
    project = Project.new(tmp_path / "p", classes=["a"])
    for i in range(3):
        project.save_take(tmp_path / "p", project.add_take(_gesture(i), "ab"[i % 2]))
    # project.json was never rewritten after the takes: loading scans takes/.
    reloaded = Project.load(tmp_path / "p")
    _assert_same_takes(project, reloaded)
    assert reloaded.classes == ["a", "b"]
    assert reloaded.add_take(_gesture(3), "a").id == "take-000003"
    # A take's .npz without its .json (killed between the two writes) is not a take yet.
    (tmp_path / "p" / "takes" / "take-000007.npz").write_bytes(b"half a take")
    assert len(Project.load(tmp_path / "p").takes) == 3


def test_removed_takes_stay_removed_when_their_files_linger(tmp_path: Path) -> None:
    project = Project()
    for i in range(3):
        project.add_take(_gesture(i), "a")
    project.save(tmp_path / "p")
    project.remove_take("take-000001")
    project.save(tmp_path / "p")
    assert not (tmp_path / "p" / "takes" / "take-000001.json").exists()
    # As if killed after project.json was written but before the files were deleted:
    other = Project()
    other.add_take(_gesture(1), "a")
    other.save_take(tmp_path / "q", other.takes[0])
    for suffix in (".json", ".npz"):
        source = tmp_path / "q" / "takes" / f"take-000000{suffix}"
        target = tmp_path / "p" / "takes" / f"take-000001{suffix}"
        target.write_bytes(source.read_bytes())
    document = json.loads((tmp_path / "p" / "project.json").read_text())
    document["removed_takes"] = ["take-000001"]
    (tmp_path / "p" / "project.json").write_text(json.dumps(document))
    reloaded = Project.load(tmp_path / "p")
    assert [t.id for t in reloaded.takes] == ["take-000000", "take-000002"]
    reloaded.save(tmp_path / "p")
    assert not (tmp_path / "p" / "takes" / "take-000001.json").exists()


def test_new_refuses_an_existing_project_and_save_refuses_foreign_folders(tmp_path: Path) -> None:
    Project.new(tmp_path / "p")
    with pytest.raises(GesturemapError, match="already holds a project"):
        Project.new(tmp_path / "p")
    with pytest.raises(GesturemapError, match="another project"):
        Project().save(tmp_path / "p")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(GesturemapError, match="not empty"):
        Project.new(tmp_path / "other")
    with pytest.raises(GesturemapError, match="not empty"):
        Project().save(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert Project.new(empty, inputs=["x", "y"]).input_dim == 2


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    project = Project(model="gmm")
    for i in range(3):
        project.add_take(_gesture(i), "ab"[i % 2], times=np.arange(30) / 50)
    project.train()
    return project.save(tmp_path / "p")


def _edit_json(path: Path, **changes: object) -> None:
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "project.json").unlink(), "no project.json"),
        (lambda p: (p / "project.json").write_text('{"format": "gesturemap.pro'), "truncated"),
        (lambda p: (p / "project.json").write_text("[]"), "not a gesturemap.project"),
        (lambda p: _edit_json(p / "project.json", version=2), "newer gesturemap"),
        (lambda p: _edit_json(p / "project.json", model={"kind": "lstm"}), "unknown model kind"),
        (lambda p: _edit_json(p / "project.json", pipeline={"format": "x"}), "feature pipeline"),
        (lambda p: _edit_json(p / "project.json", takes=[{"id": "t1"}]), "take entry"),
        (lambda p: _edit_json(p / "project.json", classes=[True]), "classes"),
    ],
)
def test_damaged_projects_raise_clear_format_errors(saved: Path, damage, message: str) -> None:
    damage(saved)
    with pytest.raises(FormatError, match=message):
        Project.load(saved)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: _edit_json(p / "project.json", model_file="../x.json"), "model_file"),
        (lambda p: (p / "model-000001.npz").write_bytes(b"PK"), "checksum"),
        (lambda p: (p / "model-000001.json").unlink(), "does not exist"),
    ],
)
def test_a_damaged_model_leaves_the_project_untrained_saying_why(saved: Path, damage,
                                                                 message: str) -> None:
    """The takes are the project, the model is derived from them: a model that cannot be
    read leaves the project untrained (the engine retrains it), never unopenable."""
    damage(saved)
    with pytest.warns(UserWarning, match=message):
        project = Project.load(saved)
    assert project.trained is None and len(project.takes) == 3
    assert message in project.model_problem


@pytest.mark.parametrize(
    ("damage", "take_id", "message"),
    [
        (lambda p: (p / "takes" / "take-000001.json").unlink(), "take-000001", "files are missing"),
        (lambda p: (p / "takes" / "take-000001.npz").unlink(), "take-000001", "is missing"),
        (lambda p: (p / "takes" / "take-000002.json").write_text("{"), "take-000002", "damaged"),
        (lambda p: (p / "takes" / "take-000002.npz").write_bytes(b"PK\3\4"), "take-000002",
         "checksum"),
        (lambda p: _edit_json(p / "takes" / "take-000002.json", version=9), "take-000002", "newer"),
        (lambda p: _edit_json(p / "takes" / "take-000002.json", id="take-000001"), "take-000002",
         "holds take"),
        (lambda p: _edit_json(p / "takes" / "take-000002.json", frames=31), "take-000002",
         "shape"),
        (lambda p: _edit_json(p / "takes" / "take-000002.json", input_dim=0), "take-000002",
         "input_dim"),
    ],
)
def test_a_damaged_take_is_skipped_whatever_its_part(
    saved: Path, damage, take_id: str, message: str
) -> None:
    """A damaged take JSON and a damaged .npz are treated alike: left out with a warning naming
    the take and what is wrong; the rest of the project opens; its id is not given again."""
    damage(saved)
    with pytest.warns(UserWarning, match=f"{take_id} was left out.*{message}"):
        project = Project.load(saved)
    kept = [t.id for t in project.takes]
    assert take_id not in kept and len(kept) == 2
    assert project.trained is not None
    assert project.add_take(_gesture(7), "a").id == "take-000003"


def test_loading_a_missing_folder_or_a_file(tmp_path: Path) -> None:
    # a mistyped path is said not to exist; a file given for the folder, not to be one
    with pytest.raises(FormatError, match="nothing does not exist: a project is a folder"):
        Project.load(tmp_path / "nothing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FormatError, match="not a folder"):
        Project.load(tmp_path / "file")


def test_a_take_from_another_project_of_another_size_is_refused(saved: Path) -> None:
    other = Project()
    other.add_take(np.zeros((5, 2)), "a")
    other.save_take(saved.parent / "o", other.takes[0])
    for suffix in (".json", ".npz"):
        data = (saved.parent / "o" / "takes" / f"take-000000{suffix}").read_bytes()
        (saved / "takes" / f"take-000005{suffix}").write_bytes(data)
    _edit_json(saved / "takes" / "take-000005.json", id="take-000005")
    with pytest.warns(UserWarning, match="take-000005 was left out.*3 columns"):
        project = Project.load(saved)
    assert [t.id for t in project.takes] == ["take-000000", "take-000001", "take-000002"]


def test_tampered_take_is_skipped_with_a_warning(saved: Path) -> None:
    npz = saved / "takes" / "take-000001.npz"
    arrays = _io.load_npz(npz)
    arrays["inputs"] = arrays["inputs"] + 1.0
    _io.save_npz(npz, **arrays)
    with pytest.warns(UserWarning, match="take-000001.*checksum"):
        project = Project.load(saved)
    assert [t.id for t in project.takes] == ["take-000000", "take-000002"]
    assert project.add_take(_gesture(5), "a").id == "take-000003"


# ---- a process killed while it records ----------------------------------------------------------

_RECORDER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from gesturemap.project import Project

    project = Project.new(sys.argv[1], model="gmm")
    i = 0
    while True:
        rng = np.random.default_rng(i)
        inputs = rng.normal(size=(int(rng.integers(5, 400)), 4))
        outputs = rng.normal(size=(len(inputs), 2))
        take = project.add_take(inputs, "ab"[i % 2], times=np.arange(len(inputs)) / 100.0,
                                outputs=outputs)
        project.save_take(sys.argv[1], take)
        print(take.id, flush=True)
        i += 1
    """
)


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_while_recording_keeps_every_saved_take(tmp_path: Path, seed: int) -> None:
    chance = random.Random(seed)
    folder = tmp_path / "live"
    env = dict(os.environ, PYTHONPATH=str(REPO_DIR))
    process = subprocess.Popen(
        [sys.executable, "-c", _RECORDER, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    reported = []
    try:
        wanted = chance.randint(3, 12)
        assert process.stdout is not None
        while len(reported) < wanted:
            line = process.stdout.readline()
            assert line, f"the recorder stopped early (exit code {process.poll()})"
            reported.append(line.strip())
        time.sleep(chance.uniform(0.0, 0.01))  # somewhere inside a save
    finally:
        process.send_signal(signal.SIGKILL)
        # (not communicate(): it would lose the ids readline() read ahead of the last one)
        rest, _ = rest_of(process)
    reported += rest.split()
    assert process.returncode == -signal.SIGKILL
    project = Project.load(folder)
    ids = [t.id for t in project.takes]
    assert ids[: len(reported)] == reported  # every reported take, in order
    assert len(ids) <= len(reported) + 1  # plus at most the one being saved
    for number, take in enumerate(project.takes):
        rng = np.random.default_rng(number)
        inputs = rng.normal(size=(int(rng.integers(5, 400)), 4))
        assert np.array_equal(take.inputs, inputs)
        assert np.array_equal(take.outputs, rng.normal(size=(len(inputs), 2)))
        assert take.label == "ab"[number % 2]
    project.train()  # the recovered project is usable
    leftovers = list(folder.rglob(".*.tmp"))  # from the write the kill interrupted, if any
    for path in leftovers:
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    project.save(folder)
    assert [t.id for t in Project.load(folder).takes] == ids
    assert not list(folder.rglob(".*.tmp"))  # a save clears what a killed write left


def test_classes_not_given_as_a_list_and_ragged_takes_are_refused_clearly() -> None:
    """``Project(classes="ab")`` made the classes "a" and "b", ``classes=5`` raised "'int'
    object is not iterable", and a take whose rows differ in length numpy's "inhomogeneous
    shape"; each now says what is expected, and the project is left as it was."""
    for classes in ("ab", 5):
        with pytest.raises(TypeError, match="expected a list of class names"):
            Project(classes=classes)
    assert Project(classes=("ab",)).classes == ["ab"]
    project = Project(classes=["a"])
    with pytest.raises(GesturemapError, match="ragged sequence"):
        project.add_take([[1.0, 2.0], [3.0]], "a")
    assert project.takes == () and project.input_dim is None


def test_a_folder_without_a_project_says_how_to_make_one_from_each_door(tmp_path):
    # the window's, the command line's and Python's users all read this: each its own way
    with pytest.raises(FormatError, match="has no project.json") as info:
        Project.load(tmp_path)
    said = str(info.value)
    assert "File > New" in said and f"gesturemap new {tmp_path}" in said
    assert "Project.new(folder)" in said


@pytest.mark.slow
def test_a_command_on_a_project_without_takes_says_so_without_naming_a_function(tmp_path):
    """``gesturemap eval`` on a project with no takes answered "fit_pipeline: the project
    has no takes yet": the name of a function, not what a musician did."""
    Project("empty", classes=["a", "b"]).save(tmp_path / "p")
    run = subprocess.run([sys.executable, "-m", "gesturemap", "eval", str(tmp_path / "p")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "no takes yet" in run.stderr and "record some first" in run.stderr
    assert "fit_pipeline" not in run.stderr, run.stderr
    with pytest.raises(GesturemapError, match="no takes yet, and a model learns from them"):
        Project("empty").train()


def test_a_class_added_at_an_index_takes_that_place():
    from gesturemap.project import Project

    project = Project(classes=["a", "c"])
    project.add_class("b", index=1)
    project.add_class("a", index=2)  # one it has: nothing moves
    project.add_class("d")
    assert project.classes == ["a", "b", "c", "d"]
