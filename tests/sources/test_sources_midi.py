"""A MIDI controller as the sensor, over real ports (JACK's MIDI on a dummy server)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.sources import FrameQueue
from gesturemap.sources.midi import DEFAULT_CONTROLS, MIDISource, parse_controls

from ..jack_midi import jack_midi, jack_out, wait_for  # noqa: F401 - a fixture
from ..stage_helpers import (
    osc_labels,
    osc_receiver,
    project_with_scenes,
    start_run,
    stop_run,
    two_level_project,
)

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")


def test_controls_parse():
    assert parse_controls(None) == DEFAULT_CONTROLS
    assert parse_controls("CC1, cc74 ,bend") == ("cc1", "cc74", "bend")
    for bad in ("cc128", "knob", "cc1,cc1", ""):
        with pytest.raises(GesturemapError, match="controls"):
            parse_controls(bad)


def test_ccs_notes_and_bend_become_channels(jack_midi):  # noqa: F811
    controller = jack_out("nanoKONTROL2 MIDI 1")
    queue = FrameQueue(64)
    src = MIDISource(queue, "nanokontrol", controls="cc1,cc7,note,velocity,bend").start()
    try:
        assert src.backend == "Jack" and "nanoKONTROL2" in src.port_name
        time.sleep(0.1)
        for msg in (
            [0xB0, 1, 127],
            [0xB3, 7, 64],
            [0xB0, 9, 5],  # cc9: not a channel
            [0x90, 60, 100],
            [0x80, 60, 0],
            [0xE0, 0x00, 0x00],
            [0xE0, 0x7F, 0x7F],
        ):
            controller.send_message(msg)
        assert wait_for(lambda: src.stats.frames_in >= 6), src.stats.snapshot()
    finally:
        src.stop()
        controller.delete()
    frames = []
    while (f := queue.get(timeout=0.01)) is not None:
        frames.append(f.values)
    got = np.array(frames)
    expected = np.array(
        [
            [1.0, 0.0, 0.0, 0.0, 0.0],
            [1.0, 64 / 127, 0.0, 0.0, 0.0],
            [1.0, 64 / 127, 60 / 127, 100 / 127, 0.0],
            [1.0, 64 / 127, 60 / 127, 0.0, 0.0],  # released: velocity 0, the note stays
            [1.0, 64 / 127, 60 / 127, 0.0, -1.0],
            [1.0, 64 / 127, 60 / 127, 0.0, 1.0],
        ]
    )
    np.testing.assert_allclose(got, expected)
    assert src.channel_names == ("cc1", "cc7", "note", "velocity", "bend")


def test_a_missing_input_says_which_there_are(jack_midi):  # noqa: F811
    controller = jack_out("launchpad")
    try:
        with pytest.raises(GesturemapError, match="launchpad"):
            MIDISource(FrameQueue(4), "nosuchthing").start()
    finally:
        controller.delete()


def test_run_with_a_midi_controller_answers_over_osc(jack_midi, tmp_path):  # noqa: F811
    """`gesturemap run --midi-in`: MIDI in gives an answer (OSC out, from the model)."""
    folder = two_level_project(tmp_path / "p")
    rx = osc_receiver()
    controller = jack_out("faders")
    proc, line = start_run(
        folder,
        "--midi-in",
        "faders",
        "--midi-controls",
        "cc1,cc2",
        "--osc-in",
        "127.0.0.1:0",
        "--osc-out",
        f"127.0.0.1:{rx.getsockname()[1]}",
    )
    labels = []
    try:
        assert "MIDI input 'faders'" in line, line
        for value in [115] * 20 + [13] * 20:
            controller.send_message([0xB0, 1, value])
            controller.send_message([0xB0, 2, value])
            time.sleep(0.005)
        labels = osc_labels(rx, 60)
    finally:
        stop_run(proc)
        controller.delete()
        rx.close()
    assert proc.returncode == 0
    assert "high" in labels[:20] and labels[-1] == "low", labels


def test_program_changes_recall_scenes(jack_midi, tmp_path):  # noqa: F811
    """`gesturemap run --midi-scenes PORT`: a foot controller's program change N recalls the
    scene of index N; the sensor stays on OSC, and the port's other messages make no frame."""
    import json

    folder = project_with_scenes(tmp_path / "p")
    footswitch = jack_out("FCB1010")
    rx = osc_receiver()
    stats = tmp_path / "stats.json"

    def current():  # noqa: ANN202
        try:
            return json.loads(stats.read_text())["scenes"]["current"]
        except (OSError, ValueError, KeyError):
            return None

    proc, line = start_run(folder, "--midi-scenes", "fcb1010", "--osc-in", "127.0.0.1:0",
                           "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}", "--stats", stats)
    try:
        assert wait_for(lambda: stats.exists(), 10)
        time.sleep(0.2)  # the port is connected once the engine runs
        footswitch.send_message([0xC0, 1])  # program 2 on the device: scene 1
        assert wait_for(lambda: current() == "swapped", 10), current()
        footswitch.send_message([0xB0, 1, 127])  # a control change: no frame from this port
        footswitch.send_message([0xC5, 0])  # any channel: scene 0
        assert wait_for(lambda: current() == "plain", 10), current()
        footswitch.send_message([0xC0, 9])  # no such scene: refused and counted
        assert wait_for(lambda: json.loads(stats.read_text())["scenes"]["unknown"] == 1, 10)
        final = json.loads(stats.read_text())
    finally:
        _, err = stop_run(proc)
        footswitch.delete()
        rx.close()
    assert proc.returncode == 0, err
    assert final["frames_in"] == 0 and final["scenes"]["recalls"] == 2


