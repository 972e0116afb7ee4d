"""Screenshots of the vocabulary guide in the window (docs/guides/vocabulary.md):
``QT_QPA_PLATFORM=offscreen python3 benchmarks/vocabulary_screenshots.py``.

Three gestures recorded on the pad, three takes each, plus a circle recorded under "swipe"
(a slip); once the takes are reviewed in the background, a take of "zigzag" is recorded while
a circle is drawn: the meter, grabbed mid-take, warns that it collides with circle. Then the
Quality tab, listing the take that blurs swipe into circle.
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
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(default_project(), autosave_dir=Path(tmp) / "autosave",
                            osc_in=None, trainer="thread")
        window.resize(1400, 820)
        window.show()
        wait(300)

        def take(row: int, kind: str, stop: bool = True) -> None:
            window.classes.setCurrentRow(row)
            window.pad.move_to(*gesture_path(kind)[0])
            wait(50)
            window.start_recording()
            for x, y in gesture_path(kind):
                window.pad.move_to(x, y)
                wait(10)
            if stop:
                window.stop_recording()
                wait(100)

        plan = [(row, kind) for row, kind in enumerate(("circle", "swipe", "zigzag"))
                for _ in range(3)] + [(1, "circle")]
        for row, kind in plan:
            take(row, kind)
        for _ in range(2400):  # the review of all ten takes, in the background
            report = window.quality.report
            if report is not None and len(report["takes"]) == len(plan):
                break
            wait(50)
        window.auto_train.setChecked(False)  # the take below is only shown, not trained
        take(2, "circle", stop=False)  # a circle recorded as a zigzag
        for _ in range(200):
            last = window.distinct.last
            if last is not None and last["frames"] >= 50:
                break
            wait(50)
        window.grab().save(str(OUT / "vocabulary-meter-window.png"))
        print(window.distinct.warning.text())
        window.stop_recording()
        window.tabs.setCurrentWidget(window.quality)
        wait(300)
        window.grab().save(str(OUT / "vocabulary-blurs.png"))
        print([window.quality.blurs.item(i).text() for i in range(window.quality.blurs.count())])
        window._ask_save = lambda: "discard"
        window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
