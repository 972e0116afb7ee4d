"""Early recognition curves of ``gm.GVF()`` and ``gm.HHMM()`` as shipped, drawn from issue
18aj's held-out run (``docs/gvf_recognition_paired_18aj.json``: 7 held-out HAPT subjects, 80
takes, each replayed ×0.5 / ×1 / ×2 faster and ×0.5 / ×1 / ×2 bigger; both models' label right
or not at each tenth of the gesture). Nothing is run again: the figure reads the stored hits,
so it shows exactly the run docs/gvf.md reports.

Panels: the label's accuracy against the share of the gesture seen, on the takes replayed
unchanged, on all 9 replays, by replayed speed; and GVF − HHMM over all 9 replays with its
95 % bootstrap interval over the subjects (the run's own, stored with it).

Run from the repository root::

    python3 benchmarks/gvf_recognition_plot.py  # writes docs/gvf_recognition_18aj.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "docs" / "gvf_recognition_paired_18aj.json"
OUT = ROOT / "docs" / "gvf_recognition_18aj.png"


def curves(run: dict) -> dict[str, dict[str, np.ndarray]]:
    """Accuracy by fraction per model (``"GVF"``, ``"HHMM"``) and replay group: ``"all 9"``,
    ``"unchanged"`` (×1 faster, ×1 bigger) and ``"speed ×f"`` for each replayed speed."""
    conditions = [tuple(c) for c in run["conditions"]]
    groups = {"all 9": [True] * len(conditions),
              "unchanged": [c == (1.0, 1.0) for c in conditions]}
    for speed in sorted({c[0] for c in conditions}):
        groups[f"speed ×{speed:g}"] = [c[0] == speed for c in conditions]
    out = {}
    for model, key in (("GVF", "hits_gvf"), ("HHMM", "hits_hhmm")):
        hits = np.asarray(run[key], dtype=float)  # (takes, conditions, fractions)
        out[model] = {g: hits[:, np.array(sel)].mean(axis=(0, 1)) for g, sel in groups.items()}
    return out


def plot(run: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fr = np.asarray(run["fractions"]) * 100
    c = curves(run)
    colours = {"GVF": "tab:blue", "HHMM": "tab:orange"}
    fig, ax = plt.subplots(1, 4, figsize=(17, 4.2))
    for a, group, title in ((ax[0], "unchanged", "replayed unchanged"),
                            (ax[1], "all 9", "all 9 replays (×0.5–×2 faster, bigger)")):
        for model in ("GVF", "HHMM"):
            a.plot(fr, c[model][group], marker="o", color=colours[model],
                   label=f"gm.{model}()")
        a.set_title(title)
        a.set_ylim(0.5, 1.0)
    for speed, style in (("speed ×0.5", ":"), ("speed ×1", "-"), ("speed ×2", "--")):
        for model in ("GVF", "HHMM"):
            ax[2].plot(fr, c[model][speed], linestyle=style, color=colours[model],
                       label=f"{model}, {speed.split()[1]} faster")
    ax[2].set_title("by replayed speed (all sizes)")
    ax[2].set_ylim(0.5, 1.0)
    names = [f"{f:.0%}" for f in run["fractions"]]
    diff = np.array([run["difference"][n] for n in names])
    low = np.array([run["ci95_low"][n] for n in names])
    high = np.array([run["ci95_high"][n] for n in names])
    ax[3].fill_between(fr, low, high, color=colours["GVF"], alpha=0.25,
                       label="95 % bootstrap over subjects")
    ax[3].plot(fr, diff, marker="o", color=colours["GVF"], label="GVF − HHMM, all 9")
    ax[3].axhline(0.0, color="k", linewidth=0.8)
    ax[3].set_title("GVF − HHMM (accuracy points)")
    for a in ax:
        a.set_xlabel("% of the gesture seen")
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="lower right")
    ax[0].set_ylabel(f"accuracy ({run['takes']} takes of {len(run['test_subjects'])} "
                     "held-out subjects)")
    fig.suptitle("Early recognition as shipped, HAPT postural transitions (6 classes; "
                 "issue 18aj's held-out run)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=str(RUN))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    run = json.loads(Path(args.run).read_text())
    plot(run, Path(args.out))
    c = curves(run)
    for group in ("unchanged", "all 9"):
        for model in ("GVF", "HHMM"):
            print(f"{group:9s} {model:4s}", np.round(c[model][group], 3))


if __name__ == "__main__":
    main()
