"""The evaluation report: every model family on the real datasets, with plots.

Runs each model family (GMM, HHMM, DTW and Wekinator's classic classifiers) on the two real
datasets beside the project, on their official train/test splits, through
:func:`gesturemap.evaluation.holdout`, and writes

- ``docs/evaluation.md``: accuracy against the datasets' baselines, per-class F1, early
  recognition, run times, links to the figures;
- ``docs/images/<dataset>_*.png``: per dataset, one grid of confusion matrices (one per family), one
  figure of early-recognition curves (all families) and one of per-class F1;
- ``docs/evaluation.json``: every report in full (``gesturemap.evaluation`` format), not
  committed: ``--update`` and ``--from-json`` read it back.

The data loading, the dataset names and the README baselines come from ``real_data.py``.
Inputs are standardised with the training set's per-channel mean and std (training frames
only). Every model runs with the package defaults (for GMM and HHMM those of
``docs/decisions.md``); the report lists them in full.

Run from the repository root::

    python3 benchmarks/evaluation_report.py                  # every registered family
    python3 benchmarks/evaluation_report.py --models dtw --update   # add or redo some rows
    python3 benchmarks/evaluation_report.py --from-json       # redraw md + PNGs, measure nothing
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (ROOT, HERE):  # run as a script from a source checkout
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import real_data  # noqa: E402

import gesturemap.evaluation as ev  # noqa: E402
from gesturemap.evaluation import plots  # noqa: E402
from gesturemap.models import MODEL_REGISTRY  # noqa: E402

#: The families the report covers, in table order.
FAMILIES = ("gmm", "hhmm", "dtw", "knn", "svm", "tree", "adaboost", "naive_bayes", "mlp")
NAMES = {
    "gmm": "GMM",
    "hhmm": "HHMM",
    "dtw": "DTW",
    "knn": "kNN",
    "svm": "SVM",
    "tree": "decision tree",
    "adaboost": "AdaBoost",
    "naive_bayes": "naive Bayes",
    "mlp": "MLP",
}
#: Settings passed to each family (empty: the package defaults, listed in full in the JSON).
SETTINGS: dict[str, dict[str, Any]] = {kind: {} for kind in FAMILIES}
#: How each family classifies a whole recording (what ``predict`` does).
DECISION = {
    "gmm": "argmax over classes of the sequence log-likelihood (sum over frames)",
    "hhmm": "argmax of the sequence log-likelihood (forward algorithm)",
    "dtw": "1-nearest-neighbour: the class of the training take at the smallest whole-sequence "
    "DTW distance (Sakoe-Chiba `band` and per-template-frame `normalize` as in the settings "
    "below)",
    "frame-wise": "every frame is one example (as in Wekinator); a recording's class is the "
    "argmax of the sum over its frames of log class probabilities (each at least "
    "1e-4)",
}
DOCS = ROOT / "docs"
#: The closing section: the same evaluation on a user's own data.
OWN_DATA = [
    "## Evaluate your own data",
    "",
    "```sh",
    "gesturemap eval --project my-project                    # leave-one-take-out, the "
    "project's model",
    "gesturemap eval --project my-project --folds 5 --model knn --param k=3 --plots plots/",
    "gesturemap eval --train A.npz --test B.npz --model hhmm --standardize --json report.json",
    "gesturemap eval --train A.npz --group-by subject --model dtw   # leave-one-subject-out",
    "gesturemap import wekinator-data.arff --project my-project      # Wekinator examples -> takes",
    "```",
    "",
    "Each run prints accuracy and the early-recognition curve; `--json` writes the full report "
    "(top-level `accuracy`), `--csv` per-class precision / recall / F1, `--plots` the confusion "
    "matrix, the early-recognition curve and per-class F1 as PNGs. In Python: "
    "`gesturemap.evaluation.holdout`, `cross_validate` and `evaluate_project` return a `Report` "
    "with the same content. A project is evaluated through its own feature pipeline, refitted "
    "on each fold's training takes.",
]


def datasets(root: Path, keys: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """(train, test) Datasets of each key, from ``real_data.load_split``."""
    out = {}
    for key in keys:
        split = real_data.load_split(key, root)
        out[key] = (
            real_data.make_dataset(split.train, split.train_labels),
            real_data.make_dataset(split.test, split.test_labels),
        )
    return out


def measure(key: str, kind: str, train: Any, test: Any) -> dict[str, Any]:
    """One family on one dataset: the report as a dict, or the error it raised."""
    start = time.perf_counter()
    print(f"  {real_data.DATASETS[key]:22s} {kind:12s}", end="", flush=True)
    try:
        report = ev.holdout(
            kind, train, test, params=SETTINGS[kind], standardize=True, early="both"
        )
    except Exception as error:  # noqa: BLE001 - one family's failure must not stop the others
        print(f" error: {error}", flush=True)
        return {
            "dataset": key,
            "model": kind,
            "error": f"{type(error).__name__}: {error}",
            "wall_s": time.perf_counter() - start,
        }
    fold = report.folds[0]
    print(
        f" accuracy {report.accuracy:.3f}  fit {fold['fit_s']:6.1f} s  predict "
        f"{fold['predict_s']:6.1f} s  stream {fold['stream_s']:6.1f} s  prefixes "
        f"{fold['prefix_s']:6.1f} s",
        flush=True,
    )
    return {
        "dataset": key,
        "model": kind,
        "report": report.to_dict(),
        "wall_s": time.perf_counter() - start,
    }


# ---- figures ------------------------------------------------------------------------------------


def _reports(rows: list[dict], key: str) -> list[tuple[str, ev.Report]]:
    order = {kind: i for i, kind in enumerate(FAMILIES)}
    found = [r for r in rows if r["dataset"] == key and "report" in r]
    found.sort(key=lambda r: order.get(r["model"], len(order)))
    return [(NAMES.get(r["model"], r["model"]), ev.Report.from_dict(r["report"])) for r in found]


def figures(rows: list[dict], key: str, folder: Path) -> dict[str, str]:
    """The three PNGs of one dataset; returns their paths relative to ``docs/``."""
    reports = _reports(rows, key)
    if not reports:
        return {}
    title = real_data.DATASETS[key]
    n = len(reports)
    cols = 3 if n > 4 else n
    rows_n = -(-n // cols)
    fig = plots.figure(3.3 * cols, 3.4 * rows_n + 0.6)
    for i, (name, report) in enumerate(reports):
        ax = fig.add_subplot(rows_n, cols, i + 1)
        plots.draw_confusion(ax, report, title=f"{name}: {report.accuracy:.3f}")
    fig.suptitle(f"{title}: confusion matrices (test set, row shares; counts)", fontsize=11)
    out = {"confusion": plots.save_figure(fig, folder / f"{key}_confusion.png")}
    fig = plots.figure(13, 4.5)
    chance = 1.0 / len(reports[0][1].labels)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    plots.draw_early(left, reports, title="streamed label (stream.step)", chance=chance)
    left.get_legend().remove()
    plots.draw_early(
        right,
        [(n, r, "prefix_accuracy") for n, r in reports],
        title="batch decision on the prefix (predict)",
        chance=chance,
    )
    fig.suptitle(f"{title}: early recognition", fontsize=11)
    out["early"] = plots.save_figure(fig, folder / f"{key}_early.png")
    fig = plots.figure(9, 3.8)
    ax = fig.add_subplot()
    labels = [str(label) for label in reports[0][1].labels]
    width = 0.8 / n
    for i, (name, report) in enumerate(reports):
        ax.bar(
            np.arange(len(labels)) + (i - (n - 1) / 2) * width,
            [row["f1"] for row in report.per_class],
            width=width,
            label=name,
        )
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 (test set)")
    ax.set_title(f"{title}: per-class F1", fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(True, axis="y", alpha=0.3)
    out["f1"] = plots.save_figure(fig, folder / f"{key}_f1.png")
    return {k: str(p.relative_to(DOCS)) for k, p in out.items()}


# ---- Markdown -----------------------------------------------------------------------------------


def _table(head: list[str], body: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(row) + " |" for row in body),
    ]


def _early_line(curves: dict[str, list[float]], lead: str) -> str:
    """``lead`` (naming the best family at 10 %) and every family's accuracy at 50 %."""
    top = max(curves, key=lambda k: curves[k][0])
    half = ", ".join(f"{name} {curve[4]:.2f}" for name, curve in curves.items())
    return "  " + lead.format(top=top, value=curves[top][0]) + half + "."


