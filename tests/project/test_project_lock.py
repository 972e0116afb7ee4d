"""One writer per project folder (gesturemap.project.lock), across real processes: a second
``gesturemap run`` is refused with one line, a save beside a running engine is refused with
nothing written and nothing in memory lost, a take written by another process is never
overwritten nor skipped as if it were ours, and a killed holder frees the folder."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from gesturemap.errors import GesturemapError
from gesturemap.project import Project, lock

from ..stage_helpers import float_msg as _msg
from ..stage_helpers import free_port as _free_port
from ..stage_helpers import start_run, stop_run

HOLD = textwrap.dedent("""
    import sys
    from gesturemap.project import lock
    lock.acquire(sys.argv[1])
    print("held", flush=True)
    sys.stdin.read()
""")

PROBE = textwrap.dedent("""
    import sys
    from gesturemap.project import lock
    print("busy" if lock.holder(sys.argv[1]) is not None else "free", flush=True)
""")


def _holder_process(folder, repo_dir):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _probe(folder, repo_dir) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE, str(folder)], capture_output=True,
                         text=True, timeout=60, cwd=repo_dir)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != lock.LOCK_FILE}


def _project(tmp_path):
    folder = tmp_path / "p"
    project = Project.new(folder, inputs=2)
    project.add_take(np.zeros((10, 2)), label="a")
    project.save(folder)
    return folder


def test_a_save_beside_another_writer_is_refused_with_nothing_lost(tmp_path, repo_dir):
    folder = _project(tmp_path)
    before = _snapshot(folder)
    project = Project.load(folder)
    proc = _holder_process(folder, repo_dir)
    try:
        take = project.add_take(np.ones((12, 2)), label="b")
        with pytest.raises(lock.ProjectBusy) as err:
            project.save(folder)
        message = str(err.value)
        assert f"pid {proc.pid}" in message and "another gesturemap process" in message
        assert err.value.info["pid"] == proc.pid
        with pytest.raises(lock.ProjectBusy):
            project.save_take(folder, take)
        assert _snapshot(folder) == before  # nothing written
        assert project.takes[-1] is take  # nothing lost in memory
        assert _probe(folder, repo_dir) == "busy"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert _probe(folder, repo_dir) == "free"
    project.save(folder)  # the holder gone: the same project saves, its take with it
    assert [t.label for t in Project.load(folder).takes] == ["a", "b"]


def test_a_killed_holder_frees_the_folder(tmp_path, repo_dir):
    folder = _project(tmp_path)
    proc = _holder_process(folder, repo_dir)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert (folder / lock.LOCK_FILE).exists()  # the file stays, the lock does not
    assert lock.holder(folder) is None
    project = Project.load(folder)
    project.add_take(np.ones((5, 2)), label="c")
    project.save(folder)
    assert len(Project.load(folder).takes) == 2


def test_counted_within_a_process(tmp_path, repo_dir):
    folder = _project(tmp_path)
    lock.acquire(folder)
    lock.acquire(folder)
    try:
        assert lock.holder(folder) is None  # held by this process: it may write
        Project.load(folder).save(folder)  # a save inside the hold counts, never refuses
        lock.release(folder)
        assert _probe(folder, repo_dir) == "busy"
    finally:
        lock.release(folder)
    assert _probe(folder, repo_dir) == "free"
    lock.release(folder)  # one release too many is ignored
    assert _probe(folder, repo_dir) == "free"


def _child_in_fork(folder):
    # the exit code says what the child found (no queue, no thread: nothing to hang on)
    try:
        lock.acquire(folder)
    except lock.ProjectBusy:
        os._exit(0)
    os._exit(3)


def test_a_forked_child_neither_holds_nor_frees_the_lock(tmp_path, repo_dir):
    folder = _project(tmp_path)
    lock.acquire(folder)
    try:
        child = multiprocessing.get_context("fork").Process(target=_child_in_fork,
                                                            args=(folder,))
        child.start()
        child.join(timeout=60)
        assert child.exitcode == 0  # busy: the parent's lock, which the child does not hold
        assert _probe(folder, repo_dir) == "busy"  # the child's exit did not free it
    finally:
        lock.release(folder)
    assert _probe(folder, repo_dir) == "free"


def test_a_folder_holding_only_the_lock_file_takes_a_new_project(tmp_path):
    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / lock.LOCK_FILE).write_text("")
    Project.new(folder, inputs=3)
    assert Project.load(folder).input_dim == 3
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(GesturemapError, match="not empty"):
        Project.new(tmp_path / "other", inputs=3)


def test_another_processes_take_of_the_same_id_is_neither_overwritten_nor_skipped(tmp_path):
    folder = _project(tmp_path)
    first, second = Project.load(folder), Project.load(folder)
    first.add_take(np.ones((12, 2)), label="b")
    first.save(folder)
    before = _snapshot(folder)
    second.add_take(np.full((13, 2), 2.0), label="c")  # the same id as first's "b"
    with pytest.raises(GesturemapError, match="another take of the same id") as err:
        second.save(folder)
    assert "'c', 13 frames" in str(err.value)
    assert _snapshot(folder) == before
    again = Project.load(folder)
    assert [t.label for t in again.takes] == ["a", "b"]
    again.add_take(np.full((13, 2), 2.0), label="c")
    again.save(folder)
    assert [t.label for t in Project.load(folder).takes] == ["a", "b", "c"]


def _cli(repo_dir, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=repo_dir)


def test_two_runs_on_one_project_the_second_refused_no_take_lost(tmp_path, repo_dir):
    folder = tmp_path / "proj"
    assert _cli(repo_dir, "new", folder, "--inputs", "3").returncode == 0
    stale = Project.load(folder)  # opened before the run records anything
    port = _free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}", "--osc-out", "127.0.0.1:9")
    try:
        second = _cli(repo_dir, "run", folder, "--osc-in", f"127.0.0.1:{_free_port()}",
                      "--osc-out", "127.0.0.1:9", "--no-audio")
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "is open in another gesturemap process" in lines[0]
        assert f"pid {run.pid}, gesturemap run {folder}" in lines[0]
        opened = _cli(repo_dir, "open", folder)  # the window: refused before any display
        assert opened.returncode == 2 and "another gesturemap process" in opened.stderr
        done = _cli(repo_dir, "train", folder)  # before it works, not after
        assert done.returncode == 2
        assert "another gesturemap process" in done.stderr and "Traceback" not in done.stderr
        # restore asks the running engine (its one writer) to restore instead
        done = _cli(repo_dir, "restore", folder)
        assert done.returncode == 0 and "restored 0 takes" in done.stdout, done.stderr
        listed = _cli(repo_dir, "restore", folder, "--list")  # reading is no writing
        assert listed.returncode == 0 and "0 takes in the trash" in listed.stdout
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dst = ("127.0.0.1", port)
        tx.sendto(_msg("/wekinator/control/outputs", 1), dst)
        tx.sendto(_msg("/wekinator/control/startRecording"), dst)
        for i in range(30):
            tx.sendto(_msg("/wek/inputs", 1, i, 0.5), dst)
            time.sleep(0.005)
        tx.sendto(_msg("/wekinator/control/stopRecording"), dst)
        tx.close()
        deadline = time.monotonic() + 20
        while not list((folder / "takes").glob("take-*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list((folder / "takes").glob("take-*.json"))) == 1
        stale.add_take(np.zeros((8, 3)), label=2)
        with pytest.raises(lock.ProjectBusy):  # beside the running engine
            stale.save(folder)
    finally:
        try:
            stop_run(run)
        finally:
            if run.poll() is None:
                run.kill()
    assert run.returncode == 0
    assert not (folder / lock.LOCK_FILE).exists()  # a run stopped normally leaves no lock file
    # the run stopped: the stale copy still may not take the recorded take's id
    with pytest.raises(GesturemapError, match="another take of the same id"):
        stale.save(folder)
    loaded = Project.load(folder)
    assert [(t.label, t.length) for t in loaded.takes] == [(1, 30)]


def test_a_read_only_project_still_runs(tmp_path, monkeypatch):
    """A project on a read-only medium cannot get a lock file; nothing can write it there, so
    the engine runs it anyway (before the lock, it did; the save alone says it cannot write)."""
    import errno

    from gesturemap.live.engine import Engine

    folder = _project(tmp_path)
    real_open = os.open

    def read_only(path, flags, *args):
        if str(path).endswith(lock.LOCK_FILE) and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(lock.os, "open", read_only)
    project = Project.load(folder)
    project.train()
    engine = Engine(project, osc_in=("127.0.0.1", 0), project_dir=folder,
                    trainer="thread").start()
    try:
        assert engine.stream is not None and engine.model is project.trained
    finally:
        engine.stop()
    # counted back to nothing (this folder: another test's engine may hold its own meanwhile)
    assert lock.holder(folder) is None, lock.holder(folder)
    assert lock._key(folder) not in lock._held, dict(lock._held)


def test_a_file_system_without_locks_is_used_unguarded(tmp_path, monkeypatch):
    import errno

    folder = _project(tmp_path)

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock.fcntl, "flock", no_locks)
    project = Project.load(folder)
    project.add_take(np.ones((12, 2)), label="b")
    project.save(folder)  # saved as before the lock existed
    assert lock._key(folder) not in lock._held
    monkeypatch.undo()
    assert [t.label for t in Project.load(folder).takes] == ["a", "b"]


def test_an_engine_that_cannot_start_frees_the_folder(tmp_path, repo_dir):
    """A start that fails on the way (here the session log: its folder is a file) closes what
    it opened and gives the project's lock back: the folder is not held by a dead engine."""
    from gesturemap.live.engine import Engine

    folder = _project(tmp_path)
    (tmp_path / "log").write_text("not a folder")
    engine = Engine(Project.load(folder), osc_in=("127.0.0.1", 0), project_dir=folder,
                    trainer="thread", log_dir=tmp_path / "log")
    with pytest.raises((OSError, GesturemapError)):
        engine.start()
    assert _probe(folder, repo_dir) == "free" and lock._key(folder) not in lock._held
    assert not any(t.is_alive() for t in engine._threads)


