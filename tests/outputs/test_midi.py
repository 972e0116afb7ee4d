"""MIDI out over real ports (JACK's MIDI on a dummy server): results become control changes,

class changes notes or program changes; `gesturemap run --midi-out` sends them for OSC frames."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from gesturemap.outputs.midi import MIDIOutput, MIDIOutputSettings, output_ranges
from gesturemap.utils.midi_ports import MidiPortError, list_ports

from ..jack_midi import jack_in, jack_midi, wait_for  # noqa: F401 - a fixture
from ..stage_helpers import start_run, stop_run

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")


@dataclasses.dataclass
class R:  # what the engine hands an output: the fields MIDIOutput reads
    likelihoods: np.ndarray
    label_index: int
    output: np.ndarray | None = None
    event: object = None


def test_regression_outputs_become_control_changes(jack_midi):  # noqa: F811
    port, got = jack_in("synth-in")
    out = MIDIOutput(
        {"port": "SYNTH-IN", "channel": 2, "first_cc": 20},  # part, any case
        ranges=[(0.0, 10.0), (-1.0, 1.0)],
    ).start()
    try:
        assert out.backend == "Jack" and "synth-in" in out.port_name
        for values in ([0.0, -1.0], [5.0, 1.0], [5.0, 1.0], [20.0, 0.0]):
            out.update(R(np.ones(1), 0, output=np.array(values)))
        assert wait_for(lambda: len(got) >= 5)
        time.sleep(0.1)
    finally:
        out.stop()
        port.delete()
    # channel 2 = status 0xB1; scaled from each output's range, clipped; sent on change only
    assert got == [
        [0xB1, 20, 0],
        [0xB1, 21, 0],
        [0xB1, 20, 64],
        [0xB1, 21, 127],
        [0xB1, 20, 127],
        [0xB1, 21, 64],
    ]


@pytest.mark.parametrize("classes", ["note", "program"])
def test_class_changes_become_notes_or_programs(jack_midi, classes):  # noqa: F811
    port, got = jack_in("drums")
    out = MIDIOutput({"port": "drums", "classes": classes, "first_note": 36, "first_cc": 1}).start()
    try:
        for cls in (0, 0, 2, 1):
            lik = np.eye(3)[cls]
            out.update(R(lik, cls))
        wait_for(lambda: len(got) >= 11)
        time.sleep(0.1)
    finally:
        out.stop()
        if classes == "note":  # the last note-off leaves at stop: let JACK deliver it first
            wait_for(lambda: [0x80, 37, 0] in got)
        port.delete()
    notes = [m for m in got if m[0] & 0xF0 in (0x80, 0x90, 0xC0)]
    ccs = [m for m in got if m[0] & 0xF0 == 0xB0]
    if classes == "note":
        assert notes == [
            [0x90, 36, 100],
            [0x80, 36, 0],
            [0x90, 38, 100],
            [0x80, 38, 0],
            [0x90, 37, 100],
            [0x80, 37, 0],
        ]  # the last note-off: at stop
    else:
        assert notes == [[0xC0, 0], [0xC0, 2], [0xC0, 1]]
    assert [1, 127] in [m[1:] for m in ccs] and [3, 127] in [m[1:] for m in ccs]  # likelihoods


def _sent(name: str, settings: dict, results: list, count: int, last_note: int | None,
          **kwargs: float) -> list[list[int]]:
    """What a MIDIOutput on a real JACK port sends for ``results`` (at least ``count``
    messages), the last note's release at stop included."""
    port, got = jack_in(name)
    out = MIDIOutput(settings, **kwargs).start()
    try:
        for result in results:
            out.update(result)
        wait_for(lambda: len(got) >= count)
        time.sleep(0.1)
    finally:
        out.stop()
        if last_note is not None:  # its note-off leaves at stop: let JACK deliver it first
            wait_for(lambda: [0x80, last_note, 0] in got)
        port.delete()
    return got


