"""A regression output that comes out NaN never reaches a receiver: its channel keeps its last
number and the count says so (a real engine, its replies over loopback UDP)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
from pythonosc.osc_message import OscMessage

from gesturemap.live.engine import Engine
from gesturemap.live.replay import replay_frames
from gesturemap.project import Project
from gesturemap.sources.base import Frame
from tests.stage_helpers import osc_receiver


def _polynomial_project() -> Project:
    """Degree 20 over two inputs: an input of 1e19 (within what the pipeline takes) overflows
    its terms to inf - inf, a NaN."""
    project = Project("reg", model={"kind": "polynomial", "params": {"degree": 20}},
                      output_names=["pitch"],
                      outputs={"scales": [{"in_min": 0, "in_max": 1, "out_min": 0,
                                           "out_max": 127, "smoothing": 0.5}]})
    rng = np.random.default_rng(0)
    for label, centre, target in (("low", 0.0, 0.1), ("high", 1.0, 0.9)):
        project.add_take(centre + rng.normal(0, 0.05, (80, 2)), label,
                         outputs=np.full((80, 1), target))
    project.train()
    return project


def _receive(sock: socket.socket, n: int, timeout: float = 10.0) -> list[float]:
    values: list[float] = []
    end = time.monotonic() + timeout
    while len(values) < n and time.monotonic() < end:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        if not data.startswith(b"#bundle"):  # /wek/outputs leaves alone
            message = OscMessage(data)
            assert message.address == "/wek/outputs"
            values.append(float(message.params[0]))
    return values


def test_a_nan_output_holds_the_last_number_and_smoothing_recovers():
    project = _polynomial_project()
    frames = [np.array([0.5, 0.5])] * 5 + [np.array([1e19, -1e19])] + [np.array([0.5, 0.5])] * 5
    # the model itself says NaN at the glitch: what the guard is for
    stream = project.trained.stream()
    assert np.isnan(stream.step(frames[5]).output).all()

    rx = osc_receiver()
    engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread").start()
    try:
        engine.command("start_running")
        t = 0.0
        for x in frames:
            t += 0.005
            engine.queue.put(Frame(t, x, "test"))
        values = _receive(rx, len(frames))
        stats = engine.stats()
    finally:
        engine.stop()
        rx.close()
    assert len(values) == len(frames)
    assert np.isfinite(values).all(), values
    # the glitch's frame repeats the frame before it; smoothing then goes on from there
    assert values[5] == values[4]
    assert values[-1] == values[4]  # the same input again: back where it was, not stuck
    assert stats["nonfinite_outputs"] == 1
    assert stats["errors"] == 0


def test_replay_holds_the_same_way():
    project = _polynomial_project()
    x = np.array([[0.5, 0.5], [0.2, 0.8], [1e19, -1e19], [0.5, 0.5]])
    results = [r for _, r in replay_frames(project, np.arange(4) * 0.005, x)]
    outputs = np.array([r.output for r in results])
    assert np.isfinite(outputs).all()
    np.testing.assert_array_equal(outputs[2], outputs[1])
    np.testing.assert_array_equal(outputs[3], outputs[0])


FIRST_FRAME_SCRIPT = """
import socket, sys, time
import numpy as np
from numba.core.dispatcher import Dispatcher
from gesturemap.live.engine import Engine
from gesturemap.project import Project

project = Project("reg", model={"kind": "gmm", "params": {"gaussians": 1}},
                  output_names=["pitch"])
rng = np.random.default_rng(0)
for label, centre in (("low", 0.0), ("high", 1.0)):
    project.add_take(centre + rng.normal(0, 0.05, (60, 2)), label,
                     outputs=np.full((60, 1), centre))
project.train()
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
rx.settimeout(30)
engine = Engine(project, osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", rx.getsockname()[1]),
                trainer="thread").start()
deadline = time.monotonic() + 300  # the compiled path's own kernel, loaded on its thread
while engine.compiled_state == "compiling" and time.monotonic() < deadline:
    time.sleep(0.05)
loaded = []
real = Dispatcher._compile_for_args
def traced(self, *args, **kwargs):
    loaded.append(self.py_func.__name__)
    return real(self, *args, **kwargs)
Dispatcher._compile_for_args = traced
from pythonosc.udp_client import SimpleUDPClient
SimpleUDPClient("127.0.0.1", engine.osc_port).send_message("/wek/inputs", [0.1, 0.2])
rx.recv(65536)
engine.stop()
print("loaded on the first frame:", ",".join(loaded))
"""


def test_the_first_frame_a_regression_answers_loads_no_kernel(tmp_path):
    """From a fresh process (numba loads a kernel once per process): started, the engine has
    every kernel the first regression frame runs loaded, the check of its (read-only)
    output included, so that frame does not wait for numba's cache (4-8 ms, up to 66 ms
    behind a scene's kernels loading on the I/O thread)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-c", FIRST_FRAME_SCRIPT], capture_output=True,
                          text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded on the first frame: \n" in done.stdout, done.stdout
