"""A dummy JACK server with PortAudio pointed at it, and the project the synth's real-stream
tests play (docs/audio.md)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

from .jack_midi import server_name, start_jackd, wait_ready


def reference_project(reference_dir: Any, name: str) -> Any:
    """XMM's reference training set as a trained HHMM project (8 states): what these tests
    play."""
    import gesturemap as gm
    from gesturemap.project import Project

    ds = gm.Dataset.from_xmm(reference_dir / "data" / "trainingset_unimodal.xmm.json")
    project = Project(name, model={"kind": "hhmm", "params": {"states": 8}})
    for rec in ds:
        project.add_take(rec.inputs, rec.label)
    project.train()
    return project


@contextlib.contextmanager
def jack_audio(priority: str | None = None, tag: str = "audio") -> Iterator[tuple[Any, int,
                                                                                  list[str]]]:
    """Start ``jackd -R`` with the dummy driver (48 kHz, 128 frames) at real-time ``priority``
    (None: JACK's own default) under a name of its own, and point PortAudio at it.

    Yields (the sounddevice module, PortAudio's index of the JACK output, the server's xrun
    messages as they come). PortAudio is terminated before the server stops (otherwise the
    process aborts) and initialised again afterwards."""
    name = server_name(f"{tag}-{priority or 'default'}")
    server = start_jackd(name, "-R", *(["-P", priority] if priority else []),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log: list[str] = []

    def read() -> None:
        for line in server.stdout:
            if "xrun" in line.lower():
                log.append(line.strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    import sounddevice as sd

    try:
        wait_ready(server, name)
        sd._terminate()  # rescan the host APIs now that the server is up
        sd._initialize()
        jack = [i for i, d in enumerate(sd.query_devices())
                if d["max_output_channels"] > 0
                and "JACK" in sd.query_hostapis(d["hostapi"])["name"]]
        assert jack, f"PortAudio sees no JACK output: {sd.query_devices()}"
        yield sd, jack[0], log
    finally:
        sd._terminate()  # before the server goes, or the process aborts
        server.terminate()
        server.wait(timeout=10)
        reader.join(timeout=5)
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        sd._initialize()
