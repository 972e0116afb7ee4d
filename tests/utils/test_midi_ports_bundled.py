"""python-rtmidi's wheel carries a libjack of its own, and RtMidi's JACK backend runs on it: on
a machine with no libjack of the system's, the check that a JACK server answers
(:func:`gesturemap.utils.midi_ports.jack_answers`) must find that one, or nothing stops RtMidi
from opening on a server that never answers (which freezes the whole process).

The system's libjack is hidden from gesturemap in a Python process of its own (its lookup
finds none, as on such a machine), which the test ends past a hard bound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gesturemap.utils.midi_ports import OPEN_WAIT_S

from ..jack_midi import silent_jack_server

_ROOT = Path(__file__).resolve().parents[2]

_WITHOUT_THE_SYSTEMS_LIBJACK = """
import ctypes.util, json, os, sys, time

found = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if name == "jack" else found(name)

from gesturemap.utils import midi_ports

began = time.monotonic()
try:
    midi_ports.open_port("out", "synth-in")
    said = "opened"
except midi_ports.MidiPortError as exc:
    said = type(exc).__name__
print(json.dumps({"said": said, "seconds": time.monotonic() - began,
                  "libjack": midi_ports._libjack()._name}), flush=True)
os._exit(0)  # libjack's open still waits on the silent server: nothing to wait for
"""


def _bundled() -> list[Path]:
    import rtmidi

    return sorted(Path(rtmidi.__file__).resolve().parent.parent.glob("python_rtmidi*/libjack*"))


def test_without_the_systems_libjack_the_check_uses_the_one_rtmidi_carries():
    """With no libjack of the system's, the check could not ask the server and let RtMidi open
    on a server that never answers: the process froze (the test's bound ended it). Now the
    check runs on the libjack the rtmidi wheel carries, and the open is refused, saying the
    server does not answer."""
    if not _bundled():
        pytest.skip("this python-rtmidi carries no libjack (built against the system's)")
    with silent_jack_server() as silent:
        try:
            done = subprocess.run([sys.executable, "-c", _WITHOUT_THE_SYSTEMS_LIBJACK],
                                  cwd=_ROOT, capture_output=True, text=True,
                                  timeout=OPEN_WAIT_S + 60.0,
                                  env={**os.environ,
                                       "JACK_DEFAULT_SERVER": silent,
                                       "JACK_NO_START_SERVER": "1"})
        except subprocess.TimeoutExpired:
            pytest.fail("opening a MIDI port froze on a JACK server that never answers")
    assert done.stdout, done.stderr[-2000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["said"] == "MidiServerSilent", seen
    assert Path(seen["libjack"]).resolve() in {p.resolve() for p in _bundled()}, seen
