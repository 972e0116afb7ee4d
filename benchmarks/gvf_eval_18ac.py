"""Issue 18ac's declared grid (docs/notes/issue-18ac.md): how many templates a class may
have (``templates_per_class``, a fit parameter: the folds' models are fitted again per row)
for ``gm.GVF()``, by 18u's procedure (``gvf_eval_18u.run_grid``: gvf_eval's 2-fold CV inside
the training subjects, one held-out run with the choice, the restart also after 50 and 125
held frames; 18y's restart guard, 0.05), each row scored as 18aa's (the mean of the CV score on
gvf_eval's replay and with the sensor's noise restored), with 18ab's guard (the scale within
±15 % on the replay whose quick movements keep their size at least the first row's minus
0.02) and a step guard: the row's p50 step at 1,000 particles at most :data:`STEP_RATIO` times
the first row's, measured in the same interleaved rounds (gvf_eval's ``step_times``) on the
training subjects' stream. Held out, beside the choice: the first row on the three replays.

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18ac.py --out docs/gvf_templates_18ac.json
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import gvf_eval as ge  # noqa: E402
from benchmarks.gvf_eval_18aa import OWN_MARGIN_18AA, cv_figures, held_replays  # noqa: E402
from benchmarks.gvf_eval_18ab import FAST_MARGIN, plays_18ab  # noqa: E402
from benchmarks.gvf_eval_18u import run_grid  # noqa: E402

#: the rows: today's first (ties go to it)
GRID_18AC = (4, 6, 8)
#: the step guard: a row's p50 step (1,000 particles) at most this times the first row's
STEP_RATIO = 1.2


def guarded(rows: list[dict], takes, labels, train_idx, rounds: int = 3) -> list[dict]:
    """The rows the rule may choose from: the first, and those that pass both guards (see
    above); each row gets its step's p50 (ms), its ratio and the guards' verdicts."""
    ds = ge.dataset(takes, labels, train_idx)
    x = np.vstack([takes[i] for i in train_idx[:20]])[:3000]
    steps = ge.step_times(ds, x, (1000,), {"templates_per_class": rows[0]["templates_per_class"]},
                          rounds, extra={str(r["templates_per_class"]):
                                         {"templates_per_class": r["templates_per_class"]}
                                         for r in rows[1:]})
    first_fast = rows[0]["fast_kept"]["scale_within_15"]
    first_step = steps[1000]["p50_ms"]
    ok = []
    for i, r in enumerate(rows):
        p50 = first_step if i == 0 else steps[str(r["templates_per_class"])][1000]["p50_ms"]
        r["step_p50_ms"] = p50
        r["step_ratio"] = p50 / first_step
        r["fast_kept_guard"] = r["fast_kept"]["scale_within_15"] >= first_fast - FAST_MARGIN
        r["step_guard"] = r["step_ratio"] <= STEP_RATIO
        print("guard", r["templates_per_class"], p50, r["step_ratio"], r["fast_kept_guard"],
              r["step_guard"], flush=True)
        if i == 0 or (r["fast_kept_guard"] and r["step_guard"]):
            ok.append(r)
    return ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_templates_18ac.json"))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    takes, labels, subjects = ge.load_takes()
    saved = json.loads((ROOT / "docs" / "gvf_align_18p.json").read_text())
    _, _, train_idx, _ = ge.saved_split(saved)
    sigma, plays = plays_18ab(subjects, train_idx)
    del plays["gvf_eval"]  # (run_grid's own score reads gvf_eval's replay)

    def more_row(splits, row) -> None:
        row["score_plain_replay"] = row["score"]
        for name, play in plays.items():
            row[name] = cv_figures(splits, takes, labels, play)
        row["score"] = (row["score_plain_replay"] + row["noise_restored"]["score"]) / 2

    def guard(rows: list[dict]) -> list[dict]:
        return guarded(rows, takes, labels, train_idx, args.rounds)

    report = run_grid("templates_per_class", GRID_18AC, {}, args.out, only=("gm.GVF()",),
                      pauses=(50, 125), own_margin=OWN_MARGIN_18AA, more_row=more_row,
                      more_held=functools.partial(
                          held_replays, plays, {"templates_per_class": GRID_18AC[0]}),
                      refit=True, guard=guard)
    report.update(sensor_noise=sigma.tolist(), fast_margin=FAST_MARGIN, step_ratio=STEP_RATIO)
    Path(args.out).write_text(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
