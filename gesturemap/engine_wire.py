"""What the engine sends for a frame beyond the plain path: a lean stream's frames (the reply
sent from the stream's own arrays, no :class:`gesturemap.models.base.Result` built per frame),
Wekinator's DTW messages and spotted gestures.

A mixin of :class:`gesturemap.engine.Engine`, run on the frame path (frame lock held).
"""

from __future__ import annotations

from typing import Any


class FrameWire:
    """The frame path's sending (mixed into :class:`gesturemap.engine.Engine`)."""

    output: Any
    path: Any
    synth: Any
    _model_labels: list[Any]
    session_log: Any
    frames_out: int
    events_spotted: int
    recent_events: Any
    _labels: list[str]
    _class_numbers: Any
    _log_likelihoods: bool
    _dtw_last: int
    _dtw_values: Any
    _dtw_positions: Any
    _dtw_addresses: list[str]
    _match_address: dict[str, str]

    def _lean(self, stream: Any, feats: Any, t_in: float, slog: Any) -> None:
        """Feature frames through a lean stream (a classifier with no event nor estimate,
        nothing reading every result: no sink nor DTW wire; the synth takes the arrays): the
        label's index from ``advance``, the reply encoded from the stream's own arrays, and the
        Result built only when someone reads it (the window's snapshot,
        :attr:`Engine.last_result`). The bytes sent, the synth's targets and the rows logged
        are those of the plain path."""
        output = self.output
        path = self.path
        numbers = self._class_numbers
        labels = stream.labels
        synth = self.synth
        lik, progress = stream.views()  # the stream's own arrays: each frame overwrites them
        for f in feats:
            i = stream.advance(f)
            if output.send_class_arrays(labels[i], i, numbers[i], lik, progress):
                path.stale = True
            else:  # below reject_below, beyond float32, no class templates: the plain send
                r = stream.current()
                path.set_result(r)
                output.send(r, numbers[i])
            if synth is not None:
                synth.update_arrays(i, lik, progress, self._model_labels)
            self.frames_out += 1
            if slog is not None:
                if self._log_likelihoods:
                    slog.write("likelihoods", t_in, lik)
                slog.label(t_in, self._labels[i])

    def _send_dtw(self, r: Any) -> None:
        """Wekinator's DTW messages for one frame: the match message first, edge-triggered
        (sent when the matched gesture changes to another one, as Wekinator's DtwModel fires
        its currentMatch property change), then the distances on /wek/outputs."""
        match = r.label_index if r.match is not None else -1
        if match != self._dtw_last:
            self._dtw_last = match
            if match >= 0:
                self.output.send_message(self._dtw_addresses[match])
        values = self._dtw_values
        values[self._dtw_positions] = r.distances
        self.output.send(r, self._class_numbers[r.label_index], values)
    def _spotted(self, t: float, ev: Any, slog: Any) -> None:
        """A gesture was spotted at this frame: OSC (the gesture's Wekinator match message,
        ``/output_N`` unless ``outputs.gesture_messages`` names another, then
        ``/gesturemap/event label score``), log, window (the synth saw it in the result)."""
        label = str(ev.label)
        address = self._match_address.get(label)
        if address:  # Wekinator's DTW message first (what its example clients listen for)
            self.output.send_message(address)
        self.output.send_event(label, ev.score)
        self.events_spotted += 1
        self.recent_events.append((t, label, float(ev.score)))
        if slog is not None:
            slog.event(t, "gesture", label=label, score=float(ev.score),
                       start=int(ev.start), end=int(ev.end), emitted=int(ev.emitted))