class _HeldPort:
    """A MIDI input whose reader gets nothing until ``reading`` is set (the port itself
    goes on queueing what comes)."""

    def __init__(self, port) -> None:  # noqa: ANN001
        self.port, self.reading = port, False

    def get_message(self):  # noqa: ANN201
        return self.port.get_message() if self.reading else None

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.port, name)


def test_a_burst_beyond_1024_messages_keeps_its_last_and_a_cut_message_is_counted(
        jack_midi, capfd):  # noqa: F811
    """A software sender's fader dump of 3,000 CCs in one go: the input holds them all, so
    the fader's last value is the frame's (python-rtmidi's default queue of 1,024 dropped the
    newest and printed three lines per message on stderr); a pitch bend cut short is a bad
    packet, not a traceback."""
    controller = jack_out("dump MIDI 1")
    queue = FrameQueue(8192)
    src = MIDISource(queue, "dump", controls="cc1").start()
    try:
        time.sleep(0.1)
        # the source's thread is held off reading (a reader descheduled on a busy machine)
        # while the whole dump arrives: every message waits in RtMidi's input queue at once,
        # however fast the reader would otherwise be
        held = _HeldPort(src._port)
        src._port = held
        values = [i % 128 for i in range(3000 - 1)] + [127]
        # in chunks, a JACK period apart or more: the sender's own JACK port takes a limited
        # number of events per period (JackMidiBuffer::ReserveEvent: "not enough room"),
        # and a loaded machine that delays a period would lose the dump before gesturemap
        for start in range(0, len(values), 250):
            for v in values[start:start + 250]:
                controller.send_message([0xB0, 1, v])
            time.sleep(0.03)
        time.sleep(0.3)
        held.reading = True
        assert wait_for(lambda: src.stats.frames_in == len(values), timeout=10), \
            src.stats.snapshot()
        controller.send_message([0xE0, 0x01])  # a pitch bend cut short
        assert wait_for(lambda: src.stats.bad_packets == 1), src.stats.snapshot()
        assert src.stats.errors == 0 and src.stats.dropped_frames == 0
    finally:
        src.stop()
        controller.delete()
    frames = queue.drain()
    assert frames[-1].values.tolist() == [1.0]
    assert "queue limit" not in capfd.readouterr().err
