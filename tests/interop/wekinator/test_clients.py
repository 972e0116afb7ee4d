"""Wekinator clients against `gesturemap new` + `gesturemap run`, over real loopback UDP, with
nothing changed in them (tests/data/clients/SOURCES.md says what each follows):

- run for real where the runtime is here: Pure Data (vanilla's oscparse, and mrpeach's
  objects) and ChucK as the output side of a robot and a drum machine, a SuperCollider session
  that records, trains and runs, and a node.js client with wekinator-node's calls;
- replayed message for message where it is not (Processing): a teaching sketch that counts
  every message it receives as the reply to its last input, and a Python trainer's regression
  session.

The poses are shown 20 frames at a time with no reset: every frame must be answered (one
/wek/outputs, nothing else) with its pose's class, on at least 95 % of the frames.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.paths import DATA_DIR

from ...stage_helpers import OscPeer, free_port, rest_of, start_run, stop_run

CLIENTS = DATA_DIR / "clients"
POSES = {1: (0.1, 0.1), 2: (0.9, 0.1), 3: (0.5, 0.9)}
#: the poses shown while running, 20 frames each (the same order in the sclang and node clients)
SHOWN = np.repeat([1, 2, 3, 2, 1, 3, 1, 2, 3, 3, 1, 2], 20)


def _runtime(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: .ci/run installs it (apt-get install puredata-core "
                    "pd-mrpeach chuck supercollider-language nodejs)", pytrace=False)
    return path


def _new(tmp_path: Path, *options: str, inputs: int = 2) -> Path:
    folder = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--inputs",
                    str(inputs), *options], check=True, timeout=120)
    return folder


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _right(classes: list[int]) -> float:
    """The share of the shown frames answered with their pose's class (every frame answered)."""
    assert len(classes) == len(SHOWN), (len(classes), classes)
    return float(np.mean(np.array(classes) == SHOWN))


class Sensor(OscPeer):
    """The test as the sensor and the performer: teaches the poses Wekinator's way and shows
    them; the answers go to the client under test."""

    def __init__(self, port: int, stats: Path) -> None:
        super().__init__(port)
        self.stats = stats
        self.rng = np.random.default_rng(3)

    def frame(self, cls: int) -> None:
        self.send("/wek/inputs", *(np.array(POSES[cls]) + 0.02 * self.rng.standard_normal(2)))

    def trainings(self) -> int:
        try:
            return int(json.loads(self.stats.read_text()).get("trainings", 0))
        except (OSError, ValueError):
            return 0

    def teach_and_show(self) -> None:
        self.record_and_train(self.frame, POSES)
        _wait(lambda: self.trainings() >= 1, 120, "the training")
        self.send("/wekinator/control/startRunning")
        for cls in SHOWN:
            self.frame(int(cls))
            time.sleep(0.01)

def _output_client(tmp_path: Path, command: list[str], port_out: int, ready: str,
                   pattern: str) -> list[int]:
    """Start the output client (it listens on ``port_out`` and prints ``ready``), run a stage
    on a new project sending there, teach and show the poses; the classes the client printed
    (``pattern``'s group 1 on each line)."""
    folder = _new(tmp_path)
    client = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        line = client.stdout.readline()
        while line and ready not in line:
            line = client.stdout.readline()
        assert ready in line, "the client did not start"
        port_in, stats = free_port(), tmp_path / "stats.json"
        run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}", "--osc-out",
                           f"127.0.0.1:{port_out}", "--stats", stats)
        sensor = Sensor(port_in, stats)
        try:
            sensor.teach_and_show()
            time.sleep(1.0)  # the last answers reach the client
        finally:
            sensor.close()
            stop_run(run)
    finally:
        client.terminate()
        printed = rest_of(client)[0]
    return [int(float(m.group(1))) for m in re.finditer(pattern, printed)]


def test_a_pure_data_robot_patch_follows_the_poses(tmp_path):
    pd = _runtime("pd")
    port = free_port()
    classes = _output_client(
        tmp_path, [pd, "-nogui", "-noaudio", "-nomidi", "-stderr", "-open",
                   str(CLIENTS / "robot_vanilla.pd"), "-send", f"gm-port {port}"],
        port, "ready: bang", r"class: ([0-9.]+)")
    assert _right(classes) >= 0.95


