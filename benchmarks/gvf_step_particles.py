"""GVF's step time against the particle count, ``gm.GVF()`` as shipped (issue 18's "step time
p50/p99 against particle count"): ``gvf_eval.step_times`` (``stream.step`` with its Result,
rounds interleaved across the counts and variants so that a busy moment hits all alike; the
median over rounds of each round's p50 and p99) on the held-out subjects' frames of 18p's
split, the models fitted on its training subjects. The variants step_times adds (without the
start posture, without the recognizer, with the particles' own speed or scale) are measured
in the same rounds. Run it on a quiet machine::

    python3 benchmarks/gvf_step_particles.py --out docs/gvf_step_particles.json
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

from benchmarks import gvf_eval as ge  # noqa: E402

COUNTS = (100, 250, 500, 1000, 2000, 5000)


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
    Path(args.out).write_text(json.dumps(report, indent=1, default=float))
    print(table(steps, COUNTS))


if __name__ == "__main__":
    main()
