"""The feature pipeline: a chain of stages (settings) and the running state that streams through it.

A :class:`Pipeline` holds read-only settings and is shared; :meth:`Pipeline.start` builds a
:class:`PipelineState` with every buffer sized up front, owned by one thread (the engine).
Whole recordings go through the same streaming code (:meth:`Pipeline.transform_sequence`),
so training and running compute exactly the same features.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from gesturemap.errors import FormatError, GesturemapError
from gesturemap.features._checks import check_float, invalid
from gesturemap.features._kernels import all_below
from gesturemap.features.stages import Stage, stage_from_dict
from gesturemap.utils.validation import Described

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_ABS_VALUE", "Pipeline", "PipelineState", "all_below"]

FORMAT = "gesturemap.feature_pipeline"
FORMAT_VERSION = 1

MAX_ABS_VALUE = 1e20
"""Frames with a value beyond +-1e20 (or a NaN, or an inf) are rejected.

No sensor reads such values; letting one through could overflow a filter's state to inf
and poison every later frame."""


def _input_names(input_dim: int, input_names: Sequence[str] | None) -> tuple[str, ...]:
    if isinstance(input_dim, bool) or not isinstance(input_dim, int | np.integer) or input_dim < 1:
        raise invalid(
            "Pipeline",
            "input_dim",
            input_dim,
            "an integer >= 1",
            "Give the sensor's channel count.",
        )
    if input_names is None:
        return tuple(f"in{i + 1}" for i in range(input_dim))
    names = tuple(input_names)
    if len(names) != input_dim or not all(isinstance(n, str) and n for n in names):
        raise invalid(
            "Pipeline",
            "input_names",
            input_names,
            f"{input_dim} non-empty strings, one per channel",
        )
    if len(set(names)) != len(names):
        raise invalid(
            "Pipeline", "input_names", input_names, "distinct names", "Rename the repeated channel."
        )
    return names


def _identity_sequence(X: np.ndarray, timestamps: np.ndarray | None,
                       rate_hz: float | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A pipeline without stages on a whole recording, vectorised: ``(frames, times)`` equal
    to pushing the frames one by one, or None when a frame or a time would be refused (the
    caller then pushes frame by frame, for push's own message naming the frame).

    A project's default pipeline has no stage, and every retrain runs every take through it:
    frame by frame that costs ~5 µs a frame (70 ms for 15,000 frames), here ~0.1 ms."""
    with np.errstate(invalid="ignore", over="ignore"):
        if X.size and not bool((np.abs(X) < MAX_ABS_VALUE).all()):
            return None
    T = len(X)
    if timestamps is None:
        # push's clock: 0, then the previous time plus the period (1 without a rate), added
        # one frame at a time; add.accumulate adds in the same order, so the same floats
        steps = np.full(T, 1.0 / rate_hz if rate_hz is not None else 1.0)
        if T:
            steps[0] = 0.0
        times = np.add.accumulate(steps)
    else:
        if not bool(np.isfinite(timestamps).all()):
            return None
        times = timestamps.copy()
    return X.copy(), times


