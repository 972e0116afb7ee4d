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


def test_an_hhmm_that_estimates_speed_shows_it_without_scale(qtbot):
    ds = gm.Dataset()
    for kind in ("circle", "swipe", "zigzag"):
        for n in (78, 80, 82):
            ds.add(gesture_path(kind, n), label=kind)
    model = gm.HHMM(4, estimate_speed=True, n_jobs=1).fit(ds)
    monitor = Monitor()
    qtbot.addWidget(monitor)
    labels = [str(lb) for lb in model.labels_]
    stream = model.stream()
    for f in gesture_path("circle", 40):  # twice as fast as recorded
        r = stream.step(f)
        monitor.show_result(r, labels)
    k = r.label_index
    assert labels[k] == "circle"
    text = monitor.variation.text()
    assert not monitor.variation.isHidden() and text == f"speed ×{r.speed[k]:.2f}"
    assert 1.4 < r.speed[k] < 2.8, r.speed
