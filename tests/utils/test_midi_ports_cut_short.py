"""A JACK server that stops answering in the moment between the check that it answers
(:func:`gesturemap.utils.midi_ports.jack_answers`) and RtMidi's open: RtMidi opens holding
Python's lock, so the open froze every thread of the process for ever. It is cut short now.

The scenario runs in a Python process of its own (libjack's open on the silent server is never
given up in it), which the test ends past a hard bound; it reports what it saw as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gesturemap.utils.midi_ports import RTMIDI_OPEN_S

from ..jack_midi import jack_midi  # noqa: F401 - a fixture

# JACK servers are machine-wide: the tests that start them run one at a time
pytestmark = pytest.mark.serial("jack-lsl")

_ROOT = Path(__file__).resolve().parents[2]

#: The check asks the live server (the parent test's), which answers; right after, this
#: process's JACK clients reach a server that takes the connection and never answers. Then
#: the live one answers again, and the port opens and sends.
_HANGS_BETWEEN_THE_CHECK_AND_THE_OPEN = """
import json, os, time

from gesturemap.utils import midi_ports
from tests.jack_midi import jack_in, silent_jack_server, wait_for

live = os.environ["JACK_DEFAULT_SERVER"]
synth, got = jack_in("synth-in")
real = midi_ports.jack_answers
with silent_jack_server() as silent:
    def answers_then_hangs():
        answered = real()
        os.environ["JACK_DEFAULT_SERVER"] = silent
        return answered

    midi_ports.jack_answers = answers_then_hangs
    began = time.monotonic()
    try:
        midi_ports.open_port("out", "synth-in")
        said = "opened"
    except midi_ports.MidiPortError as exc:
        said = type(exc).__name__
    seconds = time.monotonic() - began
    midi_ports.jack_answers = real
    os.environ["JACK_DEFAULT_SERVER"] = live
    print(json.dumps({"stage": "hung", "said": said, "seconds": seconds}), flush=True)
port, name, _ = midi_ports.open_port("out", "synth-in")
port.send_message([0x90, 60, 100])
wait_for(lambda: [0x90, 60, 100] in got, timeout=10)
print(json.dumps({"stage": "answers", "port": name, "got": got}), flush=True)
os._exit(0)  # an open libjack still holds cannot hold up the end
"""


def test_a_server_that_hangs_between_the_check_and_rtmidis_open_is_cut_short(jack_midi):  # noqa: F811
    """The server answered the check, then hung before RtMidi's open: the process froze for
    ever (the test's bound ended it). Now the open is cut short after RTMIDI_OPEN_S and said
    as a server that does not answer; the process goes on, and once the server answers the
    port opens and sends."""
    try:
        done = subprocess.run([sys.executable, "-c", _HANGS_BETWEEN_THE_CHECK_AND_THE_OPEN],
                              cwd=_ROOT, capture_output=True, text=True,
                              timeout=RTMIDI_OPEN_S + 90.0, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        pytest.fail("RtMidi's open froze the process on a server that stopped answering")
    seen = {s["stage"]: s for s in map(json.loads, filter(None, done.stdout.splitlines()))}
    assert "hung" in seen, done.stderr[-2000:]
    hung = seen["hung"]
    assert hung["said"] == "MidiServerSilent", hung
    assert hung["seconds"] >= RTMIDI_OPEN_S, hung  # cut short, not refused by the check
    answers = seen.get("answers")
    assert answers and answers["port"].endswith(":synth-in"), (seen, done.stderr[-2000:])
    assert [0x90, 60, 100] in answers["got"], answers
