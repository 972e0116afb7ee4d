"""Plots: the scrolling input view (pyqtgraph) and small take thumbnails (QPainter).

As in pyqtgraph's ``scrollingPlots.py``: the curves are built once, and the window's timer only
calls ``setData`` with the latest frames, clipped to the view and downsampled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

__all__ = ["CHANNEL_COLOURS", "SignalPlot", "class_colour", "take_pixmap"]

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

_CLASS_COLOURS = (
    "#4299e1",
    "#ed8936",
    "#48bb78",
    "#e53e3e",
    "#9f7aea",
    "#d69e2e",
    "#38b2ac",
    "#d53f8c",
)


def class_colour(index: int) -> QtGui.QColor:
    """The colour of the ``index``-th class (cycles after eight)."""
    return QtGui.QColor(_CLASS_COLOURS[index % len(_CLASS_COLOURS)])


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
        self.record_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(229, 62, 62, 40))
        self.record_region.setVisible(False)
        item.addItem(self.record_region)

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
        if record_start is not None:
            self.record_region.setRegion((max(record_start - now, -self.seconds), 0))
        self.record_region.setVisible(record_start is not None)


def take_pixmap(inputs: np.ndarray, size: QtCore.QSize, colour: QtGui.QColor) -> QtGui.QPixmap:
    """A small picture of a take: each channel of ``inputs`` (T, D) scaled to its own range."""
    w, h = size.width(), size.height()
    pixmap = QtGui.QPixmap(w, h)
    pixmap.fill(QtGui.QColor("#1a202c"))
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.fillRect(0, 0, 4, h, colour)
    t = len(inputs)
    if t >= 2:
        xs = 6 + np.arange(t) * (w - 8) / (t - 1)
        for i in range(inputs.shape[1]):
            col = inputs[:, i]
            lo, hi = float(col.min()), float(col.max())
            ys = h - 3 - (col - lo) / (hi - lo if hi > lo else 1.0) * (h - 6)
            path = QtGui.QPainterPath(QtCore.QPointF(xs[0], ys[0]))
            for x, y in zip(xs[1:], ys[1:], strict=True):
                path.lineTo(x, y)
            painter.setPen(QtGui.QPen(QtGui.QColor(CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)]), 1.2))
            painter.drawPath(path)
    painter.end()
    return pixmap
