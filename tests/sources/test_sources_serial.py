"""SerialSource over real pseudo-terminals: in-process pty pairs and socat (for unplugging)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.sources import SerialSource, encode_frame
from gesturemap.sources.serial import SYNC

from .source_helpers import accounted, wait_until


def write_at_rate(fd: int, chunks: list[bytes], rate_hz: float) -> None:
    """Write one chunk per period, as a device streaming at ``rate_hz`` does."""
    start = time.perf_counter()
    for i, chunk in enumerate(chunks):
        while time.perf_counter() < start + i / rate_hz:
            time.sleep(0.0002)
        os.write(fd, chunk)


def connected(source: SerialSource) -> Callable[[], bool]:
    return lambda: source.stats.connected


def test_text_lines_at_1khz_for_2s_lose_nothing(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["i", "a", "b"]))
    wait_until(connected(source), what="the port to open")
    n = 2000
    separators = [",", ", ", "\t", " ", "  "]
    lines = [
        (
            separators[i % 5].join([str(i), f"{i / 7:.6f}", str(-i)]) + ("\r\n" if i % 2 else "\n")
        ).encode()
        for i in range(n)
    ]
    write_at_rate(master, lines, 1000)
    wait_until(lambda: source.stats.frames_in == n, what=f"{n} frames")
    frames = queue.drain()
    assert [f.values.tolist() for f in frames] == [
        [float(i), float(f"{i / 7:.6f}"), float(-i)] for i in range(n)
    ]
    assert all(f.source == "serial" for f in frames)
    assert source.stats.bad_packets == 0 and 800 < source.stats.rate_hz < 1200


def test_binary_frames_at_1khz_for_2s_lose_nothing(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, framing="binary", channel_names=list("iabcde")))
    wait_until(connected(source), what="the port to open")
    n = 2000
    values = [[float(i), 0.5, -0.25, 1e6, -3.0, i / 8] for i in range(n)]
    write_at_rate(master, [encode_frame(v) for v in values], 1000)
    wait_until(lambda: source.stats.frames_in == n, what=f"{n} frames")
    assert [f.values.tolist() for f in queue.drain()] == values
    assert source.stats.bad_packets == 0


def test_binary_garbage_and_bad_checksums_are_counted_and_skipped(queue, pty_pair, started):
    rng = random.Random(3)
    master, device = pty_pair
    source = started(SerialSource(queue, device, framing="binary", channel_names=["a", "b", "c"]))
    wait_until(connected(source), what="the port to open")
    # Each bad stretch is followed by a valid frame; bytes after a failed frame up to the next
    # sync belong to it, so each stretch counts once.
    stream = bytearray(encode_frame([-1.0, 2.0, 3.0]))
    expected = [[-1.0, 2.0, 3.0]]
    n_bad = 0
    for i in range(1500):
        frame = encode_frame([float(i), 2.0, 3.0])
        kind = rng.randrange(4)
        if kind == 1:  # a run of garbage (no 0xA5: no false sync in it)
            stream += bytes(rng.choice([b for b in range(256) if b != 0xA5]) for _ in range(30))
            n_bad += 1
        elif kind == 2:  # a corrupted frame: one flipped bit in the values
            corrupt = bytearray(encode_frame([7.0, 8.0, 9.0]))
            corrupt[3 + rng.randrange(12)] ^= 1 << rng.randrange(8)
            stream += corrupt
            n_bad += 1
        elif kind == 3:  # a frame of the wrong size
            stream += encode_frame([1.0, 2.0])
            n_bad += 1
        stream += frame
        expected.append([float(i), 2.0, 3.0])
    for start in range(0, len(stream), 997):  # chunks that cut frames anywhere
        os.write(master, bytes(stream[start : start + 997]))
        time.sleep(0.0005)
    wait_until(lambda: source.stats.frames_in == len(expected), what="every valid frame")
    assert [f.values.tolist() for f in queue.drain()] == expected
    assert source.stats.bad_packets == n_bad and source.running


def test_random_bytes_with_false_syncs_never_hide_valid_frames(queue, pty_pair, started):
    rng = random.Random(4)
    master, device = pty_pair
    source = started(SerialSource(queue, device, framing="binary", channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    stream = b""
    for i in range(500):
        noise = bytearray(rng.randbytes(rng.randrange(1, 40)))
        if i % 3 == 0:  # a sync pattern inside the noise, sometimes announcing the right size
            noise[0:3] = SYNC + bytes([rng.choice([2, 7, 0, 200])])
        stream += bytes(noise) + encode_frame([float(i), -1.0])
    os.write(master, stream)
    wait_until(lambda: source.stats.frames_in >= 500, what="the valid frames")
    assert [f.values[0] for f in queue.drain()] == list(range(500))
    assert source.stats.bad_packets >= 500  # at least one per noise run


def test_text_garbage_is_counted_and_valid_lines_between_it_arrive(queue, pty_pair, started):
    rng = random.Random(5)
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    lines: list[bytes] = []
    expected = []
    for i in range(1000):
        if i % 2 == 0:  # valid first: a bad first line could be the tail of an older one
            lines.append(f"{i},{i * 2}\n".encode())
            expected.append([float(i), float(i * 2)])
        else:
            bad = rng.choice(
                [
                    b"\xff\xfe\x80,1\n",  # undecodable bytes: replaced, then refused
                    b"1,2,3\n",
                    b"7\n",
                    b"1,nan\n",
                    b"inf,1\n",
                    b"3e12,1\n",
                    b"abc,def\n",
                    b"1,,2\n",
                    # (no line end inside it: \n, or \r, which ends a line too)
                    rng.randbytes(20).replace(b"\n", b"x").replace(b"\r", b"x")
                    .replace(b"#", b"x") + b"!\n",
                ]
            )
            lines.append(bad)
    lines.append(b"\n# a comment line\n\r\n")  # skipped, not counted
    os.write(master, b"".join(lines))
    wait_until(lambda: accounted(source) >= 1000, what="every line")
    assert [f.values.tolist() for f in queue.drain()] == expected
    assert source.stats.bad_packets == 500 and source.running


def test_a_line_without_end_is_dropped_once_too_long(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"1" * 5000)
    wait_until(lambda: source.stats.bad_packets == 1, what="the long line to be refused")
    os.write(master, b"\n2\n")
    wait_until(lambda: source.stats.frames_in == 1)
    assert queue.get(timeout=1).values.tolist() == [2.0]


def test_the_end_of_a_line_dropped_as_too_long_is_never_a_frame(queue, pty_pair, started):
    """A 1 MB line, then its end "9,2,3": dropped whole and counted once (before, every
    4 KB counted and its last 5 bytes became a frame)."""
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a", "b", "c"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"1,2,3\n")
    wait_until(lambda: source.stats.frames_in == 1)
    for _ in range(256):
        os.write(master, b"9" * 4096)
    os.write(master, b"9,2,3\n4,5,6\n")
    wait_until(lambda: source.stats.frames_in == 2, what="the line after it")
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2, 3], [4, 5, 6]]
    assert source.stats.bad_packets == 1


def test_lines_ended_by_cr_alone_are_read(queue, pty_pair, started):
    """Some boards end their lines with "\\r" only: read like any other line end (before,
    nothing ever arrived)."""
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"1,2\r3,4\r\n5,6\r")
    wait_until(lambda: source.stats.frames_in == 3, what="three lines")
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2], [3, 4], [5, 6]]
    assert source.stats.bad_packets == 0


def test_python_number_syntax_is_not_a_reading(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"1,2\n1_0,2\n3,4\n")
    wait_until(lambda: source.stats.frames_in == 2 and source.stats.bad_packets == 1)
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2], [3, 4]]


def test_label_column_filters_lines(queue, pty_pair, started):
    master, device = pty_pair
    source = started(
        SerialSource(queue, device, leading="label", label="IMU", channel_names=["x", "y"])
    )
    wait_until(connected(source), what="the port to open")
    os.write(master, b"IMU,1,2\nDBG,9,9\nIMU 3 4\nIMU\t5\t6\n")
    wait_until(lambda: accounted(source) == 4)
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2], [3, 4], [5, 6]]
    assert source.stats.ignored == 1


def test_timestamp_column_gives_the_sensor_clock(queue, pty_pair, started):
    master, device = pty_pair
    source = started(
        SerialSource(queue, device, leading="timestamp", timestamp_unit="ms", channel_names=["a"])
    )
    assert source.sensor_clock
    wait_until(connected(source), what="the port to open")
    os.write(master, b"1000,0.5\n1010,0.25\nnan,1\n")
    # every line's fate, not only its reading: stamped lines are all read before any is queued
    wait_until(lambda: source.stats.frames_in + source.stats.bad_packets == 3)
    frames = queue.drain()
    assert [f.values.tolist() for f in frames] == [[0.5], [0.25]]
    # the board's steps, on the engine's clock (latency and take times mean what they say)
    assert frames[1].t - frames[0].t == pytest.approx(0.01, abs=1e-9)
    assert frames[0].t == pytest.approx(time.perf_counter(), abs=5)
    assert source.stats.bad_packets == 1
    assert source.stats.last_frame_t == pytest.approx(time.perf_counter(), abs=5)


def test_a_board_that_restarts_its_clock_keeps_its_frames_in_time(queue, pty_pair, started):
    """A board reset sends millis() from 0 again: a pipeline that uses time refused every frame
    until the new clock passed the old one (hours, for a board that had run for hours)."""
    master, device = pty_pair
    source = started(
        SerialSource(queue, device, leading="timestamp", timestamp_unit="ms", channel_names=["a"])
    )
    wait_until(connected(source), what="the port to open")
    os.write(master, b"7200000,1\n7200010,2\n7200010,3\n")  # 2 h up; a repeated stamp
    wait_until(lambda: source.stats.frames_in == 3)
    os.write(master, b"0,4\n10,5\n20,6\n")  # reset: from 0 again
    wait_until(lambda: source.stats.frames_in == 6)
    times = np.array([f.t for f in queue.drain()])
    assert (np.diff(times) > 0).all(), np.diff(times)
    np.testing.assert_allclose(np.diff(times)[[0, 4]], 0.01, atol=1e-9)  # the board's steps
    assert times[-1] == pytest.approx(time.perf_counter(), abs=5)


def test_a_board_reset_and_a_corrupt_stamp_are_in_the_stats(queue, pty_pair, started, caplog):
    """How often the board's clock was taken again and how many stamps no clock shows: a
    researcher reading `--stats` sees a board that resets or a line that lost a digit."""
    master, device = pty_pair
    source = started(
        SerialSource(queue, device, leading="timestamp", timestamp_unit="ms", channel_names=["a"])
    )
    assert source.stats.snapshot()["clock_glitches"] == 0
    wait_until(connected(source), what="the port to open")
    os.write(master, b"5000,1\n5010,2\n")
    wait_until(lambda: source.stats.frames_in == 2)
    os.write(master, b"99995020,3\n5030,4\n")  # a stamp 27 hours ahead: a corrupt line
    wait_until(lambda: source.stats.frames_in == 4)
    os.write(master, b"0,5\n10,6\n")  # reset: from 0 again
    wait_until(lambda: source.stats.frames_in == 6)
    snap = source.stats.snapshot()
    assert (snap["clock_glitches"], snap["clock_resyncs"]) == (1, 1), snap
    assert "1 stamp(s) no clock shows" in caplog.text
    plain = SerialSource(queue, device, channel_names=["a"])  # times its lines on arrival
    assert "clock_glitches" not in plain.stats.snapshot()


@pytest.mark.parametrize("framing", ["text", "binary"])
def test_frames_read_in_one_chunk_get_increasing_times(queue, pty_pair, started, framing):
    """Lines or frames read at once all got the read's time: a pipeline that uses time
    (OneEuro, Derivative...) refused all but the first of them."""
    master, device = pty_pair
    source = started(SerialSource(queue, device, framing=framing, channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    for burst in range(3):
        if framing == "text":
            data = b"".join(f"{i},{burst}\n".encode() for i in range(40))
        else:
            data = b"".join(encode_frame([float(i), float(burst)]) for i in range(40))
        os.write(master, data)
        wait_until(lambda: source.stats.frames_in == 40 * (burst + 1))  # noqa: B023
    times = np.array([f.t for f in queue.drain()])
    assert len(times) == 120 and (np.diff(times) > 0).all()


@pytest.mark.parametrize("framing", ["text", "binary"])
def test_a_burst_is_spread_since_the_last_burst_not_since_its_first_byte(
    queue, started, socat_link, framing
):
    """A board that sends its lines in bursts (one USB packet of 10 lines every 100 ms): the
    idle line's first read returns the burst's first byte alone, the rest comes microseconds
    later; spread since that read, the burst's lines were microseconds apart (a derivative
    spiked a thousandfold). They are spread since the last burst's lines arrived."""
    socat_link.start()
    source = started(SerialSource(queue, str(socat_link.device), framing=framing,
                                  channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    n, gap, bursts = 10, 0.1, 6
    fd = os.open(socat_link.peer, os.O_WRONLY | os.O_NOCTTY)
    try:
        for burst in range(bursts):
            if framing == "text":
                data = b"".join(f"{burst * n + i},{i}\n".encode() for i in range(n))
            else:
                data = b"".join(encode_frame([float(burst * n + i), float(i)]) for i in range(n))
            os.write(fd, data)
            wait_until(lambda: source.stats.frames_in == n * (burst + 1))  # noqa: B023
            time.sleep(gap)  # paces the bursts: a longer pause only makes the steps longer
    finally:
        os.close(fd)
    frames = queue.drain()
    assert [f.values[0] for f in frames] == list(range(n * bursts))
    times = np.array([f.t for f in frames]).reshape(bursts, n)
    within = np.diff(times, axis=1)[1:]  # the first burst follows the opening, not a burst
    assert (within > 0.2 * gap / n).all(), within.min()
    assert (within < 1.5 * np.diff(times[:, -1]).max() / n).all()


def test_fixed_separator(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, separator="\t", channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"1\t2\n1,2\n")
    wait_until(lambda: accounted(source) == 2)
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2]]
    assert source.stats.bad_packets == 1


