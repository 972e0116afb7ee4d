"""Few takes: learning curves (1, 2, 3, 5, 10 takes per class) of every family and gm.auto.

Held-out accuracy only: models are fitted on n takes per class drawn from the training part
and scored (batch ``predict``) on a test part they never saw:

- ShoulderExerciseWatch: the shipped subject split (train subjects 1-7, test 8-10);
- JapaneseVowels: the shipped train / test split;
- HAPTTransitions (250 transition segments, 21 subjects): a subject split — every third
  subject (sorted) is a test subject, the others train.

gm.auto chooses by cross-validation on the n takes per class it is given (nothing else); with
one take per class it cannot cross-validate and falls back to the defaults (its selection_
says so). Each point is the mean over ``--repeats`` random draws of the takes.

To keep the run short (2 shared cores), ShoulderExerciseWatch recordings are decimated by 5
(50 Hz -> 10 Hz, every 5th frame) and HAPT segments by 2 (50 -> 25 Hz), and gm.auto gets a
small budget (``--budget``, seconds per fit). Everything else is as shipped.

    nice -n 10 python3 benchmarks/few_takes.py --out docs/few-takes.json --plot docs/few-takes.png
    nice -n 10 python3 benchmarks/few_takes.py --heldout --out docs/auto-heldout.json

``--heldout`` instead measures gm.auto fitted on the whole training part (held-out test).
Its cross-validation holds out whole performers where the data names them (``--groups
subject``, the default: the test part is new performers, so the choice is made the same way;
Watch and HAPT), or whole takes (``--groups take``; JapaneseVowels has no speaker in its files).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gesturemap as gm  # noqa: E402
from benchmarks.shared_data import DATASETS  # noqa: E402

DATA = Path(os.environ.get("GESTUREMAP_DATASETS", DATASETS))
TAKES = (1, 2, 3, 5, 10)
#: frame decimation of ShoulderExerciseWatch and HAPT (``--full-rate``: none)
DECIMATE = {"ShoulderExerciseWatch": 5, "HAPTTransitions": 2}


def _split(z: np.lib.npyio.NpzFile, decimate: int = 1) -> list[np.ndarray]:
    xs = np.split(np.asarray(z["X_concat"], dtype=np.float64), np.cumsum(z["lengths"])[:-1])
    return [np.ascontiguousarray(x[::decimate]) for x in xs]


def load(name: str) -> tuple[list, list, list, list]:
    """(train_x, train_y, test_x, test_y) of one shared dataset, as described above."""
    return load_with_subjects(name)[:4]


def load_with_subjects(name: str) -> tuple[list, list, list, list, list | None]:
    """:func:`load` plus the performer of every training take (None where the data has none:
    JapaneseVowels' speakers are not in its files)."""
    if name == "ShoulderExerciseWatch":
        tr = np.load(DATA / name / f"{name}_train.npz")
        te = np.load(DATA / name / f"{name}_test.npz")
        k = DECIMATE.get(name, 1)
        return (_split(tr, k), [str(v) for v in tr["y"]], _split(te, k),
                [str(v) for v in te["y"]], [int(v) for v in tr["subject"]])
    if name == "JapaneseVowels":
        tr = np.load(DATA / name / f"{name}_train.npz")
        te = np.load(DATA / name / f"{name}_test.npz")
        return (_split(tr), [str(v) for v in tr["y"]], _split(te), [str(v) for v in te["y"]],
                None)
    if name == "HAPTTransitions":
        z = np.load(DATA / name / "HAPT_transitions_train.npz")
        xs, ys = _split(z, DECIMATE.get(name, 1)), [str(v) for v in z["y"]]
        subj = np.asarray(z["subject"])
        test_subjects = set(sorted(set(subj.tolist()))[::3])
        te = [i for i, s in enumerate(subj) if s in test_subjects]
        tr = [i for i, s in enumerate(subj) if s not in test_subjects]
        return ([xs[i] for i in tr], [ys[i] for i in tr], [xs[i] for i in te],
                [ys[i] for i in te], [int(subj[i]) for i in tr])
    raise SystemExit(f"unknown dataset {name}")


def families(budget: float) -> dict[str, object]:
    """Every family with its defaults (factories), and gm.auto."""
    return {
        "HHMM": lambda ds: gm.HHMM().fit(ds),
        "GMM": lambda ds: gm.GMM().fit(ds),
        "HMM (hmmlearn)": lambda ds: gm.HMM().fit(ds),
        "DTW": lambda ds: gm.DTW().fit(ds),
        "kNN": lambda ds: gm.KNN().fit(ds),
        "naive Bayes": lambda ds: gm.NaiveBayes().fit(ds),
        "decision tree": lambda ds: gm.DecisionTree().fit(ds),
        "gm.auto": lambda ds: gm.auto(ds, budget_s=budget),
    }


def accuracy(model, xs, ys) -> float:
    return float(np.mean([p == y for p, y in zip(model.predict(xs), ys, strict=True)]))


def curves(names, repeats, budget, out_path):
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in names:
        trx, try_, tex, tey = load(name)
        classes = sorted(set(try_))
        by_class = {c: [i for i, y in enumerate(try_) if y == c] for c in classes}
        res = results.setdefault(name, {})
        for n in TAKES:
            if n > min(len(v) for v in by_class.values()):
                continue
            for fam, fit in families(budget).items():
                key = f"{fam}|{n}"
                if key in res:
                    continue
                accs, secs, chosen = [], [], []
                for r in range(repeats):
                    rng = np.random.default_rng(1000 * r + n)
                    ds = gm.Dataset()
                    for c in classes:
                        for i in rng.choice(by_class[c], size=n, replace=False):
                            ds.add(trx[i], label=try_[i])
                    t0 = time.perf_counter()
                    try:
                        model = fit(ds)
                        secs.append(time.perf_counter() - t0)
                        accs.append(accuracy(model, tex, tey))
                        sel = getattr(model, "selection_", None)
                        if sel is not None:
                            chosen.append(sel["chosen_name"])
                    except gm.GesturemapError as exc:
                        accs.append(float("nan"))
                        chosen.append(f"error: {exc}")
                res[key] = {"family": fam, "takes": n, "accuracy": accs,
                            "mean": float(np.nanmean(accs)) if not np.all(np.isnan(accs))
                            else None, "fit_seconds": secs, "chosen": chosen}
                print(f"{name:22s} {n:2d} takes  {fam:16s} {res[key]['mean']}  "
                      f"{chosen}", flush=True)
                out_path.write_text(json.dumps(results, indent=1))
    return results


def heldout(names, budget, out_path, by_subject=True):
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in names:
        if name in results:
            continue
        trx, try_, tex, tey, subjects = load_with_subjects(name)
        groups = subjects if by_subject else None
        ds = gm.Dataset()
        for x, y in zip(trx, try_, strict=True):
            ds.add(x, label=y)
        t0 = time.perf_counter()
        model = gm.auto(ds, budget_s=budget, groups=groups)
        secs = time.perf_counter() - t0
        acc = accuracy(model, tex, tey)
        sel = model.selection_
        results[name] = {"accuracy": acc, "seconds": secs, "budget_s": budget,
                         "chosen": sel["chosen_name"], "cv_score": sel["cv_score"],
                         "cv": sel["cv"], "candidates": [
                             {k: c[k] for k in ("name", "cv_score", "fit_seconds", "status")}
                             for c in sel["candidates"]]}
        print(f"{name}: held-out {acc:.3f} with {sel['chosen_name']} (CV {sel['cv_score']}), "
              f"{secs:.0f} s", flush=True)
        out_path.write_text(json.dumps(results, indent=1))
    return results


def plot(results, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, (name, res) in zip(axes[0], results.items(), strict=True):
        fams = sorted({v["family"] for v in res.values()}, key=lambda f: (f == "gm.auto", f))
        for fam in fams:
            pts = sorted((v["takes"], v["mean"]) for v in res.values()
                         if v["family"] == fam and v["mean"] is not None)
            if pts:
                style = {"lw": 3, "color": "k"} if fam == "gm.auto" else {"lw": 1.2}
                ax.plot(*zip(*pts, strict=True), marker="o", label=fam, **style)
        ax.set_xscale("log")
        ax.set_xticks(TAKES)
        ax.set_xticklabels([str(t) for t in TAKES])
        ax.set_xlabel("takes per class")
        ax.set_ylabel("held-out accuracy")
        ax.set_ylim(0, 1)
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=90)


def table(results) -> str:
    """Markdown: one table per dataset, a row per family, a column per number of takes."""
    out = []
    for name, res in results.items():
        fams = sorted({v["family"] for v in res.values()}, key=lambda f: (f == "gm.auto", f))
        takes = sorted({v["takes"] for v in res.values()})
        out.append(f"\n**{name}** (held-out accuracy, mean of the draws)\n")
        out.append("| family | " + " | ".join(f"{n} take{'s' * (n > 1)}" for n in takes) + " |")
        out.append("|---|" + "---|" * len(takes))
        for fam in fams:
            cells = []
            for n in takes:
                v = res.get(f"{fam}|{n}")
                cells.append("–" if v is None or v["mean"] is None else f"{v['mean']:.2f}")
            out.append(f"| {fam} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="*",
                    default=["JapaneseVowels", "HAPTTransitions", "ShoulderExerciseWatch"])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path("docs/few-takes.json"))
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--groups", choices=("subject", "take"), default="subject",
                    help="--heldout: gm.auto's folds hold out whole performers (where the "
                    "data names them) or whole takes")
    ap.add_argument("--table", action="store_true", help="print the curves as markdown")
    ap.add_argument("--full-rate", action="store_true", help="no decimation of any dataset")
    args = ap.parse_args()
    if args.full_rate:
        DECIMATE.clear()
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return
    if args.heldout:
        heldout(args.datasets, args.budget, args.out, by_subject=args.groups == "subject")
        return
    results = curves(args.datasets, args.repeats, args.budget, args.out)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
