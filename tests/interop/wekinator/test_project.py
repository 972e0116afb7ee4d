"""Real Wekinator projects from public repositories (tests/data/wekinator, SOURCES.md there).

Each project's facts below were read from its own files (inputConfig.xml, outputConfig.xml,
the ARFF's rows with and without ``?``, the DTW csv's lines), not from the importer. Large
files are kept gzip-compressed byte for byte; ``unpack`` restores the folder as Wekinator
wrote it.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.interop.wekinator import project as wk
from tests.paths import DATA_DIR

DATA = DATA_DIR / "wekinator"


def unpack(name: str, dest: Path) -> Path:
    """A copy of a stored project, as Wekinator wrote it (``*.gz`` files decompressed)."""
    out = dest / name
    for f in (DATA / name).rglob("*"):
        if f.is_file():
            target = out / f.relative_to(DATA / name)
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.suffix == ".gz":
                target.with_suffix("").write_bytes(gzip.decompress(f.read_bytes()))
            else:
                shutil.copy(f, target)
    return out


# name: (inputs, first input name, outputs [(kind, classes or (min, max))],
#        ARFF rows, rows recorded for no output, examples per output) -- or for DTW
#        (inputs, first input name, [("dtw", gestures)], examples per gesture)
FACTS = {
    "dem-fire-tunes": (100, "inputs-1", [("classifier", 7)], 1809, 1130, [679]),
    "drawing-game": (14, "x", [("numeric", (-1.0, 1.0))] * 2, 1298, 0, [1298, 1298]),
    "eeg-hand": (5, "inputs-1", [("classifier", 2)], 2102, 0, [2102]),
    "etextile-camp": (16, "analogue-1", [("classifier", 5)] * 5, 0, 0, [0] * 5),  # /inputs/analogue
    "face-tracking": (66, "inputs-1", [("numeric", (1.0, 2.0))], 837, 0, [837]),
    "iml4hci-assignment2": (
        16,
        "inputs-1",
        [("numeric", (0.0, 3.0)), ("numeric", (0.0, 1.25)), ("classifier", 6)],
        4356,
        1926,
        [390, 1159, 881],
    ),
    "jestled": (
        14,
        "lpx",
        [
            ("numeric", (0.0, 1.0)),
            ("numeric", (0.0, 1.0)),
            ("classifier", 5),
            ("numeric", (0.0, 1.0)),
            ("numeric", (0.0, 1.0)),
            ("classifier", 5),
        ],
        5712,
        3238,
        [156, 380, 644, 101, 555, 638],
    ),
    "larsen-mediator": (1, "inputs-1", [("numeric", (0.0, 1.0))] * 3, 0, 0, [0, 0, 0]),
    "shakefm-polynomial": (5, "inputs-1", [("numeric", (0.0, 1.0))] * 5, 1984, 0, [1984] * 5),
    "mlproject-classification": (2, "inputs-1", [("classifier", 5)], 3873, 0, [3873]),
    "pong-hockey": (
        4,
        "inputs-1",
        [("classifier", 3), ("numeric", (0.0, 1.0))],
        7465,
        0,
        [7465, 7465],
    ),
    "pong-puck": (1, "inputs-1", [("numeric", (0.0, 1.0))], 1286, 0, [1286]),
    "slork-a1": (6, "inputs-1", [("classifier", 7)] * 2, 8230, 5035, [1542, 1734]),
    "sonification-box": (
        42,
        "inputs-1",
        [("numeric", (0.0, 1.0))] * 3 + [("classifier", 3)],
        3450,
        0,
        [534, 515, 603, 1798],
    ),
}
DTW_FACTS = {  # (inputs, first input name, gestures, examples per gesture, their OSC messages)
    "eye-tracker-dtw": (2, "inputs-1", 5, {1: 1, 2: 2, 3: 1, 4: 1, 5: 1}, None),
    "form-scoring-dtw": (8, "inputs-1", 2, {1: 2}, None),
    "interactive-yz2812-dtw": (
        4,
        "inputs-1",
        5,
        {1: 35, 2: 40, 3: 44, 4: 36, 5: 49},
        ["/left", "/right", "/down", "/up", "/null"],
    ),
    "kkp-gesture-dtw": (2, "inputs-1", 9, {}, None),
    "microbit-motion-dtw": (
        3,
        "inputs-1",
        3,
        {1: 11, 2: 4, 3: 5},
        ["/swish_and_flick", "/small_circle", "/none"],
    ),
    "mlproject-dtw": (2, "inputs-1", 3, {1: 15, 2: 5, 3: 1}, ["/one", "/two", "/three"]),
    "week1-gaborcsapo-dtw": (2, "inputs-1", 3, {1: 24, 2: 23, 3: 23}, None),
}
#: The DTW projects whose gestures have names of their own (outputConfig.xml's gestureNames);
#: the others keep Wekinator's defaults (output_1...), imported as the numbers 1, 2...
DTW_NAMES = {
    "interactive-yz2812-dtw": ["left", "right", "down", "up", "null"],
    "microbit-motion-dtw": ["swish_and_flick", "small_circle", "none"],
    "mlproject-dtw": ["square", "triangle", "cirlce"],
}


def test_every_stored_project_has_its_facts():
    stored = {p.name for p in DATA.iterdir() if p.is_dir()}
    assert stored == set(FACTS) | set(DTW_FACTS)
    assert len(stored) >= 12
    assert (DATA / "SOURCES.md").is_file()


@pytest.mark.parametrize("name", sorted(FACTS))
def test_real_project_imports_as_its_xml_says(name, tmp_path):
    n_in, first, outputs, rows, none, per_output = FACTS[name]
    folder = unpack(name, tmp_path)
    wp = wk.read_project(folder)
    assert len(wp.input_names) == n_in and wp.input_names[0] == first
    assert [
        (o.kind, o.classes if o.kind == "classifier" else (o.minimum, o.maximum))
        for o in wp.outputs
    ] == outputs
    project, summary = wk.import_wekinator(folder, tmp_path / "gm")
    assert summary.per_output_examples == per_output
    assert summary.no_output == none
    assert summary.examples + summary.no_output + summary.skipped == rows  # every row kept
    assert summary.skipped == 0  # an example with an input missing is kept (filled)
    text = summary.describe()
    if none:  # every row left out is counted, and why Wekinator leaves it out too
        assert f"of {rows} rows" in text and f"{none} row" in text and "'?' for every output" \
            in text, text
    assert sum(t.length for t in project.takes) == summary.examples
    loaded = gm.Project.load(tmp_path / "gm")
    assert loaded.input_dim == n_in
    kinds = [o[0] for o in outputs]
    if (folder / "current" / "models").is_dir():
        return  # the algorithms of its saved models: tests/test_wekinator_models.py
    if kinds == ["classifier"]:  # Wekinator's default: kNN with k = 1, no smoothing
        assert loaded.model == {"kind": "knn",
                                "params": {"k": 1, "likelihood_window": 1, "decision": "window"}}
        assert all(isinstance(c, int) for c in loaded.classes)
        assert loaded.classes == list(range(1, outputs[0][1] + 1))
    elif kinds == ["numeric"]:  # a neural network, one hidden layer of as many units as inputs
        assert loaded.model["kind"] == "mlp"
        assert loaded.model["params"]["hidden"] == n_in
        assert len(loaded.output_names) == 1
    else:
        specs = loaded.model["params"]["outputs"]
        assert loaded.model["kind"] == "per_output" and len(specs) == len(outputs)
        assert [s["kind"] for s in specs] == ["knn" if k == "classifier" else "mlp" for k in kinds]
        assert [s["target"] for s in specs] == list(range(len(outputs)))  # by position
        assert loaded.output_names == tuple(summary.outputs)


@pytest.mark.parametrize("name", sorted(DTW_FACTS))
def test_real_dtw_project_imports_its_examples(name, tmp_path):
    n_in, first, gestures, per_gesture, addresses = DTW_FACTS[name]
    folder = unpack(name, tmp_path)
    project, summary = wk.import_wekinator(folder, tmp_path / "gm")
    assert summary.task == "dtw" and summary.inputs[0] == first
    assert project.input_dim == n_in or not per_gesture
    assert project.model["kind"] == "dtw"
    # the gestures' names in outputConfig.xml, unless every one is Wekinator's default
    names = DTW_NAMES.get(name) or list(range(1, gestures + 1))
    assert project.classes == names
    counts = {g: sum(t.label == names[g - 1] for t in project.takes)
              for g in range(1, gestures + 1)}
    assert {g: c for g, c in counts.items() if c} == per_gesture
    numbers = project.outputs.get("class_numbers")  # each name keeps its Wekinator number
    assert numbers == ({lb: g for g, lb in enumerate(names, 1)} if name in DTW_NAMES
                       else None)
    messages = project.outputs["gesture_messages"]
    addresses = addresses or [f"/output_{g}" for g in range(1, gestures + 1)]  # the default
    assert messages == {str(g): a for g, a in enumerate(addresses, start=1)}


def test_output_names_drift_and_are_matched_by_position(tmp_path):
    # pong-hockey's ARFF calls its outputs Tilt and Swing; outputConfig.xml says outputs-1
    # (a classifier with 3 classes) and outputs-2 (numeric): position decides, not the name
    folder = unpack("pong-hockey", tmp_path)
    data = wk.read_project(folder).data
    assert [a.name for a in data.attributes[-2:]] == ["Tilt", "Swing"]
    _, summary = wk.import_wekinator(folder, tmp_path / "gm")
    assert summary.outputs == ["outputs-1", "outputs-2"]
    assert summary.output_types == ["classifier", "numeric"]


def test_empty_output_name_and_integer_output(tmp_path):
    # face-tracking: one INTEGER numeric output named '' (Wekinator writes @attribute '')
    project, summary = wk.import_wekinator(unpack("face-tracking", tmp_path), tmp_path / "gm")
    assert summary.wekinator_outputs[0].name == "" and summary.outputs == ["outputs-1"]
    assert "renamed" in summary.describe()
    scale = project.outputs["scales"][0]
    assert scale["integer"] is True and scale["clip"] is False  # SOFT limits
    assert (scale["out_min"], scale["out_max"]) == (1.0, 2.0)


def test_hard_limits_clip_what_is_sent(tmp_path):
    from gesturemap.outputs.osc import OSCOutput

    project, _ = wk.import_wekinator(unpack("jestled", tmp_path), tmp_path / "gm")
    scales = project.outputs["scales"]
    assert [s.get("clip") for s in scales] == [True, True, False, True, True, False]
    out = OSCOutput(project.outputs)
    try:
        shaped = out._shape(np.array([1.7, -0.2, 3.0, 0.5, 2.0, 4.0]))
    finally:
        out.close()
    assert shaped.tolist() == [1.0, 0.0, 3.0, 0.5, 1.0, 4.0]  # classes untouched


def test_each_output_trains_on_its_own_examples(tmp_path):
    # jestled records each output on its own rows (the others '?'): with kNN everywhere, each
    # output's model holds exactly the frames recorded for it
    project, summary = wk.import_wekinator(
        unpack("jestled", tmp_path), tmp_path / "gm", model="knn"
    )
    project.fit_pipeline()
    model = project.new_model().fit(project.dataset())
    frames = [len(m.arrays_["train"]) for m in model.models_]
    assert frames == FACTS["jestled"][5] == summary.per_output_examples
    r = model.stream().step(project.takes[0].inputs[0])
    assert r.output.shape == (6,)


def test_delete_examples_for_output_deletes_only_that_output(tmp_path):
    project, summary = wk.import_wekinator(
        unpack("iml4hci-assignment2", tmp_path), tmp_path / "gm", model="knn"
    )
    before = len(project.takes)
    changed = wk.delete_examples_for_output(project, 2)
    assert changed > 0

    def per_output(p):
        specs = p.model["params"]["outputs"]
        return [
            sum(t.length for t in p.takes if t.label not in s.get("skip_labels", [])) for s in specs
        ]

    assert per_output(project) == [390, 0, 881]
    assert len(project.takes) < before  # takes recorded for output 2 alone are gone
    # the rest still trains output by output; output 2 has nothing left and says so
    project.fit_pipeline()
    with pytest.raises(gm.GesturemapError, match="output 2 .*no examples"):
        project.new_model().fit(project.dataset())
    project.save(tmp_path / "gm")
    assert per_output(gm.Project.load(tmp_path / "gm")) == [390, 0, 881]


def test_mixed_line_endings_spaces_parentheses_apostrophes(tmp_path):
    folder = tmp_path / "My Project (v2)"
    (folder / "current").mkdir(parents=True)
    (folder / "My Project (v2).wekproj").write_text(
        '<?xml version="1.0"?>\n<WekinatorFileData>\n  <oscReceivePort>6448</oscReceivePort>\n'
        "  <projectName>Bob's project</projectName>\n</WekinatorFileData>"
    )
    (folder / "inputConfig.xml").write_text(
        '<?xml version="1.0"?>\n<OSCInputGroup>\n  <oscMessage>/wek/inputs</oscMessage>\n'
        "  <numInputs>2</numInputs>\n  <groupName>Inputs</groupName>\n  <inputNames>\n"
        "    <string>hand (left)</string>\n    <string>Bob's knee</string>\n"
        "  </inputNames>\n</OSCInputGroup>"
    )
    (folder / "outputConfig.xml").write_text(
        '<?xml version="1.0"?>\n<OSCOutputGroup>\n  <oscMessage>/wek/outputs</oscMessage>\n'
        "  <hostName>localhost</hostName>\n  <outputPort>12000</outputPort>\n"
        '  <outputs class="linked-list">\n'
        "    <wekimini.osc.OSCClassificationOutput>\n      <name>drum (kit)</name>\n"
        "      <numClasses>3</numClasses>\n    </wekimini.osc.OSCClassificationOutput>\n"
        "    <wekimini.osc.OSCNumericOutput>\n      <name></name>\n      <min>0.0</min>\n"
        "      <max>1.0</max>\n      <outputType>REAL</outputType>\n"
        "      <limitType>HARD</limitType>\n    </wekimini.osc.OSCNumericOutput>\n"
        "  </outputs>\n</OSCOutputGroup>"
    )
    lines = [
        "@relation dataset",
        "",
        "@attribute ID numeric",
        "@attribute Time date 'yyyy/MM/dd HH:mm:ss:SSS'",
        "@attribute 'Training round' numeric",
        "@attribute 'hand (left)' numeric",
        "@attribute 'Bob\\'s knee' numeric",
        "@attribute 'drum (kit)' {0,1,2,3}",
        "@attribute '' numeric",
        "",
        "@data",
        "1,'2020/01/01 10:00:00:000',1,0.1,0.2,1,?",
        "2,'2020/01/01 10:00:00:010',1,0.1,0.3,1,?",
        "3,'2020/01/01 10:00:05:000',2,0.5,0.5,?,0.25",
        "4,'2020/01/01 10:00:05:010',2,0.6,0.5,?,0.75",
        "5,'2020/01/01 10:00:09:000',3,0.9,0.9,2,0.5",
        "6,'2020/01/01 10:00:09:010',3,?,0.9,?,?",
    ]
    text = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines))
    (folder / "current" / "currentData.arff").write_bytes(text.encode())
    project, summary = wk.import_wekinator(folder / "My Project (v2).wekproj", tmp_path / "gm")
    assert project.name == "Bob's project"
    assert summary.inputs == ["hand (left)", "Bob's knee"]
    assert summary.outputs == ["drum (kit)", "outputs-2"]
    assert summary.per_output_examples == [3, 3] and summary.no_output == 1
    assert [t.label for t in project.takes] == ["outputs 1", "outputs 2", wk.ALL_OUTPUTS]
    specs = project.model["params"]["outputs"]
    assert specs[0]["skip_labels"] == ["outputs 2"] and specs[1]["skip_labels"] == ["outputs 1"]


def test_bare_arff_still_imports_and_ambiguous_one_is_refused(tmp_path):
    from gesturemap.interop.wekinator import arff

    # eeg-hand: 5 inputs and a class column last; pong-puck: inputs-1 and outputs-1
    eeg = unpack("eeg-hand", tmp_path) / "current" / "currentData.arff"
    summary = arff.takes_from_arff(arff.read_arff(eeg))
    assert len(summary.inputs) == 5 and summary.outputs == ["outputs-1"]
    assert summary.examples == 2102
    puck = unpack("pong-puck", tmp_path) / "current" / "currentData.arff"
    summary = arff.takes_from_arff(arff.read_arff(puck))
    assert summary.inputs == ["inputs-1"] and summary.task == "regression"
    # pong-hockey's outputs were renamed (Tilt, Swing): which columns are outputs is not
    # written in the ARFF alone -- refused, and the message names the fixes
    hockey = unpack("pong-hockey", tmp_path) / "current" / "currentData.arff"
    with pytest.raises(gm.GesturemapError, match="outputConfig.xml.*--outputs N"):
        arff.takes_from_arff(arff.read_arff(hockey))
    # with the count given, it imports (the classifier and the numeric output)
    summary = arff.takes_from_arff(arff.read_arff(hockey), outputs=2)
    assert summary.outputs == ["Tilt", "Swing"] and summary.examples == 7465


def test_a_class_beyond_num_classes_is_left_out_and_said(tmp_path):
    """eeg-hand's classifier has 2 classes; two rows edited to classes 3 and 0 (which no
    Wekinator GUI records, and its own loader refuses) become no class of their own."""
    folder = unpack("eeg-hand", tmp_path)
    data = folder / "current" / "currentData.arff"
    lines = data.read_text().split("\n")
    first = next(i for i, line in enumerate(lines) if line.lower() == "@data") + 1
    for i, value in ((first, "3"), (first + 5, "0")):
        lines[i] = lines[i].rsplit(",", 1)[0] + "," + value
    data.write_text("\n".join(lines))
    project, summary = wk.import_wekinator(folder, tmp_path / "proj")
    assert sorted(project.classes) == [1, 2]
    assert sorted({t.label for t in project.takes}) == [1, 2]
    assert summary.examples == 2100 and summary.beyond_classes == 2
    assert f"2 rows with a class beyond the classifier's numClasses (the first on line " \
           f"{first + 1})" in summary.describe()


def test_import_command_on_a_project_folder(tmp_path):
    folder = unpack("eeg-hand", tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gesturemap",
            "import",
            str(folder),
            "--project",
            str(tmp_path / "gm"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 inputs" not in done.stdout and "5 inputs" in done.stdout
    assert "classes 1, 2" in done.stdout
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "gesturemap",
            "import",
            str(folder),
            "--project",
            str(tmp_path / "gm"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2 and "new folder" in again.stderr


def test_classes_sort_as_numbers():
    s = wk.WekinatorImport(
        task="classification",
        inputs=["a"],
        outputs=["o"],
        takes=[wk.ImportedTake(lb, np.zeros((1, 1)), None, None) for lb in (10, 2, 1)],
        examples=3,
        skipped=0,
        metadata=[],
        project_name="p",
        wekinator_outputs=[wk.WekinatorOutput("o", "classifier", classes=10)],
    )
    assert "classes 1, 2, 10" in s.describe()


def test_refuses_xml_with_entities(tmp_path):
    folder = unpack("eeg-hand", tmp_path)
    (folder / "inputConfig.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><OSCInputGroup/>'
    )
    with pytest.raises(gm.GesturemapError, match="DTD or entities"):
        wk.read_project(folder)


def test_export_arff_round_trip(tmp_path):
    project, summary = wk.import_wekinator(unpack("slork-a1", tmp_path), tmp_path / "gm")
    rows = wk.export_arff(project, tmp_path / "out.arff")
    assert rows == summary.examples
    # back through the importer, inside a copy of the project folder
    copy = unpack("slork-a1", tmp_path / "again")
    shutil.copy(tmp_path / "out.arff", copy / "current" / "currentData.arff")
    _, again = wk.import_wekinator(copy, tmp_path / "gm2")
    assert again.per_output_examples == summary.per_output_examples == [1542, 1734]
    a = np.vstack([t.inputs for t in summary.takes])
    b = np.vstack([t.inputs for t in again.takes])
    assert np.array_equal(a, b)
    assert [t.label for t in again.takes] == [t.label for t in summary.takes]


# ---- DTW on the wire ----------------------------------------------------------------------------


def test_dtw_client_sequence_over_loopback(tmp_path):
    """KKPgesture.pde (the sketch saved beside the kkp-gesture-dtw project) drives its project:
    setInputNames, then per gesture startDtwRecording N, /wek/inputs x y while the mouse is
    down, stopDtwRecording; then startRunning and /wek/inputs. It waits for /output_N."""
    from pythonosc.osc_message_builder import OscMessageBuilder
    from pythonosc.osc_packet import OscPacket

    from gesturemap.live.engine import Engine

    wk.import_wekinator(unpack("kkp-gesture-dtw", tmp_path), tmp_path / "gm")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.01)
    engine = Engine(
        gm.Project.load(tmp_path / "gm"),
        project_dir=tmp_path / "gm",
        osc_in=("127.0.0.1", 0),
        osc_out=("127.0.0.1", rx.getsockname()[1]),
        trainer="thread",
    ).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    received: list[tuple[str, list]] = []

    def drain() -> None:
        while True:
            try:
                data = rx.recv(65536)
            except (TimeoutError, BlockingIOError):
                return
            received.extend((m.message.address, m.message.params) for m in OscPacket(data).messages)

    def send(address: str, *args: object) -> None:
        b = OscMessageBuilder(address)
        for a in args:
            b.add_arg(a)
        tx.sendto(b.build().dgram, ("127.0.0.1", engine.osc_port))
        time.sleep(0.003)
        drain()

    def circle() -> np.ndarray:
        t = np.linspace(0, 2 * np.pi, 40)
        return np.c_[300 + 100 * np.cos(t), 250 + 100 * np.sin(t)]

    def line() -> np.ndarray:
        return np.c_[np.linspace(150, 550, 40), np.full(40, 400.0)]

    rng = np.random.default_rng(0)
    try:
        send("/wekinator/control/setInputNames", "mouseX", "mouseY")
        for gesture, path in ((1, circle), (1, circle), (2, line), (2, line)):
            send("/wekinator/control/startDtwRecording", gesture)
            for x, y in path() + rng.normal(0, 3, (40, 2)):
                send("/wek/inputs", float(x), float(y))
            send("/wekinator/control/stopDtwRecording")
        send("/wekinator/control/startRunning")
        deadline = time.monotonic() + 20
        while (
            engine.model is None
            or engine.model.kind != "dtw"
            or len(engine.model.template_class_) < 4
        ):
            assert time.monotonic() < deadline, "the DTW examples were never put to use"
            time.sleep(0.05)
        received.clear()
        rest = np.full((15, 2), 40.0)
        performance = np.r_[
            rest,
            circle() + rng.normal(0, 3, (40, 2)),
            rest,
            line() + rng.normal(0, 3, (40, 2)),
            rest,
        ]
        for x, y in performance:
            send("/wek/inputs", float(x), float(y))
        time.sleep(0.3)
        drain()
        frames_out = engine.frames_out
        send("/wekinator/control/deleteExamplesForOutput", 2)  # gesture 2's examples go
        deadline = time.monotonic() + 20
        while [t.label for t in engine.project.takes] != [1, 1]:
            assert time.monotonic() < deadline, "deleteExamplesForOutput 2 did nothing"
            time.sleep(0.05)
    finally:
        engine.stop()
        rx.close()
        tx.close()
    assert frames_out == len(performance)
    matches = [a for a, _ in received if a.startswith("/output_")]
    assert matches == ["/output_1", "/output_2"]  # once each: edge-triggered
    distances = [p for a, p in received if a == "/wek/outputs"]
    assert len(distances) == len(performance)  # every frame
    assert all(len(p) == 9 for p in distances)  # one per gesture of the project
    assert all(np.isinf(p[2:]).all() for p in distances)  # gestures without examples
    assert engine.project.input_names == ("mouseX", "mouseY")
    assert [t.label for t in gm.Project.load(tmp_path / "gm").takes] == [1, 1]  # saved


def test_dtw_project_sends_its_own_gesture_messages(tmp_path):
    """mlproject-dtw names its gestures' messages /one, /two, /three: a recorded example of
    gesture 2 ("triangle", third of the sorted names), played back into `gesturemap run`'s
    engine, brings /two, and its distance is the second on /wek/outputs."""
    from pythonosc.osc_message_builder import OscMessageBuilder
    from pythonosc.osc_packet import OscPacket

    from gesturemap.live.engine import Engine

    project, _ = wk.import_wekinator(unpack("mlproject-dtw", tmp_path), tmp_path / "gm")
    take = next(t for t in project.takes if t.label == "triangle")
    project.train()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.01)
    engine = Engine(
        project,
        osc_in=("127.0.0.1", 0),
        trainer="thread",
        osc_out=("127.0.0.1", rx.getsockname()[1]),
    ).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    received = []
    try:
        for frame in take.inputs:
            b = OscMessageBuilder("/wek/inputs")
            for v in frame:
                b.add_arg(float(v))
            tx.sendto(b.build().dgram, ("127.0.0.1", engine.osc_port))
            time.sleep(0.003)
        time.sleep(0.3)
        while True:
            try:
                data = rx.recv(65536)
            except (TimeoutError, BlockingIOError):
                break
            received += [(m.message.address, m.message.params)
                         for m in OscPacket(data).messages]
    finally:
        engine.stop()
        rx.close()
        tx.close()
    addresses = [a for a, _ in received]
    assert "/two" in addresses
    assert not any(a.startswith("/output_") for a in addresses)
    distances = [p for a, p in received if a == "/wek/outputs"]
    assert len(distances) == take.length
    assert int(np.argmin(distances[-1])) == 1  # gesture 2's place, as Wekinator numbers it


def test_run_says_one_class(tmp_path):
    """form-scoring-dtw has examples of one gesture only: `gesturemap run` says "1 class"."""
    import os
    import signal

    project, _ = wk.import_wekinator(unpack("form-scoring-dtw", tmp_path), tmp_path / "gm")
    project.train()
    project.save(tmp_path / "gm")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gesturemap",
            "run",
            str(tmp_path / "gm"),
            "--osc-in",
            "127.0.0.1:0",
            "--osc-out",
            "127.0.0.1:9",
            "--no-audio",
            "--trainer",
            "thread",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(gm.__file__).parents[1])},
    )
    try:
        line = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert "running 1 class " in line, line


def test_import_command_on_a_projects_own_arff_reads_the_project(tmp_path):
    folder = unpack("jestled", tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gesturemap",
            "import",
            str(folder / "current" / "currentData.arff"),
            "--project",
            str(tmp_path / "gm"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "importing the project" in done.stdout and "6 outputs" in done.stdout
    assert gm.Project.load(tmp_path / "gm").model["kind"] == "per_output"


def test_a_custom_input_message_is_listened_to(tmp_path):
    # etextile-camp's sensor sends /inputs/analogue (inputConfig.xml's oscMessage): the
    # project's sensor listens there, as Wekinator did
    project, summary = wk.import_wekinator(unpack("etextile-camp", tmp_path), tmp_path / "gm")
    assert summary.input_message == "/inputs/analogue"
    assert "/inputs/analogue on port 8001" in summary.describe()  # the .wekproj's port
    assert gm.Project.load(tmp_path / "gm").sensor == {
        "transport": "osc", "profile": "wekinator", "port": 8001, "address": "/inputs/analogue"}
    other, summary = wk.import_wekinator(unpack("eeg-hand", tmp_path), tmp_path / "gm2")
    assert "inputs received as" not in summary.describe()
    assert other.sensor == {"transport": "osc", "profile": "wekinator", "port": 6448}


@pytest.mark.parametrize(("tag", "field"), [("OSCClassificationOutput", "numClasses"),
                                            ("OSCDtwOutput", "numGestures")])
def test_an_absurd_number_of_classes_is_a_damaged_file(tag, field):
    """numClasses 999999999 made the import build a list of a billion classes (it hung):
    a clear FormatError instead."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(f"<OSCOutputGroup><outputs><wekimini.osc.{tag}><name>o</name>"
                         f"<{field}>999999999</{field}></wekimini.osc.{tag}></outputs>"
                         "</OSCOutputGroup>")
    with pytest.raises(gm.FormatError, match=f"{field} is 999999999"):
        wk._outputs(root, "outputConfig.xml")


