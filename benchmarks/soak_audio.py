"""Audio soak: the audio budget (docs/performance.md) — zero underruns at 48 kHz / 128 frames over 10 minutes,
retrains included.

Starts a JACK server with the dummy driver (no sound card; real-time priority 70 unless
``--priority`` says otherwise: ``--priority default`` starts ``jackd -R`` without ``-P``, at
JACK's own default, as a musician's setup would), runs the real engine on XMM's test
recording replayed at 200 frames/s into the built-in synth with every voice sounding, retrains
once a minute in the training process, and prints one line per minute (callbacks, underruns,
callback time p50/p99, frames, the hypervisor's steal time) and a JSON summary.

Usage: ``python benchmarks/soak_audio.py [--minutes 10] [--retrain-s 60] [--priority 70|default|N]
[--json OUT]``
(as root, for real-time priority).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _steal_ticks() -> int:
    with open("/proc/stat") as f:
        return int(f.readline().split()[8])


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--retrain-s", type=float, default=60.0, help="seconds between retrains")
    p.add_argument(
        "--priority",
        default="70",
        help="jackd's real-time priority: a number (jackd -P N) or 'default' (no -P; JACK's own)",
    )
    p.add_argument("--json", help="write the summary there too")
    args = p.parse_args(argv)
    # a kill (SIGTERM) stops the window, the engine and the JACK server it started, as the
    # end of the run does: the cleanup is in the finally blocks
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.priority != "default" and not args.priority.isdigit():
        p.error("--priority takes a number or 'default'")
    jackd = shutil.which("jackd")
    if jackd is None:
        raise SystemExit("soak_audio: jackd is missing (apt-get install jackd2)")
    name = f"gm-soak-{os.getpid()}"
    prio = [] if args.priority == "default" else ["-P", args.priority]
    server = subprocess.Popen(
        [jackd, "-R", *prio, "-n", name, "-d", "dummy", "-r", "48000", "-p", "128"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    os.environ["JACK_DEFAULT_SERVER"] = name
    import sounddevice as sd

    try:
        subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, timeout=15, capture_output=True)
        sd._terminate()
        sd._initialize()
        summary = _soak(sd, args)
        summary["jack_priority"] = args.priority
    finally:
        sd._terminate()
        server.terminate()
        out, _ = server.communicate(timeout=10)
    summary["jack_xrun_messages"] = [ln for ln in out.splitlines() if "xrun" in ln.lower()]
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    return summary


def _soak(sd, args: argparse.Namespace) -> dict:  # noqa: ANN001
    from gesturemap.live.engine import Engine
    from gesturemap.project import Project
    from gesturemap.sources.replay import ReplaySource
    from gesturemap.synth import Synth, SynthMapping

    jack = [
        i
        for i, d in enumerate(sd.query_devices())
        if d["max_output_channels"] > 0 and "JACK" in sd.query_hostapis(d["hostapi"])["name"]
    ]
    from gesturemap.bench import load_workload

    workload = load_workload()
    ds = workload.unimodal
    project = Project("soak", model={"kind": "hhmm", "params": {"states": 8}})
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    project.train()
    x = workload.test_frames
    tmp = Path(tempfile.mkdtemp(prefix="gm-soak-"))
    replay = tmp / "sensor.npz"
    np.savez(replay, X_concat=x, lengths=np.array([len(x)]), y=np.array(["test"]))
    labels = [str(lb) for lb in project.trained.labels_]
    mapping = SynthMapping.default()
    sounds = ["wood", "bell", "chime", "pluck"]
    mapping.oneshots.update({lb: sounds[i % len(sounds)] for i, lb in enumerate(labels)})
    synth = Synth(mapping, audio={"device": jack[0], "samplerate": 48000, "blocksize": 128})
    engine = Engine(
        project,
        osc_in=None,
        osc_out=("127.0.0.1", 9),
        sources=[lambda q, _: ReplaySource(q, replay, rate_hz=200.0, loop=True)],
        synth=synth,
        realtime=True,  # as gesturemap run
    )
    from gesturemap.utils.scheduling import audio_server_priority

    steal0 = _steal_ticks()
    engine.start()
    print(json.dumps({"audio_server_priority": audio_server_priority(),
                      "engine_priorities": engine.priorities}), flush=True)
    t0 = time.perf_counter()
    minutes = []
    last = {"audio_callbacks": 0, "audio_underruns": 0, "frames_out": 0}
    next_retrain = t0 + args.retrain_s
    next_report = t0 + 60.0
    end = t0 + args.minutes * 60.0
    try:
        while (now := time.perf_counter()) < end:
            if now >= next_retrain:
                engine.command("train")
                next_retrain += args.retrain_s
            if now >= next_report or now + 0.05 >= end:
                s = engine.stats()
                row = {
                    "minute": len(minutes) + 1,
                    "callbacks": s["audio_callbacks"] - last["audio_callbacks"],
                    "underruns": s["audio_underruns"] - last["audio_underruns"],
                    "frames_out": s["frames_out"] - last["frames_out"],
                    "callback_us_p50": s["callback_us_p50"],
                    "callback_us_p99": s["callback_us_p99"],
                    "trainings": s["trainings"],
                    "steal_ms": (_steal_ticks() - steal0) * 10,
                    "load_1min": os.getloadavg()[0],
                }
                last = s
                minutes.append(row)
                print(json.dumps(row), flush=True)
                next_report += 60.0
            time.sleep(0.05)
    finally:
        engine.stop()
    s = engine.stats()
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "seconds": time.perf_counter() - t0,
        "audio_callbacks": s["audio_callbacks"],
        "audio_underruns": s["audio_underruns"],
        "audio_first_underrun_callback": s["audio_first_underrun_callback"],
        "callback_us_p50": s["callback_us_p50"],
        "callback_us_p99": s["callback_us_p99"],
        "callback_us_max": s["callback_us_max"],
        "frames_out": s["frames_out"],
        "trainings": s["trainings"],
        "oneshots_played": s["oneshots_played"],
        "steal_ms": (_steal_ticks() - steal0) * 10,
        "audio_server_priority": audio_server_priority(),
        "engine_priorities": engine.priorities,
        "minutes": minutes,
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    main()
