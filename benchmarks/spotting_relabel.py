"""Held-out runs of the context relabeller: the spotter at the package defaults, with and without the context
relabeller (``gm.fit_relabeler``), and with the verifier, over fresh partitions of HAPT's
training subjects (declared before they ran).

Per partition (``benchmarks.spotting_hapt.repartition``), 3 outer folds of 7 subjects; in each
the spotter (what ``gesturemap eval --spotting`` trains) and a relabeller are trained on the 14
training subjects only (the relabeller's context, wait and weight chosen by its own
cross-fitting over 2 folds of them), then spot the 7 held-out subjects' whole sessions. Arms:
A the spotter alone; R with the relabeller where its default rule chose it; S where the strict
comparison chose it (same fits); V ``gesturemap eval --spotting --verify``. With
``--nested``: N, the spotter's settings chosen inside each outer fold (``run_nested``), and NR,
N with the relabeller.

Run from the repository root::

    nice -n 5 python3 -m benchmarks.spotting_relabel --partitions 21 23 25 27 29 --out /tmp/a.json &
    nice -n 5 python3 -m benchmarks.spotting_relabel --partitions 22 24 26 28 30 --out /tmp/b.json
    python3 -m benchmarks.spotting_relabel --merge /tmp/a.json /tmp/b.json \
        --out docs/spotting_relabel_12z.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.spotting_hapt import DATA, repartition
from gesturemap.evaluation.spotting.cv import (
    _checked,
    _match,
    cross_validate_spotting,
    grouped_folds,
    load_streams,
    make_dataset,
)
from gesturemap.evaluation.spotting.relabel import fit_relabeler
from gesturemap.evaluation.spotting.scores import spotting_metrics
from gesturemap.models import MODEL_REGISTRY
from gesturemap.models.spotting.core import Spotter
from gesturemap.models.spotting.verifier import default_contexts

KEYS = ("f1", "macro_f1", "precision", "recall", "false_alarms_per_min", "delay_median_s",
        "delay_p90_s")


def _short(m: dict[str, Any]) -> dict[str, float]:
    return {k: round(float(m[k]), 4) for k in KEYS}


def run_partition(seed: int, verifier: bool = True) -> dict[str, Any]:
    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    settings, params = _checked("hhmm", {"deltas": False}, {})
    classes = [str(g) for g in st.gestures]
    held: dict[str, list[Any]] = {"A": [], "R": [], "S": []}
    folds = []
    for test in grouped_folds(st.subject, 3):
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        model = MODEL_REGISTRY["hhmm"](**params).fit(make_dataset(st, train, lambda x: x))
        v = fit_relabeler({"kind": "hhmm", "params": params, "spotting": settings},
                          [st.sessions[i] for i in train], [st.labels[i] for i in train],
                          st.subject[train], gestures=st.gestures, rate_hz=st.rate_hz)
        cv = v.cv_
        strict = cv["inner_score_with"] > cv["inner_score_without"]
        folds.append({k: cv[k] for k in ("chosen", "reason", "context", "wait", "weight",
                                         "inner_score_with", "inner_score_without")}
                     | {"strict": strict})
        plain = Spotter(model, **settings)
        relabelled = Spotter(model, **settings, verifier=v)
        a = [_match(st, int(i), plain.spot(st.sessions[i])) for i in test]
        r = [_match(st, int(i), relabelled.spot(st.sessions[i])) for i in test]
        held["A"] += a
        held["R"] += r if cv["chosen"] else a
        held["S"] += r if strict else a
    out = {k: _short(spotting_metrics(v, classes, st.rate_hz)) for k, v in held.items()}
    out["relabeller"] = folds
    if not verifier:
        return out
    verify = cross_validate_spotting(st, "hhmm", {"deltas": False}, {}, folds=3, verify=True,
                                     verifier_context=default_contexts(st.rate_hz))
    out["V"] = _short(verify["metrics"])
    out["V_on"] = [bool(f["chosen"]) for f in verify["verifier"]]
    return out


def run_nested(seed: int) -> dict[str, Any]:
    """The nested arms on partition ``seed``: N, the spotter's settings chosen per outer fold
    by ``benchmarks.spotting_hapt``'s inner grid (2 inner folds of subjects; its HHMM, the null
    class's own floor, no verifier); NR, N's events named by a relabeller trained on the
    outer fold's training subjects for N's chosen settings (``fit_relabeler``'s defaults)."""
    from benchmarks.spotting_hapt import hhmm
    from gesturemap.evaluation.spotting.cv import nested_cv

    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    classes = [str(g) for g in st.gestures]
    grid = {"relative_threshold": [0.2, 0.3, 0.4], "min_stay": [0.0, 0.5], "hold_frames": [10, 25],
            "max_stay": [1.0], "defer_frames": [0, 50]}
    held: dict[str, list[Any]] = {"N": [], "NR": []}
    folds = []
    for k, test in enumerate(grouped_folds(st.subject, 3)):
        res = nested_cv(st, hhmm, grid, lambda x: x, log=lambda s: None, only_fold=k)
        chosen = res["chosen"][0]
        train = np.setdiff1d(np.arange(len(st.sessions)), test)
        v = fit_relabeler(hhmm, [st.sessions[i] for i in train], [st.labels[i] for i in train],
                          st.subject[train], gestures=st.gestures, rate_hz=st.rate_hz,
                          **chosen)
        model = hhmm().fit(make_dataset(st, train, lambda x: x))
        plain = [_match(st, int(i), Spotter(model, **chosen).spot(st.sessions[i]))
                 for i in test]
        named = ([_match(st, int(i), Spotter(model, **chosen, verifier=v).spot(st.sessions[i]))
                  for i in test] if v.cv_["chosen"] else plain)
        assert [dataclass_tuple(r) for r in plain] == [dataclass_tuple(r) for r in
                                                        res["sessions"]], "N is nested_cv's"
        held["N"] += plain
        held["NR"] += named
        folds.append({"chosen_settings": chosen} | {
            k2: v.cv_[k2] for k2 in ("chosen", "reason", "context", "wait", "weight")})
    out: dict[str, Any] = {k: _short(spotting_metrics(v, classes, st.rate_hz))
                           for k, v in held.items()}
    out["relabeller"] = folds
    return out


def plot(seed: int, path: Path) -> None:
    """One held-out session of partition ``seed`` (the one with the most transitions in its
    first outer fold): its transitions, the spotter's events alone and with the relabeller
    that fold's training subjects gave."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.spotting_hapt import RATE
    from gesturemap.evaluation.spotting.scores import ground_truth_events

    st = repartition(load_streams(str(DATA / "HAPT_train_streams.npz")), seed)
    settings, params = _checked("hhmm", {"deltas": False}, {})
    test = grouped_folds(st.subject, 3)[0]
    train = np.setdiff1d(np.arange(len(st.sessions)), test)
    model = MODEL_REGISTRY["hhmm"](**params).fit(make_dataset(st, train, lambda x: x))
    v = fit_relabeler({"kind": "hhmm", "params": params, "spotting": settings},
                      [st.sessions[i] for i in train], [st.labels[i] for i in train],
                      st.subject[train], gestures=st.gestures, rate_hz=st.rate_hz)
    i = max(test, key=lambda j: len(ground_truth_events(st.labels[j], st.gestures)))
    x = st.sessions[i]
    rows = {"spotter alone": Spotter(model, **settings).spot(x),
            "with the relabeller": Spotter(model, **settings, verifier=v).spot(x)}
    names = {str(g): n.split(":")[1].lower().replace("_", " ") for g, n in zip(
        range(1, 13), np.load(DATA / "HAPT_train_streams.npz")["label_names"], strict=True)}
    cols = {str(g): c for g, c in zip(st.gestures, plt.cm.tab10.colors, strict=False)}
    truth = ground_truth_events(st.labels[i], st.gestures)
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(12, 5), sharex=True,
                                 gridspec_kw={"height_ratios": [1.4, 1.6]})
    t = np.arange(len(x)) / RATE
    a0.plot(t, x[:, :3], lw=0.5)
    a0.set_ylabel("acceleration (g)")
    a0.set_title(f"HAPT session {i}, held out (partition {seed}, outer fold 1): events "
                 "against the ground truth; a wrong name is outlined red")
    for lb, s0, e in truth:
        a1.add_patch(plt.Rectangle((s0 / RATE, 2.15), (e + 1 - s0) / RATE, 0.6,
                                   color=cols[str(lb)]))
        a1.text(s0 / RATE, 2.8, names[str(lb)], fontsize=6, rotation=30, va="bottom")
    for row, events in enumerate(rows.values()):
        y0 = 1 - row
        for ev in events:
            near = [str(lb) for lb, s0, e in truth if s0 <= ev.emitted <= e + RATE]
            wrong = not near or near[0] != str(ev.label)
            a1.add_patch(plt.Rectangle((ev.start / RATE, y0 + 0.15),
                                       (ev.end + 1 - ev.start) / RATE, 0.6,
                                       color=cols[str(ev.label)], alpha=0.7,
                                       ec="red" if wrong else "none", lw=1.5))
            a1.plot([ev.emitted / RATE], [y0 + 0.45], "kv", ms=4)
    a1.set_yticks([0.45, 1.45, 2.45], ["with the relabeller", "spotter alone",
                                      "ground truth"])
    a1.set_ylim(0, 3.6)
    a1.set_xlabel("time (s)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=cols[str(g)]) for g in st.gestures]
    a1.legend(handles, [names[str(g)] for g in st.gestures], fontsize=6, ncol=6,
              loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def dataclass_tuple(r: Any) -> tuple[Any, ...]:
    return (r.true_positives, r.false_positives, r.missed, r.null_frames)


def nested_table(runs: dict[str, Any]) -> str:
    lines = ["| partition | N (settings chosen inside) | NR (+ relabeller) | relabeller on |",
             "|---|---|---|---|"]

    def cell(m: dict[str, float]) -> str:
        return (f"{m['f1']:.3f} (macro {m['macro_f1']:.3f}) / {m['false_alarms_per_min']:.3f}"
                f" / {m['delay_p90_s']:.2f}")
    for p in sorted(runs, key=int):
        r = runs[p]
        lines.append(f"| {p} | {cell(r['N'])} | {cell(r['NR'])} | "
                     f"{sum(f['chosen'] for f in r['relabeller'])} of 3 |")
    mean = {k: np.mean([runs[p][k]["f1"] for p in runs]) for k in ("N", "NR")}
    lines.append(f"| mean micro F1 | {mean['N']:.3f} | {mean['NR']:.3f} | |")
    return "\n".join(lines)


def table(runs: dict[str, Any]) -> str:
    lines = ["| partition | A (spotter) | R (relabeller, its rule) | S (strict) | V (verifier) "
             "| relabeller on (rule / strict) |", "|---|---|---|---|---|---|"]

    def cell(m: dict[str, float]) -> str:
        return f"{m['f1']:.3f} / {m['false_alarms_per_min']:.3f} / {m['delay_p90_s']:.2f}"
    for p in sorted(runs, key=int):
        r = runs[p]
        on = (sum(f["chosen"] for f in r["relabeller"]), sum(f["strict"] for f in r["relabeller"]))
        v = cell(r["V"]) if "V" in r else "—"
        lines.append(f"| {p} | {cell(r['A'])} | {cell(r['R'])} | {cell(r['S'])} | "
                     f"{v} | {on[0]} / {on[1]} of 3 |")
    mean = {k: np.mean([runs[p][k]["f1"] for p in runs]) if all(k in runs[p] for p in runs)
            else float("nan") for k in "ARSV"}
    lines.append(f"| mean micro F1 | {mean['A']:.3f} | {mean['R']:.3f} | {mean['S']:.3f} | "
                 f"{mean['V']:.3f} | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--partitions", type=int, nargs="*", default=[])
    ap.add_argument("--merge", nargs="*", default=[])
    ap.add_argument("--no-verifier", action="store_true",
                    help="leave arm V out (the relabeller's arms only)")
    ap.add_argument("--nested", action="store_true",
                    help="the nested arms (N, NR) instead of A, R, S, V")
    ap.add_argument("--plot", metavar="PNG", help="only the plot of one held-out session of "
                    "the first --partitions (default 21)")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.plot:
        plot((args.partitions or [21])[0], Path(args.plot))
        return
    if not args.out:
        ap.error("--out is needed")
    runs: dict[str, Any] = {}
    for path in args.merge:
        runs.update(json.loads(Path(path).read_text())["runs"])
    for p in args.partitions:
        t0 = time.time()
        runs[str(p)] = run_nested(p) if args.nested else run_partition(p, not args.no_verifier)
        runs[str(p)]["seconds"] = round(time.time() - t0, 1)
        arms = ("N", "NR") if args.nested else [k for k in "ARSV" if k in runs[str(p)]]
        print(f"partition {p}: " + ", ".join(f"{k} {runs[str(p)][k]['f1']:.3f}"
                                           for k in arms), flush=True)
        Path(args.out).write_text(json.dumps({"runs": runs}, indent=1, default=str))
    Path(args.out).write_text(json.dumps({"runs": runs}, indent=1, default=str))
    print(nested_table(runs) if args.nested else table(runs))


if __name__ == "__main__":
    main()
