"""Wekinator's recording semantics on its control messages, over real loopback UDP: one example
per frame labelled with the output value current at that frame (takes split where it changes),
startRecording before any outputs, a second startRecording, train and startRunning while
recording."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from tests.stage_helpers import float_msg

POSES = {1: (0.1, 0.1), 2: (0.9, 0.1), 3: (0.5, 0.9)}


class Client:
    """A Wekinator client: sends to the engine's OSC port, one datagram at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.frames = 0
        self.rng = np.random.default_rng(0)

    def control(self, verb: str, *values: float) -> None:
        self.sock.sendto(float_msg(f"/wekinator/control/{verb}", *values),
                         ("127.0.0.1", self.engine.osc_port))

    def pose(self, cls: int, n: int) -> None:
        for _ in range(n):
            x = np.array(POSES[cls]) + 0.02 * self.rng.standard_normal(2)
            self.sock.sendto(float_msg("/wek/inputs", *x), ("127.0.0.1", self.engine.osc_port))
            self.frames += 1
        self.settle()

    def as_class(self, cls: int, n: int) -> None:
        """``outputs cls``, then ``n`` frames of its pose."""
        self.control("outputs", cls)
        self.pose(cls, n)

    def stop(self) -> list[tuple[object, int]]:
        """``stopRecording``; the takes once the engine has stopped recording."""
        self.control("stopRecording")
        self.settle()
        assert _wait(lambda: not self.engine.recording)
        return _takes(self.engine)

    def settle(self) -> None:
        """Wait until the engine took every frame sent (and the commands before them)."""
        deadline = time.monotonic() + 10
        while self.engine.frames_in < self.frames and time.monotonic() < deadline:
            time.sleep(0.002)
        assert self.engine.frames_in == self.frames

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client():
    engine = Engine(Project("wek"), osc_in=("127.0.0.1", 0), osc_out=None,
                    trainer="thread").start()
    c = Client(engine)
    yield c
    c.close()
    engine.stop()


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def _takes(engine: Engine) -> list[tuple[object, int]]:
    return [(t.label, len(t.inputs)) for t in engine.project.takes]


def test_outputs_during_a_recording_label_the_frames_that_follow(client):
    """Wekinator's way: one recording, the output value changed twice while it runs; every
    frame is kept under the class current when it came (a take per stretch of one class)."""
    client.control("outputs", 1)
    client.control("startRecording")
    client.pose(1, 30)
    client.as_class(2, 25)
    client.as_class(2, 5)  # the same class again: the take goes on
    client.as_class(3, 20)
    assert client.stop() == [(1, 30), (2, 30), (3, 20)]
    for take in client.engine.project.takes:  # the take's frames are its pose's, none of another's
        assert np.allclose(take.inputs.mean(axis=0), POSES[take.label], atol=0.02)


def test_start_recording_before_any_outputs_records_class_one(client):
    """Wekinator records the outputs' default values (class 1) when no outputs came: it used
    to be refused here, and a client that sets its class after starting lost its frames."""
    client.control("startRecording")
    client.pose(1, 10)
    client.as_class(2, 10)
    assert client.stop() == [(1, 10), (2, 10)]
    assert client.engine.refused_commands == 0


def test_a_second_start_recording_keeps_the_frames_recorded(client):
    """A second startRecording starts a new round: the frames so far stay (10 of 15 were kept:
    the open take's were dropped)."""
    client.control("outputs", 1)
    client.control("startRecording")
    client.pose(1, 10)
    client.control("startRecording")
    client.pose(1, 5)
    assert client.stop() == [(1, 10), (1, 5)]


def test_train_while_recording_trains_on_the_frames_so_far_and_records_on(client):
    engine = client.engine
    client.control("outputs", 1)
    client.control("startRecording")
    client.pose(1, 20)
    client.as_class(2, 20)
    client.control("train")  # refused before: "a take is being recorded"
    client.pose(2, 10)
    client.settle()
    assert _wait(lambda: engine.trainings == 1)
    assert engine.recording and engine.refused_commands == 0
    assert list(engine.model.labels_) == [1, 2]
    assert client.stop() == [(1, 20), (2, 20), (2, 10)]


def test_start_running_stops_a_recording_and_start_recording_stops_running(client):
    engine = client.engine
    for cls in (1, 2):
        client.control("outputs", cls)
        client.control("startRecording")
        client.pose(cls, 20)
    client.control("train")
    client.settle()
    assert _wait(lambda: engine.trainings == 1)
    client.control("startRunning")  # as Wekinator: the recording stops
    client.pose(2, 5)
    assert _wait(lambda: not engine.recording) and engine.running
    assert _takes(engine) == [(1, 20), (2, 20)]  # the running frames recorded nothing
    client.control("startRecording")  # as Wekinator: running stops
    client.settle()
    assert _wait(lambda: engine.recording) and not engine.running


