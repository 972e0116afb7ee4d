"""Frame, FrameQueue, SourceStats, the rate-limited log and the source thread's error handling."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.sources import Frame, FrameQueue, Source, SourceStats
from gesturemap.utils.faults import RateLimitedLog

from .source_helpers import wait_until


def frame(i: int) -> Frame:
    return Frame(float(i), np.array([float(i)]), "test")


def test_frame_is_an_immutable_record():
    f = Frame(1.5, np.zeros(3), "osc")
    assert (f.t, f.source, f.values.shape) == (1.5, "osc", (3,))
    with pytest.raises(AttributeError):
        f.t = 2.0  # type: ignore[misc]


def test_queue_is_fifo_and_drains():
    q = FrameQueue(maxlen=10)
    for i in range(5):
        assert q.put(frame(i)) is False
    assert len(q) == 5
    assert q.get(timeout=0).t == 0.0
    assert [f.t for f in q.drain()] == [1.0, 2.0, 3.0, 4.0]
    assert q.drain() == [] and len(q) == 0


def test_full_queue_drops_the_oldest_and_counts_it():
    q = FrameQueue(maxlen=3)
    dropped = [q.put(frame(i)) for i in range(7)]
    assert dropped == [False, False, False, True, True, True, True]
    assert q.dropped == 4 and q.put_count == 7
    assert [f.t for f in q.drain()] == [4.0, 5.0, 6.0]


def test_get_times_out_and_wakes_for_a_put():
    q = FrameQueue()
    t0 = time.perf_counter()
    assert q.get(timeout=0.05) is None
    assert time.perf_counter() - t0 >= 0.045
    assert q.get(timeout=0) is None
    timer = threading.Timer(0.05, q.put, args=(frame(7),))
    timer.start()
    got = q.get(timeout=5)
    timer.join()
    assert got is not None and got.t == 7.0


def test_queue_between_threads_loses_nothing():
    q = FrameQueue(maxlen=64)  # small: the consumer must keep up through wake-ups
    n, producers = 20_000, 2
    received: list[float] = []

    def produce(offset: int) -> None:
        for i in range(n):
            q.put(Frame(float(offset + i), np.empty(0), "p"))
            if i % 64 == 0:
                time.sleep(0)  # let the consumer run, as a sensor's pauses do

    done = threading.Event()

    def consume() -> None:
        while True:
            f = q.get(timeout=0.05)
            if f is not None:
                received.append(f.t)
            elif done.is_set():
                return

    threads = [threading.Thread(target=produce, args=(k * n,)) for k in range(producers)]
    consumer = threading.Thread(target=consume)
    consumer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    consumer.join(10)
    # Whatever was dropped was counted; whatever was not dropped arrived once, in order per producer.
    assert len(received) + q.dropped == n * producers
    for k in range(producers):
        mine = [t for t in received if k * n <= t < (k + 1) * n]
        assert mine == sorted(mine) and len(set(mine)) == len(mine)


def test_queue_refuses_a_bad_size():
    with pytest.raises(GesturemapError, match="maxlen"):
        FrameQueue(maxlen=0)


def test_stats_snapshot_and_rate():
    stats = SourceStats()
    snap = stats.snapshot()
    assert snap["frames_in"] == 0 and snap["rate_hz"] == 0.0 and snap["connected"] is False
    t0 = time.perf_counter() - 1.0
    for i in range(1001):  # 1 s of frames at 1 kHz, ending now
        stats.count_frame(t0 + i / 1000)
    snap = stats.snapshot()
    assert snap["frames_in"] == 1001
    assert snap["last_frame_t"] == pytest.approx(t0 + 1.0)
    assert snap["rate_hz"] == pytest.approx(1000, rel=0.01)
    # Bursts sharing one receipt time (serial chunks) still average to the true rate.
    stats = SourceStats()
    t0 = time.perf_counter() - 2.0
    for i in range(200):  # 10 frames per 10 ms chunk for 2 s = 1 kHz
        for _ in range(10):
            stats.count_frame(t0 + i * 0.01)
    assert stats.rate_hz == pytest.approx(1000, rel=0.03)


def test_rate_reads_zero_once_the_frames_stop():
    stats = SourceStats()
    t0 = time.perf_counter() - 10.0
    for i in range(1001):
        stats.count_frame(t0 + i / 1000)
    assert stats.snapshot()["rate_hz"] == 0.0


def test_rate_limited_log_holds_back_repeats(caplog):
    log = RateLimitedLog(logging.getLogger("gesturemap.test"), interval_s=0.2)
    with caplog.at_level(logging.WARNING, logger="gesturemap.test"):
        results = [log("kind", "bad %d", i) for i in range(100)]
        assert log("other", "another kind") is True
        time.sleep(0.25)
        assert log("kind", "bad again") is True
    assert results[0] is True and not any(results[1:])
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "bad 0",
        "another kind",
        "bad again (and 99 more like this since the last message)",
    ]


class Exploding(Source):
    """A source whose step fails on a chosen call."""

    def __init__(self, queue: FrameQueue, fail_on: set[int]) -> None:
        super().__init__(queue, name="exploding", channel_names=["a", "b"])
        self.calls = 0
        self.fail_on = fail_on

    def _step(self) -> None:
        self.calls += 1
        if self.calls in self.fail_on:
            raise RuntimeError(f"failure {self.calls}")
        if self.calls <= 5:
            self._emit(float(self.calls), (self.calls, True))
        else:
            time.sleep(0.001)


def test_without_raise_mode_the_thread_counts_errors_and_carries_on(monkeypatch, caplog):
    monkeypatch.setenv("GESTUREMAP_RAISE", "0")
    q = FrameQueue()
    source = Exploding(q, fail_on={2, 3})
    with caplog.at_level(logging.ERROR, logger="gesturemap.sources"), source:
        wait_until(lambda: source.calls > 10, what="the thread to go on after errors")
        assert source.running
    assert source.stats.errors == 2
    assert isinstance(source.exception, RuntimeError)
    assert [f.values.tolist() for f in q.drain()] == [[1.0, 1.0], [4.0, 1.0], [5.0, 1.0]]
    assert any("unexpected RuntimeError" in r.getMessage() for r in caplog.records)
    source.stop()  # idempotent, and does not raise outside raise mode


def test_raise_mode_ends_the_thread_and_stop_reraises(monkeypatch):
    # tests/conftest.py sets GESTUREMAP_RAISE=1 for the whole suite.
    reported: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args.exc_value))
    source = Exploding(FrameQueue(), fail_on={3})
    source.start()
    wait_until(lambda: not source.running, what="the thread to end")
    assert source.stats.errors == 1 and isinstance(source.exception, RuntimeError)
    assert reported == [source.exception]  # the thread did not die silently
    with pytest.raises(RuntimeError, match="failure 3"):
        source.stop()
    source.stop()  # the exception is raised once


def test_emit_refuses_wrong_sizes_and_implausible_values():
    q = FrameQueue()
    source = Exploding(q, fail_on=set())
    assert source._emit(0.0, (1.0, 2.0))
    for values in [(1.0,), (1.0, 2.0, 3.0), (float("nan"), 1.0), (1.0, float("-inf")), (2e12, 0.0)]:
        assert not source._emit(0.0, values)
    assert source.stats.bad_packets == 5 and source.stats.frames_in == 1
    assert len(q) == 1


def test_size_is_learned_from_the_first_frame_when_not_declared():
    q = FrameQueue()
    source = Exploding(q, fail_on=set())
    source._channel_names, source._arity = (), None
    assert source._emit(0.0, (1, 2, 3))
    assert source.channel_names == ("in1", "in2", "in3")
    assert not source._emit(0.0, (1, 2))
    assert source.stats.bad_packets == 1


def test_a_source_needs_a_frame_queue():
    with pytest.raises(GesturemapError, match="FrameQueue"):
        Exploding([], fail_on=set())  # type: ignore[arg-type]


def test_queued_frames_carry_their_number_among_every_frame_put():
    """The engine places a command among the frames by the frames' numbers (put_count when
    each was put). A frame queued while another is being handled directly must keep its own
    number: counting back from put_count at the drain was one off there, and a window's stop
    (of a playback, a take) then took effect before a frame that had come before it."""
    q = FrameQueue(maxlen=3)
    f = [Frame(float(i), np.array([float(i)]), "test") for i in range(8)]
    for i in range(2):
        q.put(f[i])
    inner = {}

    def direct(frame):
        if frame is f[2]:  # handled here; meanwhile another thread's frame is queued
            q.set_direct(None)
            q.put(f[3])
            inner["count"] = q.put_count
            q.set_direct(direct)
            return True
        return False

    q.set_direct(direct)
    q.put(f[2])
    assert inner["count"] == 3 and q.put_count == 4
    frames, numbers, count = q.drain_numbered()
    assert count == 4
    # frame 3 was put when 2 frames had been counted: a command sent right after it (stamped
    # put_count = 3) comes after it (counting back from put_count gave it 3, the stamp's own)
    assert [fr.t for fr in frames] == [0.0, 1.0, 3.0] and numbers == [0, 1, 2]
    q.set_direct(None)
    for i in range(4, 8):  # the queue holds 3: the oldest is dropped, its number with it
        q.put(f[i])
    frames, numbers, count = q.drain_numbered()
    assert [fr.t for fr in frames] == [5.0, 6.0, 7.0] and numbers == [5, 6, 7] and count == 8
    assert q.dropped == 1 and len(q) == 0
    q.put(f[7])
    q.put(f[6])
    assert q.get(0).t == 7.0 and q.drain_numbered() == ([f[6]], [9], 10)
    q.put(f[0])
    q.put(f[1])
    assert [fr.t for fr in q.drain()] == [0.0, 1.0]


def test_outages_are_kept_and_clipped_to_a_span():
    """What a take's engine reads of a source that went away: ended outages and the one under
    way, clipped to the take; an outage ending while it is read is seen once, ended."""
    from gesturemap.live.recording import merge_gaps

    stats = SourceStats()
    assert stats.outages_between(0.0, 10.0) == []
    stats.went_away(2.0)
    stats.went_away(2.5)  # already away: the outage began at 2.0
    assert stats.outages_between(0.0, 10.0) == [(2.0, 10.0)]  # under way: to the span's end
    stats.came_back(3.5)
    assert stats.outages == ((2.0, 3.5),) and stats.away_s == 1.5
    stats.went_away(8.0)
    assert stats.outages_between(3.0, 9.0) == [(3.0, 3.5), (8.0, 9.0)]
    assert stats.outages_between(4.0, 7.0) == []
    stats.came_back(8.5)
    stats.away_since = 8.0  # read between the two writes of came_back: the ended one counts
    assert stats.outages_between(0.0, 10.0) == [(2.0, 3.5), (8.0, 8.5)]
    stats.away_since = None
    for i in range(2 * SourceStats.OUTAGES_KEPT):  # bounded
        stats.went_away(100.0 + i)
        stats.came_back(100.5 + i)
    assert len(stats.outages) == SourceStats.OUTAGES_KEPT
    # two sources away at once make one gap; times from the take's start, to the ms
    assert merge_gaps([(5.0, 6.5), (2.0, 3.0), (6.0, 7.25)], t0=1.0) == (
        (1.0, 1.0), (4.0, 2.25))
