"""LSL's markers name the class the outputs sent: `gesturemap run --lsl-out` over loopback,
with a project's ``outputs.reject_below``. A frame sent as class 0 (an empty
/gesturemap/label) gave no marker, so a recording named the likeliest class for frames the
audience heard as none; now an empty marker says that no class was sent from there on."""

from __future__ import annotations

import socket
import time

import pylsl
import pytest

from ..rejection_helpers import answer, graded_project, input_for
from ..stage_helpers import free_port, osc_receiver, start_run, stop_run

pytestmark = pytest.mark.serial("jack-lsl")


def test_lsl_markers_follow_the_class_osc_sent(tmp_path):
    project = graded_project(reject_below=0.8)
    project.save(tmp_path / "p")
    model = project.trained
    suffix = f"reject{time.monotonic_ns()}"
    rx = osc_receiver()
    port = free_port()
    proc, _ = start_run(tmp_path / "p", "--osc-in", f"127.0.0.1:{port}", "--osc-out",
                        f"127.0.0.1:{rx.getsockname()[1]}", "--lsl-out", suffix)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        found = pylsl.resolve_byprop("name", f"gesturemap-{suffix}-markers", timeout=20)
        assert found, "no markers stream"
        markers = pylsl.StreamInlet(found[0])
        markers.open_stream(timeout=10)
        # "high"'s likelihood: 0.75 and 0.78 are its likeliest, below reject_below
        sent = [answer(tx, rx, port, input_for(model, p))
                for p in (0.05, 0.75, 0.9, 0.78, 0.95, 0.1)]
        assert sent == [2.0, 0.0, 1.0, 0.0, 1.0, 2.0]  # Wekinator's numbers: "high" is 1
        got: list[str] = []
        end = time.monotonic() + 20
        while len(got) < 6 and time.monotonic() < end:
            chunk, _ = markers.pull_chunk(timeout=0.5)
            got += [m[0] for m in chunk]
    finally:
        stop_run(proc)
        tx.close()
        rx.close()
    assert got == ["low", "", "high", "", "high", "low"]
