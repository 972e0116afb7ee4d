"""The HHMM's ``covariance="auto"`` threshold: retrain and step cost, 1 (now) against 2 (before).

Issue 10g moved the HHMM's threshold from 2 to 1 frame per state per model dimension. This
measures what that costs, interleaved in one process (``rounds`` times each): the scaling
benchmark's synthetic workload (``bench_scaling.measure``: retrain median of 3, step p50 / p99
over 2,000 frames) at 20 gestures x 60 channels with 5 takes a class (750 frames: diagonal
under both) and 10 takes (1,500 frames: full at 1, diagonal at 2), and a stream's step over
JapaneseVowels' test takes (``gm.HHMM()`` trained on its standardised training split: 9 of 9
classes full at 1, 4 at 2). No setting is chosen here.

    PYTHONPATH=. nice -n 10 python3 benchmarks/hhmm_auto_threshold_cost.py [rounds]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_scaling  # noqa: E402

from benchmarks import defaults_lodo  # noqa: E402
from gesturemap.models import hhmm as hhmm_module  # noqa: E402


def vowels_step(reps: int = 3) -> tuple[int, float, float]:
    """Classes trained full, and a stream's step p50 / p99 (µs) over vowels' test takes."""
    d = defaults_lodo.load("vowels")[0]
    tr, te = defaults_lodo.standardised(d.train, d.test)
    model = defaults_lodo.build("hhmm", {}).fit(defaults_lodo.dataset(tr, d.ytrain))
    full = sum(c["covariance"] == "full" for c in model.class_params_)
    stream, samples = model.stream(), []
    for _ in range(reps):
        for x in te:
            stream.reset()
            for f in x:
                t0 = time.perf_counter_ns()
                stream.step(f)
                samples.append((time.perf_counter_ns() - t0) / 1e3)
    return full, float(np.percentile(samples, 50)), float(np.percentile(samples, 99))


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 2
    shipped = hhmm_module.HHMM_AUTO_FULL_FRAMES_PER_DIM
    bench_scaling.measure("hhmm", 2, 3, 2, repeats=1, frames=10)  # warm-up
    try:
        for rnd in range(rounds):
            for threshold in (1.0, 2.0):
                hhmm_module.HHMM_AUTO_FULL_FRAMES_PER_DIM = threshold
                for takes in (5, 10):
                    r = bench_scaling.measure("hhmm", 20, 60, takes, repeats=3)
                    print(f"round {rnd} threshold {threshold} 20x60x{takes}: retrain "
                          f"{r['retrain_s']:.3f} s, step p50 {r['step_us_p50']:.0f} us, p99 "
                          f"{r['step_us_p99']:.0f} us, held-out {r['held_out_takes_correct']}/"
                          f"{r['held_out_takes']}", flush=True)
                full, p50, p99 = vowels_step()
                print(f"round {rnd} threshold {threshold} vowels: {full}/9 classes full, step "
                      f"p50 {p50:.1f} us, p99 {p99:.1f} us", flush=True)
    finally:
        hhmm_module.HHMM_AUTO_FULL_FRAMES_PER_DIM = shipped
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