def _refused(engine: Engine, name: str) -> int:
    return int(engine.refused.get(name, [0, ""])[0])


def test_dtw_recording_messages_leave_a_recording_of_classes_alone(client):
    """Wekinator does nothing with startDtwRecording / stopDtwRecording outside a DTW
    project. Here a stray stopDtwRecording ended the take under way (its next frames went
    unrecorded) and startDtwRecording 2 started a take of class 2."""
    engine = client.engine
    client.control("outputs", 1)
    client.control("startRecording")
    client.pose(1, 10)
    client.control("stopDtwRecording")
    client.pose(1, 5)
    client.control("startDtwRecording", 2)
    client.pose(1, 5)
    assert _wait(lambda: _refused(engine, "stop_dtw_recording") == 1
                 and _refused(engine, "start_numbered") == 1)
    assert engine.recording and engine.current_label == 1
    assert client.stop() == [(1, 20)]  # one take, every frame of it


@pytest.fixture
def dtw_client():
    """A client of a DTW project that declares its gestures 1 and 2 (as an import of a
    Wekinator DTW project does, naming each one's message), one take of each."""
    project = Project("dtw", model={"kind": "dtw", "params": {}}, outputs={
        "gesture_messages": {"1": "/output_1", "2": "/output_2"}})
    rng = np.random.default_rng(1)
    for gesture in (1, 2):
        project.add_take(np.array(POSES[gesture]) + 0.02 * rng.standard_normal((20, 2)),
                         gesture)
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=None, trainer="thread").start()
    c = Client(engine)
    yield c
    c.close()
    engine.stop()


def test_start_dtw_recording_while_a_gesture_records_goes_on_with_that_gesture(dtw_client):
    """Wekinator goes on recording the gesture it was recording. Here a second
    startDtwRecording split the frames into two templates, the second of another gesture."""
    client, engine = dtw_client, dtw_client.engine
    client.control("startDtwRecording", 1)
    client.pose(1, 10)
    client.control("startDtwRecording", 2)
    client.pose(1, 10)
    assert _wait(lambda: _refused(engine, "start_numbered") == 1)
    client.control("stopDtwRecording")
    client.settle()
    assert _wait(lambda: len(engine.project.takes) == 3)
    assert _takes(engine)[-1] == (1, 20) and not engine.recording


def test_a_class_number_outputs_refuses_says_what_was_sent(client):
    """``outputs 2.5`` to a classifier was refused as "class number np.float64(2.5):
    expected a whole number": a Python type's name in the performer's log, and no word of
    which message it was. The class set before stays current."""
    engine = client.engine
    client.control("outputs", 2)
    client.control("outputs", 2.5)
    assert _wait(lambda: _refused(engine, "set_outputs") == 1)
    assert engine.current_label == 2
    assert engine.refused["set_outputs"][1] == (
        "outputs: class number 2.5: expected a whole number; the class set before stays "
        "current")


@pytest.mark.parametrize(("message", "command"), [(("train",), "wek_train"),
                                                  (("outputs", 2), "set_outputs"),
                                                  (("stopRecording",), "wek_stop_recording")])
def test_a_message_dtw_ignores_leaves_a_gesture_being_recorded_whole(dtw_client, message,
                                                                     command):
    """Wekinator's DTW takes no train (its gestures are matched as they are recorded), has
    no output values to set, and ends a gesture with stopDtwRecording only: it ignores all
    three. Here each, sent during gesture 1's recording (a controller's train button, a
    class selector, a record toggle), ended its take after 10 frames: two templates of half
    the gesture (the second of gesture 2 after ``outputs 2``), or, after ``stopRecording``,
    a template of half the gesture and the rest of it unrecorded."""
    client, engine = dtw_client, dtw_client.engine
    client.control("startDtwRecording", 1)
    client.pose(1, 10)
    client.control(*message)
    client.pose(1, 10)
    assert _wait(lambda: _refused(engine, command) == 1)
    assert "DTW" in engine.refused[command][1]
    client.control("stopDtwRecording")
    client.settle()
    assert _wait(lambda: len(engine.project.takes) == 3)
    assert _takes(engine)[-1] == (1, 20) and engine.errors == 0


