"""Per-frame cost of the HHMM's time-warp speed (``gm.HHMM(estimate_speed=True)``): p50 / p90 of
``stream.step`` with the estimate off and on, at the package's defaults and at the defaults of
with the earlier defaults (``relative_regularization`` 0.01; the lag does not reach a model without
deltas).

The shape of the time-warp speed measurement: XMM's reference
workload's shape, 5 classes x 5 takes x 200 frames of 6 inputs, 10 states, no deltas (so
``covariance="auto"`` is full under either of its thresholds). Synthetic takes; the stepped
frames are one take of each class in turn, over and over. The four streams are stepped frame
by frame in turn, so that all see the same machine load; ``--rounds`` rounds of ``--frames``
steps each.

    PYTHONPATH=. python3 -m benchmarks.hhmm_speed_step [--rounds 3] [--frames 2000]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np

import gesturemap as gm


def _data(rng: np.random.Generator) -> gm.Dataset:
    ds = gm.Dataset()
    t = np.linspace(0, 1, 200)[:, None]
    for c in range(5):
        freq = rng.uniform(0.5, 2.0, 6)
        phase = rng.uniform(0, 2 * np.pi, 6)
        for _ in range(5):
            x = np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.05, (200, 6))
            ds.add(x, label=str(c))
    return ds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    ds = _data(rng)
    settings = {"today": {}, "before 10f": {"relative_regularization": 0.01}}
    models = {k: gm.HHMM(states=10, deltas=False, **p).fit(ds) for k, p in settings.items()}
    streams = {}
    for k, m in models.items():
        for on in (False, True):
            streams[f"{k}, speed {'on' if on else 'off'}"] = copy.deepcopy(m).set_params(
                estimate_speed=on).stream()
    frames = np.vstack([ds[i * 5].inputs for i in range(5)])
    for s in streams.values():  # warm-up: kernels compiled or loaded from the cache
        for f in frames[:200]:
            s.step(f)
    for r in range(args.rounds):
        times = {k: np.empty(args.frames) for k in streams}
        for s in streams.values():
            s.reset()
        for t in range(args.frames):
            f = frames[t % len(frames)]
            for k, s in streams.items():
                t0 = time.perf_counter_ns()
                s.step(f)
                times[k][t] = (time.perf_counter_ns() - t0) / 1e3
        print(f"round {r + 1}: " + "; ".join(
            f"{k} p50 {np.median(v):.1f} p90 {np.percentile(v, 90):.1f} us"
            for k, v in times.items()), flush=True)


if __name__ == "__main__":
    main()
