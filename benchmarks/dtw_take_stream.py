"""DTW's per-take normalisations, batch against live: ``predict`` and the label a stream shows
at each recording's last frame (stream reset at its start), for ``normalization="take"`` and
``"running"`` (issue 10n; 10m measured the same with a script outside the repository).

Nothing is chosen here: ``gm.DTW(normalization=..., normalize=False)`` (the datasets' README
baselines' 1-NN DTW) on ``defaults_lodo.load``'s splits — watch's and vowels' official splits,
HAPT's three subject-grouped folds pooled — on the raw inputs (per-take normalisations need no
global standardisation). Also the cost of a stream's frame on HAPT's first fold (167 templates,
6 inputs), for each normalisation.

Run from the repository root (watch's full-rate takes make the ``take`` stream the long part,
about ten minutes on the 2-core machine)::

    nice -n 10 python3 -m benchmarks.dtw_take_stream [--datasets vowels,hapt,watch]
        [--out docs/dtw_take_stream.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import gesturemap as gm

from . import defaults_lodo as dl


def _dataset(seqs, labels) -> gm.Dataset:
    ds = gm.Dataset()
    for s, y in zip(seqs, labels, strict=True):
        ds.add(s, label=y)
    return ds


def measure(name: str, norm: str) -> dict:
    right_batch = right_live = agree = n = 0
    start = time.perf_counter()
    for data in dl.load(name):
        model = gm.DTW(normalization=norm, normalize=False).fit(_dataset(data.train, data.ytrain))
        batch = model.predict(data.test)
        live = dl.live_labels(model, data.test)
        for b, lv, y in zip(batch, live, data.ytest, strict=True):
            right_batch += b == y
            right_live += lv == y
            agree += b == lv
            n += 1
    return {"dataset": name, "normalization": norm, "n": n, "predict": right_batch / n,
            "live": right_live / n, "agreement": agree / n,
            "seconds": time.perf_counter() - start}


def step_cost(frames: int = 400) -> list[dict]:
    data = dl.load("hapt")[0]
    queries = np.vstack(data.test)[:frames]
    rows = []
    for norm in ("global", "running", "take"):
        model = gm.DTW(normalization=norm, normalize=False).fit(_dataset(data.train, data.ytrain))
        stream = model.stream()
        for f in queries[:20]:  # compiled, warm
            stream.step(f)
        stream.reset()
        times = []
        for f in queries:
            t0 = time.perf_counter()
            stream.step(f)
            times.append(time.perf_counter() - t0)
        rows.append({"normalization": norm, "templates": len(data.train),
                     "template_frames": int(sum(len(s) for s in data.train)),
                     "step_p50_us": float(np.percentile(times, 50) * 1e6),
                     "step_p99_us": float(np.percentile(times, 99) * 1e6)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="vowels,hapt,watch")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = {"step": step_cost(), "accuracy": []}
    for row in result["step"]:
        print(f"step {row['normalization']:8s} p50 {row['step_p50_us']:.0f} us  "
              f"p99 {row['step_p99_us']:.0f} us  ({row['template_frames']} template frames)",
              flush=True)
    for name in args.datasets.split(","):
        for norm in ("take", "running"):
            row = measure(name, norm)
            result["accuracy"].append(row)
            print(f"{name:7s} {norm:8s} predict {row['predict']:.3f}  live {row['live']:.3f}  "
                  f"agreement {row['agreement']:.3f}  (n={row['n']}, {row['seconds']:.0f} s)",
                  flush=True)
            if args.out:
                args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
