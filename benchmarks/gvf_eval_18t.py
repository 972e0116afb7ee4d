"""Issue 18t's declared grid (docs/notes/issue-18t.md): the anchored alignment's speed
(``speed_estimate="align_anchor"``) with the end latched and the new gesture's beginning
followed until it settles (gvf_align_anchor's ``LATCH_END``, ``SETTLE_SHARE``, ...), against
today's default ``"align_open"`` and the since-reset ``"align"``, for ``gm.GVF()``, on
gvf_eval's 2-fold CV inside the training subjects (the same seed, folds, takes and criterion
as ``cross_validate``, and ``folds_back_to_back``'s procedure), then one held-out run of
``gm.GVF()`` with the row the declared rule picks, and back to back against the absolute
truth (:func:`back_to_back_own`).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18t.py --out docs/gvf_align_anchor_18t.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
import gesturemap.models.gvf.align_anchor as anchored  # noqa: E402
from benchmarks import gvf_eval as ge  # noqa: E402
from benchmarks.gvf_eval_18r import cv_row  # noqa: E402
from benchmarks.gvf_eval_18s import choose as choose_18s  # noqa: E402
from benchmarks.gvf_eval_18s import setup  # noqa: E402

#: the module defaults every row starts from (18s's declared module defaults, the new
#: switches off: ``"align_anchor"`` as 18s shipped it)
BASE = {"FACTOR": 1.5, "CANDIDATE_POSTURE": 30.0, "WITH_PRIOR": True, "SHARED_END": True,
        "RECENT_WINDOW": 20.0, "LATCH_END": False, "SETTLE_SHARE": 0.0, "STILL_RATIO": 0.0,
        "STILL_WINDOW": 5.0, "PASS_SHARE": 0.5}
#: (name, speed_estimate, gvf_align_anchor constants); today's default first, "align" second
_END = {"FACTOR": 1000.0, "CANDIDATE_POSTURE": 10.0}  # 18s's row 5: the end rule only
GRID_18T = (
    ("align_open (today)", "align_open", {}),
    ("align", "align", {}),
    ("align_anchor end only (18s row 5)", "align_anchor", _END),
    ("align_anchor latched, settle 0.7, still 0.5 past 0.5", "align_anchor",
     {**_END, "LATCH_END": True, "SETTLE_SHARE": 0.7, "STILL_RATIO": 0.5, "PASS_SHARE": 0.5}),
    ("align_anchor latched, settle 0.7, still 0.5 past 0.7", "align_anchor",
     {**_END, "LATCH_END": True, "SETTLE_SHARE": 0.7, "STILL_RATIO": 0.5, "PASS_SHARE": 0.7}),
    ("align_anchor latched, settle 0.7, still 0.3 past 0.5", "align_anchor",
     {**_END, "LATCH_END": True, "SETTLE_SHARE": 0.7, "STILL_RATIO": 0.3, "PASS_SHARE": 0.5}),
    ("align_anchor latched, settle 0.7, still 0.3 past 0.7", "align_anchor",
     {**_END, "LATCH_END": True, "SETTLE_SHARE": 0.7, "STILL_RATIO": 0.3, "PASS_SHARE": 0.7}),
)
#: how far under today's back to back against the absolute truth a row may restart
OWN_MARGIN = 0.10


def set_row(consts: dict) -> None:
    for k, v in {**BASE, **consts}.items():
        setattr(anchored, k, v)


def pairs_of(subjects, idx) -> list[tuple[int, int]]:
    """gvf_eval's back-to-back pairs: each take of ``idx`` and the next of the same subject."""
    out = []
    for n, i in enumerate(idx):
        same = [j for j in idx[n + 1:] if subjects[j] == subjects[i]]
        out.append((i, same[0] if same else
                    next(j for j in idx if subjects[j] == subjects[i] and j != i)))
    return out


