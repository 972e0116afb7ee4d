"""The synth beside a JACK server that takes the connection and never answers (one hung, or
still starting): PortAudio asks it for its devices as it starts, and waited on it for ever.
Each run is a process of its own, ended by the test past a hard bound."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from gesturemap.cli import EXIT_NO_AUDIO
from gesturemap.utils.midi_ports import OPEN_WAIT_S

from ..jack_midi import silent_jack_server, wait_for
from ..stage_helpers import (
    float_msg,
    free_port,
    osc_labels,
    osc_receiver,
    rest_of,
    stop_run,
    two_level_project,
)

#: How long a start may take on a loaded machine, against a bound of OPEN_WAIT_S: a start that
#: waits on the server never says it listens at all.
START_BOUND_S = OPEN_WAIT_S + 50.0


def _run(folder, silent: str, *options: object) -> subprocess.Popen:  # noqa: ANN001
    return subprocess.Popen([sys.executable, "-m", "gesturemap.cli", "run", str(folder),
                             *map(str, options)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "JACK_DEFAULT_SERVER": silent,
                                 "JACK_NO_START_SERVER": "1"})


def _first_line(run: subprocess.Popen, within_s: float) -> str:
    line: list[str] = []
    reading = threading.Thread(target=lambda: line.append(run.stdout.readline()), daemon=True)
    reading.start()
    reading.join(within_s)
    if not line:
        run.kill()
        _, err = rest_of(run)
        pytest.fail(f"the run said nothing within {within_s:.0f} s: {err[-2000:]}")
    return line[0]


def test_a_run_plays_on_without_the_synth_while_the_jack_server_never_answers(tmp_path):
    """`gesturemap run` with its synth beside a silent JACK server froze before it listened:
    PortAudio's start waited on the server. Now it says the server does not answer, runs
    without the synth (answering OSC), and ends on Ctrl-C."""
    folder = two_level_project(tmp_path / "levels")
    stats = tmp_path / "stats.json"
    rx, tx, port = osc_receiver(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM), free_port()
    try:
        with silent_jack_server() as silent:
            run = _run(folder, silent, "--osc-in", f"127.0.0.1:{port}", "--osc-out",
                       f"127.0.0.1:{rx.getsockname()[1]}", "--stats", stats)
            try:
                assert "listening" in _first_line(run, START_BOUND_S)
                for i in range(20):  # low and high in turn
                    tx.sendto(float_msg("/wek/inputs", *[0.1 + 0.8 * (i % 2)] * 2),
                              ("127.0.0.1", port))
                assert len(osc_labels(rx, 20, timeout=10)) >= 15, "the run does not answer OSC"
                assert wait_for(lambda: stats.exists()
                                and json.loads(stats.read_text())["frames_in"] >= 15, 20)
                _, err = stop_run(run)
            finally:
                if run.poll() is None:
                    run.kill()
                    run.wait(timeout=10)
    finally:
        rx.close()
        tx.close()
    assert run.returncode == 0, err[-2000:]
    assert "no audio (the JACK server does not answer" in err, err[-2000:]
    assert "running without the synth" in err, err[-2000:]


def test_an_audio_device_asked_for_beside_a_silent_jack_server_is_refused_saying_so(tmp_path):
    """Asked for by name (`--audio-device`), an output behind a silent JACK server cannot be
    had: the run ends at once with one line saying why, rather than freezing."""
    folder = two_level_project(tmp_path / "levels")
    with silent_jack_server() as silent:
        run = _run(folder, silent, "--osc-in", f"127.0.0.1:{free_port()}", "--audio-device",
                   "system")
        _, err = rest_of(run, timeout=START_BOUND_S)  # killed, then failing, past it
    assert run.returncode == EXIT_NO_AUDIO, err[-2000:]
    said = [line for line in err.splitlines() if line.startswith("gesturemap run:")]
    assert len(said) == 1 and "the JACK server does not answer" in said[0], err[-2000:]
    assert "--no-audio" in said[0], said
