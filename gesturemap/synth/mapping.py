"""Which model output drives which synth parameter: range, curve and smoothing.

A mapping is plain data, saved in the project's ``outputs`` settings under the ``"synth"`` key
(:meth:`SynthMapping.to_dict` / :meth:`SynthMapping.from_dict`). Sources name a model output:

- ``"output:I"``: the regression output number ``I`` (0-based; GMR, HMR);
- ``"likelihood:CLASS"``: the normalised likelihood of class ``CLASS``;
- ``"progress:CLASS"``: the time progression 0..1 within class ``CLASS`` (HHMM);
- ``"speed:CLASS"``, ``"scale:CLASS"``, ``"rotation:CLASS"``: how class ``CLASS``'s gesture is
  performed (GVF): its speed and scale relative to its template (1 = as recorded; the scale is
  the mean over the inputs) and its rotation in radians (2-D: the angle; 3-D: the angle of the
  rotation vector);
- ``CLASS`` may be ``*``: the class the frame chose, its likeliest; none on a frame that
  chose none (below the project's ``reject_below``: :mod:`gesturemap.outputs.rejection`),
  where a ``*`` route leaves its parameter at rest.

In a DTW project (a result with ``distances``) the routes read what the outputs send:
``likelihood:CLASS`` is the gesture's closeness from its distance (0..1, 0.5 at the match
threshold: :mod:`gesturemap.outputs.closeness`, MIDI's controllers' value), and ``*`` is the
gesture that matches; while none matches, a ``*`` route leaves its parameter at rest.

Each source value is scaled from ``[in_min, in_max]`` (clipped) onto ``[out_min, out_max]``
through a curve: ``lin``; ``exp`` (geometric between two positive bounds, as pitch and gain
are heard; a 40 dB-wide exponential otherwise); ``log`` (its inverse). ``smoothing_ms`` is
the time constant of the per-sample one-pole glide towards each new value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..utils.validation import check_choice, check_mapping, check_number, validation_error
from . import _kernels as K


@dataclass(frozen=True)
class ParameterSpec:
    """One synth parameter: its slot, default value, bounds, default smoothing and meaning."""

    index: int
    default: float
    minimum: float
    maximum: float
    smoothing_ms: float
    doc: str


#: The synth's parameters, by name. Gains are linear (1 = full scale).
PARAMETERS: dict[str, ParameterSpec] = {
    "pitch_hz": ParameterSpec(K.PITCH_HZ, 220.0, 20.0, 8000.0, 30.0, "FM voice: pitch, Hz"),
    "loudness": ParameterSpec(K.LOUDNESS, 0.0, 0.0, 1.0, 20.0, "FM voice: gain"),
    "brightness": ParameterSpec(
        K.BRIGHTNESS, 0.7, 0.0, 1.0, 30.0, "FM voice: low-pass cutoff, 0 = 40 Hz .. 1 = 20 kHz"
    ),
    "mod_depth": ParameterSpec(K.MOD_DEPTH, 1.0, 0.0, 20.0, 30.0, "FM voice: modulation index"),
    "mod_ratio": ParameterSpec(
        K.MOD_RATIO, 2.0, 0.0, 16.0, 30.0, "FM voice: modulator / carrier frequency ratio"
    ),
    "vibrato_depth": ParameterSpec(
        K.VIBRATO_DEPTH, 0.0, 0.0, 2.0, 50.0, "FM voice: vibrato depth, semitones"
    ),
    "vibrato_rate_hz": ParameterSpec(
        K.VIBRATO_RATE_HZ, 5.0, 0.0, 20.0, 50.0, "FM voice: vibrato rate, Hz"
    ),
    "follower_position": ParameterSpec(
        K.FOLLOWER_POSITION, 0.0, 0.0, 1.0, 20.0, "sample follower: playback position 0..1"
    ),
    "follower_gain": ParameterSpec(K.FOLLOWER_GAIN, 0.0, 0.0, 1.0, 20.0, "sample follower: gain"),
    "follower_transpose": ParameterSpec(
        K.FOLLOWER_TRANSPOSE, 0.0, -12.0, 12.0, 30.0, "sample follower: transposition, semitones"
    ),
    "oneshot_gain": ParameterSpec(K.ONESHOT_GAIN, 0.8, 0.0, 1.0, 10.0, "one-shot sounds: gain"),
    "master_gain": ParameterSpec(K.MASTER_GAIN, 1.0, 0.0, 1.0, 20.0, "everything: gain"),
}
assert sorted(p.index for p in PARAMETERS.values()) == list(range(K.N_PARAMS))

#: Every gain glides for at least this long, so nothing ever starts or stops with a click.
MIN_GAIN_SMOOTHING_MS = 3.0
_GAIN_NAMES = ("loudness", "follower_gain", "oneshot_gain", "master_gain")

CURVES = {"lin": K.CURVE_LIN, "exp": K.CURVE_EXP, "log": K.CURVE_LOG}
KINDS = {"output": K.KIND_OUTPUT, "likelihood": K.KIND_LIKELIHOOD, "progress": K.KIND_PROGRESS,
         "speed": K.KIND_SPEED, "scale": K.KIND_SCALE, "rotation": K.KIND_ROTATION}
LIKELIEST = "*"


def _source(value: Any, where: str) -> tuple[str, str]:
    expected = (
        '"output:I", "likelihood:CLASS", "progress:CLASS", "speed:CLASS", "scale:CLASS" or '
        '"rotation:CLASS" (CLASS may be "*", the likeliest class)'
    )
    if not isinstance(value, str) or ":" not in value:
        raise validation_error(where, value, expected)
    kind, _, which = value.partition(":")
    if kind not in KINDS or not which:
        raise validation_error(where, value, expected)
    if kind == "output" and not (which.isdigit()):
        raise validation_error(where, value, '"output:I" with I a whole number >= 0')
    return kind, which


@dataclass(frozen=True)
class Route:
    """One model output driving one synth parameter.

    Parameters
    ----------
    source : str
        ``"output:I"``, ``"likelihood:CLASS"`` or ``"progress:CLASS"`` (``CLASS`` may be ``*``).
    target : str
        A name in :data:`PARAMETERS`.
    in_min, in_max : float
        The source range mapped onto the parameter range (values outside are clipped).
    out_min, out_max : float, optional
        The parameter range (default: the parameter's full range).
    curve : {"lin", "exp", "log"}
    smoothing_ms : float, optional
        Glide time constant (default: the parameter's).
    """

    source: str
    target: str
    in_min: float = 0.0
    in_max: float = 1.0
    out_min: float | None = None
    out_max: float | None = None
    curve: str = "lin"
    smoothing_ms: float | None = None

    def __post_init__(self) -> None:
        _source(self.source, "synth route source")
        spec = PARAMETERS.get(self.target)
        if spec is None:
            raise validation_error(
                "synth route target", self.target, "one of " + ", ".join(PARAMETERS)
            )
        check_choice("synth route curve", self.curve, list(CURVES))
        for name in ("in_min", "in_max"):
            check_number(f"synth route {name}", getattr(self, name))
        if self.in_min == self.in_max:
            raise validation_error("synth route in_max", self.in_max, "different from in_min")
        for name in ("out_min", "out_max"):
            v = getattr(self, name)
            if v is not None:
                check_number(
                    f"synth route {name} ({self.target})",
                    v,
                    minimum=spec.minimum,
                    maximum=spec.maximum,
                )
        if self.smoothing_ms is not None:
            check_number(
                "synth route smoothing_ms", self.smoothing_ms, minimum=0.0, maximum=10000.0
            )

    def bounds(self) -> tuple[float, float]:
        spec = PARAMETERS[self.target]
        lo = spec.minimum if self.out_min is None else float(self.out_min)
        hi = spec.maximum if self.out_max is None else float(self.out_max)
        return lo, hi

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class SynthMapping:
    """The whole synth configuration a project saves.

    Parameters
    ----------
    routes : list of Route
    parameters : dict of str to float
        Values of the parameters no route drives (defaults: :data:`PARAMETERS`).
    follower_sound : str or None
        The sample follower's sound: a built-in name (see
        :func:`gesturemap.synth.sounds.builtin_sounds`) or a WAV/FLAC path.
    oneshots : dict of str to str
        Class label -> sound played when that class is recognised.
    onset_threshold : float
        A one-shot starts when the likeliest class's likelihood reaches this value...
    onset_release : float
        ...and may start again once it fell below this one (or another class took over).
    onset_min_interval_ms : float
        Shortest time between two onsets of likelihoods (a DTW gesture's one-shot starts
        on each new match, however soon).
    """

    routes: list[Route] = field(default_factory=list)
    parameters: dict[str, float] = field(default_factory=dict)
    follower_sound: str | None = "pad"
    oneshots: dict[str, str] = field(default_factory=dict)
    onset_threshold: float = 0.7
    onset_release: float = 0.5
    onset_min_interval_ms: float = 150.0

    def __post_init__(self) -> None:
        self.routes = [_route(number, r) for number, r in enumerate(self.routes, 1)]
        for name, value in self.parameters.items():
            spec = PARAMETERS.get(name)
            if spec is None:
                raise validation_error("synth parameters", name, "one of " + ", ".join(PARAMETERS))
            check_number(
                f"synth parameter {name}", value, minimum=spec.minimum, maximum=spec.maximum
            )
        check_number("synth onset_threshold", self.onset_threshold, minimum=0.0, maximum=1.0)
        check_number(
            "synth onset_release",
            self.onset_release,
            minimum=0.0,
            maximum=self.onset_threshold,
            hint="Keep it at or below onset_threshold.",
        )
        check_number("synth onset_min_interval_ms", self.onset_min_interval_ms, minimum=0.0)
        if self.follower_sound is not None and not isinstance(self.follower_sound, str):
            raise validation_error(
                "synth follower_sound", self.follower_sound, "a built-in sound name or a file path"
            )
        for label, sound in self.oneshots.items():
            if not isinstance(sound, str):
                raise validation_error(
                    f"synth oneshots[{label!r}]", sound, "a built-in sound name or a file path"
                )

    @classmethod
    def default(cls, outputs: int | None = None, kind: str | None = None,
                ranges: Sequence[tuple[float, float]] = ()) -> SynthMapping:
        """A mapping that sounds with the model it is for: regression outputs play the FM
        voice, the likeliest class's likelihood its loudness, its progress the follower's
        position.

        A DTW model's (``kind="dtw"``) sounds only while a gesture matches: its
        ``likelihood:*`` is the matching gesture's closeness (0.5 at the match threshold,
        :mod:`gesturemap.outputs.closeness`), which drives the voice's loudness and the
        follower's gain in proportion (a match at the threshold plays at half the loudness of
        a perfect one), and at rest, where nothing matches, both rest at 0. A classifier's
        likeliest class always has some likelihood, so its loudness starts above 0.3, on an
        exponential curve, and its follower's gain rises from 0 at 0.3 to 0.5 at 1; with no
        model yet, or on a frame rejected below ``reject_below`` (no class chosen), both
        rest at 0: silent.

        Parameters
        ----------
        outputs : int, optional
            The model's number of regression outputs: the first two drive the pitch and the
            brightness. 0: a model of classes, which has none to route (its likelihood and
            progress drive the sound). None (not known): routes for two outputs, which stay
            silent where the model has none.
        kind : str, optional
            The model's kind (a project's ``model["kind"]``); None: a classifier's default.
        ranges : sequence of (low, high), optional
            Each regression output's range (:func:`gesturemap.outputs.ranges.output_ranges`:
            the targets recorded in the takes), the input range of its route; 0..1 for an
            output it does not cover. A model trained on targets of 0..127 then plays its
            whole pitch range, not the top pitch from 1 up.
        """
        n = 2 if outputs is None else max(0, int(outputs))

        def span(k: int) -> tuple[float, float]:
            lo, hi = ranges[k] if k < len(ranges) else (0.0, 1.0)
            ok = math.isfinite(lo) and math.isfinite(hi) and hi != lo
            return (float(lo), float(hi)) if ok else (0.0, 1.0)

        voice = [
            Route("output:0", "pitch_hz", *span(0), 110.0, 880.0, "exp"),
            Route("output:1", "brightness", *span(1), 0.2, 1.0),
        ][:n]
        if kind == "dtw":
            # a match's closeness is anywhere from 1/6 up, 0.5 at the threshold: a linear
            # route from 0 keeps every match audible, where a classifier's exponential curve
            # from 0.3 would leave a match at the threshold 31 dB below a perfect one
            return cls(
                routes=[
                    *voice,
                    Route("likelihood:*", "loudness", 0.0, 1.0, 0.0, 0.25),
                    Route("likelihood:*", "follower_gain", 0.0, 1.0, 0.0, 0.5),
                    Route("progress:*", "follower_position", 0.0, 1.0),
                ],
                parameters={"mod_depth": 1.5},
            )
        # the follower's gain follows the choice too: a fixed gain played the pad before
        # anything was trained and on every rejected frame, where a musician expects silence
        return cls(
            routes=[
                *voice,
                Route("likelihood:*", "loudness", 0.3, 1.0, 0.0, 0.25, "exp"),
                Route("likelihood:*", "follower_gain", 0.3, 1.0, 0.0, 0.5),
                Route("progress:*", "follower_position", 0.0, 1.0),
            ],
            parameters={"mod_depth": 1.5},
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (what :meth:`from_dict` reads back)."""
        return {
            "routes": [r.to_dict() for r in self.routes],
            "parameters": dict(self.parameters),
            "follower_sound": self.follower_sound,
            "oneshots": dict(self.oneshots),
            "onset_threshold": self.onset_threshold,
            "onset_release": self.onset_release,
            "onset_min_interval_ms": self.onset_min_interval_ms,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, outputs: int | None = None,
                  kind: str | None = None,
                  ranges: Sequence[tuple[float, float]] = ()) -> SynthMapping:
        """Read a mapping saved by :meth:`to_dict` (none saved, ``None`` or no more than the
        ``"audio"`` settings: :meth:`default` for a model of kind ``kind`` with ``outputs``
        regression outputs over ``ranges``)."""
        if not saves_mapping(d):
            return cls.default(outputs, kind, ranges)
        if not isinstance(d, Mapping):
            raise validation_error("synth settings", d, "a JSON object")
        known = {f for f in cls.__dataclass_fields__}
        kw = check_mapping("synth settings", d, known | {"audio"})
        kw.pop("audio", None)  # where it plays: AudioSettings
        if not isinstance(kw.get("routes", []), list):
            raise validation_error("synth routes", kw["routes"], "a list of routes")
        kw["parameters"] = check_mapping("synth parameters", kw.get("parameters"),
                                         what="parameter names and values")
        kw["oneshots"] = check_mapping("synth oneshots", kw.get("oneshots"),
                                       what="class names and their sounds")
        return cls(**kw)

    # -- compiled forms, for the kernels -------------------------------------------------------
    def base_values(self) -> np.ndarray:
        """(N_PARAMS,) float64: each parameter's value when no route drives it."""
        base = np.empty(K.N_PARAMS)
        for name, spec in PARAMETERS.items():
            base[spec.index] = float(self.parameters.get(name, spec.default))
        return base

    def smoothing_ms(self) -> np.ndarray:
        """(N_PARAMS,) glide time constants: the last route's, else the parameter's."""
        ms = np.empty(K.N_PARAMS)
        for spec in PARAMETERS.values():
            ms[spec.index] = spec.smoothing_ms
        for r in self.routes:
            if r.smoothing_ms is not None:
                ms[PARAMETERS[r.target].index] = r.smoothing_ms
        for name in _GAIN_NAMES:
            i = PARAMETERS[name].index
            ms[i] = max(ms[i], MIN_GAIN_SMOOTHING_MS)
        return ms

    def route_table(self, class_names: list[str]) -> np.ndarray:
        """(routes, N_ROUTE_COLUMNS) float64 table for :func:`_kernels.map_routes`.

        Routes naming a class the model does not know are left out.
        """
        index = {str(c): i for i, c in enumerate(class_names)}
        rows = []
        for r in self.routes:
            kind, which = _source(r.source, "synth route source")
            if kind == "output":
                idx = int(which)
            elif which == LIKELIEST:
                idx = -1
            elif which in index:
                idx = index[which]
            else:
                continue
            lo, hi = r.bounds()
            k = 0.0
            if r.curve != "lin":
                k = math.log(hi / lo) if lo > 0 and hi > 0 and hi != lo else math.log(100.0)
                if lo > 0 and hi > 0 and hi < lo:
                    k = math.log(lo / hi)  # the same curve, run from the top
                    lo, hi = hi, lo
                    rows.append(
                        [
                            KINDS[kind],
                            idx,
                            PARAMETERS[r.target].index,
                            r.in_max,
                            r.in_min,
                            lo,
                            hi,
                            CURVES[r.curve],
                            k,
                        ]
                    )
                    continue
            rows.append(
                [
                    KINDS[kind],
                    idx,
                    PARAMETERS[r.target].index,
                    r.in_min,
                    r.in_max,
                    lo,
                    hi,
                    CURVES[r.curve],
                    k,
                ]
            )
        table = np.array(rows, dtype=np.float64).reshape(-1, K.N_ROUTE_COLUMNS)
        return K.readonly(table)


