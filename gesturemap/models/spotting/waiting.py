"""The verifier's side of a spotting stream (:class:`~.spotting.SpottingStream`): an event
the spotter emits is checked by the stream's verifier on the frames of its ring
(:meth:`VerifierQueue._verify`), at once or, with a waiting verifier, when it is due
(:func:`~.spot_verifier.due_frames`'s rule: frame by frame while stepping,
:meth:`VerifierQueue._due`; over a whole run, :meth:`VerifierQueue._verify_run`). A mixin:
the stream owns the state (``spotter``, ``_t``, ``_ring``, ``_ring_n``, ``_wait``,
``_settle``, ``_waiting``, ``_last_due``, ``verifier_dropped``, ``verifier_failures``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .verifier import NULL, context_span, due_frames, read_frame, settle_window, settled


def as_int_label(label: Any) -> Any:
    """A label as the model holds it, a numpy scalar made a plain Python one."""
    return label.item() if isinstance(label, np.generic) else label


class VerifierQueue:
    """The verifying and waiting part of :class:`~.spotting.SpottingStream`."""

    def _due(self, get: Any) -> Any:
        """The waiting event read on this frame, if one is due (:func:`due_frames`'s rule,
        frame by frame): each waiting event's settle frame noted when it comes, while it
        matters (until ``settle - wait`` frames after its emission), the first event read
        ``wait`` frames after its own (at once when that is its emission) or ``settle`` after
        its emission (``wait`` after it without ``settle``), one per frame."""
        t, still, wait, cap = self._t, None, self._wait, self._settle
        if cap:
            for w in self._waiting:
                if w[1] is None and t <= w[0].emitted + cap - wait:
                    if still is None:
                        still = settled(get(*settle_window(t)))
                    if still:
                        w[1] = t
        ev, s = self._waiting[0]
        if t < read_frame(ev.emitted, s, wait, cap):
            return None
        self._waiting.pop(0)
        self._last_due = t
        return self._verify(ev, t, get)

    def _verify(self, ev: Any, due: int, get: Any) -> Any:
        """The verifier's word on an event the spotter emitted, read at frame ``due`` through
        ``get(lo, hi)`` (the stream's frames ``lo .. hi - 1``): its frames ``start ..
        emitted`` (at most ``verifier_frames_``), the context before them and the ``wait``
        frames up to ``due`` when the verifier reads those. None (dropped), or the event
        relabelled (and emitted at ``due``). Never raises: a failure is counted and the event
        passes unverified."""
        sp = self.spotter
        v, vf = sp.verifier, sp.verifier_frames_
        shifted = dataclasses.replace(ev, emitted=due) if due != ev.emitted else ev
        try:
            label = v.check(get(max(ev.start, ev.emitted - vf + 1), ev.emitted + 1), ev.label,
                            ev.score, sp._typical.get(ev.label, 1.0),
                            get(*context_span(ev, v.context, vf)) if v.context else None,
                            get(due - v.wait + 1, due + 1) if v.wait else None)
            if label == NULL:
                self.verifier_dropped += 1
                return None
            return dataclasses.replace(shifted, label=as_int_label(sp._by_text[label]))
        except Exception:  # noqa: BLE001 - the real-time path must not stop
            self.verifier_failures += 1
            return shifted

    def _verify_run(self, events: list[Any], sequence: np.ndarray) -> list[Any]:
        """:meth:`_verify` over a run's events, each on the frames the ring would hold at
        its emission (the ring's frames before the run, then the run's); the ring then holds
        the run's last frames, as if they had been stepped."""
        ring, t0 = self._ring, self._t
        n = len(ring)
        seq = np.asarray(sequence, dtype=np.float64)
        before = min(t0, n)
        hist = np.concatenate([ring[np.arange(t0 - before, t0) % n], seq])
        h0 = t0 - before  # the stream's frame index of hist[0]

        def get(lo: int, hi: int) -> np.ndarray:
            return hist[lo - h0:hi - h0]

        every = [*self._waiting, *([ev, None] for ev in events)]
        found: list[int | None] = []
        dues = ([ev.emitted for ev, _ in every] if not self._wait else
                due_frames([ev.emitted for ev, _ in every], get, t0 + len(seq), self._wait,
                           self._settle, self._last_due, [s for _, s in every], found))
        out, waiting = [], []
        for k, ((ev, _), due) in enumerate(zip(every, dues, strict=True)):
            if due is None:  # due after this run (its settle frame kept when it came)
                waiting.append([ev, found[k] if found else None])
                continue
            self._last_due = due
            v = self._verify(ev, due, get)
            if v is not None:
                out.append(v)
        self._waiting = waiting
        last = np.arange(max(t0, t0 + len(seq) - n), t0 + len(seq))
        ring[last % n] = seq[last - t0]
        return out
