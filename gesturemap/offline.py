"""Run a logged session back through a project, offline: the same pipeline and model stream
code as the engine, fed with the logged frames and their logged times, so the outputs are the
ones the session produced.

The live stream is reset where a gesture starts (``/gesturemap/reset``, a take, running
started, an onset); a log that records those resets as ``reset`` events (data ``frame``: the
index of the first ``input`` row after the reset) replays them at the same frame, so the labels
after a reset are the live ones too. A ``reset`` event without ``frame`` is placed by its time
(before the first frame logged after it)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

#: The event kind of a stream reset in a session log (see the module's docstring).
RESET = "reset"


def replay_frames(project: Any, times: np.ndarray, inputs: np.ndarray,
                  resets: Iterable[int] = ()) -> list[Any]:
    """``(t, Result)`` of ``project.trained`` for every frame, as the engine computes them.

    ``resets``: indices of the frames before which the stream is reset (a gesture starts).
    """
    if project.trained is None:
        from .errors import GesturemapError

        raise GesturemapError("the project has no trained model: train it first")
    from .frame_path import FramePath, model_stream

    # the engine's frame path: its channel names, and its stream (spotting when the project's
    # model settings say so)
    path = FramePath(project, model_stream(project, project.trained))
    path.start(inputs.shape[1])
    at = {int(i) for i in resets}
    out = []
    for i, (t, x) in enumerate(zip(times, inputs, strict=True)):
        if i in at:
            path.reset_stream()
        out.extend((float(t), r) for r in path.step(x, float(t)))
    return out


def log_resets(log_dir: str | os.PathLike[str], times: np.ndarray) -> list[int]:
    """The ``input`` rows of a session log before which the live stream was reset (see the
    module's docstring); ``times`` are the ``input`` stream's times."""
    from .log import read_events

    frames = []
    for event in read_events(log_dir):
        if event.kind != RESET:
            continue
        frame = event.data.get("frame")
        if isinstance(frame, int) and not isinstance(frame, bool) and frame >= 0:
            frames.append(frame)
        else:  # placed by its time: before the first frame logged after it
            frames.append(int(np.searchsorted(times, event.t, side="right")))
    return sorted(set(frames))


def _csv_row(fields: Iterable[Any]) -> str:
    """One CSV line (labels may hold commas, quotes or line breaks: quoted as CSV does)."""
    from .log import _csv_field

    return ",".join(_csv_field(str(f)) for f in fields)


def replay_log(log_dir: str | os.PathLike[str], project_dir: str | os.PathLike[str], *,
               out: str | os.PathLike[str] | None = None,
               events_out: str | os.PathLike[str] | None = None) -> int:
    """Replay the ``input`` stream of a session log; optionally write results as CSV, and
    the gestures spotted (with spotting on) as CSV ``t,label,score,start,end,emitted``."""
    from ._io import atomic_write_text
    from .errors import FormatError
    from .log import read_log
    from .project import Project

    project = Project.load(project_dir)
    streams = read_log(log_dir)
    if "input" not in streams:
        raise FormatError(f"{log_dir} has no 'input' stream to replay (its streams: "
                          f"{', '.join(sorted(streams)) or 'none'}).")
    times, values, _ = streams["input"]
    results = replay_frames(project, times, values, log_resets(log_dir, times))
    if out is not None:
        labels = [str(lb) for lb in project.trained.labels_]
        lines = [_csv_row(["t", "label", *labels])]
        for t, r in results:
            lines.append(_csv_row([repr(t), r.label, *map(repr, map(float, r.likelihoods))]))
        atomic_write_text(Path(out), "\n".join(lines) + "\n")
    if events_out is not None:
        lines = ["t,label,score,start,end,emitted"]
        for t, r in results:
            ev = r.event
            if ev is not None:
                lines.append(_csv_row([repr(t), ev.label, repr(float(ev.score)), ev.start, ev.end,
                                       ev.emitted]))
        atomic_write_text(Path(events_out), "\n".join(lines) + "\n")
    return len(results)
