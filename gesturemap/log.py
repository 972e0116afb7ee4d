"""Session logs: every stream of a session, time-stamped, in CSV files that load anywhere.

A session log is a folder::

    session-2026-05-01/
        session.json        format "gesturemap.session": start (ISO and epoch), end, streams
                            and their columns, files, counters
        input.csv           one file per stream: header "t,<col1>,<col2>,...", one row a frame
        features.csv        ...
        labels.csv          t,label (an empty label: no class from then on; the engine
                            writes a row for each model step, or each frame it did not answer)
        events.csv          t,kind,data (data: a JSON object; a ``reset`` event's ``frame``
                            is the first input row after a stream reset, which a replay
                            resets at too: see :meth:`SessionLog.accepted`)

Times are ``t - t0`` in seconds: by default ``t0`` is ``time.perf_counter()`` when the log was
created, so ``t`` is seconds since the session started. The engine gives ``t0 = 0``: its files
hold the engine's own clock (``time.perf_counter()``, seconds since an arbitrary origin such as
boot), so a replay feeds the pipeline the very same times; ``session.json`` says which in
``time_unit`` and gives ``start_t`` (the ``t`` of the session's start: subtract it for seconds
since start). Floats are written with ``repr``, the shortest text that
reads back as the very same float64, so a logged session replays bit for bit. The CSV files
open with ``numpy.loadtxt(path, delimiter=",", skiprows=1)`` or ``pandas.read_csv(path)``
without gesturemap.

:meth:`SessionLog.write` is called from the real-time engine thread: it only appends to a
bounded in-memory queue (counting what it drops when the queue is full) and never blocks or
raises. A writer thread of its own formats the rows and appends them to the files, flushing and
fsyncing at least every ``flush_interval_s`` (0.5 s), so a session killed at any moment keeps
all but its last half second; a line cut short by the kill is skipped by :func:`read_log`.
A write that fails (a full disk, the folder removed) costs the rows it held, counted in
``lost`` (:meth:`SessionLog.stats`, ``session.json``), never a row cut in the middle of a file.
"""

from __future__ import annotations

import csv
import datetime
import itertools
import json
import logging
import math
import os
import re
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .errors import FormatError
from .utils.faults import RateLimitedLog, raise_mode
from .utils.reading import not_a_folder, open_regular_file, text_lines
from .utils.storage import read_json, write_json
from .utils.validation import check_number, validation_error

__all__ = [
    "FORMAT",
    "VERSION",
    "Event",
    "SessionLog",
    "Stream",
    "iter_events",
    "log_rows_missing",
    "log_start",
    "read_events",
    "read_labels",
    "read_log",
    "read_stream_chunks",
    "stream_columns",
]

FORMAT = "gesturemap.session"
VERSION = 1

SESSION_FILE = "session.json"
EVENTS = "events"
LABELS = "labels"

_STREAM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_RESERVED = {EVENTS, LABELS, "session"}
# What one pass of the writer thread formats before it lets other threads run: the engine
# must not wait for the GIL behind a long formatting loop (see _Writer.run).
_BATCH_ROWS = 64

_logger = logging.getLogger("gesturemap.log")


class Stream(NamedTuple):
    """One numeric stream read back by :func:`read_log`.

    Attributes
    ----------
    times : numpy.ndarray, shape (N,)
        Seconds since the session's start.
    values : numpy.ndarray, shape (N, D)
    columns : tuple of str, length D
    """

    times: np.ndarray
    values: np.ndarray
    columns: tuple[str, ...]


class Event(NamedTuple):
    """One logged event: time (seconds since the start), kind, and its data."""

    t: float
    kind: str
    data: dict[str, Any]


def _check_columns(stream: str, columns: Any) -> tuple[str, ...]:
    name = f"columns of stream {stream!r}"
    if isinstance(columns, str) or not isinstance(columns, Sequence):
        raise validation_error(name, columns, "a list of column names")
    names = tuple(columns)
    ok = all(isinstance(c, str) and c and not set(c) & set("\r\n") for c in names)
    # a column may be called "t" (a class "t" of a letters vocabulary, a channel "t"): the
    # time is always the file's first column, session.json lists the others, and pandas
    # reads the second "t" as "t.1"
    if not names or not ok or len(set(names)) != len(names):
        raise validation_error(
            name,
            list(names),
            "at least one name; names distinct, non-empty, on one line",
            "A stream whose size is not known yet cannot be logged: open the log once it is."
            if not names else None,
        )
    return names


def _header(columns: Sequence[str]) -> str:
    """A stream file's first line (names with commas or quotes are quoted, as CSV does)."""
    return ",".join(["t", *(_csv_field(c) for c in columns)])


def _check_streams(streams: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(streams, Mapping):
        raise validation_error(
            "streams", streams, 'a dict {stream name: [column names]}, e.g. {"input": ["ax"]}'
        )
    checked = {}
    for stream, columns in streams.items():
        if (
            not isinstance(stream, str)
            or not _STREAM_NAME.fullmatch(stream)
            or (stream in _RESERVED)
        ):
            raise validation_error(
                "stream name",
                stream,
                "letters, digits, '_', '-' or '.', usable as a file name, other than "
                + ", ".join(sorted(_RESERVED)),
            )
        checked[stream] = _check_columns(stream, columns)
    return checked


def _count_drop(dropped: dict[str, int], stream: Any) -> None:
    """Count one dropped row of ``stream`` (any object: a bad name is counted by its repr)."""
    key = stream if isinstance(stream, str) else repr(stream)
    dropped[key] = dropped.get(key, 0) + 1


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="microseconds")


