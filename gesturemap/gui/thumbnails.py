"""The dataset browser's take thumbnails, drawn on a thread of their own.

A project of many long takes (200 takes of 30 s) took seconds to draw on the window's thread as
it opened, and the window stood still meanwhile. The drawing goes to a worker thread: a
:class:`QImage` may be painted on any thread (a :class:`QPixmap` only on the window's), and the
image reaches the window through a queued signal. A take's curves are reduced to the extremes
of each pixel column first: what a thumbnail shows is the same, and a take of 3000 frames costs
what one of 300 does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Hashable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from .plots import CHANNEL_COLOURS

__all__ = ["ThumbnailDrawer", "take_image"]

_BACKGROUND = "#1a202c"


def _envelope(col: np.ndarray, columns: int) -> np.ndarray:
    """``col`` reduced to its minimum and maximum in each of ``columns`` stretches, in time
    order: drawn as a line it covers the same pixels as the whole column."""
    edges = np.linspace(0, len(col), columns + 1).astype(int)
    lo = np.minimum.reduceat(col, edges[:-1])
    hi = np.maximum.reduceat(col, edges[:-1])
    return np.column_stack([lo, hi]).ravel()


def take_image(inputs: np.ndarray, size: QtCore.QSize, colour: QtGui.QColor) -> QtGui.QImage:
    """A small picture of a take: each channel of ``inputs`` (T, D) scaled to its own range,
    over a stripe of the class's ``colour`` (safe on any thread)."""
    w, h = size.width(), size.height()
    image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtGui.QColor(_BACKGROUND))
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.fillRect(0, 0, 4, h, colour)
    t = len(inputs)
    columns = max(w - 8, 1)
    if t >= 2:
        for i in range(inputs.shape[1]):
            col = np.asarray(inputs[:, i], dtype=float)
            if t > 2 * columns:  # more points than the picture has pixels for
                col = _envelope(col, columns)
            lo, hi = float(col.min()), float(col.max())
            xs = 6 + np.arange(len(col)) * (w - 8) / (len(col) - 1)
            ys = h - 3 - (col - lo) / (hi - lo if hi > lo else 1.0) * (h - 6)
            painter.setPen(QtGui.QPen(QtGui.QColor(CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)]),
                                      1.2))
            painter.drawPath(pg.arrayToQPath(xs, ys))
    painter.end()
    return image


class ThumbnailDrawer(QtCore.QObject):
    """Draws take thumbnails on a worker thread; each arrives as ``drawn(key, image)`` on the
    window's thread.

    :meth:`want` replaces what is to be drawn: a thumbnail asked for before and no longer
    wanted (a project closed, a take deleted) is skipped. :meth:`close` ends the worker
    before its owner goes: a worker drawing on would signal through a deleted object, and
    paint while Qt shuts down.
    """

    drawn = QtCore.Signal(object, QtGui.QImage)

    def __init__(self, size: QtCore.QSize, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._size = QtCore.QSize(size)
        #: jobs, and None to wake a worker waiting for one once closed
        self._jobs: queue.SimpleQueue[tuple[Hashable, Any, str] | None] = queue.SimpleQueue()
        self._closed = False
        #: the keys wanted now (replaced whole: the worker reads it without a lock)
        self._wanted: frozenset[Hashable] = frozenset()
        self._queued: set[Hashable] = set()
        #: the worker, while it has work (it ends when the queue stays empty: a browser
        #: closed leaves no thread behind)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Thumbnails wanted and not drawn yet."""
        return len(self._wanted & self._queued)

    def want(self, jobs: dict[Hashable, tuple[Any, QtGui.QColor]]) -> None:
        """Draw these thumbnails (key → (inputs, colour)), those not already under way."""
        self._wanted = frozenset(jobs)
        self._queued &= self._wanted
        new = [(key, inputs, colour.name()) for key, (inputs, colour) in jobs.items()
               if key not in self._queued]
        if not new or self._closed:
            return
        with self._lock:
            for job in new:
                self._queued.add(job[0])
                self._jobs.put(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="gesturemap-thumbnails")
                self._thread.start()

    def done(self, key: Hashable) -> None:
        """The thumbnail of ``key`` arrived (called on the window's thread)."""
        self._queued.discard(key)

    def stop(self) -> None:
        """Draw nothing more of what is queued (the worker then ends by itself)."""
        self._wanted = frozenset()

    def close(self, timeout_s: float = 2.0) -> bool:
        """Draw nothing more, and return once the worker has ended (at most ``timeout_s``:
        it finishes the picture under way, a few milliseconds). Called on the window's
        thread before the owner is deleted; True when no worker is left."""
        with self._lock:
            self._closed = True
            self._wanted = frozenset()
            thread = self._thread
        if thread is None:
            return True
        self._jobs.put(None)
        thread.join(timeout_s)
        return not thread.is_alive()

    def _next(self) -> tuple[Hashable, Any, str] | None:
        """The next job, or None once there is none or the drawer is closed (the worker
        then ends)."""
        try:
            job = self._jobs.get(timeout=0.5)
        except queue.Empty:
            with self._lock:  # a job put meanwhile finds no worker, and starts one
                if self._jobs.empty():
                    self._thread = None
                    return None
            job = self._jobs.get()
        if job is None or self._closed:
            with self._lock:
                self._thread = None
            return None
        return job

    def _run(self) -> None:
        while (job := self._next()) is not None:
            key, inputs, colour = job
            if key not in self._wanted:
                continue
            try:
                image = take_image(inputs, self._size, QtGui.QColor(colour))
            except Exception:  # a take the picture cannot be drawn of: shown without one
                image = QtGui.QImage()
            with self._lock:  # close() waits for this, so the drawer is still there
                if self._closed:
                    self._thread = None
                    return
                try:
                    self.drawn.emit(key, image)
                except RuntimeError:  # deleted without close() (a browser of its own)
                    self._thread = None
                    return
