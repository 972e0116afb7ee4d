"""Screenshots of the Quality tab, the suspicious takes in the take list and the "why?" strip
(docs/guides/explain.md): ``QT_QPA_PLATFORM=offscreen python3 benchmarks/iml_screenshots.py``.

Three gestures recorded on the pad, three takes each, plus a circle recorded under "swipe"
(a slip); the window reviews the takes in the background after training, then runs while a
zigzag is drawn on the pad.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "images"


def main() -> int:
    from PySide6 import QtTest, QtWidgets

    from gesturemap.gui.screenshots import gesture_path
    from gesturemap.gui.window import MainWindow
    from gesturemap.project.default import default_project

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    wait = QtTest.QTest.qWait
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(default_project(), autosave_dir=Path(tmp) / "autosave",
                            osc_in=None, trainer="thread")
        window.resize(1400, 820)
        window.show()
        wait(300)

        def perform(kind: str) -> None:
            for x, y in gesture_path(kind):
                window.pad.move_to(x, y)
                wait(10)

        # takes recorded on the pad, as a user would; the last circle under "swipe" (a slip)
        plan = [(row, kind) for row, kind in enumerate(("circle", "swipe", "zigzag"))
                for _ in range(3)] + [(1, "circle")]
        for row, kind in plan:
            window.classes.setCurrentRow(row)
            window.pad.move_to(*gesture_path(kind)[0])
            wait(50)
            window.start_recording()
            perform(kind)
            window.stop_recording()
            wait(100)
        for _ in range(2400):  # the review of all ten takes, in the background
            report = window.quality.report
            if report is not None and len(report["takes"]) == len(plan):
                break
            wait(50)
        window.tabs.setCurrentWidget(window.quality)
        wait(300)
        window.grab().save(str(OUT / "quality-panel.png"))
        window.tabs.setCurrentWidget(window.dataset)
        wait(300)
        window.dataset.grab().save(str(OUT / "suspicious-takes.png"))
        window.tabs.setCurrentIndex(0)
        window.engine_command("start_running")
        for _ in range(3):  # grabbed while the zigzag is drawn again and again
            perform("zigzag")
        for x, y in gesture_path("zigzag")[:50]:
            window.pad.move_to(x, y)
            wait(10)
        window.grab().save(str(OUT / "why-strip-window.png"))
        print(window.why.text.text())
        window._ask_save = lambda: "discard"
        window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
