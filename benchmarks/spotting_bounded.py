"""The spotter with its longest match enforced inside the Viterbi pass (issue 12u; a benchmark
variant, not the package's).

``gm.Spotter`` applies ``max_duration`` after the pass: the free-start Viterbi keeps, per
state, the best-scoring partial match only, and a match longer than ``max_duration`` times the
class's expected duration is then not taken. On HAPT a partial match can wait in a state past
its ``max_stay`` for hundreds of frames without losing anything (frames that fit the state add
``min(e, 0) = 0``), so an old match that began long before keeps out-scoring a fresh one that
spans the transition; it reaches the threshold only at lengths of 300-1,800 frames, above the
longest allowed, and the transition is missed (issue 12u's ``duration`` misses). Here a partial
match whose length would pass the longest allowed is dropped inside the pass, so a younger one
can take the state. Causal, the same per-frame cost (one comparison per transition).

:func:`spot_bounded` spots a sequence like ``Spotter.spot`` (no verifier, HMM spotters) with
these kernels; the rest of the decision (``decide_step``, deferring, settling) is the
package's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from gesturemap.models import _spot_kernels as _k

_JIT = {"cache": False, "nogil": True, "fastmath": False}


@njit(**_JIT)
def drop_long(t, n_states, delta, start, max_length):
    """Before frame ``t``'s ``_spot_kernels.match_step``: forget every partial match of class
    ``c`` that would span more than ``max_length[c]`` frames once continued to ``t``, so that
    a younger match may take its state."""
    for c in range(n_states.shape[0]):
        for i in range(n_states[c]):
            if t - start[c, i] + 1 > max_length[c]:
                delta[c, i] = _k.NEG


@njit(**_JIT)
def bounded_spot_run(xs, n_states, n_comp, weights, means, linv, lognorm, log_trans,
                     log_prior, null_w, null_mean, null_linv, null_lognorm, min_stay, max_stay,
                     delta, start, stay, new_delta, new_start, new_stay, score, score_start,
                     thresholds, scale, min_length, max_length, hold, refractory, defer, to_go,
                     settle, settle_ratio, prev, motion, pending, pending_f, event, events_out):
    """``_spot_kernels.spot_run`` (from frame 0) with :func:`drop_long` before each frame's
    ``match_step``."""
    n_events = 0
    for t in range(xs.shape[0]):
        drop_long(t, n_states, delta, start, max_length)
        _k.match_step(xs[t], n_states, n_comp, weights, means, linv, lognorm, log_trans,
                      log_prior, null_w, null_mean, null_linv, null_lognorm, min_stay, max_stay,
                      delta, start, stay, new_delta, new_start, new_stay, t, score,
                      score_start)
        _k.track_motion(xs[t], prev, motion)
        h = hold
        if pending[0] == 1 and t - pending[3] >= hold:
            waited = t - pending[3] - hold
            if (defer > 0 and waited < defer
                    and _k.rival_ahead(n_states, delta, start, to_go, pending, pending_f)):
                h = hold + defer
            if settle > 0 and waited < settle and motion[0] > settle_ratio * motion[1]:
                h = max(h, hold + settle)
        if _k.decide_step(t, score, score_start, thresholds, scale, min_length, max_length, h,
                          refractory, pending, pending_f, event):
            _k.clear_matches(delta)
            events_out[n_events, 0] = event[0]
            events_out[n_events, 1] = event[1]
            events_out[n_events, 2] = event[2]
            events_out[n_events, 3] = t
            n_events += 1
    return n_events


def spot_bounded(spotter: Any, x: np.ndarray) -> list[Any]:
    """Every event of an HMM ``spotter`` (no verifier) over a (T, D) sequence, with
    :func:`drop_long`: ``gm.Event`` objects as ``spotter.spot`` gives them (score 0)."""
    import gesturemap as gm

    s = spotter.stream()
    xs = s._frames.run(np.ascontiguousarray(x, dtype=np.float64))
    out = np.zeros((len(xs), 4), dtype=np.int64)
    n = bounded_spot_run(xs, *s._args, out)
    labels = spotter.labels
    return [gm.Event(labels[int(r[0])], int(r[1]), int(r[2]), int(r[3]), 0.0)
            for r in out[:n]]


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
    variants of the spotter: ``bounded`` (:func:`spot_bounded`) and ``entry_free``
    (:func:`entry_free`; with ``min_stay`` 0 it is the package's spotter). Each setting's
    pooled inner metrics and score (F1 minus false alarms per minute beyond 0.3), and each
    variant's choice; the package's own inner table is read from the stored nested run
    ``stored/spotting.gmK.json`` (its chosen setting re-spotted here as a check)."""
    import itertools
    import json

    import gesturemap as gm
    from benchmarks.spotting_hapt import DATA, hhmm, repartition, training_data
    from benchmarks.spotting_misses import match
    from gesturemap.evaluation.spotting import spotting_metrics
    from gesturemap.evaluation.spotting_cv import grouped_folds, load_streams

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
            free = entry_free(gm.Spotter(model, **combo)) if combo["min_stay"] > 0 else sp
            for i in te:
                x = st.sessions[i]
                res["bounded"][ci].append(match(st, int(i), spot_bounded(sp, x)))
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
