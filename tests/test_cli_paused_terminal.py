"""`gesturemap run` in a terminal that stops reading: paused with Ctrl-S (or a scroll lock),
or a launcher that captures the engine's stderr and never reads it. The engine's threads log
as things happen (a sensor's frame of another width, a refused command); a line written on
the frame path would wait there for the terminal, and every frame behind it with it. A real
process on a pseudo-terminal paused with Ctrl-S, and one whose stderr pipe is full."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import socket
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gesturemap.utils.terminal import StderrWriter

from .stage_helpers import (
    float_msg,
    free_port,
    osc_message,
    osc_messages,
    osc_receiver,
    two_level_project,
)

pytestmark = pytest.mark.timeout(120)

F_GETPIPE_SZ = 1032  # (Linux: the fcntl module names it from Python 3.10 on some builds only)


def _answers(rx: socket.socket, tx: socket.socket, port: int, frames: int) -> int:
    """Send ``frames`` good frames a tenth of a second apart; how many were answered."""
    got = 0
    for _ in range(frames):
        tx.sendto(float_msg("/wek/inputs", 0.9, 0.9), ("127.0.0.1", port))
        end = time.monotonic() + 0.1
        while time.monotonic() < end:
            try:
                rx.recv(65536)
                got += 1
                break
            except TimeoutError:
                continue
    return got


def _read(fd: int, until: bytes, timeout: float = 30) -> bytes:
    got = b""
    end = time.monotonic() + timeout
    while until not in got and time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            got += os.read(fd, 65536)
    return got


def _run(folder: Path, port: int, rx: socket.socket, **streams: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gesturemap.cli", "run", str(folder), "--no-audio",
         "--osc-in", f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}"],
        start_new_session=True, **streams)  # type: ignore[call-overload]


@contextlib.contextmanager
def _in_a_terminal(folder: Path) -> Iterator[tuple[int, socket.socket, socket.socket, int]]:
    """`gesturemap run FOLDER` on a pseudo-terminal that Ctrl-S pauses, as a terminal's line
    discipline does: (the terminal's master side, a socket that sends to the run, the one
    its replies reach, the run's port), once it listens."""
    port, rx = free_port(), osc_receiver()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[0] |= termios.IXON
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = _run(folder, port, rx, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    try:
        assert b"listening" in _read(master, b"listening")
        yield master, tx, rx, port
    finally:
        tx.close()
        rx.close()
        proc.kill()
        proc.wait(30)
        os.close(master)


def test_a_terminal_paused_with_ctrl_s_does_not_stop_the_frames(tmp_path):
    with _in_a_terminal(two_level_project(tmp_path / "p")) as (master, tx, rx, port):
        assert _answers(rx, tx, port, 1) == 1
        os.write(master, b"\x13")  # Ctrl-S: the terminal is paused
        time.sleep(0.3)
        # a frame of another width: the receiving thread, which steps frames itself, says so in
        # the log (once a second)
        tx.sendto(float_msg("/wek/inputs", 0.9, 0.9, 0.9), ("127.0.0.1", port))
        time.sleep(0.3)
        answered = _answers(rx, tx, port, 10)
        os.write(master, b"\x11")  # Ctrl-Q: the terminal reads again, and the line comes
        said = _read(master, b"refused a frame of 3 values")
    assert answered == 10
    assert b"refused a frame of 3 values" in said


def test_a_training_that_warns_is_not_held_by_a_paused_terminal(tmp_path):
    """The training process says its warnings on the same terminal (here: every input is
    constant, which an HHMM cannot tell apart): paused with Ctrl-S, the warning waited there,
    and the model and Wekinator's done-training with it. Said as the command's own warnings
    are, one line, not Python's file and line."""
    from gesturemap.project import Project

    folder = tmp_path / "p"
    Project("w", model={"kind": "hhmm", "params": {"states": 2}}, classes=["a", "b"]).save(folder)
    with _in_a_terminal(folder) as (master, tx, rx, port):
        to = ("127.0.0.1", port)
        for number in (1, 2):
            tx.sendto(osc_message("/wekinator/control/outputs", float(number)), to)
            tx.sendto(osc_message("/wekinator/control/startRecording"), to)
            for _ in range(40):
                tx.sendto(float_msg("/wek/inputs", 0.5, 0.5), to)
                time.sleep(0.003)
            tx.sendto(osc_message("/wekinator/control/stopRecording"), to)
        time.sleep(0.3)
        os.write(master, b"\x13")  # Ctrl-S
        time.sleep(0.3)
        tx.sendto(osc_message("/wekinator/control/train"), to)
        got = osc_messages(rx, lambda m: any(a.endswith("done-training") for a, _ in m), 90)
        os.write(master, b"\x11")  # Ctrl-Q
        said = _read(master, b"every input varies").decode(errors="replace")
    assert any(a == "/wekinator/status/done-training" for a, _ in got), got
    assert "gesturemap run: warning: HHMM: every input varies" in said, said
    assert "UserWarning" not in said and ".py:" not in said, said


def test_a_launcher_that_never_reads_stderr_does_not_stop_the_frames(tmp_path):
    folder = two_level_project(tmp_path / "p")
    port, rx = free_port(), osc_receiver()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r, w = os.pipe()
    proc = _run(folder, port, rx, stdout=subprocess.PIPE, stderr=w)
    try:
        assert "listening" in proc.stdout.readline().decode()
        assert _answers(rx, tx, port, 1) == 1
        os.write(w, b"." * fcntl.fcntl(w, F_GETPIPE_SZ))  # the pipe is full: nobody reads it
        tx.sendto(float_msg("/wek/inputs", 0.9, 0.9, 0.9), ("127.0.0.1", port))
        time.sleep(0.3)
        answered = _answers(rx, tx, port, 10)
        said = _read(r, b"refused a frame of 3 values")  # read at last: the line was kept, not lost
    finally:
        tx.close()
        rx.close()
        proc.kill()
        proc.wait(30)
        os.close(w)
        os.close(r)
    assert answered == 10
    assert b"refused a frame of 3 values" in said


class _Stalled:
    """A stream whose writes wait until it is let go (a terminal that does not read)."""

    def __init__(self) -> None:
        import threading

        self.go, self.writing = threading.Event(), threading.Event()
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.writing.set()
        self.go.wait(30)
        self.lines.append(text)

    def flush(self) -> None:
        pass


def test_lines_past_the_limit_are_counted_and_said_once_it_reads(monkeypatch):
    import gesturemap.utils.terminal as terminal

    monkeypatch.setattr(terminal, "MAX_WAITING", 5)
    stream = _Stalled()
    writer = StderrWriter(stream)
    writer.put("line 0")
    assert stream.writing.wait(10)  # the writing thread waits in its first write
    started = time.monotonic()
    for i in range(1, 20):
        writer.put(f"line {i}")
    assert time.monotonic() - started < 0.5  # nothing waited for the stream
    # the writing thread holds one line in its write; 5 wait; the other 14 are counted
    assert writer.dropped == 14
    stream.go.set()
    writer.close()
    text = "".join(stream.lines)
    assert text.startswith("line 0\n(14 lines were left out here")
    assert [ln for ln in text.splitlines() if ln.startswith("line")] == [
        f"line {i}" for i in range(6)]