def test_an_example_with_a_missing_input_is_kept_filled_as_weka_fills_it(tmp_path):
    """An input added after examples were recorded leaves '?' in them: Wekinator still trains
    on them (Weka fills the value with the input's mean); they used to be dropped unsaid."""
    folder = unpack("eeg-hand", tmp_path)
    arff = folder / "current" / "currentData.arff"
    lines = arff.read_text().splitlines()
    data = lines.index(next(ln for ln in lines if ln.strip().lower() == "@data")) + 1
    first = lines[data].split(",")
    n_meta = 3
    first[n_meta] = "?"  # the first input of the first example
    lines[data] = ",".join(first)
    arff.write_text("\n".join(lines) + "\n")
    project, summary = wk.import_wekinator(folder, tmp_path / "gm")
    rows = FACTS["eeg-hand"][3]
    assert summary.examples == rows and summary.imputed == 1 and summary.skipped == 0
    x = np.vstack([t.inputs for t in project.takes])
    others = np.array([float(ln.split(",")[n_meta]) for ln in lines[data + 1:] if ln.strip()])
    assert x[0, 0] == pytest.approx(others.mean())
    assert "1 example with an input '?'" in summary.describe()


def test_start_dtw_recording_n_records_the_gesture_wekinator_numbers_n(tmp_path):
    """A DTW project imported with its gesture names: startDtwRecording 2 records gesture 2
    ("triangle", whatever the names' sorted order), as a Wekinator client means it."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    from gesturemap.live.engine import Engine

    project, _ = wk.import_wekinator(unpack("mlproject-dtw", tmp_path), tmp_path / "gm")
    before = len(project.takes)
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                    trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(address: str, *args: float) -> None:
        b = OscMessageBuilder(address)
        for a in args:
            b.add_arg(float(a))
        tx.sendto(b.build().dgram, ("127.0.0.1", engine.osc_port))

    try:
        send("/wekinator/control/startDtwRecording", 2)
        for k in range(20):
            send("/wek/inputs", k, 2 * k)
        send("/wekinator/control/stopDtwRecording")
        deadline = time.monotonic() + 10
        while len(engine.project.takes) == before:
            assert time.monotonic() < deadline, "no take recorded"
            time.sleep(0.01)
    finally:
        engine.stop()
        tx.close()
    assert engine.project.takes[-1].label == "triangle"


def test_a_saved_model_of_a_project_imports_its_project(tmp_path, capsys):
    # a user dropping a project's current/models/modelN.xml onto the import meant the project;
    # read as an ARFF it was "binary data (a .npz dataset is read by gesturemap eval --train)"
    from gesturemap.cli import main

    folder = unpack("larsen-mediator", tmp_path)
    assert main(["import", str(folder / "current" / "models" / "model1.xml"),
                 "--project", str(tmp_path / "gm")]) == 0
    assert "is a model the Wekinator project" in capsys.readouterr().out
    assert gm.Project.load(tmp_path / "gm").model["kind"] == "per_output"


@pytest.mark.parametrize(("source", "says"), [
    ("larsen-mediator/current/models/model1.xml", "is a model Wekinator saved"),
    ("kkp-gesture-dtw/current/models/model1.xml", "is a model Wekinator saved"),
    ("vowel-recognition.inputproj", "is a Wekinator Input Helper project"),
])
def test_a_wekinator_file_without_examples_is_named_with_what_to_import(
        source, says, tmp_path, capsys):
    from gesturemap.cli import main

    alone = tmp_path / Path(source).name  # out of its project: nothing to import with it
    shutil.copy(DATA / source, alone)
    assert main(["import", str(alone), "--project", str(tmp_path / "gm")]) == 2
    err = capsys.readouterr().err
    assert says in err and "import the Wekinator project's folder or its .wekproj" in err
    assert not (tmp_path / "gm").exists()


def test_a_project_copied_in_part_says_what_is_missing_and_how_to_import(tmp_path, capsys):
    from gesturemap.cli import main

    # a .wekproj committed alone, as RyanBRiley/IML4HCI's last commit has it
    alone = tmp_path / "project2" / "pj2.wekproj"
    alone.parent.mkdir()
    shutil.copy(DATA / "iml4hci-pj2-alone.wekproj", alone)
    assert main(["import", str(alone), "--project", str(tmp_path / "gm")]) == 2
    err = capsys.readouterr().err
    assert "not a whole Wekinator project" in err
    assert "no inputConfig.xml and no outputConfig.xml" in err
    assert "import the whole folder Wekinator saved" in err
    # a project whose inputConfig.xml was not copied: its examples import on their own, as said
    folder = unpack("pong-puck", tmp_path)
    (folder / "inputConfig.xml").unlink()
    assert main(["import", str(folder), "--project", str(tmp_path / "gm")]) == 2
    err = capsys.readouterr().err
    data = folder / "current" / "currentData.arff"
    assert f"gesturemap import {data} --outputs N" in err
    assert main(["import", str(data), "--outputs", "1", "--project", str(tmp_path / "gm")]) == 0
    assert len(gm.Project.load(tmp_path / "gm").takes) > 0


def test_training_an_imported_project_says_what_each_output_learned(tmp_path, capsys):
    from gesturemap.cli import main

    # two numeric outputs and a classifier: their takes are labelled "take" and "outputs N",
    # which the training's summary gave as the model's classes
    folder = unpack("iml4hci-assignment2", tmp_path)
    assert main(["import", str(folder), "--project", str(tmp_path / "gm")]) == 0
    capsys.readouterr()
    assert main(["train", str(tmp_path / "gm")]) == 0
    out = capsys.readouterr().out
    assert "'take'" not in out and "'outputs 3'" not in out
    assert "outputs outputs-1 (values), outputs-2 (values), outputs-3 (classes [1, 2, 3, 4, 5])" \
        in out


def test_an_xmm_training_set_leaves_out_takes_recorded_for_some_outputs_only(tmp_path, capsys):
    from gesturemap.cli import main

    # slork-a1: one take recorded for both outputs, 34 for one of them (the other '?')
    folder = unpack("slork-a1", tmp_path)
    assert main(["import", str(folder), "--project", str(tmp_path / "gm")]) == 0
    capsys.readouterr()
    assert not main(["export", str(tmp_path / "gm"), "--xmm-set", str(tmp_path / "set.json")])
    out = capsys.readouterr().out
    assert "wrote 1 takes" in out and "left out 34 takes (outputs 1, outputs 2)" in out
    written = gm.Dataset.from_xmm(tmp_path / "set.json")
    whole = [t for t in gm.Project.load(tmp_path / "gm").takes if t.label == "take"]
    assert len(written) == 1 and written[0].length == whole[0].length
    # sonification-box: every take recorded for one output only: nothing to write, and said
    folder = unpack("sonification-box", tmp_path)
    assert main(["import", str(folder), "--project", str(tmp_path / "gm2")]) == 0
    capsys.readouterr()
    assert main(["export", str(tmp_path / "gm2"), "--xmm-set", str(tmp_path / "set2.json")]) == 2
    assert "every take was recorded for some of its outputs only" in capsys.readouterr().err
    assert not (tmp_path / "set2.json").exists()


def test_an_export_refused_for_one_output_writes_none_of_them(tmp_path, capsys):
    from gesturemap.cli import main

    # sonification-box: every take recorded for one output only, so no XMM training set;
    # asked for with an ARFF, the ARFF is not written either (nor an old one replaced)
    folder = unpack("sonification-box", tmp_path)
    assert main(["import", str(folder), "--project", str(tmp_path / "gm")]) == 0
    capsys.readouterr()
    old = tmp_path / "old.arff"
    old.write_text("% an ARFF written before\n")
    for arff in (tmp_path / "new.arff", old):
        assert main(["export", str(tmp_path / "gm"), "--arff", str(arff),
                     "--xmm-set", str(tmp_path / "set.json")]) == 2
        err = capsys.readouterr().err
        assert "nothing written" in err and "leave out --xmm-set" in err
        assert not (tmp_path / "set.json").exists()
    assert not (tmp_path / "new.arff").exists()
    assert old.read_text() == "% an ARFF written before\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gm", "old.arff", "sonification-box"]
    # the ARFF alone is written
    assert main(["export", str(tmp_path / "gm"), "--arff", str(tmp_path / "new.arff")]) == 0
    assert (tmp_path / "new.arff").read_text().count("\n") > 3450


def test_a_saved_model_that_cannot_be_read_is_said(tmp_path):
    # larsen-mediator's model1.xml cut short, as a save interrupted leaves it: its output
    # trains Wekinator's default, and the summary says so instead of leaving it out
    folder = unpack("larsen-mediator", tmp_path)
    model = folder / "current" / "models" / "model1.xml"
    model.write_bytes(model.read_bytes()[:60])
    _, summary = wk.import_wekinator(folder, tmp_path / "gm")
    name = summary.outputs[1]
    assert any(m.startswith(f"{name}: models/model1.xml could not be read") for m in summary.models)
    assert "could not be read" in summary.describe()
    assert sum(m.startswith(name + ":") for m in summary.models) == 1
