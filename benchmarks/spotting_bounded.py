"""Two variants of the spotter on the inner folds (issue 12u): its longest match enforced
inside the Viterbi pass (``gm.Spotter(bound_matches=True)``, the package's option since issue
12v), and ``min_stay`` freed in each class's first state.

``gm.Spotter`` applies ``max_duration`` after the pass by default: the free-start Viterbi keeps,
per state, the best-scoring partial match only, and a match longer than ``max_duration`` times
the class's expected duration is then not taken. On HAPT a partial match can wait in a state
past its ``max_stay`` for hundreds of frames without losing anything (frames that fit the
state add ``min(e, 0) = 0``), so an old match that began long before keeps out-scoring a fresh
one that spans the transition; it reaches the threshold only at lengths of 300-1,800 frames,
above the longest allowed, and the transition is missed (issue 12u's ``duration`` misses).
With ``bound_matches`` a partial match whose length would pass the longest allowed is dropped
inside the pass, so a younger one can take the state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: the shipped procedure's grid (benchmarks.spotting_hapt's defaults)
GRID = {"threshold": [0.2, 0.3, 0.4], "min_stay": [0.0, 0.5], "hold_frames": [10, 25],
        "max_stay": [1.0], "defer_frames": [0, 50]}


def entry_free(spotter: Any) -> Any:
    """``spotter`` with ``min_stay`` applied to every state but each class's first (the start
    posture may be held for any time before the movement), in place; returned."""
    spotter._min_stay[:, 0] = 0.0
    return spotter


def inner_cv(seed: int, fold: int, null_floor: float | None, stored: Path) -> dict[str, Any]:
    """One outer fold's inner CV (its 2 halves of training subjects) over :data:`GRID`, for two
    variants of the spotter: ``bounded`` (``bound_matches=True``) and ``entry_free``
    (:func:`entry_free`; with ``min_stay`` 0 it is the package's spotter). Each setting's
    pooled inner metrics and score (F1 minus false alarms per minute beyond 0.3), and each
    variant's choice; the package's own inner table is read from the stored nested run
    ``stored/spotting.gmK.json`` (its chosen setting re-spotted here as a check)."""
    import itertools
    import json

    import gesturemap as gm
    from benchmarks.spotting_hapt import DATA, hhmm, repartition, training_data
    from benchmarks.spotting_misses import match
    from gesturemap.evaluation.spotting.cv import grouped_folds, load_streams
    from gesturemap.evaluation.spotting.scores import spotting_metrics

    run = json.loads((stored / f"spotting.gm{fold}.json").read_text())
    table = {json.dumps(c, sort_keys=True): m for c, m in run["inner"][0]}
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    train = np.setdiff1d(np.arange(len(st.sessions)), grouped_folds(st.subject, 3)[fold])
    combos = [dict(zip(GRID, v, strict=True)) for v in itertools.product(*GRID.values())]
    chosen = run["chosen"][0]
    res: dict[str, list[list[Any]]] = {v: [[] for _ in combos] for v in ("bounded",
                                                                           "entry_free")}
    check: list[Any] = []
    for loc in grouped_folds(st.subject[train], 2):
        te = train[loc]
        model = hhmm(null_floor).fit(training_data(st, np.setdiff1d(train, te), lambda x: x))
        for ci, combo in enumerate(combos):
            sp = gm.Spotter(model, **combo)
            bounded = gm.Spotter(model, bound_matches=True, **combo)
            free = entry_free(gm.Spotter(model, **combo)) if combo["min_stay"] > 0 else sp
            for i in te:
                x = st.sessions[i]
                res["bounded"][ci].append(match(st, int(i), bounded.spot(x)))
                res["entry_free"][ci].append(match(st, int(i), free.spot(x)))
                if combo == chosen:
                    check.append(match(st, int(i), sp.spot(x)))
    classes = [str(g) for g in st.gestures]

    def score(m: dict[str, Any]) -> float:
        return float(m["f1"] - max(0.0, m["false_alarms_per_min"] - 0.3))

    pkg = [table[json.dumps(c, sort_keys=True)] for c in combos]
    out: dict[str, Any] = {"partition_seed": seed, "fold": fold, "null_floor": null_floor,
                           "stored": str(stored), "settings": combos}
    mc = spotting_metrics(check, classes, st.rate_hz)
    out["check"] = {"chosen": chosen, "f1_here": mc["f1"],
                    "f1_stored": table[json.dumps(chosen, sort_keys=True)]["f1"]}
    best = int(np.argmax([score(m) for m in pkg]))
    out["package"] = {"scores": [score(m) for m in pkg], "best": best,
                      "best_setting": combos[best], "best_score": score(pkg[best]),
                      "metrics": pkg, "chosen_counts": {k: mc[k] for k in (
                          "true_positives", "false_positives", "missed")}}
    for v, per in res.items():
        ms = [spotting_metrics(r, classes, st.rate_hz) for r in per]
        scores = [score(m) for m in ms]
        b = int(np.argmax(scores))
        out[v] = {"metrics": [{k: m[k] for k in ("f1", "false_alarms_per_min",
                                                  "true_positives", "false_positives",
                                                  "missed")} for m in ms],
                  "scores": scores, "best": b, "best_setting": combos[b],
                  "best_score": scores[b]}
    return out


def summarise(paths: list[Path]) -> str:
    """A markdown table of the variants' inner results over result files ``paths``: per
    outer fold, each variant's best inner score (and the package's chosen setting's counts
    beside each variant's at that same setting)."""
    import json

    rows = ["| partition / fold / floor | package: best inner score (setting) | bounded | "
            "entry_free | at the package's setting: TP / FP package, bounded, entry_free |",
            "|---|---|---|---|---|"]
    gains = {"bounded": [], "entry_free": []}
    for path in paths:
        r = json.loads(path.read_text())
        b = r["package"]["best"]
        cells = []
        for v in ("package", "bounded", "entry_free"):
            x = r[v]
            st = x["best_setting"]
            cells.append(f"{x['best_score']:.3f} (t {st['threshold']}, ms {st['min_stay']}, "
                         f"h {st['hold_frames']}, d {st['defer_frames']})")
            if v != "package":
                gains[v].append(x["best_score"] - r["package"]["best_score"])
        pc = r["package"]["chosen_counts"]
        at = [f"{pc['true_positives']} / {pc['false_positives']}"] + [
            f"{r[v]['metrics'][b]['true_positives']} / {r[v]['metrics'][b]['false_positives']}"
            for v in ("bounded", "entry_free")]
        floor = "0.01" if r["null_floor"] else "HHMM's"
        rows.append(f"| p{r['partition_seed']} f{r['fold']} {floor} | " + " | ".join(cells)
                    + " | " + ", ".join(at) + " |")
    rows.append("")
    rows += [f"mean gain of the best inner score, {v}: {np.mean(g):+.4f} over {len(g)} folds "
             f"(rises in {sum(x > 1e-9 for x in g)}, falls in {sum(x < -1e-9 for x in g)})"
             for v, g in gains.items()]
    return "\n".join(rows)


def main() -> None:
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--summarise", type=Path, nargs="+",
                    help="print the table over these result files, and stop")
    ap.add_argument("--partition-seed", type=int)
    ap.add_argument("--fold", type=int)
    ap.add_argument("--null-floor", type=float, default=None)
    ap.add_argument("--stored", type=Path,
                    help="the stored nested run of the same partition and floor")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.summarise:
        print(summarise(args.summarise))
        return
    if args.partition_seed >= 15:
        raise SystemExit("partitions 15 and above are kept for held-out runs")
    out = inner_cv(args.partition_seed, args.fold, args.null_floor, args.stored)
    print(f"check: inner F1 at the chosen setting {out['check']['f1_here']:.4f} here, "
          f"{out['check']['f1_stored']:.4f} stored")
    for v in ("package", "bounded", "entry_free"):
        m = out[v]["metrics"][out[v]["best"]]
        print(f"p{args.partition_seed} f{args.fold} floor {args.null_floor} {v}: best "
              f"{out[v]['best_setting']} score {out[v]['best_score']:.3f} F1 {m['f1']:.3f} "
              f"FA/min {m['false_alarms_per_min']:.3f}", flush=True)
    args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
