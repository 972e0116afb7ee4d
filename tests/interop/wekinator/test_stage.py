"""A new project on stage over Wekinator's protocol, as a Wekinator client drives it, over real
loopback UDP against `gesturemap new` + `gesturemap run`: one recording whose output value
changes twice (Wekinator's way), train, run; then poses switching every 20 frames with no reset.
The output port gets exactly one /wek/outputs per input frame and no other address.

Then Wekinator's control messages as real clients send them, replayed message for message
(tests/data/clients/SOURCES.md): names, per-output switches, recording while a DTW project
runs, startRecording with an argument or in a DTW project."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from ...stage_helpers import OscPeer, free_port, osc_message, start_run, stop_run

POSES = {1: (0.1, 0.1), 2: (0.9, 0.1), 3: (0.5, 0.9)}
#: the order the poses are shown in while running, each for 20 frames
SHOWN = [1, 2, 3, 2, 1, 3, 1, 2, 3, 3, 1, 2]


class WekinatorClient(OscPeer):
    """Sends as a Wekinator client does and reads every datagram the output port gets."""

    def __init__(self, port_in: int) -> None:
        super().__init__(port_in)
        self.rng = np.random.default_rng(7)

    def frame(self, cls: int) -> None:
        self.send("/wek/inputs", *(np.array(POSES[cls]) + 0.02 * self.rng.standard_normal(2)))

    def send_typed(self, address: str, *values: object) -> None:
        """A message with python-osc's own types (a name as a string, a number as an int)."""
        self.tx.sendto(osc_message(address, *values), ("127.0.0.1", self.port_in))


def _stage(tmp_path, *options: str) -> tuple[object, WekinatorClient]:
    """`gesturemap new` (2 inputs, ``options``) + `gesturemap run`, answering a client."""
    folder = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--inputs", "2",
                    *options], check=True, timeout=120)
    client = WekinatorClient(free_port())
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{client.port_in}", "--osc-out",
                       f"127.0.0.1:{client.port_out}")
    return run, client


def _done_training(client: WekinatorClient) -> list:
    return client.replies(lambda g: any(
        m.address == "/wekinator/status/done-training" for m in g), 120)


#: a 2-output regression's targets, by the pose they are recorded at
TARGETS = {1: (0.2, 0.3), 2: (0.8, 0.9)}


def _teach_regression(client: WekinatorClient, targets: dict) -> None:
    """One recording Wekinator's way (``outputs`` then 20 frames of its pose, per target),
    train, wait for done-training, startRunning."""
    client.send("/wekinator/control/startRecording")
    for cls, values in targets.items():
        client.send("/wekinator/control/outputs", *values)
        for _ in range(20):
            client.frame(cls)
            time.sleep(0.003)
    client.send("/wekinator/control/stopRecording")
    client.send("/wekinator/control/train")
    assert [m.address for m in _done_training(client)] == ["/wekinator/status/done-training"]
    client.send("/wekinator/control/startRunning")


@pytest.mark.parametrize("model", [None, "knn"], ids=["default", "knn"])
def test_a_new_classifier_project_follows_poses_over_wekinators_protocol(tmp_path, model):
    folder = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--inputs", "2",
                    *(["--model", model] if model else [])], check=True, timeout=120)
    port_in = free_port()
    client = WekinatorClient(port_in)
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}", "--osc-out",
                       f"127.0.0.1:{client.port_out}")
    try:
        # one recording; the output value changes twice while it runs (Wekinator's way)
        client.send("/wekinator/control/outputs", 1)
        client.record_and_train(client.frame, (1, 2, 3))
        done = client.replies(lambda g: any(
            m.address == "/wekinator/status/done-training" for m in g), 120)
        assert [m.address for m in done] == ["/wekinator/status/done-training"]
        client.send("/wekinator/control/startRunning")
        answers, truth = [], []
        for cls in SHOWN:  # poses switching every 20 frames, never a reset
            for _ in range(20):
                client.frame(cls)
                got = client.replies(lambda g: len(g) >= 1, 5)
                assert got, f"no answer to frame {len(truth)}"
                answers += got
                truth.append(cls)
        answers += client.replies(lambda g: False, 0.3)  # anything else that came
    finally:
        client.close()
        stop_run(run)
    # exactly one /wek/outputs per input frame, no other address (a client counts replies)
    assert [m.address for m in answers] == ["/wek/outputs"] * len(truth)
    classes = np.array([m.params[0] for m in answers])
    truth = np.array(truth)
    right = {cls: float(np.mean(classes[truth == cls] == cls)) for cls in POSES}
    assert float(np.mean(classes == truth)) >= 0.95, right
    assert min(right.values()) >= 0.95, right


