"""Bounds a running project keeps whatever the messages and files say: the classes created
over OSC, a NaN label, a classes list of 10^5 loaded in linear time, one damaged take in the
trash. Real engines over loopback UDP, real folders, a real `gesturemap restore` process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from gesturemap.live.edits import MAX_LIVE_CLASSES
from gesturemap.live.engine import Engine
from gesturemap.project import Project
from tests.stage_helpers import float_msg, wait_for
from tests.stage_helpers import osc_message as msg

pytestmark = pytest.mark.timeout(240)


def _engine(project: Project, folder=None) -> Engine:  # noqa: ANN001
    return Engine(project, project_dir=folder, osc_in=("127.0.0.1", 0),
                  osc_out=("127.0.0.1", 9), trainer="thread").start()


def test_classes_created_over_osc_are_bounded(tmp_path):
    project = Project.new(tmp_path / "p", inputs=2)
    project.model = {"kind": "knn", "params": {}}
    engine = _engine(project)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    extra = 3
    try:
        target = ("127.0.0.1", engine.osc_port)
        for number in range(1, MAX_LIVE_CLASSES + extra + 1):
            tx.sendto(msg("/wekinator/control/outputs", float(number)), target)
            tx.sendto(msg("/wekinator/control/startRecording"), target)
            tx.sendto(float_msg("/wek/inputs", number, 0.0), target)
            tx.sendto(msg("/wekinator/control/stopRecording"), target)
            time.sleep(0.001)  # a client's pace: the socket's buffer is no test here
        wait_for(lambda: engine.record_commands == 2 * (MAX_LIVE_CLASSES + extra))
        stats = engine.stats()
    finally:
        engine.stop()
        tx.close()
    assert project.class_count == MAX_LIVE_CLASSES
    assert stats["refused_commands"] == extra and stats["errors"] == 0
    assert f"at most {MAX_LIVE_CLASSES}" in stats["refused"]["stop_recording"][1]


def test_a_nan_label_is_no_class(tmp_path):
    project = Project.new(tmp_path / "p", inputs=2)
    project.model = {"kind": "knn", "params": {}}
    engine = _engine(project)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ("127.0.0.1", engine.osc_port)
        for value in (float("nan"), float("inf")):
            tx.sendto(msg("/gesturemap/reset"), target)
            for i in range(5):
                tx.sendto(float_msg("/wek/inputs", i, i), target)
            tx.sendto(msg("/gesturemap/correct", value), target)
        wait_for(lambda: engine.refused_commands == 2)
        stats = engine.stats()
    finally:
        engine.stop()
        tx.close()
    assert project.classes == [] and stats["errors"] == 0
    assert "no class name" in stats["refused"]["correct"][1]


def test_a_long_classes_list_loads_in_linear_time(tmp_path):
    """10^4 classes took 4.9 s to load, 3·10^4 20.8 s, 10^5 over 120 s (a check per class
    over every class); BENCHMARKS: benchmarks/project_classes.py."""
    folder = tmp_path / "p"
    Project.new(folder, inputs=2)
    document = json.loads((folder / "project.json").read_text())
    document["classes"] = [f"c{i}" for i in range(100_000)]
    (folder / "project.json").write_text(json.dumps(document))
    t0 = time.perf_counter()
    project = Project.load(folder)
    assert time.perf_counter() - t0 < 10.0  # generous: a quadratic load takes minutes
    assert project.class_count == 100_000 and project.has_class("c99999")


def test_one_damaged_take_in_the_trash_does_not_keep_the_others(tmp_path):
    folder = tmp_path / "p"
    project = Project.new(folder, inputs=2)
    rng = np.random.default_rng(0)
    ids = [project.add_take(rng.normal(size=(10, 2)), "ab"[i % 2]).id for i in range(4)]
    project.save(folder)
    for take_id in ids:
        project.remove_take(take_id)
    project.save(folder)
    (folder / "trash" / f"{ids[1]}.json").write_text("{damaged")
    done = subprocess.run([sys.executable, "-m", "gesturemap.cli", "restore", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "restored 3 takes" in done.stdout and f"{ids[1]} was left in the trash" in done.stderr
    assert sorted(t.id for t in Project.load(folder).takes) == sorted(set(ids) - {ids[1]})
    by_id = subprocess.run([sys.executable, "-m", "gesturemap.cli", "restore", str(folder),
                            ids[1]], capture_output=True, text=True, timeout=120)
    assert by_id.returncode == 2 and ids[1] in by_id.stderr
