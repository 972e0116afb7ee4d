"""Plots: the scrolling input view (pyqtgraph) and small take thumbnails (QPainter).

As in pyqtgraph's ``scrollingPlots.py``: the curves are built once, and the window's timer only
calls ``setData`` with the latest frames, clipped to the view and downsampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from .colours import class_colour

__all__ = [
    "CHANNEL_COLOURS",
    "EventTimeline",
    "OutputsPlot",
    "SignalPlot",
    "class_colour",
]

#: One colour per input channel.
CHANNEL_COLOURS = (
    "#63b3ed",
    "#f6ad55",
    "#68d391",
    "#fc8181",
    "#b794f4",
    "#f6e05e",
    "#4fd1c5",
    "#ed64a6",
)


#: margin added around a signal, as a share of its span, when a plot's range moves
Y_MARGIN = 0.1
#: a plot's range shrinks once its signal spans less than this share of it
Y_SHRINK = 0.3


def slack_range(shown: np.ndarray, current: tuple[float, float] | None, least_span: float
                ) -> tuple[float, float] | None:
    """A vertical range for the values ``shown`` that moves only when they leave ``current``
    or fill less than :data:`Y_SHRINK` of it (None: keep ``current``). pyqtgraph's auto-range
    moves it on every refresh of a scrolling plot, and each move redraws the axis and its
    grid: about 3 ms of a core per refresh, at 30 refreshes a second."""
    finite = shown[np.isfinite(shown)]
    if not len(finite):
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if current is not None:
        y0, y1 = current
        if y0 <= lo and hi <= y1 and (hi - lo) >= Y_SHRINK * (y1 - y0):
            return None
    pad = max(hi - lo, least_span) * Y_MARGIN
    return lo - pad, hi + pad


class SignalPlot(pg.PlotWidget):
    """Every input channel over the last seconds, scrolling.

    Parameters
    ----------
    seconds : float, default 5
        How much time the view shows.
    """

    def __init__(self, seconds: float = 5.0, parent: object = None) -> None:
        super().__init__(parent=parent, background="#11151c")
        self.seconds = seconds
        self.curves: list[pg.PlotDataItem] = []
        self._names: tuple[str, ...] = ()
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setLabel("bottom", "time", units="s")
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        item.setMouseEnabled(x=False, y=True)
        self.legend = item.addLegend(offset=(5, 5), labelTextSize="8pt")
        self.setXRange(-seconds, 0, padding=0)
        # a flat signal (a resting hand) must not auto-range to a zero-height view: the grid
        # would then draw without end
        item.getViewBox().setLimits(minYRange=0.5)
        # The vertical range follows the signal with some slack (slack_range) rather than
        # with pyqtgraph's auto-range. Dragging or zooming the view vertically hands it to
        # the performer until the "A" button.
        item.getViewBox().disableAutoRange(axis=pg.ViewBox.YAxis)
        self._y_range: tuple[float, float] | None = None
        self._y_by_hand = False
        item.getViewBox().sigRangeChangedManually.connect(self._taken_by_hand)
        item.getViewBox().sigStateChanged.connect(self._auto_asked)
        self.record_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(229, 62, 62, 40))
        self.record_region.setVisible(False)
        item.addItem(self.record_region)
        # a take picked in the dataset browser, drawn dashed over the live signal
        self.overlay_curves: list[pg.PlotDataItem] = []
        self._overlay: tuple[np.ndarray, np.ndarray] | None = None

    def set_channels(self, names: Sequence[str]) -> None:
        """Build one curve per channel (once, or again when the channels change)."""
        names = tuple(names)
        if names == self._names:
            return
        item = self.getPlotItem()
        for curve in self.curves:
            item.removeItem(curve)
        self.legend.clear()
        self.curves = []
        for i, name in enumerate(names):
            curve = item.plot(
                pen=pg.mkPen(CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)], width=1.5), name=name
            )
            self.curves.append(curve)
        self._names = names

    def show_frames(
        self, times: np.ndarray, values: np.ndarray, now: float, record_start: float | None = None
    ) -> None:
        """Draw ``values`` (T, D) at ``times`` (T,) as seconds before ``now``."""
        if values.ndim != 2 or values.shape[0] == 0:
            return
        if len(self.curves) != values.shape[1]:
            self.set_channels([f"in{i + 1}" for i in range(values.shape[1])])
        x = times - now
        for i, curve in enumerate(self.curves):
            curve.setData(x, values[:, i])
        self._follow_y(values[x >= -self.seconds])
        if self._overlay is not None:
            # while recording, the take starts where the new take started (a guide to follow);
            # otherwise it ends now, beside the gesture just made
            t, v = self._overlay
            shift = record_start - now if record_start is not None else -t[-1]
            for i, curve in enumerate(self.overlay_curves):
                curve.setData(t + shift, v[:, i])
        if record_start is not None:
            self.record_region.setRegion((max(record_start - now, -self.seconds), 0))
        self.record_region.setVisible(record_start is not None)

    def _follow_y(self, shown: np.ndarray) -> None:
        if self._y_by_hand:
            return
        moved = slack_range(shown, self._y_range, 0.5)
        if moved is not None:
            self._y_range = moved
            self.getPlotItem().getViewBox().setYRange(*moved, padding=0)

    def _taken_by_hand(self, mask: Any) -> None:
        try:  # which axes the mouse moved: [x, y]
            vertical = bool(mask[1])
        except (TypeError, IndexError):
            vertical = True
        if vertical:
            self._y_by_hand = True

    def _auto_asked(self) -> None:
        view = self.getPlotItem().getViewBox()
        if view.state["autoRange"][1]:  # the "A" button: the range follows the signal again
            view.disableAutoRange(axis=pg.ViewBox.YAxis)
            self._y_by_hand = False
            self._y_range = None

    def set_overlay(
        self, times: np.ndarray | None, values: np.ndarray | None, colour: QtGui.QColor
    ) -> None:
        """Draw a take (``values`` (T, D) at ``times`` (T,) seconds from its start) dashed
        over the live signal, in its class's ``colour``; None removes it."""
        item = self.getPlotItem()
        for curve in self.overlay_curves:
            item.removeItem(curve)
        self.overlay_curves = []
        self._overlay = None
        if times is None or values is None or len(times) < 2:
            return
        t = np.asarray(times, dtype=np.float64)
        self._overlay = (t - t[0], np.asarray(values, dtype=np.float64))
        for i in range(values.shape[1]):
            pen = pg.mkPen(
                CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)],
                width=2,
                style=QtCore.Qt.PenStyle.DashLine,
            )
            curve = pg.PlotDataItem(t - t[-1], values[:, i], pen=pen)  # ends now
            curve.setShadowPen(pg.mkPen(colour, width=5))
            curve.setOpacity(0.6)
            item.addItem(curve)
            self.overlay_curves.append(curve)


