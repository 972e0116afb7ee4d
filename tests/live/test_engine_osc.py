"""A mapping built purely over OSC: ``gesturemap run`` driven as a Wekinator user's client would.

Real loopback UDP sockets, a real ``gesturemap run`` process: set outputs, start/stop recording,
send inputs as ints, floats and doubles, train, wait for done-training, run, receive
``/wek/outputs``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from tests.stage_helpers import free_port


def msg(address: str, *args: tuple[str, object]) -> bytes:
    b = OscMessageBuilder(address)
    for tag, value in args:
        b.add_arg(value, tag)
    return b.build().dgram


def gesture(cls: int, t: np.ndarray) -> np.ndarray:
    """Two clearly different 2-D gestures."""
    if cls == 1:
        return np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)] * 100
    return np.c_[200 * t - 100, 50 * np.ones_like(t)]


class Receiver:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]

    def drain(self, seconds: float) -> list[OscMessage]:
        out = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if data.startswith(b"#bundle"):  # gesturemap's richer messages come bundled
                out += [m for m in OscBundle(data) if isinstance(m, OscMessage)]
            else:
                out.append(OscMessage(data))
        return out

    def wait_for(self, address: str, timeout: float) -> list[OscMessage]:
        got: list[OscMessage] = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got += self.drain(0.1)
            if any(m.address == address for m in got):
                return got
        raise AssertionError(f"no {address} within {timeout} s; got {[m.address for m in got]}")


@pytest.fixture
def stage(tmp_path):
    project = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(project), "--model",
                    "hhmm", "--inputs", "2"], check=True, timeout=60)
    rx = Receiver()
    port = free_port()
    stats = tmp_path / "stats.json"
    logdir = tmp_path / "log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "run", str(project), "--osc-in",
         f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{rx.port}", "--stats", str(stats),
         "--log", str(logdir), "--no-audio"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "GESTUREMAP_RAISE": "0"})
    line = proc.stdout.readline()
    assert "listening" in line, line + proc.stderr.read()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield {"proc": proc, "send": lambda d: tx.sendto(d, ("127.0.0.1", port)), "rx": rx,
           "stats": stats, "project": project, "log": logdir}
    if proc.poll() is None:
        proc.kill()
    tx.close()


def test_wekinator_client_builds_a_mapping(stage):
    send, rx = stage["send"], stage["rx"]
    tags = ["i", "f", "d"]  # inputs arrive as ints, floats and doubles
    for cls in (1, 2):
        for take in range(2):
            send(msg("/wekinator/control/outputs", ("f", float(cls))))
            send(msg("/wekinator/control/startRecording"))
            t = np.linspace(0, 1, 60) + 0.01 * take
            for i, (a, b) in enumerate(gesture(cls, t)):
                tag = tags[i % 3]
                cast = int if tag == "i" else float
                send(msg("/wek/inputs", (tag, cast(a)), (tag, cast(b))))
                time.sleep(0.002)
            send(msg("/wekinator/control/stopRecording"))
    time.sleep(0.2)
    send(msg("/wekinator/control/train"))
    rx.wait_for("/wekinator/status/done-training", timeout=60)
    send(msg("/wekinator/control/startRunning"))
    for cls in (1, 2):
        rx.drain(0.05)
        got = []
        for a, b in gesture(cls, np.linspace(0, 1, 50)):
            send(msg("/wek/inputs", ("f", float(a)), ("f", float(b))))
            time.sleep(0.004)
            got += rx.drain(0.001)
        got += rx.drain(0.3)
        outs = [m.params[0] for m in got if m.address == "/wek/outputs"]
        assert len(outs) >= 40, f"only {len(outs)} outputs for 50 frames"
        assert outs[-1] == float(cls), outs[-10:]
        # what Wekinator sends, nothing else: gesturemap's own messages are the project's choice
        assert {m.address for m in got} == {"/wek/outputs"}
        send(msg("/wekinator/control/stopRunning"))
        send(msg("/wekinator/control/startRunning"))
    # garbage between valid frames is counted, valid frames still answered
    send(b"\x00garbage")
    send(msg("/wek/inputs", ("s", "not a number"), ("f", 1.0)))
    send(msg("/wek/inputs", ("f", float("nan")), ("f", 1.0)))
    send(msg("/wek/inputs", ("f", 1.0), ("f", 2.0)))
    assert any(m.address == "/wek/outputs" for m in rx.drain(0.5))
    stage["proc"].send_signal(signal.SIGINT)
    out, err = stage["proc"].communicate(timeout=30)
    assert stage["proc"].returncode == 0, err
    stats = json.loads(stage["stats"].read_text())
    for key in ("frames_in", "frames_out", "bad_packets", "dropped_frames", "step_us_p50",
                "step_us_p99", "latency_us_p50", "latency_us_p99"):
        assert key in stats
    assert stats["frames_in"] >= 340 and stats["frames_out"] >= 100
    assert stats["bad_packets"] >= 3 and stats["dropped_frames"] == 0
    assert stats["takes"] == 4 and stats["trainings"] == 1
    # the project on disk has the takes and the trained model
    from gesturemap.project import Project

    project = Project.load(stage["project"])
    assert len(project.takes) == 4 and project.trained is not None
    assert sorted({t.label for t in project.takes}) == [1, 2]
