"""A Wekinator project's saved models (``current/models/modelN.xml``): each output keeps the
algorithm, settings and inputs its author chose in Wekinator.

The expected values were read from the stored files themselves (their ``<Path>`` XML:
``modelBuilder``, ``inputNames``), not from the importer.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.interop.wekinator import project as wk
from gesturemap.interop.wekinator.models import read_path

from .test_project import DATA, unpack

# name: per output (kind, params that must be there, connected inputs or None for all)
SAVED = {
    "shakefm-polynomial": [  # model1.xml and model2.xml not stored: Wekinator's default
        ("mlp", {"hidden": 5, "layers": 2, "activation": "logistic"}, None),
        ("mlp", {"hidden": 5, "layers": 1}, None),
        ("mlp", {"hidden": 5, "layers": 1}, None),
        ("polynomial", {"degree": 2}, ["inputs-5"]),
        ("polynomial", {"degree": 3}, ["inputs-4"]),
    ],
    "larsen-mediator": [  # one input; output names with spaces ('slow Larsen')
        ("mlp", {"hidden": 1, "layers": 1, "activation": "logistic"}, None),
    ] * 3,
}


def java_path(builder: str, settings: dict, output: str, inputs: list[str]) -> bytes:
    """A model file as Wekinator writes it: a Java object stream opening with the path's XML."""
    xml = (f'<Path>\n  <modelBuilder class="wekimini.learning.{builder}">'
           + "".join(f"<{k}>{v}</{k}>" for k, v in settings.items())
           + f'</modelBuilder>\n  <output class="wekimini.osc.{output}"><name>o</name></output>'
           + '<inputNames class="linked-list">'
           + "".join(f"<string>{n}</string>" for n in inputs)
           + "</inputNames>\n</Path>").encode()
    return b"\xac\xed\x00\x05t" + len(xml).to_bytes(2, "big") + xml + b"t\x00\x04null"


@pytest.mark.parametrize("name", sorted(SAVED))
def test_each_output_keeps_its_saved_algorithm_and_inputs(name, tmp_path):
    project, summary = wk.import_wekinator(unpack(name, tmp_path), tmp_path / "gm")
    specs = gm.Project.load(tmp_path / "gm").model["params"]["outputs"]
    assert [s["kind"] for s in specs] == [k for k, _, _ in SAVED[name]]
    for spec, (_, params, inputs) in zip(specs, SAVED[name], strict=True):
        assert params.items() <= spec["params"].items()
        assert spec.get("inputs") == inputs
    assert "from Wekinator's saved models" in summary.describe()
    if not project.takes:
        return
    project.fit_pipeline()
    model = project.new_model().fit(project.dataset())
    x = project.takes[0].inputs[0]
    before = model.stream().step(x).output
    # an input an output is not connected to leaves it alone: output 5 sees input 4 only,
    # output 4 input 5 only
    moved = x.copy()
    moved[4] += 5.0
    after = model.stream().step(moved).output
    assert after[4] == before[4] and after[3] != before[3]


def test_knn_keeps_its_k(tmp_path):
    # eeg-hand: one classifier; its model saved as kNN with k = 3 (it was imported with k = 1)
    folder = unpack("eeg-hand", tmp_path)
    (folder / "current" / "models").mkdir()
    names = wk.read_project(folder).input_names
    (folder / "current" / "models" / "model0.xml").write_bytes(java_path(
        "KNNModelBuilder", {"numNeighbors": 3}, "OSCClassificationOutput", names))
    _, summary = wk.import_wekinator(folder, tmp_path / "gm")
    loaded = gm.Project.load(tmp_path / "gm")
    assert loaded.model == {"kind": "knn",
                            "params": {"k": 3, "likelihood_window": 1, "decision": "window"}}
    assert loaded.classes == [1, 2]
    assert "kNN k=3" in summary.describe()


