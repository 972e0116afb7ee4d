"""Lab Streaming Layer output: the model's answers and its labels, for LabRecorder.

Two streams, so LabRecorder records them beside EEG or motion capture on one clock:

- ``NAME`` (default ``gesturemap``), type ``Gesturemap``: one float sample per frame — each
  class's likelihood, each class's progress (temporal models), each gesture's distance (DTW:
  what its ``/wek/outputs`` sends), each regression output — channels labelled
  ``likelihood:CLASS``, ``progress:CLASS``, ``distance:CLASS``, ``output:NAME`` in its
  description;
- ``NAME-markers``, type ``Markers``: a text marker at each change of the class the outputs
  send (its label; an empty marker when they send no class: a frame below the project's
  ``reject_below``, a DTW frame that matches no gesture, as ``/gesturemap/label`` is empty
  then, :mod:`.rejection`) and at each spotted gesture (``event:LABEL``).

The layout is taken from the first frame a model answers; a retrain or a scene recalled that
changes it (a class added or renamed) opens a new stream with the new layout. Opening an outlet
waits on liblsl (1 to 17 ms measured on a loaded machine), so it is opened on a thread of its
own: the frames answered meanwhile are held, with the time they were answered, and pushed
with those time stamps into the new outlet once it is open (at most :data:`HELD_SAMPLES`;
more are counted in ``lsl_dropped``). Pushing a sample does not block (LSL buffers it) and
never raises on the frame path.

Another outlet of the same name already on the network (a second gesturemap, a copy of the
project run beside it: the same source id too) is said in the log as the output starts,
looked for on a thread of its own: LabRecorder and an inlet resolving by name cannot tell the
two apart, and one recording could hold either.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..utils.faults import RateLimitedLog
from .rejection import rejected

__all__ = ["LSLOutput", "stream_name"]

log = logging.getLogger("gesturemap.outputs.lsl")

PREFIX = "gesturemap"
#: Seconds spent looking for another outlet of the same name as the output starts.
CLASH_LOOK_S = 1.0
#: Samples held while a new layout's outlet opens (seconds of frames at any sensor rate).
HELD_SAMPLES = 2000


def stream_name(name: str | None) -> str:
    """The outlet's name: ``name`` if it starts with "gesturemap", else "gesturemap-NAME"."""
    text = (name or PREFIX).strip() or PREFIX
    return text if text.startswith(PREFIX) else f"{PREFIX}-{text}"