def findings(rows: list[dict], keys: list[str]) -> list[str]:
    """What the numbers say, written from them (so that a new run cannot contradict it)."""
    lines = ["What the table says:", ""]
    for key in keys:
        reports = _reports(rows, key)
        if not reports:
            continue
        acc = {name: rep.accuracy for name, rep in reports}
        best_name = max(acc, key=lambda k: acc[k])
        baseline = max(real_data.BASELINES[key])
        above = [
            name for name, a in acc.items() if round(a, 3) >= baseline
        ]  # baselines are rounded
        n = len(reports[0][1].predictions)
        se = (acc[best_name] * (1 - acc[best_name]) / n) ** 0.5
        lines.append(
            f"- **{real_data.DATASETS[key]}** ({n} test recordings; one recording = "
            f"{100 / n:.1f} points, binomial standard error near the top ≈ {se:.2f}): best "
            f"{best_name} {acc[best_name]:.3f}; at or above the best README baseline "
            f"({baseline:.3f}): {', '.join(above) if above else 'none'}."
        )
        early = {name: rep.early["accuracy"] for name, rep in reports if rep.early}
        if early:
            lines.append(
                _early_line(
                    early,
                    "After 10 % of a recording the best streamed label is "
                    "{top}'s ({value:.2f}); at 50 %: ",
                )
            )
            prefix = {
                name: rep.early["prefix_accuracy"]
                for name, rep in reports
                if rep.early and "prefix_accuracy" in rep.early
            }
            if prefix:
                lines.append(
                    _early_line(
                        prefix,
                        "`predict` on the first 10 % is right most often for "
                        "{top} ({value:.2f}); on the first half: ",
                    )
                )
            gap = [
                name
                for name, rep in reports
                if rep.early and rep.accuracy - rep.early["accuracy"][-1] >= 0.1
            ]
            if gap:
                lines.append(
                    f"  The streamed label at the last frame is at least 0.1 below the batch "
                    f"decision for {', '.join(gap)}: their stream weighs only its last "
                    "`likelihood_window` frames (or, for DTW, the best-matching part of a "
                    "template), the batch decision the whole recording."
                )
    lines.append("")
    return lines


