"""The "why?" strip's explanation (:func:`quality_jobs.explain_live`, the worker's job) of the
default project's live decision: the mouse project's HHMM follows (``decision="following"``)
behind a spotting stream. A zigzag, then the pad at rest: the decision restarts on the rest
and names another class; the frames the window sends with the engine's stats are explained
as that decision reads them, so the explanation names the stream's label."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.gui import quality_jobs
from gesturemap.live.frame_path import model_stream
from gesturemap.project.default import default_project

from .windows import pad_take


def _default_trained():
    rng = np.random.default_rng(11)
    project = default_project()
    for kind in project.classes:
        for _ in range(3):
            inputs, times = pad_take(kind, rng)
            project.add_take(inputs, kind, times=times)
    project.fit_pipeline()
    return project, project.new_model().fit(project.dataset())


def test_the_explanation_of_the_frames_the_following_decision_reads_names_its_label():
    project, model = _default_trained()
    stream = model_stream(project, model)  # as the engine runs it: spotting on
    assert type(stream).__name__ == "SpottingStream"
    rng = np.random.default_rng(5)
    zigzag, _ = pad_take("zigzag", rng)
    rest = np.tile(np.r_[zigzag[-1, :2], 0.0, 0.0], (150, 1))  # the pad held still
    before, _ = pad_take("swipe", rng)  # frames the ring holds from before the reset
    frames = np.vstack([before, zigzag, rest])
    times = 100.0 + np.arange(len(frames)) * 0.01
    reset = len(before)
    quality_jobs._STATE["model"] = model
    seen = set()
    try:
        for i in range(reset, len(frames)):
            r = stream.step(frames[i])
            if i % 10 or i < reset + 20:
                continue
            # what the window's timer sends: the ring's latest frames, and the engine's
            # stats (the decision's frames, and where they begin since the reset)
            ex = quality_jobs.explain_live(
                times[:i + 1], frames[:i + 1], list(project.input_names), times[reset], 60,
                stream.decided_frames, stream.decided_from)
            assert ex["label"] == str(r.label), (i, stream.decided_from, r.label, ex["text"])
            seen.add((str(r.label), stream.decided_from > 0))
    finally:
        quality_jobs._STATE.pop("model", None)
    # a restart on the rest, where the label is not the zigzag: what the strip got wrong
    assert ("zigzag", False) in seen and any(
        restarted and label != "zigzag" for label, restarted in seen), seen


@pytest.mark.timeout(300)
def test_the_why_strip_names_the_monitors_class_after_a_gesture_ends(qtbot, tmp_path):
    """The window on the default project (a real engine process, spotting on): a zigzag, then
    the pad at rest restarts the following decision; the strip names the class the monitor
    shows (it named the zigzag, explaining every frame since the reset)."""
    from gesturemap.gui.screenshots import gesture_path

    from .windows import open_window

    project, _ = _default_trained()
    project.train()
    window = open_window(qtbot, project, tmp_path / "proj")
    window.tabs.setCurrentWidget(window.quality)
    qtbot.waitUntil(lambda: window.quality.report is not None, timeout=120000)
    window.engine_command("start_running")
    window.engine_command("reset")
    qtbot.wait(100)
    for x, y in gesture_path("zigzag", 60):
        window.pad.move_to(x, y)
        qtbot.wait(10)
    qtbot.wait(1500)  # at rest: the decision restarts on the rest
    window.pad.stop()  # no frame more: the live label stays what it is
    qtbot.wait(700)  # the process engine's stats, twice a second
    live = window.engine.last_result.label
    window.why.text.setText("")
    qtbot.waitUntil(lambda: " over " in window.why.text.text(), timeout=30000)
    assert window.why.text.text().startswith(f"why? {live} over "), (live, window.why.text.text())
    assert window.engine.stats().get("decided_from"), "the decision did not restart"
    window.close()