class EventTimeline(pg.PlotWidget):
    """The gestures spotted over the last seconds, under the live plot (same time axis): one
    marker and name per gesture, in its class's colour, and how many so far.

    Built once: a fixed pool of text items and one scatter item; :meth:`show_events` only
    moves them.
    """

    POOL = 24

    def __init__(self, seconds: float = 5.0, parent: object = None) -> None:
        super().__init__(parent=parent, background="#11151c")
        self.seconds = seconds
        item = self.getPlotItem()
        item.hideAxis("left")
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.setXRange(-seconds, 0, padding=0)
        self.setYRange(0, 1, padding=0)
        self.setFixedHeight(54)
        self.markers = pg.ScatterPlotItem(size=11, symbol="t", pen=None)
        item.addItem(self.markers)
        self.texts = []
        for _ in range(self.POOL):
            text = pg.TextItem("", anchor=(0.5, 1.0))
            text.setVisible(False)
            item.addItem(text)
            self.texts.append(text)
        self.count = pg.TextItem("", anchor=(0.0, 0.0), color="#a0aec0")
        item.addItem(self.count)
        self.shown: list[tuple[float, str]] = []

    def show_events(self, events: Sequence[tuple[float, str, float]], now: float,
                    spotted: int, classes: Sequence[str] = ()) -> None:
        """Draw ``events`` ((t, label, score), oldest first) at ``t - now`` seconds, and the
        number of gestures ``spotted`` so far."""
        recent = [(t - now, str(lb)) for t, lb, _ in events if t - now >= -self.seconds]
        recent = recent[-self.POOL:]
        self.shown = recent
        names = list(classes)
        brushes = [pg.mkBrush(class_colour(names.index(lb) if lb in names else 0))
                   for _, lb in recent]
        self.markers.setData([x for x, _ in recent], [0.25] * len(recent), brush=brushes)
        for i, text in enumerate(self.texts):
            if i < len(recent):
                text.setText(recent[i][1])
                text.setPos(recent[i][0], 0.95)
            text.setVisible(i < len(recent))
        self.count.setText(f"gestures spotted: {spotted}" if spotted else "")
        self.count.setPos(-self.seconds, 1.0)


