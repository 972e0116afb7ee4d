"""GVF's step time against the particle count, ``gm.GVF()`` as shipped (the "step time
p50/p99 against particle count"): ``gvf_eval.step_times`` (``stream.step`` with its Result,
rounds interleaved across the counts and variants so that a busy moment hits all alike; the
median over rounds of each round's p50 and p99) on the held-out subjects' frames of 18p's
split, the models fitted on its training subjects. The variants step_times adds (without the
start posture, without the recognizer, with the particles' own speed or scale) are measured
in the same rounds. Run it on a quiet machine::

    python3 -m experiments.gvf_step_particles --out docs/gvf_step_particles.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from experiments import gvf_eval as ge  # noqa: E402

COUNTS = (100, 250, 500, 1000, 2000, 5000)
#: inputs of the studio project (20 gestures, benchmarks/studio_scale.py's takes) and the
#: particle counts timed on each: a frame's cost grows with particles x inputs
CHANNELS = (6, 20, 60)
STUDIO_COUNTS = (250, 1000)


def by_channels(rounds: int) -> dict:
    """p50 / p99 of ``gm.GVF(n)``'s step on a 20-gesture studio project of each of
    :data:`CHANNELS` inputs (its held-out takes streamed; rounds interleaved)."""
    import gesturemap as gm
    from benchmarks.studio_scale import studio_dataset

    streams, frames = {}, {}
    for d in CHANNELS:
        ds, held = studio_dataset(channels=d)
        frames[d] = np.vstack([x for _, x in held])[:1500]
        for n in STUDIO_COUNTS:
            streams[(d, n)] = gm.GVF(n).fit(ds).stream()
    per: dict = {key: [] for key in streams}
    for _ in range(rounds):
        for (d, n), s in streams.items():
            per[(d, n)].append(ge.timed_round(s, frames[d]))
    out = {}
    for (d, n), r in per.items():
        out[f"{d} inputs, {n} particles"] = {
            "p50_ms": float(np.median([a for a, _ in r])),
            "p99_ms": float(np.median([b for _, b in r])), "rounds_ms": r}
        print("studio", d, n, out[f"{d} inputs, {n} particles"], flush=True)
    return out


def table(steps: dict, counts) -> str:
    """A markdown table: per count, ``gm.GVF()``'s p50 / p99 and each variant's."""
    variants = [v for v in steps if not isinstance(v, int)]
    head = "| particles | p50 ms | p99 ms | " + " | ".join(
        f"{v} p50 / p99" for v in variants) + " |"
    lines = [head, "|" + "---|" * (3 + len(variants))]
    for n in counts:
        row = steps[n]
        cells = [f"{steps[v][n]['p50_ms']:.3f} / {steps[v][n]['p99_ms']:.3f}" for v in variants]
        lines.append(f"| {n} | {row['p50_ms']:.3f} | {row['p99_ms']:.3f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_step_particles.json"))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    saved = json.loads((ROOT / "docs" / "gvf_align_18p.json").read_text())
    takes, labels, train_idx, test_idx = ge.saved_split(saved)
    x = np.vstack([takes[i] for i in test_idx[:20]])[:3000]
    before = list(os.getloadavg())
    t0 = time.perf_counter()
    steps = ge.step_times(ge.dataset(takes, labels, train_idx), x, COUNTS, {}, args.rounds)
    report = {"counts": list(COUNTS), "rounds": args.rounds, "frames": len(x),
              "inputs": int(x.shape[1]), "classes": len(set(labels[i] for i in train_idx)),
              "load_average_before_after": [before, list(os.getloadavg())],
              "seconds": time.perf_counter() - t0,
              "step_time": {str(k): v for k, v in steps.items()}}
    report["studio_by_channels"] = by_channels(max(2, args.rounds // 2))
    report["load_average_after_studio"] = list(os.getloadavg())
    Path(args.out).write_text(json.dumps(report, indent=1, default=float))
    print(table(steps, COUNTS))
    for key, row in report["studio_by_channels"].items():
        print(f"| {key} | {row['p50_ms']:.3f} | {row['p99_ms']:.3f} |")


if __name__ == "__main__":
    main()
