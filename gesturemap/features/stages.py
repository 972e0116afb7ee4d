"""Feature stages: small read-only settings objects, serialisable to plain JSON dicts.

A stage holds only settings (and, for :class:`Standardize`, what it learned); its running
state lives in the object ``stage.start(names)`` returns (see ``_states.py``), so one stage,
like one pipeline, can serve any number of streams. Settings are validated when the stage is
built, which also covers stages read back by :func:`stage_from_dict`.

Stages that use time (:class:`LowPass` with a cutoff, :class:`OneEuro`, :class:`Derivative`,
:class:`Resample`) take each frame's time step from the frame timestamps, or from the
pipeline's nominal ``rate_hz`` when the frames come without timestamps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gesturemap.errors import FormatError, GesturemapError, NotFittedError
from gesturemap.features import _states
from gesturemap.features._checks import (
    ChannelRef,
    check_bool,
    check_channels,
    check_float,
    check_int,
    invalid,
    resolve_channels,
)
from gesturemap.utils.validation import Described

__all__ = [
    "STAGES",
    "Derivative",
    "LowPass",
    "Magnitude",
    "MovingAverage",
    "MovingMedian",
    "OneEuro",
    "Resample",
    "Select",
    "Stage",
    "Standardize",
    "WindowStats",
    "stage_from_dict",
]

WINDOW_STATS = ("mean", "std", "min", "max", "median")
#: The fastest a Resample stage emits frames: twice the fastest sensor gesturemap reads (1 kHz
#: serial). Each frame is a model step and a reply: at 10^5 Hz (a typo for 100) a 200 Hz
#: sensor's frames waited seconds for their answers and the OSC output sent 53,000 datagrams a
#: second. A model's frame budget shrinks with the rate (gesturemap.utils.frame_budget).
MAX_RESAMPLE_HZ = 2000.0
MAX_WINDOW_FRAMES = 100_000
"""Longest window of :class:`MovingAverage`, :class:`MovingMedian` and :class:`WindowStats`
(over eight minutes at 200 Hz). Each frame reads the whole window and the state holds it, so
a longer one would be refused only when it runs out of memory or makes frames late."""


def _set(stage: Stage, name: str, value: Any) -> None:
    # Frozen dataclasses normalise their fields in __post_init__ through object.__setattr__.
    object.__setattr__(stage, name, value)


@dataclass(frozen=True)
class Stage:
    """Base class of the feature stages.

    Subclasses are frozen dataclasses whose fields are their settings, listed in
    :data:`STAGES` under their ``kind``.
    """

    kind: ClassVar[str] = ""
    emits_one: ClassVar[bool] = True
    """Whether every input frame gives exactly one output frame."""

    @property
    def uses_time(self) -> bool:
        """Whether the stage needs frame times (timestamps or the nominal rate)."""
        return False

    @property
    def learns(self) -> bool:
        """Whether :meth:`fit` learns something from data."""
        return False

    @property
    def fitted(self) -> bool:
        """Whether the stage is ready to run (always, for stages that do not learn)."""
        return True

    def fit(self, sequences: Sequence[np.ndarray]) -> Stage:
        """Return a copy of the stage fitted on ``sequences`` (this stage if it learns nothing).

        Parameters
        ----------
        sequences : sequence of ndarray, each (T_i, D)
            The stage's input over a data set.
        """
        return self

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        """Channel names out of the stage for an input with channel names ``names``.

        Raises
        ------
        GesturemapError
            If the input does not fit the settings (a missing channel, a wrong width).
        """
        raise NotImplementedError

    def output_rate_hz(self, rate_hz: float | None) -> float | None:
        """Nominal rate out of the stage for a nominal input rate (None: unknown)."""
        return rate_hz

    def check_rate(self, rate_hz: float | None) -> None:
        """Raise if the settings cannot work at the nominal input rate ``rate_hz``."""

    def start(self, names: Sequence[str]) -> Any:
        """Build the running state for an input with channel names ``names``, sized up front."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: ``{"type": kind, <setting>: value, ...}``."""
        d: dict[str, Any] = {"type": self.kind}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            d[field.name] = list(value) if isinstance(value, tuple) else value
        return d


