"""The monitor shows how the likeliest gesture is performed when the model says (GVF)."""

from __future__ import annotations

import gesturemap as gm
from gesturemap.gui.monitor import Monitor
from gesturemap.gui.screenshots import gesture_path


def test_speed_scale_rotation_shown_for_a_gvf_and_hidden_otherwise(qtbot):
    ds = gm.Dataset()
    for kind in ("circle", "swipe", "zigzag"):
        ds.add(gesture_path(kind, 80), label=kind)
    model = gm.GVF(300, rotation=True, random_state=1).fit(ds)
    monitor = Monitor()
    qtbot.addWidget(monitor)
    labels = [str(lb) for lb in model.labels_]
    x = gesture_path("circle", 50)  # faster than recorded
    stream = model.stream()
    for f in x:
        r = stream.step(f)
        monitor.show_result(r, labels)
    assert not monitor.variation.isHidden()
    text = monitor.variation.text()
    k = r.label_index
    assert text.startswith(f"speed ×{r.speed[k]:.2f}") and "scale ×" in text
    assert "rotation" in text
    # a model without these estimates: the line goes away
    hhmm = gm.HHMM(4).fit(ds)
    monitor.show_result(hhmm.stream().step(x[0]), labels)
    assert monitor.variation.isHidden()
