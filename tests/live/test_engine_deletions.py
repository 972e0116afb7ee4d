"""Wekinator's delete commands on stage, over real loopback sockets, real folders and a real
``gesturemap restore`` process: ``deleteExamplesForOutput N`` acts per output as Wekinator's
does (an index out of range, or not a whole number, is refused and counted, never an error),
and whatever a control message deletes comes back while the engine runs: ``/gesturemap/undo``,
``/gesturemap/restore``, and ``gesturemap restore DIR`` beside the running engine.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.live.engine import Engine
from gesturemap.project import Project
from tests.jack_midi import jack_midi  # noqa: F401 - a fixture
from tests.stage_helpers import osc_message as _msg
from tests.stage_helpers import wait_for as _wait

pytestmark = pytest.mark.timeout(180)


@contextmanager
def _running(folder: Path):
    """An engine running the project saved in ``folder`` over loopback OSC; yields it and a
    function that sends it an OSC message."""
    engine = Engine(Project.load(folder), project_dir=folder, osc_in=("127.0.0.1", 0),
                    osc_out=("127.0.0.1", 9), trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        yield engine, lambda *msg: tx.sendto(_msg(*msg), ("127.0.0.1", engine.osc_port))
    finally:
        engine.stop()
        tx.close()


def _gmr_project(folder: Path) -> Project:
    """A GMM project with 3 outputs (regression) and 6 takes, saved in ``folder``."""
    project = Project(output_names=["a", "b", "c"], model={"kind": "gmm",
                                                           "params": {"gaussians": 1}})
    rng = np.random.default_rng(4)
    for _ in range(6):
        project.add_take(rng.normal(size=(20, 2)), "take", outputs=rng.normal(size=(20, 3)))
    project.train()
    project.save(folder)
    return project


def _classifier(folder: Path) -> Project:
    project = Project(model={"kind": "gmm", "params": {"gaussians": 1}})
    rng = np.random.default_rng(5)
    for i in range(6):
        project.add_take(rng.normal(size=(20, 2)) + 3 * (i % 3), "abc"[i % 3])
    project.train()
    project.save(folder)
    return project


def _saved_ids(folder: Path) -> list[str]:
    return sorted(p.stem for p in (folder / "takes").glob("*.npz"))


def test_delete_examples_for_output_refuses_indices_out_of_range(tmp_path):
    folder = tmp_path / "p"
    ids = [t.id for t in _classifier(folder).takes]
    with _running(folder) as (engine, send):
        send("/wekinator/control/deleteExamplesForOutput")  # no number at all
        _wait(lambda: engine.refused_commands == 1)
        assert "needs the output's number" in engine.stats()["refused"]["delete_for_output"][1]
        bad = [2, 0, -1, (1e300, "d"), float("nan"), "x", 1.5, (2**40, "h")]
        for value in bad:
            send("/wekinator/control/deleteExamplesForOutput", value)
        _wait(lambda: engine.refused_commands == len(bad) + 1)
        stats = engine.stats()
        assert [t.id for t in engine.project.takes] == ids
        assert stats["errors"] == 0 and stats["control_deletions"] == []
        assert "between 1 and 1" in stats["refused"]["delete_for_output"][1]
    assert _saved_ids(folder) == sorted(ids)


def test_a_joint_regression_keeps_its_takes_when_one_output_is_deleted(tmp_path):
    """GMM, 3 outputs, 6 takes: ``deleteExamplesForOutput 2`` took every take. One model for
    the three outputs cannot keep output 1 and 3's examples without output 2's: refused,
    saying how to delete them all."""
    folder = tmp_path / "p"
    ids = [t.id for t in _gmr_project(folder).takes]
    with _running(folder) as (engine, send):
        send("/wekinator/control/deleteExamplesForOutput", 2)
        _wait(lambda: engine.refused_commands == 1)
        assert "deleteAllExamples" in engine.stats()["refused"]["delete_for_output"][1]
        assert [t.id for t in engine.project.takes] == ids
        assert engine.stats()["errors"] == 0
    assert _saved_ids(folder) == sorted(ids)


def test_undo_over_osc_brings_back_what_delete_examples_for_output_took(tmp_path):
    folder = tmp_path / "p"
    ids = [t.id for t in _classifier(folder).takes]
    with _running(folder) as (engine, send):
        send("/wekinator/control/deleteExamplesForOutput", 1)  # Wekinator's only output's
        _wait(lambda: _saved_ids(folder) == [])  # examples: every take
        assert engine.stats()["control_deletions"] == [ids]
        send("/gesturemap/undo")
        _wait(lambda: _saved_ids(folder) == sorted(ids))
        assert [t.id for t in engine.project.takes] == ids
        send("/wekinator/control/deleteAllExamples")
        _wait(lambda: _saved_ids(folder) == [])
        send("/gesturemap/restore", ids[0], ids[1])  # some of them
        _wait(lambda: _saved_ids(folder) == sorted(ids[:2]))
        send("/gesturemap/restore")  # the rest of the last deletion
        _wait(lambda: _saved_ids(folder) == sorted(ids))
        stats = engine.stats()
        assert stats["errors"] == 0 and stats["refused_commands"] == 0
        assert stats["control_deletions"] == []


def test_undo_over_osc_takes_back_the_latest_of_a_correction_and_a_deletion(tmp_path):
    folder = tmp_path / "p"
    ids = [t.id for t in _classifier(folder).takes]
    with _running(folder) as (_, send):
        send("/wekinator/control/deleteAllExamples")
        _wait(lambda: _saved_ids(folder) == [])
        send("/gesturemap/reset")
        for i in range(30):
            send("/wek/inputs", 0.5 + 0.01 * i, 0.5)
        send("/gesturemap/correct", "d")
        _wait(lambda: len(_saved_ids(folder)) == 1)
        send("/gesturemap/undo")  # the correction, the latest
        _wait(lambda: _saved_ids(folder) == [])
        send("/gesturemap/undo")  # then the deletion
        _wait(lambda: _saved_ids(folder) == sorted(ids))


def test_per_output_deletion_is_undone_with_its_labels(tmp_path):
    folder = tmp_path / "p"
    outputs = [{"target": n, "type": "regressor", "kind": "linear"} for n in "ab"]
    project = Project(output_names=["a", "b"],
                      model={"kind": "per_output", "params": {"outputs": outputs}})
    rng = np.random.default_rng(6)
    for label in ("take", "take", "outputs 1", "outputs 2"):
        project.add_take(rng.normal(size=(20, 2)), label, outputs=rng.normal(size=(20, 2)))
    project.save(folder)
    before = {t.id: t.label for t in project.takes}
    with _running(folder) as (engine, send):
        send("/wekinator/control/deleteExamplesForOutput", 2)
        _wait(lambda: len(engine.project.takes) == 3)
        assert {t.label for t in engine.project.takes} == {"outputs 1"}
        send("/wekinator/control/deleteExamplesForOutput", 3)  # there is no output 3
        _wait(lambda: engine.refused_commands == 1)
        send("/gesturemap/undo")

        def skipped() -> list:
            return [s.get("skip_labels") for s in engine.project.model["params"]["outputs"]]

        # the undo relabels and restores the takes, then the outputs' skipped labels: read
        # from this thread, the takes can be back a moment before the undo has ended
        _wait(lambda: {t.id: t.label for t in engine.project.takes} == before
              and skipped() == [["outputs 2"], ["outputs 1"]])
    assert {t.id: t.label for t in Project.load(folder).takes} == before


def _restore(folder: Path, *ids: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "restore", str(folder),
                           *ids], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_gesturemap_restore_works_beside_the_running_engine(tmp_path):
    """`gesturemap restore DIR` was refused while `run` held the project: the training set
    was gone for the rest of the show. It now asks the running engine to restore them."""
    folder = tmp_path / "p"
    ids = [t.id for t in _classifier(folder).takes]
    with _running(folder) as (engine, send):
        send("/wekinator/control/deleteAllExamples")
        _wait(lambda: _saved_ids(folder) == [])
        done = _restore(folder, ids[2])
        assert "restored 1 take into" in done.stdout and "running" in done.stdout
        assert [t.id for t in engine.project.takes] == [ids[2]]
        assert "restored 5 takes" in _restore(folder).stdout
        assert sorted(t.id for t in engine.project.takes) == sorted(ids)
        assert _saved_ids(folder) == sorted(ids)


def test_a_named_dtw_gesture_is_deleted_by_its_wekinator_number():
    """An imported DTW project names its gestures (outputConfig.xml's square, triangle...)
    and keeps Wekinator's numbers for them: deleteExamplesForOutput 2 deletes triangle's
    takes, by that number, and counts the gestures by their numbers too."""
    from gesturemap.interop.wekinator.examples import delete_examples_for_output, output_count

    project = Project("named", model={"kind": "dtw", "params": {}},
                      classes=["square", "triangle", "circle"],
                      outputs={"class_numbers": {"square": 1, "triangle": 2, "circle": 3}})
    for label in ("square", "triangle", "triangle", "circle"):
        project.add_take(np.zeros((12, 2)) + len(label), label)
    assert output_count(project) == 3
    assert delete_examples_for_output(project, 2) == 2
    assert [t.label for t in project.takes] == ["square", "circle"]
    with pytest.raises(GesturemapError, match="between 1 and 3"):
        delete_examples_for_output(project, 4)
    assert len(project.takes) == 2


def _cleared_while_recording(engine: Engine, send, ids: list[str], clear: tuple,  # noqa: ANN001
                             *between: tuple) -> None:
    """Record 20 frames of one pose (the ``between`` messages sent after the first 10), send
    ``clear``, then 15 frames of another pose and stop: the take left holds the 15 frames
    after ``clear``; undone, the deletion brings back the takes ``ids`` and the 20 frames
    recorded before it."""
    send("/wekinator/control/outputs", 1)
    send("/wekinator/control/startRecording")
    for i in range(20):
        send("/wek/inputs", 0.1, 0.1)  # the pose before "clear"
        if i == 9:
            for message in between:
                send(*message)
    _wait(lambda: engine.frames_in == 20)
    send(*clear)
    for _ in range(15):
        send("/wek/inputs", 0.9, 0.9)  # the pose after it
    send("/wekinator/control/stopRecording")
    _wait(lambda: engine.frames_in == 35 and not engine.recording)
    _wait(lambda: [len(t.inputs) for t in engine.project.takes] == [15])
    takes = engine.project.takes
    np.testing.assert_allclose(takes[0].inputs, 0.9, atol=1e-6)
    assert len(engine.stats()["control_deletions"]) == 1  # one deletion, one undo
    send("/gesturemap/undo")  # what the deletion took: the takes, and the frames before
    _wait(lambda: len(engine.project.takes) == len(ids) + 2)
    restored = [t for t in engine.project.takes if t.id not in ids and t is not takes[0]]
    assert [len(t.inputs) for t in restored] == [20]
    np.testing.assert_allclose(restored[0].inputs, 0.1, atol=1e-6)
    assert engine.stats()["errors"] == 0


def test_delete_all_examples_while_recording_deletes_the_frames_recorded_so_far(tmp_path):
    """Wekinator deletes every example it has, those of the recording under way too, and
    records on: a controller's "clear" pressed while recording keeps only what comes after
    it. Here the take under way kept its frames from before the deletion: the pose shown
    before "clear" was trained on. The frames deleted go to the trash with the other takes
    (restorable, as any deletion), not lost."""
    folder = tmp_path / "p"
    ids = [t.id for t in _classifier(folder).takes]
    with _running(folder) as (engine, send):
        _cleared_while_recording(engine, send, ids, ("/wekinator/control/deleteAllExamples",))
    assert len(_saved_ids(folder)) == 8


def test_delete_examples_for_output_while_recording_deletes_the_frames_recorded_so_far(
        tmp_path):
    """A classifier's one output: deleteExamplesForOutput 1 deletes every example, those of
    the recording under way too, and recording goes on, as deleteAllExamples does. Here the
    take under way kept its 20 frames from before the message: the pose the performer had
    just cleared was trained on. An index that is refused (2: there is no output 2) leaves
    the take whole; the frames deleted go to the trash with the other takes (restorable)."""
    folder = tmp_path / "p"
    ids = [t.id for t in _classifier(folder).takes]
    with _running(folder) as (engine, send):
        _cleared_while_recording(engine, send, ids,
                                 ("/wekinator/control/deleteExamplesForOutput", 1),
                                 ("/wekinator/control/deleteExamplesForOutput", 2))
        assert engine.refused_commands == 1
    assert len(_saved_ids(folder)) == 8  # the frames before "clear" reached the folder too


def test_a_dtw_gesture_being_recorded_keeps_its_frames_when_another_is_deleted(tmp_path):
    """DTW: deleteExamplesForOutput N deletes gesture N's takes. Gesture 2 being recorded
    keeps its take whole when gesture 1's are deleted; when its own are, the frames so far
    go with them and the take goes on with the frames after the message."""
    folder = tmp_path / "p"
    project = Project("dtw", model={"kind": "dtw", "params": {}},
                      outputs={"gesture_messages": {"1": "/output_1", "2": "/output_2"}})
    for gesture in (1, 2):
        project.add_take(np.full((20, 2), 0.3 * gesture), gesture)
    project.save(folder)
    with _running(folder) as (engine, send):
        send("/wekinator/control/startDtwRecording", 2)
        for _ in range(10):
            send("/wek/inputs", 0.2, 0.2)
        send("/wekinator/control/deleteExamplesForOutput", 1)
        for _ in range(10):
            send("/wek/inputs", 0.4, 0.4)
        _wait(lambda: engine.frames_in == 20 and [t.label for t in engine.project.takes] == [2])
        send("/wekinator/control/deleteExamplesForOutput", 2)
        for _ in range(12):
            send("/wek/inputs", 0.6, 0.6)
        send("/wekinator/control/stopDtwRecording")
        _wait(lambda: engine.frames_in == 32 and not engine.recording)
        _wait(lambda: [(t.label, len(t.inputs)) for t in engine.project.takes] == [(2, 12)])
        np.testing.assert_allclose(engine.project.takes[0].inputs, 0.6, atol=1e-6)
        assert engine.stats()["errors"] == 0 and engine.refused_commands == 0
        assert len(engine.project.trash()) == 3  # gesture 1's, gesture 2's, the 20 frames


def test_a_dtw_gesture_deleted_never_matches_and_matches_again_once_restored(tmp_path):
    """DTW matches against the takes it has. After deleteAllExamples the deleted templates
    went on matching: gesture 1 performed still got its distance to them on /wek/outputs
    (and its match message). And a gesture brought back by /gesturemap/undo was not matched
    again (its distance infinite) until something else retrained."""
    from tests.stage_helpers import osc_messages, osc_receiver

    folder = tmp_path / "p"
    project = Project("dtw", model={"kind": "dtw", "params": {}},
                      outputs={"gesture_messages": {"1": "/output_1", "2": "/output_2"}})
    for gesture in (1, 2):
        project.add_take(np.linspace(0.1 * gesture, 0.3 * gesture, 20)[:, None].repeat(2, 1),
                         gesture)
    project.train()
    project.save(folder)
    rx = osc_receiver()
    engine = Engine(Project.load(folder), project_dir=folder, osc_in=("127.0.0.1", 0),
                    osc_out=rx.getsockname(), trainer="thread").start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(*message: object) -> None:
        tx.sendto(_msg(*message), ("127.0.0.1", engine.osc_port))

    def gesture_1() -> list[float]:
        """Perform gesture 1; its distance on each /wek/outputs sent back meanwhile."""
        count = engine.frames_in + 20
        for v in np.linspace(0.1, 0.3, 20):
            send("/wek/inputs", v, v)
        _wait(lambda: engine.frames_in == count, 60)
        with engine._frame_lock:  # the last frame's answer sent
            pass
        return [params[0] for address, params in osc_messages(rx, lambda got: False, 0.5)
                if address == "/wek/outputs"]

    def matched(distances: list[float]) -> bool:
        return len(distances) == 20 and bool(np.isfinite(distances).all())

    def unmatched(distances: list[float]) -> bool:
        """A distance for every frame (none is silence), each +inf: no template to be near."""
        return len(distances) == 20 and bool(np.isposinf(distances).all())

    try:
        assert matched(gesture_1())
        send("/wekinator/control/deleteAllExamples")
        _wait(lambda: not engine.project.takes, 60)
        assert unmatched(gesture_1())  # no template left to be near
        send("/gesturemap/undo")
        _wait(lambda: list(getattr(engine.model, "labels_", [])) == [1, 2], 60)
        assert matched(gesture_1())
        send("/wekinator/control/deleteExamplesForOutput", 1)
        _wait(lambda: list(getattr(engine.model, "labels_", [])) == [2], 60)
        assert unmatched(gesture_1())
        send("/gesturemap/undo")  # gesture 1 back: matched at once
        _wait(lambda: len(engine.project.takes) == 2, 60)
        _wait(lambda: matched(gesture_1()), 60)
        assert engine.stats()["errors"] == 0
    finally:
        tx.close()
        engine.stop()
        rx.close()


def _notes(got: list[list[int]]) -> list[list[int]]:
    return [m for m in got if m[0] & 0xF0 in (0x80, 0x90)]


@contextmanager
def _playing_midi(project: Project, port_name: str):  # noqa: ANN202
    """An engine running ``project`` over loopback OSC with a MIDI out to a JACK port of the
    test's own; yields it, the MIDI messages that port got, and a function that sends the
    engine an OSC message."""
    from gesturemap.outputs.midi import MIDIOutput
    from tests.jack_midi import jack_in

    port, got = jack_in(port_name)
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                    trainer="thread",
                    sinks=[MIDIOutput({"port": port_name, "first_note": 36})]).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        yield engine, got, lambda *msg: tx.sendto(_msg(*msg), ("127.0.0.1", engine.osc_port))
    finally:
        engine.stop()
        tx.close()
        port.delete()
    assert engine.stats()["midi_send_errors"] == 0 and engine.stats()["errors"] == 0


@pytest.mark.serial("jack-lsl")
def test_deleting_every_dtw_template_while_running_releases_the_matched_note(jack_midi):  # noqa: F811
    """A DTW gesture's match played its MIDI note; deleteAllExamples while running left the
    engine sending +inf on /wek/outputs, and no frame released the note: it sounded for the
    rest of the show. Now it is released as the last template goes, once (frames after it
    send no more notes)."""
    from tests.jack_midi import wait_for as until
    from tests.rejection_helpers import DTW_GESTURES, dtw_project

    project = dtw_project()
    up = 36 + list(project.trained.labels_).index("up")
    with _playing_midi(project, "dtw-gone") as (engine, got, send):

        def play(frames: np.ndarray) -> None:
            count = engine.frames_in + len(frames)
            for x in frames:
                send("/wek/inputs", float(x))
            _wait(lambda: engine.frames_in == count, 20)
            with engine._frame_lock:  # the last frame's answer sent
                pass

        engine.command("reset")
        play(DTW_GESTURES[1])  # "up" performed: matched, its note on
        assert until(lambda: _notes(got) == [[0x90, up, 100]], 20), got
        sent = engine.frames_out
        send("/wekinator/control/deleteAllExamples")
        assert until(lambda: len(_notes(got)) == 2, 20), got  # no frame needed
        assert engine.model is None
        play(DTW_GESTURES[1])  # no template: +inf on /wek/outputs, nothing on MIDI
        assert engine.frames_out == sent + len(DTW_GESTURES[1])
        assert not until(lambda: len(_notes(got)) > 2, 0.5), got
    assert _notes(got) == [[0x90, up, 100], [0x80, up, 0]]


@pytest.mark.serial("jack-lsl")
def test_undoing_a_classifiers_only_take_while_running_releases_its_note(jack_midi):  # noqa: F811
    """A classifier trained from one correction plays its class's note; undoing that
    correction (its only take) while running takes the model away, and no frame answers
    after it: the note was held for good. Now it is released as the model goes."""
    from tests.jack_midi import wait_for as until

    project = Project(model={"kind": "gmm", "params": {"gaussians": 1}})
    with _playing_midi(project, "undo-pads") as (engine, got, send):

        def play(count: int) -> None:
            total = engine.frames_in + count
            for i in range(count):
                send("/wek/inputs", 0.5 + 0.01 * i, 0.5)
            _wait(lambda: engine.frames_in == total, 20)

        play(30)
        send("/gesturemap/correct", "a")  # the first take: trained on it
        _wait(lambda: engine.model is not None, 60)
        send("/wekinator/control/startRunning")
        _wait(lambda: engine.running, 20)
        play(5)
        assert until(lambda: _notes(got) == [[0x90, 36, 100]], 20), got
        send("/gesturemap/undo")
        assert until(lambda: len(_notes(got)) == 2, 20), got  # no frame needed
        assert engine.model is None and engine.running
    assert _notes(got) == [[0x90, 36, 100], [0x80, 36, 0]]

@contextmanager
def _loud_dtw_voice():  # noqa: ANN202
    """An engine on a DTW project with a synth whose loudness follows the match (a mapping
    of the project's own: the default one follows the model's kind, and rests on a change of
    kind anyway), "up" just performed: yields ``(engine, synth, send, loud, rest)``, the
    voice loud, ``rest`` its resting values, ``send(address)`` a control message."""
    from gesturemap.synth import Synth, SynthMapping
    from gesturemap.synth.mapping import PARAMETERS, Route
    from tests.jack_audio import jack_audio
    from tests.rejection_helpers import DTW_GESTURES, dtw_project
    from tests.stage_helpers import float_msg

    loud = PARAMETERS["loudness"].index
    with jack_audio(None, "rest") as (_, device, _log):
        synth = Synth(SynthMapping(routes=[Route("likelihood:*", "loudness", 0.0, 1.0, 0.0,
                                                 0.25)]),
                      audio={"device": device, "samplerate": 48000, "blocksize": 128})
        rest = synth.mapping.base_values()
        engine = Engine(dtw_project(), osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                        trainer="thread", synth=synth).start()
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        to = ("127.0.0.1", engine.osc_port)
        try:
            engine.command("reset")
            for x in DTW_GESTURES[1]:  # "up" performed: matched at its end
                tx.sendto(float_msg("/wek/inputs", float(x)), to)
            _wait(lambda: engine.frames_out == len(DTW_GESTURES[1]), 20)
            with engine._frame_lock:  # the last frame's targets written
                assert synth._targets[loud] > rest[loud] + 0.01
            yield engine, synth, lambda address: tx.sendto(_msg(address), to), loud, rest
            assert synth.update_errors == 0 and engine.stats()["errors"] == 0
        finally:
            engine.stop()
            tx.close()


@pytest.mark.serial("jack-lsl")
def test_deleting_every_dtw_template_while_running_puts_the_synth_voice_to_rest():
    """The synth's voice, loud while "up" matched, stayed at that loudness once every
    template was deleted while running (no frame moved it again). Now its parameters go back
    to their resting values as the last template goes."""
    with _loud_dtw_voice() as (engine, synth, send, _loud, rest):
        send("/wekinator/control/deleteAllExamples")
        _wait(lambda: engine.model is None, 20)
        with engine._frame_lock:
            np.testing.assert_array_equal(synth._targets, rest)


@pytest.mark.serial("jack-lsl")
def test_stop_running_puts_the_synth_voice_to_rest_as_it_releases_midi():
    """``stopRunning`` released a MIDI note, but the synth's voice stayed at the loudness of
    the last frame answered, sounding on with nothing running. Now it rests, and the next
    frame answered after ``startRunning`` moves it again."""
    from tests.rejection_helpers import DTW_GESTURES
    from tests.stage_helpers import float_msg

    with _loud_dtw_voice() as (engine, synth, send, loud, rest):
        send("/wekinator/control/stopRunning")
        _wait(lambda: not engine.running, 20)
        with engine._frame_lock:
            np.testing.assert_array_equal(synth._targets, rest)
        send("/wekinator/control/startRunning")
        _wait(lambda: engine.running, 20)
        answered = engine.frames_out
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for x in DTW_GESTURES[1]:
                tx.sendto(float_msg("/wek/inputs", float(x)), ("127.0.0.1", engine.osc_port))
        finally:
            tx.close()
        _wait(lambda: engine.frames_out == answered + len(DTW_GESTURES[1]), 20)
        with engine._frame_lock:
            assert synth._targets[loud] > rest[loud] + 0.01
