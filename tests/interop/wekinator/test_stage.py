"""A new project on stage over Wekinator's protocol, as a Wekinator client drives it, over real
loopback UDP against `gesturemap new` + `gesturemap run`: one recording whose output value
changes twice (Wekinator's way), train, run; then poses switching every 20 frames with no reset.
The output port gets exactly one /wek/outputs per input frame and no other address."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ...stage_helpers import OscPeer, free_port, start_run, stop_run

POSES = {1: (0.1, 0.1), 2: (0.9, 0.1), 3: (0.5, 0.9)}
#: the order the poses are shown in while running, each for 20 frames
SHOWN = [1, 2, 3, 2, 1, 3, 1, 2, 3, 3, 1, 2]


class WekinatorClient(OscPeer):
    """Sends as a Wekinator client does and reads every datagram the output port gets."""

    def __init__(self, port_in: int) -> None:
        super().__init__(port_in)
        self.rng = np.random.default_rng(7)

    def frame(self, cls: int) -> None:
        self.send("/wek/inputs", *(np.array(POSES[cls]) + 0.02 * self.rng.standard_normal(2)))


@pytest.mark.parametrize("model", [None, "knn"], ids=["default", "knn"])
def test_a_new_classifier_project_follows_poses_over_wekinators_protocol(tmp_path, model):
    folder = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "gesturemap.cli", "new", str(folder), "--inputs", "2",
                    *(["--model", model] if model else [])], check=True, timeout=120)
    port_in = free_port()
    client = WekinatorClient(port_in)
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{port_in}", "--osc-out",
                       f"127.0.0.1:{client.port_out}")
    try:
        # one recording; the output value changes twice while it runs (Wekinator's way)
        client.send("/wekinator/control/outputs", 1)
        client.record_and_train(client.frame, (1, 2, 3))
        done = client.replies(lambda g: any(
            m.address == "/wekinator/status/done-training" for m in g), 120)
        assert [m.address for m in done] == ["/wekinator/status/done-training"]
        client.send("/wekinator/control/startRunning")
        answers, truth = [], []
        for cls in SHOWN:  # poses switching every 20 frames, never a reset
            for _ in range(20):
                client.frame(cls)
                got = client.replies(lambda g: len(g) >= 1, 5)
                assert got, f"no answer to frame {len(truth)}"
                answers += got
                truth.append(cls)
        answers += client.replies(lambda g: False, 0.3)  # anything else that came
    finally:
        client.close()
        stop_run(run)
    # exactly one /wek/outputs per input frame, no other address (a client counts replies)
    assert [m.address for m in answers] == ["/wek/outputs"] * len(truth)
    classes = np.array([m.params[0] for m in answers])
    truth = np.array(truth)
    right = {cls: float(np.mean(classes[truth == cls] == cls)) for cls in POSES}
    assert float(np.mean(classes == truth)) >= 0.95, right
    assert min(right.values()) >= 0.95, right
