"""The first start on a machine whose numba cache is empty, for a DTW project driven as a
Wekinator DTW client drives it: gestures recorded with ``startDtwRecording N`` …
``stopDtwRecording`` (no ``train``), then ``startRunning``.

Its templates must be usable at once, while the kernels are still being prepared: an
interpreted worker stores them and the engine steps the stream with the interpreted twins of
the DTW step kernels. Every frame after ``startRunning`` is answered from the first template
in use on (none before: the project's first template is on its way), always with one distance
per gesture of the project (+inf only for a gesture the model playing has no template of),
and the gesture performed matches (``/output_1``).
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_packet import OscPacket

from tests.stage_helpers import first_start_run, float_msg, free_port, read_stats

pytestmark = pytest.mark.timeout(120)


class _Client:
    """A Wekinator DTW client: its control messages and frames on one socket (so the engine
    reads them in the order sent), and the replies, stamped as they arrive."""

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.1)
        self.sent = 0
        self.sent_at: list[float] = []  # when each frame was sent
        self.replies: list[tuple[float, str, list]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def control(self, name: str, *args: float) -> None:
        self.tx.sendto(float_msg(f"/wekinator/control/{name}", *args), self.target)

    def gesture(self, offset: float, frames: int = 40) -> None:
        """One performance of the gesture at ``offset`` (200 frames a second)."""
        for i in range(frames):
            s = np.sin(i / 6)
            self.tx.sendto(float_msg("/wek/inputs", offset + s, offset + 0.5 * s, offset),
                           self.target)
            self.sent += 1
            self.sent_at.append(time.perf_counter())
            time.sleep(0.005)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.rx.recvfrom(65536)
            except TimeoutError:
                continue
            now = time.perf_counter()
            for timed in OscPacket(data).messages:
                self.replies.append((now, timed.message.address, list(timed.message.params)))

    def since(self, t: float, address: str = "/wek/outputs") -> list[tuple[float, str, list]]:
        return [r for r in list(self.replies) if r[1] == address and r[0] > t]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def _fresh_stats(path, after: float) -> dict:
    """The first stats written after ``after`` (time.time()); they are written every second."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if path.stat().st_mtime > after:
                now = read_stats(path)
                if now:
                    return now
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("the stats were not written again")


def test_dtw_gestures_match_at_once_while_the_kernels_are_prepared(tmp_path):
    port = free_port()
    client = _Client(port)
    run, stats = first_start_run(tmp_path, "dtw", port, client.rx.getsockname()[1])
    try:
        # gesture 1; gesture 2, during whose take gesture 1's examples are deleted (no
        # template left for a moment); gesture 1 again; then running, as a client does it
        client.control("startDtwRecording", 1)
        client.gesture(0.0)
        client.control("stopDtwRecording")
        client.control("startDtwRecording", 2)
        client.gesture(3.0, 20)
        client.control("deleteExamplesForOutput", 1)
        client.gesture(3.0, 20)
        client.control("stopDtwRecording")
        client.control("startDtwRecording", 1)
        client.gesture(0.0)
        client.control("stopDtwRecording")
        client.control("startRunning")
        running, sent_before = time.perf_counter(), client.sent
        deadline = running + 60

        def matched() -> bool:
            return bool(client.since(running, "/output_1")) and any(
                np.isfinite(r[2]).all() for r in client.since(running))

        while not matched() and time.perf_counter() < deadline:
            client.gesture(0.0)
        assert matched(), "gesture 1 was never matched"
        first = next(r[0] for r in client.since(running) if np.isfinite(r[2]).all())
        # the stats written after that answer: the kernels were still being prepared, and
        # the engine stepped with their interpreted twins
        during = _fresh_stats(stats, time.time() - (time.perf_counter() - first))
        assert during.get("preparing"), ("the first match waited for the kernels",
                                          first - running, during)
        assert "spring_step" in (during.get("interpreted_steps") or ()), during

        # the deletion taken back: gesture 1's first take matches again, two distances on
        undo = time.perf_counter()
        client.tx.sendto(float_msg("/gesturemap/undo"), client.target)
        while time.perf_counter() < deadline and not any(
                np.isfinite(r[2]).all() for r in client.since(undo + 0.5)):
            client.gesture(0.0)
        client.gesture(0.0)

        # every frame sent after startRunning answered from the first template in use on
        # (those sent before the first answer came may have found none yet)
        sent = client.sent - sent_before
        unanswered = sum(t < client.since(running)[0][0] for t in client.sent_at[sent_before:])
        wait = time.perf_counter() + 10
        while (read_stats(stats).get("frames_in") != client.sent
               or len(client.since(running)) < sent - unanswered) \
                and time.perf_counter() < wait:
            time.sleep(0.05)
        outputs = client.since(running)
        assert sent - unanswered <= len(outputs) <= sent, (len(outputs), sent, unanswered)
        assert not any(np.isnan(r[2]).any() for r in outputs)
        # one distance per gesture of the model answering: the model playing answers until
        # the one with the newest take is swapped in (gesture 1 alone, then both)
        widths = [len(r[2]) for r in outputs]
        assert set(widths) <= {1, 2} and widths[-1] == 2, widths
        assert widths == sorted(widths), widths  # never narrower again
        assert np.isfinite(outputs[-1][2]).all(), outputs[-1]
    finally:
        client.stop()
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=60)
    final = json.loads(stats.read_text())
    assert final["bad_packets"] == 0 and final["dropped_frames"] == 0, out
    # stored by the interpreted worker while the compiled one prepared the kernels
    assert final["trainings_interpreted"] >= 1, final
