"""`gesturemap run` in a terminal that hangs up (an ssh session dropped, the terminal window
closed) mid-take: it stops as Ctrl-C stops it, the take under way kept and the session log
closed, with nobody left to read its last line (a real process on a pseudo-terminal that is
closed, then SIGHUP as the kernel sends it)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from gesturemap.project import Project

from .sources.source_helpers import wait_until
from .stage_helpers import float_msg, free_port, osc_message

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")


def _read_until(fd: int, text: str, timeout: float = 60) -> str:
    got = b""
    end = time.monotonic() + timeout
    while text.encode() not in got and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            got += os.read(fd, 4096)
    assert text.encode() in got, got.decode(errors="replace")
    return got.decode(errors="replace")


def test_a_hangup_mid_take_keeps_the_take_and_closes_the_log(tmp_path):
    folder = tmp_path / "p"
    project = Project("stage", model="gmm", classes=["a", "b"])
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        project.add_take(rng.normal(size=(30, 2)) + (label == "b"), label)
    project.save(folder)
    port = free_port()
    stats_file = tmp_path / "stats.json"
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--no-audio",
         "--osc-in", f"127.0.0.1:{port}", "--log", str(tmp_path / "log"),
         "--stats", str(stats_file)],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        _read_until(master, "listening")
        stats = lambda: json.loads(stats_file.read_text())  # noqa: E731
        wait_until(stats_file.exists, timeout=30, what="the stats")
        tx.sendto(osc_message("/wekinator/control/startRecording"), ("127.0.0.1", port))
        wait_until(lambda: stats()["recording"], timeout=30, what="the recording")
        for i in range(40):
            tx.sendto(float_msg("/wek/inputs", 0.01 * i, 1.0), ("127.0.0.1", port))
            time.sleep(0.005)
        wait_until(lambda: stats()["frames_in"] >= 40, timeout=30, what="the frames")
        os.close(master)  # the terminal goes...
        os.killpg(proc.pid, signal.SIGHUP)  # ...and its processes are told (the trainer too)
        proc.wait(timeout=60)
    finally:
        tx.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0  # stopped, not killed by the signal (-1)
    takes = [json.loads(p.read_text()) for p in sorted((folder / "takes").glob("take-*.json"))]
    assert len(takes) == 3 and takes[-1]["frames"] == 40, takes
    assert json.loads((tmp_path / "log" / "session.json").read_text())["end"] is not None
