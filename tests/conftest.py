"""Shared test setup.

Set before anything imports Qt or gesturemap:
- ``QT_QPA_PLATFORM=offscreen``: GUI tests run without a display.
- ``GESTUREMAP_RAISE=1``: the real-time code re-raises errors it would otherwise count, log at a
  limited rate and skip, so a test sees them.

The reference data the tests read lives in the repository, in ``tests/data/shared``: the parts of
the project's full shared data (XMM's reference outputs, recorded datasets) that the tests use,
cut by ``tests/data/shared/cut.py`` (each folder's README.md says what was kept). A test never
reaches outside the clone; a missing folder fails with a clear message, never a skip.
"""

from __future__ import annotations

import fcntl
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["GESTUREMAP_RAISE"] = "1"

# Ctrl-C as a terminal sends it, whatever started the suite: a shell runs a command put in the
# background (`pytest &` in a script) with SIGINT ignored, and an ignored signal stays ignored
# in every process started from it, so each test that sends Ctrl-C to a process of its own (a
# long DTW, `gesturemap run`) would find it deaf. Python's own handler is reset in the
# processes the tests start, so they begin with the system's default, as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_DIR / "tests" / "data" / "shared"


def _shared_folder(*parts: str) -> Path:
    folder = SHARED_DIR.joinpath(*parts)
    if not folder.is_dir():
        pytest.fail(
            f"the test data folder {folder} is missing from this checkout: it is part of the "
            "repository (restore it with git, or cut it again with tests/data/shared/cut.py "
            "from a full copy of the shared data).",
            pytrace=False,
        )
    return folder


@pytest.fixture(autouse=True)
def _user_config_in_tmp(tmp_path_factory, monkeypatch):
    """The user's configuration folder (the window's recent-projects list lives there) is a
    temporary one, for the tests and the processes they start: a test that opens a window
    never writes the real user's list."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    # a command run in this process (cli.main) tells the processes it starts how it says a
    # warning: not the processes of the tests after it
    monkeypatch.setenv("GESTUREMAP_WARNINGS_AS", "")
    monkeypatch.delenv("GESTUREMAP_WARNINGS_AS")


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    """The repository root (where pyproject.toml is)."""
    return REPO_DIR


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``tests/data/shared/reference/xmm``: IRCAM XMM's outputs on known data (its README.md)."""
    return _shared_folder("reference", "xmm")


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """``tests/data/shared/datasets``: real recorded datasets as ``.npz`` files, whole or cut
    (each folder's README.md)."""
    return _shared_folder("datasets")


def _warm_features_and_synth() -> None:
    import numpy as np

    from gesturemap.features import (
        Derivative,
        LowPass,
        Magnitude,
        MovingAverage,
        OneEuro,
        Pipeline,
        Resample,
        Standardize,
        WindowStats,
    )
    from gesturemap.synth import Synth

    pipe = Pipeline([Standardize(), MovingAverage(3), LowPass(alpha=0.5), OneEuro(),
                     Derivative(), Magnitude([0, 1]), WindowStats(4)], rate_hz=100.0)
    x = np.random.default_rng(0).normal(size=(40, 3))
    pipe.fit([x]).transform_sequence(x)
    Pipeline([Resample(50.0)], rate_hz=100.0).transform_sequence(x)
    Synth().render(512)


def _warm_compiled_frame_path() -> None:
    # an engine compiles it on a thread of its own at start (about 30 s uncached), which would
    # race a test's frames and timings
    from gesturemap.live.compiled import warm

    warm()


def _warm_models(*kinds: str) -> Callable[[], None]:
    def warm() -> None:
        from gesturemap.live.trainer import warm_up

        warm_up(kinds)

    return warm


def _in_turn(*parts: Callable[[], None]) -> Callable[[], None]:
    def warm() -> None:
        for part in parts:
            part()

    return warm


#: the kernels to compile, dealt out to the workers in turn: two halves of about the same CPU
#: time from an empty cache (38 s and 36 s here), one per core of a 2-core machine (a third
#: worker compiles nothing and waits). The compiled frame path comes after the HHMM's
#: kernels in the same process, which it calls: compiled in another it costs twice as much
#: (28 s instead of 14 s), compiling them again.
_WARM_PARTS = [
    _in_turn(_warm_models("hhmm", "hmm"), _warm_compiled_frame_path,
             _warm_models("gmm", "featured")),
    _in_turn(_warm_models("gvf"), _warm_models("dtw"), _warm_features_and_synth),
]


def _run_folder(run: str) -> Path:
    """Where the workers of one run (pytest-xdist's test run id) keep their locks and marks."""
    folder = Path(tempfile.gettempdir()) / f"gesturemap-tests-{run}"
    folder.mkdir(exist_ok=True)
    return folder


_PORT_GUARD = pytest.StashKey()


def pytest_configure(config):
    """Hold Wekinator's input port (6448) for the whole run, in the process that starts it
    (not on pytest-xdist's workers): tests run side by side, so a test whose engine listens
    there by default fails every time, here, rather than once in a few runs when two meet.
    A Wekinator already there holds it just as well.

    Also take this session's JACK server names (tests/jack_midi.py), which the workers
    inherit: two sessions from one checkout then never share a server."""
    import socket

    from .jack_midi import claim_session

    if hasattr(config, "workerinput"):
        return
    claim_session()
    guard = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        guard.bind(("127.0.0.1", 6448))
    except OSError:
        guard.close()
        return
    config.stash[_PORT_GUARD] = guard


