"""DTW's cost per frame against classes, channels and takes, and its accuracy on the shared
datasets, for the exact stream and its options (``prune``, ``decimate``, ``exact_pruning``),
beside the code of another checkout (``--before``: a source tree, e.g. ``git archive`` of the
commit before) measured in the same run, taking its turn at every grid point in a process of
its own.

Step cost: synthetic takes of ``gesturemap.bench_scaling.synthetic_dataset`` (150 frames each)
at (5, 20, 50 classes) × (6, 60 channels) × (3 takes per class, 100 takes in all); held-out
takes of every class stepped one after the other, the stream reset at each take's start
(2,000 frames: p50, p99 and mean per frame, including the Python call and the Result; the
median of ``--repeats`` rounds, the variants taking turns). Last, a real recorded dataset's
scale: every ShoulderExerciseWatch training take a template (98 takes, 167k frames), 1,000
frames of its test takes streamed.

Accuracy: ``predict`` on the test takes and the label a stream shows at each test take's last
frame (reset at its start), on ShoulderExerciseWatch (train/test split; every take subsampled
by 4, as benchmarks/defaults_lodo.py does for DTW, to keep the run short), JapaneseVowels
(train/test split) and HAPT's transitions (3 subject folds, pooled); inputs standardised with
the training statistics. ``frames agree``: the share of every streamed frame whose label is
the exact stream's (the "exact" variant's), over all test takes.

Run from the repository root (one process at a time; the machine is shared)::

    python3 -m benchmarks.bench_dtw_scaling [--before DIR] [--quick] [--grid POINTS]
        [--repeats N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# ``--code PATH`` (the "before" worker): import gesturemap from that checkout instead
if "--code" in sys.argv:
    sys.path.insert(0, sys.argv[sys.argv.index("--code") + 1])
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gesturemap as gm  # noqa: E402

try:  # the synthetic takes of `gesturemap bench --scaling` (in the package in older checkouts)
    from benchmarks.bench_scaling import synthetic_dataset
except ImportError:
    from gesturemap.bench_scaling import synthetic_dataset

#: Stream options compared (constructor parameters of gm.DTW, and DTWStream's
#: ``exact_pruning``); "exact" is the default.
VARIANTS: dict[str, dict[str, Any]] = {
    "exact": {}, "class-pruned": {"exact_pruning": True}, "prune": {"prune": True},
    "float32": {"precision": "float32"},
    "float32+prune": {"precision": "float32", "prune": True}, "decimate=2": {"decimate": 2},
    "decimate=2+prune": {"decimate": 2, "prune": True},
}
GRID = [(c, d, t) for c in (5, 20, 50) for d in (6, 60) for t in ("3/class", "100")] + [
    (7, 6, "watch")]
QUICK_GRID = [(20, 60, "100"), (5, 6, "3/class")]


def model_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "exact_pruning"}


def new_stream(model: Any, params: dict[str, Any]) -> Any:
    """``model``'s stream; ``exact_pruning`` (a stream option, not the model's) when given."""
    if "exact_pruning" in params:
        return type(model.stream())(model, exact_pruning=params["exact_pruning"])
    return model.stream()


def per_class(classes: int, takes: str) -> int:
    return 3 if takes == "3/class" else max(1, round(100 / classes))


def step_cost(params: dict[str, Any], classes: int, channels: int, takes: str,
              frames: int = 2000) -> dict[str, Any]:
    ds, held = synthetic_dataset(classes, channels, per_class(classes, takes))
    model = gm.DTW(**model_params(params)).fit(ds)
    stream = new_stream(model, params)
    xs = np.concatenate(held)
    for f in xs[:50]:  # warm-up
        stream.step(f)
    n, take_len = len(xs), len(held[0])
    samples = np.empty(frames)
    right = 0
    for i in range(frames):
        if i % take_len == 0:
            stream.reset()
        t0 = time.perf_counter_ns()
        r = stream.step(xs[i % n])
        samples[i] = (time.perf_counter_ns() - t0) / 1e3
        if i % take_len == take_len - 1:
            right += r.label == f"g{(i % n) // take_len}"
    return {"classes": classes, "channels": channels, "takes": takes,
            "total_takes": classes * per_class(classes, takes),
            "p50": float(np.percentile(samples, 50)), "p99": float(np.percentile(samples, 99)),
            "mean": float(samples.mean()), "held_out_right": int(right),
            "held_out": int(frames // take_len)}


def watch_step_cost(params: dict[str, Any], frames: int = 1000) -> dict[str, Any]:
    """Step cost at the scale of a real recorded dataset: every ShoulderExerciseWatch training
    take a template (98 takes, 167k frames, 6-D, full rate), its test takes streamed (reset at
    each take's start)."""
    (tr, ytr, te, _), = splits("watch", step=1)
    ds = gm.Dataset()
    for x, lb in zip(tr, ytr, strict=True):
        ds.add(x, label=lb)
    stream = new_stream(gm.DTW(**model_params(params)).fit(ds), params)
    samples = np.empty(frames)
    i = 0
    for take in te:
        stream.reset()
        for f in take[:frames - i]:
            t0 = time.perf_counter_ns()
            stream.step(f)
            samples[i] = (time.perf_counter_ns() - t0) / 1e3
            i += 1
        if i == frames:
            break
    return {"classes": len(set(ytr)), "channels": 6, "takes": "watch",
            "total_takes": len(tr), "p50": float(np.percentile(samples, 50)),
            "p99": float(np.percentile(samples, 99)), "mean": float(samples.mean()),
            "held_out_right": 0, "held_out": 0}


def _split(path: Path) -> tuple[list[np.ndarray], list[str], np.ndarray]:
    z = np.load(path, allow_pickle=False)
    seqs = np.split(z["X_concat"].astype(np.float64), np.cumsum(z["lengths"])[:-1])
    subject = z["subject"] if "subject" in z.files else np.zeros(len(seqs))
    return seqs, [str(v) for v in z["y"]], np.asarray(subject)


def splits(name: str, step: int | None = None) -> list[tuple[list, list, list, list]]:
    """(train, ytrain, test, ytest) of one shared dataset, standardised with the training
    statistics (every ``step``-th frame; by default 4 for the watch data, else 1)."""
    from benchmarks.shared_data import DATASETS as base

    if name == "hapt":
        seqs, y, subject = _split(base / "HAPTTransitions" / "HAPT_transitions_train.npz")
        subjects = sorted(set(subject.tolist()))
        fold = np.array([subjects.index(s) % 3 for s in subject])
        parts = [([seqs[i] for i in np.flatnonzero(fold != f)],
                  [y[i] for i in np.flatnonzero(fold != f)],
                  [seqs[i] for i in np.flatnonzero(fold == f)],
                  [y[i] for i in np.flatnonzero(fold == f)]) for f in range(3)]
    else:
        folder = {"watch": "ShoulderExerciseWatch", "vowels": "JapaneseVowels"}[name]
        tr, ytr, _ = _split(base / folder / f"{folder}_train.npz")
        te, yte, _ = _split(base / folder / f"{folder}_test.npz")
        parts = [(tr, ytr, te, yte)]
    if step is None:
        step = 4 if name == "watch" else 1
    out = []
    for tr, ytr, te, yte in parts:
        x = np.vstack(tr)
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std < 1e-12] = 1.0
        out.append(([(s[::step] - mean) / std for s in tr], ytr,
                    [(s[::step] - mean) / std for s in te], yte))
    return out