def test_a_sketch_naming_fewer_outputs_than_the_project_has_leaves_them_as_they_are(tmp_path):
    """Wekinator's Processing colour sketch, and the sketches made from it for two outputs
    (hue and saturation, reading /wek/outputs only when it carries two floats), send
    setOutputNames "hue" when they start. Wekinator refuses names of another number than its
    outputs: the two outputs stay, are recorded, trained and sent as two floats."""
    run, client = _stage(tmp_path, "--model", "knn", "--outputs", "2")
    targets = TARGETS
    try:
        client.send_typed("/wekinator/control/setOutputNames", "hue")
        _teach_regression(client, targets)
        answers = []
        for cls in targets:
            client.frame(cls)
            answers += client.replies(lambda g: len(g) >= 1, 5)
    finally:
        client.close()
        stop_run(run)
    assert [m.address for m in answers] == ["/wek/outputs"] * 2
    np.testing.assert_allclose([m.params for m in answers], list(targets.values()), atol=1e-6)


def _stroke(client: WekinatorClient, gesture: int) -> None:
    """One DTW gesture of 30 frames: a rising diagonal (1) or a falling one (2)."""
    t = np.linspace(0, 1, 30)
    path = np.c_[t, t] if gesture == 1 else np.c_[t, 1 - t]
    for row in path + 0.01 * client.rng.standard_normal(path.shape):
        client.send("/wek/inputs", *row)
        time.sleep(0.003)


def _until_matched(client: WekinatorClient, gesture: int) -> list:
    """Show ``gesture`` until /output_N comes back (the templates are in use); the replies."""
    got: list = []
    deadline = time.monotonic() + 120
    while not any(m.address == f"/output_{gesture}" for m in got):
        assert time.monotonic() < deadline, "the DTW templates were never used"
        _stroke(client, gesture)
        got += client.replies(lambda g: False, 0.1)
    return got


def test_a_dtw_recording_over_osc_stops_running_as_wekinators_does(tmp_path):
    """A DTW client teaching a gesture while the project runs (a mouse sketch: pressed,
    startDtwRecording N; released, stopDtwRecording; a key, startRunning).
    Wekinator's controller stops running before the recording: nothing comes back for the
    frames being taught (no distances, no /output_N firing a sound), nor after the take,
    until the client sends startRunning again. Nor is done-training said: Wekinator's DTW
    has no training to wait for (its templates are the examples as recorded)."""
    run, client = _stage(tmp_path, "--model", "dtw")
    try:
        for gesture in (1, 2, 1, 2):
            client.send("/wekinator/control/startDtwRecording", gesture)
            _stroke(client, gesture)
            client.send("/wekinator/control/stopDtwRecording")
        client.send("/wekinator/control/startRunning")
        first = _until_matched(client, 1)
        client.send("/wekinator/control/startDtwRecording", 2)  # while running
        _stroke(client, 2)
        during = client.replies(lambda g: False, 0.3)
        client.send("/wekinator/control/stopDtwRecording")
        _stroke(client, 2)
        after = client.replies(lambda g: False, 0.5)
        client.send("/wekinator/control/startRunning")
        again = _until_matched(client, 2)
    finally:
        client.close()
        stop_run(run)
    assert [m.address for m in during] == []
    assert [m.address for m in after] == []
    heard = {m.address for m in first + again}
    assert heard == {"/wek/outputs", "/output_1", "/output_2"}, heard


