"""Run a logged session back through a project, offline: the same pipeline and model stream
code as the engine, fed with the logged frames and their logged times, so the outputs are the
ones the session produced."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def replay_frames(project: Any, times: np.ndarray, inputs: np.ndarray) -> list[Any]:
    """Results of ``project.trained`` for every frame, as the engine computes them."""
    if project.trained is None:
        from .errors import GesturemapError

        raise GesturemapError("the project has no trained model: train it first")
    from .frame_path import FramePath, model_stream

    # the engine's frame path: its channel names, and its stream (spotting when the project's
    # model settings say so)
    path = FramePath(project, model_stream(project, project.trained))
    path.start(inputs.shape[1])
    out = []
    for t, x in zip(times, inputs, strict=True):
        out.extend((float(t), r) for r in path.step(x, float(t)))
    return out


def replay_log(log_dir: str | os.PathLike[str], project_dir: str | os.PathLike[str], *,
               out: str | os.PathLike[str] | None = None,
               events_out: str | os.PathLike[str] | None = None) -> int:
    """Replay the ``input`` stream of a session log; optionally write results as CSV, and
    the gestures spotted (with spotting on) as CSV ``t,label,score,start,end,emitted``."""
    from ._io import atomic_write_text
    from .log import read_log
    from .project import Project

    project = Project.load(project_dir)
    streams = read_log(log_dir)
    times, values, _ = streams["input"]
    results = replay_frames(project, times, values)
    if out is not None:
        labels = [str(lb) for lb in project.trained.labels_]
        lines = ["t,label," + ",".join(labels)]
        for t, r in results:
            lines.append(f"{t!r},{r.label}," + ",".join(format(v, ".17g")
                                                         for v in r.likelihoods))
        atomic_write_text(Path(out), "\n".join(lines) + "\n")
    if events_out is not None:
        lines = ["t,label,score,start,end,emitted"]
        for t, r in results:
            ev = r.event
            if ev is not None:
                lines.append(f"{t!r},{ev.label},{ev.score!r},{ev.start},{ev.end},{ev.emitted}")
        atomic_write_text(Path(events_out), "\n".join(lines) + "\n")
    return len(results)
