"""The watch kept on a JACK MIDI port (gesturemap.utils.midi_ports) when the JACK server does
not answer: starting MIDI never waits on it, and MIDI comes back once the server answers.

A libjack open to a server that never answers is never given up: it outlives the test, and
libjack opens one client at a time in a process, so every JACK client after it in that process
waits too (13 later JACK tests of one pytest worker failed so). Each scenario therefore runs in
a Python process of its own, which the test ends; it reports what it saw as JSON lines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gesturemap.utils.midi_ports import OPEN_WAIT_S

from ..jack_midi import jack_midi, silent_jack_server, wait_for  # noqa: F401 - a fixture
from ..stage_helpers import (
    float_msg,
    free_port,
    osc_labels,
    osc_receiver,
    rest_of,
    stop_run,
    two_level_project,
)

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
pytestmark = pytest.mark.serial("jack-lsl")

_ROOT = Path(__file__).resolve().parents[2]

#: How long a start may take on a loaded machine, against a bound of OPEN_WAIT_S: a start that
#: waits on the server never returns at all (the scenario gives up on it after a minute).
START_BOUND_S = OPEN_WAIT_S + 20.0

#: What every scenario starts with: its report (a JSON line per stage, with what gesturemap
#: logged so far) and the frames it sends.
_PRELUDE = """
import json, logging
from types import SimpleNamespace

import numpy as np

said = []
class Said(logging.Handler):
    def emit(self, record):
        said.append(record.getMessage())
logging.getLogger("gesturemap").addHandler(Said())
logging.getLogger("gesturemap").setLevel(logging.INFO)

def report(stage, **what):
    print(json.dumps({"stage": stage, "said": said, **what}), flush=True)

def frame(i):
    return SimpleNamespace(likelihoods=np.eye(2)[i % 2], label_index=i % 2, output=None,
                           event=None)
"""

#: What every scenario ends with, once the live server answers again: MIDI out sends, stops.
_ENDING = """
wait_for(lambda: out.stats()["midi_connected"], timeout=30)
out.update(frame(1))
wait_for(lambda: [0x90, 61, 100] in got, timeout=10)
report("answers", got=got, **out.stats())
out.stop()
synth.delete()
report("stopped")
os._exit(0)  # an open libjack still holds cannot hold up the end
"""

#: The port opens on the live server (JACK_DEFAULT_SERVER, the parent test's), then this
#: process's JACK clients reach a server that takes the connection and never answers (one
#: restarted a moment before has been seen to); later that server goes and the live one answers.
_WATCH_OPENS_ON_A_SILENT_SERVER = """
import os, threading, time

from gesturemap.outputs.midi import MIDIOutput
from gesturemap.utils import midi_ports
from tests.jack_midi import jack_in, silent_jack_server, wait_for

live = os.environ["JACK_DEFAULT_SERVER"]
synth, got = jack_in("synth-in")
real_open = midi_ports.open_port
out = MIDIOutput({"port": "synth-in"})
with silent_jack_server() as silent:
    def open_then_silence(*args, **kwargs):
        opened = real_open(*args, **kwargs)
        os.environ["JACK_DEFAULT_SERVER"] = silent  # this process's next JACK clients
        midi_ports.open_port = real_open  # once only
        return opened

    midi_ports.open_port = open_then_silence
    began = time.monotonic()
    starting = threading.Thread(target=out.start, daemon=True)
    starting.start()
    starting.join(60)
    report("started", returned=not starting.is_alive(), seconds=time.monotonic() - began,
           port=out.port_name)
    if starting.is_alive():
        os._exit(0)  # libjack waits for ever: nothing more to see
    wait_for(lambda: out.stats()["midi_connected"] is False, timeout=20)
    for i in range(5):  # the frame path neither blocks nor raises meanwhile
        out.update(frame(i))
    report("silent", **out.stats())
    os.environ["JACK_DEFAULT_SERVER"] = live  # the silent one goes: libjack's waiting open fails