def saves_mapping(settings: Any) -> bool:
    """Whether a project's ``outputs["synth"]`` saves a mapping of its own: not when absent,
    nor when it says only where the synth plays (``"audio"``), which plays the default for
    the model (a device chosen by hand must not silence the default)."""
    if settings is None:
        return False
    return not isinstance(settings, Mapping) or bool(set(settings) - {"audio"})


def _route(number: int, r: Any) -> Route:
    """Route number ``number`` (from 1) of a mapping, from a Route or its dict. A wrong one is
    said by its number and what it routes: a mapping holds many, whose errors would
    otherwise read alike ("synth route in_max: got 1; expected different from in_min")."""
    if isinstance(r, Route):
        return r
    try:
        return Route(**_route_kwargs(r))
    except GesturemapError as exc:
        name = f"synth route {number}"
        if isinstance(r, Mapping) and "source" in r and "target" in r:
            name += f" ({r['source']} -> {r['target']})"
        raise GesturemapError(str(exc).replace("synth route", name, 1)) from exc


def _route_kwargs(r: Any) -> dict[str, Any]:
    if not isinstance(r, Mapping):
        raise validation_error("synth route", r, "a JSON object with source and target")
    allowed = set(Route.__dataclass_fields__)
    extra = set(r) - allowed
    if extra:
        raise validation_error("synth route", sorted(extra), f"keys among {sorted(allowed)}")
    missing = [k for k in ("source", "target") if k not in r]
    if missing:
        raise validation_error("synth route", dict(r), "a source and a target",
                               f"Add its {' and '.join(missing)}, e.g. "
                               '{"source": "likelihood:*", "target": "loudness"}.')
    return dict(r)


def limits() -> np.ndarray:
    """(2, N_PARAMS): every parameter's minimum and maximum."""
    out = np.empty((2, K.N_PARAMS))
    for spec in PARAMETERS.values():
        out[0, spec.index], out[1, spec.index] = spec.minimum, spec.maximum
    return K.readonly(out)
