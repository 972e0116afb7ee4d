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


def _record_across_an_unplug(tmp_path, away_s: float) -> tuple[Engine, Project]:
    """A take of 400 lines at 200 Hz over a socat pty; ``away_s`` > 0: the board unplugged
    that long after line 200. Returns the engine (stopped) and its project as saved."""
    link = SocatLink(tmp_path / "link")
    (tmp_path / "link").mkdir()
    link.start()
    folder = tmp_path / "p"
    Project("serial", model="gmm").save(folder)
    made = []

    def factory(queue, on_control):
        src = SerialSource(queue, str(link.device), channel_names=["n", "x"],
                           reopen_backoff_s=(0.05, 0.2))
        made.append(src)
        return src

    engine = Engine(Project.load(folder), project_dir=folder, osc_in=None, sources=[factory],
                    trainer="thread").start()
    try:
        wait_until(lambda: made[0].stats.connected, timeout=10, what="the port")
        engine.command("set_label", "wave")
        engine.command("start_recording")
        for part in (range(0, 200), range(200, 400)):
            link.send([f"{i},0.5\n".encode() for i in part], 200.0)
            wait_until(lambda: engine.frames_in >= part.stop, timeout=10,  # noqa: B023
                       what="the lines")
            if part.start or not away_s:
                continue
            link.stop()  # unplugged: the paths disappear
            wait_until(lambda: not made[0].stats.connected, timeout=10, what="unplug")
            time.sleep(away_s)
            link.start()
            wait_until(lambda: made[0].stats.connected, timeout=10, what="replug")
        engine.command("stop_recording")
        wait_until(lambda: len(engine.project.takes) == 1, timeout=10, what="the take")
    finally:
        engine.stop()
        link.stop()
    return engine, Project.load(folder)


def test_a_take_across_an_unplug_says_how_long_the_sensor_was_away(tmp_path, caplog):
    """The board unplugged for about 1.5 s mid-take and plugged back (the source reopens
    it): the take keeps every frame, with the hole in its times, and is marked with it,
    counted in stats(), said once in the log, and saved with it."""
    import logging

    caplog.set_level(logging.WARNING, logger="gesturemap")
    engine, saved = _record_across_an_unplug(tmp_path, away_s=1.5)
    take = engine.project.takes[0]
    assert take.length == 400  # nothing dropped, nothing spliced
    np.testing.assert_array_equal(take.inputs[:, 0], np.arange(400))
    (start, length), = take.gaps
    hole = take.times[200] - take.times[199]  # the step across the unplug
    # the gap is the hole in the frames' times (within the time the source takes to notice
    # the unplug and to read again: generous, for a loaded machine)
    assert 1.5 <= length <= hole + 0.05 and length > hole - 1.0, (take.gaps, hole)
    assert abs(start - take.times[199]) < 1.0, (take.gaps, take.times[199])
    stats = engine.stats()
    assert stats["takes_with_gaps"] == 1 and stats["errors"] == 0
    assert stats["last_take_gap"]["take"] == take.id
    text = stats["last_take_gap"]["text"]
    assert text.startswith(f"the sensor was away for {length:.1f} s during this take"), text
    said = [r.getMessage() for r in caplog.records if "away" in r.getMessage()]
    assert len(said) == 1 and take.id in said[0] and text in said[0], said
    assert stats["sources"]["serial"]["away_s"] >= 1.5
    # saved with its mark: the window and `gesturemap train` read it from the project
    assert saved.takes[0].gaps == take.gaps and take.away_s == length


def test_a_take_with_the_sensor_there_throughout_has_no_gap(tmp_path):
    engine, saved = _record_across_an_unplug(tmp_path, away_s=0.0)
    assert engine.project.takes[0].gaps == () and saved.takes[0].gaps == ()
    assert engine.stats()["takes_with_gaps"] == 0 and engine.stats()["last_take_gap"] is None
