"""A project whose likeliest class's likelihood a test can set frame by frame, for the tests of
the one rejection setting (``outputs.reject_below``): OSC, MIDI, the synth and the window."""

from __future__ import annotations

import socket
from typing import Any

import numpy as np


def graded_project(**outputs: Any) -> Any:
    """A trained 1-input GMM project: class "low" around 0, "high" around 1, wide enough that
    every likelihood between them is reached by some input (see :func:`input_for`). Its labels
    are ["high", "low"]: Wekinator's class 1 is "high", 2 is "low"."""
    from gesturemap.project import Project

    project = Project(classes=["low", "high"], outputs=outputs or None)
    rng = np.random.default_rng(0)
    for label, level in (("low", 0.0), ("high", 1.0)):
        for _ in range(3):
            project.add_take(level + 0.3 * rng.standard_normal((60, 1)), label)
    # decided on each frame alone (no window, no deltas), as Wekinator's classifiers do: a
    # frame's likelihoods do not depend on the frames before it
    project.model = {"kind": "gmm", "params": {"gaussians": 1, "decision": "window",
                                               "likelihood_window": 1, "deltas": False}}
    project.train()
    return project


def input_for(model: Any, p_high: float) -> float:
    """The input (a float32, as an OSC float carries it) at which ``model`` of
    :func:`graded_project` gives "high" the likelihood ``p_high`` (to 1e-3)."""
    high = list(model.labels_).index("high")
    lo, hi = -1.0, 2.0
    for _ in range(60):
        mid = float(np.float32((lo + hi) / 2))
        if likelihoods(model, mid)[high] < p_high:
            lo = mid
        else:
            hi = mid
    x = float(np.float32(hi))
    assert abs(likelihoods(model, x)[high] - p_high) < 1e-3, (p_high, x)
    return x


def likelihoods(model: Any, x: float) -> np.ndarray:
    """The likelihoods ``model`` gives the one-value frame ``x`` (its labels' order)."""
    return np.asarray(model.stream().step(np.array([x])).likelihoods)



def answer(tx: socket.socket, rx: socket.socket, port: int, x: float) -> float:
    """Send the one-value frame ``x`` to ``/wek/inputs`` on loopback ``port``; the class its
    /wek/outputs reply on ``rx`` carries (Wekinator's number; 0: none of them)."""
    from tests.stage_helpers import float_msg, osc_messages

    tx.sendto(float_msg("/wek/inputs", x), ("127.0.0.1", port))
    got = osc_messages(rx, lambda g: any(a == "/wek/outputs" for a, _ in g), timeout=20)
    values = [p for a, p in got if a == "/wek/outputs"]
    assert len(values) == 1, got
    return float(values[0][0])


def dtw_project(**outputs: Any) -> Any:
    """A trained DTW project on one input: "up" a ramp 0 -> 1, "down" 1 -> 0 (labels
    ["down", "up"]). At rest on 1.0 "down" is likeliest (0.975) but nothing matches; along a
    ramp 0 -> 1 "up" is likeliest (above 0.95) from its 3rd frame, and matches from its 20th."""
    from gesturemap.project import Project
    from gesturemap.project.settings import stage_model

    rng = np.random.default_rng(0)
    project = Project(classes=["up", "down"], outputs=outputs or None)
    ramp = np.linspace(0, 1, 30)[:, None]
    for _ in range(3):
        project.add_take(ramp + 0.05 * rng.standard_normal((30, 1)), "up")
        project.add_take(1 - ramp + 0.05 * rng.standard_normal((30, 1)), "down")
    project.model = stage_model("dtw")
    project.train()
    return project


#: Gestures each performed from a reset, as one-value frames (float32, as OSC carries them):
#: at rest (no match), the ramp "up" (matched at its end), at rest again (the match ends).
DTW_GESTURES = [np.full(10, 1.0, dtype=np.float32), np.linspace(0, 1, 30, dtype=np.float32),
                np.full(10, 1.0, dtype=np.float32)]


def dtw_results(model: Any, gestures: Any = DTW_GESTURES) -> list[Any]:
    """The Result of each frame of ``gestures`` (default :data:`DTW_GESTURES`), as
    ``model``'s stream reset at each gesture gives them."""
    stream = model.stream()
    results = []
    for frames in gestures:
        stream.reset()
        results += [stream.step(np.array([float(x)])) for x in frames]
    return results


def dtw_matches(model: Any) -> list[Any]:
    """The match of each frame of :data:`DTW_GESTURES` (None: no match), as ``model``'s stream
    reset at each gesture gives them."""
    return [r.match for r in dtw_results(model)]


def play_dtw_gestures(engine: Any, tx: socket.socket, rx: socket.socket,
                      address: str) -> list[tuple]:
    """Send :data:`DTW_GESTURES` to a running ``engine``'s OSC input, a stream reset before
    each, one frame at a time: the parameters of the ``address`` message each frame sent
    back on ``rx``."""
    from tests.stage_helpers import float_msg, osc_messages

    got: list[tuple] = []
    for frames in DTW_GESTURES:
        engine.command("reset")  # a gesture starts (before the frames sent after it)
        for x in frames:
            tx.sendto(float_msg("/wek/inputs", float(x)), ("127.0.0.1", engine.osc_port))
            reply = osc_messages(rx, lambda g: any(a == address for a, _ in g), timeout=20)
            got += [p for a, p in reply if a == address]
    return got
