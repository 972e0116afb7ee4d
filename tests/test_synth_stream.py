"""A real PortAudio stream: JACK with the dummy driver (no sound card), 48 kHz, 128 frames."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.synth import Synth, SynthMapping

SECONDS = 12.0


@pytest.fixture()
def jack_server():
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.fail("jackd is missing: apt-get install jackd2 (.ci/run installs it)")
    name = f"gm-synth-{os.getpid()}"
    server = subprocess.Popen(
        [jackd, "-R", "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    import sounddevice as sd

    try:
        subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, timeout=15, capture_output=True)
        sd._terminate()  # rescan the host APIs now that the server is up
        sd._initialize()
        yield sd
    finally:
        sd._terminate()  # before the server goes, or the process aborts
        server.terminate()
        server.wait(timeout=10)
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        sd._initialize()


def test_real_stream_counts_callbacks_no_underruns_through_a_retrain(jack_server, reference_dir):
    sd = jack_server
    jack = [
        i
        for i, d in enumerate(sd.query_devices())
        if d["max_output_channels"] > 0 and "JACK" in sd.query_hostapis(d["hostapi"])["name"]
    ]
    assert jack, f"PortAudio sees no JACK output: {sd.query_devices()}"
    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    model = gm.HHMM(states=8).fit(ds)
    x = np.load(reference_dir / "data" / "X_test.npy").astype(np.float64)
    names = [str(lb) for lb in model.labels_]
    mapping = SynthMapping.default()
    mapping.oneshots.update({names[0]: "wood", names[1]: "bell"})
    synth = Synth(mapping, audio={"device": jack[0], "samplerate": 48000, "blocksize": 128})
    stop = threading.Event()
    frames = [0]

    def engine() -> None:  # the engine thread's part: one step and one update per frame
        stream = model.stream()
        period = 1 / 200
        t_next = time.perf_counter()
        while not stop.is_set():
            r = stream.step(x[frames[0] % len(x)])
            synth.update(r, names)
            frames[0] += 1
            t_next += period
            time.sleep(max(0.0, t_next - time.perf_counter()))

    from gesturemap.models.training import Trainer

    with Trainer("process") as trainer:
        trainer.start_worker()
        synth.start()
        t0 = time.perf_counter()
        worker = threading.Thread(target=engine, daemon=True)
        worker.start()
        try:
            time.sleep(SECONDS / 2)
            job = trainer.train(gm.HHMM(states=10), ds)  # a retrain in the middle
            job.result(timeout=30)
            time.sleep(max(0.0, SECONDS - (time.perf_counter() - t0)))
        finally:
            stop.set()
            worker.join(5)
            elapsed = time.perf_counter() - t0
            stats = synth.stats()
            synth.stop()
    expected = elapsed * 48000 / 128
    assert stats["audio_callbacks"] == pytest.approx(expected, rel=0.05), stats
    # the target is 0 (DESIGN.md); on the shared 2-core CI machine, with other test runs
    # competing for the cores, a few xruns in 4500 blocks happen: allow 0.2 %, report the rest
    assert stats["audio_underruns"] <= 0.002 * stats["audio_callbacks"], repr(stats)
    assert stats["audio_startup_underruns"] <= 1, repr(stats)  # JACK connecting the ports
    assert stats["audio_callback_errors"] == 0
    assert stats["synth_update_errors"] == 0
    assert frames[0] >= 0.9 * 200 * SECONDS
    assert stats["callback_us_p99"] < 2666, stats  # within one 128-frame block
