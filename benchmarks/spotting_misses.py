"""Why does the spotter miss a HAPT transition with nothing emitted in its window? (issue 12u)

For one partition of HAPT's 21 training subjects (``--partition-seed``, as
``benchmarks.spotting_hapt``) and one outer fold, a model is trained the benchmark's way (the
HHMM with the HHMM's own null floor) and the plain spotter (no verifier) runs at a given setting
over held-out sessions: the outer fold's test subjects (``--level outer``) or each inner fold's
test half, the model trained on the other half (``--level inner``, what the inner CV sees);
``--null-floor 0.01``: the null class with its own covariance floor (issue 12q).

Every ground-truth transition that no event matches and no event of any label was emitted for
in its matching window (``start .. end + 1 s``) is a *pure miss*; each is given one cause, the
first that applies, from three traces of each class's free-start match score (frame by frame,
the compiled kernels of ``gm.Spotter``):

- ``null wins``: with no event ever emitted (a threshold no match reaches: nothing cleared, no
  refractory period), the class's match never scores above 0 in the window (the null model
  explains those frames better than the gesture at every length);
- ``below threshold``: it scores above 0 but never reaches the class's threshold;
- ``min_stay``: it would reach the threshold with ``min_stay`` 0 (the chosen setting has 0.5);
- ``duration``: it reaches the threshold only with a length outside ``min_duration ..
  max_duration`` times the class's expected duration;
- ``earlier event``: it qualifies in the free trace, not in the real run: an event emitted
  before the window cleared the partial matches, or its refractory period covered the frames;
- ``outranked``: it qualified in the real run but another class's candidate ranked above it
  (and was emitted outside the window, or later);
- ``late``: it was the candidate and was emitted after the window closed (hold, defer).

Then the same sessions are spotted with one setting relaxed at a time; for each relaxation the
pure misses it turns into true positives and the change of every count (true / false
positives) over those sessions. Nothing here chooses anything.

    nice -n 10 python3 -m benchmarks.spotting_misses --partition-seed 0 --fold 0 \
        --level outer --settings '{"threshold": 0.3, ...}' --out OUT.json

``--settings`` defaults to the outer fold's chosen setting in a stored nested run
(``--chosen DIR``: ``DIR/spotting.gmK.json``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

import gesturemap as gm
from benchmarks.spotting_hapt import DATA, hhmm, repartition, training_data
from gesturemap.evaluation.spotting.cv import grouped_folds, load_streams
from gesturemap.evaluation.spotting.scores import ground_truth_events, match_detections
from gesturemap.models.spotting import _kernels as _k

TOLERANCE = 50
#: one setting relaxed at a time (applied over the chosen setting)
RELAXATIONS: dict[str, Any] = {
    "threshold x0.5": lambda s: {"threshold": s["threshold"] * 0.5},
    "threshold -0.1": lambda s: {"threshold": max(s["threshold"] - 0.1, 0.05)},
    "min_stay 0": lambda s: {"min_stay": 0.0},
    "min_duration 0.15": lambda s: {"min_duration": 0.15},
    "max_duration 3": lambda s: {"max_duration": 3.0},
    "refractory 0": lambda s: {"refractory_frames": 0},
    "hold 0, defer 0": lambda s: {"hold_frames": 0, "defer_frames": 0},
    "defer 0": lambda s: {"defer_frames": 0},
    "max_stay 1.5": lambda s: {"max_stay": 1.5},
    "defer 25": lambda s: {"defer_frames": min(25, s.get("defer_frames", 50))},
    "hold 10": lambda s: {"hold_frames": min(10, s.get("hold_frames", 10))},
}


def trace(spotter: gm.Spotter, x: np.ndarray) -> dict[str, np.ndarray]:
    """Frame-by-frame state of the spotter over ``x``: each class's match score and start,
    whether the frame is in a refractory period, the pending candidate's class (-1: none),
    and the events (class, start, end, emitted)."""
    s = spotter.stream()
    frames = s._frames.run(np.ascontiguousarray(x, dtype=np.float64))
    st = s._s
    c = len(spotter.labels)
    score = np.empty((len(x), c))
    start = np.empty((len(x), c), dtype=np.int64)
    quiet = np.zeros(len(x), dtype=bool)
    pend = np.full(len(x), -1, dtype=np.int64)
    events = []
    for t in range(len(x)):
        quiet[t] = t < st["pending"][4]
        if _k.spot_step(frames[t], t, *s._args):
            e = st["event"]
            events.append((int(e[0]), int(e[1]), int(e[2]), t))
        score[t] = st["score"]
        start[t] = st["score_start"]
        if st["pending"][0] == 1:
            pend[t] = st["pending"][1]
    return {"score": score, "start": start, "quiet": quiet, "pending": pend, "events": events}


def qualifies(sp: gm.Spotter, tr: dict[str, np.ndarray], c: int, lo: int, hi: int,
              lengths: bool = True) -> np.ndarray:
    """Frames ``lo .. hi - 1`` at which class ``c``'s match reaches its threshold (and, with
    ``lengths``, spans min .. max length): a boolean mask."""
    t = np.arange(lo, hi)
    ok = tr["score"][lo:hi, c] >= sp.thresholds_[c]
    if lengths:
        n = t - tr["start"][lo:hi, c] + 1
        ok &= (n >= sp.min_length_[c]) & (n <= sp.max_length_[c])
    return ok


def cause(sp: gm.Spotter, free: dict, free0: dict | None, run: dict, c: int, s: int,
          e: int) -> tuple[str, dict[str, Any]]:
    """The first cause that applies to a pure miss of class ``c`` over frames ``s .. e``
    (module docstring), and the figures behind it."""
    hi = min(e + TOLERANCE + 1, len(run["quiet"]))
    typ = sp.typical_scores_[c]
    info = {"free_max_ratio": float(np.max(free["score"][s:hi, c]) / typ),
            "run_max_ratio": float(np.max(run["score"][s:hi, c]) / typ),
            "threshold_ratio": float(sp.thresholds_[c] / typ)}
    if free0 is not None:
        info["free_min_stay0_max_ratio"] = float(np.max(free0["score"][s:hi, c]) / typ)
    if info["free_max_ratio"] <= 0:
        if free0 is not None and qualifies(sp, free0, c, s, hi).any():
            return "min_stay", info
        return "null wins", info
    if not qualifies(sp, free, c, s, hi, lengths=False).any():
        if free0 is not None and qualifies(sp, free0, c, s, hi).any():
            return "min_stay", info
        return "below threshold", info
    if not qualifies(sp, free, c, s, hi).any():
        above = qualifies(sp, free, c, s, hi, lengths=False)
        n = (np.arange(s, hi) - free["start"][s:hi, c] + 1)[above]
        info["lengths_above_threshold"] = [int(n.min()), int(n.max())]
        info["allowed_lengths"] = [int(sp.min_length_[c]), int(sp.max_length_[c])]
        return "duration", info
    q = qualifies(sp, run, c, s, hi) & ~run["quiet"][s:hi]
    if not q.any():
        before = [ev for ev in run["events"] if ev[3] < s]
        info["frames_since_last_event"] = int(s - before[-1][3]) if before else None
        return "earlier event", info
    if not (run["pending"][s:hi] == c).any():
        return "outranked", info
    later = [ev for ev in run["events"] if ev[3] >= hi]
    info["next_event"] = ({"label": sp.labels[later[0][0]], "emitted_after_end":
                           int(later[0][3] - e)} if later else None)
    pc = run["pending"][hi - 1]
    if pc >= 0 and pc != c:
        return "outranked", info
    return "late", info


def match(st: Any, i: int, events: list[Any]) -> Any:
    truth = [(str(lb), s, e) for lb, s, e in ground_truth_events(st.labels[i], st.gestures)]
    return match_detections(truth, [(str(ev.label), ev.emitted) for ev in events], TOLERANCE,
                            int(np.sum(~np.isin(st.labels[i], st.gestures))))


def diagnose(st: Any, model: Any, sessions: np.ndarray, settings: dict[str, Any]
             ) -> dict[str, Any]:
    """Every pure miss of ``settings`` over ``sessions`` with its cause, and what each
    relaxation recovers and costs."""
    sp = gm.Spotter(model, **settings)
    never = dict(settings, threshold=1e9)
    sp_free = gm.Spotter(model, **never)
    sp_free0 = gm.Spotter(model, **dict(never, min_stay=0.0)) if settings.get(
        "min_stay", 0.0) > 0 else None
    index = {str(lb): k for k, lb in enumerate(sp.labels)}
    relaxed = {n: gm.Spotter(model, **dict(settings, **f(settings)))
               for n, f in RELAXATIONS.items()}
    misses, counts = [], {n: {"tp": 0, "fp": 0, "missed": 0} for n in ["chosen", *relaxed]}
    for i in sessions:
        x = st.sessions[i]
        run = trace(sp, x)
        evs = sp.spot(x)
        assert [(index[str(ev.label)], ev.start, ev.end, ev.emitted) for ev in evs] == \
            run["events"], "the trace differs from gm.spot"
        res = match(st, int(i), evs)
        rel = {n: match(st, int(i), r.spot(x)) for n, r in relaxed.items()}
        for n, r in [("chosen", res), *rel.items()]:
            counts[n]["tp"] += len(r.true_positives)
            counts[n]["fp"] += len(r.false_positives)
            counts[n]["missed"] += len(r.missed)
        pure = [(lb, s, e) for lb, s, e in res.missed
                if not any(s <= ev.emitted <= e + TOLERANCE for ev in evs)]
        if not pure:
            continue
        free = trace(sp_free, x)
        free0 = trace(sp_free0, x) if sp_free0 is not None else None
        for lb, s, e in pure:
            why, info = cause(sp, free, free0, run, index[lb], s, e)
            near = [ev for ev in evs if s - 100 <= ev.emitted <= e + TOLERANCE + 100]
            misses.append({"session": int(i), "label": lb, "start": s, "end": e,
                           "cause": why, **info,
                           "event_within_2s": [(str(ev.label), ev.emitted - e) for ev in near],
                           "recovered_by": [n for n, r in rel.items() if any(
                               t_lb == lb and t_end == e for t_lb, _, t_end in r.true_positives)]})
    return {"settings": settings, "pure_misses": misses, "n_pure": len(misses),
            "counts": counts}


NAMES = {"7": "stand-to-sit", "8": "sit-to-stand", "9": "sit-to-lie", "10": "lie-to-sit",
         "11": "stand-to-lie", "12": "lie-to-stand"}
CAUSES = ("null wins", "below threshold", "min_stay", "duration", "earlier event", "outranked",
          "late")


def summarise(paths: list[Path]) -> str:
    """A markdown table of pure misses by class and cause over the result files ``paths``,
    then, per relaxation, the pure misses it recovers and the counts it gives."""
    parts = [p for path in paths for p in json.loads(path.read_text())["parts"]]
    misses = [m for p in parts for m in p["pure_misses"]]
    lines = ["| class | " + " | ".join(CAUSES) + " | all |",
             "|---" * (len(CAUSES) + 2) + "|"]
    for lb, name in [*NAMES.items(), ("all", "all")]:
        ms = [m for m in misses if lb in ("all", m["label"])]
        lines.append(f"| {name} | " + " | ".join(
            str(sum(m["cause"] == c for m in ms)) for c in CAUSES) + f" | {len(ms)} |")
    lines += ["", "| setting | pure misses recovered | TP | FP | missed | micro F1 |",
              "|---|---|---|---|---|---|"]
    for n in parts[0]["counts"]:
        tp, fp, fn = (sum(p["counts"][n][k] for p in parts) for k in ("tp", "fp", "missed"))
        rec = sum(n in m["recovered_by"] for m in misses)
        lines.append(f"| {n} | {rec if n != 'chosen' else '-'} | {tp} | {fp} | {fn} | "
                     f"{2 * tp / (2 * tp + fp + fn):.3f} |")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--partition-seed", type=int, default=0)
    ap.add_argument("--fold", type=int, default=0, help="outer fold (0-2)")
    ap.add_argument("--level", choices=("outer", "inner"), default="outer")
    ap.add_argument("--settings", type=json.loads, default=None,
                    help="the spotter's setting (JSON); default: the fold's chosen setting "
                    "in --chosen")
    ap.add_argument("--chosen", type=Path, default=None,
                    help="a stored nested run's folder (spotting.gmK.json)")
    ap.add_argument("--null-floor", type=float, default=None,
                    help="the null class's own relative_regularization (default: the HHMM's)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--summarise", type=Path, nargs="+",
                    help="print the table of causes over these result files, and stop")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    if args.summarise:
        print(summarise(args.summarise))
        return
    if args.partition_seed >= 15:
        raise SystemExit("partitions 15 and above are kept for held-out runs")
    settings = args.settings
    if settings is None:
        stored = json.loads((args.chosen / f"spotting.gm{args.fold}.json").read_text())
        settings = stored["chosen"][0]
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), args.partition_seed)
    test = grouped_folds(st.subject, 3)[args.fold]
    train = np.setdiff1d(np.arange(len(st.sessions)), test)
    pairs = [(train, test)] if args.level == "outer" else [
        (np.setdiff1d(train, train[loc]), train[loc]) for loc in grouped_folds(st.subject[train], 2)]
    out = {"partition_seed": args.partition_seed, "fold": args.fold, "level": args.level,
           "null_floor": args.null_floor, "parts": []}
    for tr, te in pairs:
        model = hhmm(args.null_floor).fit(training_data(st, tr, lambda x: x))
        d = diagnose(st, model, te, settings)
        d["train_subjects"] = sorted(int(s) for s in np.unique(st.subject[tr]))
        out["parts"].append(d)
        causes: dict[str, int] = {}
        for m in d["pure_misses"]:
            causes[m["cause"]] = causes.get(m["cause"], 0) + 1
        print(f"p{args.partition_seed} f{args.fold} {args.level}: {d['n_pure']} pure misses "
              f"{causes}; counts {d['counts']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
