"""Issue 12z's held-out runs: the spotter at the package defaults, with and without the context
relabeller (``gm.fit_relabeler``), and with the verifier, over fresh partitions of HAPT's
training subjects (declared in docs/notes/issue-12z.md before they ran).

Per partition (``benchmarks.spotting_hapt.repartition``), 3 outer folds of 7 subjects; in each
the spotter (what ``gesturemap eval --spotting`` trains) and a relabeller are trained on the 14
training subjects only (the relabeller's context, wait and weight chosen by its own
cross-fitting over 2 folds of them), then spot the 7 held-out subjects' whole sessions. Arms:
A the spotter alone; R with the relabeller where its default rule chose it; S where the strict
comparison chose it (same fits); V ``gesturemap eval --spotting --verify``.

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
from gesturemap.evaluation.spot_relabel import fit_relabeler
from gesturemap.evaluation.spotting import spotting_metrics
from gesturemap.evaluation.spotting_cv import (
    _checked,
    _match,
    cross_validate_spotting,
    grouped_folds,
    load_streams,
    make_dataset,
)
from gesturemap.models import MODEL_REGISTRY
from gesturemap.models.spot_verifier import default_contexts
from gesturemap.models.spotting import Spotter

KEYS = ("f1", "macro_f1", "precision", "recall", "false_alarms_per_min", "delay_median_s",
        "delay_p90_s")


def _short(m: dict[str, Any]) -> dict[str, float]:
    return {k: round(float(m[k]), 4) for k in KEYS}


def run_partition(seed: int) -> dict[str, Any]:
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
    verify = cross_validate_spotting(st, "hhmm", {"deltas": False}, {}, folds=3, verify=True,
                                     verifier_context=default_contexts(st.rate_hz))
    out["V"] = _short(verify["metrics"])
    out["V_on"] = [bool(f["chosen"]) for f in verify["verifier"]]
    out["relabeller"] = folds
    return out


def table(runs: dict[str, Any]) -> str:
    lines = ["| partition | A (spotter) | R (relabeller, its rule) | S (strict) | V (verifier) "
             "| relabeller on (rule / strict) |", "|---|---|---|---|---|---|"]

    def cell(m: dict[str, float]) -> str:
        return f"{m['f1']:.3f} / {m['false_alarms_per_min']:.3f} / {m['delay_p90_s']:.2f}"
    for p in sorted(runs, key=int):
        r = runs[p]
        on = (sum(f["chosen"] for f in r["relabeller"]), sum(f["strict"] for f in r["relabeller"]))
        lines.append(f"| {p} | {cell(r['A'])} | {cell(r['R'])} | {cell(r['S'])} | "
                     f"{cell(r['V'])} | {on[0]} / {on[1]} of 3 |")
    mean = {k: np.mean([runs[p][k]["f1"] for p in runs]) for k in "ARSV"}
    lines.append(f"| mean micro F1 | {mean['A']:.3f} | {mean['R']:.3f} | {mean['S']:.3f} | "
                 f"{mean['V']:.3f} | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--partitions", type=int, nargs="*", default=[])
    ap.add_argument("--merge", nargs="*", default=[])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    runs: dict[str, Any] = {}
    for path in args.merge:
        runs.update(json.loads(Path(path).read_text())["runs"])
    for p in args.partitions:
        t0 = time.time()
        runs[str(p)] = run_partition(p)
        runs[str(p)]["seconds"] = round(time.time() - t0, 1)
        print(f"partition {p}: " + ", ".join(f"{k} {runs[str(p)][k]['f1']:.3f}"
                                           for k in "ARSV"), flush=True)
        Path(args.out).write_text(json.dumps({"runs": runs}, indent=1))
    Path(args.out).write_text(json.dumps({"runs": runs}, indent=1))
    print(table(runs))


if __name__ == "__main__":
    main()