def test_unplug_and_replug_resumes_reading(queue, started, socat_link):
    source = started(
        SerialSource(
            queue, str(socat_link.device), channel_names=["n"], reopen_backoff_s=(0.05, 0.2)
        )
    )
    time.sleep(0.2)  # the device is not there yet: the source keeps trying
    assert not source.stats.connected and source.running

    for round_ in range(2):
        socat_link.start()
        wait_until(connected(source), what="the source to open the device")
        total = (round_ + 1) * 100
        with open(socat_link.peer, "wb", buffering=0) as peer:
            for i in range(total - 100, total):
                peer.write(f"{i}\n".encode())
            wait_until(lambda: source.stats.frames_in == total, what="the lines")  # noqa: B023
        socat_link.stop()  # unplugged: both paths disappear
        wait_until(lambda: not source.stats.connected, what="the source to notice")
        assert source.running

    assert [int(f.values[0]) for f in queue.drain()] == list(range(200))
    assert source.stats.reconnects == 1 and source.stats.bad_packets == 0


def test_stop_is_prompt_and_idempotent_even_without_a_device(queue, tmp_path):
    source = SerialSource(queue, str(tmp_path / "missing"), reopen_backoff_s=(2.0, 2.0))
    source.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    source.stop()
    source.stop()
    assert time.perf_counter() - t0 < 1.0 and not source.running


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"device": ""}, "device"),
        ({"baud": 0}, "baud"),
        ({"framing": "slip"}, "framing"),
        ({"separator": ";"}, "separator"),
        ({"leading": "index"}, "leading"),
        ({"timestamp_unit": "min"}, "timestamp_unit"),
        ({"framing": "binary", "leading": "label"}, "neither with binary framing"),
    ],
)
def test_bad_settings_are_refused(queue, kwargs, match):
    arguments = {"device": "/dev/ttyACM0", **kwargs}
    with pytest.raises(GesturemapError, match=match):
        SerialSource(queue, **arguments)