def _taught_then_run(client: WekinatorClient, gesture: int) -> list:
    """Gesture ``gesture`` taught over OSC, then startRunning sent right after
    stopDtwRecording and frames at once (a burst, as a sensor streaming on): the replies
    until the gesture is matched."""
    client.send("/wekinator/control/startDtwRecording", gesture)
    _stroke(client, gesture)
    client.send("/wekinator/control/stopDtwRecording")
    client.send("/wekinator/control/startRunning")
    for row in np.linspace(0, 1, 10)[:, None].repeat(2, 1):  # before any template is stored
        client.send("/wek/inputs", *row)
    return _until_matched(client, gesture)


def test_dtw_distances_stay_finite_while_a_new_template_is_stored(tmp_path):
    """stopDtwRecording then startRunning at once: while the new template was being stored
    (0.01-0.7 s), /wek/outputs carried +inf, for every gesture on the first take and for
    the new gesture on the next ones, which a Max or Pd patch scaling the distances turns
    into infinity. Wekinator matches a take from the next frame. Now a first template is
    waited for in silence and a later one behind the distances of the model playing: no
    +inf nor NaN, and the message grows by the new gesture once its template is in use."""
    run, client = _stage(tmp_path, "--model", "dtw")
    try:
        first = _taught_then_run(client, 1)
        second = _taught_then_run(client, 2)
    finally:
        client.close()
        stop_run(run)
    for got, gesture in ((first, 1), (second, 2)):
        distances = [m.params for m in got if m.address == "/wek/outputs"]
        assert distances, f"no distances after gesture {gesture} was taught"
        assert all(np.isfinite(d).all() for d in distances), [
            d for d in distances if not np.isfinite(d).all()][:3]
        widths = [len(d) for d in distances]
        # gesture 1's distance alone until gesture 2's template is in, then both, for good
        assert widths == sorted(widths) and set(widths) <= {1, gesture}, widths
        assert widths[-1] == gesture, widths


def _answer(client: WekinatorClient, cls: int) -> tuple:
    """The values of the one /wek/outputs answering a frame of pose ``cls``."""
    client.frame(cls)
    got = client.replies(lambda g: len(g) >= 1, 5)
    assert [m.address for m in got] == ["/wek/outputs"]
    return tuple(got[0].params)


def test_disable_model_running_holds_an_output_as_wekinators_does(tmp_path):
    """A controller's per-output switches (the TouchDesigner bridge's "Disable Model
    Running" sends disableModelRunning 2 as an int): output 2 keeps the value it had while
    output 1 follows the gesture; an outputs message sets the held value; enableModelRunning
    2 lets its model answer again; an output the project has not is refused, nothing changed."""
    run, client = _stage(tmp_path, "--model", "knn", "--outputs", "2")
    targets = TARGETS
    try:
        _teach_regression(client, targets)
        np.testing.assert_allclose(_answer(client, 2), (0.8, 0.9), atol=1e-6)
        client.send_typed("/wekinator/control/disableModelRunning", 2)
        held = [_answer(client, cls) for cls in (1, 2, 1)]
        client.send("/wekinator/control/outputs", 0.5, 0.6)
        set_by_hand = _answer(client, 2)
        client.send_typed("/wekinator/control/disableModelRunning", 3)  # no output 3
        client.send_typed("/wekinator/control/enableModelRunning", 2)
        again = [_answer(client, cls) for cls in (1, 2)]
    finally:
        client.close()
        stop_run(run)
    np.testing.assert_allclose(held, [(0.2, 0.9), (0.8, 0.9), (0.2, 0.9)], atol=1e-6)
    np.testing.assert_allclose(set_by_hand, (0.8, 0.6), atol=1e-6)
    np.testing.assert_allclose(again, [(0.2, 0.3), (0.8, 0.9)], atol=1e-6)


