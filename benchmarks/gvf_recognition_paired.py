"""Issue 18aj (docs/notes/issue-18aj.md): is ``gm.GVF()``'s streamed label at least as good as
``gm.HHMM()``'s on the same held-out replays? No setting is chosen here: both models are the
package defaults, trained on the training subjects of gvf_eval's split
(``docs/gvf_max_step_18ah.json``'s test subjects held out), exactly as gvf_eval's held-out
run and ``hhmm_curves`` train them.

For every held-out take and each of the 9 replays (×0.5 / ×1 / ×2 faster, ×0.5 / ×1 / ×2
bigger) the label each model shows at 10 %, 20 %, ... 100 % of the gesture is right or not;
the difference GVF − HHMM, per fraction and over the fractions, is read with a 95 %
percentile bootstrap over the held-out *subjects* (every take and replay of a drawn subject
goes in together: performers are what differ), ``RESAMPLES`` resamples, seed 0. The pooled
accuracies must equal the held-out figures already reported (they are printed beside them).

Run from the repository root::

    nice -n 10 python3 benchmarks/gvf_recognition_paired.py --out docs/gvf_recognition_paired_18aj.json
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
from benchmarks.gvf_eval import (  # noqa: E402
    FACTORS,
    FRACTIONS,
    at_fractions,
    dataset,
    replay,
    saved_split,
    standardized,
)

RESAMPLES = 10_000
SPLIT = ROOT / "docs" / "gvf_max_step_18ah.json"
#: where today's ``gm.HHMM()`` held-out figures on the same split were reported (issue 10i)
HHMM_REPORT = ROOT / "docs" / "gvf_package_defaults_10i.json"


def hits(model, takes, labels, idx, conditions, mean=None, std=None) -> np.ndarray:
    """(takes, conditions, fractions): the streamed label right or not."""
    out = np.zeros((len(idx), len(conditions), len(FRACTIONS)), dtype=bool)
    for a, i in enumerate(idx):
        k = model.labels_.index(labels[i])
        for b, (sp, sc) in enumerate(conditions):
            x = replay(takes[i], sp, sc)
            if mean is not None:
                x = (x - mean) / std
            lab = np.array([r.label_index for r in model.stream().run(x)])
            out[a, b] = at_fractions(lab, FRACTIONS) == k
    return out


def subject_bootstrap(diff: np.ndarray, subjects: np.ndarray, resamples: int,
                      seed: int = 0) -> np.ndarray:
    """(resamples, fractions): the mean of ``diff`` (takes, conditions, fractions) over the
    takes of subjects drawn with replacement."""
    rng = np.random.default_rng(seed)
    subs = np.unique(subjects)
    per = {s: diff[subjects == s].reshape(-1, diff.shape[-1]) for s in subs}
    sums = np.array([per[s].sum(axis=0) for s in subs])
    counts = np.array([len(per[s]) for s in subs])
    draws = rng.integers(0, len(subs), size=(resamples, len(subs)))
    return sums[draws].sum(axis=1) / counts[draws].sum(axis=1)[:, None]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "gvf_recognition_paired_18aj.json"))
    args = ap.parse_args()
    saved = json.loads(SPLIT.read_text())
    takes, labels, train_idx, test_idx = saved_split(saved)
    from benchmarks.gvf_eval import load_takes
    subjects = load_takes()[2][test_idx]
    conditions = [(sp, sc) for sp in FACTORS for sc in FACTORS]
    train_ds = dataset(takes, labels, train_idx)
    tr_all = np.vstack([takes[i] for i in train_idx])
    mean, std = tr_all.mean(0), tr_all.std(0) + 1e-12
    t0 = time.perf_counter()
    g = hits(gm.GVF().fit(train_ds), takes, labels, test_idx, conditions)
    print("GVF", round(time.perf_counter() - t0), "s", flush=True)
    h = hits(gm.HHMM().fit(standardized(train_ds, mean, std)), takes, labels, test_idx,
             conditions, mean, std)
    print("HHMM", round(time.perf_counter() - t0), "s", flush=True)
    diff = g.astype(float) - h.astype(float)
    diff_all = np.concatenate([diff, diff.mean(axis=2, keepdims=True)], axis=2)
    boot = subject_bootstrap(diff_all, subjects, RESAMPLES)
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    names = [f"{f:.0%}" for f in FRACTIONS] + ["mean"]
    report = {
        "split": SPLIT.name, "test_subjects": saved["test_subjects"], "takes": len(test_idx),
        "conditions": [list(c) for c in conditions], "fractions": FRACTIONS.tolist(),
        "resamples": RESAMPLES,
        "gvf_accuracy": g.mean(axis=(0, 1)).tolist(),
        "hhmm_accuracy": h.mean(axis=(0, 1)).tolist(),
        "reported_gvf_accuracy": saved["held_out"]["gm.GVF()"]["held_out_relative"]["all"][
            "accuracy_by_fraction"],
        "reported_hhmm_accuracy": json.loads(HHMM_REPORT.read_text())["HHMM"]["all"],
        "difference": dict(zip(names, diff_all.mean(axis=(0, 1)).tolist(), strict=True)),
        "ci95_low": dict(zip(names, lo.tolist(), strict=True)),
        "ci95_high": dict(zip(names, hi.tolist(), strict=True)),
        "per_subject_difference": {
            str(s): diff_all[subjects == s].mean(axis=(0, 1)).tolist()
            for s in np.unique(subjects)},
        "hits_gvf": g.astype(int).tolist(), "hits_hhmm": h.astype(int).tolist(),
        "subjects": subjects.tolist(),
    }
    Path(args.out).write_text(json.dumps(report, indent=1))
    print("GVF  ", np.round(report["gvf_accuracy"], 3))
    print("(rep)", np.round(report["reported_gvf_accuracy"], 3))
    print("HHMM ", np.round(report["hhmm_accuracy"], 3))
    print("(rep)", np.round(report["reported_hhmm_accuracy"], 3))
    for n in names:
        print(f"{n:>5} diff {report['difference'][n]:+.3f}  95% "
              f"[{report['ci95_low'][n]:+.3f}, {report['ci95_high'][n]:+.3f}]")


if __name__ == "__main__":
    main()
