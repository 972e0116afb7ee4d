"""The window's first start on a machine whose numba cache is empty: the training line says
the models are being prepared for this machine (never "queued" for the whole compile), and the
first take of the mouse pad gives a model that runs, trained while the kernels compile (by the
interpreted worker: the take does not wait for the compiler). Closed while they still compile,
the window does not wait for them either.

The window's engine and training run in processes of their own, started with the empty cache:
they compile what the default project needs, as on a new machine. The time from the take to
the model is a benchmark figure (``benchmarks/first_start.py``); the deadlines here only catch
a take that never trains.
"""

from __future__ import annotations

import time

import pytest

from gesturemap.gui.window import MainWindow
from gesturemap.live.prepare import PREPARING
from gesturemap.live.trainer import INTERPRETED
from gesturemap.project.default import default_project
from tests.stage_helpers import descendant_pids, process_alive

from .test_session import pad_driver, record  # noqa: F401 - pad_driver is a fixture

pytestmark = pytest.mark.timeout(300)


def test_a_new_machine_says_it_prepares_then_trains_the_first_take(qtbot, tmp_path,
                                                                    pad_driver,  # noqa: F811
                                                                    monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba-cache"))
    window = MainWindow(default_project(), autosave_dir=tmp_path / "autosave", osc_in=None,
                        audio=False)
    window.pad_driver = pad_driver
    qtbot.addWidget(window)
    window._ask_save = lambda: "discard"
    window.show()
    qtbot.waitExposed(window)
    seen: list[str] = []

    def status() -> str:
        text = window.train_status.text()
        if not seen or seen[-1] != text:
            seen.append(text)
        return text

    qtbot.waitUntil(lambda: status().startswith(PREPARING), timeout=60000)
    qtbot.waitUntil(lambda: window.engine.frames_in > 10, timeout=60000)  # the pad's frames
    record(qtbot, window, "circle", "circle")
    try:
        qtbot.waitUntil(lambda: "trained in" in status(), timeout=240000)
    except qtbot.TimeoutError:
        raise AssertionError(f"no model: {seen[-5:]} {window.engine.stats()}") from None
    assert window.engine.model is not None
    assert [str(c) for c in window.engine.model.labels_] == ["circle"]
    assert not any("queued" in text for text in seen), str(seen)
    preparing = [t for t in seen if t.startswith(PREPARING)]
    assert preparing, seen
    # the take did not wait for the compiler: an interpreted worker trained it meanwhile
    assert any(INTERPRETED in text for text in seen), str(seen)
    qtbot.waitUntil(lambda: window.engine.stats().get("trainings_interpreted") == 1,
                    timeout=10000)
    # the model's line stays while the preparation goes on behind it
    qtbot.wait(1000)
    assert window.engine.stats().get("preparing") is not None, "prepared already: too fast a test"
    assert "trained in" in window.train_status.text(), seen[-5:]
    # closed in the middle of the preparation: the window does not wait for the compiler
    # (which reads no message until it is done), and no process is left behind
    processes = [window.engine.pid, *descendant_pids(window.engine.pid)]
    assert len(processes) >= 3, processes  # the engine, its compiling and interpreted workers
    t0 = time.monotonic()
    window.close()
    assert time.monotonic() - t0 < 4.0
    deadline = time.monotonic() + 5
    while any(process_alive(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(process_alive(pid) for pid in processes), processes

