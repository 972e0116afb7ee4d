"""A project whose trained model is damaged or missing opens with its takes and retrains,
saying so: `gesturemap run` answers frames with the retrained model, `train` and `eval` work,
`Project.load` warns. Real files, real `gesturemap` processes, loopback UDP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gesturemap.project import Project
from tests.stage_helpers import (
    float_msg,
    free_port,
    osc_labels,
    osc_receiver,
    start_run,
    stop_run,
    two_level_project,
)

pytestmark = pytest.mark.timeout(240)


def _model_files(folder: Path) -> tuple[Path, Path]:
    name = json.loads((folder / "project.json").read_text())["model_file"]
    return folder / name, (folder / name).with_suffix(".npz")


def _truncate_arrays(folder: Path) -> None:
    npz = _model_files(folder)[1]
    npz.write_bytes(npz.read_bytes()[:100])


def _remove_model(folder: Path) -> None:
    for path in _model_files(folder):
        path.unlink()


def _garbage_model(folder: Path) -> None:
    _model_files(folder)[0].write_text("{not json")


DAMAGES = {"truncated": _truncate_arrays, "missing": _remove_model, "garbage": _garbage_model}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_project_with_a_damaged_model_opens_with_its_takes(tmp_path, damage):
    folder = two_level_project(tmp_path / "p")
    DAMAGES[damage](folder)
    with pytest.warns(UserWarning, match="trained model .* cannot be read"):
        project = Project.load(folder)
    assert len(project.takes) == 6 and project.trained is None
    assert "gesturemap train" in project.model_problem


def _cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=180)


def test_train_and_eval_work_on_a_project_whose_model_is_damaged(tmp_path):
    folder = two_level_project(tmp_path / "p")
    _truncate_arrays(folder)
    evaluated = _cli("eval", folder)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "cannot be read" in evaluated.stderr
    trained = _cli("train", folder)
    assert trained.returncode == 0, trained.stderr
    assert Project.load(folder).trained.labels_ == ["high", "low"]  # and saved, readable


def test_run_retrains_a_project_whose_model_is_missing_and_plays(tmp_path):
    import socket

    folder = two_level_project(tmp_path / "p")
    _remove_model(folder)
    rx = osc_receiver()
    port = free_port()
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port}", "--osc-out",
                       f"127.0.0.1:{rx.getsockname()[1]}")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    err = ""
    try:
        labels: list[str] = []
        for _ in range(200):  # until the retrained model answers (a frame every 50 ms)
            tx.sendto(float_msg("/wek/inputs", 0.9, 0.9), ("127.0.0.1", port))
            labels += osc_labels(rx, 1, timeout=0.05)
            if labels:
                break
        assert labels and labels[-1] == "high"
    finally:
        err = stop_run(run)[1]
        tx.close()
        rx.close()
    assert "cannot be read" in err
    assert Project.load(folder).trained is not None  # the retrained model was saved


def test_the_window_retrains_a_project_whose_model_is_damaged(qtbot, tmp_path):
    from gesturemap.gui.window import MainWindow

    folder = two_level_project(tmp_path / "p")
    _garbage_model(folder)
    with pytest.warns(UserWarning, match="cannot be read"):
        project = Project.load(folder)
    window = MainWindow(project, folder, osc_in=None, trainer="thread", engine="thread",
                        audio=False)
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    qtbot.waitUntil(lambda: window.engine.model is not None, timeout=30000)
    assert window.engine.model.labels_ == ["high", "low"]
    result = window.engine.project.trained.stream().step(np.array([0.9, 0.9]))
    assert result.label == "high"
