"""Python's cyclic garbage collected in the window's thread only, while a window is open.

Left automatic, the collector runs in whichever thread happens to allocate: the engine's
I/O thread, a trainer's reader, a sensor's thread. Freeing a Qt object's wrapper there takes
Qt's locks from that thread, and the GUI thread deleting other Qt objects at the same moment
(a menu, a painter's objects) waits for them while holding the interpreter's lock: both wait
for ever, and with them the window's frame path. While any window is open, automatic
collection is off and the GUI thread collects on a timer with Python's own thresholds
(pyqtgraph's collector); when the last window closes, automatic collection comes back as it
was, so a script that opened a window goes on as before.
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["collect_in_gui_thread", "collect_as_before"]

#: the windows open now that asked for it, the timer's collector, and whether collection was
#: automatic before the first of them
_open = 0
_collector: Any = None
_was_automatic = False


def collect_in_gui_thread(interval_s: float = 1.0) -> None:
    """Turn automatic collection off and collect on a timer in the calling (GUI) thread,
    until as many :func:`collect_as_before` calls come as calls of this."""
    global _open, _collector, _was_automatic
    from pyqtgraph.util.garbage_collector import GarbageCollector

    if _open == 0:
        _was_automatic = gc.isenabled()
        _collector = GarbageCollector(interval=interval_s)  # turns automatic collection off
    _open += 1


def collect_as_before() -> None:
    """One window closed; with the last, the timer stops and collection is as it was."""
    global _open, _collector
    if _open == 0:
        return
    _open -= 1
    if _open:
        return
    _collector.timer.stop()
    _collector = None
    # what the windows left is collected here, in the GUI thread, before another thread may
    gc.collect()
    if _was_automatic:
        gc.enable()
