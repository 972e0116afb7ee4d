"""A GVF project in the engine: its speed, scale and rotation leave on OSC."""

from __future__ import annotations

import socket
import time

import numpy as np
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from gesturemap.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.base import Frame


def test_gvf_estimates_are_sent_on_osc():
    t = np.linspace(0, 1, 60)
    project = Project("gvf", model={"kind": "gvf", "params": {"particles": 200,
                                                              "rotation": True}})
    project.add_take(np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], "circle")
    project.add_take(np.c_[2 * t - 1, 0.5 * t], "line")
    project.train()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.05)
    engine = Engine(project, osc_in=None, osc_out=("127.0.0.1", rx.getsockname()[1]),
                    trainer="thread").start()
    got: dict[str, tuple] = {}
    try:
        engine.command("start_running")
        for i, x in enumerate(np.c_[np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)][:40]):
            engine.queue.put(Frame(0.01 * i, x, "test"))
        end = time.monotonic() + 5
        while time.monotonic() < end and len(got) < 3:
            try:
                data = rx.recv(65536)
            except TimeoutError:
                continue
            if data.startswith(b"#bundle"):
                for m in OscBundle(data):
                    if isinstance(m, OscMessage):
                        got[m.address] = tuple(m.params)
            got = {k: v for k, v in got.items()
                   if k in ("/gesturemap/speed", "/gesturemap/scale", "/gesturemap/rotation")}
    finally:
        engine.stop()
        rx.close()
    assert len(got["/gesturemap/speed"]) == 2  # one per class
    assert len(got["/gesturemap/scale"]) == 4  # class x input
    assert len(got["/gesturemap/rotation"]) == 2  # one angle per class (2-D)
    assert all(np.isfinite(got["/gesturemap/speed"]))