def test_a_pure_data_mrpeach_patch_follows_the_poses(tmp_path):
    pd = _runtime("pd")
    port = free_port()
    patch = tmp_path / "robot_mrpeach.pd"  # the same patch, on a free port
    patch.write_text((CLIENTS / "robot_mrpeach.pd").read_text().replace(
        "udpreceive 12000", f"udpreceive {port}"))
    classes = _output_client(
        tmp_path, [pd, "-nogui", "-noaudio", "-nomidi", "-stderr", "-open", str(patch)],
        port, "ready: bang", r"class: ([0-9.]+)")
    assert _right(classes) >= 0.95


def test_a_chuck_drum_machine_follows_the_poses(tmp_path):
    chuck = _runtime("chuck")
    port = free_port()
    classes = _output_client(
        tmp_path, [chuck, "--silent", f"{CLIENTS / 'drum_machine.ck'}:{port}"], port, "ready",
        r"class ([0-9]+)")
    assert _right(classes) >= 0.95


def _session(tmp_path: Path, command: list[str], *options: str,
             env: dict[str, str] | None = None) -> str:
    """A client that drives the whole session itself (``command`` + the stage's input port and
    its own, ``env`` added to its environment), against a stage on a new project; what it
    printed."""
    folder = _new(tmp_path, *options)
    port_in, port_out = free_port(), free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}", "--osc-out",
                       f"127.0.0.1:{port_out}")
    try:
        done = subprocess.run([*command, str(port_in), str(port_out)], capture_output=True,
                              text=True, timeout=300, env={**os.environ, **(env or {})})
    finally:
        stop_run(run)
    return done.stdout + done.stderr


#: sclang's Qt wants these without a display, as root (no desktop session, no sandbox)
SCLANG_ENV = {"QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_DISABLE_SANDBOX": "1",
              "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox"}


def test_a_supercollider_session_records_trains_and_follows(tmp_path):
    sclang = _runtime("sclang")
    printed = _session(tmp_path, [sclang, str(CLIENTS / "poses_session.scd")],
                       env={**SCLANG_ENV, "XDG_RUNTIME_DIR": str(tmp_path)})
    assert "trained true" in printed, printed[-2000:]
    classes = [int(v) for v in re.search(r"classes ([0-9 ]*)", printed).group(1).split()]
    addresses = re.search(r"addresses (.*)", printed).group(1).split()
    assert addresses == ["/wek/outputs"]
    assert _right(classes) >= 0.95


def test_a_node_client_trains_on_data_and_follows(tmp_path):
    """wekinator-node's trainOnData: one recording, outputs then inputs for each example, the
    classes in no order (a take per example): a kNN project, Wekinator's default for it."""
    node = _runtime("node")
    printed = _session(tmp_path, [node, str(CLIENTS / "train_on_data.js")], "--model", "knn")
    out = json.loads(printed.strip().splitlines()[-1])
    assert out["trained"] and out["shown"] == SHOWN.tolist()
    assert {m["address"] for m in out["got"]} == {"/wek/outputs"}
    assert _right([int(m["values"][0]) for m in out["got"]]) >= 0.95


def _replay_stage(tmp_path: Path, *options: str, inputs: int = 2):
    folder = _new(tmp_path, *options, inputs=inputs)
    port_in = free_port()
    replay = OscPeer(port_in)
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}", "--osc-out",
                       f"127.0.0.1:{replay.port_out}")
    return run, replay


