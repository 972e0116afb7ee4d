"""Screenshots of the window for the docs: ``python -m gesturemap.gui.screenshots OUTDIR``.

Records a few takes of three gestures by moving the pad's pointer (as the tests do), lets the
model retrain and run, then saves the main window, the dataset browser, the monitor and the
stage view as PNG files. Run it under a virtual screen (``xvfb-run -s "-screen 0 1600x1000x24"
python -m gesturemap.gui.screenshots docs/images`` with ``QT_QPA_PLATFORM=xcb``) or offscreen.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np


def gesture_path(kind: str, n: int = 70) -> np.ndarray:
    """A gesture on the pad: (n, 2) positions in 0..1."""
    s = np.linspace(0.0, 1.0, n)
    if kind == "circle":
        return np.c_[0.5 + 0.3 * np.cos(2 * np.pi * s), 0.5 + 0.3 * np.sin(2 * np.pi * s)]
    if kind == "swipe":
        return np.c_[0.1 + 0.8 * s, 0.9 - 0.8 * s]
    return np.c_[
        0.1 + 0.8 * s,
        0.5 + 0.25 * np.sign(np.sin(6 * np.pi * s)) * np.abs(np.sin(6 * np.pi * s)) ** 0.5,
    ]


def main(out: str) -> int:
    from PySide6 import QtTest, QtWidgets

    from ..project.default import default_project
    from .window import MainWindow

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    wait = QtTest.QTest.qWait
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(
            default_project(), autosave_dir=Path(tmp) / "autosave", osc_in=None, trainer="thread"
        )
        window.resize(1400, 820)
        window.show()
        wait(300)

        def perform(kind: str) -> None:
            for x, y in gesture_path(kind):
                window.pad.move_to(x, y)
                wait(10)

        for row, kind in enumerate(("circle", "swipe", "zigzag")):
            window.classes.setCurrentRow(row)
            for _ in range(3):
                window.pad.move_to(*gesture_path(kind)[0])
                wait(50)
                window.start_recording()
                perform(kind)
                window.stop_recording()
                wait(100)
        for _ in range(200):
            if window.engine.model is not None and window._train_sent is None:
                break
            wait(50)
        perform("circle")
        perform("zigzag")
        for x, y in gesture_path("zigzag")[:45]:
            window.pad.move_to(x, y)
            wait(10)
        window.grab().save(str(out_dir / "main-window.png"))
        window.monitor.grab().save(str(out_dir / "monitor.png"))
        window.tabs.setCurrentWidget(window.dataset)
        wait(200)
        for _ in range(100):  # the takes' pictures are drawn in the background
            if not window.dataset.thumbnails_pending:
                break
            wait(50)
        window.grab().save(str(out_dir / "dataset-browser.png"))
        window.tabs.setCurrentWidget(window.model_panel)
        wait(100)
        window.grab().save(str(out_dir / "model-panel.png"))
        window.tabs.setCurrentWidget(window.synth_panel)
        wait(100)
        window.grab().save(str(out_dir / "synth-panel.png"))
        window.tabs.setCurrentIndex(0)
        stage = window.show_stage(full_screen=False)
        stage.resize(1280, 720)
        perform("swipe")
        for x, y in gesture_path("circle")[:50]:
            window.pad.move_to(x, y)
            wait(10)
        stage.grab().save(str(out_dir / "stage-view.png"))
        print(
            f"stop → new model running: {window.last_stop_to_running_ms} ms; "
            f"last training {window.last_train_ms} ms"
        )
        window._ask_save = lambda: "discard"
        window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