def _check_nyquist(owner: str, param: str, value: float, rate_hz: float | None) -> None:
    if rate_hz is not None and value >= rate_hz / 2:
        raise invalid(
            owner,
            param,
            value,
            f"a frequency below the Nyquist frequency {rate_hz / 2:g} Hz of a {rate_hz:g} Hz stream",
            f"Lower {param}, or check the pipeline's rate_hz.",
        )


@dataclass(frozen=True)
class Select(Stage):
    """Keep some channels, in the given order.

    Parameters
    ----------
    channels : sequence of int or str
        Channel indices (0-based) or names, distinct.
    """

    kind: ClassVar[str] = "select"
    channels: tuple[ChannelRef, ...]

    def __post_init__(self) -> None:
        _set(self, "channels", check_channels("Select", "channels", self.channels))

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        indices = resolve_channels("Select", "channels", self.channels, names)
        return tuple(names[i] for i in indices)

    def start(self, names: Sequence[str]) -> _states.SelectState:
        return _states.SelectState(resolve_channels("Select", "channels", self.channels, names))



def mean_and_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(mean, scale)`` of the (T, D) frames ``x``: the one standardisation of
    gesturemap (this stage, and the models that standardise their inputs). ``scale`` is the
    standard deviation, except that a constant channel (std at most 1e-12 of its magnitude, or
    of 1) keeps scale 1, as scikit-learn's StandardScaler does: nothing divides by zero."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)


@dataclass(frozen=True)
class Standardize(Stage):
    """``(x - mean) / std`` per channel, with mean and std learned by :meth:`fit`.

    Parameters
    ----------
    mean, std : sequence of float, length D, optional
        Per-channel parameters; None until fitted. Both or neither; every std > 0.

    Notes
    -----
    :meth:`fit` uses the population std (ddof=0) over all frames of all sequences. A
    constant channel (std 0, or within rounding of 0: ``std <= 1000 * eps * |mean|``) gets
    std 1, so it standardises to ``x - mean`` (0 on the training data) instead of dividing
    by zero and blowing up on the first frame that differs.
    """

    kind: ClassVar[str] = "standardize"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if (self.mean is None) != (self.std is None):
            raise invalid(
                "Standardize",
                "mean" if self.mean is None else "std",
                None,
                "mean and std given together",
                "Give both, or neither and call fit.",
            )
        if self.mean is None:
            return
        mean = _float_tuple("Standardize", "mean", self.mean, positive=False)
        std = _float_tuple("Standardize", "std", self.std, positive=True)
        if len(mean) != len(std):
            raise invalid(
                "Standardize",
                "std",
                self.std,
                f"{len(mean)} values, one per mean",
                "Give one std per channel.",
            )
        _set(self, "mean", mean)
        _set(self, "std", std)

    @property
    def learns(self) -> bool:
        return True

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    def fit(self, sequences: Sequence[np.ndarray]) -> Standardize:
        """Return a copy with the per-channel mean and std of ``sequences``.

        Parameters
        ----------
        sequences : sequence of ndarray, each (T_i, D)
            The standardiser's input over a data set; at least one frame in all.
        """
        if len(sequences) == 0 or sum(len(s) for s in sequences) == 0:
            raise invalid(
                "Standardize",
                "sequences",
                Described("no frames"),
                "at least one frame",
                "Record some data before fitting.",
            )
        X = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences], axis=0)
        mean, std = mean_and_scale(X)
        return Standardize(mean=tuple(mean.tolist()), std=tuple(std.tolist()))

    def _check_width(self, names: Sequence[str]) -> None:
        if self.mean is None:
            raise NotFittedError(
                "Standardize has no mean and std yet: call Pipeline.fit(recordings) first, "
                "or give mean= and std=."
            )
        if len(self.mean) != len(names):
            raise invalid(
                "Standardize",
                "mean",
                Described(f"{len(self.mean)} fitted channels"),
                f"one value per input channel ({len(names)})",
                "The pipeline before it changed since it was fitted: fit it again.",
            )

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        self._check_width(names)
        return tuple(names)

    def start(self, names: Sequence[str]) -> _states.StandardizeState:
        self._check_width(names)
        return _states.StandardizeState(self.mean, self.std)  # type: ignore[arg-type]