class Pipeline:
    """A chain of feature stages; an empty pipeline is the identity.

    Parameters
    ----------
    stages : sequence of Stage
        Applied in order.
    rate_hz : float, optional
        Nominal input rate in Hz. Stages that use time take their time step from the frame
        timestamps when :meth:`PipelineState.push` gets them, else from this rate. Needed
        for a frequency below Nyquist to be checked, and to run time-based stages on frames
        without timestamps.

    Attributes
    ----------
    stages : tuple of Stage
    rate_hz : float or None

    Notes
    -----
    Pass sensor timestamps when the sensor provides them. Arrival times jitter, and a
    derivative divided by a jittery time step is noisier than one at the nominal rate.
    """

    def __init__(self, stages: Sequence[Stage] = (), rate_hz: float | None = None) -> None:
        if isinstance(stages, Stage) or not isinstance(stages, Sequence):
            raise invalid(
                "Pipeline",
                "stages",
                stages,
                "a list of stages",
                "E.g. [Select((0, 1)), OneEuro()].",
            )
        for i, stage in enumerate(stages):
            if not isinstance(stage, Stage):
                raise invalid(
                    "Pipeline", f"stages[{i}]", stage, "a feature stage (Select, OneEuro, ...)"
                )
        if rate_hz is not None:
            rate_hz = check_float(
                "Pipeline",
                "rate_hz",
                rate_hz,
                low=0.0,
                low_open=True,
                hint="Give the sensor's frame rate.",
            )
        rate = rate_hz
        for i, stage in enumerate(stages):
            try:
                stage.check_rate(rate)
            except GesturemapError as error:
                raise GesturemapError(f"Pipeline stage {i}: {error}") from error
            rate = stage.output_rate_hz(rate)
        self.stages: tuple[Stage, ...] = tuple(stages)
        self.rate_hz: float | None = rate_hz

    # -- description --------------------------------------------------------------------------

    @property
    def output_rate_hz(self) -> float | None:
        """Nominal output rate in Hz (changed by a :class:`Resample`); None if unknown."""
        rate = self.rate_hz
        for stage in self.stages:
            rate = stage.output_rate_hz(rate)
        return rate

    @property
    def uses_time(self) -> bool:
        """Whether a stage needs frame times (timestamps, or the nominal rate)."""
        return any(stage.uses_time for stage in self.stages)

    @property
    def emits_one(self) -> bool:
        """Whether every input frame gives exactly one output frame (no resampling)."""
        return all(stage.emits_one for stage in self.stages)

    @property
    def fitted(self) -> bool:
        """Whether every stage that learns has been fitted."""
        return all(stage.fitted for stage in self.stages)

    def output_names(
        self, input_dim: int, input_names: Sequence[str] | None = None
    ) -> tuple[str, ...]:
        """Names of the output channels.

        Parameters
        ----------
        input_dim : int
            Number of input channels D.
        input_names : sequence of str, length D, optional
            Input channel names; default ``x0 .. x{D-1}``.

        Returns
        -------
        tuple of str, length D_out

        Raises
        ------
        GesturemapError
            If a stage does not fit its input (a channel missing, not fitted, a wrong width).
        """
        names = _input_names(input_dim, input_names)
        for i, stage in enumerate(self.stages):
            names = self._stage_call(i, stage.output_names, names)
        return names

    def output_dim(self, input_dim: int, input_names: Sequence[str] | None = None) -> int:
        """Number of output channels D_out for ``input_dim`` input channels (see :meth:`output_names`)."""
        return len(self.output_names(input_dim, input_names))

    @staticmethod
    def _stage_call(i: int, method: Any, names: tuple[str, ...]) -> Any:
        try:
            return method(names)
        except GesturemapError as error:
            raise type(error)(f"Pipeline stage {i}: {error}") from error

    # -- running ------------------------------------------------------------------------------

    def start(self, input_dim: int, input_names: Sequence[str] | None = None) -> PipelineState:
        """Build a running state for a stream of ``input_dim`` channels.

        Parameters
        ----------
        input_dim : int
            Number of input channels D.
        input_names : sequence of str, length D, optional
            Input channel names, needed by stages that name channels; default ``x0 ..``.

        Returns
        -------
        PipelineState
            Owned by one thread; many states may share this pipeline.
        """
        names = in_names = _input_names(input_dim, input_names)
        states, widths = [], []
        for i, stage in enumerate(self.stages):
            states.append(self._stage_call(i, stage.start, names))
            names = stage.output_names(names)
            widths.append(len(names))
        return PipelineState(self, in_names, names, states, widths)

    def transform_sequence(
        self,
        X: np.ndarray,
        timestamps: np.ndarray | None = None,
        input_names: Sequence[str] | None = None,
        return_times: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Run a whole recording through a fresh state, frame by frame.

        The same code as the real-time path, so the result equals pushing the frames one by
        one.

        Parameters
        ----------
        X : array_like, shape (T, D)
            The recording.
        timestamps : array_like, shape (T,), optional
            Frame times in seconds, strictly increasing where the pipeline uses time;
            default: frames ``1 / rate_hz`` apart, starting at 0.
        input_names : sequence of str, length D, optional
            Input channel names.
        return_times : bool
            Also return the output frames' times.

        Returns
        -------
        Y : ndarray, shape (T', D_out)
            T' = T unless the pipeline resamples.
        times : ndarray, shape (T',)
            Only with ``return_times``.

        Raises
        ------
        GesturemapError
            If the recording does not fit (shape, non-finite value, bad timestamps); the
            message names the frame.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise invalid("Pipeline", "X", X, "a (T, D) array of frames")
        T, D = X.shape
        if timestamps is not None:
            timestamps = np.asarray(timestamps, dtype=np.float64)
            if timestamps.shape != (T,):
                raise invalid(
                    "Pipeline",
                    "timestamps",
                    timestamps,
                    f"shape ({T},), one per frame",
                )
        state = self.start(D, input_names)
        if not self.stages:
            fast = _identity_sequence(X, timestamps, self.rate_hz)
            if fast is not None:
                return fast if return_times else fast[0]
            # a bad frame or time: the loop below names it, as push does
        if self.emits_one:
            Y = np.empty((T, state.output_dim))
            times = np.empty(T)
            for i in range(T):
                try:
                    Y[i] = state.push(X[i], None if timestamps is None else timestamps[i])[0]
                except GesturemapError as error:
                    raise GesturemapError(f"frame {i} of {T}: {error}") from error
                times[i] = state.times[0]
        else:
            frames, stamps = [], []
            for i in range(T):
                try:
                    out = state.push(X[i], None if timestamps is None else timestamps[i])
                except GesturemapError as error:
                    raise GesturemapError(f"frame {i} of {T}: {error}") from error
                frames.append(out.copy())
                stamps.append(state.times.copy())
            Y = np.concatenate(frames) if frames else np.empty((0, state.output_dim))
            times = np.concatenate(stamps) if stamps else np.empty(0)
        return (Y, times) if return_times else Y

    # -- learning -----------------------------------------------------------------------------

    def fit(
        self,
        sequences: Any,
        timestamps: Sequence[np.ndarray] | None = None,
        input_names: Sequence[str] | None = None,
    ) -> Pipeline:
        """Fit the stages that learn (standardisation), in order, on a data set.

        Each learning stage is fitted on what reaches it: the sequences run through the
        (already fitted) stages before it with :meth:`transform_sequence`. Fitting again
        replaces what was learned.

        Parameters
        ----------
        sequences : Dataset, or iterable of ndarray (T_i, D) or of Recording, or ndarray (T, D)
            The data set: recordings (anything with an ``inputs`` array) or arrays.
        timestamps : sequence of ndarray (T_i,), optional
            Frame times of each sequence.
        input_names : sequence of str, length D, optional
            Input channel names; default ``sequences.input_names`` if it has them (a
            Dataset), else ``x0 ..``.

        Returns
        -------
        Pipeline
            ``self``.
        """
        seqs = _as_sequences(sequences)
        if input_names is None:
            input_names = getattr(sequences, "input_names", None)
        if timestamps is not None and len(timestamps) != len(seqs):
            raise invalid(
                "Pipeline",
                "timestamps",
                Described(f"{len(timestamps)} timestamp arrays"),
                f"one array per sequence ({len(seqs)})",
            )
        stages = list(self.stages)
        for i, stage in enumerate(stages):
            if not stage.learns:
                continue
            prefix = Pipeline(stages[:i], self.rate_hz)
            inputs = [
                prefix.transform_sequence(
                    X, None if timestamps is None else timestamps[j], input_names
                )
                for j, X in enumerate(seqs)
            ]
            try:
                stages[i] = stage.fit(inputs)  # type: ignore[arg-type]
            except GesturemapError as error:
                raise type(error)(f"Pipeline stage {i}: {error}") from error
        self.stages = tuple(stages)
        return self

    # -- saving -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict, fitted parameters included; :meth:`from_dict` inverts it exactly."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "rate_hz": self.rate_hz,
            "stages": [stage.to_dict() for stage in self.stages],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Pipeline:
        """Build a pipeline from :meth:`to_dict`'s dict (e.g. read back from JSON).

        Raises
        ------
        FormatError
            If the dict is not a feature pipeline of a known version, or a stage is invalid.
        """
        if not isinstance(d, Mapping) or d.get("format") != FORMAT:
            raise FormatError(
                f"Not a feature pipeline: expected a JSON object with format {FORMAT!r}."
            )
        version = d.get("version")
        if not isinstance(version, int) or version < 1:
            raise FormatError(
                f"Feature pipeline version {version!r} is invalid; expected an integer >= 1."
            )
        if version > FORMAT_VERSION:
            raise FormatError(
                f"Feature pipeline version {version} comes from a newer gesturemap (this one reads "
                f"up to {FORMAT_VERSION}): upgrade gesturemap."
            )
        unknown = sorted(set(d) - {"format", "version", "rate_hz", "stages"})
        if unknown:
            raise FormatError(f"Feature pipeline has unknown keys {unknown}.")
        raw_stages = d.get("stages", [])
        if not isinstance(raw_stages, list):
            raise FormatError("Feature pipeline 'stages' must be a list.")
        stages = []
        for i, raw in enumerate(raw_stages):
            try:
                stages.append(stage_from_dict(raw))
            except FormatError as error:
                raise FormatError(f"Feature pipeline stage {i}: {error}") from error
        try:
            return cls(stages, rate_hz=d.get("rate_hz"))
        except GesturemapError as error:
            raise FormatError(f"Feature pipeline: {error}") from error

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return self.stages == other.stages and self.rate_hz == other.rate_hz

    __hash__ = None  # type: ignore[assignment]  # mutable: fit replaces the stages

    def __repr__(self) -> str:
        return f"Pipeline({list(self.stages)!r}, rate_hz={self.rate_hz!r})"


def _as_sequences(data: Any) -> list[np.ndarray]:
    items: Iterable[Any] = [data] if isinstance(data, np.ndarray) else data
    seqs = []
    for item in items:
        array = getattr(item, "inputs", item)
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2:
            raise invalid(
                "Pipeline.fit",
                "sequences",
                array,
                "(T, D) arrays of frames",
            )
        seqs.append(array)
    if not seqs:
        raise invalid(
            "Pipeline.fit",
            "sequences",
            Described("no sequences"),
            "at least one (T, D) sequence",
            "Record some data first.",
        )
    widths = {s.shape[1] for s in seqs}
    if len(widths) != 1:
        raise invalid(
            "Pipeline.fit",
            "sequences",
            Described(f"sequences of widths {sorted(widths)}"),
            "sequences of the same width D",
        )
    return seqs


class PipelineState:
    """Running state of a :class:`Pipeline` on one stream; built by :meth:`Pipeline.start`.

    Every buffer is allocated here, once. One thread (the engine) owns a state: nothing in
    it locks.

    Attributes
    ----------
    pipeline : Pipeline
    input_dim, output_dim : int
    input_names, output_names : tuple of str
    """

    def __init__(
        self,
        pipeline: Pipeline,
        input_names: tuple[str, ...],
        output_names: tuple[str, ...],
        states: list[Any],
        widths: list[int],
    ) -> None:
        input_dim = len(input_names)
        self.pipeline = pipeline
        self.input_dim = input_dim
        self.input_names = input_names
        self.output_dim = len(output_names)
        self.output_names = output_names
        self._states = states
        self._emits_one = all(s.emits_one for s in states)
        self._steps = [s.step for s in states] if self._emits_one else []
        self._uses_time = pipeline.uses_time
        self._period = 1.0 / pipeline.rate_hz if pipeline.rate_hz is not None else None
        self._shape = (input_dim,)
        self._in = np.empty(input_dim)
        all_below(self._in[:0], 1.0)  # compile now (or load from the cache), not on a frame
        self._t_prev: float | None = None
        # Fast path: one frame out, in this buffer.
        self._out1 = np.empty((1, self.output_dim))
        self._times1 = np.empty(1)
        self._out: np.ndarray = self._out1[:0]
        self._times: np.ndarray = self._times1[:0]
        # General path: each stage writes a batch of rows into its own buffers, sized for the
        # most frames it can receive from one input frame.
        self._plan: list[tuple[Any, np.ndarray, np.ndarray]] = []
        if not self._emits_one:
            rows = 1
            for state, width in zip(states, widths, strict=True):
                if not state.emits_one:
                    rows *= state.max_per_frame
                self._plan.append((state, np.empty(rows), np.empty((rows, width))))

    @property
    def times(self) -> np.ndarray:
        """Times in seconds of the frames the last :meth:`push` returned, shape (K,)."""
        return self._times

    def push(self, frame: Any, t: float | None = None) -> np.ndarray:
        """Feed one input frame; return the output frames it completes.

        Parameters
        ----------
        frame : array_like, shape (D,)
            One input frame: finite values within +-``MAX_ABS_VALUE``.
        t : float, optional
            The frame's time in seconds, strictly increasing from frame to frame when the
            pipeline uses time. Default: the previous frame's time plus ``1 / rate_hz``
            (plus 1 without a rate, for pipelines that do not use time); 0 for the first.
            Pass times for every frame or for none.

        Returns
        -------
        ndarray, shape (K, D_out)
            K = 1 unless the pipeline resamples (then 0, 1 or more); their times are in
            :attr:`times`. A view of an internal buffer, overwritten by the next push: copy
            it to keep it.

        Raises
        ------
        GesturemapError
            For a bad frame (wrong size, NaN, inf, absurdly large) or time (not finite, not
            increasing, missing where needed). The state is then unchanged: the caller can
            count the frame, skip it and push the next.
        """
        # Validate everything before touching any state, so a rejected frame changes nothing.
        # The frame is copied into an owned buffer: stages then always see a contiguous,
        # writable float64 array, whatever the source handed in (a list, a read-only view).
        array = frame if type(frame) is np.ndarray else _as_frame(frame)
        if array.shape != self._shape:
            raise GesturemapError(
                f"Bad frame: expected {self.input_dim} values, got shape {array.shape}; the "
                "sensor and the pipeline disagree on the channel count."
            )
        if array.dtype.kind not in "fiub":
            raise GesturemapError(f"Bad frame: expected real numbers, got {array!r:.80}.")
        x = self._in
        x[:] = array
        if not all_below(x, MAX_ABS_VALUE):
            bad = np.flatnonzero(~(np.abs(x) < MAX_ABS_VALUE)).tolist()
            raise GesturemapError(
                f"Bad frame: channels {bad} are NaN, infinite or beyond +-{MAX_ABS_VALUE:g} "
                f"({x.tolist()!r:.200}); expected finite sensor values."
            )
        t_prev = self._t_prev
        if t is None:
            if t_prev is None:
                now = 0.0
            elif self._period is not None:
                now = t_prev + self._period
            elif self._uses_time:
                raise GesturemapError(
                    "Bad frame: this pipeline needs frame times; pass t= to push, or give the "
                    "Pipeline a nominal rate_hz."
                )
            else:
                now = t_prev + 1.0
        else:
            try:
                now = float(t)
            except (TypeError, ValueError):
                raise GesturemapError(
                    f"Bad frame time t={t!r}: expected a number of seconds."
                ) from None
            if not math.isfinite(now):
                raise GesturemapError(
                    f"Bad frame time t={t!r}: expected a finite number of seconds."
                )
            if self._uses_time and t_prev is not None and now <= t_prev:
                raise GesturemapError(
                    f"Bad frame time t={now!r}: not after the previous frame's {t_prev!r}; frame "
                    "times must increase (a reordered or repeated packet?)."
                )
        # Accepted: from here on nothing raises.
        self._t_prev = now
        if self._emits_one:
            for step in self._steps:
                x = step(now, x)
            self._out1[0] = x
            self._times1[0] = now
            self._out = self._out1
            self._times = self._times1
            return self._out1
        return self._push_many(now, x)

    def _push_many(self, now: float, x: np.ndarray) -> np.ndarray:
        self._times1[0] = now
        times: np.ndarray = self._times1
        frames: np.ndarray = x[np.newaxis]
        n = 1
        for state, out_times, out_frames in self._plan:
            if state.emits_one:
                step = state.step
                for i in range(n):
                    out_frames[i] = step(times[i], frames[i])
                out_times[:n] = times[:n]
            else:
                emit = state.emit
                k = 0
                for i in range(n):
                    k = emit(times[i], frames[i], out_times, out_frames, k)
                n = k
            times, frames = out_times, out_frames
        self._out = frames[:n]
        self._times = times[:n]
        return self._out

    def reset(self) -> None:
        """Forget the stream so far (filters, windows, times), as right after ``start``."""
        for state in self._states:
            state.reset()
        self._t_prev = None
        self._out = self._out1[:0]
        self._times = self._times1[:0]


def _as_frame(frame: Any) -> np.ndarray:
    try:
        return np.asarray(frame)
    except (TypeError, ValueError):
        raise GesturemapError(
            f"Bad frame: expected a list of numbers, got {type(frame).__name__} {frame!r:.80}."
        ) from None
