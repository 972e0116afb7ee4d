"""The first start on a machine whose numba cache is empty: ``gesturemap run`` of a new HHMM
project, driven as a Wekinator client drives it.

What must hold there: the port is bound before the "listening" line, every frame sent from
then on is counted (answered once a model runs), the training process says it is preparing
the project's kernels (not "queued"), and the first take's model does not wait for them: an
interpreted worker trains it and the engine steps it with the interpreted step kernels, then
with the compiled ones once they are in the cache, answering the right class all along. How
long it takes from an empty cache is a benchmark figure (``benchmarks/first_start.py``), not
an assertion here; the bound below only catches a preparation that never ends.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_packet import OscPacket

import gesturemap as gm
from gesturemap.live.prepare import PREPARING, SEED_KINDS, SEEDS_DIR, step_seed
from gesturemap.models import MODEL_REGISTRY
from gesturemap.models.base import with_new_names
from tests.stage_helpers import first_start_run, float_msg, free_port, read_stats

# Compiling every kernel is a minute of one core's work; on a machine shared with other jobs it
# has taken over four, so the deadlines are generous (a quiet machine waits no longer).
pytestmark = pytest.mark.timeout(660)


class _Client:
    """A Wekinator client: a sensor sending ``/wek/inputs`` at 100 Hz on a thread of its own
    (the pose it holds set by the test), control messages, and a socket for the replies."""

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.1)
        self.pose = np.zeros(2)
        self.sent = 0
        self.replies: list[tuple[float, str, list]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._sense, daemon=True),
                         threading.Thread(target=self._listen, daemon=True)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)

    def control(self, name: str, *args: float) -> None:
        self.tx.sendto(float_msg(f"/wekinator/control/{name}", *args), self.target)

    def _sense(self) -> None:
        rng = np.random.default_rng(0)
        next_t = time.perf_counter()
        while not self._stop.is_set():
            frame = self.pose + 0.05 * rng.normal(size=2)
            self.tx.sendto(float_msg("/wek/inputs", *frame), self.target)
            self.sent += 1
            next_t += 0.01
            time.sleep(max(0.0, next_t - time.perf_counter()))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.rx.recvfrom(65536)
            except TimeoutError:
                continue
            now = time.perf_counter()
            for timed in OscPacket(data).messages:  # a message, or a bundle's
                self.replies.append((now, timed.message.address, list(timed.message.params)))

    def outputs_after(self, t: float) -> list[tuple[float, str, list]]:
        return [r for r in list(self.replies) if r[1] == "/wek/outputs" and r[0] > t]


def _class_now(client: _Client, pose: tuple[float, float], since: float) -> float | None:
    """Hold ``pose`` and return the class of the last ``/wek/outputs`` answered after it."""
    client.pose = np.array(pose)
    held = time.perf_counter()
    while time.perf_counter() < held + 30 and len(client.outputs_after(held + 0.3)) < 5:
        time.sleep(0.05)
    answers = client.outputs_after(max(held + 0.3, since))
    return answers[-1][2][0] if answers else None


def test_a_new_machine_prepares_the_models_and_counts_every_frame(tmp_path):
    port = free_port()
    client = _Client(port)
    run, stats = first_start_run(tmp_path, "hhmm", port, client.rx.getsockname()[1])
    try:
        client.start()  # frames from the moment it says it listens
        seen_preparing = seen_interpreted = False
        # short takes: the first training comes while the kernels still compile (seconds of
        # work on any machine), which is the case this test is about
        for label, pose in ((1, (0.0, 0.0)), (2, (1.0, 1.0))):
            client.control("outputs", label)
            client.pose = np.array(pose)
            client.control("startRecording")
            time.sleep(0.5)
            client.control("stopRecording")
        train_sent = time.perf_counter()
        client.control("train")
        client.control("startRunning")
        deadline = train_sent + 540
        while not client.outputs_after(train_sent) and time.perf_counter() < deadline:
            now = read_stats(stats)
            progress = now.get("preparing")
            seen_preparing |= bool(progress) and progress[1].startswith(PREPARING)
            seen_interpreted |= "hhmm_step" in (now.get("interpreted_steps") or ())
            time.sleep(0.05)
        assert client.outputs_after(train_sent), "no model answered"
        # the first model answers the poses while the kernels are still being compiled...
        assert _class_now(client, (0.0, 0.0), train_sent) == 1.0
        assert _class_now(client, (1.0, 1.0), train_sent) == 2.0
        while time.perf_counter() < deadline:  # ...and, once they are, with them
            now = read_stats(stats)
            progress = now.get("preparing")
            seen_preparing |= bool(progress) and progress[1].startswith(PREPARING)
            seen_interpreted |= "hhmm_step" in (now.get("interpreted_steps") or ())
            if now.get("prepared_s") is not None and now.get("interpreted_steps") == []:
                break
            time.sleep(0.1)
        compiled = time.perf_counter()
        assert seen_preparing, "the preparation of the kernels was never reported"
        assert seen_interpreted, "the first model was not stepped while the kernels compiled"
        assert read_stats(stats).get("interpreted_steps") == [], "still interpreted after preparing"
        assert _class_now(client, (0.0, 0.0), compiled) == 1.0
        assert _class_now(client, (1.0, 1.0), compiled) == 2.0
    finally:
        client.stop()
        deadline = time.perf_counter() + 10  # the last datagrams reach the engine
        while read_stats(stats).get("frames_in") != client.sent and time.perf_counter() < deadline:
            time.sleep(0.1)
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=60)
    final = json.loads(stats.read_text())
    assert final["prepared_s"] is not None and final["prepared_s"] > 0
    assert final["frames_in"] == client.sent, (final["frames_in"], client.sent, out)
    assert final["bad_packets"] == 0 and final["dropped_frames"] == 0
    assert final["frames_out"] > 0 and final["trainings"] == 1
    # trained by the interpreted worker, not after the preparation
    assert final["trainings_interpreted"] == 1


@pytest.mark.parametrize("kind", SEED_KINDS)
def test_every_seed_steps_with_the_code_as_it_is(kind):
    """The seeds (tiny trained models the first start steps to compile a kind's step kernels
    beside its training) load and step with today's model code: a changed file format would
    leave a first start compiling the step after the training again. Rewrite them with
    ``python -c "from gesturemap.live.prepare import write_seeds; write_seeds()"``. Each
    holds today's parameter names and values (none an old name or a removed value that
    loading translates)."""
    assert step_seed(kind, bimodal=False)
    if kind in ("hhmm", "gmm"):  # the kinds that regress (HMR, GMR)
        assert step_seed(kind, bimodal=True)
    for path in SEEDS_DIR.glob(f"{kind}*.json"):
        assert gm.load(path).kind == kind
        params = json.loads(path.read_text())["params"]
        assert with_new_names(MODEL_REGISTRY[kind], params) == params, path.name
