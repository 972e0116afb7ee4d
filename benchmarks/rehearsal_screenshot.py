"""Screenshot of the Rehearsal tab (docs/guides/rehearsal.md, "In the window"):
``QT_QPA_PLATFORM=offscreen python3 benchmarks/rehearsal_screenshot.py [OUT.png]``.

Two gestures on two channels (a swell, an explosion) and a null class, six takes each, as in
the guide's Python example; a two-minute rehearsal at 50 frames/s, resting, in which the
performer twice makes an explosion's movement by mistake and begins a swell and takes it
back. The window (its engine in a process of its own) loads the rehearsal file and keeps it
in the project, a missed swell is made to cost 2 and the audit runs at a budget of 1 false
trigger a minute; the window is grabbed once the audit is shown.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gesturemap.project import Project  # noqa: E402
from gesturemap.utils.storage import save_npz  # noqa: E402
from tests.recordings import rehearsal_project  # noqa: E402


def main(out: str) -> int:
    from PySide6 import QtTest, QtWidgets

    from gesturemap.gui.window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    project, x = rehearsal_project(
        sensor={"transport": "osc", "host": "127.0.0.1", "port": 0})
    wait = QtTest.QTest.qWait
    with tempfile.TemporaryDirectory() as tmp:
        rehearsal = Path(tmp) / "run-through 1.npz"
        save_npz(rehearsal, X_concat=x, labels_concat=np.zeros(len(x), dtype=np.int64),
                 lengths=np.array([len(x)]))
        project.save(Path(tmp) / "project")
        window = MainWindow(Project.load(Path(tmp) / "project"), Path(tmp) / "project",
                            osc_in=None, trainer="thread")
        window.resize(1400, 900)
        window.show()
        panel = window.rehearsal
        window.tabs.setCurrentWidget(panel)
        while window.engine.model is None:
            wait(50)
        wait(300)
        panel.findChild(QtWidgets.QDoubleSpinBox, "cost.swell.miss").setValue(2.0)
        while (window.project.model["spotting"].get("costs") or {}).get("swell") is None:
            wait(50)
        panel.use_files([str(rehearsal)])
        panel.keep_button.click()
        while "kept in the project" not in panel.status.text():
            wait(50)
        panel.budget.setValue(1.0)
        panel.audit_button.click()
        while panel.result is None:
            wait(100)
        wait(300)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(out)
        print(out)
        print(panel.verdict.text())
        window._ask_save = lambda: "discard"
        window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1
                  else str(ROOT / "docs" / "images" / "rehearsal-tab.png")))
