"""The "why?" strip right after a retrain (Qt offscreen, the engine in its own process, the
explanations in the quality worker process): an explanation made by the worker's model of
the takes before the retrain — asked before it, or answered before the review of the new
takes trained that model again — is never shown beside the monitor's class of the retrained
model. It showed the old model's decision for up to half a second."""

from __future__ import annotations

import time

import pytest

from .windows import mislabelled_pad_project, open_window

pytestmark = pytest.mark.timeout(240)


def test_after_a_retrain_the_strip_never_explains_with_the_old_model(qtbot, tmp_path):
    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "proj")
    engine, worker, why = window.engine, window.quality_worker, window.why
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None and engine.running
                    and "label" in why._explanation, timeout=120000)
    window.timer.stop()  # refreshed by hand from here, at the moments that matter
    qtbot.waitUntil(lambda: worker._explain is None or worker._explain.done(), timeout=60000)
    worker.poll()
    # an explanation asked now, by the worker's model of the takes as they are…
    times, values = engine.feature_ring.latest()
    assert worker.request_explanation(times, values, list(engine.feature_ring.names), None, 60)
    qtbot.waitUntil(lambda: worker._explain.done(), timeout=60000)
    assert "label" in worker._explain.result()
    # …answered before the retrain is seen: shown later than the retrained model plays
    trainings = engine.trainings
    window.train()
    qtbot.waitUntil(lambda: engine.trainings > trainings, timeout=60000)
    window._refresh_quality(time.perf_counter())
    assert "label" not in why._explanation, why.text.text()
    assert why.text.text() == ("why? — the retrained model is explained once its takes are "
                               "reviewed…")
    # once the takes are reviewed again, the retrained model's decision is explained
    window.timer.start()
    qtbot.waitUntil(lambda: "label" in why._explanation, timeout=120000)
    assert why.explained_key == window._takes_key()
    assert why.text.text().startswith("why? ")
