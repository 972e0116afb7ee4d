"""Issue 18u's declared grid (docs/notes/issue-18u.md): how many template frames one frame may
advance GVF's alignments (``align_max_step``), for ``gm.GVF()`` and for the evaluated settings,
on gvf_eval's 2-fold CV inside the training subjects (the same seed, folds, takes and
criterion as ``cross_validate``; 18r's ``cv_row``, 18t's back to back against the absolute
truth), then one held-out run of both with the values the declared rule picks (18p's split,
gvf_eval's protocol: relative speed and scale over the 9 replays, the own-take absolute
figures, and for ``gm.GVF()`` back to back against the truth).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_eval_18u.py --out docs/gvf_align_steps_18u.json

``--steps`` measures instead the step time of ``gm.GVF()`` (gvf_eval's ``step_times``: 100 to
2,000 particles, rounds interleaved) with the limit before 18u (4) and at today's default, on
the held-out subjects' stream, and adds it to the report (``step_time``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402
from benchmarks import gvf_eval as ge  # noqa: E402
from benchmarks.gvf_eval_18r import cv_row, cv_splits  # noqa: E402
from benchmarks.gvf_eval_18t import OWN_MARGIN, back_to_back_own, own_row  # noqa: E402

#: the candidates of ``align_max_step``; 4 (the value before 18u) first: ties go to it
STEPS = (4, 6, 8, 12)


def evaluated_params() -> dict:
    """The evaluated settings (issue 10i's run: the CV's choice on the training subjects)."""
    saved = json.loads((ROOT / "docs" / "gvf_package_defaults_10i.json").read_text())
    return dict(saved["evaluated_params"])


def choose(rows: list[dict], guard: bool, own_margin: float = OWN_MARGIN) -> dict:
    """The declared rule: the row of the highest CV score (ties: the earlier, smaller step);
    with ``guard``, only among rows whose back to back against the truth on the folds is at
    least the first row's minus ``own_margin`` (:data:`OWN_MARGIN` unless a run declares
    another)."""
    ok = [r for r in rows if not guard
          or r["own_back_to_back_folds"] >= rows[0]["own_back_to_back_folds"] - own_margin]
    return max(ok, key=lambda r: r["score"])  # (max keeps the first of equals)


def held_out(row: dict, takes, labels, subjects, train_idx, test_idx,
             pauses: tuple[int, ...] | None) -> dict:
    """One setting's held-out figures on 18p's split: gvf_eval's relative ones over the 9
    replays and the own-take absolute ones; with ``pauses`` (not None) also back to back
    against the truth, with no pause and after each of ``pauses`` held frames."""
    all9 = [(sp, sc) for sp in ge.FACTORS for sc in ge.FACTORS]
    model = gm.GVF(1000, **row).fit(ge.dataset(takes, labels, train_idx))
    held = {"params": row,
            "held_out_relative": ge.summarise(ge.run_conditions(model, takes, labels,
                                                                test_idx, all9)),
            "own_template_absolute": ge.own_template(takes, labels, train_idx, test_idx, row)}
    if pauses is not None:
        held["own_back_to_back"] = back_to_back_own(takes, labels, subjects, train_idx,
                                                    test_idx, lambda: gm.GVF(1000, **row))
        for pause in pauses:
            held[f"own_back_to_back_pause_{pause}"] = back_to_back_own(
                takes, labels, subjects, train_idx, test_idx, lambda: gm.GVF(1000, **row),
                pause=pause)["back_to_back"]
    return held


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_align_steps_18u.json"))
    ap.add_argument("--steps", action="store_true", help="the step times only (see above)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.steps:
        add_step_times(args.out, {"align_max_step 4": {"align_max_step": 4}}, args.rounds,
                       step_time_default_align_max_step=gm.GVF().align_max_step)
        return
    run_grid("align_max_step", STEPS, {}, args.out)


def add_step_times(out: str, extra: dict, rounds: int = 3, **more) -> None:
    """gvf_eval's ``step_times`` of ``gm.GVF()`` (100 to 2,000 particles, rounds interleaved)
    beside the ``extra`` variants (name: params), on the held-out subjects' stream of 18p's
    split, added to the report ``out`` as ``step_time`` (with ``more`` keys)."""
    saved = json.loads((ROOT / "docs" / "gvf_align_18p.json").read_text())
    takes, labels, train_idx, test_idx = ge.saved_split(saved)
    report = json.loads(Path(out).read_text())
    x = np.vstack([takes[i] for i in test_idx[:20]])[:3000]
    report["step_time"] = ge.step_times(ge.dataset(takes, labels, train_idx), x,
                                        (100, 500, 1000, 2000), {}, rounds, extra=extra)
    report.update(more)
    Path(out).write_text(json.dumps(report, indent=1, default=float))


def run_grid(param: str, values, evaluated_extra: dict, out: str,
             only: tuple[str, ...] = ("gm.GVF()", "evaluated settings"),
             pauses: tuple[int, ...] = (), own_margin: float = OWN_MARGIN,
             more_row=None, more_held=None, refit: bool = False, guard=None) -> dict:
    """The declared procedure for one GVF run-time parameter ``param`` over ``values`` (the
    first, today's, wins ties; a value may also be a dict of several run-time parameters):
    the CV rows of ``gm.GVF()`` and of the evaluated settings (with ``evaluated_extra`` on
    top; ``only``: those of them), each setting's choice by :func:`choose`, and one
    held-out run of both with their choices (``gm.GVF()`` also back to back against the
    truth after each of ``pauses``, frames held between the takes; ``own_margin``: the
    guard's, see :func:`choose`); the report is written to ``out`` after each step.
    ``more_row(splits, row)``, if given, adds to each CV row (it may rescore it: the rule
    reads ``row["score"]``); ``more_held(params, held, ...)`` to each held-out run, with
    the takes, labels and the split's indices. ``refit``: ``param`` is a fit parameter, the
    folds' models are fitted again for each value. ``guard(rows)``, if given, returns the
    rows of ``gm.GVF()`` the rule may choose from (before the restart guard; it may add to
    them)."""
    takes, labels, subjects = ge.load_takes()
    saved = json.loads((ROOT / "docs" / "gvf_align_18p.json").read_text())
    _, _, train_idx, test_idx = ge.saved_split(saved)
    evaluated = {**evaluated_params(), **evaluated_extra}
    settings = {name: p for name, p in (("gm.GVF()", {}), ("evaluated settings", evaluated))
                if name in only}
    report: dict = {"test_subjects": saved["test_subjects"], "param": param,
                    "values": list(values),
                    "evaluated_params": evaluated, "cv": {name: [] for name in settings}}

    def write() -> None:
        Path(out).write_text(json.dumps(report, indent=1, default=float))

    folds = cv_splits(subjects, train_idx)
    t0 = time.perf_counter()
    for name, params in settings.items():
        splits = None
        for value in values:
            kw = value if isinstance(value, dict) else {param: value}
            if refit or splits is None:  # (run-time parameters: fitted once, then set)
                splits = [(gm.GVF(1000, **params, **(kw if refit else {})).fit(
                    ge.dataset(takes, labels, tr)), te) for tr, te in folds]
            for model, _ in splits:
                model.set_params(**kw)
            row = {param: value, **cv_row(splits, takes, labels, subjects)}
            if more_row is not None:
                more_row(splits, row)
            if name == "gm.GVF()":  # the restart guard reads the default's open alignment
                row.update(own_row(folds, takes, labels, subjects,
                                   lambda kw=kw: gm.GVF(1000, **kw)))
            report["cv"][name].append(row)
            print(f"cv {name} {time.perf_counter() - t0:.0f}s",
                  {k: v for k, v in row.items() if k != "own_by_fold"}, flush=True)
            write()
    rows = {name: report["cv"][name] for name in settings}
    if guard is not None and "gm.GVF()" in rows:
        rows["gm.GVF()"] = guard(rows["gm.GVF()"])
        write()
    chosen = {name: choose(rows[name], guard=name == "gm.GVF()",
                           own_margin=own_margin)[param] for name in settings}
    report["own_margin"] = own_margin
    report["chosen"] = chosen
    print("chosen", chosen, flush=True)
    write()
    report["held_out"] = {}
    for name, params in settings.items():
        value = chosen[name]
        row = {**params, **(value if isinstance(value, dict) else {param: value})}
        held = held_out(row, takes, labels, subjects, train_idx, test_idx,
                        pauses if name == "gm.GVF()" else None)
        if more_held is not None:
            more_held(row, held, takes, labels, train_idx, test_idx)
        report["held_out"][name] = held
        print(f"held out {name} {time.perf_counter() - t0:.0f}s",
              held["held_out_relative"]["all"], flush=True)
        write()
    return report


if __name__ == "__main__":
    main()
