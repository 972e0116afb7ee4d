"""A serial sensor through the engine: sensor lines and binary frames at 1 kHz over a socat
pseudo-terminal pair, recorded into a take; an unplug (socat killed and restarted) is survived
and the engine goes on recording."""

from __future__ import annotations

import os
import time

import numpy as np

from gesturemap.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.serial import SerialSource, encode_frame

from .sources.source_helpers import SocatLink, wait_until


def _write_paced(fd: int, chunks: list[bytes], rate_hz: float) -> None:
    start = time.perf_counter()
    for i, chunk in enumerate(chunks):
        os.write(fd, chunk)
        delay = start + (i + 1) / rate_hz - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def test_serial_sensor_through_engine_survives_an_unplug(tmp_path):
    link = SocatLink(tmp_path)
    link.start()
    project = Project("serial", model="gmm")
    text_source = []

    def factory(queue, on_control):
        src = SerialSource(queue, str(link.device), framing="text")
        text_source.append(src)
        return src

    engine = Engine(project, osc_in=None, sources=[factory], trainer="thread").start()
    try:
        fd = os.open(link.peer, os.O_WRONLY | os.O_NOCTTY)
        engine.command("set_label", "wave")
        engine.command("start_recording")
        time.sleep(0.05)
        lines = [f"{i},{np.sin(i / 50):.6f},{i % 7}\n".encode() for i in range(2000)]
        _write_paced(fd, lines, 1000.0)
        wait_until(lambda: engine.frames_in >= 2000, timeout=10, what="2000 serial frames")
        os.close(fd)
        # unplug: the far end disappears; the source notices, then the device comes back
        link.stop()
        src = text_source[0]
        wait_until(lambda: not src.stats.snapshot()["connected"], timeout=10, what="unplug")
        link.start()
        wait_until(lambda: src.stats.snapshot()["connected"], timeout=10, what="replug")
        fd = os.open(link.peer, os.O_WRONLY | os.O_NOCTTY)
        _write_paced(fd, [f"{i},0.5,1\n".encode() for i in range(2000, 2500)], 1000.0)
        wait_until(lambda: engine.frames_in >= 2500, timeout=10, what="frames after replug")
        os.close(fd)
        engine.command("stop_recording")
        wait_until(lambda: len(project.takes) == 1, timeout=5, what="the take")
    finally:
        engine.stop()
        link.stop()
    take = project.takes[0]
    assert take.label == "wave" and take.length == 2500
    np.testing.assert_array_equal(take.inputs[:, 0], np.arange(2500))
    assert engine.stats()["bad_packets"] == 0 and engine.errors == 0


def test_binary_frames_at_1khz_through_engine(tmp_path):
    link = SocatLink(tmp_path)
    link.start()
    project = Project("binary", model="gmm")
    engine = Engine(project, osc_in=None, trainer="thread", sources=[
        lambda q, c: SerialSource(q, str(link.device), framing="binary")]).start()
    try:
        fd = os.open(link.peer, os.O_WRONLY | os.O_NOCTTY)
        engine.command("set_label", "b")
        engine.command("start_recording")
        time.sleep(0.05)
        frames = [encode_frame([i, i * 0.5, -i]) for i in range(2000)]
        garbage = [os.urandom(17) if i % 100 == 50 else b"" for i in range(2000)]
        _write_paced(fd, [g + f for g, f in zip(garbage, frames, strict=True)], 1000.0)
        wait_until(lambda: engine.frames_in >= 2000, timeout=10, what="2000 binary frames")
        engine.command("stop_recording")
        wait_until(lambda: len(project.takes) == 1, timeout=5, what="the take")
        os.close(fd)
    finally:
        engine.stop()
        link.stop()
    take = project.takes[0]
    assert take.length == 2000
    np.testing.assert_array_equal(take.inputs[:, 0], np.arange(2000, dtype=np.float32))
