"""Issue 18aa's declared grid (docs/notes/issue-18aa.md): ``align_floor`` (the floor of the
alignments' size normalisation, a fraction of the template's root mean square) for
``gm.GVF()``, by 18u's procedure (``gvf_eval_18u.run_grid``: gvf_eval's 2-fold CV inside the
training subjects, one held-out run with the choice, the restart also after 50 and 125 held
frames; 18y's restart guard, 0.05), each row scored on two replays: gvf_eval's, and the same
with the sensor's noise restored in the smaller replays (``gvf_misses.noise_restored_replay``,
the noise measured on the training subjects' still postures) — a lower floor is what would
magnify a small gesture's noise. The row's score is the mean of the two CV scores.

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18aa.py --out docs/gvf_align_floor_18aa.json
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks import gvf_eval as ge  # noqa: E402
from benchmarks.gvf_eval_18u import run_grid  # noqa: E402
from benchmarks.gvf_misses import noise_restored_replay, sensor_noise  # noqa: E402

#: the rows: today's floor first (ties go to it), then lower ones
GRID_18AA = (0.1, 0.05, 0.03, 0.02, 0.01)
#: the restart guard (18y's): a row's back to back against the truth on the folds at least
#: the first row's minus this
OWN_MARGIN_18AA = 0.05
#: cross_validate's conditions, as 18r's ``cv_row`` reads them
CV_CONDITIONS = [(0.5, 2.0), (2.0, 0.5), (1.0, 1.0)]


@contextlib.contextmanager
def replaying(play):
    """gvf_eval's ``run_conditions`` replaying with ``play`` (None: gvf_eval's own)."""
    plain = ge.replay
    ge.replay = play or plain
    try:
        yield
    finally:
        ge.replay = plain


def cv_figures(splits, takes, labels, play=None) -> dict:
    """18r's ``cv_row`` figures (recognition after 30 %, speed and scale within 15 %, their
    mean the score) on cross_validate's conditions replayed by ``play``, averaged over the
    folds."""
    parts = []
    with replaying(play):
        for model, te in splits:
            s = ge.summarise(ge.run_conditions(model, takes, labels, te, CV_CONDITIONS))["all"]
            parts.append((float(np.mean(s["accuracy_by_fraction"][2:])), s["speed_within_15"],
                          s["scale_within_15"]))
    acc, sp, sc = np.mean(parts, axis=0)
    return {"score": float((acc + sp + sc) / 3), "accuracy_after_30": float(acc),
            "speed_within_15": float(sp), "scale_within_15": float(sc)}


def held_replays(plays: dict, first: dict, params: dict, held: dict, takes, labels, train_idx,
                 test_idx) -> None:
    """A run_grid ``more_held``: the held-out figures over the 9 replays of the chosen
    ``params`` and of the ``first`` row on each of ``plays`` (name: replay), and the first
    row's on gvf_eval's own replay, added to ``held``."""
    all9 = [(sp, sc) for sp in ge.FACTORS for sc in ge.FACTORS]
    for name, row in (("chosen", params), ("first row", first)):
        model = gm.GVF(1000, **row).fit(ge.dataset(takes, labels, train_idx))
        for play_name, play in plays.items():
            with replaying(play):
                held[f"held_out_{play_name} {name}"] = ge.summarise(
                    ge.run_conditions(model, takes, labels, test_idx, all9))
        if name == "first row":
            held["held_out_relative first row"] = ge.summarise(
                ge.run_conditions(model, takes, labels, test_idx, all9))


def noisy_grid(param: str, grid, out: str) -> dict:
    """18aa's procedure for the run-time parameter ``param`` over ``grid`` (the first row
    today's): run_grid for ``gm.GVF()`` with each row also scored on the noise-restored
    replays (the row's score the mean of the two), 18y's restart guard, the restart held out
    also after 50 and 125 held frames, the choice and the first row held out on the
    noise-restored replays; the report written to ``out``."""
    takes, labels, subjects = ge.load_takes()
    saved = json.loads((ROOT / "docs" / "gvf_align_18p.json").read_text())
    _, _, train_idx, _ = ge.saved_split(saved)
    sigma = sensor_noise({int(subjects[i]) for i in train_idx})
    noisy = noise_restored_replay(sigma)

    def more_row(splits, row) -> None:
        row["score_plain_replay"] = row["score"]
        row["noise_restored"] = cv_figures(splits, takes, labels, noisy)
        row["score"] = (row["score_plain_replay"] + row["noise_restored"]["score"]) / 2

    report = run_grid(param, grid, {}, out, only=("gm.GVF()",), pauses=(50, 125),
                      own_margin=OWN_MARGIN_18AA, more_row=more_row,
                      more_held=functools.partial(held_replays, {"noise_restored": noisy},
                                                  {param: grid[0]}))
    report["sensor_noise"] = sigma.tolist()
    Path(out).write_text(json.dumps(report, indent=1, default=float))
    return report


def noisy_grid_main(param: str, grid, report_name: str) -> None:
    """A script's ``main`` for :func:`noisy_grid` (``--out``: docs/``report_name``)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / report_name))
    noisy_grid(param, grid, ap.parse_args().out)


def main() -> None:
    noisy_grid_main("align_floor", GRID_18AA, "gvf_align_floor_18aa.json")


if __name__ == "__main__":
    main()
