"""Ctrl-C in the terminal that started the window closes it as its close button does: a
real `gesturemap open` process (Qt offscreen), its engine process and the project's lock
gone (before, the window ignored SIGINT and had to be killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gesturemap.project import Project
from gesturemap.project.lock import LOCK_FILE

pytestmark = pytest.mark.timeout(120)


def _project(tmp_path):  # noqa: ANN001, ANN202
    """A saved one-take project listening on a free OSC port, and the window's environment."""
    folder = tmp_path / "p"
    project = Project(classes=["a"],
                      sensor={"transport": "osc", "profile": "wekinator", "port": 0})
    project.add_take(np.zeros((20, 2)), "a")
    project.save(folder)
    return folder, dict(os.environ, QT_QPA_PLATFORM="offscreen", GESTUREMAP_RAISE="0",
                        XDG_CONFIG_HOME=str(tmp_path / "config"))


@pytest.mark.parametrize("wait_s", [0.5, 0.0], ids=["window-up", "window-opening"])
def test_ctrl_c_closes_the_window_and_its_engine(tmp_path, repo_dir, wait_s):
    """Also at once as the engine holds the project, while the window is still being built
    (on a loaded machine that takes seconds): Python's own Ctrl-C ended it half-built, exit
    130, and left its engine to notice alone."""
    folder, env = _project(tmp_path)
    window = subprocess.Popen([sys.executable, "-m", "gesturemap", "open", str(folder),
                               "--no-audio"], cwd=repo_dir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (folder / LOCK_FILE).exists():  # the engine holds the project: it runs
            assert window.poll() is None, window.stderr.read()
            assert time.monotonic() < deadline, "the window's engine never started"
            time.sleep(0.005)
        time.sleep(wait_s)
        window.send_signal(signal.SIGINT)
        assert window.wait(timeout=30) == 0
    finally:
        if window.poll() is None:
            window.kill()
            window.wait(10)
    assert not (folder / LOCK_FILE).exists()  # its engine stopped and let the project go
    assert [t.label for t in Project.load(folder).takes] == ["a"]


def _group(pgid: int) -> set[int]:
    """The live processes of a process group (from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.add(int(entry))
    return found


def test_the_terminal_closing_leaves_the_window_and_sigterm_closes_it(tmp_path, repo_dir):
    """The window started from a terminal (a pseudo-terminal here) that is closed: every
    process of the window is told SIGHUP, as the shell tells its jobs, and the window and its
    engine go on; SIGTERM then closes it as its close button does."""
    folder, env = _project(tmp_path)
    master, slave = os.openpty()
    window = subprocess.Popen([sys.executable, "-m", "gesturemap", "open", str(folder),
                               "--no-audio"], cwd=repo_dir, env=env, stdin=slave,
                              stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        deadline = time.monotonic() + 60
        while not (folder / LOCK_FILE).exists():  # the engine holds the project: it runs
            assert window.poll() is None
            assert time.monotonic() < deadline, "the window's engine never started"
            time.sleep(0.05)
        time.sleep(0.5)
        before = _group(window.pid)
        assert len(before) >= 2  # the window and its engine at least
        os.close(master)
        os.killpg(window.pid, signal.SIGHUP)
        time.sleep(2.0)
        assert window.poll() is None  # the window stays
        assert _group(window.pid) >= before  # and every process it had started
        window.send_signal(signal.SIGTERM)
        assert window.wait(timeout=30) == 0
    finally:
        if window.poll() is None:
            os.killpg(window.pid, signal.SIGKILL)
            window.wait(10)
    assert not (folder / LOCK_FILE).exists()  # its engine stopped and let the project go
