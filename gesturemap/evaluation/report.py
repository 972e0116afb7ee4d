"""The result of an evaluation: metrics, per-fold figures, predictions; JSON, CSV and plots."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..utils.storage import atomic_write_text
from .metrics import classification_metrics, early_accuracy, regression_metrics

__all__ = ["Report"]

FORMAT = "gesturemap.evaluation"
VERSION = 1


def _plain(value: Any) -> Any:
    """JSON-able copy: numpy scalars and arrays to Python, NaN to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Report:
    """Everything an evaluation measured.

    Attributes
    ----------
    task : {"classification", "regression"}
    model : str
        The model kind; ``params`` its parameters.
    protocol : dict
        ``name`` (holdout, stratified k-fold, leave-one-group-out, leave-one-take-out),
        ``folds`` and the settings of the protocol.
    labels : list
        The classes, in the confusion matrix's order.
    accuracy : float or None
        Share of test recordings whose predicted label is right (classification).
    confusion : ndarray (C, C) or None
        Rows: true class; columns: predicted class.
    per_class : list of dict
        label, precision, recall, f1, support.
    macro_f1 : float or None
    early : dict or None
        ``method``, ``fractions`` and ``accuracy`` (one per fraction); with method "both",
        ``accuracy`` is the streamed curve and ``prefix_accuracy`` the batch one on prefixes.
    regression : dict or None
        ``outputs`` (names), ``rmse``, ``mae`` and ``frame_accuracy`` (one per output;
        the share of frames with the right class for an output of class numbers, else None).
    folds : list of dict
        Per fold: n_train, n_test, accuracy, and seconds: fit_s, predict_s (whole recordings),
        stream_s (streaming every frame), prefix_s (predict on prefixes).
    unseen : list of dict
        Classes of the test recordings that their fold's model never trained on (it cannot
        name them: every such recording counts as wrong): label, recordings, frames.
    predictions : list of dict
        Per test recording: recording (its index in the data, or its take id), fold, group
        (leave-one-group-out), label, predicted.
    seconds : float
        Wall time of the whole evaluation.
    """

    task: str
    model: str
    params: dict[str, Any]
    protocol: dict[str, Any]
    labels: list[Any]
    accuracy: float | None = None
    confusion: np.ndarray | None = None
    per_class: list[dict[str, Any]] = field(default_factory=list)
    macro_f1: float | None = None
    early: dict[str, Any] | None = None
    regression: dict[str, Any] | None = None
    folds: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    unseen: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_folds(
        cls,
        spec: tuple[str, dict[str, Any]],
        results: list[Any],
        *,
        protocol: dict[str, Any],
        ids: list[Any],
        groups: list[Any] | None = None,
        early: str,
        fractions: list[float],
        seconds: float,
        output_names: list[str] | None = None,
    ) -> Report:
        """Pool the test predictions of every fold (each recording is tested once).

        ``ids[i]`` names recording ``i`` in the predictions; ``groups[i]`` is its group.
        """
        regression = results[0].predicted is None
        labels: list[Any] = sorted(
            {lb for r in results for lb in (*r.labels, *r.truth)},
            key=lambda v: (isinstance(v, str), v),
        )
        report = cls(
            "regression" if regression else "classification",
            spec[0],
            dict(spec[1]),
            dict(protocol),
            labels,
            seconds=seconds,
        )
        for k, r in enumerate(results):
            fold: dict[str, Any] = {
                "fold": k,
                "n_train": r.n_train,
                "n_test": len(r.truth),
                "fit_s": r.fit_s,
                "predict_s": r.predict_s,
                "stream_s": r.stream_s,
                "prefix_s": r.prefix_s,
            }
            if not regression:
                fold["accuracy"] = float(
                    np.mean([p == t for p, t in zip(r.predicted, r.truth, strict=True)])
                )
                for i, index in enumerate(r.test_index):
                    row = {"recording": ids[int(index)], "fold": k}
                    if groups is not None:
                        row["group"] = groups[int(index)]
                    row.update({"label": r.truth[i], "predicted": r.predicted[i]})
                    report.predictions.append(row)
            report.folds.append(fold)
        if regression:
            truth = np.vstack([r.output_truth for r in results])
            estimate = np.vstack([r.output_estimate for r in results])
            names = list(
                results[0].output_names or output_names or [f"y{i}" for i in range(truth.shape[1])]
            )
            report.regression = {"outputs": names, **regression_metrics(truth, estimate)}
            return report
        report.unseen = _unseen(labels, results)
        truth = [p["label"] for p in report.predictions]
        predicted = [p["predicted"] for p in report.predictions]
        scores = classification_metrics(labels, truth, predicted)
        report.accuracy = scores["accuracy"]
        report.confusion = scores["confusion"]
        report.per_class = scores["per_class"]
        report.macro_f1 = scores["macro_f1"]
        if early != "none":
            true = [t for r in results for t in r.truth]
            report.early = {
                "method": early,
                "fractions": fractions,
                "accuracy": early_accuracy(true, [row for r in results for row in r.early]),
            }
            if early == "both":
                rows = [row for r in results for row in r.early_prefix]
                report.early["prefix_accuracy"] = early_accuracy(true, rows)
        return report

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """A report back from :meth:`to_dict` (or its JSON), e.g. to redraw its plots."""
        confusion = data.get("confusion")
        return cls(
            task=data["task"],
            model=data["model"],
            params=dict(data.get("params") or {}),
            protocol=dict(data.get("protocol") or {}),
            labels=list(data.get("labels") or []),
            accuracy=data.get("accuracy"),
            confusion=None if confusion is None else np.asarray(confusion, dtype=np.int64),
            per_class=list(data.get("per_class") or []),
            macro_f1=data.get("macro_f1"),
            early=data.get("early_recognition"),
            regression=data.get("regression"),
            folds=list(data.get("folds") or []),
            predictions=list(data.get("predictions") or []),
            seconds=float(data.get("seconds") or 0.0),
            unseen=list(data.get("unseen_classes") or []),
        )

    # ---- output ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data; a classification report's ``accuracy`` is top level."""
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION, "task": self.task}
        if self.task == "classification":
            out["accuracy"] = self.accuracy
            out["macro_f1"] = self.macro_f1
        else:
            out["regression"] = self.regression
        out.update(
            {
                "model": self.model,
                "params": self.params,
                "protocol": self.protocol,
                "n_recordings": sum(f["n_test"] for f in self.folds),
                "labels": self.labels,
            }
        )
        if self.task == "classification":
            out.update(
                {
                    "confusion": self.confusion,
                    "per_class": self.per_class,
                    "early_recognition": self.early,
                    "unseen_classes": self.unseen,
                }
            )
        fold_acc = [f["accuracy"] for f in self.folds if "accuracy" in f]
        if len(fold_acc) > 1:
            out["fold_accuracy_mean"] = float(np.mean(fold_acc))
            out["fold_accuracy_std"] = float(np.std(fold_acc))
        out.update({"folds": self.folds, "predictions": self.predictions, "seconds": self.seconds})
        return _plain(out)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The report as JSON text; written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=1) + "\n"
        if path is not None:
            atomic_write_text(Path(path), text)
        return text

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """A table: one row per class (precision, recall, f1, support) and an ``accuracy``
        row, then, after an empty row, the early-recognition curve (``fraction_seen``,
        ``early_accuracy``, ``prefix_accuracy``) when measured; or one row per output (rmse,
        mae) for regression. Written atomically to ``path``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if self.task == "classification":
            writer.writerow(["label", "precision", "recall", "f1", "support"])
            for row in self.per_class:
                writer.writerow(
                    [
                        row["label"],
                        f"{row['precision']:.6g}",
                        f"{row['recall']:.6g}",
                        f"{row['f1']:.6g}",
                        row["support"],
                    ]
                )
            n = sum(row["support"] for row in self.per_class)
            writer.writerow(["accuracy", "", "", f"{self.accuracy:.6g}", n])
            if self.early:
                writer.writerow([])
                prefix = self.early.get("prefix_accuracy")
                writer.writerow(
                    ["fraction_seen", "early_accuracy", *(["prefix_accuracy"] if prefix else [])]
                )
                for k, f in enumerate(self.early["fractions"]):
                    more = [f"{prefix[k]:.6g}"] if prefix else []
                    writer.writerow([f"{f:g}", f"{self.early['accuracy'][k]:.6g}", *more])
        else:
            assert self.regression is not None
            writer.writerow(["output", "rmse", "mae", "frame_accuracy"])
            for name, rmse, mae, acc in self._output_rows():
                writer.writerow(
                    [name, f"{rmse:.6g}", f"{mae:.6g}", "" if acc is None else f"{acc:.6g}"]
                )
        text = buffer.getvalue()
        if path is not None:
            atomic_write_text(Path(path), text)
        return text

    def _output_rows(self) -> list[tuple[str, float, float, float | None]]:
        """(name, rmse, mae, frame accuracy or None) of each output of a regression report."""
        assert self.regression is not None
        r = self.regression
        accuracy = r.get("frame_accuracy") or [None] * len(r["outputs"])
        return list(zip(r["outputs"], r["rmse"], r["mae"], accuracy, strict=True))

    def save_plots(self, folder: str | os.PathLike[str], prefix: str = "") -> list[Path]:
        """Write the report's PNGs into ``folder`` (created if needed); returns their paths.

        Classification: ``confusion.png``, ``early.png`` (if measured), ``f1.png``;
        regression: ``regression.png``.
        """
        from . import plots

        return plots.save_report_plots(self, Path(folder), prefix)

    def _unseen_lines(self) -> list[str]:
        """What the figures above hide: test classes the model never trained on."""
        if not self.unseen:
            return []
        lines = [
            f"  warning: class {u['label']!r} was tested ({u['recordings']} "
            f"recording{'s' if u['recordings'] != 1 else ''}, {u['frames']} frames) but the "
            "model never trained on it: it cannot be recognised, and counts as wrong (F1 0)"
            for u in self.unseen
        ]
        gone = {u["label"] for u in self.unseen}
        kept = [p for p in self.predictions if p["label"] not in gone]
        if kept:
            right = sum(p["label"] == p["predicted"] for p in kept)
            lines.append(f"  without them: accuracy {right / len(kept):.4f} on {len(kept)} "
                         "recordings of the classes trained on")
        return lines

    def summary(self) -> str:
        """A few lines for a terminal."""
        head = f"{self.model} · {self.protocol.get('name')} ({self.protocol.get('folds')} fold(s))"
        if self.task == "regression":
            assert self.regression is not None
            parts = [
                f"{n}: RMSE {r:.4g}, MAE {m:.4g}"
                + ("" if a is None else f", right class in {a:.1%} of frames")
                for n, r, m, a in self._output_rows()
            ]
            return head + "\n  " + "\n  ".join(parts) + f"\n  {self.seconds:.1f} s"
        lines = [
            head,
            f"  accuracy {self.accuracy:.4f} on {len(self.predictions)} recordings, "
            f"macro F1 {self.macro_f1:.4f}",
            *self._unseen_lines(),
        ]
        if self.early:
            method = self.early["method"]
            curves = [("stream" if method == "both" else method, self.early["accuracy"])]
            if "prefix_accuracy" in self.early:
                curves.append(("prefix", self.early["prefix_accuracy"]))
            for name, accuracy in curves:
                curve = " ".join(
                    f"{f:.0%}:{a:.2f}"
                    for f, a in zip(self.early["fractions"], accuracy, strict=True)
                )
                lines.append(f"  early recognition ({name}): {curve}")
        lines.append(f"  {self.seconds:.1f} s")
        return "\n".join(lines)


def _unseen(labels: list[Any], results: list[Any]) -> list[dict[str, Any]]:
    """The test classes some fold's model never trained on, with how many of their test
    recordings (and frames) it met, in the report's class order."""
    count: dict[Any, list[int]] = {}
    for r in results:
        trained = set(r.labels)
        frames = r.test_frames or [0] * len(r.truth)
        for label, length in zip(r.truth, frames, strict=True):
            if label not in trained:
                tally = count.setdefault(label, [0, 0])
                tally[0] += 1
                tally[1] += int(length)
    return [{"label": lb, "recordings": count[lb][0], "frames": count[lb][1]}
            for lb in labels if lb in count]
