"""Serial counters mean what their names say, over a real pseudo-terminal: every bad
packet was also counted in, so ``packets_in == frames_in + bad_packets`` (+ ignored)."""

from __future__ import annotations

import os
import random

from gesturemap.sources import SerialSource, encode_frame

from .source_helpers import wait_until
from .test_sources_serial import connected


def test_a_dropped_overlong_line_is_counted_in_and_bad(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, channel_names=["a"]))
    wait_until(connected(source), what="the port to open")
    os.write(master, b"1" * 5000)
    wait_until(lambda: source.stats.bad_packets == 1, what="the long line to be refused")
    os.write(master, b"\n2\n")
    wait_until(lambda: source.stats.frames_in == 1)
    stats = source.stats
    assert stats.packets_in == stats.frames_in + stats.bad_packets + stats.ignored


def test_garbage_between_binary_frames_is_counted_in_and_bad(queue, pty_pair, started):
    master, device = pty_pair
    source = started(SerialSource(queue, device, framing="binary", channel_names=["a", "b"]))
    wait_until(connected(source), what="the port to open")
    rng = random.Random(4)
    n = 200
    for i in range(n):
        garbage = bytes(rng.choice(range(0x10, 0xA0)) for _ in range(rng.randrange(1, 9)))
        os.write(master, garbage + encode_frame([float(i), 1.0]))
    wait_until(lambda: source.stats.frames_in == n, what="every frame")
    stats = source.stats
    assert stats.bad_packets >= n - 1  # the very first run may be taken as a stale tail
    assert stats.packets_in == stats.frames_in + stats.bad_packets
