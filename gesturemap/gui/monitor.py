"""The monitor: what the model hears now — likelihood and progress per class, the likeliest
class in a large font, exit probabilities and regression outputs.

The window's timer hands it the engine's latest :class:`~gesturemap.models.Result`; the
widget smooths the likelihoods for the eye (the model's own output is not changed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from .plots import class_colour

__all__ = ["ClassBars", "Monitor"]


class ClassBars(QtWidgets.QWidget):
    """One row per class: its name, a likelihood bar, and a thinner progress bar under it."""

    def __init__(
        self, parent: QtWidgets.QWidget | None = None, row_height: int = 38, font_pt: int = 10
    ) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.likelihoods = np.zeros(0)
        self.progress: np.ndarray | None = None
        self.exits: np.ndarray | None = None
        self.likeliest = -1
        self.row_height = row_height
        self.font_pt = font_pt
        self.setMinimumHeight(row_height)

    def set_values(
        self,
        labels: Sequence[str],
        likelihoods: np.ndarray,
        progress: np.ndarray | None,
        exits: np.ndarray | None,
        likeliest: int,
    ) -> None:
        self.labels = list(labels)
        self.likelihoods = likelihoods
        self.progress = progress
        self.exits = exits
        self.likeliest = likeliest
        self.setMinimumHeight(self.row_height * max(1, len(self.labels)))
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        font = p.font()
        font.setPointSize(self.font_pt)
        p.setFont(font)
        name_w = max(60, self.width() // 4)
        bar_w = self.width() - name_w - 60
        for i, label in enumerate(self.labels):
            top = i * self.row_height + 3

            colour = class_colour(i)
            p.setPen(QtGui.QColor("#e2e8f0" if i == self.likeliest else "#a0aec0"))
            p.drawText(
                QtCore.QRectF(0, top, name_w - 6, self.row_height * 0.6),
                QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            value = float(self.likelihoods[i]) if i < len(self.likelihoods) else 0.0
            bar_h = self.row_height * 0.55
            p.fillRect(QtCore.QRectF(name_w, top, bar_w, bar_h), QtGui.QColor("#2d3748"))
            fill = QtGui.QColor(colour)
            if i != self.likeliest:
                fill.setAlpha(150)
            p.fillRect(QtCore.QRectF(name_w, top, bar_w * min(max(value, 0.0), 1.0), bar_h), fill)
            p.setPen(QtGui.QColor("#e2e8f0"))
            p.drawText(
                QtCore.QRectF(name_w + bar_w + 4, top, 56, bar_h),
                QtCore.Qt.AlignmentFlag.AlignVCenter,
                f"{value:.2f}",
            )
            if self.progress is not None and i < len(self.progress):
                prog = min(max(float(self.progress[i]), 0.0), 1.0)
                y = top + bar_h + 3
                p.fillRect(QtCore.QRectF(name_w, y, bar_w, 5), QtGui.QColor("#2d3748"))
                p.fillRect(QtCore.QRectF(name_w, y, bar_w * prog, 5), QtGui.QColor("#edf2f7"))
                if self.exits is not None and i < len(self.exits):
                    # exit probability: a tick at the end of the progress bar, brighter when high
                    ex = min(max(float(self.exits[i]), 0.0), 1.0)
                    p.fillRect(
                        QtCore.QRectF(name_w + bar_w + 2, y - 2, 6, 9),
                        QtGui.QColor(255, 255, 255, int(40 + 215 * ex)),
                    )
        p.end()


class Monitor(QtWidgets.QWidget):
    """Likelihood bars, progress, the likeliest class in large type, and regression outputs.

    Parameters
    ----------
    smoothing : float, default 0.3
        Weight of the new value in the bars' exponential smoothing (1: none).
    big_pt : int, default 40
        Size of the likeliest class's name, in points.
    """

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        smoothing: float = 0.3,
        big_pt: int = 40,
        row_height: int = 38,
        bar_pt: int = 10,
    ) -> None:
        super().__init__(parent)
        self.smoothing = smoothing
        self.smoothed = np.zeros(0)
        self.result = None
        self.big = QtWidgets.QLabel("—")
        self.big.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        font = self.big.font()
        font.setPointSize(big_pt)
        font.setBold(True)
        self.big.setFont(font)
        self.big.setMinimumHeight(int(big_pt * 2))
        self.caption = QtWidgets.QLabel("not running: record a few takes, then train")
        self.caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.bars = ClassBars(row_height=row_height, font_pt=bar_pt)
        self.outputs = QtWidgets.QLabel("")
        self.outputs.setVisible(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.big)
        layout.addWidget(self.caption)
        layout.addWidget(self.bars)
        layout.addWidget(self.outputs)
        layout.addStretch(1)

    def show_result(self, result: object, labels: Sequence[str]) -> None:
        """Show one :class:`~gesturemap.models.Result` (or None: nothing yet)."""
        if result is None or not labels:
            self.big.setText("—")
            self.big.setStyleSheet("")
            self.bars.set_values(labels, np.zeros(len(labels)), None, None, -1)
            return
        self.result = result
        lik = np.asarray(result.likelihoods, dtype=np.float64)
        if self.smoothed.shape != lik.shape:
            self.smoothed = lik.copy()
        else:
            self.smoothed += self.smoothing * (lik - self.smoothed)
        k = int(result.label_index)
        self.big.setText(str(labels[k]) if k < len(labels) else str(result.label))
        self.big.setStyleSheet(f"color: {class_colour(k).name()}")
        self.caption.setText(
            f"likelihood {lik[k]:.2f}"
            + (
                f" · progress {min(float(result.progress[k]), 1.0):.0%}"
                if result.progress is not None
                else ""
            )
        )
        self.bars.set_values(labels, self.smoothed, result.progress, result.exit_likelihoods, k)
        if result.output is not None:
            out = np.atleast_1d(result.output)
            var = (
                np.diag(np.atleast_2d(result.output_covariance))
                if result.output_covariance is not None
                else np.zeros_like(out)
            )
            self.outputs.setText(
                "outputs: "
                + "  ".join(
                    f"{v:.3f} ± {np.sqrt(max(s, 0.0)):.3f}" for v, s in zip(out, var, strict=False)
                )
            )
            self.outputs.setVisible(True)
