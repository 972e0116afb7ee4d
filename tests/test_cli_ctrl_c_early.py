"""Ctrl-C in the terminal reaches every process of ``gesturemap run``'s group, its training
worker too. Pressed in the first seconds, while that worker still starts (imports numpy, numba
and gesturemap), it printed "Fatal Python error: init_import_site" or a page of traceback from a
process the performer never started. Helpers now start deaf to it: the run stops as asked, and
says nothing more (real processes, a real SIGINT to the whole group as a terminal sends it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX only")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_ctrl_c_while_the_training_worker_starts_says_nothing_more(tmp_path, delay):
    project = tmp_path / "p"
    subprocess.run([sys.executable, "-m", "gesturemap", "new", str(project), "--model", "hhmm"],
                   check=True, capture_output=True, timeout=120)
    run = subprocess.Popen(
        [sys.executable, "-m", "gesturemap", "run", str(project), "--no-audio",
         "--osc-in", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert "listening" in run.stdout.readline()
        time.sleep(delay)
        # the worker is there and still starting: what this test is about
        assert _children(run.pid), "no training worker was started"
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Fatal" not in err, err


def test_a_child_started_in_the_block_starts_deaf_to_ctrl_c(tmp_path):
    """In a fresh process, where multiprocessing's first start also starts its resource tracker
    (and unblocks SIGINT after it): the child's mask has SIGINT, the parent's is as before."""
    script = tmp_path / "child.py"
    script.write_text(
        "import multiprocessing as mp, signal\n"
        "from gesturemap.utils.children import ctrl_c_kept_from_children\n"
        "def blocked():\n"
        "    return signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())\n"
        "def child(conn):\n"
        "    conn.send(blocked())\n"
        "if __name__ == '__main__':\n"
        "    ctx = mp.get_context('spawn')\n"
        "    mine, theirs = ctx.Pipe()  # no semaphore: nothing has started the tracker\n"
        "    with ctrl_c_kept_from_children():\n"
        "        p = ctx.Process(target=child, args=(theirs,))\n"
        "        p.start()\n"
        "    print(mine.recv(), blocked())\n"
        "    p.join()\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=180, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["True", "False"], out.stderr
