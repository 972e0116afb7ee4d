"""Rehearsal audit on HAPT, held out: does ``gm.audit``'s prediction hold on new performers?

Protocol (``datasets/HAPTTransitions/README.md``'s spotting task): the 21 training subjects
are dealt into 3 outer folds of 7 (sorted subjects round-robin); in each outer fold the other
14 train. Inside them only: 4 cross-fitting parts of 3 or 4 subjects (``--parts``); a
spotting HHMM (the one of ``benchmarks/spotting_hapt.py``: 10 states, null class one state of
8 Gaussians, raw 50 Hz accelerometer + gyroscope) trained on the other parts is audited on
each part's whole sessions (their null segments are the rehearsal; their labelled
transitions the gestures whose recall the thresholds keep; each session's subject named, for
the recall lost on new performers), and the audits are pooled (``cross_fitted_audit``) into
thresholds for the model trained on all 14, with a budget of 0.1 false triggers/min. The held-out subjects' whole
sessions are then spotted with the default thresholds, with the audit's, and with the audit's
when one class costs 10 for a false trigger (the class with the most predicted false
triggers at the default thresholds, chosen from the training subjects' audit).

Printed per outer fold and pooled: predicted and held-out false alarms/min (the ratio must
lie within [0.5, 2]), predicted and held-out recall drop from the default thresholds (the
held-out drop must be at most the predicted + 0.05; the audit predicts it over every
transition and as a share of those the default thresholds find, which on the held-out
subjects predicts that share of what their default thresholds find), the costly class's
held-out false alarms/min (<= 0.05) and the other classes' F1 change (within 0.02).

Run from the repository root (minutes of CPU per fold; nice it on a shared machine)::

    GESTUREMAP_SHARED=../shared nice -n 10 python3 -m benchmarks.rehearsal_audit [--folds 0 1 2] \\
        [--cache DIR] [--out figures.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import gesturemap as gm
from benchmarks.shared_data import DATASETS, describe
from gesturemap.evaluation.audit import cross_fitted_audit
from gesturemap.evaluation.spotting.cv import evaluate_sessions
from gesturemap.evaluation.spotting.scores import spotting_metrics
from gesturemap.evaluation.spotting.streams import grouped_folds, load_streams, make_dataset
from gesturemap.models.spotting.core import DEFAULT_THRESHOLD

BUDGET = 0.1
COST = 10.0
#: Cross-fitting parts of the training subjects: each part model is trained on the others
#: (with 4, on 10 or 11 of the 14: close to the final model's 14, so that its false triggers
#: and its gestures' scores are nearer what the final model's will be than with 2, on 7).
PARTS = 4


def hhmm() -> gm.HHMM:
    """The spotting HHMM of benchmarks/spotting_hapt.py."""
    return gm.HHMM(states=10, gaussians=1, relative_regularization=0.1, deltas=False,
                   class_params={gm.NULL: {"states": 1, "gaussians": 8}})


def _same(x: np.ndarray) -> np.ndarray:
    return x


def fitted(st: Any, sessions: np.ndarray, cache: str | None, name: str) -> gm.HHMM:
    """The spotting HHMM trained on ``sessions``; with ``cache`` (a folder), saved there under
    ``name`` and loaded on the next run (a fit takes minutes; the models are the same)."""
    if cache is not None:
        path = Path(cache) / f"{name}-{'-'.join(map(str, sorted(sessions.tolist())))}.json"
        if path.exists():
            return gm.load(path)
    model = hhmm().fit(make_dataset(st, sessions, _same))
    if cache is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
    return model


def _micro_recall(audit: gm.Audit, which: str) -> float:
    """Recall over every gesture the audit counted, at its chosen thresholds ("chosen": the
    replay of them together) or the default ones ("baseline")."""
    hits = total = 0.0
    for lb in audit.labels:
        c = audit.curve[lb]
        i = int(np.argmin(np.abs(c.multiplier - DEFAULT_THRESHOLD)))
        n = audit.counts[lb][i, 2]
        rec = audit.predicted_recall[lb] if which == "chosen" else c.recall[i]
        hits += rec * n
        total += n
    return hits / total if total else float("nan")


def _share_drop(r: dict[str, Any]) -> float:
    """The recall drop the audit's share of the found transitions predicts on the held-out
    subjects: that share of the transitions their default thresholds find."""
    return r["predicted_found_share_lost"] * r["held_out_default_recall"]


def _held_share(r: dict[str, Any]) -> float:
    """The share of the transitions found at the default thresholds that the held-out
    subjects lost."""
    return r["held_out_recall_drop"] / r["held_out_default_recall"]


def outer_fold(st: Any, fold: int, cache: str | None = None, parts_k: int = PARTS
               ) -> dict[str, Any]:
    """One outer fold's figures."""
    t0 = time.time()
    test = grouped_folds(st.subject, 3)[fold]
    train = np.setdiff1d(np.arange(len(st.sessions)), test)
    parts = []
    for part in grouped_folds(st.subject[train], parts_k):
        rehearse = train[part]
        model = fitted(st, np.setdiff1d(train, rehearse), cache, "part")
        parts.append((model, [st.sessions[i] for i in rehearse],
                      [st.labels[i] for i in rehearse], st.subject[rehearse].tolist()))
    final = fitted(st, train, cache, "final")
    plain = cross_fitted_audit(parts, final, BUDGET, rate_hz=st.rate_hz)
    costly = max(plain.labels, key=lambda lb: plain.baseline_false_alarms[lb])
    costed = cross_fitted_audit(parts, final, BUDGET, {costly: COST}, rate_hz=st.rate_hz)
    classes = [str(g) for g in st.gestures]

    def held(thresholds: dict[str, float] | None, costs: Any = None) -> dict[str, Any]:
        # the costs steer the spotter's decision as well as the thresholds (a project's
        # spotting settings carry both)
        sp = gm.Spotter(final, **({} if thresholds is None else {"thresholds": thresholds}),
                        costs=costs)
        return spotting_metrics(evaluate_sessions(sp, st, test, _same, 50), classes,
                                st.rate_hz)

    base, chosen = held(None), held(plain.thresholds)
    cost = held(costed.thresholds, costed.costs)
    seen_drop = _micro_recall(plain, "baseline") - _micro_recall(plain, "chosen")
    others = [c for c in classes if c != costly]
    f1_change = {c: cost["per_class"][c]["f1"] - chosen["per_class"][c]["f1"] for c in others}
    costly_fa = cost["per_class"][costly]["false_positives"] / cost["null_minutes"]
    return {
        "fold": fold, "held_out_subjects": sorted(set(st.subject[test].tolist())),
        "predicted_fa_per_min": plain.total_false_alarms,
        "predicted_default_fa_per_min": float(sum(plain.baseline_false_alarms.values())),
        "held_out_fa_per_min": chosen["false_alarms_per_min"],
        "default_held_out_fa_per_min": base["false_alarms_per_min"],
        "predicted_recall_drop": plain.recall_drop,
        "predicted_recall_drop_seen": seen_drop,
        "predicted_recall_drop_spread": plain.recall_drop_spread,
        "predicted_found_share_lost": plain.found_share_lost,
        "predicted_default_recall": _micro_recall(plain, "baseline"),
        "held_out_default_recall": base["recall"],
        "held_out_recall_drop": base["recall"] - chosen["recall"],
        "held_out_f1": {"default": base["f1"], "audit": chosen["f1"], "costed": cost["f1"]},
        "costly": costly, "costly_predicted_fa_per_min": costed.predicted_false_alarms[costly],
        "costly_held_out_fa_per_min": costly_fa,
        "costly_default_held_out_fa_per_min":
            chosen["per_class"][costly]["false_positives"] / chosen["null_minutes"],
        "others_f1_change": f1_change,
        "multipliers": plain.multipliers, "costed_multipliers": costed.multipliers,
        "false_alarms": chosen["false_positives"], "null_minutes": chosen["null_minutes"],
        "recall_by_class": {c: {"predicted_default": plain.baseline_recall[c],
                                "predicted": plain.predicted_recall[c],
                                "held_out_default": base["per_class"][c]["recall"],
                                "held_out": chosen["per_class"][c]["recall"]}
                            for c in classes},
        "costed_held_out_f1_by_class": {c: cost["per_class"][c]["f1"] for c in classes},
        "met": plain.met, "costed_met": costed.met,
        "seconds": time.time() - t0,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", help="write the figures as JSON here")
    ap.add_argument("--cache", help="a folder to keep the fitted models in (reused next run)")
    ap.add_argument("--parts", type=int, default=PARTS,
                    help=f"cross-fitting parts of the training subjects (default {PARTS})")
    args = ap.parse_args(argv)
    print(f"data: {describe()}")
    st = load_streams(DATASETS / "HAPTTransitions" / "HAPT_train_streams.npz")
    rows = []
    for k in args.folds:
        r = outer_fold(st, k, args.cache, args.parts)
        rows.append(r)
        print(f"fold {k} (held out {r['held_out_subjects']}, {r['null_minutes']:.0f} min of "
              f"null, {r['seconds']:.0f} s)\n"
              f"  false alarms/min: predicted {r['predicted_fa_per_min']:.3f}, held out "
              f"{r['held_out_fa_per_min']:.3f} (default thresholds "
              f"{r['default_held_out_fa_per_min']:.3f})\n"
              f"  recall drop: predicted {r['predicted_recall_drop']:.3f} (+- "
              f"{r['predicted_recall_drop_spread']:.3f}; counted on the audit's own gestures "
              f"{r['predicted_recall_drop_seen']:.3f}), held out "
              f"{r['held_out_recall_drop']:.3f}\n"
              f"  as a share of the transitions the default thresholds find: predicted "
              f"{r['predicted_found_share_lost']:.3f} (found {r['predicted_default_recall']:.3f}"
              f"), held out {_held_share(r):.3f} (found {r['held_out_default_recall']:.3f}); "
              f"the drop it predicts there {_share_drop(r):.3f}\n"
              f"  F1 held out: default {r['held_out_f1']['default']:.3f}, audit "
              f"{r['held_out_f1']['audit']:.3f}, costed {r['held_out_f1']['costed']:.3f}\n"
              f"  costly class {r['costly']}: false alarms/min held out "
              f"{r['costly_held_out_fa_per_min']:.3f} (without the cost "
              f"{r['costly_default_held_out_fa_per_min']:.3f}); others' F1 change "
              + ", ".join(f"{c} {v:+.3f}" for c, v in r["others_f1_change"].items()), flush=True)
    pred = float(np.mean([r["predicted_fa_per_min"] for r in rows]))
    minutes = sum(r["null_minutes"] for r in rows)
    held = sum(r["false_alarms"] for r in rows) / minutes
    ratio = held / pred if pred > 0 else float("inf")
    drop_ok = all(r["held_out_recall_drop"] <= r["predicted_recall_drop"] + 0.05 for r in rows)
    share_ok = all(r["held_out_recall_drop"] <= _share_drop(r) + 0.05 for r in rows)
    costly_ok = all(r["costly_held_out_fa_per_min"] <= 0.05 for r in rows)
    f1_ok = all(abs(v) <= 0.02 for r in rows for v in r["others_f1_change"].values())
    print(f"pooled: predicted {pred:.3f}/min, held out {held:.3f}/min (ratio {ratio:.2f}, "
          f"{'within' if 0.5 <= ratio <= 2 else 'OUTSIDE'} a factor 2); recall drop "
          f"{'within' if drop_ok else 'OUTSIDE'} predicted + 0.05 (as a share of the found: "
          f"{'within' if share_ok else 'OUTSIDE'}); costly class "
          f"{'<=' if costly_ok else 'ABOVE'} 0.05/min; others' F1 "
          f"{'within' if f1_ok else 'OUTSIDE'} 0.02")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1, default=float)


if __name__ == "__main__":
    main()
