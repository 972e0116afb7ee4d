"""Cost of session logging and accuracy of replay.

Run: ``python benchmarks/bench_log.py`` (about 15 s; ``--quick`` for about 5 s).

What it measures
- ``SessionLog.write`` of one 6-value frame, as the engine calls it (median per call).
- The writer thread's throughput: rows of 20 values formatted, written and fsynced per second.
- What the writer costs the real-time thread: a 200 Hz loop (the engine's rate) that sleeps to
  each frame's due time and logs four streams (6 + 12 + 20 values + a label every second), its
  wake-up lateness p50 / p99 with the log and without.
- ``ReplaySource`` at speed 1 on a 200 Hz log: when frames reach a consumer blocked in
  ``queue.get()``, against the recorded times (p50 / p99 / max error).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from timeit import Timer

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gesturemap.log import SessionLog  # noqa: E402
from gesturemap.sources import FrameQueue  # noqa: E402
from gesturemap.sources.replay import ReplaySource  # noqa: E402

STREAMS = {
    "input": [f"in{i}" for i in range(6)],
    "features": [f"f{i}" for i in range(12)],
    "outputs": [f"o{i}" for i in range(20)],
}


def write_cost_us(folder: Path) -> float:
    log = SessionLog(folder, STREAMS, max_queued=10_000_000)
    frame = np.random.default_rng(0).normal(size=6)
    timer = Timer(lambda: log.write("input", 1.0, frame))
    best = min(timer.repeat(5, 20_000)) / 20_000 * 1e6
    log.close()
    return best


def writer_rows_per_s(folder: Path, rows: int) -> float:
    log = SessionLog(folder, STREAMS, max_queued=rows + 1)
    frame = np.random.default_rng(1).normal(size=20)
    for i in range(rows):
        log.write("outputs", float(i), frame)
    start = time.perf_counter()
    log.close()
    return rows / (time.perf_counter() - start)


def loop_lateness_us(folder: Path | None, seconds: float) -> tuple[float, float]:
    log = None if folder is None else SessionLog(folder, STREAMS)
    rng = np.random.default_rng(2)
    frames = {name: rng.normal(size=len(cols)) for name, cols in STREAMS.items()}
    period = 1 / 200
    late = []
    start = time.perf_counter()
    for i in range(int(seconds * 200)):
        due = start + i * period
        while (wait := due - time.perf_counter()) > 0:
            time.sleep(wait)
        now = time.perf_counter()
        late.append(now - due)
        if log is not None:
            for name, values in frames.items():
                log.write(name, now, values)
            if i % 200 == 0:
                log.label(now, f"gesture{i // 200}")
    if log is not None:
        log.close()
    late_us = np.array(late[20:]) * 1e6
    return float(np.median(late_us)), float(np.percentile(late_us, 99))


def replay_error_ms(folder: Path, seconds: float) -> tuple[float, float, float]:
    n = int(seconds * 200)
    with SessionLog(folder, {"input": ["x"]}, t0=0.0) as log:
        for i in range(n):
            log.write("input", i / 200, [float(i)])
    queue = FrameQueue()
    source = ReplaySource(queue, folder, speed=1.0).start()
    arrivals = []
    while len(arrivals) < n:
        frame = queue.get(timeout=2.0)
        if frame is None:
            break
        arrivals.append(time.perf_counter())
    source.stop()
    error = np.abs((np.array(arrivals) - arrivals[0]) - np.arange(len(arrivals)) / 200) * 1e3
    return float(np.median(error)), float(np.percentile(error, 99)), float(error.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    args = parser.parse_args()
    seconds = 1.5 if args.quick else 5.0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"SessionLog.write, 6 values:           {write_cost_us(root / 'a'):.2f} us per call")
        rows = 50_000 if args.quick else 200_000
        print(
            f"writer thread, 20-value rows:         {writer_rows_per_s(root / 'b', rows):,.0f} rows/s"
        )
        bare = loop_lateness_us(None, seconds)
        logged = loop_lateness_us(root / "c", seconds)
        print(
            f"200 Hz loop lateness p50 / p99:       {bare[0]:.0f} / {bare[1]:.0f} us without a log, "
            f"{logged[0]:.0f} / {logged[1]:.0f} us logging 4 streams"
        )
        p50, p99, worst = replay_error_ms(root / "d", seconds)
        print(
            f"replay at speed 1, 200 Hz:            error p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
            f"max {worst:.3f} ms"
        )


if __name__ == "__main__":
    main()
