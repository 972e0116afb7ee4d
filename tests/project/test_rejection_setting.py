"""A project has one rejection setting, ``outputs.reject_below``. Files written when the window's
monitor had a threshold of its own (``display.rejection_threshold``) open with that threshold
in force: on /wek/outputs (a real `gesturemap run` over loopback), MIDI, the synth and the
monitor alike, and in the scenes the file holds."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from gesturemap.errors import FormatError
from gesturemap.project import Project
from tests.rejection_helpers import answer, graded_project, input_for
from tests.stage_helpers import (
    free_port,
    osc_receiver,
    start_run,
    stop_run,
)


def _older_file(folder: Path, display: dict, outputs: dict | None = None) -> Path:
    """The graded project saved with a scene, then its project.json made as an older window
    wrote it: the monitor's threshold in ``display``, ``outputs`` as given."""
    project = graded_project()
    project.save_scene("verse")
    project.save(folder)
    path = folder / "project.json"
    document = json.loads(path.read_text())
    document["display"] = display
    document["outputs"] = outputs
    for scene in document["scenes"]:
        scene["outputs"] = outputs
    path.write_text(json.dumps(document))
    return folder


def test_an_older_monitor_threshold_alone_opens_in_force_and_is_saved_as_reject_below(tmp_path):
    folder = _older_file(tmp_path / "old", {"class_colors": {"high": "#ff00ff"},
                                            "rejection_threshold": 0.8})
    project = Project.load(folder)
    assert project.outputs == {"reject_below": 0.8}
    assert project.display == {"class_colors": {"high": "#ff00ff"}}  # nothing else lost
    # a scene the file holds keeps it too: recalling it on stage does not drop the rejection
    assert project.scene("verse").outputs == {"reject_below": 0.8}
    project.recall_scene("verse")
    assert project.outputs["reject_below"] == 0.8
    project.save(folder)
    document = json.loads((folder / "project.json").read_text())
    assert document["outputs"] == {"reject_below": 0.8}
    assert "rejection_threshold" not in document["display"]
    assert Project.load(folder).outputs == {"reject_below": 0.8}


def test_when_both_were_set_differently_the_outputs_value_stays_and_the_log_says_both(
    tmp_path, caplog
):
    folder = _older_file(tmp_path / "both", {"rejection_threshold": 0.6},
                         {"reject_below": 0.8, "port": 9})
    with caplog.at_level(logging.WARNING, logger="gesturemap.project"):
        project = Project.load(folder)
    # what OSC, MIDI and the synth followed stays: the show sounds as it did
    assert project.outputs == {"reject_below": 0.8, "port": 9}
    assert project.scene("verse").outputs == {"reject_below": 0.8, "port": 9}
    said = [r.getMessage() for r in caplog.records]
    assert any("0.60" in m and "0.80" in m and "outputs.reject_below" in m for m in said), said
    # the project's own and the scene's, each said once
    assert len(said) == 2, said


def test_a_display_threshold_out_of_range_is_refused_naming_it(tmp_path):
    folder = _older_file(tmp_path / "bad", {"rejection_threshold": 7})
    with pytest.raises(FormatError, match=r"project\.json.*display\.rejection_threshold.*7"):
        Project.load(folder)


def test_gesturemap_run_sends_class_0_below_an_older_monitor_threshold(tmp_path):
    folder = _older_file(tmp_path / "stage", {"rejection_threshold": 0.8})
    model = Project.load(folder).trained
    rx = osc_receiver()
    port = free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}",
                       "--osc-out", f"127.0.0.1:{rx.getsockname()[1]}")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            sent = [answer(tx, rx, port, input_for(model, p)) for p in (0.9, 0.75, 0.3, 0.05)]
    finally:
        _, err = stop_run(run)
        rx.close()
    # "high" at 0.9 (class 1), at 0.75 none; "low" at 0.7 none, at 0.95 (class 2)
    assert sent == [1.0, 0.0, 0.0, 2.0], err
