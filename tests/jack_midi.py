"""A dummy JACK server for the MIDI tests: python-rtmidi's JACK backend gives real MIDI ports
with no sound card and no ALSA sequencer (DESIGN.md, "Testing with real parts")."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest


@pytest.fixture()
def jack_midi(monkeypatch):
    """Start ``jackd -d dummy`` under a name of its own; JACK_DEFAULT_SERVER points at it (for
    this process and the subprocesses it starts). Yields the server's name."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.fail("jackd is missing: apt-get install jackd2 (.ci/run installs it)", pytrace=False)
    name = f"gm-midi-{os.getpid()}-{time.monotonic_ns() % 100000}"
    server = subprocess.Popen(
        [jackd, "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    try:
        subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, timeout=15, capture_output=True)
        yield name
    finally:
        server.terminate()
        server.wait(timeout=10)


def jack_in(port_name: str):  # noqa: ANN201
    """A MIDI input of the test's own (a JACK virtual port) and the list its messages go to."""
    import rtmidi

    port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="gmtest")
    port.open_virtual_port(port_name)
    got: list[list[int]] = []
    port.set_callback(lambda event, data: got.append(list(event[0])))
    return port, got


def jack_out(port_name: str):  # noqa: ANN201
    """A MIDI output of the test's own (a JACK virtual port), as a controller would be."""
    import rtmidi

    port = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="gmtest")
    port.open_virtual_port(port_name)
    return port


def wait_for(condition, timeout: float = 5.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()
