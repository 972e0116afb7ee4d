"""The engine as the window drives it: project edits as engine commands, and an input tap.

The engine is the one owner of the project (DESIGN.md, "Data flow and threads"): the window
never changes it from the GUI thread. :class:`WindowEngine` adds the edits the window needs
(classes, takes, model settings, save) as ordinary engine commands, run on the engine thread
between two frames, and keeps the last few seconds of input in a ring that the window's timer
reads to plot. Nothing here blocks the frame path: the ring write is one row copy, and files
are written by the engine's I/O thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import Engine

__all__ = ["InputRing", "TakeRef", "WindowEngine"]


class TakeRef:
    """A take as the undo stack knows it: its current id, and its data once removed.

    Undoing a deletion puts the data back under a new id; the engine thread updates the
    reference, and later commands (redo, relabel) read it on that same thread, in order.
    """

    def __init__(self, take_id: str) -> None:
        self.id = take_id
        self.take: Any = None


class InputRing:
    """The latest frames' values and times, for plotting.

    Written by the engine thread only; read by the GUI timer. A reader may see one row being
    written (a plot glitch for one frame, never a crash): the arrays never change size.

    Parameters
    ----------
    capacity : int
        Frames kept (e.g. 1000 = 10 s at 100 Hz).
    """

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self.values: np.ndarray | None = None  # (capacity, D), allocated at the first frame
        self.times = np.zeros(capacity)
        self.count = 0  # frames written since the start (the next row is count % capacity)

    def push(self, t: float, values: np.ndarray) -> None:
        if self.values is None or self.values.shape[1] != len(values):
            self.values = np.zeros((self.capacity, len(values)))
            self.count = 0
        i = self.count % self.capacity
        self.values[i] = values
        self.times[i] = t
        self.count += 1

    def latest(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The last ``n`` frames, oldest first: times (n,) and values (n, D) (copies)."""
        values = self.values
        count = self.count
        if values is None or count == 0:
            return np.zeros(0), np.zeros((0, 0))
        n = min(n or self.capacity, count, self.capacity)
        idx = (np.arange(count - n, count)) % self.capacity
        return self.times[idx].copy(), values[idx].copy()


class WindowEngine(Engine):
    """:class:`~gesturemap.engine.Engine` plus the window's project edits as commands.

    Every ``_cmd_*`` below runs on the engine thread (send them with
    :meth:`Engine.command`); with a project folder, each edit is saved at once by the I/O
    thread, so a crash never loses more than the last frame.

    Parameters
    ----------
    project, **kwargs
        As for :class:`~gesturemap.engine.Engine`.
    ring_frames : int, default 1000
        Input frames kept for the window's plot.
    """

    def __init__(self, project: Any, *, ring_frames: int = 1000, **kwargs: Any) -> None:
        super().__init__(project, **kwargs)
        self.ring = InputRing(ring_frames)
        #: Incremented after every project edit the engine applied (takes, classes, labels).
        self.edits = 0

    def _frame(self, frame: Any) -> None:
        self.ring.push(frame.t, frame.values)
        super()._frame(frame)

    def _edited(self) -> None:
        self.edits += 1
        self._autosave()

    def _cmd_stop_recording(self) -> None:
        before = len(self.project.takes)
        super()._cmd_stop_recording()
        if len(self.project.takes) != before:
            self.edits += 1  # the engine saved the take itself

    def _cmd_add_class(self, label: Any) -> None:
        self.project.add_class(label)
        self._edited()

    def _cmd_rename_class(self, old: Any, new: Any) -> None:
        """Give class ``old`` the name ``new``: its takes are relabelled, its place kept."""
        classes = self.project.classes
        if new in classes:
            raise KeyError(f"a class {new!r} exists already")
        for take in self.project.takes:
            if take.label == old:
                self.project.relabel_take(take.id, new)
        self.project.add_class(new)
        self.project.remove_class(old)
        # keep the display order: move the new name to the old one's place
        order = [new if c == old else c for c in classes]
        self.project._classes = order  # only the order changes
        if self.current_label == old:
            self.current_label = new
        self._edited()

    def _cmd_remove_class(self, label: Any) -> None:
        self.project.remove_class(label, remove_takes=True)
        if self.current_label == label:
            self.current_label = None
        self._edited()

    def _cmd_remove_take(self, ref: TakeRef) -> None:
        ref.take = self.project.remove_take(ref.id)
        self._edited()

    def _cmd_restore_take(self, ref: TakeRef) -> None:
        """Put a removed take's data back (undo); it gets a new id, written into ``ref``."""
        take = ref.take
        new = self.project.add_take(take.inputs, take.label, times=take.times, outputs=take.outputs)
        ref.id = new.id
        if self.project_dir is not None:
            folder = self.project_dir
            self._io.put(lambda: self.project.save_take(folder, new))
        self._edited()

    def _cmd_relabel_take(self, ref: TakeRef, label: Any) -> None:
        self.project.relabel_take(ref.id, label)
        self._edited()

    def _cmd_set_model_settings(self, settings: dict[str, Any]) -> None:
        self.project.model = settings
        self._edited()

    def _cmd_set_output_settings(self, settings: dict[str, Any]) -> None:
        from ..outputs.osc import OSCOutput

        self.project.outputs = settings
        old, self.output = self.output, OSCOutput(settings)
        old.close()
        self._edited()

    def _cmd_save(
        self,
        folder: str | Path,
        done: threading.Event | None = None,
        errors: list[BaseException] | None = None,
    ) -> None:
        """Save the project into ``folder`` (on the I/O thread) and autosave there from now."""
        folder = Path(folder)

        def job() -> None:
            try:
                self.project.save(folder)
            except Exception as exc:
                if errors is not None:
                    errors.append(exc)
                raise
            finally:
                if done is not None:
                    done.set()

        self.project_dir = folder
        self._io.put(job)
