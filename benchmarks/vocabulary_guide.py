"""The vocabulary guide's collision warning against leave-one-take-out misrecognitions.

On each shared dataset, split as in ``few_takes.py`` (JapaneseVowels' shipped train / test
split; ShoulderExerciseWatch's subjects 1-7 / 8-10; HAPT transitions' every third subject held
out; Watch decimated by 5 and HAPT by 2, as there):

1. the warning's thresholds (one at half, three quarters and all of a take's frames) are
   chosen by ``gm.vocabulary_guide(model, training takes)``: a cross-validation (10 folds)
   inside the training part only;
2. on the held-out part, each take in turn is left out: a model is fitted on the other
   held-out takes (the held-out part plays a performer's project), the **truth** is whether
   that model misrecognises the take (``predict`` on the whole take), and the **warning** is
   whether ``gm.distinctness(that model, take so far, label, threshold=...)`` (the
   threshold chosen for that share) says it
   collides, read when half, three quarters and all of the take's frames are in (the meter
   while recording, and the moment before the take is saved).

Precision = warned takes that are misrecognised / warned takes; recall = misrecognised takes
warned / misrecognised takes. ``nearest ok`` = misrecognised takes whose ``nearest`` is the
class the model took them for. At the whole take with threshold 0 the warning is the model's
own decision (``predict`` is the argmax of the same log-likelihoods): the figures that say
something are the partial ones, and the threshold's.

    nice -n 10 python3 -m benchmarks.vocabulary_guide /work/shared [--model hhmm] [--out FILE]

Without a path, the repository's cut of the shared data (tests/data/shared) is read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gesturemap as gm  # noqa: E402
from benchmarks import few_takes  # noqa: E402
from benchmarks.shared_data import DATASETS  # noqa: E402

NAMES = ("HAPTTransitions", "JapaneseVowels", "ShoulderExerciseWatch")
FRACTIONS = (0.5, 0.75, 1.0)
MODELS = {"hhmm": gm.HHMM, "gmm": gm.GMM}


def dataset(xs, ys) -> gm.Dataset:
    ds = gm.Dataset()
    for x, y in zip(xs, ys, strict=True):
        ds.add(x, label=y)
    return ds


def held_out(make, xs, ys, thresholds: dict) -> dict:
    """Leave each take out of the held-out part: truth, and the guide's verdicts."""
    rows = []
    for i in range(len(xs)):
        keep = [j for j in range(len(xs)) if j != i]
        if sum(ys[j] == ys[i] for j in keep) == 0:
            continue  # its class's only take: nothing to recognise it by
        model = make().fit(dataset([xs[j] for j in keep], [ys[j] for j in keep]))
        predicted = model.predict([xs[i]])[0]
        row = {"label": ys[i], "predicted": str(predicted), "wrong": bool(predicted != ys[i])}
        for share in FRACTIONS:
            part = xs[i][:max(3, int(round(share * len(xs[i]))))]
            d = gm.distinctness(model, part, ys[i], threshold=thresholds[share])
            row[str(share)] = {"margin": d.margin, "collides": d.collides,
                               "nearest": str(d.nearest)}
        rows.append(row)
    return {"rows": rows}


def scores(rows: list[dict], share: float, threshold: float | None = None) -> dict:
    """Precision, recall of the warning at ``share`` (``threshold``: re-read the margins)."""
    key = str(share)
    truth = np.array([r["wrong"] for r in rows])
    warn = np.array([r[key]["collides"] if threshold is None else r[key]["margin"] < threshold
                     for r in rows])
    tp = int(np.sum(warn & truth))
    near = [r[key]["nearest"] == r["predicted"] for r in rows if r["wrong"]]
    return {"precision": tp / warn.sum() if warn.any() else float("nan"),
            "recall": tp / truth.sum() if truth.any() else float("nan"),
            "warned": int(warn.sum()), "wrong": int(truth.sum()),
            "nearest_ok": float(np.mean(near)) if near else float("nan")}


def measure(name: str, kind: str) -> dict:
    trx, try_, tex, tey, _ = few_takes.load_with_subjects(name)
    make = MODELS[kind]
    t0 = time.perf_counter()
    guide = gm.vocabulary_guide(make(), dataset(trx, try_), folds=10)
    chosen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = held_out(make, tex, tey, guide.thresholds)
    out.update(threshold=guide.threshold, thresholds={str(s): t for s, t in
                                                      guide.thresholds.items()}, train_takes=len(trx), takes=len(tex),
               choose_s=chosen_s, held_out_s=time.perf_counter() - t0,
               train_misrecognised=int(sum(guide.misrecognised)))
    return out


def table(results: dict) -> str:
    lines = [f"{'dataset':<22}{'held out':>9}{'misrec.':>8}{'thresholds':>21}  "
             + "  ".join(f"{f'at {int(100 * s)}%: P / R (warned)':>26}" for s in FRACTIONS)
             + "  nearest ok (100%)"]
    for name, res in results.items():
        cells = []
        for s in FRACTIONS:
            sc = scores(res["rows"], s)
            cells.append(f"{sc['precision']:>9.2f} / {sc['recall']:.2f} ({sc['warned']:>3})"
                         .rjust(26))
        last = scores(res["rows"], 1.0)
        lines.append(f"{name:<22}{len(res['rows']):>9}{last['wrong']:>8}"
                     + " / ".join(f"{res['thresholds'][str(s)]:.2f}" for s in FRACTIONS)
                     .rjust(21) + "  " + "  ".join(cells)
                     + f"  {last['nearest_ok']:>10.2f}")
    lines.append("")
    lines.append("with threshold 0 (warn only when the model, as it stands, takes it for "
                 "another class):")
    for name, res in results.items():
        cells = [f"at {int(100 * s)}%: {sc['precision']:.2f} / {sc['recall']:.2f}"
                 for s in FRACTIONS for sc in [scores(res["rows"], s, 0.0)]]
        lines.append(f"  {name:<22}" + "   ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("shared", nargs="?", help="the shared folder (holding datasets/); default: "
                   "the repository's cut")
    p.add_argument("--datasets", nargs="+", default=list(NAMES), choices=NAMES)
    p.add_argument("--model", default="hhmm", choices=sorted(MODELS))
    p.add_argument("--out", help="write the per-take results as JSON")
    args = p.parse_args(argv)
    few_takes.DATA = Path(args.shared) / "datasets" if args.shared else DATASETS
    print(f"data: {few_takes.DATA}; model: gm.{MODELS[args.model].__name__}() defaults")
    results = {}
    for name in args.datasets:
        results[name] = measure(name, args.model)
        r = results[name]
        print(f"  {name}: thresholds {r['thresholds']} chosen on {r['train_takes']} training "
              f"takes ({r['train_misrecognised']} misrecognised in CV) in {r['choose_s']:.0f} s;"
              f" {r['takes']} held-out takes left out in turn in {r['held_out_s']:.0f} s",
              flush=True)
    print()
    print(table(results))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
