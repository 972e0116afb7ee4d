"""The engine with an LSL stream as its sensor (a real outlet and inlet on this machine)."""

from __future__ import annotations

import time

import numpy as np
import pylsl
import pytest

from gesturemap.live.engine import Engine
from gesturemap.project import Project
from gesturemap.sources.lsl import LSLSource

from ..sources.source_helpers import wait_until

# LSL streams are machine-wide: the tests that open them run one at a time
pytestmark = pytest.mark.serial("jack-lsl")


def _push(outlet, values, engine, count: int) -> None:  # noqa: ANN001
    for i in values:
        outlet.push_sample([float(i), 0.5])
        time.sleep(0.005)
    wait_until(lambda: engine.frames_in >= count, timeout=15, what="the samples")


def test_a_take_across_a_restarted_stream_keeps_its_frames_and_says_the_gap(tmp_path):
    """The sending app quit mid-take and started again (same name, new uid): the source never
    read the new stream, the take ended with the first half only and no word of a gap."""
    name = f"gm-test-take-{time.monotonic_ns()}"
    folder = tmp_path / "p"
    Project("lsl", model="gmm").save(folder)
    made = []

    def factory(queue, on_control):  # noqa: ANN001, ANN202
        made.append(LSLSource(queue, name, size=2))
        return made[0]

    outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 2, 200, "float32", "first"))
    engine = Engine(Project.load(folder), project_dir=folder, osc_in=None, sources=[factory],
                    trainer="thread").start()
    try:
        wait_until(outlet.have_consumers, timeout=10, what="the inlet")
        engine.command("set_label", "wave")
        engine.command("start_recording")
        _push(outlet, range(100), engine, 100)
        del outlet  # the app quit
        wait_until(lambda: made[0].stats.away_since is not None, timeout=15, what="the loss")
        time.sleep(0.5)
        outlet = pylsl.StreamOutlet(pylsl.StreamInfo(name, "Mocap", 2, 200, "float32", "2nd"))
        wait_until(outlet.have_consumers, timeout=15, what="the inlet again")
        _push(outlet, range(100, 200), engine, 200)
        engine.command("stop_recording")
        wait_until(lambda: len(engine.project.takes) == 1, timeout=10, what="the take")
    finally:
        engine.stop()
    take = engine.project.takes[0]
    np.testing.assert_array_equal(take.inputs[:, 0], np.arange(200))
    (start, length), = take.gaps
    assert length >= 0.5, take.gaps
    stats = engine.stats()
    assert stats["takes_with_gaps"] == 1 and stats["errors"] == 0
    assert stats["sources"]["lsl"]["reconnects"] == 1
