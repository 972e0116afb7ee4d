"""Stop recording -> new model answering on a big project (the budget for a studio-sized project).

The method of ``gesturemap bench --latency``'s take-to-model row (gesturemap/bench/latency.py,
``take_to_model``): an HHMM project in a window engine with its training process, a take
recorded live at 200 frames/s, stopped and trained as the window does; the time from "stop" to
the first frame the new model answers. Here on synthetic takes of the scaling benchmark's shape
(benchmarks/bench_scaling.py): 20 classes x 60 channels x 5 takes of 150 frames, HHMM defaults.

    python benchmarks/take_to_model_scaling.py [classes channels takes]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scaling  # noqa: E402

from gesturemap.bench import latency as bench_latency  # noqa: E402


def main(argv: list[str]) -> int:
    classes, channels, takes = (int(v) for v in (argv or ["20", "60", "5"]))
    ds, _ = bench_scaling.synthetic_dataset(classes, channels, takes)
    r = bench_latency.take_to_model(None, dataset=ds, params={})
    print(f"{classes} classes x {channels} channels x {takes} takes (HHMM defaults): first "
          f"retrain {r['first_take_to_model_ms']:.0f} ms (every class), then median "
          f"{r['take_to_model_ms_median']:.0f} ms, max {r['take_to_model_ms_max']:.0f} ms "
          f"(the new take's class); training alone median {r['train_ms_median']:.0f} ms; "
          f"the training process's CPU time: first {r['first_train_cpu_ms']:.0f} ms, then "
          f"median {r['train_cpu_ms_median']:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
