"""What a command says on stderr, written by a thread of its own.

The engine's threads log as things happen: a refused command, a sensor's frame of another
width, a retraining that failed. A line written where it happens waits for whoever reads
stderr: a terminal paused with Ctrl-S (or a scroll lock), or a launcher that captures the
engine's stderr and does not read it, stops the thread that writes once the pipe is full,
and that thread may be the frame path. Here every line goes into a queue that never blocks,
and one thread writes them out: it alone waits for a terminal that does not read. Lines
that pile up past :data:`MAX_WAITING` are counted and said once the terminal reads again.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import sys
import threading
from typing import Any, TextIO

__all__ = ["MAX_WAITING", "WARNINGS_PREFIX", "StderrWriter", "plain_warnings"]

#: Lines kept while stderr is not read (some 1.5 MB at the longest lines logged): hours of
#: the rate-limited log; past it a line is counted, not kept.
MAX_WAITING = 10_000

_STOP = object()

#: The environment variable that tells a process the command started it, and how that command
#: says a warning (``gesturemap run``): set by the command line, read by its training workers.
WARNINGS_PREFIX = "GESTUREMAP_WARNINGS_AS"


class StderrWriter:
    """A queue of lines for stderr and the thread that writes them.

    Parameters
    ----------
    stream : text stream, optional
        Where the lines go; by default ``sys.stderr`` as it is when each line is written.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._queue: queue.Queue[Any]
        self._thread: threading.Thread
        #: lines dropped because MAX_WAITING were waiting (said once the terminal reads)
        self.dropped = 0
        self._said_dropped = 0
        self._start()
        if hasattr(os, "register_at_fork"):
            # a forked child has no writing thread, and may have forked while another thread
            # held the queue's lock: a queue and a thread of its own
            os.register_at_fork(after_in_child=self._start)

    def _start(self) -> None:
        self._queue = queue.Queue(MAX_WAITING)
        self._thread = threading.Thread(target=self._write_all, name="gesturemap-stderr",
                                        daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        """Queue one line (without its newline); never waits."""
        self.put_nowait(line)

    def put_nowait(self, item: Any) -> None:
        """Queue a line or a log record; never waits (one too many is counted, not kept).
        The queue interface :class:`logging.handlers.QueueHandler` calls."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    def handler(self, fmt: str, datefmt: str | None = None) -> logging.Handler:
        """A logging handler whose records, formatted by the thread that logs, join the queue."""
        h = logging.handlers.QueueHandler(self)  # type: ignore[arg-type]
        h.setFormatter(logging.Formatter(fmt, datefmt))
        return h

    def close(self, timeout: float = 2.0) -> None:
        """Write what is waiting, for at most ``timeout`` seconds (stderr may never read)."""
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _write_all(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            # QueueHandler.prepare put the formatted text, traceback included, in msg
            text = item.msg if isinstance(item, logging.LogRecord) else str(item)
            dropped = self.dropped - self._said_dropped
            if dropped:
                self._said_dropped += dropped
                text = (f"({dropped} lines were left out here: stderr was not read while "
                        f"{MAX_WAITING} waited)\n{text}")
            stream = self._stream or sys.stderr
            try:
                stream.write(text + "\n")
                stream.flush()
            except Exception:  # a closed or broken stderr: nothing left to tell
                pass


def plain_warnings(prefix: str, writer: StderrWriter | None) -> None:
    """Say each warning once, as one line ``PREFIX: warning: TEXT`` (not Python's file and
    line of the code, which tell a musician nothing), through ``writer`` when given: a
    warning may come from a thread that must not wait for the terminal."""
    import warnings

    said: set[str] = set()

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        text = " ".join(str(message).split())
        if text in said:
            return
        said.add(text)
        if file is None and writer is not None:
            writer.put(f"{prefix}: warning: {text}")
        else:
            print(f"{prefix}: warning: {text}", file=file or sys.stderr, flush=True)

    warnings.showwarning = show