def test_disable_model_running_holds_a_classifiers_class(tmp_path):
    """The same on a new classifier project (its frames answered by the fast paths): the
    class held, then the one an outputs message sets, then the pose's class again."""
    run, client = _stage(tmp_path)
    try:
        client.record_and_train(client.frame, (1, 2, 3), frames=30)
        assert [m.address for m in _done_training(client)] == [
            "/wekinator/status/done-training"]
        client.send("/wekinator/control/startRunning")
        assert _answer(client, 2) == (2.0,)
        client.send_typed("/wekinator/control/disableModelRunning", 1)
        held = [_answer(client, cls) for cls in (1, 3)]
        client.send_typed("/wekinator/control/outputs", 3)
        set_by_hand = _answer(client, 1)
        client.send_typed("/wekinator/control/enableModelRunning", 1)
        again = [_answer(client, cls) for cls in (1, 3)]
    finally:
        client.close()
        stop_run(run)
    assert held == [(2.0,), (2.0,)]
    assert set_by_hand == (3.0,)
    assert again == [(1.0,), (3.0,)]


def _takes(tmp_path) -> list:
    """The labels of the takes the stage saved in its project, in order."""
    from gesturemap.project import Project

    return [take.label for take in Project.load(tmp_path / "proj").takes]


def test_start_recording_records_the_current_outputs_whatever_its_argument(tmp_path):
    """A Max message box sends "startRecording 1" (an int it does not mean as a class):
    Wekinator ignores the argument and records under the output value set last."""
    run, client = _stage(tmp_path, "--model", "knn")
    try:
        for cls in (2, 1):
            client.send("/wekinator/control/outputs", cls)
            client.send_typed("/wekinator/control/startRecording", 1)
            for _ in range(20):
                client.frame(cls)
                time.sleep(0.003)
            client.send_typed("/wekinator/control/stopRecording", 1)
    finally:
        client.close()
        stop_run(run)
    assert _takes(tmp_path) == [2, 1]


def test_start_recording_in_a_dtw_project_records_no_template(tmp_path):
    """A controller whose record toggle sends startRecording / stopRecording whatever the
    project (the TouchDesigner bridge): Wekinator's DTW takes no take from it, only from
    startDtwRecording N; a take of the gesture set last would be matched as that gesture."""
    run, client = _stage(tmp_path, "--model", "dtw")
    try:
        for gesture in (1, 2):
            client.send("/wekinator/control/startDtwRecording", gesture)
            _stroke(client, gesture)
            client.send("/wekinator/control/stopDtwRecording")
        client.send("/wekinator/control/startRecording")
        for _ in range(30):
            client.frame(3)
            time.sleep(0.003)
        client.send("/wekinator/control/stopRecording")
    finally:
        client.close()
        stop_run(run)
    assert _takes(tmp_path) == [1, 2]


def test_disable_model_recording_keeps_the_frames_out_of_the_takes(tmp_path):
    """The TouchDesigner controller's "Disable Model Recording" (disableModelRecording 1, an
    int): Wekinator records the frames with the output missing, which no model trains on;
    here no take is kept from them, until enableModelRecording 1."""
    run, client = _stage(tmp_path, "--model", "knn")
    try:
        for cls in (1, 2, 3):
            if cls == 2:
                client.send_typed("/wekinator/control/disableModelRecording", 1)
            if cls == 3:
                client.send_typed("/wekinator/control/enableModelRecording", 1)
            client.send("/wekinator/control/outputs", cls)
            client.send("/wekinator/control/startRecording")
            for _ in range(20):
                client.frame(cls)
                time.sleep(0.003)
            client.send("/wekinator/control/stopRecording")
    finally:
        client.close()
        stop_run(run)
    assert _takes(tmp_path) == [1, 3]


def test_outputs_of_two_values_leave_a_classifiers_class_as_it_was(tmp_path):
    """A patch made for a project of two outputs sends "outputs 2 5" to a classifier of one:
    Wekinator ignores values of another length than its outputs, and the frames recorded
    next are of the class set before."""
    run, client = _stage(tmp_path, "--model", "knn")
    try:
        for values in ((1,), (2, 5)):
            client.send("/wekinator/control/outputs", *values)
            client.send("/wekinator/control/startRecording")
            for _ in range(20):
                client.frame(values[0])
                time.sleep(0.003)
            client.send("/wekinator/control/stopRecording")
    finally:
        client.close()
        stop_run(run)
    assert _takes(tmp_path) == [1, 1]