def accuracy(params: dict[str, Any], name: str) -> dict[str, Any]:
    """predict and last-frame accuracy, and every streamed label (for the agreement)."""
    right_batch = right_live = n = 0
    labels: list[Any] = []
    for tr, ytr, te, yte in splits(name):
        ds = gm.Dataset()
        for s, lb in zip(tr, ytr, strict=True):
            ds.add(s, label=lb)
        model = gm.DTW(**model_params(params)).fit(ds)
        right_batch += sum(p == t for p, t in zip(model.predict(te), yte, strict=True))
        stream = new_stream(model, params)
        for s, t in zip(te, yte, strict=True):
            stream.reset()
            seq = [stream.step(f).label for f in s]
            labels += seq
            right_live += seq[-1] == t
        n += len(te)
    return {"dataset": name, "predict": right_batch / n, "live_last": right_live / n,
            "n": n, "labels": labels}


def _worker(before: str, *args: str) -> Any:
    """Run this script's worker with gesturemap imported from the ``before`` checkout."""
    code = str(Path(before).resolve())
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_dtw_scaling", "--code", code,
                          *args], check=True, cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": code})
    return json.loads(out.stdout.splitlines()[-1])


def run(variants: list[str], grid: list, datasets: list[str], repeats: int = 1,
        before: str | None = None) -> dict[str, Any]:
    """Every variant at every grid point, ``repeats`` rounds in which the variants (and the
    ``before`` checkout, in a process of its own) take turns; the median of each figure kept.
    Then the accuracies."""
    steps, accs = [], []
    gm.DTW().fit(synthetic_dataset(2, 3, 2)[0]).stream().step(np.zeros(3))  # compile / load
    names = (["before"] if before else []) + variants
    for classes, channels, takes in grid:
        rounds: dict[str, list] = {v: [] for v in names}
        for _ in range(repeats):
            for v in names:
                if v == "before":
                    rounds[v].append(_worker(before, "--point", f"{classes},{channels},{takes}"))
                elif takes == "watch":
                    rounds[v].append(watch_step_cost(VARIANTS[v]))
                else:
                    rounds[v].append(step_cost(VARIANTS[v], classes, channels, takes))
        for v in names:
            row = {**rounds[v][0], "variant": v}
            for key in ("p50", "p99", "mean"):
                row[key] = float(np.median([r[key] for r in rounds[v]]))
            steps.append(row)
            print(step_row(row), flush=True)
    for name in datasets:
        for v in names:
            acc = (_worker(before, "--accuracy", name) if v == "before"
                   else accuracy(VARIANTS[v], name))
            accs.append({**acc, "variant": v})
            print(f"{name} {v}: predict {acc['predict']:.4f} live {acc['live_last']:.4f}",
                  flush=True)
    return {"steps": steps, "accuracy": accs}