@pytest.mark.parametrize("classes", ["note", "program"])
def test_below_reject_below_no_class_sounds(jack_midi, classes):  # noqa: F811
    # as /wek/outputs sends class 0 below the project's reject_below, no note may sound: a
    # performer raised it to keep ordinary movement from firing a class
    results = []
    for cls, top in ((0, 0.9), (0, 0.5), (0, 0.9), (1, 0.55), (1, 0.7)):
        lik = np.full(2, 1.0 - top)
        lik[cls] = top
        results.append(R(lik, cls))
    note = classes == "note"
    got = _sent("pads", {"port": "pads", "classes": classes, "first_note": 36}, results,
                count=10 if note else 8, last_note=37 if note else None, reject_below=0.6)
    notes = [m for m in got if m[0] & 0xF0 in (0x80, 0x90, 0xC0)]
    if note:  # released when rejected; the same class accepted again sounds again
        assert notes == [[0x90, 36, 100], [0x80, 36, 0], [0x90, 36, 100], [0x80, 36, 0],
                         [0x90, 37, 100], [0x80, 37, 0]]
    else:  # a program cannot be taken back: none is sent while rejected
        assert notes == [[0xC0, 0], [0xC0, 0], [0xC0, 1]]


@pytest.mark.parametrize("classes", ["note", "program"])
def test_many_classes_never_wrap_round_to_other_midi_numbers(jack_midi, classes):  # noqa: F811
    # 200 classes, likelihoods from controller 110 and notes from 60: controllers 120..127
    # are channel mode messages (All Sound Off, Local Control off, All Notes Off...) and
    # wrapping round to 0.. would set bank select and channel volume; a note or program past
    # 127 would play another class's
    got = _sent("big-synth", {"port": "big-synth", "classes": classes, "first_cc": 110,
                              "first_note": 60}, [R(np.eye(200)[c], c) for c in (0, 150, 5)],
                count=10 + 4 + 3, last_note=65 if classes == "note" else None)
    ccs = [m[1] for m in got if m[0] & 0xF0 == 0xB0]
    assert ccs and set(ccs) == set(range(110, 120))  # the first 10 likelihoods, nothing past
    if classes == "note":  # class 150 has no note: the last one is released, none sounds
        assert [m for m in got if m[0] & 0xF0 in (0x80, 0x90)] == [
            [0x90, 60, 100], [0x80, 60, 0], [0x90, 65, 100], [0x80, 65, 0]]
    else:
        assert [m for m in got if m[0] & 0xF0 == 0xC0] == [[0xC0, 0], [0xC0, 5]]
    with pytest.raises(Exception, match="first_cc: got 120"):
        MIDIOutputSettings.from_dict({"port": "x", "first_cc": 120})


def test_a_missing_port_lists_those_there_are(jack_midi):  # noqa: F811
    port, _ = jack_in("only-this-one")
    try:
        assert any(
            "only-this-one" in p for ports in list_ports("out").values() for p in ports["out"]
        )
        with pytest.raises(MidiPortError, match="only-this-one"):
            MIDIOutput({"port": "nanoKONTROL"}).start()
    finally:
        port.delete()
    with pytest.raises(Exception, match="classes"):
        MIDIOutputSettings.from_dict({"port": "x", "classes": "chord"})


def test_output_ranges_come_from_the_takes():
    from gesturemap.project import Project

    p = Project(output_names=["a", "b"])
    p.add_take(np.zeros((3, 2)), "x", outputs=np.array([[0.0, 5.0], [2.0, 5.0], [1.0, 5.0]]))
    assert output_ranges(p) == [(0.0, 2.0), (0.0, 1.0)]  # b never moved: 0..1


def test_output_ranges_of_a_project_that_names_no_outputs_come_from_its_takes():
    # (no ranges at all: MIDI sent only the first output, over 0..1)
    from gesturemap.project import Project

    p = Project()
    p.add_take(np.zeros((2, 2)), "x", outputs=np.array([[0.0, 5.0, -1.0], [2.0, 5.0, 1.0]]))
    assert p.output_names is None
    assert output_ranges(p) == [(0.0, 2.0), (0.0, 1.0), (-1.0, 1.0)]


