"""A project's settings blocks are checked as project.json loads: an entry of the wrong type
or out of range (a hand edit) is a FormatError naming the file, the entry, the value and what
is expected — never a traceback once the engine starts — and nothing on disk changes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.project import PROJECT_FILE, Project
from gesturemap.synth import SynthMapping

#: (where in project.json, the value put there, the entry the error must name)
BAD = [
    ("sensor", {"transport": "osc", "port": "abc"}, "sensor.port"),
    ("sensor", {"transport": "osc", "port": 70000}, "sensor.port"),
    ("sensor", {"transport": "osc", "profile": 5}, "sensor.profile"),
    ("sensor", {"transport": "osc", "host": ["127.0.0.1"]}, "sensor.host"),
    ("sensor", {"transport": "osc", "address": "accxyz"}, "sensor.address"),
    ("sensor", {"transport": "serial", "device": 5}, "sensor.device"),
    ("sensor", {"transport": "serial", "device": "/dev/x", "framing": "csv"}, "sensor.framing"),
    ("sensor", {"transport": "lsl", "stream": 5}, "sensor.stream"),
    ("sensor", {"transport": "midi", "port": "x", "controls": 7}, "sensor.controls"),
    ("sensor", {"transport": "bluetooth"}, "sensor.transport"),
    ("sensor", {"transport": "mouse", "rate_hz": "fast"}, "sensor.rate_hz"),
    ("outputs", {"addresses": ["/a/b", "/c"]}, "outputs.addresses"),
    ("outputs", {"scales": 3}, "outputs.scales"),
    ("outputs", {"scales": [5]}, "outputs.scales[0]"),
    ("outputs", {"scales": [{"in_min": 0}, {"in_min": "low"}]}, "outputs.scales[1].in_min"),
    ("outputs", {"scales": [{"clip": "no"}]}, "outputs.scales[0].clip"),
    ("outputs", {"host": 5}, "outputs.host"),
    ("outputs", {"port": "12000"}, "outputs.port"),
    ("outputs", {"midi": 5}, "outputs.midi"),
    ("outputs", {"midi": {"port": 5}}, "outputs.midi.port"),
    ("outputs", {"synth": {"parameters": [1]}}, "synth parameters"),
    ("outputs", {"synth": {"oneshots": "bell"}}, "synth oneshots"),
    ("outputs", {"synth": {"audio": 48000}}, "synth audio settings"),
    ("model.onset", {"threshold": "high"}, "model.onset.threshold"),
    ("model.onset", {"smoothing": "x"}, "model.onset.smoothing"),
    ("model.onset", {"quiet_frames": 2.5}, "model.onset.quiet_frames"),
    ("model.onset", {"treshold": 1.0}, "model.onset"),
    ("model.auto", {"budget_s": "x"}, "model.auto.budget_s"),
    ("model.auto", {"margin": -1}, "model.auto.margin"),
    # a class's own settings are checked as the shared ones: they were only refused by a retrain
    ("model.params", {"class_params": {"a": {"states": 0}}}, "model.params.class_params['a'].states"),
    ("model.params", {"class_params": {"a": {"covariance": "round"}}},
     "model.params.class_params['a'].covariance"),
    ("model.params", {"class_params": {"a": {"absolute_regularization": -1.0}}},
     "model.params.class_params['a'].absolute_regularization"),
]


def _set(document: dict, where: str, value: object) -> None:
    *path, key = where.split(".")
    for part in path:
        document = document[part]
    document[key] = value


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("where", "value", "entry"), BAD,
                         ids=[f"{w}={v!r}" for w, v, _ in BAD])
def test_a_bad_entry_is_a_format_error_naming_file_and_entry(tmp_path, where, value, entry):
    folder = tmp_path / "p"
    project = Project(classes=["a"])
    project.add_take(np.zeros((20, 2)), "a")
    project.save(folder)
    document = json.loads((folder / PROJECT_FILE).read_text())
    _set(document, where, value)
    (folder / PROJECT_FILE).write_text(json.dumps(document))
    before = _files(folder)
    with pytest.raises(FormatError) as raised:
        Project.load(folder)
    message = str(raised.value)
    assert str(folder / PROJECT_FILE) in message
    assert re.search(re.escape(entry) + r": got .*; expected ", message), message
    assert _files(folder) == before  # refused as it is: nothing rewritten, nothing lost


def test_the_setters_refuse_what_load_refuses_and_keep_valid_settings_as_given():
    """The window sets these blocks through the same setters: what it may write stays valid
    (its sensor keeps keys it does not know), the rest is refused and the old value kept."""
    valid = {
        "sensor": {"transport": "osc", "profile": "wekinator", "host": "127.0.0.1",
                   "port": 0, "address": "/wek/inputs", "rate_hz": 100, "mine": [1]},
        "outputs": {"host": "localhost", "port": 12000, "addresses": {"label": "/my/label",
                                                                      "outputs": None},
                    "scales": [{"in_min": 0, "in_max": 2, "clip": False}, {}],
                    "extras": {"port": 12001}, "midi": {"port": "synth", "channel": 2},
                    "synth": {**SynthMapping.default(2).to_dict(), "audio": {"blocksize": 256}}},
        "model": {"kind": "hhmm", "params": {}, "onset": {"threshold": None,
                                                          "quiet_frames": 5},
                  "auto": {"budget_s": 5}},
    }
    project = Project(**valid)
    assert project.sensor == valid["sensor"] and project.outputs == valid["outputs"]
    assert project.model["onset"] == valid["model"]["onset"]
    assert project.model["auto"] == valid["model"]["auto"]
    project.model = {"kind": "hhmm", "onset": True, "auto": True}
    for where, value, entry in BAD:
        block = where.split(".")[0]
        settings = json.loads(json.dumps(valid[block]))
        if "." in where:
            settings[where.split(".")[1]] = value
        else:
            settings = value
        kept = getattr(project, block)
        with pytest.raises(GesturemapError, match=re.escape(entry) + ": got "):
            setattr(project, block, settings)
        assert getattr(project, block) == kept


def test_a_scene_with_bad_outputs_is_left_out_and_its_entry_kept(tmp_path):
    folder = tmp_path / "p"
    project = Project(model={"kind": "gmm", "params": {"gaussians": 1}}, classes=["a"])
    project.add_take(np.random.default_rng(0).normal(size=(30, 2)), "a")
    project.train()
    project.save_scene("verse")
    project.save(folder)
    document = json.loads((folder / PROJECT_FILE).read_text())
    document["scenes"][0]["outputs"] = {"scales": 3}
    (folder / PROJECT_FILE).write_text(json.dumps(document))
    with pytest.warns(UserWarning, match=r"scene was left out: outputs\.scales: got 3"):
        loaded = Project.load(folder)
    assert loaded.scene_names == []
    loaded.save(folder)  # the scene the file holds stays there, for a fix by hand
    saved = json.loads((folder / PROJECT_FILE).read_text())["scenes"]
    assert saved == document["scenes"]
    assert (folder / saved[0]["model_file"]).exists()
