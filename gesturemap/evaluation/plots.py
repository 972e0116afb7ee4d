"""PNG plots of evaluation reports, drawn with matplotlib's object API on the Agg canvas.

No pyplot and no global backend switch: plotting never touches a Qt window that may be open
in the same process. The ``draw_*`` functions draw on a given Axes, so a script can compose
several reports into one figure (see ``benchmarks/evaluation_report.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["draw_confusion", "draw_early", "draw_f1", "figure", "save_figure", "save_report_plots"]


def figure(width_in: float, height_in: float) -> Any:
    """A matplotlib Figure on an Agg canvas (no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: Path) -> Path:
    """Write a PNG (via a temporary file and a rename, like every gesturemap write)."""
    import io

    from ..utils.storage import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def draw_confusion(ax: Any, report: Any, title: str | None = None, annotate: bool = True) -> Any:
    """Confusion matrix as a heat map of row shares (recall per true class), with counts."""
    counts = np.asarray(report.confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    image = ax.imshow(shares, vmin=0.0, vmax=1.0, cmap="Blues")
    ticks = np.arange(len(report.labels))
    names = [str(label) for label in report.labels]
    ax.set_xticks(ticks, names, rotation=90 if len(names) > 6 else 0, fontsize=7)
    ax.set_yticks(ticks, names, fontsize=7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    if annotate and len(names) <= 12:
        for i in range(len(names)):
            for j in range(len(names)):
                if counts[i, j]:
                    ax.text(
                        j,
                        i,
                        f"{int(counts[i, j])}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if shares[i, j] > 0.5 else "black",
                    )
    ax.set_title(
        title if title is not None else f"{report.model}: accuracy {report.accuracy:.3f}",
        fontsize=9,
    )
    return image


def draw_early(
    ax: Any, curves: Sequence[tuple[Any, ...]], title: str = "", chance: float | None = None
) -> None:
    """Early-recognition curves: accuracy against the share of the gesture seen.

    ``curves`` holds (name, report) or (name, report, key) tuples; ``key`` is ``"accuracy"``
    (the default: the streamed curve, or the only one) or ``"prefix_accuracy"`` (the batch
    decision on prefixes, when both were measured). Reports without that curve are skipped.
    """
    for name, report, *rest in curves:
        key = rest[0] if rest else "accuracy"
        if report.early is None or key not in report.early:
            continue
        fractions = 100 * np.asarray(report.early["fractions"])
        ax.plot(fractions, report.early[key], marker="o", markersize=3, label=name)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label="chance")
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("share of the gesture seen (%)")
    ax.set_ylabel("accuracy")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    if len(curves) > 4:  # many curves: the legend goes beside the plot, not over the lines
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.legend(fontsize=7, loc="lower right")


def draw_f1(ax: Any, report: Any, title: str | None = None) -> None:
    """Per-class F1 as bars."""
    names = [str(row["label"]) for row in report.per_class]
    ax.bar(np.arange(len(names)), [row["f1"] for row in report.per_class], color="tab:blue")
    ax.set_xticks(np.arange(len(names)), names, rotation=90 if len(names) > 6 else 0, fontsize=7)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("F1")
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(
        title
        if title is not None
        else f"{report.model}: per-class F1 (macro {report.macro_f1:.3f})",
        fontsize=9,
    )


def _draw_regression(ax: Any, report: Any) -> None:
    names = report.regression["outputs"]
    x = np.arange(len(names))
    ax.bar(x - 0.2, report.regression["rmse"], width=0.4, label="RMSE")
    ax.bar(x + 0.2, report.regression["mae"], width=0.4, label="MAE")
    ax.set_xticks(x, names, fontsize=7)
    ax.set_title(f"{report.model}: error per output", fontsize=9)
    ax.legend(fontsize=7)


def plot_folder(folder: Path) -> Path:
    """``folder``, created if needed; a path that is a file is a GesturemapError saying so
    (not the bare "File exists" of ``mkdir``)."""
    if folder.exists() and not folder.is_dir():
        from ..utils.validation import validation_error

        raise validation_error("plots folder", str(folder), "a folder (new or existing)",
                               "It is a file: give a folder's path for the PNGs.")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_report_plots(report: Any, folder: Path, prefix: str = "") -> list[Path]:
    """The PNGs of one report (see :meth:`Report.save_plots`)."""
    plot_folder(folder)
    paths = []
    if report.task == "regression":
        fig = figure(5, 3.5)
        _draw_regression(fig.add_subplot(), report)
        return [save_figure(fig, folder / f"{prefix}regression.png")]
    side = min(9.0, 3.0 + 0.35 * len(report.labels))
    fig = figure(side, side * 0.85)
    fig.colorbar(draw_confusion(fig.add_subplot(), report), shrink=0.8, label="share of row")
    paths.append(save_figure(fig, folder / f"{prefix}confusion.png"))
    if report.early is not None:
        fig = figure(5, 3.5)
        ax = fig.add_subplot()
        curves: list[tuple[Any, ...]] = [(report.early["method"], report)]
        if "prefix_accuracy" in report.early:
            curves = [
                ("streamed label", report, "accuracy"),
                ("predict on the prefix", report, "prefix_accuracy"),
            ]
        draw_early(
            ax,
            curves,
            title=f"{report.model}: early recognition",
            chance=1.0 / max(len(report.labels), 1),
        )
        paths.append(save_figure(fig, folder / f"{prefix}early.png"))
    fig = figure(max(4.0, 0.4 * len(report.labels) + 2), 3.5)
    draw_f1(fig.add_subplot(), report)
    paths.append(save_figure(fig, folder / f"{prefix}f1.png"))
    return paths
