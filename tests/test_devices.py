"""`gesturemap devices` lists real ports: a JACK MIDI port and an LSL stream made here."""

from __future__ import annotations

import subprocess
import sys
import time

import pylsl

from .jack_midi import jack_midi, jack_out  # noqa: F401 - a fixture


def test_devices_lists_midi_ports_and_lsl_streams(jack_midi):  # noqa: F811
    port = jack_out("gm-devices-probe")
    name = f"gm-devices-{time.monotonic_ns()}"
    outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 4, 50, "float32", name))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gesturemap.cli", "devices", "--lsl-wait", "2"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        port.delete()
        del outlet
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for title in ("audio outputs", "MIDI ports", "serial ports", "LSL streams"):
        assert f"{title} (" in out, out
    midi = out.split("MIDI ports")[1].split("serial ports")[0]
    assert "in gmtest:gm-devices-probe (Jack)" in midi, out  # our output is their input
    assert f"{name} (Mocap, 4 ch, 50 Hz" in out.split("LSL streams")[1], out
    audio = out.split("audio outputs")[1].split("MIDI ports")[0]
    assert "system (2 ch, 48000 Hz)" in audio, out  # the dummy JACK server's outputs