class SessionLog:
    """Log the streams of a session into a folder of CSV files, from a real-time thread.

    Parameters
    ----------
    folder : str or os.PathLike
        Created if needed; it must not already hold a session log.
    streams : dict of str to list of str
        The numeric streams and their column names, e.g. ``{"input": ["ax", "ay", "az"],
        "outputs": ["pitch", "gain"]}`` (may be empty). ``labels`` and ``events`` are always
        there.
    t0 : float, optional
        The time that is 0 in the files, on the clock of the times given to :meth:`write`;
        default the session's start (the clock of :class:`gesturemap.sources.Frame`).
    start : float, optional
        When the session started, on that clock; default ``time.perf_counter()`` now. A log
        opened after its first rows were taken (an engine that learns the input's columns
        from its first frame, and holds the frames meanwhile) gives the first row's time, so
        that no row comes before ``start_t`` and a read from :func:`log_start` holds them all.
    max_queued : int, default 100_000
        Rows held in memory waiting for the writer; beyond that new rows are dropped and
        counted (:attr:`dropped`).
    flush_interval_s : float, default 0.5
        The longest a written row waits before it is flushed and fsynced (at most 1 s).
    meta : dict, optional
        JSON-compatible information stored in ``session.json`` (project, sensor, ...).

    Attributes
    ----------
    folder : pathlib.Path
    t0 : float
    start_epoch : float
        The wall-clock time (``time.time()``) of the session's start: when the log was
        created, or at ``start``; with the default ``t0``, that of ``t = 0``.
    dropped : dict of str to int
        Rows dropped per stream because the queue was full, the log closed, or the row did not
        fit its stream (wrong width, unknown stream).

    Rows that could not be written (a full disk, a failing drive, the folder removed) are
    counted per stream under ``lost`` in :meth:`stats` and ``session.json``; the first failure
    is logged once, the number lost at :meth:`close`.

    Examples
    --------
    >>> log = SessionLog(folder, {"input": ["x", "y"]})        # doctest: +SKIP
    >>> log.write("input", time.perf_counter(), frame.values)  # doctest: +SKIP
    >>> log.event(time.perf_counter(), "train", takes=12)      # doctest: +SKIP
    >>> log.close()                                            # doctest: +SKIP
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        streams: Mapping[str, Sequence[str]],
        *,
        t0: float | None = None,
        start: float | None = None,
        max_queued: int = 100_000,
        flush_interval_s: float = 0.5,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.streams = _check_streams(streams)
        check_number("max_queued", max_queued, minimum=1, integer=True)
        check_number("flush_interval_s", flush_interval_s, minimum=0.001, maximum=1.0)
        if start is not None:
            check_number("start", start)
        self.folder = Path(folder)
        if (self.folder / SESSION_FILE).exists():
            raise validation_error(
                "folder",
                str(self.folder),
                "a new or empty folder",
                "It already holds a session log: choose another folder, e.g. with the date.",
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        wall, now = time.time(), time.perf_counter()
        # a start in the future is no start: a row cannot be written before it is taken
        begun = now if start is None else min(float(start), now)
        self.start_epoch = wall - (now - begun)
        self.t0 = begun if t0 is None else float(t0)
        #: the ``t`` of the session's start in the files (0.0 with the default ``t0``)
        self.start_t = begun - self.t0
        self._meta = dict(meta or {})
        try:
            json.dumps(self._meta, allow_nan=False)
        except (TypeError, ValueError):
            raise validation_error("meta", meta, "a JSON-compatible dict") from None
        self._files = {name: f"{name}.csv" for name in (*self.streams, LABELS, EVENTS)}
        self.dropped: dict[str, int] = dict.fromkeys(self._files, 0)
        self._accepted: dict[str, int] = dict.fromkeys(self._files, 0)
        self._queue: deque[tuple[str, float, Any]] = deque()
        self._max_queued = int(max_queued)
        self._closed = False
        self._end_epoch: float | None = None
        try:
            self._writer = _Writer(self, float(flush_interval_s))
        except FileExistsError as error:
            raise validation_error(
                "folder",
                str(self.folder),
                "a folder without session log files",
                f"It already holds {Path(error.filename).name}: choose another folder.",
            ) from None
        except OSError as error:  # a full disk, a folder that cannot be written to
            raise _open_error(self.folder, error) from None
        try:
            self._write_session()
        except OSError as error:
            self._writer.remove_files()
            raise _open_error(self.folder, error) from None
        self._writer.start()

    def _write_session(self) -> None:
        document = {
            "start": _iso(self.start_epoch),
            "start_epoch": self.start_epoch,
            "end": None if self._end_epoch is None else _iso(self._end_epoch),
            "end_epoch": self._end_epoch,
            "time_unit": "seconds since start" if self.start_t == 0.0 else
            "seconds on the time.perf_counter() clock; subtract start_t for seconds since start",
            "start_t": self.start_t,
            "streams": {name: list(columns) for name, columns in self.streams.items()},
            "files": dict(self._files),
            "meta": self._meta,
        }
        if self._end_epoch is not None:
            document["rows"] = dict(self._writer.rows)
            document["dropped"] = dict(self.dropped)
            document["lost"] = dict(self._writer.lost)
            document["write_errors"] = self._writer.errors
        write_json(self.folder / SESSION_FILE, document, format=FORMAT, version=VERSION)

    # ---- the real-time side: never blocks, never raises -----------------------------------------

    def _put(self, stream: str, t: Any, item: Any) -> bool:
        if self._closed or len(self._queue) >= self._max_queued:
            _count_drop(self.dropped, stream)
            return False
        accepted = self._accepted
        if stream in accepted:  # (an unhashable name raises here, before anything is queued)
            accepted[stream] += 1
        # deque.append is atomic under the GIL: no lock between this thread and the writer.
        self._queue.append((stream, t, item))
        return True

    def accepted(self, stream: str) -> int:
        """Rows of ``stream`` accepted so far (queued or written, not dropped): the index in
        the stream's file of the next row accepted, when every row fits its stream.

        An event can name a frame with it, e.g. the engine's ``reset`` event gives
        ``frame=log.accepted("input")``, the first ``input`` row after the reset, which
        :func:`gesturemap.live.replay.replay_log` resets the stream before. Never raises
        (0 for a stream the log does not have).
        """
        try:
            return self._accepted.get(stream, 0)
        except TypeError:
            return 0

    def write(self, stream: str, t: float, values: Any) -> bool:
        """Queue one row of a numeric stream; never blocks, never raises.

        Parameters
        ----------
        stream : str
            One of the streams given at creation.
        t : float
            The row's time, on the clock of :attr:`t0`.
        values : array_like, shape (D,), or float
            One value per column; copied at once (the caller may reuse its buffer).

        Returns
        -------
        bool
            False if the row was dropped (queue full, or the log closed) and counted.
            A row that does not fit its stream (unknown stream, wrong width) is found and
            counted by the writer thread.
        """
        try:
            if type(values) is np.ndarray:
                item: Any = values.copy()
            elif isinstance(values, int | float | np.generic):
                item = (values,)
            else:
                item = tuple(values)
            return self._put(stream, t, item)
        except Exception:  # noqa: BLE001 - the engine's thread must never see an error here
            _count_drop(self.dropped, stream)
            return False

    def drop(self, stream: str, count: int = 1) -> None:
        """Count ``count`` rows of ``stream`` that were not written (the engine's: frames
        before the log opened beyond what it holds for it, likelihoods of classes the log
        was not opened with); never raises. They show in :attr:`dropped` and
        ``session.json``."""
        if count > 0:
            self.dropped[stream] = self.dropped.get(stream, 0) + int(count)

    def label(self, t: float, label: str | int | None) -> bool:
        """Log the label in force from time ``t`` on (None: no label); never raises."""
        return self._put(LABELS, t, label)

    def event(self, t: float, kind: str, **data: Any) -> bool:
        """Log an event (``kind`` and JSON-compatible ``data``); never raises.

        Data that JSON cannot hold is written as its ``repr``.
        """
        return self._put(EVENTS, t, (kind, data))

    # ---- the rest --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def queued(self) -> int:
        """Rows waiting for the writer thread."""
        return len(self._queue)

    def stats(self) -> dict[str, Any]:
        """Counters: rows written, dropped and lost (to write errors) per stream, rows
        queued, write errors."""
        return {
            "rows": dict(self._writer.rows),
            "dropped": dict(self.dropped),
            "lost": dict(self._writer.lost),
            "queued": len(self._queue),
            "write_errors": self._writer.errors,
        }

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every row queued so far is written, flushed and fsynced."""
        self._writer.flush(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, flush and close the files, and record the end in session.json.

        Safe to call twice. Rows given after ``close`` are dropped and counted.

        Raises
        ------
        OSError
            Only with ``GESTUREMAP_RAISE=1``: the writer's last write error, if any.
        """
        if self._closed:
            return
        self._closed = True
        self._writer.stop(timeout)
        self._end_epoch = time.time()
        try:
            self._write_session()
        except OSError as error:
            # the end of a performance on a full disk or without its folder: the engine
            # stops all the same, its counters and summary included (the files keep the rows)
            self._writer.failed(error)
            _logger.warning("session log: %s keeps no end and no counts (%s); its rows read "
                            "as they are", self.folder / SESSION_FILE, error)
        self._writer.said_lost()
        error, self._writer.exception = self._writer.exception, None
        if error is not None and raise_mode():
            raise error

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<SessionLog {str(self.folder)!r} {sorted(self.streams)} {state}>"


class _Writer(threading.Thread):
    """The thread that turns queued rows into CSV lines and appends them to the files.

    Each file's lines gather in memory (at most :data:`_BLOCK_BYTES`, or until the next sync)
    and go to the file in one block. A block that cannot be written whole (a full disk, a
    failing drive) is cut off again: the file keeps ending on a whole row, so rows written
    once the disk has room again follow whole ones, and the rows of the block are counted
    in :attr:`lost` (``rows`` counts only what reached the file). A file removed while the
    log writes (its folder deleted) is found at each sync; its rows are lost and counted
    too. The first failure is said once; the count at the end."""

    def __init__(self, log: SessionLog, flush_interval_s: float) -> None:
        super().__init__(name="gesturemap-session-log", daemon=True)
        self.log = log
        self.flush_interval_s = flush_interval_s
        self.rows: dict[str, int] = dict.fromkeys(log._files, 0)
        #: rows that did not reach their file, per stream: a write error, a file removed
        self.lost: dict[str, int] = dict.fromkeys(log._files, 0)
        self.errors = 0
        self.exception: BaseException | None = None
        self._said_failure = False
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._flushed = threading.Condition()
        self._flush_count = 0
        self._report = RateLimitedLog(_logger)
        self._fds: dict[str, int] = {}
        self._sizes: dict[str, int] = {}  # each file's bytes up to its last whole row
        self._pending: dict[str, list[str]] = {name: [] for name in log._files}
        self._pending_bytes: dict[str, int] = dict.fromkeys(log._files, 0)
        self._dirty: set[str] = set()
        self._open_files()

    def _open_files(self) -> None:
        log = self.log
        headers = {name: _header(columns) for name, columns in log.streams.items()}
        headers[LABELS] = "t,label"
        headers[EVENTS] = "t,kind,data"
        # O_APPEND: a block cut off again (see _write_block) leaves the offset past the end;
        # the next one must follow the last whole row, not a hole of zeros
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_BINARY", 0)
        try:
            for name, file_name in log._files.items():
                # "\n" is written as is on every platform (bytes, no newline translation)
                fd = self._fds[name] = os.open(log.folder / file_name, flags, 0o666)
                header = (headers[name] + "\n").encode("utf-8")
                _write_all(fd, header)
                os.fsync(fd)
                self._sizes[name] = len(header)
        except BaseException:
            self.remove_files()
            raise

    def remove_files(self) -> None:
        """Close and remove the files this log created (a log that could not open: the
        folder stays free for the next try, instead of "already holds input.csv")."""
        names = list(self._fds)
        self._close_files()
        for name in names:
            try:
                os.unlink(self.log.folder / self.log._files[name])
            except OSError:
                pass

    def _close_files(self) -> None:
        for fd in self._fds.values():
            try:
                os.close(fd)
            except OSError as error:
                self.failed(error)
        self._fds.clear()

    def run(self) -> None:
        last_sync = time.monotonic()
        poll_s = min(0.05, self.flush_interval_s / 2)
        while True:
            stopping = self._stopping.is_set()
            self._drain()
            now = time.monotonic()
            flush_asked = self._wake.is_set()
            if stopping or flush_asked or now - last_sync >= self.flush_interval_s:
                self._wake.clear()
                self._sync()
                last_sync = now
                with self._flushed:
                    self._flush_count += 1
                    self._flushed.notify_all()
            if stopping and not self.log._queue:
                break
            self._wake.wait(poll_s)
        self._close_files()

    def _drain(self) -> None:
        queue = self.log._queue
        while queue:
            for _ in range(min(_BATCH_ROWS, len(queue))):
                stream, t, item = queue.popleft()
                try:
                    self._write_row(stream, t, item)
                except Exception as error:  # noqa: BLE001 - a bad row must not stop the log
                    _count_drop(self.log.dropped, stream)
                    self._report("row", "session log: a %r row was not written (%s)", stream, error)
            # Let the engine's thread have the GIL between batches.
            time.sleep(0)

    def _write_row(self, stream: str, t: Any, item: Any) -> None:
        log = self.log
        t_rel = repr(float(t) - log.t0)
        if stream == LABELS:
            text = "" if item is None else str(item)
            line = f"{t_rel},{_csv_field(text)}\n"
        elif stream == EVENTS:
            kind, data = item
            payload = json.dumps(data, default=repr, allow_nan=True, separators=(",", ":"))
            line = f"{t_rel},{_csv_field(str(kind))},{_csv_field(payload)}\n"
        else:
            columns = log.streams.get(stream) if isinstance(stream, str) else None
            values = item.tolist() if isinstance(item, np.ndarray) else item
            if columns is None or len(values) != len(columns):
                _count_drop(log.dropped, stream)
                self._report(
                    f"shape:{stream}",
                    "session log: a row of %d values for stream %r was dropped (expected %s)",
                    len(values),
                    stream,
                    "a known stream" if columns is None else f"{len(columns)} values",
                )
                return
            line = t_rel + "," + ",".join(map(repr, map(float, values))) + "\n"
        self._pending[stream].append(line)
        self._pending_bytes[stream] += len(line)
        self._dirty.add(stream)
        if self._pending_bytes[stream] >= _BLOCK_BYTES:
            self._write_block(stream)

    def _write_block(self, name: str) -> None:
        """Append ``name``'s gathered lines to its file; if they cannot all be written, cut
        the file back to its last whole row and count them lost."""
        lines = self._pending[name]
        if not lines:
            return
        data = "".join(lines).encode("utf-8")
        count = len(lines)
        self._pending[name] = []
        self._pending_bytes[name] = 0
        fd = self._fds.get(name)
        try:
            if fd is None:
                raise OSError(f"{name}'s file is closed")
            _write_all(fd, data)
        except OSError as error:
            self.lost[name] += count
            if fd is not None:
                try:  # a part written: the next block must follow a whole row
                    os.ftruncate(fd, self._sizes[name])
                except OSError:
                    pass
            self.failed(error)
            return
        self._sizes[name] += len(data)
        self.rows[name] += count

    def _sync(self) -> None:
        for name in self._dirty:
            self._write_block(name)
            fd = self._fds.get(name)
            if fd is None:
                continue
            try:
                os.fsync(fd)
                if os.fstat(fd).st_nlink == 0:
                    # written into a file no folder holds any more: nothing will find it
                    lost, self.rows[name] = self.rows[name], 0
                    self.lost[name] += lost
                    if lost:
                        raise FileNotFoundError(
                            f"{self.log.folder / self.log._files[name]} was removed "
                            "while the session was logged")
            except OSError as error:
                self.failed(error)
        self._dirty.clear()

    def failed(self, error: OSError) -> None:
        """Count a write error; the first one is said."""
        self.errors += 1
        self.exception = error
        if not self._said_failure:
            self._said_failure = True
            _logger.warning("session log: cannot write to %s: %s; the rows that cannot be "
                            "written are counted as lost (--stats' log_rows_lost, session.json's "
                            "\"lost\")",
                            self.log.folder, error)

    def said_lost(self) -> None:
        """At the end: how many rows were lost, if any."""
        lost = {name: n for name, n in self.lost.items() if n}
        if lost:
            _logger.warning("session log: %d rows were not written to %s (%s) in %d write "
                            "errors", sum(lost.values()), self.log.folder,
                            ", ".join(f"{name}: {n}" for name, n in lost.items()), self.errors)

    def flush(self, timeout: float) -> None:
        with self._flushed:
            target = self._flush_count + 1
            self._wake.set()
            self._flushed.wait_for(
                lambda: self._flush_count >= target or not self.is_alive(), timeout
            )

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self._wake.set()
        self.join(timeout)


def _open_error(folder: Path, error: OSError) -> OSError:
    """``error``, saying it was the session log in ``folder`` that could not open."""
    if error.errno is None:
        return OSError(f"cannot open the session log in {folder}: {error}")
    # the message alone (no "[Errno 28]" before it, as OSError(errno, text) would print),
    # the errno kept for whoever tells a full disk from a missing folder
    said = type(error)(f"cannot open the session log in {folder}: {error.strerror or error}")
    said.errno = error.errno
    return said


#: The most bytes of one file's lines gathered before they are written (between syncs).
_BLOCK_BYTES = 1 << 16


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (a short write continues; an error raises)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(f"no byte written of {len(view)}")
        view = view[written:]


def _csv_field(text: str) -> str:
    """A CSV field: quoted (with doubled quotes) when it holds a comma, quote or line break."""
    if any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


# ---- reading -------------------------------------------------------------------------------------


def _subfolders(folder: Path) -> list[Path]:
    """The folders inside ``folder`` that can be looked into (none if it cannot be listed)."""
    found = []
    try:
        for p in folder.iterdir():
            try:
                if p.is_dir() and os.access(p, os.R_OK | os.X_OK):
                    found.append(p)
            except OSError:
                continue
    except OSError:
        return []
    return found


def _read_session(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise FormatError(not_a_folder(folder, "a session log"))
    path = folder / SESSION_FILE
    if not path.exists():
        # a folder of sessions (one a day, one a performer) given instead of one of them
        inside = sorted(p.name for p in _subfolders(folder) if (p / SESSION_FILE).is_file())
        if inside:
            shown = ", ".join(inside[:5]) + (f" and {len(inside) - 5} more"
                                             if len(inside) > 5 else "")
            raise FormatError(f"{folder} is not a session log; it holds {len(inside)} "
                              f"session log(s): {shown}; give one of them, e.g. "
                              f"{folder / inside[0]}")
        if (folder / "project.json").is_file():
            raise FormatError(f"{folder} is a project, not a session log: give the folder "
                              "that `gesturemap run --log` wrote")
    document = read_json(path, format=FORMAT, max_version=VERSION)
    streams = document.get("streams")
    files = document.get("files")
    if not isinstance(streams, dict) or not isinstance(files, dict):
        raise FormatError(f"{path} is damaged: 'streams' or 'files' is missing.")
    for name in (*streams, LABELS, EVENTS):
        file_name = files.get(name)
        if not isinstance(file_name, str) or Path(file_name).name != file_name:
            raise FormatError(f"{path} is damaged: no plain file name for stream {name!r}.")
    for name, columns in streams.items():
        if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
            raise FormatError(f"{path} is damaged: the columns of stream {name!r} are "
                              f"{columns!r:.60}; expected a list of names.")
    meta = document.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise FormatError(f"{path} is damaged: 'meta' is {meta!r:.60}; expected a dict.")
    return document


def log_project(folder: str | os.PathLike[str]) -> str | None:
    """The project folder a session log was recorded with (the engine writes it into
    ``session.json``'s ``meta``), or None if the log does not say.

    Raises
    ------
    FormatError
        If ``folder`` is not a readable session log.
    """
    return _meta_text(folder, "project")


def log_project_uid(folder: str | os.PathLike[str]) -> str | None:
    """The id of the project a session log was recorded with (``project.json``'s ``uid``,
    written into ``session.json``'s ``meta``; it survives a move of the project's folder),
    or None if the log does not say (a log written before it was recorded).

    Raises
    ------
    FormatError
        If ``folder`` is not a readable session log.
    """
    return _meta_text(folder, "project_uid")


def _meta_text(folder: str | os.PathLike[str], key: str) -> str | None:
    value = _read_session(Path(folder)).get("meta", {}).get(key)
    return value if isinstance(value, str) and value else None


def log_start(folder: str | os.PathLike[str]) -> float:
    """The ``t`` of a session's start in its files (``start_t`` in ``session.json``): the
    engine logs on the ``time.perf_counter()`` clock, so a minute from the start is
    ``read_log(DIR, start=log_start(DIR) + 60, end=log_start(DIR) + 120)``. 0 for a log
    whose times count from its start.

    Raises
    ------
    FormatError
        If ``folder`` is not a readable session log.
    """
    value = _read_session(Path(folder)).get("start_t", 0.0)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else 0.0


def log_rows_missing(folder: str | os.PathLike[str], stream: str = "input") -> int:
    """How many rows of ``stream`` the session took but its files do not hold: ``dropped``
    (the writer's queue full, a row that did not fit) and ``lost`` (a full or failing disk) in
    ``session.json``. 0 for a log that was not closed (it has no counts yet).

    Raises
    ------
    FormatError
        If ``folder`` is not a readable session log.
    """
    document = _read_session(Path(folder))
    missing = 0
    for key in ("dropped", "lost"):
        counts = document.get(key)
        value = counts.get(stream, 0) if isinstance(counts, dict) else 0
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            missing += value
    return missing


def log_ended(folder: str | os.PathLike[str]) -> bool:
    """Whether a session log was closed (``session.json`` has its ``end``): False for a
    session killed or crashed (its last rows, up to ``flush_interval_s``, may be missing), or
    one still being written.

    Raises
    ------
    FormatError
        If ``folder`` is not a readable session log.
    """
    return _read_session(Path(folder)).get("end") is not None


#: Rows a streaming reader parses at a time (:func:`read_stream_chunks`): a few MB of text.
CHUNK_ROWS = 20_000
#: The rows :func:`read_log` parses at a time: the text of more costs more than their arrays
#: (5,000 rows of 16 values: about 4 MB beside 0.7 MB of numbers), and fewer cost time.
_PARSE_ROWS = 5_000


def stream_columns(folder: str | os.PathLike[str]) -> dict[str, tuple[str, ...]]:
    """The numeric streams of a session log and their column names (nothing else is read).

    Raises
    ------
    FormatError
        If ``folder`` is not a readable session log.
    """
    streams = _read_session(Path(folder))["streams"]
    return {name: tuple(columns) for name, columns in streams.items()}


#: The largest stream, labels or events file read (hours of a wide session are far less).
MAX_LOG_FILE_BYTES = 1 << 40


def _open_lines(path: Path) -> Any:
    """The lines of one of a log's files, read through :func:`gesturemap.utils.reading.text_lines`
    (a regular file inside the log's folder, no line longer than it allows: a link to
    ``/dev/zero``, a FIFO or a file without line breaks is refused, never read for ever);
    a ``"\r\n"`` written on Windows is a ``"\n"``."""
    if not path.exists() and not path.is_symlink():
        raise FormatError(f"{path} is missing.")
    return text_lines(path, max_bytes=MAX_LOG_FILE_BYTES, inside=path.parent)


def _stream_tables(path: Path, columns: Sequence[str], chunk_rows: int,
                   finite_below: float | None = None) -> Iterator[np.ndarray]:
    """The ``t`` and value columns of a stream file, ``(n, 1 + D)`` arrays of at most
    ``chunk_rows`` rows, in order: only one chunk's lines are held at a time. A last line
    without its line break (cut short by a crash) is skipped. With ``finite_below``, a row
    whose ``t`` is not finite or with a value not below it in magnitude (NaN, infinite) is
    damage, said with its line."""
    header = _header(columns)
    width = len(columns) + 1
    with _open_lines(path) as handle:
        first = next(handle, "")
        if first[-1:] != "\n" or first[:-1] != header:
            raise FormatError(f"{path} is damaged: its first line is not {header!r}.")
        number = 2  # the file's line number of the chunk's first line (the header is line 1)
        while lines := list(itertools.islice(handle, chunk_rows)):
            if lines[-1][-1:] != "\n":
                lines.pop()  # the piece after the last "\n": a line the crash cut short
            if lines and (lines[0].strip() or "".join(lines).strip()):
                try:
                    table = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=np.float64)
                except ValueError as error:
                    raise FormatError(f"{path} is damaged: "
                                      f"{_bad_line(lines, width, number) or error}") from None
                if table.shape[1] != width:
                    raise FormatError(f"{path} is damaged: rows of {table.shape[1]} values, "
                                      f"not {width}.")
                if finite_below is not None and not _rows_within(table, finite_below).all():
                    raise FormatError(f"{path} is damaged: "
                                      f"{_unfit_line(lines, number, finite_below)}")
                yield table
            number += len(lines)


def read_stream_chunks(folder: str | os.PathLike[str], stream: str = "input", *,
                       chunk_rows: int = CHUNK_ROWS,
                       finite_below: float | None = None) -> Iterator[Stream]:
    """Read one numeric stream of a session log chunk by chunk (numpy only): memory is bounded
    by ``chunk_rows``, not by the length of the session.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder written by :class:`SessionLog`, closed or not (as :func:`read_log`).
    stream : str, default "input"
    chunk_rows : int, default CHUNK_ROWS
        The most rows a chunk holds (the last one may hold fewer; a chunk is never empty).
    finite_below : float, optional
        Every row must have a finite ``t`` and values of magnitude below this: a row that
        does not (a NaN, an infinite value) is damage, said with its file and line. The
        ``input`` frames the engine logs all are, below
        :data:`gesturemap.features.MAX_ABS_VALUE`. None: any number is read.

    Returns
    -------
    iterator of Stream
        ``(times (n,), values (n, D), columns)`` of consecutive rows; concatenated, they are
        :func:`read_log`'s stream, bit for bit.

    Raises
    ------
    FormatError
        At once if ``session.json`` is damaged or has no such stream; while iterating, if the
        stream's file is missing or damaged (a line that is not numbers, or not within
        ``finite_below``: the message names the file and the line).
    """
    check_number("chunk_rows", chunk_rows, minimum=1, integer=True)
    if finite_below is not None:
        check_number("finite_below", finite_below, minimum=0.0)
    folder = Path(folder)
    document = _read_session(folder)
    if stream not in document["streams"]:
        raise FormatError(f"{folder} has no stream {stream!r} (its streams: "
                          f"{', '.join(sorted(document['streams'])) or 'none'}).")
    columns = tuple(document["streams"][stream])
    path = folder / document["files"][stream]

    def chunks() -> Iterator[Stream]:
        for table in _stream_tables(path, columns, int(chunk_rows), finite_below):
            yield Stream(table[:, 0], table[:, 1:], columns)

    return chunks()


def read_log(folder: str | os.PathLike[str], streams: Sequence[str] | None = None, *,
             start: float | None = None, end: float | None = None) -> dict[str, Stream]:
    """Read the numeric streams of a session log (numpy only).

    Parameters
    ----------
    folder : str or os.PathLike
        A folder written by :class:`SessionLog`, closed or not (a session killed mid-way reads
        up to its last complete line).
    streams : list of str, optional
        The streams to read (default: all); e.g. ``["input"]`` leaves the others unread.
    start, end : float, optional
        Only the rows with ``start <= t < end`` (the files' own times, see ``time_unit``
        in ``session.json``): a part of a long session, held in memory without the rest.

    Returns
    -------
    dict of str to Stream
        ``(times (N,), values (N, D), columns)`` for each numeric stream; labels and events are
        read by :func:`read_labels` and :func:`read_events`. A long stream that need not be held
        whole reads chunk by chunk with :func:`read_stream_chunks`.

    Raises
    ------
    FormatError
        If ``session.json`` or a stream's file is missing or damaged, or it has no stream
        named in ``streams``.
    """
    folder = Path(folder)
    document = _read_session(folder)
    names = list(document["streams"]) if streams is None else list(streams)
    for name in names:
        if name not in document["streams"]:
            raise FormatError(f"{folder} has no stream {name!r} (its streams: "
                              f"{', '.join(sorted(document['streams'])) or 'none'}).")
    lo = -np.inf if start is None else float(start)
    hi = np.inf if end is None else float(end)
    result = {}
    for name in names:
        columns = document["streams"][name]
        path = folder / document["files"][name]
        # the text is parsed a chunk at a time into arrays of the file's row count (its line
        # breaks counted first): a long stream peaks near its arrays' size, not twice it
        rows = _rows_at_most(path) if start is None and end is None else CHUNK_ROWS
        times, values = np.empty(rows), np.empty((rows, len(columns)))
        at = 0
        span = [np.inf, -np.inf]  # the times the file holds, to say where a window missed
        for table in _stream_tables(path, columns, _PARSE_ROWS):
            if start is not None or end is not None:
                if len(table):
                    span = [min(span[0], table[0, 0]), max(span[1], table[-1, 0])]
                table = table[(table[:, 0] >= lo) & (table[:, 0] < hi)]
            if at + len(table) > len(times):  # a time window's rows, or a log still written
                times, values = _grown(times, at, at + len(table)), _grown(values, at,
                                                                           at + len(table))
            times[at:at + len(table)] = table[:, 0]
            values[at:at + len(table)] = table[:, 1:]
            at += len(table)
        if at == 0 and span[0] <= span[1]:
            warnings.warn(
                f"read_log: no row of {name!r} in {folder} has {lo:g} <= t < {hi:g}: its "
                f"times run from {span[0]:.3f} to {span[1]:.3f} "
                f"({document.get('time_unit', 'seconds')}); log_start(folder) is the t of "
                "the session's start", stacklevel=2)
        # views of the rows read: a tail never written takes no memory (np.empty's pages are
        # the system's until written)
        result[name] = Stream(times[:at], values[:at], tuple(columns))
    return result


def _rows_at_most(path: Path) -> int:
    """At most how many rows a stream file holds: its line breaks but the header's (counted in
    blocks of bytes, before any is parsed)."""
    if not path.exists() and not path.is_symlink():
        raise FormatError(f"{path} is missing.")
    count = 0
    with open_regular_file(path, max_bytes=MAX_LOG_FILE_BYTES, inside=path.parent) as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return max(count - 1, 0)


def _grown(array: np.ndarray, used: int, needed: int) -> np.ndarray:
    """``array``'s first ``used`` rows in an array of at least ``needed`` rows (twice its
    length at least: the rows of a time window are not known before they are read)."""
    out = np.empty((max(2 * len(array), needed), *array.shape[1:]))
    out[:used] = array[:used]
    return out


def _bad_line(lines: list[str], width: int, first_number: int) -> str | None:
    """Where a stream file is damaged: the first of ``lines`` (the file's lines from line
    ``first_number`` on, 1-based) that is not ``width`` numbers, and its start; None if every
    line is."""
    for number, line in enumerate(lines, start=first_number):
        line = line.rstrip("\n")
        fields = line.split(",")
        try:
            ok = len(fields) == width and all(f.strip() for f in fields)
            if ok:
                [float(f) for f in fields]
        except ValueError:
            ok = False
        if not ok:
            return f"line {number} is not {width} numbers ({line[:60]!r})."
    return None


def _rows_within(table: np.ndarray, bound: float) -> np.ndarray:
    """Which rows of a ``(n, 1 + D)`` table have a finite ``t`` and values below ``bound`` in
    magnitude (a NaN compares false, so it is out)."""
    return np.isfinite(table[:, 0]) & (np.abs(table[:, 1:]) < bound).all(axis=1)


def _unfit_line(lines: list[str], first_number: int, bound: float) -> str:
    """Where a stream file's rows are not within ``bound`` (:func:`_rows_within`): the first
    of ``lines`` (the file's lines from line ``first_number`` on, 1-based, all of them
    numbers) whose row is not, and its start."""
    what = f"a time that is not finite or a value that is NaN, infinite or beyond +-{bound:g}"
    for number, line in enumerate(lines, start=first_number):
        if line.strip():
            row = np.array([[float(f) for f in line.split(",")]])
            if not _rows_within(row, bound)[0]:
                return f"line {number} holds {what} ({line.rstrip(chr(10))[:60]!r})."
    return f"a line from line {first_number} on holds {what}."


def _iter_rows(folder: Path, name: str, header: str) -> Iterator[list[str]]:
    """The CSV records of a labels or events file after its header, read one at a time."""
    path = folder / _read_session(folder)["files"][name]
    with _open_lines(path) as handle:
        # a crash may cut the last line: only lines with their line break; quoted fields may
        # hold line breaks. strict: a quoted field still open at the end is a record the
        # crash cut inside its line break ("two\nli"), not a whole one
        lines = itertools.takewhile(lambda line: line[-1:] == "\n", handle)
        reader = csv.reader(lines, strict=True)
        try:
            if ",".join(next(reader, ["(none)"])) != header:
                raise FormatError(f"{path} is damaged: its first line is not {header!r}.")
            yield from reader
        except csv.Error as error:
            if "unexpected end of data" not in str(error):
                raise FormatError(f"{path} is damaged at line {reader.line_num}: {error}."
                                  ) from None


def read_labels(folder: str | os.PathLike[str]) -> tuple[np.ndarray, list[str | None]]:
    """Read a session's labels: times (N,) and the label from each time on (None: no label).

    Labels come back as text, as written (an int label 3 reads ``"3"``).
    """
    rows = list(_iter_rows(Path(folder), LABELS, "t,label"))
    try:
        times = np.array([float(row[0]) for row in rows], dtype=np.float64)
    except (ValueError, IndexError):
        raise FormatError(f"{folder}: {LABELS}.csv is damaged.") from None
    labels = [(row[1] if len(row) > 1 and row[1] != "" else None) for row in rows]
    return times, labels


def read_events(folder: str | os.PathLike[str]) -> list[Event]:
    """Read a session's events, in order."""
    return list(iter_events(folder))


def iter_events(folder: str | os.PathLike[str]) -> Iterator[Event]:
    """A session's events, in order, read one at a time (as :func:`read_events`, whose
    FormatError comes while iterating)."""
    for row in _iter_rows(Path(folder), EVENTS, "t,kind,data"):
        try:
            data = json.loads(row[2])
            event = Event(float(row[0]), row[1], data if isinstance(data, dict) else {})
        except (ValueError, IndexError):
            raise FormatError(f"{folder}: {EVENTS}.csv is damaged at {row!r:.80}.") from None
        yield event
