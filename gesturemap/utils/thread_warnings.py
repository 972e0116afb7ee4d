"""Catch the warnings of one thread, with other threads going on.

``warnings.catch_warnings`` is not thread-safe: it swaps the process-wide
``warnings.filters`` and ``warnings.showwarning`` on entry and puts back what it saw on exit.
Two threads inside it at once that leave in the order they entered (a retraining beside a
background search, a training beside the window's quality review) leave the process with the
first one's recording hook and its ``"always"`` filter for good: every later warning of every
thread is appended to a list no one reads. gesturemap trains and reviews on threads, so it
uses these two context managers instead:

- :func:`recording_warnings` — every warning the calling thread raises inside it is kept in
  the list it yields (each time, as with ``simplefilter("always")``), and none is shown;
- :func:`silencing_warnings` — the warnings the calling thread raises inside it whose text
  matches ``message`` are dropped.

Warnings of every other thread go where they always went, through the filters and the
``warnings.showwarning`` in place, whatever the interleaving.

How (Python's public hooks, installed once under a lock while any of these is open, taken
away when the last one closes):

- ``warnings.showwarning`` becomes a dispatcher that hands a warning to the calling thread's
  innermost recorder, or else to the ``showwarning`` it replaced. Each dispatcher keeps what
  it replaced, so whichever one someone else's ``catch_warnings`` puts back still forwards to
  a live target.
- Filters are process-wide, and a thread's own warnings must get past them (a recorder wants
  every warning, each time, where the process's filters may say "once", "ignore" or "error").
  Each open catcher puts one entry at the front of ``warnings.filters`` (``"always"`` for a
  recorder, ``"ignore"`` and its pattern for a silencer) whose category is a class of its own
  that counts as the warning's category on the catcher's thread only (its metaclass's
  ``__subclasscheck__``, which Python's filter matching calls): on any other thread it matches
  nothing and the process's own filters decide. The entry is an ordinary filter tuple, so
  code that copies the filters (scikit-learn hands them to its workers) copies it as it is.

The trade-offs, said plainly:

- Only the calling thread is caught: a warning raised on a thread that the code inside starts
  (a pool fitting classes in parallel) goes to the process's filters and ``showwarning``, as
  any other thread's.
- Python remembers where a "default" or "once" warning was shown, and checks that before the
  filters; a recorder that opens resets that memory as ``catch_warnings`` does (through
  ``warnings._filters_mutated``, the one private name used here; without it a recorder would
  miss a warning another thread had shown at the same place), so a warning already shown once
  on another thread may be shown once more there.
- Code that swaps ``warnings.showwarning`` or ``warnings.filters`` itself while a catcher is
  open (a ``catch_warnings`` elsewhere, scikit-learn's workers among them) takes every
  thread's warnings, or the catchers' entries, while it is inside; what it puts back on leaving
  is what it found, and the next catcher that opens puts the dispatcher back in front.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["recording_warnings", "silencing_warnings"]


class _OnItsThread(type):
    """The metaclass of a catcher's filter category: every warning category is a subclass of
    it on the catcher's thread while the catcher is open, and none elsewhere."""

    thread: int
    open: bool

    def __subclasscheck__(cls, subclass: type) -> bool:
        return cls.open and cls.thread == threading.get_ident()


class _Catcher:
    """One open :func:`recording_warnings` (``caught`` a list) or :func:`silencing_warnings`
    (``caught`` None, ``pattern`` the texts it drops) on the calling thread, and its filter."""

    __slots__ = ("caught", "category", "filter")

    def __init__(self, caught: list[warnings.WarningMessage] | None,
                 pattern: re.Pattern[str] | None) -> None:
        self.caught = caught
        self.category = _OnItsThread(
            "RecordingThread" if caught is not None else "SilencingThread", (Warning,),
            {"thread": threading.get_ident(), "open": True, "__module__": __name__})
        self.filter = ("always" if caught is not None else "ignore", pattern, self.category,
                       None, 0)


#: Each thread's open catchers, innermost last (a thread only ever touches its own stack).
_local = threading.local()
#: Guards the installation below: the filter entries, the dispatcher and the count.
_lock = threading.Lock()
_open = 0  # catchers open on every thread together


class _Dispatcher:
    """``warnings.showwarning`` while catchers are open: a warning of a thread with an open
    recorder goes to its innermost one (the filters let it through for that recorder, or an
    inner silencer would have dropped it), any other to ``forward`` (what this replaced)."""

    __slots__ = ("forward",)

    def __init__(self, forward: Any) -> None:
        self.forward = forward

    def __call__(self, message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, file: Any = None, line: str | None = None) -> None:
        for catcher in reversed(getattr(_local, "stack", ())):
            if catcher.caught is not None:
                catcher.caught.append(
                    warnings.WarningMessage(message, category, filename, lineno, file, line))
                return
        self.forward(message, category, filename, lineno, file, line)


def _is_ours(entry: Any) -> bool:
    return isinstance(entry, tuple) and len(entry) == 5 and isinstance(entry[2], _OnItsThread)


@contextmanager
def _catching(catcher: _Catcher) -> Iterator[None]:
    global _open
    stack = _local.__dict__.setdefault("stack", [])
    with _lock:
        # in front of every filter; a thread's inner catcher (opened later) in front of its
        # outer ones. Another thread's entries match nothing here, whatever their place.
        warnings.filters.insert(0, catcher.filter)
        if not isinstance(warnings.showwarning, _Dispatcher):
            warnings.showwarning = _Dispatcher(warnings.showwarning)
        if catcher.caught is not None:
            # Python skips a warning it remembers showing at that place (a module's
            # __warningregistry__) before it reads the filters; that memory is dropped
            # when the filters change, which this says (as catch_warnings does)
            mutated = getattr(warnings, "_filters_mutated", None)
            if mutated is not None:
                mutated()
        _open += 1
        stack.append(catcher)
    try:
        yield
    finally:
        with _lock:
            stack.remove(catcher)
            catcher.category.open = False  # (a copy of its filter kept elsewhere: inert)
            _open -= 1
            if _open == 0:  # leave the filters and showwarning as they were
                warnings.filters[:] = [f for f in warnings.filters if not _is_ours(f)]
                if isinstance(warnings.showwarning, _Dispatcher):
                    warnings.showwarning = warnings.showwarning.forward
            elif catcher.filter in warnings.filters:
                warnings.filters.remove(catcher.filter)


@contextmanager
def recording_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Keep every warning the calling thread raises inside, each time it is raised, whatever
    the process's filters say; other threads' warnings are not touched.

    Yields
    ------
    list of warnings.WarningMessage
        Filled as the warnings come (``.message``, ``.category``, ``.filename``,
        ``.lineno``), as ``catch_warnings(record=True)`` does.
    """
    caught: list[warnings.WarningMessage] = []
    with _catching(_Catcher(caught, None)):
        yield caught


@contextmanager
def silencing_warnings(message: str = "") -> Iterator[None]:
    """Drop the warnings the calling thread raises inside whose text starts with a match of
    ``message`` (a regular expression, case-insensitive, as ``warnings.filterwarnings``
    reads it; ``""`` drops every one); other threads' warnings are not touched."""
    pattern = re.compile(message, re.I) if message else None
    with _catching(_Catcher(None, pattern)):
        yield