class LSLOutput:
    """Publishes results as LSL streams; the engine calls :meth:`update` once per frame.

    Parameters
    ----------
    name : str, optional
        The stream's name (see :func:`stream_name`).
    output_names : sequence of str
        The regression outputs' names (channel labels).
    source_id : str
        LSL's source id (the project's uid): a recorder reconnects to the same stream after a
        restart.
    """

    #: the project's ``outputs.reject_below``, set by the engine with its OSC output: below
    #: it a classifier's frame chose no class, and the markers say so as OSC does
    reject_below = 0.0

    def __init__(
        self,
        name: str | None = None,
        *,
        output_names: Sequence[str] = (),
        source_id: str = "gesturemap",
    ) -> None:
        self.name = stream_name(name)
        self.output_names = [str(n) for n in output_names]
        self.source_id = str(source_id)
        self._pylsl: Any = None
        self._outlet: Any = None
        self._retired: list[Any] = []  # outlets replaced, released off the frame path
        # the layout the frames have now (numbered), and outlets opened for a layout by a
        # thread of their own, handed to the frame path: (number, outlet)
        self._generation = 0
        self._opened: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
        # (sample, time) of the frames answered while the current layout's outlet opens
        self._held: list[tuple[np.ndarray, float]] | None = None
        self.dropped = 0
        self._markers: Any = None
        self._layout: tuple[Any, ...] | None = None
        self._last_label: int | None = None
        self.samples = 0
        self.markers = 0
        self.send_errors = 0
        self._errlog = RateLimitedLog(log)

    def start(self) -> LSLOutput:
        """Open the markers stream (the data stream opens at the first answer)."""
        try:
            import pylsl
        except (ImportError, RuntimeError) as exc:
            raise GesturemapError(f"LSL needs pylsl with its liblsl ({exc})") from exc
        self._pylsl = pylsl
        info = pylsl.StreamInfo(
            f"{self.name}-markers",
            "Markers",
            1,
            pylsl.IRREGULAR_RATE,
            pylsl.cf_string,
            f"{self.source_id}-markers",
        )
        self._markers = pylsl.StreamOutlet(info)
        # the data stream opens again at the next answer: after a stop() its outlet is gone
        # (a layout kept from before pushed every later frame into no outlet, as errors)
        self._layout = None
        self._last_label = None
        own = self._markers.get_info().uid()
        threading.Thread(target=self._say_clash, args=(own,), name="gesturemap-lsl-clash",
                         daemon=True).start()
        return self

    def _say_clash(self, own_uid: str) -> None:
        """Log another markers outlet of this output's name (off the frame path: LSL's
        discovery takes up to :data:`CLASH_LOOK_S`)."""
        try:
            found = self._pylsl.resolve_byprop("name", f"{self.name}-markers", minimum=2,
                                               timeout=CLASH_LOOK_S)
        except Exception as exc:  # noqa: BLE001 - a look that failed says nothing more
            log.debug("LSL out: looking for another %r failed: %s", self.name, exc)
            return
        others = [i for i in found if i.uid() != own_uid]
        if not others:
            return
        other = others[0]
        same = (" and the same source id (a copy of this project?)"
                if other.source_id() == f"{self.source_id}-markers" else "")
        log.warning("LSL out: another stream called %r is on the network (from %s%s): a "
                    "recorder cannot tell the two apart; give --lsl-out another name",
                    self.name, other.hostname(), same)

    def stop(self) -> None:
        """Close both streams (:meth:`start` opens them again)."""
        self._outlet = self._markers = None  # pylsl closes an outlet when it is released
        self._generation += 1  # an outlet opening now is for no layout any more
        self._held = None

    def stats(self) -> dict[str, Any]:
        return {
            "lsl_samples": self.samples,
            "lsl_markers": self.markers,
            "lsl_send_errors": self.send_errors,
            "lsl_dropped": self.dropped,
        }

    def _channel_names(self, labels: Sequence[Any], progress: bool, distances: bool,
                       outputs: int) -> list[str]:
        names = [f"likelihood:{c}" for c in labels]
        if progress:
            names += [f"progress:{c}" for c in labels]
        if distances:
            names += [f"distance:{c}" for c in labels]
        out_names = (
            self.output_names
            if len(self.output_names) == outputs
            else [f"out{k + 1}" for k in range(outputs)]
        )
        return names + [f"output:{n}" for n in out_names]

    def _new_layout(self, layout: tuple[Any, ...]) -> None:
        """The frames have another layout (frame path): its outlet opens on a thread of its
        own; the frames wait in :attr:`_held` meanwhile."""
        self._layout = layout
        self._generation += 1
        names = self._channel_names(*layout)
        self._buf = np.zeros(len(names), dtype=np.float32)
        # frames held for a layout left before its outlet opened go nowhere: counted
        self.dropped += len(self._held or ())
        self._held = []
        if self._outlet is not None:
            self._retired.append(self._outlet)
            self._outlet = None
            self._release()
        threading.Thread(target=self._open_outlet, args=(self._generation, names),
                         name="gesturemap-lsl-open", daemon=True).start()

    def _open_outlet(self, generation: int, names: list[str]) -> None:
        """Open the data outlet of channels ``names`` (its own thread), for the frame path."""
        pylsl = self._pylsl
        try:
            info = pylsl.StreamInfo(self.name, "Gesturemap", len(names), pylsl.IRREGULAR_RATE,
                                    pylsl.cf_float32, self.source_id)
            channels = info.desc().append_child("channels")
            for n in names:
                channels.append_child("channel").append_child_value("label", n)
            self._opened.put((generation, pylsl.StreamOutlet(info)))
        except Exception as exc:  # noqa: BLE001 - said; the frames stay held, then dropped
            self._errlog("open", "LSL out: could not open the stream %r: %s", self.name, exc)

    def _release(self) -> None:
        """Release the outlets in :attr:`_retired` on a thread: releasing waits on liblsl (25
        ms measured). Their callers drop their own references first: the list holds the only
        ones, and the thread empties it."""
        threading.Thread(target=self._retired.clear, name="gesturemap-lsl-release",
                         daemon=True).start()

    def _take_opened(self) -> None:
        """An outlet opened for the frames' layout: sends from now on, the frames held
        meanwhile pushed first with their own times (one opened for a layout left: released)."""
        generation, self._outlet = self._opened.get_nowait()
        if generation != self._generation:
            self._retired.append(self._outlet)
            self._outlet = None
            self._release()
            return
        held, self._held = self._held or [], None
        for sample, stamp in held:
            self._outlet.push_sample(sample, stamp)
            self.samples += 1

    def update(self, result: Any, labels: Sequence[Any] = ()) -> None:
        """Push one frame's answer (and a marker when the class changes); never raises."""
        if self._markers is None:
            return
        try:
            self._update(result, labels)
        except Exception as exc:  # noqa: BLE001 - the frame path never raises
            self.send_errors += 1
            self._errlog("update", "LSL out: %s", exc)

    def _update(self, result: Any, labels: Sequence[Any]) -> None:
        lik = result.likelihoods
        prog = result.progress
        dist = getattr(result, "distances", None)
        out = result.output
        n_out = 0 if out is None else len(out)
        layout = (tuple(labels), prog is not None, dist is not None, n_out)
        if layout != self._layout:
            self._new_layout(layout)
            self._last_label = None
        if not self._opened.empty():
            self._take_opened()
        buf = self._buf
        c = k = len(lik)
        buf[:k] = lik
        for per_class in (prog, dist):
            if per_class is not None:
                buf[k : k + c] = per_class
                k += c
        if out is not None:
            buf[k : k + n_out] = out
        held = self._held
        if held is None:
            self._outlet.push_sample(buf)
            self.samples += 1
        elif len(held) < HELD_SAMPLES:
            held.append((buf.copy(), self._pylsl.local_clock()))
        else:
            self.dropped += 1
        # the class sent (-1: none), so a recording's markers tell what the audience heard
        idx = -1 if rejected(result, self.reject_below) else int(result.label_index)
        if idx != self._last_label and out is None:
            self._last_label = idx
            self._markers.push_sample(["" if idx < 0 else
                                       str(labels[idx]) if idx < len(labels) else str(idx)])
            self.markers += 1
        event = getattr(result, "event", None)
        if event is not None:
            self._markers.push_sample([f"event:{event.label}"])
            self.markers += 1
