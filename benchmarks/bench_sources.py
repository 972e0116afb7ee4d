"""Cost of the sensor sources: frame queue, OSC decoding, loopback latency and loss-free rate.

Run: ``python benchmarks/bench_sources.py`` (about 30 s; ``--quick`` for about 10 s).

What it measures
- ``FrameQueue``: put + get of one frame in one thread; Frame creation.
- OSC decoding of one 6-float ``/wek/inputs`` message: gesturemap's parser vs python-osc's
  ``OscPacket`` (what a raw socket + python-osc would use) and ``OscMessage``.
- Loopback latency, packet sent -> frame in the queue (the source's receipt time) and -> frame
  taken by a consumer blocked in ``queue.get()`` (what the engine sees), at 200 and 1000
  packets/s, for ``OSCSource`` and for python-osc's ``BlockingOSCUDPServer`` doing the same
  work in its handler. The sender is another process (both use CLOCK_MONOTONIC).
- The highest send rate at which nothing is lost (1 s bursts, sender in another process).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from timeit import Timer

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pythonosc.dispatcher import Dispatcher  # noqa: E402
from pythonosc.osc_message import OscMessage  # noqa: E402
from pythonosc.osc_message_builder import OscMessageBuilder  # noqa: E402
from pythonosc.osc_packet import OscPacket  # noqa: E402
from pythonosc.osc_server import BlockingOSCUDPServer  # noqa: E402

from gesturemap.sources import Frame, FrameQueue, OSCSource  # noqa: E402
from gesturemap.sources.osc import decode_message  # noqa: E402


def per_call_us(statement, number: int) -> float:
    """Best of five runs, in microseconds per call."""
    timer = Timer(statement)
    return min(timer.repeat(5, number)) / number * 1e6


def packet(t: float, i: int) -> bytes:
    builder = OscMessageBuilder("/wek/inputs")
    builder.add_arg(t, "d")
    builder.add_arg(float(i), "d")
    for x in (0.1, 0.2, 0.3, 0.4):
        builder.add_arg(x, "f")
    return builder.build().dgram


def send(port: int, rate_hz: float, n: int) -> None:
    """Sender process: n packets paced at rate_hz, each carrying its send time (perf_counter)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.perf_counter()
    for i in range(n):
        due = start + i / rate_hz if rate_hz != float("inf") else 0.0
        # Sleep most of the wait (a spinning sender would take a core from the receiver on a
        # 2-core machine), spin the last 0.2 ms for accurate pacing.
        remaining = due - time.perf_counter()
        if remaining > 0.0004:
            time.sleep(remaining - 0.0002)
        while time.perf_counter() < due:
            pass
        sock.sendto(packet(time.perf_counter(), i), ("127.0.0.1", port))


class PythonOscServer:
    """python-osc's BlockingOSCUDPServer, its handler doing what OSCSource does per message."""

    def __init__(self, queue: FrameQueue) -> None:
        dispatcher = Dispatcher()
        dispatcher.map("/wek/inputs", self._handle)
        self.queue = queue
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)

    def _handle(self, address: str, *args: float) -> None:
        t = time.perf_counter()
        self.queue.put(Frame(t, np.array(args, dtype=np.float64), "osc"))

    def start(self) -> PythonOscServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(kind: str, rate_hz: float, n: int) -> tuple[list[float], list[float], int]:
    """Latencies (receipt, consumer) in microseconds and frames received, for one burst.

    ``rate_hz=inf`` sends as fast as the sender can.
    """
    queue = FrameQueue(maxlen=1_000_000)
    receiver = (
        OSCSource(queue, {"/wek/inputs": 6}, port=0)
        if kind == "OSCSource"
        else PythonOscServer(queue)
    )
    receiver.start()
    receipt: list[float] = []
    taken: list[float] = []
    received = 0

    def consume() -> None:
        nonlocal received
        while True:
            frame = queue.get(timeout=0.5)
            if frame is None:
                return
            now = time.perf_counter()
            received += 1
            receipt.append((frame.t - frame.values[0]) * 1e6)
            taken.append((now - frame.values[0]) * 1e6)

    consumer = threading.Thread(target=consume)
    consumer.start()
    sender = mp.get_context("fork").Process(target=send, args=(receiver.port, rate_hz, n))
    sender.start()
    sender.join()
    consumer.join()
    receiver.stop()
    return receipt, taken, received


def percentiles(values: list[float]) -> str:
    if not values:
        return "      -        -"
    p50, p99 = np.percentile(values, [50, 99])
    return f"{p50:7.0f}  {p99:7.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    quick = parser.parse_args().quick

    print("Frame queue and decoding (one thread), microseconds per call")
    queue = FrameQueue()
    frame = Frame(0.0, np.zeros(6), "osc")
    values = np.zeros(6)
    print(
        f"  Frame(t, values, source)           {per_call_us(lambda: Frame(0.0, values, 'osc'), 200_000):6.2f}"
    )

    def put_get() -> None:
        queue.put(frame)
        queue.get(0)

    print(f"  FrameQueue put + get               {per_call_us(put_get, 200_000):6.2f}")
    data = packet(0.0, 1)
    print(
        f"  decode_message (gesturemap)        {per_call_us(lambda: decode_message(data), 100_000):6.2f}"
    )
    print(
        f"  OscMessage (python-osc)            {per_call_us(lambda: OscMessage(data), 20_000):6.2f}"
    )
    print(
        f"  OscPacket (python-osc)             {per_call_us(lambda: OscPacket(data), 20_000):6.2f}"
    )

    seconds = 2 if quick else 5
    print(f"\nLoopback latency, sender in another process, {seconds} s per run, microseconds")
    print("  receiver              rate/s   receipt p50  p99   consumer p50  p99   lost")
    for kind in ("OSCSource", "BlockingOSCUDPServer"):
        for rate in (200, 1000):
            n = rate * seconds
            receipt, taken, received = run(kind, rate, n)
            print(
                f"  {kind:<20}  {rate:6d}   {percentiles(receipt)}    {percentiles(taken)}   {n - received}"
            )

    print("\nHighest rate without loss (1 s bursts)")
    rates = [2000, 5000, 10_000, 20_000, 40_000] if not quick else [5000, 20_000]
    for kind in ("OSCSource", "BlockingOSCUDPServer"):
        best = 0
        results = []
        for rate in rates:
            _, taken, received = run(kind, rate, rate)
            lost = rate - received
            results.append(f"{rate}/s lost {lost}")
            if lost == 0:
                best = rate
            p50 = statistics.median(taken) if taken else float("nan")
            results[-1] += f" (consumer p50 {p50:.0f} us)"
        print(f"  {kind:<20}  loss-free up to {best}/s: " + "; ".join(results))

    n = 50_000 if quick else 200_000
    print(f"\nSustained receive rate: {n} packets from an unpaced sender")
    for kind in ("OSCSource", "BlockingOSCUDPServer"):
        t0 = time.perf_counter()
        receipt, _, received = run(kind, float("inf"), n)
        elapsed = time.perf_counter() - t0 - 0.5  # the consumer waits 0.5 s for more at the end
        print(f"  {kind:<20}  received {received} of {n} ({received / elapsed:,.0f} frames/s)")


if __name__ == "__main__":
    main()
