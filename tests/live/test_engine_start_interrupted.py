"""Ctrl-C while the engine starts: what the start had opened is closed (the training process,
the bound OSC port, the threads, the project's lock), as when the start fails with an error."""

from __future__ import annotations

import signal
import socket
import threading
import time

import pytest

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.project.lock import check_free

from ..stage_helpers import free_port


class _CtrlCOnStart:
    """An output whose opening is interrupted by a real SIGINT (Ctrl-C in the terminal): the
    signal arrives while the engine's start runs, after the trainer, the threads and the
    sources have started."""

    reject_below = 0.0

    def start(self) -> None:
        signal.raise_signal(signal.SIGINT)  # Python's handler raises KeyboardInterrupt here

    def stop(self) -> None:
        pass

    def update(self, *_: object) -> None:
        pass

    def stats(self) -> dict:
        return {}


def test_ctrl_c_during_start_closes_what_it_opened(tmp_path):
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    folder = tmp_path / "p"
    Project.new(folder, inputs=2)
    port = free_port()
    engine = Engine(Project.load(folder), project_dir=folder, osc_in=("127.0.0.1", port),
                    osc_out=("127.0.0.1", 9), trainer="process", sinks=[_CtrlCOnStart()])
    before = set(threading.enumerate())
    with pytest.raises(KeyboardInterrupt):
        engine.start()
    # the training process had started, and ends with the start
    assert engine.trainer is not None
    proc = engine.trainer._proc
    assert proc is None or not proc.is_alive()
    # the OSC port is free again: the same command can run again at once
    again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        again.bind(("127.0.0.1", port))
    finally:
        again.close()
    # no thread of the engine or its sources is left running (the trainer's reader ends
    # when the process it reads has ended), and the project is free
    deadline = time.monotonic() + 20
    while (left := [t for t in set(threading.enumerate()) - before if t.is_alive()]) \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not left, left
    check_free(folder)
    engine.stop()  # (what `gesturemap run` does after a Ctrl-C that came as start returned)