def test_one_output_on_some_inputs_only(tmp_path):
    # eeg-hand's output connected to inputs 1 and 3 only (Wekinator's input selection):
    # trained and run on those two alone
    folder = unpack("eeg-hand", tmp_path)
    (folder / "current" / "models").mkdir()
    (folder / "current" / "models" / "model0.xml").write_bytes(java_path(
        "KNNModelBuilder", {"numNeighbors": 1}, "OSCClassificationOutput",
        ["inputs-1", "inputs-3"]))
    project, _ = wk.import_wekinator(folder, tmp_path / "gm")
    (spec,) = project.model["params"]["outputs"]
    assert project.model["kind"] == "per_output"
    assert spec["kind"] == "knn" and spec["params"]["k"] == 1
    assert spec["inputs"] == ["inputs-1", "inputs-3"] and spec["target"] == "label"
    project.fit_pipeline()
    model = project.new_model().fit(project.dataset())
    for take in project.takes:
        x = take.inputs[len(take.inputs) // 2].copy()
        label = model.stream().step(x).label
        x[[1, 3, 4]] += 1000.0
        assert model.stream().step(x).label == label


def test_model_override_keeps_each_outputs_inputs(tmp_path):
    project, _ = wk.import_wekinator(unpack("shakefm-polynomial", tmp_path), tmp_path / "gm",
                                     model="knn")
    specs = project.model["params"]["outputs"]
    assert {s["kind"] for s in specs} == {"knn"}
    assert [s.get("inputs") for s in specs] == [i for _, _, i in SAVED["shakefm-polynomial"]]


def test_unreadable_or_foreign_model_files_leave_the_default(tmp_path):
    folder = unpack("eeg-hand", tmp_path)
    (folder / "current" / "models").mkdir()
    model_file = folder / "current" / "models" / "model0.xml"
    model_file.write_bytes(b"\xac\xed\x00\x05t\x00\x05<Path")  # cut short
    project, _ = wk.import_wekinator(folder, tmp_path / "a")
    assert project.model["params"]["k"] == 1
    model_file.write_bytes(b"<Path><!DOCTYPE x [<!ENTITY e 'x'>]><modelBuilder/></Path>")
    assert read_path(model_file) is None
    # a numeric output's model file beside a classifier output: not applied, and said so
    model_file.write_bytes(gzip.decompress((DATA / "shakefm-polynomial" / "current" /
                                            "models" / "model3.xml.gz").read_bytes()))
    project, summary = wk.import_wekinator(folder, tmp_path / "b")
    assert project.model["params"]["k"] == 1
    assert "is for a numeric output, ignored" in summary.describe()


def test_java_text_outside_the_bmp_and_accents(tmp_path):
    # Java writes a character outside the BMP as two 3-byte surrogates (modified UTF-8)
    cesu = "\U0001f3b5".encode("utf-16-be")
    hi, lo = (int.from_bytes(cesu[i:i + 2], "big") for i in (0, 2))
    surrogates = chr(hi).encode("utf-8", "surrogatepass") + chr(lo).encode("utf-8",
                                                                           "surrogatepass")
    xml = (b"\xac\xed\x00\x05t\x01\x00<Path><modelBuilder class=\"wekimini.learning."
           b"KNNModelBuilder\"><numNeighbors>4</numNeighbors></modelBuilder><output class="
           b"\"wekimini.osc.OSCClassificationOutput\"><name>t\xc3\xa9te</name></output>"
           b"<inputNames><string>note " + surrogates + b"</string></inputNames></Path>xyz")
    path = tmp_path / "model0.xml"
    path.write_bytes(xml)
    p = read_path(path)
    assert p is not None and p.output_name == "t\u00e9te" and p.output_kind == "classifier"
    assert p.input_names == ["note \U0001f3b5"] and p.settings == {"numNeighbors": "4"}


def test_every_wekinator_algorithm_has_a_model():
    from gesturemap.interop.wekinator.models import WekinatorPath, model_spec
    from gesturemap.models import MODEL_REGISTRY

    cases = {
        "SVMModelBuilder": ({"kernelType": "POLYNOMIAL", "polyExponent": "2.0",
                             "polyUseLowerOrder": "true", "complexity": "3.0"},
                            {"kernel": "poly", "degree": 2, "coef0": 1.0, "c": 3.0}),
        "AdaboostModelBuilder": ({"numRounds": "20", "baseLearnerType": "DECISION_STUMP"},
                                 {"rounds": 20, "max_depth": 1}),
        "J48ModelBuilder": ({}, {}),
        "DecisionStumpModelBuilder": ({}, {"max_depth": 1}),
        "NaiveBayesModelBuilder": ({}, {}),
        "NeuralNetModelBuilder": ({"numHiddenLayers": "3", "hiddenLayerType": "NUMBER",
                                   "numNodesPerHiddenLayer": "7"}, {"hidden": 7, "layers": 3}),
    }
    for builder, (settings, params) in cases.items():
        spec, _, _ = model_spec(WekinatorPath(builder, settings, "classifier", "o"), 4)
        assert spec is not None and params.items() <= spec["params"].items()
        MODEL_REGISTRY[spec["kind"]](**spec["params"])  # valid settings
    spec, what, _ = model_spec(WekinatorPath("FancyModelBuilder", {}, "numeric", "o"), 4)
    assert spec is None and what == "Fancy"


def test_the_project_receive_port_is_the_sensors(tmp_path):
    # shakeFM's .wekproj receives on 6449: its sensor program sends there
    project, summary = wk.import_wekinator(unpack("shakefm-polynomial", tmp_path),
                                           tmp_path / "gm")
    assert project.sensor == {"transport": "osc", "profile": "wekinator", "port": 6449}
    assert "/wek/inputs on port 6449" in summary.describe()
    from gesturemap.sources.settings import stage_sensor

    assert stage_sensor(project.sensor).settings["port"] == 6449


@pytest.mark.parametrize(("where", "old", "new", "match"), [
    ("WekinatorProject.wekproj", b"6449", b"99999", "oscReceivePort is 99999"),
    ("inputConfig.xml", b"<oscMessage>/wek/inputs", b"<oscMessage>wek inputs",
     "not an OSC address"),
])
def test_a_bad_port_or_input_message_is_a_clear_error(tmp_path, where, old, new, match):
    folder = unpack("shakefm-polynomial", tmp_path)
    f = folder / where
    f.write_bytes(f.read_bytes().replace(old, new))
    with pytest.raises(gm.FormatError, match=match):
        wk.import_wekinator(folder, tmp_path / "gm")


def test_stored_model_files_are_wekinator_paths(tmp_path):
    for f in sorted(DATA.glob("*/current/models/model[0-9].xml*")):
        raw = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
        if b"<DtwModel" in raw[:200]:
            continue
        assert raw[:2] == b"\xac\xed", f  # a Java object stream, never deserialized
        plain = tmp_path / f.name.removesuffix(".gz")
        plain.write_bytes(raw)
        assert read_path(plain) is not None, f


def test_output_values_unchanged_without_saved_models(tmp_path):
    # a project without models/ (most stored ones) still gets Wekinator's defaults
    project, summary = wk.import_wekinator(unpack("sonification-box", tmp_path), tmp_path / "gm")
    assert summary.models == []
    assert [s["kind"] for s in project.model["params"]["outputs"]] == ["mlp"] * 3 + ["knn"]
    assert np.all([s.get("inputs") is None for s in project.model["params"]["outputs"]])