def test_a_writer_that_is_done_leaves_no_lock_file(tmp_path, repo_dir):
    folder = _project(tmp_path)  # created and saved: the save's lock is given back
    assert not (folder / lock.LOCK_FILE).exists()
    lock.acquire(folder)
    lock.acquire(folder)
    assert (folder / lock.LOCK_FILE).exists()
    lock.release(folder)
    assert (folder / lock.LOCK_FILE).exists() and _probe(folder, repo_dir) == "busy"
    lock.release(folder)
    assert not (folder / lock.LOCK_FILE).exists() and _probe(folder, repo_dir) == "free"


def _take_turns(folder, rounds, inside_file, clashes):
    # each turn: hold the lock, and inside it create a marker no other holder may see
    done = 0
    while done < rounds:
        try:
            lock.acquire(folder)
        except lock.ProjectBusy:
            continue
        try:
            fd = os.open(inside_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:  # another process holds "the" lock at the same time
            with clashes.get_lock():
                clashes.value += 1
        else:
            os.close(fd)
            os.unlink(inside_file)
        finally:
            lock.release(folder)
        done += 1


def test_removing_the_lock_file_never_lets_two_processes_hold_it(tmp_path):
    """A holder removes the file as it releases; a process that opened the old file just
    before must not believe it holds the lock while a third locks the new file."""
    folder = _project(tmp_path)
    ctx = multiprocessing.get_context("fork")
    clashes = ctx.Value("i", 0)
    workers = [ctx.Process(target=_take_turns, args=(folder, 300, tmp_path / "inside", clashes))
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert clashes.value == 0
    assert not (folder / lock.LOCK_FILE).exists()


def test_a_lock_file_this_user_cannot_write_still_guards_the_folder(tmp_path, monkeypatch,
                                                                      repo_dir):
    """Another user's lock file (mode 0644) in a folder this user can write: it cannot be
    opened for writing, but the takes can, so the lock is still taken (flock needs no write
    access) and a second writer is refused (before, it saved beside the holder)."""
    import errno

    from gesturemap.errors import ProjectBusy

    folder = _project(tmp_path)
    holder = _holder_process(folder, repo_dir)  # a real process holds it
    real_open = os.open

    def not_mine(path, flags, *args):  # as for a user the file's mode does not let write
        if str(path).endswith(lock.LOCK_FILE) and flags & os.O_RDWR:
            raise OSError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(lock.os, "open", not_mine)
    try:
        before = _snapshot(folder)
        project = Project.load(folder)
        project.add_take(np.ones((10, 2)), label="a")
        with pytest.raises(ProjectBusy, match="another gesturemap process"):
            project.save(folder)
        assert _snapshot(folder) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    project.save(folder)  # free again: this user saves, under a lock of its own
    assert len(Project.load(folder).takes) == 2
    assert lock._key(folder) not in lock._held