def _float_tuple(owner: str, param: str, value: Any, positive: bool) -> tuple[float, ...]:
    expected = "a list of positive numbers" if positive else "a list of finite numbers"
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray) or len(value) == 0:
        raise invalid(owner, param, value, expected)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid(owner, param, value, expected) from None
    if array.ndim != 1 or not np.all(np.isfinite(array)) or (positive and not np.all(array > 0)):
        raise invalid(owner, param, value, expected)
    return tuple(array.tolist())


@dataclass(frozen=True)
class _MovingStat(Stage):
    """One statistic of each channel over the last ``window_frames`` frames (fewer while it
    fills): the base of :class:`MovingAverage` and :class:`MovingMedian`, which name it
    (``_stat``) and the hint of a bad window (``_hint``)."""

    _stat: ClassVar[str] = ""
    _hint: ClassVar[str] = ""
    window_frames: int

    def __post_init__(self) -> None:
        _set(
            self,
            "window_frames",
            check_int(
                type(self).__name__,
                "window_frames",
                self.window_frames,
                1,
                self._hint,
                maximum=MAX_WINDOW_FRAMES,
            ),
        )

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        return tuple(names)

    def start(self, names: Sequence[str]) -> _states.WindowState:
        return _states.WindowState(len(names), self.window_frames, (self._stat,), append=False)


@dataclass(frozen=True)
class MovingAverage(_MovingStat):
    """Mean of each channel over the last ``window_frames`` frames (fewer while it fills).

    Parameters
    ----------
    window_frames : int
        Window length in frames, 1 (passes the signal through) to
        :data:`MAX_WINDOW_FRAMES`.
    """

    kind: ClassVar[str] = "moving_average"
    _stat: ClassVar[str] = "mean"
    _hint: ClassVar[str] = (
        "Average over 1 (which passes the signal through) to 100000 frames."
    )


@dataclass(frozen=True)
class MovingMedian(_MovingStat):
    """Median of each channel over the last ``window_frames`` frames (fewer while it fills):
    drops a lone wild sample (a sensor glitch, a corrupted serial value) that a mean or a
    low-pass would spread over the next frames. With ``window_frames`` = 2k + 1 a run of up
    to k wild samples in a row never reaches the output; a steady movement comes out
    delayed by about k frames.

    Parameters
    ----------
    window_frames : int
        Window length in frames, 1 (passes the signal through) to
        :data:`MAX_WINDOW_FRAMES`; odd lengths (3, 5) are the usual choice. Each frame costs
        one pass over the window (it is kept sorted), like the mean's.
    """

    kind: ClassVar[str] = "moving_median"
    _stat: ClassVar[str] = "median"
    _hint: ClassVar[str] = (
        "Take the median over 1 (which passes the signal through) to 100000 frames."
    )