def test_encode_frame_layout():
    frame = encode_frame([1.0])
    assert frame[:3] == b"\xa5\x5a\x01" and frame[3:7] == b"\x00\x00\x80\x3f"
    assert len(frame) == 9
    with pytest.raises(GesturemapError):
        encode_frame([])
    with pytest.raises(GesturemapError):
        encode_frame([0.0] * 65)


def test_a_burst_as_fast_as_the_pty_goes(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, framing="binary", channel_names=["a"]))
    wait_until(connected(source), what="the port to open")
    blob = b"".join(encode_frame([float(i)]) for i in range(20_000))
    writer = threading.Thread(target=os.write, args=(master, blob))
    writer.start()
    writer.join(10)
    assert not writer.is_alive()
    wait_until(lambda: source.stats.frames_in == 20_000, what="20000 frames")
    assert source.stats.bad_packets == 0


def test_the_first_line_after_opening_may_be_a_tail_and_is_dropped_quietly(
    queue, pty_pair, started
):
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b".5\n1.5\n1,2\n")  # ".5": the end of a line sent before the port opened
    wait_until(lambda: accounted(source) == 3)
    assert [f.values.tolist() for f in queue.drain()] == [[1, 2]]
    assert source.stats.bad_packets == 1  # "1.5" counts: it came after a whole line