def back_to_back_own(takes, labels, subjects, train_idx, idx, make, pause: int = 0) -> dict:
    """Back to back against the absolute truth: for each pair ``(i, j)`` of ``idx``
    (:func:`pairs_of`), take ``j`` is its class's only template (the other classes' from
    ``train_idx``, as gvf_eval's ``own_template``), so the truth of its replay at speed
    0.5 / 1 / 2 is that factor. Take ``i`` (unchanged) then take ``j`` replayed, without a
    reset (with ``pause`` > 0, take ``i``'s last frame held that many frames between them):
    the second take's class's speed after 30 % of it against the factor; beside it
    ``alone``, the replay on a fresh stream (the reading without the restart). Per speed and
    over all three: the share within 15 % and the median error."""
    errs: dict = {"back_to_back": {sp: [] for sp in ge.FACTORS},
                  "alone": {sp: [] for sp in ge.FACTORS}}
    for i, j in pairs_of(subjects, idx):
        ds = ge.dataset(takes, labels, [j] + [t for t in train_idx if labels[t] != labels[j]])
        model = make().fit(ds)
        k = model.labels_.index(labels[j])
        for sp in ge.FACTORS:
            y = ge.replay(takes[j], sp, 1.0)
            keep = (np.arange(len(y)) + 1) / len(y) > 0.3
            first = np.vstack([takes[i], np.repeat(takes[i][-1:], pause, axis=0)])
            both = model.stream().run(np.vstack([first, y]))[len(first):]
            alone = model.stream().run(y)
            for name, res in (("back_to_back", both), ("alone", alone)):
                est = np.array([r.speed[k] for r in res])[keep]
                errs[name][sp].append(np.abs(est / sp - 1.0))
    out: dict = {}
    for name, per in errs.items():
        rows = {}
        for sp, e in list(per.items()) + [("all", sum(per.values(), []))]:
            e = np.concatenate(e)
            rows[f"speed x{sp}" if sp != "all" else "all"] = {
                "speed_within_15": float(np.mean(e <= ge.TOL)),
                "speed_median_err": float(np.median(e))}
        out[name] = rows
    return out


def own_row(folds, takes, labels, subjects, make) -> dict:
    """:func:`back_to_back_own` on the CV's folds (``folds``: (the other fold's takes, the
    third of the fold's takes the CV reads)): per fold, and the mean of the two folds' shares
    within 15 % (back to back and alone)."""
    per = [back_to_back_own(takes, labels, subjects, tr, te, make) for tr, te in folds]
    return {"own_back_to_back_folds": float(np.mean([r["back_to_back"]["all"]["speed_within_15"]
                                                     for r in per])),
            "own_alone_folds": float(np.mean([r["alone"]["all"]["speed_within_15"]
                                              for r in per])),
            "own_by_fold": per}


def choose(cv: list[dict]) -> tuple[dict, bool]:
    """The declared rule (docs/notes/issue-18t.md): 18s's, on rows 4 on, with the back to
    back against the absolute truth on the folds (at least today's minus
    :data:`OWN_MARGIN`) in place of the relative one."""
    return choose_18s(cv, "own_back_to_back_folds", OWN_MARGIN, first=3)


def main() -> None:
    args, report, takes, labels, subjects, train_idx, test_idx, splits, folds = setup(
        "gvf_align_anchor_18t.json", GRID_18T)

    def write() -> None:
        Path(args.out).write_text(json.dumps(report, indent=1, default=float))

    for name, how, consts in GRID_18T:
        set_row(consts)
        for model, _ in splits:
            model.set_params(speed_estimate=how)  # (a run-time parameter: no refit)
        row = {"name": name, "speed_estimate": how, "constants": consts,
               **cv_row(splits, takes, labels, subjects),
               **own_row(folds, takes, labels, subjects,
                         lambda how=how: gm.GVF(1000, speed_estimate=how))}
        report["cv"].append(row)
        print("cv", {k: v for k, v in row.items() if k != "own_by_fold"}, flush=True)
        write()
    chosen, qualifies = choose(report["cv"])
    report["chosen"] = chosen["name"]
    report["qualifies"] = qualifies
    print("chosen", chosen["name"], "qualifies", qualifies, flush=True)
    write()
    # one held-out run of gm.GVF() with the chosen row (18p's split, gvf_eval's protocol),
    # and back to back held out (relative, and against the absolute truth) beside today's
    all9 = [(sp, sc) for sp in ge.FACTORS for sc in ge.FACTORS]
    train_ds = ge.dataset(takes, labels, train_idx)
    for key, row in (("held_out", chosen), ("held_out_today", report["cv"][0])):
        set_row(row["constants"])
        how = row["speed_estimate"]
        model = gm.GVF(1000, speed_estimate=how).fit(train_ds)
        held = {"name": row["name"],
                "back_to_back": ge.back_to_back(None, takes, labels, subjects, test_idx,
                                                {"row": {}}, fitted=model)["row"],
                "own_back_to_back": back_to_back_own(
                    takes, labels, subjects, train_idx, test_idx,
                    lambda how=how: gm.GVF(1000, speed_estimate=how))}
        if key == "held_out":
            held["held_out_relative"] = ge.summarise(ge.run_conditions(
                model, takes, labels, test_idx, all9))
            print("held out", held["held_out_relative"]["all"], flush=True)
        report[key] = held
        print(key, held["back_to_back"]["all"], held["own_back_to_back"]["back_to_back"]["all"],
              flush=True)
        write()


if __name__ == "__main__":
    main()
