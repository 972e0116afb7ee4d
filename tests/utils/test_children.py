"""Helper processes start from a fork server that imported gesturemap once, in the environment
their parent has when it starts them; a variable read as an interpreter starts (numba's cache
folder) that differs from the server's gets a fresh interpreter instead."""

from __future__ import annotations

import multiprocessing
import os
import sys

import pytest

from gesturemap.utils import children
from gesturemap.utils.children import ctrl_c_kept_from_children, helper_context, in_this_environment

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork server: POSIX")


def _report(conn, name: str) -> None:
    """The helper's view: a variable, its folder, whether gesturemap came with it, its parent."""
    conn.send((os.environ.get(name), os.getcwd(), "gesturemap.live.trainer" in sys.modules,
               os.getppid()))
    conn.close()


def _start(ctx, name: str):
    read, write = ctx.Pipe(duplex=False)
    target, args = in_this_environment(_report, write, name)
    proc = ctx.Process(target=target, args=args, daemon=True)
    with ctrl_c_kept_from_children():
        proc.start()
    write.close()
    assert read.poll(120), "the helper never reported"
    seen = read.recv()
    proc.join(10)
    return seen


def test_a_helper_forks_from_the_server_with_the_environment_of_its_start(
        tmp_path, monkeypatch):
    ctx = helper_context()
    assert ctx.get_start_method() == "forkserver"
    first = _start(ctx, "GESTUREMAP_TEST_SETTING")
    # the server imported gesturemap before the helper's start: the helper has it already,
    # and it is the server's child, not this process's
    assert first[2] and first[3] != os.getpid()
    # a setting exported and a folder entered after the server started reach the next helper
    monkeypatch.setenv("GESTUREMAP_TEST_SETTING", "exported later")
    monkeypatch.chdir(tmp_path)
    value, cwd, _, parent = _start(helper_context(), "GESTUREMAP_TEST_SETTING")
    assert value == "exported later"
    assert os.path.samefile(cwd, tmp_path)
    assert parent == first[3]  # the same server


def test_a_setting_read_as_numba_starts_gets_a_fresh_interpreter(tmp_path, monkeypatch):
    helper_context()  # the server's settings, as they are now
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    ctx = helper_context()
    assert ctx.get_start_method() == "spawn"
    value, _, _, parent = _start(ctx, "NUMBA_CACHE_DIR")
    assert value == str(tmp_path / "elsewhere") and parent == os.getpid()
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert helper_context().get_start_method() == "forkserver"


def test_the_server_imports_gesturemap_and_starts_no_thread():
    """Forking is safe only from a process with one thread: the modules the server imports
    must start none of their own (OpenBLAS's pool excepted: it re-forms itself after a fork)."""
    ctx = multiprocessing.get_context("spawn")
    read, write = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_threads_after_preload, args=(write,), daemon=True)
    proc.start()
    write.close()
    assert read.poll(120)
    python_threads = read.recv()
    proc.join(10)
    assert python_threads == 1


def _threads_after_preload(conn) -> None:
    import importlib
    import threading

    for name in children.PRELOAD:
        importlib.import_module(name)
    conn.send(threading.active_count())
    conn.close()
