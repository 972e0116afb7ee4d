"""A serial sensor through the engine: sensor lines and binary frames at 1 kHz over a socat
pseudo-terminal pair, recorded into a take; an unplug (socat killed and restarted) is survived
and the engine goes on recording."""

from __future__ import annotations

import os
import time

import numpy as np

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.serial import SerialSource, encode_frame

from ..sources.source_helpers import SocatLink, wait_until


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


def test_a_time_using_pipeline_takes_every_line_of_a_burst_and_a_board_reset(tmp_path):
    """With a OneEuro filter (it uses frame times), lines read in one chunk shared one time and
    all but the first were refused; after a board reset (millis() from 0 again) every frame
    was refused until the new clock passed the old one."""
    from gesturemap.features import OneEuro, Pipeline

    link = SocatLink(tmp_path)
    link.start()
    project = Project("serial", model="gmm", pipeline=Pipeline([OneEuro()]))
    made = []

    def factory(queue, on_control):
        src = SerialSource(queue, str(link.device), leading="timestamp", timestamp_unit="ms",
                           channel_names=["a", "b"], reopen_backoff_s=(0.05, 0.2))
        made.append(src)
        return src

    engine = Engine(project, osc_in=None, sources=[factory], trainer="thread").start()
    try:
        wait_until(lambda: made[0].stats.connected, timeout=10, what="the port")
        fd = os.open(link.peer, os.O_WRONLY | os.O_NOCTTY)
        os.write(fd, b"".join(f"{3_600_000 + 5 * i},{i},1\n".encode() for i in range(50)))
        wait_until(lambda: engine.frames_in >= 50, timeout=10, what="the burst")
        os.close(fd)
        link.stop()  # unplugged; plugged again, the board starts its clock from 0
        wait_until(lambda: not made[0].stats.connected, timeout=10, what="unplug")
        link.start()
        wait_until(lambda: made[0].stats.connected, timeout=10, what="replug")
        fd = os.open(link.peer, os.O_WRONLY | os.O_NOCTTY)
        _write_paced(fd, [f"{5 * i},{i},2\n".encode() for i in range(50)], 200.0)
        wait_until(lambda: engine.frames_in >= 100, timeout=10, what="frames after replug")
        os.close(fd)
    finally:
        engine.stop()
        link.stop()
    assert engine.bad_frames == 0 and engine.errors == 0
