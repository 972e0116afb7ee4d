"""Warnings caught on one thread while others go on (:mod:`gesturemap.utils.thread_warnings`),
and the trainer's catching of a training's warnings, which runs on several threads at once."""

from __future__ import annotations

import threading
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gesturemap.live.trainer import _telling_warnings
from gesturemap.utils.thread_warnings import recording_warnings, silencing_warnings

TIMEOUT_S = 30.0


@pytest.fixture
def shown() -> Iterator[list[str]]:
    """The texts that reach the process's ``warnings.showwarning`` (a target this test puts
    there, every warning let through), with the filters and hook put back afterwards."""
    texts: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *args, **kwargs: texts.append(str(message))
        yield texts


class _Stepped(threading.Thread):
    """A thread that runs ``body(step)``; ``step(name)`` says it got there and waits to be
    let go on, so the test decides the order of the threads' steps."""

    def __init__(self, body: Callable[[Callable[[str], None]], Any]) -> None:
        super().__init__(daemon=True)
        self.body, self.result, self.error = body, None, None
        self.reached: dict[str, threading.Event] = {}
        self.go: dict[str, threading.Event] = {}
        self._cond = threading.Lock()

    def _events(self, name: str) -> tuple[threading.Event, threading.Event]:
        with self._cond:
            return (self.reached.setdefault(name, threading.Event()),
                    self.go.setdefault(name, threading.Event()))

    def step(self, name: str) -> None:
        reached, go = self._events(name)
        reached.set()
        assert go.wait(TIMEOUT_S), f"the test never let {name!r} go on"

    def at(self, name: str) -> None:
        """Wait until the thread is at step ``name``."""
        assert self._events(name)[0].wait(TIMEOUT_S), f"the thread never reached {name!r}"

    def let(self, name: str) -> None:
        self._events(name)[1].set()

    def run(self) -> None:
        try:
            self.result = self.body(self.step)
        except BaseException as e:  # said by finish()
            self.error = e

    def finish(self) -> Any:
        self.join(TIMEOUT_S)
        assert not self.is_alive(), "the thread did not end"
        if self.error is not None:
            raise self.error
        return self.result


def _third_party_warns(text: str) -> None:
    """A warning from a thread that catches nothing (a library, the engine's I/O)."""
    t = threading.Thread(target=warnings.warn, args=(text, UserWarning), daemon=True)
    t.start()
    t.join(TIMEOUT_S)


def _training(name: str) -> Callable[[Callable[[str], None]], Any]:
    """A training through the trainer's warning catcher that warns while the test holds it."""
    def body(step: Callable[[str], None]) -> Any:
        def fit() -> tuple[Any, Any]:
            step("inside")
            warnings.warn(f"from {name}", UserWarning, stacklevel=1)
            step("warned")
            return types.SimpleNamespace(training_info_={}), None
        return _telling_warnings(fit)[0].training_info_
    return body


def test_two_trainings_that_leave_in_the_order_they_came_leave_warnings_alone(shown):
    """A retraining and a background search on the engine's threads (``--trainer thread``):
    the first in leaves first. With ``catch_warnings`` that left its recording hook and its
    "always" filter in place for good: every later warning of the process went to a list no
    one read."""
    filters = list(warnings.filters)
    hook = warnings.showwarning
    a, b = _Stepped(_training("a")), _Stepped(_training("b"))
    a.start()
    a.at("inside")
    b.start()
    b.at("inside")
    a.let("inside")
    a.at("warned")
    b.let("inside")
    b.at("warned")
    a.let("warned")
    a_info = a.finish()
    b.let("warned")
    b_info = b.finish()
    _third_party_warns("after both")
    assert "after both" in shown  # (not appended to a's list, long gone)
    assert warnings.showwarning is hook
    assert warnings.filters == filters  # (no "always" left behind)
    assert a_info.get("warnings") == ["from a"]  # each training kept its own warning
    assert b_info.get("warnings") == ["from b"]


def test_a_recording_keeps_its_own_threads_warnings_and_no_other(shown):
    a = _Stepped(lambda step: _record(step))
    a.start()
    a.at("open")
    _third_party_warns("from elsewhere")  # while a's recording is open
    a.let("open")
    assert [str(w.message) for w in a.finish()] == ["mine", "mine"]
    assert shown == ["from elsewhere"]


def _record(step: Callable[[str], None]) -> list[warnings.WarningMessage]:
    with recording_warnings() as caught:
        step("open")
        for _ in range(2):  # each time, as "always" did
            warnings.warn("mine", UserWarning, stacklevel=1)
    return caught


def test_a_recording_sees_a_warning_already_shown_at_that_place():
    """Python remembers a "default" warning shown at a place and skips it there afterwards,
    before reading the filters: a recording must still see it."""
    shown: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *args, **kwargs: shown.append(str(message))

        def warn() -> None:
            warnings.warn("the same place", UserWarning, stacklevel=1)

        warn()
        warn()
        assert shown == ["the same place"]  # (Python's own "default")
        with recording_warnings() as caught:
            warn()
        assert [str(w.message) for w in caught] == ["the same place"]


def test_a_recording_overrides_an_error_filter_on_its_thread_only(shown):
    warnings.simplefilter("error", UserWarning)
    with recording_warnings() as caught:
        warnings.warn("kept", UserWarning, stacklevel=1)
        with pytest.raises(UserWarning, match="raised"):
            threading_error: list[BaseException] = []

            def other() -> None:
                try:
                    warnings.warn("raised", UserWarning, stacklevel=1)
                except UserWarning as e:
                    threading_error.append(e)

            t = threading.Thread(target=other, daemon=True)
            t.start()
            t.join(TIMEOUT_S)
            raise threading_error[0]
    assert [str(w.message) for w in caught] == ["kept"]


def test_silencing_drops_what_matches_on_its_thread_and_lets_the_rest_through(shown):
    with recording_warnings() as caught:
        with silencing_warnings("The least populated"):
            warnings.warn("The least populated class has 1 member", UserWarning, stacklevel=1)
            warnings.warn("something else", UserWarning, stacklevel=1)
            _third_party_warns("The least populated elsewhere")
    assert [str(w.message) for w in caught] == ["something else"]
    assert shown == ["The least populated elsewhere"]


def test_nested_and_interleaved_catchers_leave_the_process_as_they_found_it(shown):
    filters = list(warnings.filters)
    hook = warnings.showwarning

    def body(step: Callable[[str], None]) -> list[str]:
        with recording_warnings() as outer:
            step("outer")
            with silencing_warnings():
                step("inner")
                warnings.warn("silenced", UserWarning, stacklevel=1)
            warnings.warn("recorded", UserWarning, stacklevel=1)
            step("after inner")
        return [str(w.message) for w in outer]

    a, b = _Stepped(body), _Stepped(body)
    a.start()
    a.at("outer")
    b.start()
    b.at("outer")
    b.let("outer")
    b.at("inner")
    a.let("outer")
    a.at("inner")
    b.let("inner")
    b.at("after inner")
    a.let("inner")
    a.at("after inner")
    b.let("after inner")
    a.let("after inner")
    assert a.finish() == b.finish() == ["recorded"]
    _third_party_warns("after")
    assert shown == ["after"]
    assert warnings.showwarning is hook
    assert warnings.filters == filters
