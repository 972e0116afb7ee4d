"""The HHMM's time-warp speed (``gm.HHMM(estimate_speed=True)``) beside the GVF's, same replays.

Exactly ``experiments/gvf_eval.py``'s protocol, so the figures sit beside the GVF's in
``docs/gvf.json``: HAPT's 250 transition segments at 25 Hz, the same 7 test subjects (the same
seeded draw), each test take replayed time-stretched by 0.5, 1 and 2 and scaled by 0.5, 1 and 2
(9 conditions), the estimate of the take's true class at every frame after the first 30 % of
the gesture:

- **relative** (HHMM trained on the 14 training subjects' takes): the truth is known only
  relative to the same take replayed unchanged, so the error is
  ``est(speed, scale) / (speed * est(1, 1)) - 1`` at the same fraction of the gesture;
- **absolute** (every third test take is its own class's only take, the other classes from the
  training subjects): the truth is the factor itself.

The HHMM runs with its package defaults on inputs standardised with the training takes'
statistics (as gvf_eval.py's HHMM does); the speed estimate has no setting of its own, so
nothing is chosen here. Scale is a GVF estimate only.

Run from the repository root::

    nice -n 10 python3 -m experiments.hhmm_speed_eval [--out docs/hhmm_speed.json]
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
from experiments.gvf_eval import FACTORS, TOL, at_fractions, load_takes, replay  # noqa: E402


def split(subjects: np.ndarray) -> tuple[list[int], list[int]]:
    """gvf_eval.py's draw of the 7 test subjects (same seed, same order of calls)."""
    rng = np.random.default_rng(0)
    subs = np.array(sorted(set(subjects)))
    rng.shuffle(subs)
    test = set(subs[:7].tolist())
    idx = range(len(subjects))
    return ([i for i in idx if subjects[i] not in test], [i for i in idx if subjects[i] in test])


def fit(takes, labels, idx, mean, std) -> gm.HHMM:
    ds = gm.Dataset()
    for i in idx:
        ds.add((takes[i] - mean) / std, label=str(labels[i]))
    return gm.HHMM(estimate_speed=True, n_jobs=1).fit(ds)


def speeds(model: gm.HHMM, x: np.ndarray, k: int) -> np.ndarray:
    stream = model.stream()
    return np.array([stream.step(f).speed[k] for f in x])


def errors(model, takes, labels, idx, mean, std, relative: bool) -> dict:
    """Per condition, the absolute relative errors after 30 % of each gesture."""
    conditions = [(sp, sc) for sp in FACTORS for sc in FACTORS]
    out: dict = {c: [] for c in conditions}
    for i in idx:
        k = model.labels_.index(str(labels[i]))
        base = speeds(model, (takes[i] - mean) / std, k) if relative else None
        for sp, sc in conditions:
            est = speeds(model, (replay(takes[i], sp, sc) - mean) / std, k)
            n = len(est)
            fr = (np.arange(n) + 1) / n
            keep = fr > 0.3
            truth = sp * at_fractions(base, fr[keep]) if relative else sp
            out[(sp, sc)].append(np.abs(est[keep] / truth - 1.0))
    return out


def summary(out: dict) -> dict:
    rows = {}
    for (sp, sc), errs in out.items():
        e = np.concatenate(errs)
        rows[f"speed x{sp} scale x{sc}"] = {"speed_within_15": float(np.mean(e <= TOL)),
                                            "speed_median_err": float(np.median(e))}
    for name, keep in (("all but x1 x1", lambda c: c != (1.0, 1.0)), ("all", lambda c: True)):
        e = np.concatenate([np.concatenate(v) for c, v in out.items() if keep(c)])
        rows[name] = {"speed_within_15": float(np.mean(e <= TOL)),
                      "speed_median_err": float(np.median(e))}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "hhmm_speed.json"))
    args = ap.parse_args()
    takes, labels, subjects = load_takes()
    train, test = split(subjects)
    x = np.vstack([takes[i] for i in train])
    mean, std = x.mean(0), x.std(0) + 1e-12
    t0 = time.perf_counter()
    model = fit(takes, labels, train, mean, std)
    report = {"test_subjects": sorted(int(s) for s in set(subjects[test])),
              "test_takes": len(test),
              "held_out_relative": summary(errors(model, takes, labels, test, mean, std, True))}
    print("relative", report["held_out_relative"]["all but x1 x1"], flush=True)
    absolute: dict = {}
    for i in test[::3]:
        own = fit(takes, labels, [i] + [j for j in train if labels[j] != labels[i]], mean, std)
        for c, v in errors(own, takes, labels, [i], mean, std, False).items():
            absolute.setdefault(c, []).extend(v)
    report["own_template_absolute"] = summary(absolute)
    report["seconds"] = time.perf_counter() - t0
    print("absolute", report["own_template_absolute"]["all"], flush=True)
    gvf = json.loads((ROOT / "docs" / "gvf.json").read_text())
    print("\n| speed within ±15 % after 30 % | HHMM time warp | GVF (docs/gvf.json) |\n|---|---|---|")
    for part, row in (("held_out_relative", "all but x1 x1"), ("held_out_relative", "all"),
                      ("own_template_absolute", "all")):
        print(f"| {part} {row} | {report[part][row]['speed_within_15']:.3f} "
              f"(median error {report[part][row]['speed_median_err']:.3f}) | "
              f"{gvf[part][row]['speed_within_15']:.3f} "
              f"(median error {gvf[part][row]['speed_median_err']:.3f}) |")
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
