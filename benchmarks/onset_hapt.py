"""The onset detector's learned threshold on HAPT's postural transitions, with and without
rest in the takes it learns from .

Takes are HAPT's transitions cut with 0, 1 or 3 s of the posture before and after; the
detector learns its threshold from the takes of some subjects and runs over the whole
sessions of others. A transition counts as fired when an onset falls within 0.5 s before to
1.5 s after its start; false onsets are counted inside still postures (sitting, standing,
lying; 1 s away from their ends), per minute.

    python3 -m benchmarks.onset_hapt            # the declared CV over the training subjects
    python3 -m benchmarks.onset_hapt --heldout  # the rule of before and the chosen one, held out

Subjects: HAPT's 21 training subjects (the only ones here); every third (sorted) is held out,
the others are split in two folds (alternate subjects) for the CV.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.shared_data import DATASETS
from gesturemap.live.onset import OnsetDetector

RATE = 50
DATA = DATASETS / "HAPTTransitions"
GRID = [(50, 0.1), (90, 0.1), (90, 0.2), (95, 0.05), (95, 0.1), (95, 0.2), (99, 0.05)]


def load() -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    z = np.load(DATA / "HAPT_train_streams.npz")
    cuts = np.cumsum(z["lengths"])[:-1]
    return (np.split(z["X_concat"].astype(np.float64), cuts),
            np.split(z["labels_concat"].astype(int), cuts), z["subject"])


def runs(lab: np.ndarray) -> list[tuple[int, int, int]]:
    """(label, first, last) of each run of one label."""
    edges = np.flatnonzero(np.diff(np.r_[-99, lab, -99]))
    return [(int(lab[a]), int(a), int(b) - 1) for a, b in zip(edges[:-1], edges[1:],
                                                              strict=True)]


class Rule(OnsetDetector):
    """A detector whose threshold is ``ratio`` × the ``percentile`` of the takes' energies."""

    percentile, ratio = 50.0, 0.1

    def calibrate(self, takes):  # type: ignore[override]
        if self.fixed:
            return
        e = np.concatenate([np.sum(np.diff(x, axis=0) ** 2, axis=1) for x in takes])
        self.threshold = self.ratio * float(np.percentile(e, self.percentile))


def rule(percentile: float, ratio: float) -> type[Rule]:
    return type("R", (Rule,), {"percentile": percentile, "ratio": ratio})


def evaluate(make, streams, labels, train, test, pad_s, amp=1.0):
    """(fired, transitions, false onsets per minute of still posture, threshold)."""
    p = int(pad_s * RATE)
    takes = [streams[s][max(0, a - p): b + 1 + p] for s in train
             for lab, a, b in runs(labels[s]) if 7 <= lab <= 12]
    det = make()
    det.calibrate(takes)
    hit = n = false = still = 0
    for s in test:
        det.reset()
        fired = np.array([det.step(f) for f in streams[s] * amp])
        for lab, a, b in runs(labels[s]):
            if 7 <= lab <= 12:
                n += 1
                hit += bool(fired[max(0, a - RATE // 2): a + 3 * RATE // 2].any())
            if lab in (4, 5, 6) and b - a > 2 * RATE:
                still += b - a - 2 * RATE
                false += int(fired[a + RATE: b - RATE].sum())
    return hit, n, false / (still / RATE / 60), det.threshold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    streams, labels, subject = load()
    subs = sorted(set(subject.tolist()))
    held = subs[::3]
    sessions = np.arange(len(streams))
    report: dict = {}
    if args.heldout:
        train = [s for s in sessions if subject[s] not in held]
        test = [s for s in sessions if subject[s] in held]
        for pct, ratio in [(50, 0.1), (95, 0.05)]:
            for pad, amp in [(0, 1.0), (1, 1.0), (3, 1.0), (0, 0.5)]:
                h, n, f, th = evaluate(rule(pct, ratio), streams, labels, train, test, pad, amp)
                key = f"p{pct} x{ratio} pad {pad} s amplitude {amp}"
                report[key] = {"fired": h, "transitions": n, "false_per_min": f, "threshold": th}
                print(f"{key}: {h}/{n} fired, {f:.2f} false onsets/min, threshold {th:.3g}")
    else:
        train_subs = [s for s in subs if s not in held]
        folds = [train_subs[0::2], train_subs[1::2]]
        for pct, ratio in GRID:
            row: dict = {}
            for pad, amp in [(0, 1.0), (1, 1.0), (3, 1.0), (0, 0.5)]:
                h = n = 0
                fpm = []
                for k in range(2):
                    tr = [s for s in sessions if subject[s] in folds[1 - k]]
                    te = [s for s in sessions if subject[s] in folds[k]]
                    a, b, f, _ = evaluate(rule(pct, ratio), streams, labels, tr, te, pad, amp)
                    h, n = h + a, n + b
                    fpm.append(f)
                row[f"pad {pad} s amplitude {amp}"] = {"fired": h / n,
                                                       "false_per_min": float(np.mean(fpm))}
            row["score"] = float(np.mean([row[f"pad {p} s amplitude 1.0"]["fired"]
                                          for p in (0, 1, 3)]))
            report[f"p{pct} x{ratio}"] = row
            print(f"p{pct} x{ratio}: score {row['score']:.3f}, "
                  + ", ".join(f"{k}: {v['fired']:.3f} ({v['false_per_min']:.1f}/min)"
                              for k, v in row.items() if k != "score"), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
