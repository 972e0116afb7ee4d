"""Synth callback time: p50/p99 for 128-frame blocks at 48 kHz with every voice active.

Runs the callback's own compiled code (control table read + render kernel) offline, on blocks
the size PortAudio hands over, while the FM voice, the sample follower and 8 one-shot voices
all play. Usage: ``python benchmarks/bench_synth.py [blocks]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from gesturemap.synth import Synth, SynthMapping


def main(blocks: int = 20000) -> dict[str, float]:
    names = [f"c{i}" for i in range(8)]
    sounds = ["bell", "chime", "pluck", "wood", "bell", "chime", "pluck", "wood"]
    synth = Synth(SynthMapping(oneshots=dict(zip(names, sounds, strict=True))))
    synth._bind_classes(names)  # as the first update() of a model with these classes does
    synth.set_parameters(
        pitch_hz=220.0,
        loudness=0.3,
        mod_depth=3.0,
        vibrato_depth=0.3,
        follower_gain=0.5,
        follower_position=0.4,
        oneshot_gain=0.3,
    )
    out = np.zeros((128, 2), dtype=np.float32)
    times = np.empty(blocks)
    for i in range(blocks):
        if i % 100 == 0:  # keep all 8 one-shot voices busy
            for c in range(8):
                synth.trigger(c)
        synth.set_parameters(follower_position=(i % 1000) / 1000)
        t0 = time.perf_counter_ns()
        synth._render_into(out)
        times[i] = (time.perf_counter_ns() - t0) / 1e3
    res = {
        "callback_us_p50": float(np.percentile(times, 50)),
        "callback_us_p99": float(np.percentile(times, 99)),
        "block_budget_us": 128 / 48000 * 1e6,
    }
    print(res, synth.stats()["oneshots_played"], "one-shots")
    return res


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