@dataclass(frozen=True)
class LowPass(Stage):
    """One-pole low-pass filter ``y[n] = y[n-1] + a (x[n] - y[n-1])``, started at ``x[0]``.

    Parameters
    ----------
    cutoff_hz : float, optional
        Cutoff frequency in Hz, > 0 and below the stream's Nyquist frequency;
        ``a = r / (r + 1)``, ``r = 2 pi cutoff_hz dt``, from each frame's time step ``dt``.
    alpha : float, optional
        The smoothing factor ``a`` itself, in (0, 1] (1 passes the signal through);
        independent of time. Give ``cutoff_hz`` or ``alpha``, not both.
    """

    kind: ClassVar[str] = "low_pass"
    cutoff_hz: float | None = None
    alpha: float | None = None

    def __post_init__(self) -> None:
        if self.cutoff_hz is None and self.alpha is None:
            raise invalid(
                "LowPass",
                "cutoff_hz",
                None,
                "a cutoff frequency in Hz, or alpha instead",
                "E.g. LowPass(cutoff_hz=5.0) or LowPass(alpha=0.2).",
            )
        if self.cutoff_hz is not None and self.alpha is not None:
            raise invalid(
                "LowPass",
                "alpha",
                self.alpha,
                f"None when cutoff_hz is given ({self.cutoff_hz!r})",
                "Give cutoff_hz or alpha, not both.",
            )
        if self.cutoff_hz is not None:
            _set(
                self,
                "cutoff_hz",
                check_float("LowPass", "cutoff_hz", self.cutoff_hz, low=0.0, low_open=True),
            )
        else:
            _set(
                self,
                "alpha",
                check_float(
                    "LowPass",
                    "alpha",
                    self.alpha,
                    low=0.0,
                    high=1.0,
                    low_open=True,
                    hint="Smaller alpha smooths more; 1 passes the signal through.",
                ),
            )

    @property
    def uses_time(self) -> bool:
        return self.cutoff_hz is not None

    def check_rate(self, rate_hz: float | None) -> None:
        if self.cutoff_hz is not None:
            _check_nyquist("LowPass", "cutoff_hz", self.cutoff_hz, rate_hz)

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        return tuple(names)

    def start(self, names: Sequence[str]) -> _states.LowPassState:
        return _states.LowPassState(len(names), self.alpha, self.cutoff_hz)


@dataclass(frozen=True)
class OneEuro(Stage):
    """The One Euro filter (Casiez, Roussel & Vogel, CHI 2012) on every channel.

    A one-pole low-pass whose cutoff rises with the signal's speed: little jitter when the
    hand is still, little lag when it moves. Tune ``min_cutoff`` with the hand still (lower:
    less jitter), then ``beta`` with fast moves (higher: less lag).

    Parameters
    ----------
    min_cutoff : float
        Cutoff in Hz at zero speed, > 0, below the Nyquist frequency.
    beta : float
        Cutoff increase in Hz per unit of speed (channel units per second), >= 0.
    d_cutoff : float
        Cutoff in Hz of the low-pass on the speed estimate, > 0, below the Nyquist frequency.
    """

    kind: ClassVar[str] = "one_euro"
    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        _set(
            self,
            "min_cutoff",
            check_float("OneEuro", "min_cutoff", self.min_cutoff, low=0.0, low_open=True),
        )
        _set(self, "beta", check_float("OneEuro", "beta", self.beta, low=0.0))
        _set(
            self,
            "d_cutoff",
            check_float("OneEuro", "d_cutoff", self.d_cutoff, low=0.0, low_open=True),
        )

    @property
    def uses_time(self) -> bool:
        return True

    def check_rate(self, rate_hz: float | None) -> None:
        _check_nyquist("OneEuro", "min_cutoff", self.min_cutoff, rate_hz)
        _check_nyquist("OneEuro", "d_cutoff", self.d_cutoff, rate_hz)

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        return tuple(names)

    def start(self, names: Sequence[str]) -> _states.OneEuroState:
        return _states.OneEuroState(len(names), self.min_cutoff, self.beta, self.d_cutoff)


@dataclass(frozen=True)
class Derivative(Stage):
    """First or second time derivative of every channel, per second, by backward differences.

    The first derivative of frame n is ``(x[n] - x[n-1]) / dt`` (the slope half a step
    back); the second, the three-point difference over frames n-2..n (the curvature one step
    back), exact on uneven time steps. Frames without enough history give 0.

    Parameters
    ----------
    order : {1, 2}
        Which derivative.
    append : bool
        False: output the derivatives only (names ``d_<name>``, ``d2_<name>``); True: the
        input channels followed by their derivatives.
    """

    kind: ClassVar[str] = "derivative"
    order: int = 1
    append: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.order, bool) or self.order not in (1, 2):
            raise invalid(
                "Derivative", "order", self.order, "1 or 2", "Chain two stages for a higher order."
            )
        _set(self, "order", int(self.order))
        check_bool("Derivative", "append", self.append)

    @property
    def uses_time(self) -> bool:
        return True

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        prefix = "d_" if self.order == 1 else "d2_"
        derived = tuple(prefix + n for n in names)
        return tuple(names) + derived if self.append else derived

    def start(self, names: Sequence[str]) -> _states.DerivativeState:
        return _states.DerivativeState(len(names), self.order, self.append)


