"""What the engine shows the world between two frames: one frozen :class:`EngineSnapshot`.

The engine thread builds a snapshot between two frames (so its fields agree with each other)
about 30 times a second and publishes it in a latest-value slot, ``engine.snapshot``: one
reference, replaced whole, never changed in place. Readers on any thread — the window's timer,
the window's engine-process link, a monitor — take the reference and read a consistent state
without locks and without ever touching the frame path. Across processes the snapshot crosses
whole as a dict (:meth:`EngineSnapshot.to_message` / :meth:`EngineSnapshot.from_message`, in
the wire format of :mod:`gesturemap.live.codec`).

Streams of new data (input frames for the plot, spotted events, project edits) are not part of
a snapshot: they are appended elsewhere and sent incrementally.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["EngineSnapshot"]


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """The engine's state at one moment between two frames (read-only)."""

    #: whether the model answers frames
    running: bool = False
    #: whether a take is being recorded
    recording: bool = False
    #: the label new takes are recorded under (a class number from Wekinator's /outputs, a
    #: label from the window) or None
    current_label: Any = None
    #: the trained model's labels, in its ``labels_`` order; None without a model
    labels: tuple[Any, ...] | None = None
    #: the last frame's result (a :class:`gesturemap.models.base.Result`) or None
    last_result: Any = None
    frames_in: int = 0
    frames_out: int = 0
    #: gestures spotted so far
    events_spotted: int = 0
    trainings: int = 0
    last_train_ms: float | None = None
    #: what the running model's training warned about (e.g. a GVF class's uneven takes)
    train_warnings: tuple[str, ...] = ()
    #: the training under way: (fraction done, message), or None
    training_progress: tuple[float, str] | None = None
    errors: int = 0
    #: project edits the engine applied so far (takes, classes, labels)
    edits: int = 0
    #: start and stop recording commands applied so far, from any sender
    record_commands: int = 0
    #: where OSC results go, and how many sends failed
    output_host: str = "127.0.0.1"
    output_port: int = 12000
    output_send_errors: int = 0
    #: time.perf_counter() of the engine's process when the snapshot was taken
    taken_at: float = 0.0

    def to_message(self, result: Any = None) -> dict[str, Any]:
        """The snapshot as a plain dict for :func:`gesturemap.live.codec.encode`; the result goes
        as ``result`` (already converted by the caller: it holds arrays and an event)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["labels"] = None if self.labels is None else list(self.labels)
        d["training_progress"] = (None if self.training_progress is None
                                  else list(self.training_progress))
        d["train_warnings"] = list(self.train_warnings)
        d["last_result"] = result
        return d

    @classmethod
    def from_message(cls, d: dict[str, Any], result: Any = None) -> EngineSnapshot:
        """The inverse of :meth:`to_message` (unknown keys are ignored: a newer engine may
        send more)."""
        known = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if kw.get("labels") is not None:
            kw["labels"] = tuple(kw["labels"])
        if kw.get("training_progress") is not None:
            fraction, message = kw["training_progress"]
            kw["training_progress"] = (float(fraction), str(message))
        kw["train_warnings"] = tuple(str(w) for w in kw.get("train_warnings") or ())
        kw["last_result"] = result
        return cls(**kw)
