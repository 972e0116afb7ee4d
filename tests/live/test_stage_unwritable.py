"""`gesturemap run` on a project whose folder cannot be written (a venue's read-only USB stick,
permissions): what is recorded is said to be unsaved at once (stderr, OSC), kept in memory,
saved as soon as the folder can be written again, and at the end written elsewhere, with an
exit code that says so. Real processes, loopback UDP, a folder made unwritable for real:
``chattr +i`` as root (root writes through permissions), ``chmod a-w`` otherwise."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.stage_helpers import (
    float_msg,
    free_port,
    osc_messages,
    osc_receiver,
    read_stats,
    start_run,
    stop_run,
    wait_for,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="a folder made unwritable: POSIX")

def _set_writable(folder: Path, writable: bool) -> None:
    if os.geteuid() == 0:  # root writes through permissions: the immutable flag (e2fsprogs)
        subprocess.run(["chattr", "-R", "-i" if writable else "+i", str(folder)], check=True)
    else:
        for path in [folder, *folder.rglob("*")]:
            mode = path.stat().st_mode
            path.chmod(mode | 0o200 if writable else mode & ~0o222)
    if not writable:  # the premise of every test here, checked rather than assumed
        try:
            (folder / "probe").write_text("")
        except OSError:
            return
        (folder / "probe").unlink()
        raise AssertionError(f"{folder} is still writable: the test cannot stand for a read-only "
                             "folder here")


@contextlib.contextmanager
def unwritable(folder: Path):
    _set_writable(folder, False)
    try:
        yield
    finally:  # always: pytest must be able to remove the folder
        _set_writable(folder, True)


def _project(folder: Path) -> None:
    """A new kNN project of 3 inputs with gesturemap's own messages on (the notices)."""
    from gesturemap.project import Project

    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--model", "knn",
                    "--inputs", "3"],
                   check=True, capture_output=True)
    project = Project.load(folder)
    project.outputs = {**(project.outputs or {}), "extras": True}
    project.save(folder)


def _record_and_train(tx, target) -> None:  # noqa: ANN001
    tx.sendto(float_msg("/wekinator/control/outputs", 1.0), target)
    tx.sendto(float_msg("/wekinator/control/startRecording"), target)
    for i in range(50):
        tx.sendto(float_msg("/wek/inputs", 0.1 * i, 1.0, 0.0), target)
        time.sleep(0.002)
    tx.sendto(float_msg("/wekinator/control/stopRecording"), target)
    tx.sendto(float_msg("/wekinator/control/train"), target)


def test_a_take_into_an_unwritable_folder_is_said_at_once_and_kept_elsewhere(tmp_path,
                                                                             monkeypatch):
    """The take, its model and a rehearsal recorded into a read-only project: a clear line on
    stderr and /gesturemap/save_failed as soon as the first save fails; at Ctrl-C the last try
    fails too, which is said plainly (how many takes, where), a whole copy of the project with
    them goes into the folder GESTUREMAP_UNSAVED_DIR names, and the exit code is 4."""
    from gesturemap.project import Project, kept_rehearsals

    folder, spare, stats = tmp_path / "piece", tmp_path / "spare", tmp_path / "stats.json"
    _project(folder)
    monkeypatch.setenv("GESTUREMAP_UNSAVED_DIR", str(spare))
    rx = osc_receiver()
    port = free_port()
    target = ("127.0.0.1", port)
    with unwritable(folder):
        proc, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}",
                            "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}", "--stats", stats)
        try:
            tx = osc_receiver()
            _record_and_train(tx, target)
            got = osc_messages(rx, lambda m: any(a == "/gesturemap/save_failed" for a, _ in m),
                               timeout=15)
            notices = [p for a, p in got if a == "/gesturemap/save_failed"]
            assert notices, [a for a, _ in got][:20]
            what, where, why = notices[0]
            assert what.startswith("take take-000000") and where == str(folder)
            assert "not permitted" in why or "denied" in why
            tx.sendto(float_msg("/gesturemap/rehearsal", 1.0), target)
            for i in range(30):
                tx.sendto(float_msg("/wek/inputs", 0.0, 0.01 * i, 1.0), target)
                time.sleep(0.002)
            tx.sendto(float_msg("/gesturemap/rehearsal", 0.0), target)
            wait_for(lambda: read_stats(stats).get("trainings") and any(
                why.startswith("not kept yet") for _, why in read_stats(stats)["rehearsals"].values()),
                timeout=15)
        finally:
            out, err = stop_run(proc)
    assert proc.returncode == 4, err
    assert f"could not save take take-000000 (1) into {folder}" in err
    assert "kept in memory" in err and err.count("could not save") == 1  # once, not per try
    assert f"NOT SAVED: 1 take (take-000000), the trained model, 1 rehearsal could not be " \
           f"written into {folder}" in err
    assert Project.load(folder).takes == ()  # the folder itself never changed
    (copy,) = spare.iterdir()
    assert f"a copy of the whole project, with what is not saved, is in {copy}" in err
    kept = Project.load(copy)
    assert [t.id for t in kept.takes] == ["take-000000"] and len(kept.takes[0].inputs) == 50
    assert kept.trained is not None
    (rehearsal,) = kept_rehearsals(copy)
    assert len(np.load(rehearsal)["X_concat"]) == 30
    # what the message offers: its takes copied into the project's own, once it can be written
    shutil.copytree(copy / "takes", folder / "takes", dirs_exist_ok=True)
    assert [len(t.inputs) for t in Project.load(folder).takes] == [50]


def test_a_folder_writable_again_gets_what_was_recorded_before_the_end(tmp_path):
    """The stick remounted, the permission given back, while the show goes on: the engine's
    retries save the take and its model without a restart, and the run ends as usual."""
    from gesturemap.project import Project

    folder, stats = tmp_path / "piece", tmp_path / "stats.json"
    _project(folder)
    rx = osc_receiver()
    port = free_port()
    target = ("127.0.0.1", port)

    def state() -> dict:
        return read_stats(stats)

    with unwritable(folder):
        proc, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}",
                            "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}", "--stats", stats)
        try:
            _record_and_train(osc_receiver(), target)
            wait_for(lambda: (state().get("not_saved") or {}).get("folder") == str(folder),
                     timeout=15)
            assert state()["save_failures"] >= 1 and state()["errors"] == 0
        except BaseException:
            stop_run(proc)
            raise
    try:
        wait_for(lambda: state().get("not_saved", 0) is None and state().get("trainings"),
                 timeout=15)
    finally:
        out, err = stop_run(proc)
    assert proc.returncode == 0, err
    assert f"saved the project into {folder} again" in err
    project = Project.load(folder)
    assert [len(t.inputs) for t in project.takes] == [50] and project.trained is not None
