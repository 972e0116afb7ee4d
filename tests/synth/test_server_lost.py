"""The synth's audio server goes away mid-performance (the JACK server stopped or crashed): the
synth says so (``audio_lost``, once in the log), and stopping it and ending the process take a
moment, not the minutes PortAudio's stop, close and terminate wait for a dead server. A real
JACK server (dummy driver) and a real PortAudio stream, in a process of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# JACK servers and LSL streams are machine-wide: the tests that start them run one at a time
# (two JACK servers starting at once can fail)
pytestmark = pytest.mark.serial("jack-lsl")

CHILD = textwrap.dedent("""
    import json, sys, time
    import sounddevice as sd
    from gesturemap.synth import Synth, SynthMapping
    jack = [i for i, d in enumerate(sd.query_devices()) if d["max_output_channels"] > 0
            and "JACK" in sd.query_hostapis(d["hostapi"])["name"]]
    synth = Synth(SynthMapping.default(), audio={"device": jack[0], "samplerate": 48000,
                                                 "blocksize": 128}).start()
    end = time.monotonic() + 10
    while synth.stats()["audio_callbacks"] < 50 and time.monotonic() < end:
        time.sleep(0.01)
    print("playing", synth.stats()["audio_lost"], flush=True)
    sys.stdin.readline()  # the server is gone
    end = time.monotonic() + 10
    while not synth.lost and time.monotonic() < end:
        time.sleep(0.05)
    print(json.dumps({"lost": synth.lost, "stats": synth.stats()["audio_lost"]}), flush=True)
    t = time.monotonic()
    synth.stop()
    print("stopped", round(time.monotonic() - t, 3), flush=True)
""")


def test_a_server_gone_is_said_and_never_holds_the_process(tmp_path):
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.fail("jackd is missing: apt-get install jackd2 (.ci/run installs it)")
    name = f"gm-lost-{os.getpid()}"
    env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_AUDIO_RESERVATION": "1"}
    server = subprocess.Popen([jackd, "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    child = None
    try:
        subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, timeout=15,
                       capture_output=True, env=env)
        child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
        assert child.stdout.readline().split() == ["playing", "False"], child.stderr.read()
        server.terminate()  # the server stops (SIGKILL would leak its slot in JACK's registry)
        server.wait(timeout=10)
        child.stdin.write("\n")
        child.stdin.flush()
        said = json.loads(child.stdout.readline())
        assert said == {"lost": True, "stats": True}
        started = time.monotonic()
        child.wait(timeout=60)  # stop() and the process's exit (communicate() would miss
        out, err = child.stdout.read(), child.stderr.read()  # what readline() buffered)
        assert child.returncode == 0, err
        assert time.monotonic() - started < 30
        assert out.startswith("stopped"), (out, err)
        assert err.count("the audio stream stopped: its audio server") == 1, err
    finally:
        for proc in (child, server):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        # the semaphore of the client the lost stream never closed
        for leftover in Path("/dev/shm").glob(f"jack_sem.*{name}*"):
            leftover.unlink(missing_ok=True)