def test_start_dtw_recording_of_a_gesture_the_project_does_not_have_is_refused(dtw_client):
    """Wekinator refuses a gesture number beyond its gestures. Here gesture 3 was recorded:
    a new gesture, and a third distance on every /wek/outputs its client reads two of."""
    client, engine = dtw_client, dtw_client.engine
    client.control("startDtwRecording", 3)
    client.pose(3, 10)
    client.control("stopDtwRecording")  # none under way: nothing happens, nothing refused
    client.settle()
    assert _wait(lambda: _refused(engine, "start_numbered") == 1)
    assert "gestures are 1, 2" in engine.refused["start_numbered"][1]
    assert _takes(engine) == [(1, 20), (2, 20)] and not engine.recording
    assert _refused(engine, "stop_dtw_recording") == 0 and engine.errors == 0


def test_outputs_with_no_value_is_refused_saying_what_it_needs(client):
    """A message box sending the address alone: refused, saying what the message carries;
    the class set before stays current. It was said to be "not finite", which no value was."""
    engine = client.engine
    client.control("outputs", 2)
    client.control("outputs")
    client.control("startRecording")
    client.pose(2, 10)
    assert _wait(lambda: _refused(engine, "set_outputs") == 1)
    assert "no value given; send the class number" in engine.refused["set_outputs"][1]
    assert client.stop() == [(2, 10)]


def test_outputs_refused_while_recording_says_the_frames_go_on_into_the_class_before(client):
    """Wekinator ignores an output value it refuses ("Illegal output value ... ignoring it")
    and records the frames that follow under the value it had. So does gesturemap, but the
    refusal of ``outputs 0`` said only that the class before stayed current: the performer
    was not told the next 20 frames (pose 2's) were going into class 1's take. Now it says
    so; the frames are where Wekinator puts them, and ``outputs 2`` after it splits as ever."""
    engine = client.engine
    client.control("outputs", 1)
    client.control("startRecording")
    client.pose(1, 20)
    client.control("outputs", 0)  # no class: 0 is Wekinator's "none" on /wek/outputs
    client.pose(2, 20)
    assert _wait(lambda: _refused(engine, "set_outputs") == 1)
    assert engine.refused["set_outputs"][1] == (
        "outputs: class number 0: expected 1 to 1000; the class set before stays current; "
        "recording goes on: the frames that follow are recorded as class 1, as in Wekinator")
    client.as_class(2, 10)
    assert client.stop() == [(1, 40), (2, 10)]
    client.control("outputs", 0)  # not recording: said as before
    assert _wait(lambda: _refused(engine, "set_outputs") == 2)
    assert engine.refused["set_outputs"][1].endswith("the class set before stays current")


def test_outputs_refused_while_recording_a_regression_names_the_values_recorded():
    """A regression's ``outputs`` of the wrong length while recording: Wekinator warns and
    records on under the values it had; the refusal names them."""
    engine = Engine(Project("reg", output_names=["cutoff", "gain"]), osc_in=("127.0.0.1", 0),
                    osc_out=None, trainer="thread").start()
    other = Client(engine)
    try:
        other.control("outputs", 0.25, 0.5)
        other.control("startRecording")
        other.pose(1, 10)
        other.control("outputs", 0.75)
        other.pose(1, 10)
        assert _wait(lambda: _refused(engine, "set_outputs") == 1)
        assert engine.refused["set_outputs"][1] == (
            "outputs: 1 values; the project has 2 outputs (cutoff, gain); recording goes on: "
            "the frames that follow are recorded with the outputs (cutoff, gain) at 0.25, "
            "0.5, as in Wekinator")
        other.stop()
        (take,) = engine.project.takes
        np.testing.assert_allclose(take.outputs, np.tile([0.25, 0.5], (20, 1)))
    finally:
        other.close()
        engine.stop()


def test_start_recording_after_running_records_the_class_the_model_gave(client):
    """Wekinator's running overwrites its current output values with the model's answers,
    and a startRecording with no outputs since records under them. Here the frames went to
    the class of the last outputs message (2) instead of the class the model gave the pose
    the performer was holding (1): a client recording 'more of what it does now' taught the
    model the opposite."""
    engine = client.engine
    client.control("outputs", 1)
    client.control("startRecording")
    client.pose(1, 20)
    client.as_class(2, 20)
    client.control("train")
    assert _wait(lambda: engine.trainings == 1)
    client.control("startRunning")
    client.pose(1, 5)  # the model answers class 1
    assert _wait(lambda: engine.frames_out == 5)
    client.control("startRecording")  # no outputs since running: the model's class
    client.pose(1, 10)
    assert client.stop()[-1] == (1, 10)
    client.control("outputs", 2)  # an outputs after it is what the next take records
    client.control("startRecording")
    client.pose(2, 10)
    assert client.stop()[-1] == (2, 10)
    assert engine.refused_commands == 0