"""


def _scenario(script: str) -> dict[str, dict]:
    """Run ``script`` in a Python process of its own (a hard timeout ends it); what it
    reported, by stage."""
    done = subprocess.run([sys.executable, "-c", _PRELUDE + script + _ENDING], cwd=_ROOT,
                          capture_output=True, text=True, timeout=240)
    stages = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            seen = json.loads(line)
            stages[seen["stage"]] = seen
    assert stages, f"the scenario reported nothing (exit {done.returncode}): {done.stderr}"
    return stages


def test_a_jack_server_that_never_answers_leaves_midi_out_starting(jack_midi):  # noqa: F811
    """The port opens on a live server, then the server stops answering: the watch's own JACK
    client waited in libjack for ever, and the start with it (a run or a window's Start
    frozen). Now the start returns after about OPEN_WAIT_S, MIDI out says it is not connected
    (the log: the server does not answer, not that it stopped) and counts the frames it could
    not send, and sends again once the server answers."""
    seen = _scenario(_WATCH_OPENS_ON_A_SILENT_SERVER)
    started = seen["started"]
    assert started["returned"], "MIDI out's start waited on a silent JACK server"
    assert started["seconds"] < START_BOUND_S, started
    assert started["port"].endswith(":synth-in"), started
    silent = seen["silent"]
    assert silent["midi_connected"] is False, silent
    assert silent["midi_frames_unsent"] == 5 and silent["midi_sent"] == 0, silent
    # said as it is: a server is there and does not answer (not "stopped", which would send
    # a performer to start one)
    said = [m for m in silent["said"] if "JACK server" in m]
    assert any("the JACK server does not answer" in m for m in said), said
    assert not any("stopped" in m for m in said), said
    answers = seen["answers"]
    assert answers["midi_reconnects"] == 1 and answers["midi_connected"] is True, answers
    assert [0x90, 61, 100] in answers["got"], answers
    assert "stopped" in seen, seen


def _started_run(folder: Path, *options: object, within_s: float) -> subprocess.Popen:
    """`gesturemap run FOLDER --no-audio OPTIONS...`, once it said it listens; it is killed and
    the test fails if it did not within ``within_s`` seconds."""
    run = subprocess.Popen([sys.executable, "-m", "gesturemap.cli", "run", str(folder),
                            "--no-audio", *map(str, options)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line: list[str] = []
    reading = threading.Thread(target=lambda: line.append(run.stdout.readline()), daemon=True)
    reading.start()
    reading.join(within_s)
    if not line or "listening" not in line[0]:
        run.kill()
        _, err = rest_of(run)
        pytest.fail(f"the run did not start within {within_s:.0f} s: {line} {err[-2000:]}")
    return run


def test_a_run_starts_and_answers_while_the_jack_server_never_answers(tmp_path, monkeypatch):
    """`gesturemap run --midi-out` beside a JACK server that takes the connection and never
    answers: RtMidi's own open of the port waited in libjack for ever, holding Python's lock,
    so the whole run froze before it even listened (no line, no OSC, Ctrl-C unheard). Now it
    starts within a bound, answers OSC, counts the MIDI frames it could not send, and ends on
    Ctrl-C."""
    folder = two_level_project(tmp_path / "levels")
    stats = tmp_path / "stats.json"
    rx, tx, port = osc_receiver(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM), free_port()
    run = None

    def midi() -> dict:
        seen = json.loads(stats.read_text()) if stats.exists() else {}
        return {k: v for k, v in seen.items() if k.startswith("midi")}

    try:
        with silent_jack_server() as silent:
            monkeypatch.setenv("JACK_DEFAULT_SERVER", silent)  # the run's
            monkeypatch.setenv("JACK_NO_START_SERVER", "1")
            run = _started_run(folder, "--osc-in", f"127.0.0.1:{port}", "--osc-out",
                               f"127.0.0.1:{rx.getsockname()[1]}", "--midi-out", "synth-in",
                               "--stats", stats, within_s=START_BOUND_S + 30.0)
            for i in range(20):  # low and high in turn
                tx.sendto(float_msg("/wek/inputs", *[0.1 + 0.8 * (i % 2)] * 2),
                          ("127.0.0.1", port))
                time.sleep(0.005)
            assert len(osc_labels(rx, 20, timeout=10)) >= 15, "the run does not answer OSC"
            assert wait_for(lambda: midi().get("midi_frames_unsent", 0) >= 15, timeout=20), (
                midi())
            assert midi()["midi_connected"] is False and midi()["midi_sent"] == 0, midi()
            _, err = stop_run(run)  # Ctrl-C, as a performer stops it, the server still silent
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait(timeout=10)
        rx.close()
        tx.close()
    assert run.returncode == 0, err[-2000:]
    assert "MIDI output 'synth-in': the JACK server does not answer" in err, err[-2000:]


#: MIDI out starts while this process's JACK clients reach a server that takes the connection
#: and never answers; later that server goes and the live one (the parent test's) answers.
_STARTS_ON_A_SILENT_SERVER = """
import os, threading, time