def step_row(r: dict[str, Any]) -> str:
    return (f"| {r['variant']} | {r['classes']} | {r['channels']} | {r['takes']} "
            f"({r['total_takes']}) | {r['p50']:.0f} | {r['p99']:.0f} | {r['mean']:.0f} | "
            f"{r['held_out_right']}/{r['held_out']} |")


def markdown(res: dict[str, Any]) -> str:
    head = ("| code / option | classes | channels | takes (total) | step p50 (µs) | "
            "p99 (µs) | mean (µs) | held-out takes right |\n|---|---|---|---|---|---|---|---|")
    rows = sorted(res["steps"], key=lambda r: (r["classes"], r["channels"], r["takes"]))
    out = [head] + [step_row(r) for r in rows]
    out += ["", "| dataset | code / option | predict | last frame | frames agree with exact |",
            "|---|---|---|---|---|"]
    exact = {a["dataset"]: a["labels"] for a in res["accuracy"] if a["variant"] == "exact"}
    for a in res["accuracy"]:
        ref = exact.get(a["dataset"])
        agree = (np.mean([p == q for p, q in zip(a["labels"], ref, strict=True)])
                 if ref is not None else float("nan"))
        out.append(f"| {a['dataset']} | {a['variant']} | {a['predict']:.4f} | "
                   f"{a['live_last']:.4f} | {agree:.6f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", help="another checkout whose DTW takes its turn ('before')")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--quick", action="store_true", help="two grid points, vowels only")
    ap.add_argument("--repeats", type=int, default=3, help="rounds per grid point (median)")
    ap.add_argument("--json", help="write every number (and the labels) here")
    # the "before" worker: gesturemap from that checkout, one measurement printed as JSON
    ap.add_argument("--code", help=argparse.SUPPRESS)
    ap.add_argument("--point", help=argparse.SUPPRESS)
    ap.add_argument("--accuracy", help=argparse.SUPPRESS)
    ap.add_argument("--grid", help="only these points, e.g. '20,60,100;7,6,watch'")
    args = ap.parse_args(argv)
    if args.point:
        classes, channels, takes = args.point.split(",")
        print(json.dumps(watch_step_cost({}) if takes == "watch" else
                         step_cost({}, int(classes), int(channels), takes)))
        return 0
    if args.accuracy:
        print(json.dumps(accuracy({}, args.accuracy)))
        return 0
    grid = QUICK_GRID if args.quick else GRID
    if args.grid:
        grid = [(int(c), int(d), t) for c, d, t in (p.split(",") for p in args.grid.split(";"))]
    datasets = ["vowels"] if args.quick else ["vowels", "hapt", "watch"]
    if args.grid:
        datasets = []
    res = run(args.variants.split(","), grid, datasets, args.repeats, args.before)
    print(markdown(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
