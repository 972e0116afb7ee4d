"""How long stopping a take holds the engine's frames, against the take's length.

Run: ``python -m benchmarks.take_stop`` (about half a minute).

What it measures
- An engine (no sources, a kNN project) records takes of 1,000 to 200,000 frames of 64
  inputs (500 frames/s for 2 s to 6.7 minutes), written by the frame path's own recording
  (``Engine._record``).
- The time of the stop command on the engine thread (``_cmd_stop_recording``: the take handed
  over to the project, saved later by the I/O thread): what the frames arriving meanwhile
  wait. Medians of 5 stops per length. A take kept as a list of frames turned into an array
  at its stop held them 139 ms for 60,000 frames on the machine the probe ran on.
- The resident memory the take's frames add (bytes per value: 8 is the float64 itself).
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH = 64
LENGTHS = (1_000, 10_000, 60_000, 200_000)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def main() -> None:
    from gesturemap.live.engine import Engine
    from gesturemap.project import Project

    rng = np.random.default_rng(0)
    row = rng.normal(size=WIDTH)
    print(f"{'frames':>8} {'stop ms (median of 5)':>22} {'bytes per value':>16}")
    for length in LENGTHS:
        stops, per_value = [], []
        for _ in range(5):
            project = Project("bench", classes=["a"], model="knn")
            engine = Engine(project, osc_in=None, trainer="thread")
            engine._cmd_start_recording("a")
            before = _rss_bytes()
            for i in range(length):
                engine._record(row, i / 500.0)
            per_value.append((_rss_bytes() - before) / (length * WIDTH))
            t0 = time.perf_counter()
            engine._cmd_stop_recording()
            stops.append((time.perf_counter() - t0) * 1e3)
            assert project.takes[-1].length == length
        print(f"{length:>8} {statistics.median(stops):>22.2f} "
              f"{statistics.median(per_value):>16.1f}")


if __name__ == "__main__":
    main()