def pytest_unconfigure(config):
    guard = config.stash.get(_PORT_GUARD, None)
    if guard is not None:
        guard.close()


def pytest_sessionstart(session):  # noqa: ARG001
    """On pytest-xdist's workers (every worker starts a session, tests or not): each compiles
    its share of the kernels into numba's disk cache and waits for the others' (a minute saved
    on a fresh checkout, where nothing is cached yet); ``_compiled_kernels`` then loads the
    whole from the cache."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return
    index = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    count = int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    for part in _WARM_PARTS[index::count]:
        part()
    folder = _run_folder(run)
    (folder / f"warm-{index}").touch()
    deadline = time.monotonic() + 300  # a worker that died: the fixture compiles its share
    while (time.monotonic() < deadline
           and not all((folder / f"warm-{i}").exists() for i in range(count))):
        time.sleep(0.2)


@pytest.fixture(scope="session", autouse=True)
def _compiled_kernels():
    """Compile (or load from numba's disk cache) every numeric kernel once, before any test.

    On a fresh checkout nothing is cached yet: the first model fit or step would spend seconds
    compiling inside whichever test comes first, and a test that waits on the window or on
    real time (the GUI session, audio) would see that delay as a failure.
    """
    from gesturemap.live.trainer import warm_up
    from gesturemap.utils.children import helper_context

    # the helpers' fork server starts now, with the session's settings: a test that points
    # numba elsewhere for a while (a first start) would leave every later helper a fresh
    # interpreter (and the server imports while the kernels load here)
    helper_context()
    warm_up()
    _warm_features_and_synth()
    _warm_compiled_frame_path()


def _alone(item: pytest.Item) -> bool:
    return item.get_closest_marker("alone") is not None


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    """The ``alone`` tests last: with several workers, the others wait for them once,
    at the end, rather than here and there; and never while it is still starting (collecting
    the suite and loading the kernels keeps a core busy before any lock is taken)."""
    items.sort(key=_alone)  # a stable sort: the order otherwise kept


class _MachineLock:
    """The suite's machine lock, when pytest-xdist runs it on several workers: shared by
    ordinary tests, whole for an ``alone`` one.

    Most tests only compute or wait on loopback and share the machine well; a test that
    counts lost audio blocks or bounds a latency would measure the other workers instead.
    Such a test takes the lock whole: it waits for the other workers' current tests to end,
    and they wait for it (and for the ``alone`` tests after it on the same worker). A
    turnstile taken before the lock keeps a waiting ``alone`` test from being overtaken by the
    other workers' next tests (flock does not queue by itself).

    A test marked ``serial(name)`` also holds the lock of that name whole: two tests of one
    name never run at once (JACK servers started at the same moment can fail; LSL finds
    streams machine-wide)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._serial: IO[str] | None = None
        self._turnstile = open(folder / "turnstile", "a")  # noqa: SIM115 - held for the run
        self._machine = open(folder / "machine", "a")  # noqa: SIM115
        self.held: bool | None = None  # None: not held; True: whole; False: shared

    def take(self, alone: bool) -> None:
        if self.held is alone:
            return
        self.give_back()
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._machine, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        self.held = alone

    def take_serial(self, name: str) -> None:
        self._serial = open(self._folder / f"serial-{name}", "a")  # noqa: SIM115
        fcntl.flock(self._serial, fcntl.LOCK_EX)

    def give_back_serial(self) -> None:
        if self._serial is not None:
            self._serial.close()  # closing the file gives its lock back
            self._serial = None

    def give_back(self) -> None:
        if self.held is not None:
            fcntl.flock(self._machine, fcntl.LOCK_UN)
            self.held = None

    def close(self) -> None:
        """At the worker's end: the files closed give back whatever they still hold."""
        self.give_back_serial()
        self._turnstile.close()
        self._machine.close()
        self.held = None


_LOCK: list[_MachineLock] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:  # one process: the machine is the test's
        yield
        return
    if not _LOCK:
        _LOCK.append(_MachineLock(_run_folder(run)))
    lock = _LOCK[0]
    lock.take(_alone(item))
    serial = item.get_closest_marker("serial")
    if serial is not None:
        lock.take_serial(serial.args[0])
    try:
        yield
    finally:
        lock.give_back_serial()
        # an alone test followed by another keeps the machine; any other gives it back (a
        # shared hold kept across tests would keep an alone test waiting for ever)
        if not (lock.held and nextitem is not None and _alone(nextitem)):
            lock.give_back()


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    """End any process a test left running before the interpreter exits: multiprocessing joins
    its non-daemon children at exit (an engine process is one), so a leaked one would hold the
    whole run open after its last test. Each is named, so the leak can be found. joblib's
    reusable worker pool (scikit-learn's) is not a leak: it ends its workers itself at exit.
    The machine lock's files are closed first (left open, each worker ended with a
    ResourceWarning for them)."""
    import multiprocessing
    import signal

    while _LOCK:
        _LOCK.pop().close()
    for child in multiprocessing.active_children():
        if child.daemon or type(child).__module__.startswith("joblib."):
            continue
        print(f"\nconftest: a test left process {child.name} (pid {child.pid}) running; ending it")
        try:
            child.terminate()
            child.join(5)
            if child.is_alive():
                os.kill(child.pid, signal.SIGKILL)
                child.join(5)
        except (OSError, ValueError, AttributeError) as exc:  # never the run's own failure
            print(f"conftest: could not end {child.name}: {exc}")