def test_a_device_that_stays_away_is_said_once_a_minute_not_every_retry(queue, started,
                                                                         caplog, tmp_path):
    import logging

    with caplog.at_level(logging.WARNING, logger="gesturemap"):
        source = started(SerialSource(queue, str(tmp_path / "ttyGone"), channel_names=["a"],
                                      reopen_backoff_s=(0.01, 0.02)))
        time.sleep(1.5)  # some 75 attempts
    said = [r for r in caplog.records if "cannot open" in r.getMessage()]
    assert len(said) == 1 and source.running
    assert "every 0.02 s at most (1 tries)" in said[0].getMessage()


def test_a_comma_after_the_last_value_ends_the_line_like_any_other(queue, pty_pair, started):
    """Sketches in the Arduino Cookbook's CommaDelimitedOutput pattern print a comma after
    every value, the last too ("H,512,300,1023," then CR LF): each line is a frame (before,
    every line was refused as "not all numbers")."""
    lines = (Path(__file__).parent.parent / "data" / "sensors" / "three-channel-scope.txt"
             ).read_bytes()
    master, device = pty_pair
    source = started(SerialSource(queue, device, leading="label", label="H", separator=",",
                                  channel_names=["a0", "a1", "a2"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, lines)
    wait_until(lambda: accounted(source) == 20, what="20 lines")
    expected = [[float(v) for v in line.split(b",")[1:4]] for line in lines.splitlines()]
    assert [f.values.tolist() for f in queue.drain()] == expected
    assert source.stats.bad_packets == 0
    os.write(master, b"H,1,2,,\r\nH,1,,2\r\n")  # an empty value is no reading
    wait_until(lambda: accounted(source) == 22, what="2 more lines")
    assert source.stats.bad_packets == 2 and not queue.drain()


def test_arduino_serial_plotter_lines_give_their_values_in_order(queue, pty_pair, started):
    """What sketches print for the Arduino IDE's Serial Plotter: ``name:value`` parts
    separated by commas (and spaces), a line of names alone in setup(). Each line's values
    are a frame, in the line's order; the names-only line is no frame and no bad packet (before,
    every such line was refused as "not all numbers")."""
    data = Path(__file__).parent.parent / "data" / "sensors"
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a", "b", "c"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"\r\n")  # (a board's first line may be cut: the tests' start it whole)
    gist = (data / "serial-plotter-gist.txt").read_bytes()
    os.write(master, gist)
    wait_until(lambda: accounted(source) == 11, what="11 lines")
    expected = [[float(p.split(b":")[1]) for p in line.split(b", ")[:3]]
                for line in gist.splitlines()[1:]]
    assert [f.values.tolist() for f in queue.drain()] == expected
    assert source.stats.bad_packets == 0 and source.stats.ignored == 1
    os.write(master, b"a:1,b:2,12:30\r\n")  # a time is no name: not a number
    wait_until(lambda: accounted(source) == 12, what="the line with a time")
    assert source.stats.bad_packets == 1 and not queue.drain()


def test_the_ide2_plotter_documentations_lines_are_read(queue, pty_pair, started):
    data = Path(__file__).parent.parent / "data" / "sensors"
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["pot", "static"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"\r\n" + (data / "serial-plotter-ide2-docs.txt").read_bytes())
    wait_until(lambda: accounted(source) == 5, what="5 lines")
    assert [f.values.tolist() for f in queue.drain()] == [
        [0, 500], [17, 500], [342, 500], [1023, 500], [511, 500]]
    assert source.stats.bad_packets == 0


def test_a_boards_boot_banner_is_ignored_not_a_bad_packet(queue, pty_pair, started):
    """The MPU-6050 sketch everyone starts from prints three lines in setup() before its
    readings: normal Arduino behaviour, counted as ignored (before, all but the first were
    bad packets in the stats and the health line). Once readings flow, a line that is not
    all numbers is a bad packet again."""
    data = (Path(__file__).parent.parent / "data" / "sensors" / "mpu6050-raw-i2cdevlib.txt"
            ).read_bytes()
    master, device = pty_pair
    source = started(SerialSource(queue, device, leading="label", label="a/g:",
                                  separator="\t"))
    wait_until(connected(source), what="the port to open")
    os.write(master, data)
    wait_until(lambda: accounted(source) == 13, what="13 lines")
    stats = source.stats
    assert (stats.frames_in, stats.bad_packets) == (10, 0)
    expected = [[float(v) for v in line.split(b"\t")[1:]] for line in data.splitlines()[3:]]
    assert [f.values.tolist() for f in queue.drain()] == expected
    # the label filter leaves out any other label; without it, the banner is still no
    # bad packet
    source.stop()
    plain = started(SerialSource(queue, device, leading="label", separator="\t"))
    wait_until(connected(plain), what="the port to open again")
    os.write(master, data)
    wait_until(lambda: accounted(plain) == 13, what="13 lines")
    assert (plain.stats.frames_in, plain.stats.bad_packets, plain.stats.ignored) == (10, 0, 3)
    assert len(queue.drain()) == 10
    # text among readings (a reset the port did not see) and garbage are bad packets
    os.write(master, b"MPU6050 connection successful\r\na/g:\t\xff\xfe\t1\r\n")
    wait_until(lambda: accounted(plain) == 15, what="2 more lines")
    assert (plain.stats.bad_packets, plain.stats.ignored) == (2, 3)


def test_a_csv_header_is_ignored_and_garbage_before_readings_is_not(queue, pty_pair, started):
    """Arduino's gesture-capture sketch prints a header naming its columns, then CSV: the
    header is counted as ignored, so every line read is accounted for (before, it was read
    and then neither a frame, nor bad, nor ignored). Bytes of a wrong baud rate before the
    readings are garbage, not a banner: bad packets."""
    data = (Path(__file__).parent.parent / "data" / "sensors" / "imu-capture-tflite.txt"
            ).read_bytes()
    master, device = pty_pair
    source = started(SerialSource(queue, device))
    wait_until(connected(source), what="the port to open")
    os.write(master, data)
    wait_until(lambda: accounted(source) == 13, what="13 lines")
    stats = source.stats
    assert (stats.frames_in, stats.bad_packets, stats.ignored) == (12, 0, 1)
    assert stats.packets_in == stats.frames_in + stats.bad_packets + stats.ignored
    assert len(queue.drain()) == 12
    source.stop()
    garbled = started(SerialSource(queue, device))
    wait_until(connected(garbled), what="the port to open again")
    noise = b"\xf8\x80x\xfe\x06\r\n"
    os.write(master, noise + noise + b"\x1b[?\x07\r\n" + data.splitlines(keepends=True)[1])
    wait_until(lambda: garbled.stats.frames_in == 1, what="the reading")
    # the first line after opening may be the tail of an older one: dropped quietly
    assert (garbled.stats.bad_packets, garbled.stats.ignored) == (2, 0)
