"""One frame's way from sensor values to results, shared by the live engine and by replay.

:class:`FramePath` holds the two pieces of run-time state a frame goes through — the feature
pipeline's state and the model's stream — and the rules that build them from a project: the
channel names (:func:`channel_names`, the same in the plot, the session log and the features),
and the stream the project asks for (:func:`model_stream`: with spotting on, a spotting stream).
The engine (:class:`gesturemap.live.engine.Engine`) and offline replay
(:func:`gesturemap.live.replay.replay_frames`) both run frames through it, so a logged session
replays to the outputs it produced by construction, not by keeping two loops alike.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..features.pipeline import all_below

__all__ = ["FramePath", "channel_names", "load_output_check", "model_stream"]


def channel_names(project: Any, input_dim: int) -> list[str]:
    """The names of a project's ``input_dim`` input channels: its own when it names that many,
    else ``in1 … inN`` (the names sources, the window's plot, the log and features share)."""
    names = list(getattr(project, "input_names", None) or [])
    if len(names) == input_dim:
        return [str(n) for n in names]
    return [f"in{i + 1}" for i in range(input_dim)]


def model_stream(project: Any, model: Any, *, warm: bool = False) -> Any:
    """The stream a project runs ``model`` with: with a ``spotting`` model setting, a stream
    that also spots gestures (``Result.event``); else the model's own stream. ``warm`` loads
    the spotter's kernels now (never do it on the frame path)."""
    if model is None:
        return None
    spotting = (getattr(project, "model", None) or {}).get("spotting")
    if spotting is None:
        return model.stream()
    from ..models.spotting.core import spotting_stream

    return spotting_stream(model, spotting, warm=warm)


def load_output_check() -> None:
    """Load the kernel that checks a regression output for NaN and infinities
    (:meth:`FramePath.answer`) now, off the frame path. A Result's arrays are read-only, and
    numba keeps a read-only array's specialisation of a kernel apart from a writable one's
    (which the pipeline loads as it starts): left to the first frame a regression answered,
    its load from numba's cache held that frame 4-8 ms, behind a model loading its own
    kernels on another thread (a scene's) up to 66 ms."""
    frozen = np.zeros(1)
    frozen.flags.writeable = False
    all_below(frozen, math.inf)


class FramePath:
    """Pipeline state and model stream of one run (engine thread only; not thread-safe).

    ``start(input_dim)`` (re)starts the pipeline; ``stream`` is the model stream (None: no
    model); ``push(values, t)`` gives the feature frames of one sensor frame; ``step(values,
    t)`` the results of one sensor frame (features, then the stream, as the engine runs them).

    The last frame's result: the engine either hands it over (:meth:`set_result`) or, with a
    lean stream that built none, marks it due (``stale``) and :meth:`result` builds it from the
    stream when someone reads it, before the stream changes (another stream, a reset).
    """

    __slots__ = ("project", "state", "_stream", "stale", "last", "nonfinite_outputs", "_good")

    def __init__(self, project: Any, stream: Any = None) -> None:
        self.project = project
        #: the feature pipeline's run-time state (None until started)
        self.state: Any = None
        self._stream: Any = stream
        #: True: the last frame's Result is the stream's to build (:meth:`result`)
        self.stale = False
        #: the last Result built or handed over (None before the first frame)
        self.last: Any = None
        #: regression outputs that were NaN or infinite, each channel held at its last number
        self.nonfinite_outputs = 0
        self._good: np.ndarray | None = None  # the last output that was all numbers

    @property
    def stream(self) -> Any:
        """The model stream frames go through (None: no model)."""
        return self._stream

    @stream.setter
    def stream(self, stream: Any) -> None:
        self.result()  # the old stream's last frame, while it still holds it
        self._stream = stream

    def result(self) -> Any:
        """The last frame's Result (built now if it is due)."""
        if self.stale:
            self.stale = False
            self.last = self._stream.current()
        return self.last

    def set_result(self, result: Any) -> None:
        self.stale = False
        self.last = result

    def reset_stream(self) -> None:
        """Reset the stream (a gesture starts), its last frame's result kept first."""
        if self._stream is not None:
            self.result()
            self._stream.reset()

    def start(self, input_dim: int) -> None:
        """Start the project's pipeline for frames of ``input_dim`` values."""
        self.state = self.project.pipeline.start(input_dim, channel_names(self.project,
                                                                          input_dim))

    def push(self, values: np.ndarray, t: float) -> Any:
        """The feature frames of one sensor frame (raises GesturemapError on a bad frame)."""
        return self.state.push(values, t)

    def answer(self, feature_frame: Any) -> Any:
        """One feature frame through the stream: its Result, kept as the last one. The one
        place that steps a stream on the plain path, for the engine and for replay alike (the
        lean path's ``advance`` answers the same, from the stream's arrays)."""
        r = self._stream.step(feature_frame)
        out = r.output
        if out is not None:
            if all_below(out, math.inf):  # False only for a NaN or an infinity
                self._good = out  # a Result's arrays are its own: no later frame writes them
            else:
                r = self._held(r, out)
        self.stale = False
        self.last = r
        return r

    def _held(self, r: Any, out: np.ndarray) -> Any:
        """``r`` with its output's NaN or infinite values replaced by their channel's last
        number (0 before any): a synth or patch given a NaN can go silent for good (a
        smoothing filter keeps it), and a regression yields one only at absurd inputs (a
        high-degree polynomial far outside its takes)."""
        self.nonfinite_outputs += 1
        good = self._good
        if good is None or good.shape != out.shape:
            good = np.zeros(out.shape)
        return dataclasses.replace(r, output=np.where(np.isfinite(out), out, good))

    def step(self, values: np.ndarray, t: float) -> list[Any]:
        """The results of one sensor frame: each of its feature frames :meth:`answer`-ed."""
        return [self.answer(f) for f in self.state.push(values, t)]
