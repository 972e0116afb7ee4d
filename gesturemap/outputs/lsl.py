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

The layout is taken from the first frame a model answers; a retrain that changes it (a class
added) opens a new stream with the new layout (once, between two frames). Pushing a sample
does not block (LSL buffers it) and never raises on the frame path.

Another outlet of the same name already on the network (a second gesturemap, a copy of the
project run beside it: the same source id too) is said in the log as the output starts,
looked for on a thread of its own: LabRecorder and an inlet resolving by name cannot tell the
two apart, and one recording could hold either.
"""

from __future__ import annotations

import logging
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

    def stats(self) -> dict[str, Any]:
        return {
            "lsl_samples": self.samples,
            "lsl_markers": self.markers,
            "lsl_send_errors": self.send_errors,
        }

    def _open_outlet(self, labels: Sequence[Any], progress: bool, distances: bool,
                     outputs: int) -> None:
        pylsl = self._pylsl
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
        names += [f"output:{n}" for n in out_names]
        info = pylsl.StreamInfo(
            self.name,
            "Gesturemap",
            len(names),
            pylsl.IRREGULAR_RATE,
            pylsl.cf_float32,
            self.source_id,
        )
        channels = info.desc().append_child("channels")
        for n in names:
            channels.append_child("channel").append_child_value("label", n)
        retiring = self._outlet is not None
        if retiring:
            # releasing an outlet waits on liblsl (25 ms measured): never on the frame path.
            # The list holds the only reference once the new outlet has replaced it (no
            # local here keeps it), and a thread of its own empties it
            self._retired.append(self._outlet)
        self._outlet = pylsl.StreamOutlet(info)
        self._buf = np.zeros(len(names), dtype=np.float32)
        if retiring:
            threading.Thread(target=self._retired.clear, name="gesturemap-lsl-release",
                             daemon=True).start()

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
            self._layout = layout
            self._open_outlet(*layout)
            self._last_label = None
        buf = self._buf
        c = k = len(lik)
        buf[:k] = lik
        for per_class in (prog, dist):
            if per_class is not None:
                buf[k : k + c] = per_class
                k += c
        if out is not None:
            buf[k : k + n_out] = out
        self._outlet.push_sample(buf)
        self.samples += 1
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