def markdown(doc: dict[str, Any], pngs: dict[str, dict[str, str]]) -> str:
    rows = doc["results"]
    keys = [k for k in real_data.DATASETS if any(r["dataset"] == k for r in rows)]
    ran = [k for k in FAMILIES if any(r["model"] == k and "report" in r for r in rows)]
    missing = [k for k in FAMILIES if k not in ran]
    info = doc["machine"]
    lines = [
        "# Evaluation: every model family on the real datasets",
        "",
        "`benchmarks/evaluation_report.py` trains every model family on the official training "
        "split of the two real datasets beside the project and tests it on their test split, "
        "with `gesturemap.evaluation.holdout` (the API behind `gesturemap eval`). Every number "
        "below comes from one run of",
        "",
        "    python3 benchmarks/evaluation_report.py",
        "",
        f"on {info['cpu']} ({info['cores']} cores, shared with other work), Python "
        f"{info['python']}, numpy {info['numpy']}, numba {info['numba']}, gesturemap "
        f"{info['gesturemap']} ({info['commit']}); {doc['seconds'] / 60:.0f} minutes in all. "
        "The script writes every report in full (parameters, confusion matrices, "
        "per-recording predictions, timings) to `docs/evaluation.json`, which is not kept in "
        "the repository. The same evaluation of one family from the command line, with the "
        "full datasets in a `shared/` folder beside the checkout (a clone holds 5-second "
        "excerpts of most Watch recordings in `tests/data/shared/datasets`: the command runs "
        "on them, with other numbers):",
        "",
        "    gesturemap eval --train ../shared/datasets/ShoulderExerciseWatch/"
        "ShoulderExerciseWatch_train.npz \\",
        "        --test ../shared/datasets/ShoulderExerciseWatch/ShoulderExerciseWatch_test.npz \\",
        "        --model dtw --standardize --json watch-dtw.json --plots plots/",
        "",
    ]
    if missing:
        lines += [
            f"**Not measured:** {', '.join(NAMES[k] for k in missing)} — not registered "
            "in `MODEL_REGISTRY` (or failed) when this report ran.",
            "",
        ]
    lines += [
        "## How it measures",
        "- **Data.** ShoulderExerciseWatch: 6-axis smartwatch IMU at 50 Hz, 7 exercises, one "
        "recording = one set of about 20 repetitions (947–2618 frames); train on subjects 1–7 "
        "(98 recordings), test on subjects 8–10 (42). JapaneseVowels: 12 LPC coefficients, 9 "
        "speakers, 7–29 frames; 270 train, 370 test. See each dataset's README.md (`tests/data/shared/datasets/*/README.md` in a clone).",
        "- **Inputs** are standardised per channel with the mean and standard deviation of the "
        "training frames (`--standardize`); nothing is learned from the test recordings.",
        "- **Accuracy** (and the confusion matrices and F1) is that of `model.predict` on each "
        "whole test recording:",
        f"  GMM — {DECISION['gmm']}; HHMM — {DECISION['hhmm']}; DTW — {DECISION['dtw']}; kNN, "
        f"SVM, decision tree, AdaBoost, naive Bayes, MLP — {DECISION['frame-wise']}.",
        "- **Early recognition**: each test recording is played frame by frame through "
        "`model.stream().step()` (reset before each recording) and the label the stream shows "
        "is read after 10 %, 20 % … 100 % of its frames — what a performer would see at that "
        "moment. The HHMM's stream accumulates evidence over the whole gesture; DTW's stream "
        "matches the frames so far against every template (open-begin DTW); the GMM's and the "
        "frame-wise classifiers' streams average only the last `likelihood_window` = 5 frames "
        "(0.1 s of a watch recording), so their curve says how recognisable the *current* "
        "movement is, not the gesture so far, and their 100 % point can differ from the "
        "accuracy column (batch decision on the whole recording). The second curve is "
        "`model.predict` on the first 10 %, 20 % … of the frames: the batch decision on a "
        "truncated gesture, i.e. how recognisable the gesture is from its beginning whatever the "
        "stream's window (at 100 % it is the accuracy column).",
        "- **Times**: wall time of `fit` on the training split, of `predict` on the whole test "
        "split, and of streaming every test frame (early recognition), on the shared 2-core "
        "machine; models use their default threads.",
        "- **Settings**: the package defaults of every model (for GMM and HHMM, those of "
        "[How the models work](decisions.md) at the time); the non-obvious ones are listed at "
        "the end.",
        "",
        "## Accuracy (test set)",
        "",
    ]
    head = ["dataset", *real_data.BASELINE_COLUMNS, *(f"**{NAMES[k]}**" for k in ran)]
    body = []
    for key in keys:
        row = [real_data.DATASETS[key], *(f"{v:.3f}" for v in real_data.BASELINES[key])]
        for kind in ran:
            r = next((r for r in rows if r["dataset"] == key and r["model"] == kind), None)
            row.append(
                "—" if r is None or "report" not in r else f"**{r['report']['accuracy']:.3f}**"
            )
        body.append(row)
    lines += _table(head, body)
    lines += [
        "",
        "The first five columns are the baselines measured in the datasets' READMEs "
        "(same split); the bold columns were measured here. One Watch test recording is "
        "2.4 points of accuracy, one vowels recording 0.27 points.",
        "",
    ]
    lines += findings(rows, keys)
    dtw = {
        r["dataset"]: r["report"]["accuracy"] for r in rows if r["model"] == "dtw" and "report" in r
    }
    if dtw:
        parts = []
        for key, acc in dtw.items():
            best = max(real_data.BASELINES[key][:2])
            verdict = "at or above" if round(acc, 3) >= best else "below"
            parts.append(f"{real_data.DATASETS[key]} {acc:.3f} vs. {best:.3f} ({verdict})")
        lines += [
            "**DTW against the 1-NN DTW baselines** (best of the two README columns): "
            + "; ".join(parts)
            + ".",
            "",
        ]
    for key in keys:
        reports = _reports(rows, key)
        if not reports:
            continue
        title = real_data.DATASETS[key]
        lines += [f"## {title}", ""]
        labels = [str(label) for label in reports[0][1].labels]
        lines += ["Per-class F1 on the test set (macro F1 last):", ""]
        lines += _table(
            ["family", *labels, "macro F1"],
            [
                [name, *(f"{c['f1']:.2f}" for c in rep.per_class), f"{rep.macro_f1:.3f}"]
                for name, rep in reports
            ],
        )
        fractions = reports[0][1].early["fractions"] if reports[0][1].early else []
        lines += [
            "",
            "Early recognition: accuracy after each share of the recording, of the streamed "
            "label / of `predict` on the prefix:",
            "",
        ]
        lines += _table(
            ["family", *(f"{f:.0%}" for f in fractions)],
            [
                [
                    name,
                    *(
                        f"{a:.2f} / {b:.2f}"
                        for a, b in zip(
                            rep.early["accuracy"],
                            rep.early.get("prefix_accuracy") or rep.early["accuracy"],
                            strict=True,
                        )
                    ),
                ]
                for name, rep in reports
                if rep.early
            ],
        )
        lines += ["", "Time per run (seconds):", ""]
        lines += _table(
            [
                "family",
                "fit",
                "predict (test split)",
                "stream (every test frame)",
                "µs per streamed frame",
                "predict on prefixes (early curve)",
            ],
            [
                [
                    name,
                    f"{rep.folds[0]['fit_s']:.2f}",
                    f"{rep.folds[0]['predict_s']:.2f}",
                    f"{rep.folds[0]['stream_s']:.2f}",
                    f"{1e6 * rep.folds[0]['stream_s'] / doc['test_frames'][key]:.0f}",
                    f"{rep.folds[0].get('prefix_s', 0.0):.2f}",
                ]
                for name, rep in reports
            ],
        )
        figs = pngs.get(key, {})
        if figs:
            lines += [
                "",
                f"![{title} confusion matrices]({figs['confusion']})",
                "",
                f"![{title} early recognition]({figs['early']})",
                "",
                f"![{title} per-class F1]({figs['f1']})",
                "",
            ]
    errors = [r for r in rows if "error" in r]
    if errors:
        lines += ["## Errors", ""]
        lines += [
            f"- {real_data.DATASETS[r['dataset']]} / {r['model']}: {r['error']}" for r in errors
        ]
        lines.append("")
    lines += [
        "## Settings",
        "",
        "Every family ran with its package defaults; the main ones (all are in "
        "`docs/evaluation.json`):",
        "",
    ]
    shown = set()
    for r in rows:
        if "report" not in r or r["model"] in shown:
            continue
        shown.add(r["model"])
        params = {k: v for k, v in r["report"]["params"].items() if k not in ("class_params",)}
        text = ", ".join(f"`{k}={v}`" for k, v in params.items())
        lines.append(f"- **{NAMES.get(r['model'], r['model'])}**: {text}")
    lines += ["", *OWN_DATA]
    return "\n".join(lines) + "\n"


