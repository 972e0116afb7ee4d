"""A Wekinator DTW project's settings (current/models/model1.xml) carried into gesturemap, or
said to be left out: real projects from tests/data/wekinator (SOURCES.md there)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np

from gesturemap.interop.wekinator import project as wk

from .test_project import unpack


def _switch_off(folder, gesture: int) -> None:
    """Switch a gesture off in model1.xml as Wekinator saves it (isGestureActive)."""
    path = folder / "current" / "models" / "model1.xml"
    text = path.read_text()
    block = re.search(r"<isGestureActive>.*?</isGestureActive>", text, re.S).group(0)
    flags = re.findall(r"<boolean>\w+</boolean>", block)
    flags[gesture - 1] = "<boolean>false</boolean>"
    path.write_text(text.replace(block, "<isGestureActive>" + "".join(flags)
                                 + "</isGestureActive>"))


def _labels_at_take_ends(project, gesture: int) -> list:
    model = project.train()
    out = []
    for take in [t for t in project.takes if t.label == gesture][:4]:
        stream = model.stream()
        results = [stream.step(f) for f in take.inputs]
        out.append((results[-1].label, {r.match for r in results}))
    return out


def test_a_gesture_switched_off_in_wekinator_does_not_match(tmp_path):
    on, _ = wk.import_wekinator(unpack("week1-gaborcsapo-dtw", tmp_path / "a"), tmp_path / "on")
    # performed, gesture 2's own takes are recognised as gesture 2 while it is on...
    assert all(label == 2 and 2 in matches for label, matches in _labels_at_take_ends(on, 2))
    folder = unpack("week1-gaborcsapo-dtw", tmp_path / "b")
    _switch_off(folder, 2)
    off, summary = wk.import_wekinator(folder, tmp_path / "off")
    assert off.model["params"]["inactive"] == [2]
    assert sum(t.label == 2 for t in off.takes) == 23  # its takes are kept
    # ... and never once switched off, as in Wekinator
    assert all(label != 2 and 2 not in matches for label, matches in _labels_at_take_ends(off, 2))
    assert off.train().labels_ == [1, 3]
    text = summary.describe()
    assert "gesture 2 switched off -> inactive" in text


def test_summary_says_what_each_setting_became(tmp_path):
    project, summary = wk.import_wekinator(unpack("interactive-yz2812-dtw", tmp_path),
                                           tmp_path / "gm")
    params = project.model["params"]
    # selectedInputs: only the first two inputs are compared
    assert params["ignore_channels"] == [2, 3] and params["decision"] == "decaying"
    assert "threshold" not in params  # another scale: never copied
    model = project.train()
    assert list(model.kept_channels_) == [0, 1]
    text = summary.describe()
    carried, dropped = text.split("; not carried over: ")
    assert "running type 'label continuously' -> decision decaying" in carried
    assert "inputs-3, inputs-4 not used -> ignore_channels" in carried
    for words in ("match threshold 666.47", "minimum gesture length 5 frames",
                  "downsampling to at most 10 frames", "match width 5"):
        assert words in dropped, words


def test_label_once_per_record_runs_from_the_start(tmp_path):
    folder = unpack("mlproject-dtw", tmp_path)
    path = folder / "current" / "models" / "model1.xml"
    path.write_text(path.read_text().replace("LABEL_CONTINUOUSLY", "LABEL_ONCE_PER_RECORD"))
    project, summary = wk.import_wekinator(folder, tmp_path / "gm")
    assert project.model["params"]["decision"] == "cumulative"
    assert "'label once per record' -> decision cumulative" in summary.describe()
    # the whole run compared from its start: at a take's end, the label of whole-take DTW
    model = project.train()
    take = project.takes[0]
    stream = model.stream()
    last = [stream.step(f) for f in take.inputs][-1]
    assert last.label == model.predict([take.inputs])[0]
    assert np.isfinite(last.distances).all()


def test_dtw_examples_re_saved_with_a_byte_order_mark_and_windows_line_ends(tmp_path):
    """currentData.csv re-saved by a Windows editor (a byte-order mark, CRLF) imports as
    Wekinator wrote it (its first line failed as 'a value is not a number'); a value that is
    not a number is named with its line and column."""
    folder = unpack("microbit-motion-dtw", tmp_path / "my projects")
    csv = folder / "current" / "currentData.csv"
    text = csv.read_text()
    csv.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    project, _ = wk.import_wekinator(folder, tmp_path / "p")
    assert len(project.takes) == 20
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    lines[first] = lines[first].replace(",", ",x", 1)
    csv.write_text("\n".join(lines) + "\n")
    out = subprocess.run([sys.executable, "-m", "gesturemap.cli", "import", str(folder),
                          "--project", str(tmp_path / "q")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert re.search(rf"currentData.csv, line {first + 1}, column 2: 'x\S*' is not a number",
                     out.stderr)