class OutputsPlot(pg.PlotWidget):
    """Regression outputs over the last seconds, each with a band of ± one standard deviation.

    The monitor pushes one value per refresh (:meth:`push`); the history lives here.

    Parameters
    ----------
    points : int, default 150
        Values kept (5 s at the window's 30 refreshes a second).
    """

    def __init__(self, points: int = 150, parent: object = None) -> None:
        super().__init__(parent=parent, background="#11151c")
        self.points = points
        self.values = np.zeros((0, 0))
        self.stds = np.zeros((0, 0))
        self.curves: list[pg.PlotDataItem] = []
        self.bands: list[pg.FillBetweenItem] = []
        self._edges: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        item = self.getPlotItem()
        item.showGrid(x=False, y=True, alpha=0.2)
        item.hideAxis("bottom")
        item.setMouseEnabled(x=False, y=False)
        item.getViewBox().setLimits(minYRange=0.1)
        item.getViewBox().disableAutoRange(axis=pg.ViewBox.YAxis)  # slack_range moves it
        self._y_range: tuple[float, float] | None = None
        self.legend = item.addLegend(offset=(5, 5), labelTextSize="8pt")
        self.setMinimumHeight(110)

    def set_outputs(self, names: Sequence[str]) -> None:
        """One curve and band per output (built again when the number changes)."""
        item = self.getPlotItem()
        for curve in self.curves:
            item.removeItem(curve)
        for band in self.bands:
            item.removeItem(band)
        self.legend.clear()
        self.curves, self.bands, self._edges = [], [], []
        for i, name in enumerate(names):
            colour = QtGui.QColor(CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)])
            lo, hi = pg.PlotDataItem(), pg.PlotDataItem()
            fill = QtGui.QColor(colour)
            fill.setAlpha(60)
            band = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(fill))
            item.addItem(band)
            curve = item.plot(pen=pg.mkPen(colour, width=2), name=name)
            self.curves.append(curve)
            self.bands.append(band)
            self._edges.append((lo, hi))
        self.values = np.zeros((0, len(names)))
        self.stds = np.zeros((0, len(names)))
        self._y_range = None

    def push(self, output: np.ndarray, variance: np.ndarray | None) -> None:
        """Add one output (D,) and its variance (D,) (None: no band) and redraw."""
        out = np.atleast_1d(np.asarray(output, dtype=np.float64))
        if len(self.curves) != len(out):
            self.set_outputs([f"out{i + 1}" for i in range(len(out))])
        std = np.sqrt(np.maximum(variance, 0.0)) if variance is not None else np.zeros_like(out)
        self.values = np.vstack([self.values[-(self.points - 1) :], out])
        self.stds = np.vstack([self.stds[-(self.points - 1) :], std])
        x = np.arange(len(self.values)) - len(self.values) + 1.0
        for i, curve in enumerate(self.curves):
            v, s = self.values[:, i], self.stds[:, i]
            lo, hi = self._edges[i]
            lo.setData(x, v - s)
            hi.setData(x, v + s)
            curve.setData(x, v)
        moved = slack_range(np.concatenate([self.values - self.stds, self.values + self.stds]),
                            self._y_range, 0.1)
        if moved is not None:
            self._y_range = moved
            self.getPlotItem().getViewBox().setYRange(*moved, padding=0)