# ---- main ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=real_data.DATASETS_DIR)
    parser.add_argument("--models", nargs="+", default=list(FAMILIES), metavar="KIND")
    parser.add_argument(
        "--datasets", nargs="+", default=list(real_data.DATASETS), choices=list(real_data.DATASETS)
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the other rows of docs/evaluation.json; redo only these",
    )
    parser.add_argument(
        "--from-json",
        action="store_true",
        help="redraw docs/evaluation.md and the PNGs from docs/evaluation.json",
    )
    args = parser.parse_args(argv)
    # the figures go where every page's pictures are (docs/images, which the docs test
    # checks are all shown)
    json_path, folder = DOCS / "evaluation.json", DOCS / "images"
    if args.from_json:
        doc = json.loads(json_path.read_text())
    else:
        start = time.perf_counter()
        data = datasets(args.data, args.datasets)
        rows: list[dict] = []
        for key, (train, test) in data.items():
            print(
                f"{real_data.DATASETS[key]}: {len(train)} train, {len(test)} test recordings",
                flush=True,
            )
            for kind in args.models:
                if kind not in MODEL_REGISTRY:
                    print(f"  {kind}: not registered, skipped", flush=True)
                    continue
                rows.append(measure(key, kind, train, test))
        seconds = time.perf_counter() - start
        frames = {key: int(test.n_frames) for key, (_, test) in data.items()}
        if args.update and json_path.exists():
            old = json.loads(json_path.read_text())
            redone = {(r["dataset"], r["model"]) for r in rows}
            rows = [r for r in old["results"] if (r["dataset"], r["model"]) not in redone] + rows
            seconds += old["seconds"]
            frames = {**old["test_frames"], **frames}
        doc = {
            "benchmark": "benchmarks/evaluation_report.py",
            "machine": real_data.machine(),
            "seconds": seconds,
            "test_frames": frames,
            "baselines": {"columns": real_data.BASELINE_COLUMNS, **real_data.BASELINES},
            "results": rows,
        }
        json_path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")  # ~1/3 the size
    folder.mkdir(parents=True, exist_ok=True)
    pngs = {key: figures(doc["results"], key, folder) for key in real_data.DATASETS}
    (DOCS / "evaluation.md").write_text(markdown(doc, pngs))
    print(f"wrote {DOCS / 'evaluation.md'}, {json_path} and {folder}/*.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