def test_start_recording_after_running_records_the_values_a_regression_gave():
    """The same for a regression: the take records what the model answered last (about
    0.2 for pose 1), not the last outputs message (0.8)."""
    engine = Engine(Project("reg", output_names=["cutoff"],
                            model={"kind": "knn", "params": {"k": 1}}),
                    osc_in=("127.0.0.1", 0), osc_out=None, trainer="thread").start()
    client = Client(engine)
    try:
        client.control("outputs", 0.2)
        client.control("startRecording")
        client.pose(1, 20)
        client.control("outputs", 0.8)
        client.pose(2, 20)
        client.control("train")
        assert _wait(lambda: engine.trainings == 1)
        client.control("startRunning")
        client.pose(1, 5)
        assert _wait(lambda: engine.frames_out == 5)
        client.control("startRecording")
        client.pose(1, 10)
        client.stop()
        take = engine.project.takes[-1]
        assert len(take.inputs) == 10
        np.testing.assert_allclose(take.outputs, 0.2, atol=1e-6)
    finally:
        client.close()
        engine.stop()


def _bundle(*datagrams: bytes) -> bytes:
    """An OSC bundle (time tag "immediately") of ``datagrams``, as Max, SuperCollider or liblo
    send several messages at once."""
    body = b"".join(len(d).to_bytes(4, "big") + d for d in datagrams)
    return b"#bundle\0" + (1).to_bytes(8, "big") + body


def _pose_datagrams(client: Client, cls: int, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        x = np.array(POSES[cls]) + 0.02 * client.rng.standard_normal(2)
        out.append(float_msg("/wek/inputs", *x))
    client.frames += n
    return out


def test_a_bundle_of_start_frames_and_stop_records_its_frames(client):
    """A bundle's control messages act in their place among its frames: a whole take sent as
    one bundle is recorded, not lost because its stop ran before its frames were queued."""
    client.sock.sendto(_bundle(float_msg("/wekinator/control/outputs", 2),
                               float_msg("/wekinator/control/startRecording"),
                               *_pose_datagrams(client, 2, 30),
                               float_msg("/wekinator/control/stopRecording")),
                       ("127.0.0.1", client.engine.osc_port))
    client.settle()
    assert _wait(lambda: len(client.engine.project.takes) == 1 and not client.engine.recording)
    assert _takes(client.engine) == [(2, 30)]
    assert client.engine.refused_commands == 0


def test_a_bundle_changes_the_class_between_its_frames(client):
    """Frames before an ``outputs`` in the same bundle keep the class they came under; a
    ``stopRecording`` in the middle leaves the frames after it unrecorded."""
    client.control("outputs", 1)
    client.control("startRecording")
    client.settle()
    assert _wait(lambda: client.engine.recording)
    client.sock.sendto(_bundle(*_pose_datagrams(client, 1, 12),
                               float_msg("/wekinator/control/outputs", 3),
                               *_pose_datagrams(client, 3, 20),
                               float_msg("/wekinator/control/stopRecording"),
                               *_pose_datagrams(client, 1, 5)),
                       ("127.0.0.1", client.engine.osc_port))
    client.settle()
    assert _wait(lambda: not client.engine.recording)
    assert _takes(client.engine) == [(1, 12), (3, 20)]


def test_a_recording_that_kept_nothing_of_its_bad_frames_says_why_at_its_stop(client):
    """The first frame fixed the project's size at 2; a client then sends frames of 3 (its
    patch changed): each is refused, the recording keeps nothing, and its stop says why
    rather than leave the client to learn of it from "no takes" at train."""
    engine = client.engine
    client.pose(1, 1)  # the size: 2
    client.control("outputs", 1)
    client.control("startRecording")
    for _ in range(20):
        client.sock.sendto(float_msg("/wek/inputs", 0.1, 0.2, 0.3), ("127.0.0.1", engine.osc_port))
    assert _wait(lambda: engine.stats()["bad_packets"] == 20)
    client.control("stopRecording")
    assert _wait(lambda: engine.refused_commands == 1 and not engine.recording)
    assert list(engine.project.takes) == []
    count, why = engine.refused["stop_recording"]
    assert count == 1
    assert "nothing recorded, and 20 packet(s)" in why and "project's 2 inputs" in why


def test_a_recording_with_bad_frames_among_good_ones_is_kept_without_a_word(client):
    """Bad frames amid a take that kept frames: the take is kept, the stop refuses nothing."""
    engine = client.engine
    client.control("outputs", 1)
    client.control("startRecording")
    client.pose(1, 15)
    client.sock.sendto(float_msg("/wek/inputs", 0.1, 0.2, 0.3), ("127.0.0.1", engine.osc_port))
    assert _wait(lambda: engine.stats()["bad_packets"] == 1)
    assert client.stop() == [(1, 15)]
    assert engine.refused_commands == 0
