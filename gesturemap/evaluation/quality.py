"""The quality report of a project's takes: which takes to look at, which class needs a take.

:func:`project_quality` reviews every take of a project by cross-validation
(:func:`gesturemap.review_takes`, leave-one-take-out up to ``folds`` takes, else ``folds``
folds) with the project's own model settings on its pipeline's features. ``gesturemap eval
DIR`` prints it and, with ``--plots``, draws it; the window's Quality panel shows it.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..utils.thread_warnings import recording_warnings

__all__ = ["QualityReport", "project_quality", "reviewed_takes", "snapshot",
           "suggest_for_project"]


@dataclass
class QualityReport:
    """Reviews of a project's takes, with the take id of each review."""

    reviews: Any  # gesturemap.review.Reviews
    take_ids: list[str]
    model: str
    #: the reviewed takes as the model saw them (the pipeline's features), in review order
    dataset: Any = None

    @property
    def summary(self) -> Any:
        return self.reviews.summary

    def suspicious(self, threshold: float = 0.5) -> list[tuple[str, Any]]:
        """``(take id, review)`` of the takes at or above ``threshold``, worst first."""
        return [(self.take_ids[r.index], r) for r in self.reviews.suspicious(threshold)]

    def text(self) -> str:
        s = self.summary
        if np.isfinite(s.accuracy):
            head = (f"Quality of the takes ({self.model}, {s.folds} "
                    f"{'trainings, one per take' if s.folds == len(self.take_ids) else 'folds'}"
                    f"): {100 * s.accuracy:.0f}% of the takes recognised from the others")
        else:  # every class has one take: none was held out, nothing trained
            head = (f"Quality of the takes ({self.model}): no take could be checked against "
                    "the others (a class's only take cannot be)")
        lines = [head, "", s.table(), ""]
        bad = self.suspicious()
        if bad:
            lines.append("takes to look at:")
            for take_id, r in bad:
                lines.append(f"  {take_id} ({r.label}): {r.verdict}, suspicion {r.suspicion:.2f}")
        else:
            lines.append("no suspicious take.")
        lines.append("")
        lines.append(self.advice())
        if self.dataset is not None:
            lines.append(self.next_take().text())
        return "\n".join(lines)

    def next_take(self) -> Any:
        """The take to record next (:class:`gesturemap.NextTake`), from this review: no
        training."""
        from .next_take import suggest_from_reviews

        return suggest_from_reviews(self.dataset, self.reviews)

    def advice(self) -> str:
        """The summary's advice, with take ids instead of dataset indices."""
        text = self.summary.advice
        for i in sorted(self.summary.mislabelled, reverse=True):  # #12 before #1
            text = text.replace(f"#{i} (", f"{self.take_ids[i]} (")
        return text

    def to_dict(self) -> dict[str, Any]:
        s = self.summary

        def num(v: float) -> float | None:
            return None if not np.isfinite(v) else float(v)

        return {
            "model": self.model, "folds": s.folds, "accuracy": num(s.accuracy),
            "labels": [str(lb) for lb in s.labels],
            "confusion": s.confusion.tolist(),
            "recall": [num(v) for v in s.recall], "precision": [num(v) for v in s.precision],
            "needs_take": None if s.needs_take is None else str(s.needs_take),
            "advice": self.advice(),
            "next_take": None if self.dataset is None else self.next_take().to_dict(),
            "takes": [{"id": self.take_ids[r.index], "label": str(r.label),
                       "suspicion": r.suspicion, "likely_label": str(r.likely_label),
                       "verdict": r.verdict} for r in self.reviews],
        }

    def to_json(self, path: str | Path) -> None:
        from ..utils.storage import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=1))

    def to_csv(self, path: str | Path) -> None:
        """One row per take: id, label, suspicion, likely label, verdict."""
        import csv
        import io

        from ..utils.storage import atomic_write_text

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["take", "label", "suspicion", "likely_label", "verdict"])
        for row in self.to_dict()["takes"]:
            writer.writerow([row["id"], row["label"], f"{row['suspicion']:.6g}",
                             row["likely_label"], row["verdict"]])
        atomic_write_text(path, buffer.getvalue())

    def save_plots(self, folder: str | Path) -> list[Path]:
        """``quality_confusion.png`` and ``quality_takes.png`` (suspicion of every take)."""
        from .plots import draw_confusion, figure, plot_folder, save_figure

        folder = plot_folder(Path(folder))
        s = self.summary
        fig = figure(4.5, 4.0)
        draw_confusion(fig.add_subplot(), s, title=f"takes recognised from the others: "
                                                   f"{100 * s.accuracy:.0f}%")
        out = [save_figure(fig, folder / "quality_confusion.png")]
        fig = figure(max(4.0, 0.12 * len(self.take_ids) + 1.5), 3.0)
        ax = fig.add_subplot()
        values = [r.suspicion for r in self.reviews]
        colours = ["#c0392b" if r.suspicion >= 0.8 else "#e67e22" if r.suspicion >= 0.5
                   else "#7f8c8d" for r in self.reviews]
        ax.bar(np.arange(len(values)), values, color=colours)
        ax.axhline(0.5, color="black", lw=0.5, ls=":")
        ax.set_ylim(0, 1)
        ax.set_xlabel("take", fontsize=8)
        ax.set_ylabel("suspicion", fontsize=8)
        ax.set_title("suspicious takes (red: probably mislabelled)", fontsize=9)
        if len(values) <= 40:
            ax.set_xticks(np.arange(len(values)),
                          [f"{t} ({r.label})" for t, r in zip(self.take_ids, self.reviews,
                                                              strict=True)],
                          rotation=90, fontsize=6)
        out.append(save_figure(fig, folder / "quality_takes.png"))
        return out


