"""In-process cost of one frame on the compiled path (``engine_wire._compiled``) and on the
ordinary path (the OSC source's decoder, then ``Engine._direct``), for ``Engine`` and the
window's ``WindowEngine``, on the HHMM reference project.

No socket is timed: the replies go to a sink that drops them, and the datagrams are handed to
the engine as the OSC source would after ``recv_into``. ``timeit``: the best of ``--repeat``
rounds of ``--number`` frames, in µs per frame. "Without the kernel": the compiled path's
Python alone (lock, checks, sends, the frame kept), the kernel's call replaced by its last
answer.

    python3 benchmarks/bench_compiled_call.py [--number 2000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np


class _Drop:
    """A socket whose ``sendto`` drops the datagram (the cost of sending is not measured)."""

    def sendto(self, data: object, target: object) -> int:
        return 0

    def close(self) -> None:
        pass


def _datagrams(frames: np.ndarray) -> list[np.ndarray]:
    from pythonosc.osc_message_builder import OscMessageBuilder

    out = []
    for f in frames:
        b = OscMessageBuilder("/wek/inputs")
        for v in f:
            b.add_arg(float(v), "f")
        out.append(np.frombuffer(b.build().dgram, dtype=np.uint8).copy())
    return out


def _measure(cls: type, folder: Path, frames: np.ndarray, number: int,
             repeat: int) -> dict[str, float]:
    from gesturemap.project import Project

    engine = cls(Project.load(folder), osc_in=("127.0.0.1", 0), osc_out=("127.0.0.1", 9),
                 trainer="thread").start()
    try:
        deadline = time.monotonic() + 120
        while engine.stats()["compiled"] == "compiling" and time.monotonic() < deadline:
            time.sleep(0.05)
        src = engine.sources[0]
        engine.output._sock = _Drop()
        # the engine's own threads end first: the engine thread, woken every 1/30 s, could take
        # the frame lock while the timed loop holds the GIL (the kernel releases it), and keep
        # it for a GIL switch interval (5 ms) in which every timed call is refused
        engine._stop.set()
        for t in engine._threads:
            if t.name != "gesturemap-io":
                t.join(5)
        engine._stop.clear()
        packets = _datagrams(frames)
        raw = [bytes(p) for p in packets]
        compiled = engine._compiled
        message = src._message
        perf = time.perf_counter
        out: dict[str, float] = {"state": engine.stats()["compiled"]}
        it = itertools.cycle(packets)
        taken = [0]

        def one_compiled() -> None:
            p = next(it)
            taken[0] += compiled(p, len(p), perf())

        it2 = itertools.cycle(raw)

        def one_plain() -> None:
            message(next(it2), perf())

        for name, fn in (("compiled", one_compiled), ("plain", one_plain)):
            fn()
            best = min(timeit.repeat(fn, number=number, repeat=repeat))
            out[f"{name}_us"] = best / number * 1e6
        out["taken"] = taken[0] / (1 + number * repeat)
        # the compiled path's Python alone: the kernel's call replaced by its last answer
        wire = engine._wire
        if wire is not None and out["taken"] > 0:
            wire.step = lambda rx, n: 0  # res and the reply bytes: the last frame's
            one_compiled()
            best = min(timeit.repeat(one_compiled, number=number, repeat=repeat))
            out["python_us"] = best / number * 1e6
        return out
    finally:
        engine.stop()


def main() -> None:
    from gesturemap.bench import latency as bench_latency
    from gesturemap.bench import load_workload
    from gesturemap.gui.session import WindowEngine
    from gesturemap.live.engine import Engine

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--number", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    workload = load_workload()
    frames = workload.test_frames[:500]
    with tempfile.TemporaryDirectory() as tmp:
        folder = bench_latency._project(Path(tmp) / "proj", workload)
        for cls in (Engine, WindowEngine):
            r = _measure(cls, folder, frames, args.number, args.repeat)
            python = f"{r['python_us']:5.2f}" if "python_us" in r else "  -  "
            print(f"{cls.__name__:13s} kernel {r['state']:6s} compiled path "
                  f"{r['compiled_us']:6.2f} µs/frame (taken {100 * r['taken']:.0f} %; without "
                  f"the kernel {python}), ordinary path {r['plain_us']:6.2f} µs/frame")


if __name__ == "__main__":
    main()