@dataclass(frozen=True)
class Magnitude(Stage):
    """Euclidean norm of a group of channels (e.g. the three axes of an accelerometer).

    Parameters
    ----------
    channels : sequence of int or str
        The group, by index or name, distinct.
    name : str, optional
        Name of the new channel; default ``"norm_" + "_".join(group names)``.
    append : bool
        False: the norm replaces the group (it takes the place of the group's first channel,
        the other channels keep their order); True: every input channel is kept and the norm
        comes last.
    """

    kind: ClassVar[str] = "magnitude"
    channels: tuple[ChannelRef, ...]
    name: str | None = None
    append: bool = False

    def __post_init__(self) -> None:
        _set(self, "channels", check_channels("Magnitude", "channels", self.channels))
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise invalid("Magnitude", "name", self.name, "a non-empty string or None")
        check_bool("Magnitude", "append", self.append)

    def _layout(self, names: Sequence[str]) -> tuple[list[int], list[int], int, tuple[str, ...]]:
        group = resolve_channels("Magnitude", "channels", self.channels, names)
        norm_name = self.name or "norm_" + "_".join(names[i] for i in group)
        if self.append:
            gather = list(range(len(names))) + [group[0]]
            where = len(names)
        else:
            first = min(group)
            gather = [i for i in range(len(names)) if i == first or i not in group]
            where = gather.index(first)
        out_names = [names[i] for i in gather]
        out_names[where] = norm_name
        return gather, group, where, tuple(out_names)

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        return self._layout(names)[3]

    def start(self, names: Sequence[str]) -> _states.MagnitudeState:
        gather, group, where, _ = self._layout(names)
        return _states.MagnitudeState(gather, group, where)


@dataclass(frozen=True)
class WindowStats(Stage):
    """Statistics of each channel over the last ``window_frames`` frames (fewer while it fills).

    Parameters
    ----------
    window_frames : int
        Window length in frames, 1 to :data:`MAX_WINDOW_FRAMES`.
    stats : sequence of {"mean", "std", "min", "max", "median"}
        Which statistics, in output order; the std is the population std (ddof=0).
    append : bool
        False: output the statistics only; True: the input channels, then the statistics.

    Notes
    -----
    Output channels come stat by stat: ``[<c>_mean for c in names] + [<c>_std ...]``.
    """

    kind: ClassVar[str] = "window_stats"
    window_frames: int
    stats: tuple[str, ...] = ("mean", "std")
    append: bool = False

    def __post_init__(self) -> None:
        _set(
            self,
            "window_frames",
            check_int(
                "WindowStats",
                "window_frames",
                self.window_frames,
                1,
                f"A window of 1 to {MAX_WINDOW_FRAMES} frames.",
                maximum=MAX_WINDOW_FRAMES,
            ),
        )
        stats = (self.stats,) if isinstance(self.stats, str) else self.stats
        if (
            not isinstance(stats, Sequence)
            or len(stats) == 0
            or any(s not in WINDOW_STATS for s in stats)
            or len(set(stats)) != len(stats)
        ):
            raise invalid(
                "WindowStats",
                "stats",
                self.stats,
                f"a non-empty list of distinct names among {list(WINDOW_STATS)}",
                "E.g. stats=('mean', 'std').",
            )
        _set(self, "stats", tuple(stats))
        check_bool("WindowStats", "append", self.append)

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        derived = tuple(f"{n}_{s}" for s in self.stats for n in names)
        return tuple(names) + derived if self.append else derived

    def start(self, names: Sequence[str]) -> _states.WindowState:
        return _states.WindowState(len(names), self.window_frames, self.stats, self.append)


