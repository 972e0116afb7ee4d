"""The test JACK servers themselves (tests/jack_midi.py): one left running by a test process
that died is stopped before the next starts, and two pytest sessions from one checkout never
share one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .jack_midi import JackServer, jack_in, server_name

# JACK servers are machine-wide: the tests that start them run one at a time
pytestmark = pytest.mark.serial("jack-lsl")

#: A test process that starts its server and dies at once (a worker the timeout killed): its
#: jackd runs on, its parent gone.
_DIES_LEAVING_ITS_SERVER = """
import os, subprocess, sys
server = subprocess.Popen(
    ["jackd", "-n", sys.argv[1], "-d", "dummy", "-r", "48000", "-p", "128"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    env={**os.environ, "GESTUREMAP_TEST_JACK_PARENT": str(os.getpid())})
print(server.pid, flush=True)
os._exit(0)
"""


def _running(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_bytes()
    except OSError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] != b"Z"  # a zombie has ended


def _serves(name: str) -> None:
    subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, timeout=15, capture_output=True,
                   env={**os.environ, "JACK_DEFAULT_SERVER": name})


def test_a_server_left_by_a_dead_test_process_is_stopped_before_the_next(monkeypatch):
    """A worker killed mid-test left its jackd running under the session's name: every JACK
    test after it on that name failed (its own server could not start, or it stopped the
    wrong one). Now the next test stops the leftover first and runs on a server of its own."""
    if shutil.which("jackd") is None:
        pytest.fail("jackd is missing: apt-get install jackd2 (.ci/run installs it)", pytrace=False)
    name = server_name("midi")
    died = subprocess.run([sys.executable, "-c", _DIES_LEAVING_ITS_SERVER, name],
                          capture_output=True, text=True, timeout=60, check=True)
    orphan = int(died.stdout.split()[0])
    server = JackServer(name)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    try:
        _serves(name)
        assert _running(orphan)
        server.start()
        assert not _running(orphan), "the leftover server still runs"
        assert server.process is not None and server.process.poll() is None, (
            "the test's own server did not start")
        port, _ = jack_in("anyone-there")  # a client of the test's own server
        port.delete()
    finally:
        server.stop()
        if _running(orphan):
            os.kill(orphan, signal.SIGKILL)


def test_a_server_a_live_process_started_is_left_alone(monkeypatch):
    """A jackd of the same name whose parent still runs belongs to that process: never
    stopped; a test server that cannot start beside it says so, naming it."""
    from .jack_midi import stop_orphans

    if shutil.which("jackd") is None:
        pytest.fail("jackd is missing: apt-get install jackd2 (.ci/run installs it)", pytrace=False)
    name = server_name("midi")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    theirs = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = JackServer(name)
    try:
        _serves(name)
        assert stop_orphans(name) == []
        with pytest.raises(pytest.fail.Exception, match=f"{theirs.pid} .*started by {os.getpid()}"):
            server.start()
        assert theirs.poll() is None, "a server its live parent started was stopped"
    finally:
        server.stop()
        theirs.terminate()
        theirs.wait(timeout=10)


_NAMES_ITS_SERVER = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.jack_midi import server_name
print(server_name("midi"), flush=True)
sys.stdin.readline()  # the session runs until the test says
"""


def test_two_sessions_from_one_checkout_have_servers_of_their_own(repo_dir, tmp_path):
    """Two pytest sessions from one checkout at once (a developer's and an editor's) used
    the same server name: one's jackd could not start, or one stopped the other's server under
    its tests. Now each session has its own name, and a name freed is taken by the next
    session (names stay few: JACK's table of servers keeps a row per name left behind)."""
    env = {k: v for k, v in os.environ.items() if k != "GESTUREMAP_TEST_JACK_SESSION"}
    sessions: list[subprocess.Popen] = []

    def another_session(**more_env: str) -> str:
        session = subprocess.Popen([sys.executable, "-c", _NAMES_ITS_SERVER, str(repo_dir)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                   env={**env, **more_env}, cwd=repo_dir)
        sessions.append(session)
        return session.stdout.readline().strip()

    try:
        ours = server_name("midi")
        beside = another_session()
        assert beside.startswith("gm-midi-") and beside != ours, (ours, beside)
        # among sessions of their own (their places kept apart from any other session's, which
        # may come and go meanwhile): each its own name, and a name freed is taken again
        apart = {"TMPDIR": str(tmp_path)}
        second, third = another_session(**apart), another_session(**apart)
        assert second != third, (second, third)
        sessions[1].communicate("\n", timeout=30)  # the second session ends
        assert another_session(**apart) == second
    finally:
        for session in sessions:
            if session.poll() is None:
                session.communicate("\n", timeout=30)


def test_the_place_of_a_killed_test_server_is_given_back_before_the_next_starts(monkeypatch):
    """libjack keeps 8 servers per machine, and a server killed with its test worker kept its
    place until a server of its name started again: a few clones with a killed run each
    filled the table, and then no JACK test could start a server ("Too many servers already
    active"). Now starting a test server first gives back the places of dead ones."""
    from .jack_midi import _CHECKOUT, SESSIONS, registered, start_jackd, wait_ready

    if shutil.which("jackd") is None:
        pytest.fail("jackd is missing: apt-get install jackd2 (.ci/run installs it)", pytrace=False)
    # a session place no session takes (a killed run's): the server of a session that runs
    # is left for it to start again
    killed = f"gm-killed-{_CHECKOUT}-{SESSIONS + 1}"
    crashed = server_name("crashed")  # this session's, to start again
    for dies in (killed, crashed):
        server = subprocess.Popen(["jackd", "-n", dies, "-d", "dummy", "-r", "48000", "-p", "128"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _serves(dies)
        finally:
            server.kill()
            server.wait()
        assert (server.pid, dies) in registered()  # its place kept, its process gone
    name = server_name("midi")
    ours = start_jackd(name, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert killed not in {n for _, n in registered()}, registered()
        assert crashed in {n for _, n in registered()}, "a running session's server was taken"
        wait_ready(ours, name)
        monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
        port, _ = jack_in("anyone-there")  # a client of the new server
        port.delete()
    finally:
        ours.terminate()
        ours.wait(timeout=10)
        # the crashed server started again and stopped: its place back
        again = start_jackd(crashed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(again, crashed)
        again.terminate()
        again.wait(timeout=10)
    assert crashed not in {n for _, n in registered()}, registered()
