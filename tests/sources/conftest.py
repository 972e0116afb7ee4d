"""Fixtures for the source tests: real UDP sockets, pseudo-terminals and socat pty pairs."""

from __future__ import annotations

import os
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gesturemap.sources import FrameQueue, Source

from .source_helpers import SocatLink


@pytest.fixture
def queue() -> FrameQueue:
    """A queue large enough that no test here fills it."""
    return FrameQueue(maxlen=100_000)


@pytest.fixture
def started() -> Iterator[Callable[[Source], Source]]:
    """Start sources and stop them all at teardown (stop() re-raises a thread's exception)."""
    sources: list[Source] = []

    def start(source: Source) -> Source:
        sources.append(source)
        return source.start()

    yield start
    for source in sources:
        source.stop()
        assert not source.running


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    """A raw pseudo-terminal: (master fd to write the device's bytes to, slave path to open)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
def socat_link(tmp_path: Path) -> Iterator[SocatLink]:
    link = SocatLink(tmp_path)
    try:
        yield link
    finally:
        if link.process is not None:
            link.stop()
