"""`gesturemap devices` lists real ports (a JACK MIDI port and an LSL stream made here), and
prints only its answer: what the C libraries print while probing (ALSA, JACK, liblsl) is caught
and shown at debug level, while Python's warnings and log records still reach the terminal."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import time

import pylsl
import pytest

from gesturemap._commands.devices import c_stderr_caught

from ..jack_midi import jack_midi, jack_out, silent_jack_server  # noqa: F401 - a fixture

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")


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
    assert done.stderr == ""  # JACK's client library says nothing here either
    out = done.stdout
    for title in ("audio outputs", "MIDI ports", "serial ports", "LSL streams"):
        assert f"{title} (" in out, out
    midi = out.split("MIDI ports")[1].split("serial ports")[0]
    assert "in gmtest:gm-devices-probe (Jack)" in midi, out  # our output is their input
    assert f"{name} (Mocap, 4 ch, 50 Hz" in out.split("LSL streams")[1], out
    audio = out.split("audio outputs")[1].split("MIDI ports")[0]
    assert "system (2 ch, 48000 Hz)" in audio, out  # the dummy JACK server's outputs


SECTIONS = ("audio outputs", "MIDI ports", "serial ports", "LSL streams")


def _devices(*options: str, server: str | None = None) -> subprocess.CompletedProcess[str]:
    # no JACK server (unless given), and libjack may not start one: PortAudio and RtMidi find
    # nothing there
    env = {**os.environ, "JACK_NO_START_SERVER": "1",
           "JACK_DEFAULT_SERVER": server or f"gm-devices-absent-{os.getpid()}"}
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", *options, "devices",
                           "--lsl-wait", "0.3"], capture_output=True, text=True, timeout=120,
                          env=env)


def _section(out: str, title: str) -> list[str]:
    """The lines of one section of the listing."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    return [line.strip() for line in itertools.takewhile(lambda line: line.startswith("  "),
                                                          lines[start + 1:])]


def test_a_jack_server_that_never_answers_is_said_and_the_rest_is_listed():
    """Beside a JACK server that takes the connection and never answers (one hung, or still
    starting), `gesturemap devices` printed nothing and never ended: PortAudio's start waited
    on the server for ever. Now the audio and MIDI sections say the server does not answer,
    the others list, and it exits 0."""
    with silent_jack_server() as silent:
        done = _devices(server=silent)  # past the timeout: TimeoutExpired, the test fails
    assert done.returncode == 0, done.stderr
    titles = [line for line in done.stdout.splitlines() if not line.startswith("  ")]
    assert [t.split(" (")[0] for t in titles] == list(SECTIONS), done.stdout
    (audio,) = _section(done.stdout, "audio outputs")
    assert audio.startswith("unavailable: the JACK server does not answer"), done.stdout
    midi = _section(done.stdout, "MIDI ports")
    assert any(line.startswith("JACK: the JACK server does not answer") for line in midi), midi
    assert _section(done.stdout, "serial ports") and _section(done.stdout, "LSL streams")


def test_devices_prints_its_answer_and_nothing_else():
    done = _devices()
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "ALSA lib ...", "jack server is not running", liblsl's INFO
    titles = [line for line in done.stdout.splitlines() if not line.startswith("  ")]
    assert [t.split(" (")[0] for t in titles] == list(SECTIONS), done.stdout
    assert all(line.startswith("  ") for line in done.stdout.splitlines() if line not in titles)
    # what was caught is there for whoever asks
    debug = _devices("--log-level", "debug")
    assert debug.stdout == done.stdout
    caught = [line for line in debug.stderr.splitlines()
              if "what the C libraries printed while listing" in line]
    assert caught or not _probes_print(), debug.stderr


def _probes_print() -> bool:
    """Whether probing MIDI and LSL prints anything on this machine (it does without a JACK
    server or an ALSA sequencer, as on CI: liblsl always logs its configuration)."""
    code = ("import pylsl, rtmidi; pylsl.resolve_streams(0.1); "
            "[rtmidi.MidiIn(api) for api in rtmidi.get_compiled_api()]")
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env)
    return bool(done.stderr.strip())


def test_c_output_is_caught_but_python_warnings_and_logs_are_not(capfd, caplog):
    logging.getLogger().addHandler(handler := logging.StreamHandler(sys.stderr))
    try:
        with c_stderr_caught() as caught:
            os.write(2, b"ALSA lib pcm.c: cannot open\n")  # as a C library writes it
            print("a real warning", file=sys.stderr)  # as gesturemap prints its warnings
            logging.getLogger("gesturemap.test").error("a real error")
    finally:
        logging.getLogger().removeHandler(handler)
    assert caught == ["ALSA lib pcm.c: cannot open\n"]
    err = capfd.readouterr().err
    assert "a real warning" in err and "a real error" in err and "ALSA" not in err
    os.write(2, b"after\n")  # file descriptor 2 is the terminal's again
    assert capfd.readouterr().err == "after\n"
