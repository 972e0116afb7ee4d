"""What the engine sends for a frame beyond the plain path: a lean stream's frames (the reply
sent from the stream's own arrays, no :class:`gesturemap.models.base.Result` built per frame),
the compiled path's (:mod:`gesturemap.live.compiled`: datagram to reply in one compiled call),
Wekinator's DTW messages and spotted gestures.

A mixin of :class:`gesturemap.live.engine.Engine`, run on the frame path (frame lock held).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from ..features.pipeline import PipelineState
from ..models.base import Result, load_kernels
from ..models.interpreted import kernel_cached
from ..outputs.rejection import below
from ..sources.osc import DEFAULT_ADDRESS, OSCSource, has_wildcards
from . import compiled as compiled_wire
from .compiled import CompiledWire
from .prepare import compile_frame_path_kernel

log = logging.getLogger("gesturemap.live.engine")


def compiled_address(source: Any) -> str | None:
    """The one address of an OSC source the compiled path can answer for, else None: a plain
    :class:`OSCSource` (frames timed on receipt) with a single address without wildcards."""
    if type(source) is not OSCSource or source.sensor_clock or len(source.addresses) != 1:
        return None
    (address,) = source.addresses
    if has_wildcards(address) or not address.isascii():
        return None
    return str(address)


def warm_kernel() -> None:
    """Compile the compiled path's kernel (or load it from numba's cache): looked up at call
    time, so a test can stand in for a slow or failing compile."""
    compiled_wire.warm()


def no_template_result(distances: np.ndarray) -> Result:
    """What a DTW project's frame with no template left says (``distances``: +inf per
    gesture): no gesture matches, none is likely. Sent as a DTW frame that matches nothing
    is, so the extras say what they say then (an empty label, 0)."""
    zeros = np.zeros(len(distances))
    return Result(label="", label_index=0, likelihoods=zeros,
                  log_likelihoods=np.full(len(distances), -np.inf), instant_likelihoods=zeros,
                  instant_normalized_likelihoods=zeros, distances=distances)


class FrameWire:
    """The frame path's sending (mixed into :class:`gesturemap.live.engine.Engine`)."""

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
    _logged_labels: list[str]
    _dtw_last: int
    _dtw_values: Any
    _no_template: Any
    _dtw_positions: Any
    _dtw_addresses: list[str]
    _match_address: dict[str, str]
    _wire: Any
    command: Any
    compiled_path: bool
    compiled_state: str
    frames_compiled: int
    frames_in: int
    running: bool
    sources: list[Any]
    project: Any
    queue: Any
    _frame_lock: Any
    _stop: Any
    _onset: Any
    sinks: list[Any]
    stream: Any
    _pending: Any
    _keep: Any
    _count_error: Any

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
        lik, progress = stream.views()  # the stream's own arrays: each frame overwrites them
        for f in feats:
            i = stream.advance(f)
            if output.send_class_arrays(labels[i], i, numbers[i], lik, progress):
                path.stale = True
            else:  # below reject_below, beyond float32, no class templates: the plain send
                r = stream.current()
                path.set_result(r)
                output.send(r, numbers[i])
            self._sent_lean(i, lik, progress, t_in, slog)

    def _sent_lean(self, i: int, lik: Any, progress: Any, t_in: float, slog: Any) -> None:
        """What follows a lean frame's reply: the synth, the count, the log's rows."""
        if self.synth is not None:
            self.synth.update_arrays(i, lik, progress, self._model_labels)
        self.frames_out += 1
        if slog is not None:
            if self._log_likelihoods:
                slog.write("likelihoods", t_in, lik)
            elif self._logged_labels:  # other classes than the log's columns
                slog.drop("likelihoods")
            # the class the outputs sent: none below reject_below, as /wek/outputs' class 0
            slog.label(t_in, None if below(lik, i, self.output.settings.reject_below)
                       else self._labels[i])

    #: False in a subclass whose frames must all go through ``_frame``: none of its frames
    #: then takes the compiled path
    compiled_frames = True
    #: the pipeline state the compiled path stands in for (a stage-less one makes no feature
    #: frame but the input frame): a subclass that wraps the state names its wrapper here
    _plain_state: Any = PipelineState
    #: a subclass's hook, ``tap(t_in, x)``: the frame ``x`` answered by the compiled path,
    #: after the reply (the window's engine: its plot rings); None: nothing more to keep
    _compiled_tap: Any = None
    #: the address the compiled path answers: that of the OSC source offered last
    _wire_address = DEFAULT_ADDRESS
    #: the OSC sources that may take the compiled path (offered, not withdrawn)
    _compiled_sources: tuple[Any, ...] = ()
    #: whether this engine gives its OSC sources the compiled path (set at start)
    _compiled_wanted = False
    #: held while the sources' handlers are set (never on a frame; shared by every engine)
    _arm_lock = threading.Lock()

    def _install_compiled(self) -> None:
        """Give the engine's OSC sources the compiled path once its kernel is ready (at start,
        before the sources open; a source opened later: :meth:`_offer_compiled`).

        The kernel is compiled (about 30 s on a machine that has never run it) or loaded from
        numba's cache (a few seconds) on a thread of its own, so :meth:`start` returns and the
        sources answer every frame by the ordinary path meanwhile; ``stats()["compiled"]``
        says where it is: ``"off"``, ``"compiling"``, ``"ready"`` or ``"failed"`` (the frames
        stay on the ordinary path; the reason is in the engine's log)."""
        if not (self.compiled_path and self.compiled_frames):
            self.compiled_state = "off"
            return
        self._compiled_wanted = True
        for src in self.sources:
            self._offer_compiled(src)

    def _offer_compiled(self, source: Any) -> bool:
        """Let ``source`` take the compiled path, if it is an OSC source with one plain
        address (any thread but the frame path's; the source may be running). The compiled
        path follows the address of the source offered last (the engine thread rebuilds the
        wire for it, between two frames); the kernel starts compiling at the first offer.
        False: not offered (another kind of source, several addresses, the path off)."""
        if not self._compiled_wanted or compiled_address(source) is None:
            return False
        with self._arm_lock:
            self._compiled_sources = (*self._compiled_sources, source)
            start = self.compiled_state == "off"
            if start:
                self.compiled_state = "compiling"
        self._follow_address()
        if start:
            self._warm_frame_path()
            threading.Thread(target=self._compile_kernel, name="gesturemap-compile",
                             daemon=True).start()
        return True

    def _warm_frame_path(self) -> None:
        """Load the model's own compiled kernels now (a scratch stream steps once), before the
        compile thread starts: that thread holds numba's compiler lock for the whole compile
        (seconds from the cache on a busy machine, a minute or more uncached), and a first
        frame that still had to load the model's kernels would wait for all of it, the
        ordinary path answering nothing meanwhile. The pipeline's kernels are loaded when its
        state is built (:class:`PipelineState`); a model trained later is loaded by the
        trainer before it is handed over (:func:`~gesturemap.models.base.load_kernels`)."""
        # the model's own input size (the pipeline's output), else the project's
        if not load_kernels(getattr(self, "model", None), getattr(self.project, "input_dim", None)):
            log.debug("the model's kernels were not loaded ahead")

    def _withdraw_compiled(self, sources: list[Any]) -> None:
        """``sources`` (closing) no longer take the compiled path; the path follows the
        address of the last source still offered, if any."""
        with self._arm_lock:
            self._compiled_sources = tuple(s for s in self._compiled_sources
                                           if s not in sources)
            for src in sources:
                src.compiled = None
        self._follow_address()

    def _follow_address(self) -> None:
        sources = self._compiled_sources
        if sources:  # applied in order on the engine thread: the last offer wins
            self.command("_wire_address", compiled_address(sources[-1]))

    def _cmd__wire_address(self, address: str) -> None:
        """The compiled path answers ``address`` from now on (engine thread)."""
        if address != self._wire_address:
            self._wire_address = address
            self._build_wire()
        else:
            self._arm_compiled()

    def _compile_kernel(self) -> None:
        t0 = time.perf_counter()
        # compiled elsewhere first: compiling here would hold the GIL and numba's compiler
        # lock for as long as it takes (tens of seconds on a new machine), and a model swapped
        # in meanwhile could not load its own kernels; from the cache it is a short load
        if not kernel_cached(compiled_wire.wire_step):
            # after the project's own kernels, which the first take waits for: on two cores
            # the training and the seed's step already take both
            deadline = time.monotonic() + 600
            while (getattr(getattr(self, "trainer", None), "preparing", None) is not None
                   and not self._stop.wait(0.1) and time.monotonic() < deadline):
                pass
            compile_frame_path_kernel(self._stop.is_set)
        if self._stop.is_set():
            return
        try:
            warm_kernel()
        except Exception as exc:  # numba could not build it: the ordinary path stays
            self.compiled_state = "failed"
            log.warning("the compiled frame path is off: its kernel did not compile (%s)", exc)
            return
        if self._stop.is_set():
            return
        self.compiled_state = "ready"
        self._arm_compiled()
        log.info("compiled frame path ready after %.1f s", time.perf_counter() - t0)

    def _arm_compiled(self) -> None:
        """Give the compiled path's handler to each offered source that can take it now, and
        take it from the others: the kernel ready, the source's address the wire's, its frame
        size fixed and the project's (both never change once known, so the frame path needs
        no check of its own). One attribute rebinding per source: it sees it next datagram."""
        with self._arm_lock:
            ready = self.compiled_state == "ready" and not self._stop.is_set()
            dim = getattr(self.project, "input_dim", None)
            for src in self._compiled_sources:
                on = (ready and dim is not None and src._arity == dim
                      and compiled_address(src) == self._wire_address)
                src.compiled = self._compiled if on else None

    def _build_wire(self) -> None:
        """The compiled frame path for the current stream, or None where it does not apply
        (engine thread, when a model is set: packing the stream is no work for a frame)."""
        self._wire = None
        if self.compiled_path:
            self._wire = CompiledWire.build(self.stream, self.output, self._wire_address,
                                            getattr(self.project, "input_dim", None),
                                            self._class_numbers)
        self._arm_compiled()

    def _compiled(self, rx: Any, n: int, t_in: float) -> bool:
        """The OSC source's datagram ``rx[:n]`` answered by the compiled path, on the source's
        thread when the engine is idle (as :meth:`Engine._direct`). False (nothing changed):
        the source decodes it and the ordinary path takes it — busy, another address, a bad
        or unusual datagram, a stream or setting the compiled path does not cover. The frame
        is kept (take, gesture, log, counters) after the reply, as on the lean path."""
        lock = self._frame_lock
        if self._stop.is_set() or not lock.acquire(blocking=False):
            return False
        try:
            self._pending()
            wire = self._wire
            path = self.path
            stream = path.stream
            if (wire is None or wire.stream is not stream or not self.running
                    or not stream.lean or self._onset is not None or self.sinks
                    or self._dtw_values is not None or wire.output is not self.output
                    or self.output.held is not None
                    or type(path.state) is not self._plain_state
                    or path.state.pipeline.stages):
                return False
            t0 = time.perf_counter()
            rc = wire.step(rx, n)
            if rc < 0:
                return False
            self.frames_in += 1
            self.frames_compiled += 1
            try:
                i = stream._best = int(wire.res[0])
                if rc == 0:
                    sent, res = wire.sent, wire.res
                    self.output.send_bytes(sent[: res[1]])
                    if res[2] > res[1]:  # gesturemap's own messages, where the project sends them
                        self.output.send_extra_bytes(sent[res[1] : res[2]])
                    path.stale = True
                else:  # below reject_below, beyond float32: the plain send
                    r = stream.current()
                    path.set_result(r)
                    self.output.send(r, self._class_numbers[i])
                slog = self.session_log
                lik, progress = stream.views()
                self._sent_lean(i, lik, progress, t_in, slog)
                x = wire.x.copy()
                tap = self._compiled_tap
                if tap is not None:
                    tap(t_in, x)
                self._keep(x, t_in, slog, t0, True, ())
            except Exception as exc:  # never let the frame path raise
                self._count_error(exc, "frame")
            # counted without the queue's lock, as FrameQueue.put counts a frame handed on
            # directly: under CPython's GIL this `+=` loses no count, and the lock measured
            # 0.2-0.3 µs more per frame here
            self.queue.put_count += 1
            return True
        finally:
            lock.release()

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

    def _send_no_template(self) -> None:
        """A DTW project's frame while it runs with no template left: Wekinator's distances
        of a model with no example (+inf per gesture) on /wek/outputs, then what the extras
        send for a frame that matches nothing (from a Result made once, as the model went)."""
        self.output.send(self._no_template, None, self._dtw_values)
        self.frames_out += 1

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
