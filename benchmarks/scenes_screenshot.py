"""Screenshot of the window's Scenes menu: ``python3 benchmarks/scenes_screenshot.py [OUT.png]``.

A project with three scenes (a pad project trained on circle and swipe, saved as "verse",
"chorus" and "coda"), opened in the window (offscreen Qt); Ctrl+2 recalls "chorus", then the
Scenes menu is opened and grabbed over the window.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gesturemap.gui.screenshots import gesture_path  # noqa: E402
from gesturemap.project import Project  # noqa: E402
from gesturemap.project.default import default_project  # noqa: E402


def _project(folder: Path) -> Path:
    from tests.recordings import mouse_frames

    project = default_project()
    for kind in ("circle", "swipe"):
        if kind not in project.classes:
            project.add_class(kind)
        for n in (60, 70, 80):
            project.add_take(mouse_frames(gesture_path(kind, n)), kind)
    project.train()
    for name in ("verse", "chorus", "coda"):
        project.save_scene(name)
    project.save(folder)
    return folder


def main(out: str) -> None:
    from PySide6 import QtGui, QtTest, QtWidgets

    from gesturemap.gui.window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    folder = _project(Path(tempfile.mkdtemp(prefix="gesturemap-scenes-")) / "piece")
    window = MainWindow(Project.load(folder), folder, osc_in=None, audio=False)
    window._ask_save = lambda: "discard"
    window.resize(1280, 780)
    window.show()
    wait = QtTest.QTest.qWait
    for _ in range(600):  # the engine process has prepared the scenes and the kernels
        wait(100)
        stats = window.engine.stats()
        if window.scene_names() == ["verse", "chorus", "coda"] and not stats.get("preparing"):
            break
    window.recall_scene(1)
    for _ in range(100):
        wait(100)
        if (window.engine.stats().get("scenes") or {}).get("current") == "chorus":
            break
    menu = window.scenes_menu
    anchor = window.menuBar().actionGeometry(menu.menuAction()).bottomLeft()
    menu.popup(window.menuBar().mapToGlobal(anchor))
    wait(300)
    shot = window.grab()
    painter = QtGui.QPainter(shot)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    menu.hide()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    shot.save(out)
    print(out, window.engine.stats()["scenes"])
    window.close()
    app.processEvents()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs" / "images" / "scenes-menu.png"))