def test_run_sends_midi_for_osc_frames(jack_midi, tmp_path):  # noqa: F811
    """`gesturemap run --midi-out`: a frame in over OSC gives MIDI out on a real JACK port."""
    from ..project.test_presets import _osc_message

    folder = tmp_path / "drums"
    subprocess.run(
        [sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--preset", "watch-exercises"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from gesturemap.project import Project

    project = Project.load(folder)
    port, got = jack_in("gm-test-sink")
    stats = tmp_path / "stats.json"
    proc, line = start_run(
        folder,
        "--osc-in",
        "127.0.0.1:0",
        "--osc-out",
        "127.0.0.1:9",
        "--midi-out",
        "gm-test-sink",
        "--stats",
        stats,
    )
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert "MIDI 'gmtest:gm-test-sink' (Jack)" in line, line
        osc_port = int(line.split("listening on 127.0.0.1:")[1].split()[0])
        for frame in project.takes[0].inputs[:100]:
            tx.sendto(_osc_message("/wek/inputs", frame), ("127.0.0.1", osc_port))
            time.sleep(0.003)
        assert wait_for(lambda: any(m[0] == 0x90 for m in got), timeout=10), got
    finally:
        stop_run(proc)
        tx.close()
        port.delete()
    assert proc.returncode == 0
    s = json.loads(stats.read_text())
    assert s["frames_in"] == 100 and s["midi_sent"] >= len(got) > 0 and s["midi_send_errors"] == 0
    assert any(m[0] == 0xB0 for m in got)  # the likelihoods as control changes


@pytest.mark.alone  # it measures a latency
def test_bench_measures_midi_out_latency():
    """The benchmark's MIDI row: a dummy JACK server of its own, real MIDI timed (no timing
    asserted here: the figures go in docs/performance.md)."""
    from gesturemap.bench import load_workload
    from gesturemap.bench import midi as bench_midi

    r = bench_midi.run(load_workload(), seconds=2.0)
    assert r["frames"] == 400 and 0 < r["frames_with_midi"] <= r["frames"] - 200
    assert r["latency_us_p99"] >= r["latency_us_p50"] > 0
    assert "JACK MIDI" in bench_midi.format_row(r)


def _two_class_project(reject_below: float):  # noqa: ANN202
    """Classes a (around x=0) and b (around x=1), wide: a frame at x=0.45 is about even."""
    from gesturemap.project import Project

    rng = np.random.default_rng(5)
    p = Project("pads", model={"kind": "gmm", "params": {"gaussians": 1, "decision": "window",
                                                          "likelihood_window": 1}})
    for _ in range(3):
        p.add_take(rng.normal(0.0, 1.0, size=(200, 2)), "a")
        p.add_take(rng.normal(0.0, 1.0, size=(200, 2)) + [1.0, 0.0], "b")
    p.train()
    p.outputs = {**(p.outputs or {}), "reject_below": reject_below}
    return p


def test_the_engine_holds_midi_to_its_outputs_reject_below(jack_midi):  # noqa: F811
    """The engine's MIDI sink follows the OSC output's reject_below, as it starts and when the
    window's Outputs tab changes it: an even frame releases the note, as /wek/outputs sends 0."""
    from gesturemap.gui.session import WindowEngine

    from ..stage_helpers import float_msg

    port, got = jack_in("stage-pads")
    engine = WindowEngine(_two_class_project(0.9), osc_in=("127.0.0.1", 0),
                          osc_out=("127.0.0.1", 9), trainer="thread",
                          sinks=[MIDIOutput({"port": "stage-pads", "first_note": 36})]).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def notes() -> list[list[int]]:
        return [m for m in got if m[0] & 0xF0 in (0x80, 0x90)]

    def play(xs: list[float], count: int) -> None:
        for x in xs:
            tx.sendto(float_msg("/wek/inputs", x, 0.0), ("127.0.0.1", engine.osc_port))
            time.sleep(0.005)
        wait_for(lambda: engine.frames_out >= play.sent + len(xs))
        play.sent += len(xs)
        time.sleep(0.2)  # what JACK has to deliver
        assert len(notes()) == count, notes()

    play.sent = 0
    clear, even = [-6.0] * 5, [0.45] * 5  # a at p > 0.99; a or b at p < 0.6
    try:
        engine.command("start_running")
        play(clear + even + clear, 3)  # a; released while even; a again
        engine.command("set_output_settings", {**engine.project.outputs, "reject_below": 0.0})
        assert wait_for(lambda: engine.output.settings.reject_below == 0.0)
        play(even + clear, 3)  # nothing rejected now: a held throughout
    finally:
        engine.stop()
        tx.close()
        wait_for(lambda: len(notes()) >= 4)
        port.delete()
    assert notes() == [[0x90, 36, 100], [0x80, 36, 0], [0x90, 36, 100], [0x80, 36, 0]]


def test_stop_running_releases_the_note_a_class_left_sounding(jack_midi):  # noqa: F811
    """A performer stopping the model (Wekinator's stopRunning, a recording starting) heard
    the last class's note held until the program ended: no frame answered to release it."""
    from gesturemap.live.engine import Engine

    from ..stage_helpers import float_msg

    port, got = jack_in("stop-pads")
    engine = Engine(_two_class_project(0.0), osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                    trainer="thread",
                    sinks=[MIDIOutput({"port": "stop-pads", "first_note": 36})]).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = ("127.0.0.1", engine.osc_port)

    def notes() -> list[list[int]]:
        return [m for m in got if m[0] & 0xF0 in (0x80, 0x90)]

    def play(count: int) -> None:
        sent = engine.frames_out
        for _ in range(5):  # class a
            tx.sendto(float_msg("/wek/inputs", -6.0, 0.0), to)
        assert wait_for(lambda: engine.frames_out == sent + 5 and len(notes()) == count, 20)

    try:
        play(1)
        tx.sendto(float_msg("/wekinator/control/stopRunning"), to)
        assert wait_for(lambda: len(notes()) == 2, 20)  # released at once, no frame needed
        tx.sendto(float_msg("/wekinator/control/startRunning"), to)
        assert wait_for(lambda: engine.running, 20)
        play(3)  # the same class sounds afresh
        tx.sendto(float_msg("/wekinator/control/startRecording"), to)  # running stops
        assert wait_for(lambda: len(notes()) == 4, 20)
    finally:
        engine.stop()
        tx.close()
        port.delete()
    assert notes() == [[0x90, 36, 100], [0x80, 36, 0]] * 2
    assert engine.stats()["midi_send_errors"] == 0


def test_a_dtw_project_sounds_the_gesture_that_matches(jack_midi):  # noqa: F811
    """A DTW project's "no class" is what DTW sends: /gesturemap/label and MIDI follow the
    match (no match: no class, the note released), not the likelihoods under reject_below (a
    gesture likelier than 0.95 that matches nothing played its note and was named)."""
    from gesturemap.live.engine import Engine

    from ..rejection_helpers import dtw_matches, dtw_project, play_dtw_gestures
    from ..stage_helpers import osc_receiver

    project = dtw_project(reject_below=0.95, extras=True)
    expected = dtw_matches(project.trained)
    assert None in expected and "up" in expected
    port, got = jack_in("dtw-pads")
    rx = osc_receiver()
    engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread",
                    sinks=[MIDIOutput({"port": "dtw-pads", "first_note": 36})]).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        labels = play_dtw_gestures(engine, tx, rx, "/gesturemap/label")
    finally:
        engine.stop()
        tx.close()
        rx.close()
        wait_for(lambda: len(got) >= 2)
        port.delete()
    # the matched gesture by name and Wekinator's number ("up" is 2), else no class
    assert labels == [("up", 2.0) if m == "up" else ("", 0.0) for m in expected]
    notes = [m for m in got if m[0] & 0xF0 in (0x80, 0x90)]
    assert notes == [[0x90, 37, 100], [0x80, 37, 0]]  # "up" while it matched, then released
    assert engine.stats()["midi_send_errors"] == 0