def test_processing_teaching_sketches_replayed_message_for_message(tmp_path):
    """Wekinator's Processing examples, as a class uses them together: the mouse sketch sends
    /wek/inputs (mouseX, mouseY as floats) every other frame (30 a second) while the mouse
    moves from corner to corner (a flick: two frames on the way, the answer read once it rests); the controller sketch sends
    outputs 1.0 or 2.0, startRecording, stopRecording on its keys (here '1', 'r', '2' while
    recording, 's'); Train and Run are pressed; the receiving sketch takes every message it
    gets for the reply to the last mouse position: 42 positions, each answered by one
    /wek/outputs (it broke on gesturemap's own messages), the class of the corner the mouse
    rests in. A kNN project, as the class's Wekinator project was (its default classifier)."""
    run, replay = _replay_stage(tmp_path, "--model", "knn")
    corners = {1: np.array([160.0, 120.0]), 2: np.array([480.0, 360.0])}
    rng = np.random.default_rng(5)
    at = corners[1].copy()

    def mouse(cls: int) -> bool:
        """One frame of the mouse on its way to (or in) corner ``cls``: True when it was there
        already (it rests)."""
        nonlocal at
        step = corners[cls] - at
        far = float(np.abs(step).max())
        at = at + (step if far <= 160 else step * 160 / far)
        replay.send("/wek/inputs", *(np.round(at) + rng.integers(-3, 4, 2)))
        return far == 0

    try:
        replay.send("/wekinator/control/outputs", 1.0)  # key '1'
        replay.send("/wekinator/control/startRecording")  # key 'r'
        for cls in (1, 2):
            if cls == 2:
                replay.send("/wekinator/control/outputs", 2.0)  # key '2', still recording
            for _ in range(40):
                mouse(cls)
                time.sleep(1 / 30)
        replay.send("/wekinator/control/stopRecording")  # key 's'
        replay.send("/wekinator/control/train")  # Wekinator's Train button
        assert [m.address for m in replay.replies(lambda g: g, 120)] == [
            "/wekinator/status/done-training"]
        replay.send("/wekinator/control/startRunning")  # Run
        answered, resting = 0, []
        for k in range(42):
            cls = 2 - (k // 7) % 2
            rests = mouse(cls)
            got = replay.replies(lambda g: g, 5)  # the first message: "the" reply
            got += replay.replies(lambda g: False, 1 / 30)  # and whatever else came
            answered += len(got) == 1 and got[0].address == "/wek/outputs"
            if rests and got:
                resting.append(got[0].params[0] == cls)
    finally:
        replay.close()
        stop_run(run)
    assert answered == 42
    assert len(resting) >= 25 and np.mean(resting) >= 0.95, resting


def test_a_python_trainers_regression_session_replayed(tmp_path):
    """A Python script bootstrapping a 6-input, 4-output Wekinator project: stopRunning,
    deleteAllExamples, then for each example outputs (4 floats) and a recording of about a
    second of its inputs at 30 frames/s, train, startRunning. Running (a kNN project, k = 1 as
    in Wekinator), each example's inputs come back as its 4 outputs on /wek/outputs."""
    run, replay = _replay_stage(tmp_path, "--model", "knn", "--outputs", "4", inputs=6)
    rng = np.random.default_rng(11)
    examples = [((0.14, 0.54, 0.03, 0.02, 1.0, 0.03), (0.14, 0.54, 0.0, 0.10)),
                ((0.50, 0.60, 0.03, 0.02, 1.0, 0.03), (0.50, 0.60, 0.0, 0.18)),
                ((0.86, 0.60, 0.03, 0.02, 1.0, 0.03), (0.86, 0.60, 0.0, 0.25)),
                ((0.50, 0.04, 0.02, 0.02, 1.0, 0.04), (0.50, 0.00, 0.0, 0.00))]
    try:
        replay.send("/wekinator/control/stopRunning")
        replay.send("/wekinator/control/deleteAllExamples")
        for inputs, outputs in examples:
            replay.send("/wekinator/control/outputs", *outputs)
            replay.send("/wekinator/control/startRecording")
            for _ in range(34):
                replay.send("/wek/inputs", *(np.array(inputs) + rng.uniform(-0.01, 0.01, 6)))
                time.sleep(1 / 30)
            replay.send("/wekinator/control/stopRecording")
        replay.send("/wekinator/control/train")
        assert [m.address for m in replay.replies(lambda g: g, 120)] == [
            "/wekinator/status/done-training"]
        replay.send("/wekinator/control/startRunning")
        answers = []
        for inputs, _ in examples:
            replay.send("/wek/inputs", *inputs)
            answers += replay.replies(lambda g: g, 5)
    finally:
        replay.close()
        stop_run(run)
    assert [m.address for m in answers] == ["/wek/outputs"] * len(examples)
    got = np.array([m.params for m in answers])
    np.testing.assert_allclose(got, [o for _, o in examples], atol=1e-6)
