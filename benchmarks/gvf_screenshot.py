"""Screenshot of the monitor following a GVF: ``python3 benchmarks/gvf_screenshot.py [OUT.png]``.

Three pad gestures are recorded (as the window's screenshots do), a GVF is trained on them, and
the circle is replayed 1.4 times faster, 1.5 times bigger and turned by 20 degrees; the monitor
(offscreen Qt) is grabbed at 60 % of the gesture.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gesturemap as gm  # noqa: E402
from gesturemap.gui.screenshots import gesture_path  # noqa: E402


def main(out: str) -> None:
    from PySide6 import QtWidgets

    from gesturemap.gui.monitor import Monitor

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    ds = gm.Dataset()
    for kind in ("circle", "swipe", "zigzag"):
        ds.add(gesture_path(kind, 80), label=kind)
    model = gm.GVF(rotation=True).fit(ds)
    x = gesture_path("circle", 57)
    a = np.radians(20)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    x = x[0] + 1.5 * (x - x[0]) @ rot
    from gesturemap.gui.colours import WINDOW_STYLE

    monitor = Monitor()
    monitor.setStyleSheet(WINDOW_STYLE)  # as in the window: the bars' light text needs it
    monitor.resize(520, 360)
    monitor.show()
    stream = model.stream()
    labels = [str(lb) for lb in model.labels_]
    for f in x[: int(0.6 * len(x))]:
        monitor.show_result(stream.step(f), labels)
    app.processEvents()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    monitor.grab().save(out)
    print(out, monitor.variation.text())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs" / "images" / "gvf_monitor.png"))
