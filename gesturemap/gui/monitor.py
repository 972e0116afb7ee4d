"""The monitor: what the model hears now — likelihood and progress per class, the likeliest
class in a large font, exit probabilities and regression outputs.

The window's timer hands it the engine's latest :class:`~gesturemap.models.Result`, and the
bars show that frame's likelihoods as the model gave them (smoothed by its own
``likelihood_window``, which the outputs see too): a smoothing of the view's own would show a
bar past the threshold on a frame the outputs rejected. Below the project's rejection
threshold (``outputs["reject_below"]``) the monitor says "unknown" and greys the class name
out exactly when /wek/outputs sends class 0 for the frame shown: both ask
:func:`gesturemap.outputs.rejection.rejected`, and the stage view shows the same. A DTW model
sends no class at all (Wekinator's DTW: a distance per gesture, and a gesture's message while
it matches): the monitor shows the gesture that matches, or "no match", as DTW sends them, and
the rejection slider, which changes nothing DTW sends, gives way to a line saying so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..outputs.rejection import rejected
from .colours import class_colour
from .labels import never_widens, shown_name
from .plots import OutputsPlot

__all__ = ["ClassBars", "Monitor"]

#: The likeliest class's colour when it is rejected (below the threshold).
REJECTED_COLOUR = "#4a5568"
#: The longest class name the monitor's big line shows whole (in its large type).
NAME_SHOWN_BIG = 24
#: What a DTW project shows instead of the rejection slider.
DTW_NOTE = ("DTW has no rejection threshold: a gesture matches (its message goes out, its "
            "note and one-shot play) while its distance is under DTW's match threshold — "
            "the Model tab's \"threshold\" (0: learned from your takes)")


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
        self.rejected = False
        self.threshold = 0.0
        self.colours: dict[str, QtGui.QColor] = {}
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

            colour = self.colours.get(label) or class_colour(i)
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
            if i != self.likeliest or self.rejected:
                fill.setAlpha(150)
            p.fillRect(QtCore.QRectF(name_w, top, bar_w * min(max(value, 0.0), 1.0), bar_h), fill)
            if self.threshold > 0:  # where the bar must reach to be recognised
                x = name_w + bar_w * self.threshold
                p.fillRect(QtCore.QRectF(x - 1, top - 2, 2, bar_h + 4), QtGui.QColor("#f7fafc"))
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
    big_pt : int, default 40
        Size of the likeliest class's name, in points.
    threshold_control : bool, default False
        Show a slider that sets the rejection threshold (it emits :attr:`threshold_changed`).
    """

    #: The threshold set with the slider (0..1).
    threshold_changed = QtCore.Signal(float)

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        big_pt: int = 40,
        row_height: int = 38,
        bar_pt: int = 10,
        threshold_control: bool = False,
    ) -> None:
        super().__init__(parent)
        #: The likelihoods of the frame shown, per class.
        self.likelihoods = np.zeros(0)
        self.result = None
        #: The project's ``outputs["reject_below"]``: the likelihood the likeliest class
        #: needs to be shown, and sent (0: always).
        self.threshold = 0.0
        #: True while the frame shown chose no class ("unknown"; /wek/outputs sent 0).
        self.rejected = False
        #: While rejected: (the likeliest class, its likelihood, the threshold); else None.
        self.rejection: tuple[str, float, float] | None = None
        self.colours: dict[str, QtGui.QColor] = {}
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
        #: How the likeliest class's gesture is performed (a GVF's speed, scale, rotation).
        self.variation = QtWidgets.QLabel("")
        self.variation.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.variation.setVisible(False)
        self.outputs = QtWidgets.QLabel("")
        self.outputs.setVisible(False)
        never_widens(self.big, self.caption, self.variation)
        self.outputs_plot: OutputsPlot | None = None  # built at the first regression output
        #: The regression outputs' names (the project's ``output_names``), for the plot.
        self.output_names: list[str] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.big)
        layout.addWidget(self.caption)
        layout.addWidget(self.variation)
        layout.addWidget(self.bars)
        self.threshold_slider: QtWidgets.QSlider | None = None
        if threshold_control:
            self.threshold_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            self.threshold_slider.setRange(0, 100)
            self.threshold_slider.setToolTip(
                "Rejection threshold: below it, the likeliest class shows as unknown, "
                "/wek/outputs sends 0, MIDI releases its note and no one-shot plays (the "
                "Outputs tab's \"send class 0 below\")"
            )
            self.threshold_label = QtWidgets.QLabel()
            self.threshold_slider.valueChanged.connect(self._slider_moved)
            self.threshold_row = QtWidgets.QWidget()
            row = QtWidgets.QHBoxLayout(self.threshold_row)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(QtWidgets.QLabel("reject below"))
            row.addWidget(self.threshold_slider, 1)
            row.addWidget(self.threshold_label)
            layout.addWidget(self.threshold_row)
            self._show_threshold()
        #: In a DTW project, in place of the slider (which would change nothing DTW sends).
        self.dtw_note = QtWidgets.QLabel(DTW_NOTE)
        self.dtw_note.setWordWrap(True)
        self.dtw_note.setVisible(False)
        if threshold_control:
            layout.addWidget(self.dtw_note)
        self._dtw = False
        self._layout = layout
        layout.addWidget(self.outputs)
        layout.addStretch(1)

    def set_colours(self, colours: dict[str, QtGui.QColor]) -> None:
        """The classes' colours, by name (:func:`~gesturemap.gui.colours.class_colours`)."""
        self.colours = colours
        self.bars.colours = colours

    def set_dtw(self, dtw: bool) -> None:
        """Whether the project's model is DTW: it decides by its own match threshold, so the
        rejection slider gives way to a line that says where that threshold is set."""
        if dtw == self._dtw:
            return
        self._dtw = dtw
        if self.threshold_slider is not None:
            self.threshold_row.setVisible(not dtw)
            self.dtw_note.setVisible(dtw)

    def set_threshold(self, threshold: float) -> None:
        """Set the rejection threshold (0..1) without emitting :attr:`threshold_changed`."""
        self.threshold = self.bars.threshold = float(threshold)
        if self.threshold_slider is not None and not self.threshold_slider.isSliderDown():
            self.threshold_slider.blockSignals(True)
            self.threshold_slider.setValue(round(self.threshold * 100))
            self.threshold_slider.blockSignals(False)
            self._show_threshold()

    def _slider_moved(self, value: int) -> None:
        # the effect shows at the next refresh, before the project has the new value
        self.threshold = self.bars.threshold = value / 100
        self._show_threshold()
        self.threshold_changed.emit(self.threshold)

    def _show_threshold(self) -> None:
        self.threshold_label.setText(f"{self.threshold:.2f}" if self.threshold else "off")

    def _show_variation(self, result: object, k: int) -> None:
        speed = getattr(result, "speed", None)
        if speed is None or k >= len(speed):
            self.variation.setVisible(False)
            return
        text = f"speed ×{float(speed[k]):.2f}"
        scale = getattr(result, "scale", None)
        if scale is not None:
            text += f" · scale ×{float(np.mean(scale[k])):.2f}"
        rot = getattr(result, "rotation", None)
        if rot is not None:
            r = np.atleast_1d(rot[k])
            angle = float(r[0]) if len(r) == 1 else float(np.sqrt(np.sum(r**2)))
            text += f" · rotation {np.degrees(angle):+.0f}°"
        self.variation.setText(text)
        self.variation.setVisible(True)

    def show_result(self, result: object, labels: Sequence[str]) -> None:
        """Show one :class:`~gesturemap.models.Result` (or None: nothing yet)."""
        if result is None or not labels:
            self.rejected = self.bars.rejected = False
            self.rejection = None
            self.big.setText("—")
            self.big.setStyleSheet("")
            self.bars.set_values(labels, np.zeros(len(labels)), None, None, -1)
            return
        self.result = result
        lik = self.likelihoods = np.asarray(result.likelihoods, dtype=np.float64)
        k = int(result.label_index)
        name = str(labels[k]) if k < len(labels) else str(result.label)
        distances = getattr(result, "distances", None)
        # DTW, as Wekinator sends it, chooses by its match, not by likelihood (the one rule)
        self.rejected = self.bars.rejected = rejected(result, self.threshold)
        self.rejection = (name, float(lik[k]), self.threshold) if (
            self.rejected and distances is None) else None
        progress = (
            f" · progress {min(float(result.progress[k]), 1.0):.0%}"
            if result.progress is not None
            else ""
        )
        if distances is not None and self.rejected:
            self.big.setText("— no match")
            self.big.setStyleSheet(f"color: {REJECTED_COLOUR}")
            self.caption.setText(f"nearest {shown_name(name)}: distance "
                                 f"{float(distances[k]):.2f}, not under its match threshold")
        elif self.rejected:
            self.big.setText("— unknown")
            self.big.setStyleSheet(f"color: {REJECTED_COLOUR}")
            self.caption.setText(
                f"{shown_name(name)}: likelihood {lik[k]:.2f} below {self.threshold:.2f}"
            )
        else:
            colour = self.colours.get(name) or class_colour(k)
            self.big.setText(shown_name(name, NAME_SHOWN_BIG))
            self.big.setStyleSheet(f"color: {colour.name()}")
            self.caption.setText(
                (f"match · distance {float(distances[k]):.2f}" if distances is not None
                 else f"likelihood {lik[k]:.2f}") + progress)
        self.bars.set_values(labels, lik, result.progress, result.exit_likelihoods, k)
        self._show_variation(result, k)
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
            if self.outputs_plot is None:
                self.outputs_plot = OutputsPlot()
                if len(self.output_names) == len(out):
                    self.outputs_plot.set_outputs(self.output_names)
                self._layout.insertWidget(self._layout.indexOf(self.outputs) + 1, self.outputs_plot)
            self.outputs_plot.push(out, var if result.output_covariance is not None else None)