@dataclass(frozen=True)
class Resample(Stage):
    """Resample to a fixed rate by linear interpolation on the frame times.

    One input frame gives zero, one or several output frames, on the grid
    ``t0 + k / rate_hz`` where ``t0`` is the first frame's time; an output frame is emitted
    once the input frame after it has arrived (at most one input step of delay). There is no
    anti-aliasing filter: to downsample a signal with content above the new Nyquist
    frequency, put a :class:`LowPass` first.

    Parameters
    ----------
    rate_hz : float
        Output rate in Hz, > 0 and at most :data:`MAX_RESAMPLE_HZ` (every frame is a model
        step and a reply; a model must step in less than ``1 / rate_hz``).
    max_gap_s : float
        A time step longer than this (a sensor drop-out) is not bridged: the grid starts
        again at the next frame. > 0; it bounds the frames one input frame can emit to
        ``max_gap_s * rate_hz + 1``.
    """

    kind: ClassVar[str] = "resample"
    emits_one: ClassVar[bool] = False
    rate_hz: float
    max_gap_s: float = 0.5

    def __post_init__(self) -> None:
        _set(
            self,
            "rate_hz",
            check_float("Resample", "rate_hz", self.rate_hz, low=0.0, low_open=True,
                        high=MAX_RESAMPLE_HZ,
                        hint=f"At most {MAX_RESAMPLE_HZ:g} Hz: every frame is a model step and "
                             "a reply (100 Hz is typical)."),
        )
        _set(
            self,
            "max_gap_s",
            check_float(
                "Resample",
                "max_gap_s",
                self.max_gap_s,
                low=0.0,
                low_open=True,
                hint="A few input periods is typical, e.g. 0.5.",
            ),
        )
        if self.max_gap_s * self.rate_hz > 100_000:
            raise invalid(
                "Resample",
                "max_gap_s",
                self.max_gap_s,
                f"at most {100_000 / self.rate_hz:g} s at {self.rate_hz:g} Hz",
                "Bridging such gaps would emit a burst of interpolated frames; lower max_gap_s.",
            )

    @property
    def uses_time(self) -> bool:
        return True

    def output_rate_hz(self, rate_hz: float | None) -> float | None:
        return self.rate_hz

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        return tuple(names)

    def start(self, names: Sequence[str]) -> _states.ResampleState:
        return _states.ResampleState(len(names), self.rate_hz, self.max_gap_s)


STAGES: Mapping[str, type[Stage]] = {
    cls.kind: cls
    for cls in (
        Select,
        Standardize,
        MovingAverage,
        MovingMedian,
        LowPass,
        OneEuro,
        Derivative,
        Magnitude,
        WindowStats,
        Resample,
    )
}
"""The registry of stage types by ``kind``: the only classes :func:`stage_from_dict` builds."""


def stage_from_dict(d: Mapping[str, Any]) -> Stage:
    """Build a stage from the dict :meth:`Stage.to_dict` gave.

    The class is looked up by ``d["type"]`` in :data:`STAGES`; nothing is imported by a name
    read from a file.

    Raises
    ------
    FormatError
        If the type is unknown, a key is missing or unknown, or a value is invalid.
    """
    if not isinstance(d, Mapping):
        raise FormatError(f"A feature stage must be a JSON object, got {type(d).__name__}.")
    kind = d.get("type")
    if not isinstance(kind, str) or kind not in STAGES:
        raise FormatError(
            f"Feature stage type {kind!r} is unknown; known types: {sorted(STAGES)}. "
            "The file may come from a newer gesturemap."
        )
    cls = STAGES[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - set(fields) - {"type"})
    if unknown:
        raise FormatError(
            f"Feature stage {kind!r} has unknown settings {unknown}; known: {sorted(fields)}."
        )
    missing = [
        name
        for name, f in fields.items()
        if name not in d
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise FormatError(f"Feature stage {kind!r} lacks settings {missing}.")
    kwargs = {name: d[name] for name in fields if name in d}
    try:
        return cls(**kwargs)
    except GesturemapError as error:
        raise FormatError(f"Feature stage {kind!r}: {error}") from error
