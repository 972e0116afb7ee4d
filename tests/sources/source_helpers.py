"""Helpers shared by the source tests (tests/ is a package, so they import it relatively)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gesturemap.sources import Source


def require_tool(name: str, package: str) -> str:
    """The path of an external program the test needs; fail (never skip) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not installed: it is the independent peer this test needs. Install it "
            f"with `apt-get install -y {package}` (.ci/run does).",
            pytrace=False,
        )
    return path


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``condition`` every millisecond; fail the test if it stays false for ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.001)


def accounted(source: Source) -> int:
    """Every datagram, line or binary frame a source has read, whatever became of it."""
    return source.stats.packets_in


class SocatLink:
    """Two linked pseudo-terminals made by a socat process, which can be killed and restarted.

    ``device`` is what the source opens, ``peer`` what the test writes to. Stopping socat makes
    both paths disappear, as unplugging a USB serial device does.
    """

    def __init__(self, folder: Path) -> None:
        self.socat = require_tool("socat", "socat")
        self.device = folder / "device"
        self.peer = folder / "peer"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.socat,
                "-d",
                "-d",
                f"pty,raw,echo=0,link={self.device}",
                f"pty,raw,echo=0,link={self.peer}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: self.device.exists() and self.peer.exists(), what="socat's ptys")

    def send(self, lines: list[bytes], rate_hz: float) -> None:
        """Write ``lines`` to the device, one every 1/``rate_hz`` s (a board's sketch)."""
        fd = os.open(self.peer, os.O_WRONLY | os.O_NOCTTY)
        try:
            start = time.perf_counter()
            for i, line in enumerate(lines):
                os.write(fd, line)
                delay = start + (i + 1) / rate_hz - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
        finally:
            os.close(fd)

    def imu_lines(self, first: int, n: int) -> None:
        """``n`` lines of the Arduino IMU sketch at 100 Hz, millis from ``first`` * 10."""
        self.send([f"{10 * i},{i},0,1,0,0,0\n".encode() for i in range(first, first + n)], 100.0)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(5)
        wait_until(lambda: not self.device.exists(), what="socat to remove its links")
