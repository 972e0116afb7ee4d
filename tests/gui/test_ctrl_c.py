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


def test_ctrl_c_closes_the_window_and_its_engine(tmp_path, repo_dir):
    folder = tmp_path / "p"
    project = Project(classes=["a"],
                      sensor={"transport": "osc", "profile": "wekinator", "port": 0})
    project.add_take(np.zeros((20, 2)), "a")
    project.save(folder)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GESTUREMAP_RAISE="0",
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    window = subprocess.Popen([sys.executable, "-m", "gesturemap", "open", str(folder),
                               "--no-audio"], cwd=repo_dir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (folder / LOCK_FILE).exists():  # the engine holds the project: it runs
            assert window.poll() is None, window.stderr.read()
            assert time.monotonic() < deadline, "the window's engine never started"
            time.sleep(0.05)
        time.sleep(0.5)
        window.send_signal(signal.SIGINT)
        assert window.wait(timeout=30) == 0
    finally:
        if window.poll() is None:
            window.kill()
            window.wait(10)
    assert not (folder / LOCK_FILE).exists()  # its engine stopped and let the project go
    assert [t.label for t in Project.load(folder).takes] == ["a"]