def project_quality(project: Any, *, model: Any = None, folds: int = 10, seed: int = 0,
                    cancel: Any = None) -> QualityReport:
    """Review a project's takes (see the module's docstring).

    ``model``: an unfitted model, a kind name, or None for the project's own settings.
    """
    from ..review import review_takes

    model, dataset, ids = reviewed_takes(project, model)
    reviews = review_takes(dataset, model, folds=folds, seed=seed, cancel=cancel)
    return QualityReport(reviews=reviews, take_ids=ids, model=getattr(model, "kind", "model"),
                         dataset=dataset)


def reviewed_takes(project: Any, model: Any = None) -> tuple[Any, Any, list[str]]:
    """``(model, dataset, take ids)`` that a review of ``project`` reads: the unfitted model
    (``model``: an unfitted model, a kind name, or None for the project's own settings), the
    takes through the project's pipeline fitted on every take (a copy: the project may
    change meanwhile), and the id of each take kept (those the pipeline turned into no frame,
    and those of a class switched off, are left out)."""
    if model is None:
        model = project.new_model()
    elif isinstance(model, str):
        from .run import build

        model = build(model, {})
    ids = [t.id for t in project.takes]
    copy = snapshot(project)
    copy.fit_pipeline()  # on every take: the reviewed take's own frames are in its statistics
    with recording_warnings() as caught:  # (this thread's only: a review runs on a thread)
        dataset = copy.dataset()
    takes = list(copy.takes)
    if len(dataset) != len(takes):  # takes the pipeline turned into no frame were left out
        left_out = {str(w.message).split(" ", 1)[0] for w in caught}
        ids = [i for i, t in zip(ids, takes, strict=True) if t.id not in left_out]
    off = {str(v) for v in (getattr(model, "inactive", None) or ())}
    if off:  # a class switched off (DTW's inactive) is never recognised: not reviewed
        dataset = dataset.copy()
        for i in reversed(range(len(dataset))):
            if str(dataset[i].label) in off:
                dataset.remove(i)
                del ids[i]
    return model, dataset, ids


def suggest_for_project(project: Any, *, folds: int = 10, seed: int = 0,
                        cancel: Any = None) -> Any:
    """:func:`gesturemap.suggest_next_take` for a project: its takes through its own pipeline, its own
    model settings (what ``gesturemap eval DIR``, the window and ``/gesturemap/suggest`` use).

    Reads a copy of the takes (:func:`snapshot`), so it may run on
    another thread while the project changes.
    """
    from .next_take import NextTake, too_few_classes

    if project.output_names:
        return NextTake(None, "", "suggestions are for recognising gestures; this project "
                        "maps to continuous outputs")
    labels = sorted({t.label for t in list(project.takes)}, key=str)
    if len(labels) < 2:
        return too_few_classes(labels)
    return project_quality(project, folds=folds, seed=seed, cancel=cancel).next_take()


def snapshot(project: Any) -> Any:
    """A copy of ``project``'s takes, names, pipeline (unfitted copy) and model settings: what
    a review reads, so that it can run on another thread while the project changes."""
    return copy_of(settings_of(project), project.takes)


def settings_of(project: Any) -> dict[str, Any]:
    """What :func:`copy_of` needs of a project besides its takes (settings only: quick)."""
    return {"pipeline": project.pipeline.to_dict(), "model": deepcopy(project.model),
            "input_names": project.input_names, "output_names": project.output_names}


def copy_of(settings: dict[str, Any], takes: Any) -> Any:
    """A project of ``settings`` (:func:`settings_of`) holding ``takes`` (the project's
    tuple: its takes are frozen, so the copy may be made on another thread)."""
    from ..features import Pipeline
    from ..project import Project

    copy = Project(pipeline=Pipeline.from_dict(settings["pipeline"]), model=settings["model"],
                   input_names=settings["input_names"], output_names=settings["output_names"])
    for take in takes:
        copy.add_take(take.inputs, take.label, times=take.times, outputs=take.outputs)
    return copy