from gesturemap.outputs.midi import MIDIOutput
from tests.jack_midi import jack_in, silent_jack_server, wait_for

live = os.environ["JACK_DEFAULT_SERVER"]
synth, got = jack_in("synth-in")
out = MIDIOutput({"port": "synth-in"})
with silent_jack_server() as silent:
    os.environ["JACK_DEFAULT_SERVER"] = silent
    began = time.monotonic()
    starting = threading.Thread(target=out.start, daemon=True)
    starting.start()
    starting.join(60)
    report("started", returned=not starting.is_alive(), seconds=time.monotonic() - began)
    if starting.is_alive():
        os._exit(0)
    for i in range(5):
        out.update(frame(i))
    report("silent", **out.stats())
    os.environ["JACK_DEFAULT_SERVER"] = live  # the silent one goes: libjack's waiting opens fail
"""


def test_midi_out_started_on_a_silent_jack_server_opens_once_it_answers(jack_midi):  # noqa: F811
    """MIDI out started while the JACK server takes the connection and never answers: its
    start returns, frames count as unsent, and the port opens (and MIDI flows) once a server
    answers."""
    seen = _scenario(_STARTS_ON_A_SILENT_SERVER)
    started = seen["started"]
    assert started["returned"] and started["seconds"] < START_BOUND_S, started
    silent = seen["silent"]
    assert silent["midi_connected"] is False and silent["midi_port"] is None, silent
    assert silent["midi_frames_unsent"] == 5 and silent["midi_sent"] == 0, silent
    answers = seen["answers"]
    assert answers["midi_connected"] is True, answers
    assert answers["midi_port"].endswith(":synth-in"), answers
    assert [0x90, 61, 100] in answers["got"], answers
    assert "stopped" in seen, seen


def test_a_midi_input_on_a_jack_server_that_never_answers_is_refused_saying_so(tmp_path):
    """`gesturemap run --midi-in` beside a JACK server that takes the connection and never
    answers froze before it listened, as MIDI out did. A controller is the run's sensor, with
    nothing to play without it: the run ends at once, saying the server does not answer."""
    folder = two_level_project(tmp_path / "levels")
    with silent_jack_server() as silent:
        run = subprocess.Popen([sys.executable, "-m", "gesturemap.cli", "run", str(folder),
                                "--no-audio", "--osc-in", f"127.0.0.1:{free_port()}",
                                "--osc-out", "127.0.0.1:9", "--midi-in", "pads",
                                "--midi-controls", "cc1,cc2"],  # the project's 2 inputs
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "JACK_DEFAULT_SERVER": silent,
                                    "JACK_NO_START_SERVER": "1"})
        _, err = rest_of(run, timeout=START_BOUND_S + 30.0)  # killed, then failing, past it
    assert run.returncode == 2, err[-2000:]
    assert "MIDI input 'pads': the JACK server does not answer" in err, err[-2000:]
