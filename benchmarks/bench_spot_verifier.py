"""Per-frame cost of the spotting verifier: p50 / p90 of ``SpottingStream.step`` with and without
a verifier (the ring write every frame; the verification itself only at an emission), and with
one that reads the posture once the movement settles (wait (25, 60): a stillness test on each
frame while an event waits), with a context relabeller (1 s before each start,
0.5 s after each emission), and with a window detector of the default size (100 trees of at
most 256 leaves; statistics of the last 4 s every 5 frames).

HAPT's shape: 6 input channels, 6 gesture classes of an HHMM with 10 states and a null class of
one state of 8 Gaussians, the package's default spotting settings; a verifier of the right
shape (random weights: its cost does not depend on them). Streams alternate frame by frame
so that both see the same machine load.

    PYTHONPATH=. python3 -m benchmarks.bench_spot_verifier [--frames 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gesturemap as gm
from gesturemap.models.spotting.verifier import NULL, SpotVerifier, settle_window, settled


def _data(rng: np.random.Generator) -> gm.Dataset:
    ds = gm.Dataset()
    for c in range(6):
        centre = rng.normal(0, 1, 6)
        for _ in range(8):
            n = int(rng.integers(60, 100))
            ramp = np.linspace(0, 1, n)[:, None]
            ds.add(centre + ramp * (c + 1) / 3 + rng.normal(0, 0.05, (n, 6)), label=str(c))
    for _ in range(8):
        ds.add(rng.normal(0, 0.3, (100, 6)), label=gm.NULL)
    return ds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=20000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    model = gm.HHMM(states=10, class_params={gm.NULL: {"states": 1, "gaussians": 8}}
                    ).fit(_data(rng))
    classes = [str(c) for c in range(6)]
    width = 4 * 6 + 1 + len(classes) + 1
    verifier = SpotVerifier(classes, [*classes, NULL], rng.normal(0, 1, width),
                            rng.uniform(0.5, 2, width), rng.normal(0, 1, (7, width)),
                            rng.normal(0, 1, 7))
    w2 = width + 2 * 6 + 2
    settling = SpotVerifier(classes, [*classes, NULL], rng.normal(0, 1, w2),
                            rng.uniform(0.5, 2, w2), rng.normal(0, 1, (7, w2)),
                            rng.normal(0, 1, 7), wait=25, settle=60)
    w3 = width + 2 * (2 * 6 + 2)  # a relabeller: 1 s before, 0.5 s after
    relabelling = SpotVerifier(classes, classes, rng.normal(0, 1, w3), rng.uniform(0.5, 2, w3),
                               rng.normal(0, 1, (6, w3)), rng.normal(0, 1, 6), context=50,
                               wait=25)
    # a detector of the default size and settings, fitted on noise labelled in 2 s blocks:
    # its trees grow to their 256 leaves (its cost depends on their size and depth, not on
    # what they learnt)
    noise = rng.normal(0, 1, (30000, 6))
    blocks = rng.choice([NULL, *classes], 300)
    detector = gm.fit_detector([noise], [np.repeat(blocks, 100)], gestures=classes)
    streams = {"without": gm.Spotter(model).stream(),
               "with": gm.Spotter(model, verifier=verifier).stream(),
               "settling": gm.Spotter(model, verifier=settling).stream(),
               "relabelling": gm.Spotter(model, verifier=relabelling).stream(),
               "detector": gm.Spotter(model, detector=detector).stream()}
    x = rng.normal(0, 0.5, (args.frames, 6))
    times = {k: np.empty(args.frames) for k in streams}
    events = dict.fromkeys(streams, 0)
    for s in streams.values():  # compile and warm
        for f in x[:200]:
            s.step(f)
    for t, f in enumerate(x):
        for k, s in streams.items():
            t0 = time.perf_counter_ns()
            r = s.step(f)
            times[k][t] = (time.perf_counter_ns() - t0) / 1e3
            events[k] += r.event is not None
    print(f"ring: {streams['with']._ring.shape} frames x channels; {args.frames} frames; "
          f"detector: {detector.nodes} nodes")
    for k, v in times.items():
        print(f"{k:11s}: step p50 {np.median(v):.1f} us, p90 {np.percentile(v, 90):.1f} us, "
              f"mean {np.mean(v):.1f} us, events {events[k]}")
    # one verification (at an emission): an event of 100 frames, read from the ring
    s = streams["with"]
    ev = gm.Event("0", s._t - 100, s._t - 20, s._t - 1, 50.0)
    cost = np.empty(1000)
    for k in range(len(cost)):
        t0 = time.perf_counter_ns()
        s._verify(ev, ev.emitted, s._ring_rows)
        cost[k] = (time.perf_counter_ns() - t0) / 1e3
    print(f"one verification (100 frames): p50 {np.median(cost):.1f} us, "
          f"failures {s.verifier_failures}")
    s = streams["relabelling"]
    ev = gm.Event("0", s._t - 150, s._t - 70, s._t - 51, 50.0)  # read 25 frames after it
    for k in range(len(cost)):
        t0 = time.perf_counter_ns()
        s._verify(ev, ev.emitted + 25, s._ring_rows)
        cost[k] = (time.perf_counter_ns() - t0) / 1e3
    print(f"one relabelling (80 frames, 50 before, 25 after): p50 {np.median(cost):.1f} us, "
          f"failures {s.verifier_failures}")
    # one stillness test (each frame while an event waits for the movement to settle)
    s = streams["settling"]
    for k in range(len(cost)):
        t0 = time.perf_counter_ns()
        settled(s._ring_rows(*settle_window(s._t - 1)))
        cost[k] = (time.perf_counter_ns() - t0) / 1e3
    print(f"one stillness test (101 frames from the ring): p50 {np.median(cost):.1f} us")


if __name__ == "__main__":
    main()
