"""A GVF project in the engine: its speed, scale and rotation leave on OSC."""

from __future__ import annotations

import numpy as np

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.base import Frame

from ..stage_helpers import bundle_params, osc_receiver


def test_gvf_estimates_are_sent_on_osc():
    t = np.linspace(0, 1, 60)
    project = Project("gvf", model={"kind": "gvf", "params": {"particles": 200,
                                                              "rotation": True}},
                      outputs={"extras": True})
    project.add_take(np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], "circle")
    project.add_take(np.c_[2 * t - 1, 0.5 * t], "line")
    project.train()
    rx = osc_receiver()
    engine = Engine(project, osc_in=None, osc_out=rx.getsockname(), trainer="thread").start()
    keys = ("/gesturemap/speed", "/gesturemap/scale", "/gesturemap/rotation")
    try:
        engine.command("start_running")
        for i, x in enumerate(np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)][:40]):
            engine.queue.put(Frame(0.01 * i, x, "test"))
        every = bundle_params(rx, keys, lambda g: all(g[k] for k in keys))
    finally:
        engine.stop()
        rx.close()
    got = {k: v[-1] for k, v in every.items() if v}
    assert len(got["/gesturemap/speed"]) == 2  # one per class
    assert len(got["/gesturemap/scale"]) == 4  # class x input
    assert len(got["/gesturemap/rotation"]) == 2  # one angle per class (2-D)
    assert all(np.isfinite(got["/gesturemap/speed"]))
