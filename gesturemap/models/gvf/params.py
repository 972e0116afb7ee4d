"""GVF's settings in a few groups, each a small frozen, checked value with the defaults that
cross-validation on HAPTTransitions' training subjects chose (experiments/gvf_eval.py):

- :class:`Templates`: how a class's templates are made from its takes and what else of the
  takes the class evidence weighs (their spread, where they start, their posture, their speed);
- :class:`Tracking`: the particles' random steps and spreads, their resampling and restart;
- :class:`Recognizer`: the HHMM that is a second expert on the class;
- :class:`Estimates`: how a class's ``speed`` and ``scale`` are read;
- :class:`Alignment`: the alignments that read them (``Estimates(speed="align_open")`` and
  ``scale="align"``, the defaults).

``gm.GVF(particles=2000, alignment=gm.GVF.Alignment(max_step=24))``;
``model.set_params(alignment__max_step=24)``; ``model.get_params(deep=True)`` names every
field ``<group>__<field>``. A saved model or project holds each group as a JSON object of its
fields. :data:`OLD_NAMES` maps the flat names of before (``align_max_step``) to the fields:
still accepted, with a DeprecationWarning in code and silently from files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...utils.validation import check_number
from ..base import ParamGroup, bad_param, check_choice, check_float, check_size

#: How a class's template is made from its takes (``Templates.kind``).
TEMPLATES = ("mean", "medoid")
#: How the class's scale is read (``Estimates.scale``).
SCALE_ESTIMATES = ("sampled", "fitted", "align")
#: How the class's speed is read (``Estimates.speed``).
SPEED_ESTIMATES = ("sampled", "align", "align_open")
#: How the recognizer HHMM's evidence is read (``Recognizer.decision``).
RECOGNIZER_DECISIONS = ("decaying", "cumulative")
#: How the alignments' speed is read (``Alignment.speed``): ``"slope"``, the least-squares
#: slope of the path's template frames against its frames (over ``Estimates.speed_window``);
#: ``"chord"``, the path's advance over its frames from where its slope begins (``"align"``:
#: the open end over the frames since the reset), the default, chosen by cross-validation on
#: HAPT's training subjects (files saved without it load with ``"slope"``).
ALIGN_SPEEDS = ("slope", "chord")
#: What the ``"align"`` scale is pulled towards (``Alignment.scale_target``).
ALIGN_SCALE_TARGETS = ("particles", "amplitude")
#: The largest ``Alignment.max_step`` (template frames one frame may advance an alignment).
ALIGN_MAX_STEP_LIMIT = 64


def _check_bools(group: ParamGroup, *names: str) -> None:
    for name in names:
        if not isinstance(getattr(group, name), bool):
            raise bad_param(group._field(name), getattr(group, name), "True or False")


def _check_frames(name: str, value: object, hint: str) -> None:
    window = check_float(name, value)
    if 0.0 < window < 1.0:
        raise bad_param(name, window, "0 or a number of frames >= 1", hint)


@dataclass(frozen=True, eq=False)
class Templates(ParamGroup):
    """How a class's templates are made from its takes, and what else of the takes weighs on
    the class.

    Parameters
    ----------
    kind : ``"mean"`` (the mean of the takes resampled to their median length) or
        ``"medoid"`` (the take nearest to the others).
    per_class : how many templates a class may have (GVF 2's multiple templates): its takes
        are grouped into at most this many groups of similar takes (k-medoids), each group
        gives a template; a class with fewer takes has one template per take. A particle
        follows one template of its class, chosen again whenever it starts a new gesture.
        ``speed`` and ``scale`` stay relative to the class's single template (all its takes).
    learned_tolerance : widen the tolerance of each template and input by the spread of its
        takes around it, ``sqrt(tolerance^2 + spread^2)``: inputs on which performers differ
        then count less. A class of one take borrows the other classes' spreads (gvf_spreads).
    start_posture : also weigh where a gesture starts: the first frame after a reset is
        compared with the first frames of each template's takes (a Gaussian of their spread,
        widened by ``tolerance``).
    posture_weight : weight of the absolute posture through the gesture on the class evidence
        (0: off): each particle's frame is compared with the mean absolute posture of its
        template's takes at its phase. For sensors whose absolute value means something (an
        accelerometer's gravity), it tells apart gestures of similar shape made from
        different postures. The particles (progress, speed, scale) follow the shape alone.
    speed_weight : weight of a class's usual speed on its evidence (0: off): the log-density
        of its particles' speed under a log-normal of its takes' speeds. Like an HMM's
        durations, it tells a gesture from the slowed beginning of a longer one.
    """

    name: ClassVar[str] = "templates"

    kind: str = "mean"
    per_class: int = 4
    learned_tolerance: bool = False
    start_posture: bool = True
    posture_weight: float = 0.3
    speed_weight: float = 0.1

    def _check(self) -> None:
        check_choice(self._field("kind"), self.kind, TEMPLATES)
        check_size(self._field("per_class"), self.per_class)
        _check_bools(self, "learned_tolerance", "start_posture")
        check_float(self._field("posture_weight"), self.posture_weight)
        check_float(self._field("speed_weight"), self.speed_weight)


@dataclass(frozen=True, eq=False)
class Tracking(ParamGroup):
    """The particles' random steps and spreads, their resampling and their restart.

    Parameters
    ----------
    resampling_threshold : a class resamples when its effective number of particles falls
        under this fraction of its particles.
    restart_probability : chance per frame that a particle at the end of its template starts
        again on a new gesture (1: at once, as in GVF); until then it holds the template's
        final posture, so a performer who ends slower or stays still keeps the estimates.
    phase_noise, speed_noise, scale_noise, rotation_noise, offset_noise : standard deviation
        of each variable's random step per frame (phase in template fractions; speed and scale
        in log units: a step multiplies them by ``exp(noise * N(0, 1))``; rotation in
        radians; offset in standardised units).
    phase_spread : a new particle starts at a phase uniform in [0, phase_spread].
    speed_spread, scale_spread, rotation_spread : spread of a new particle's speed and scale
        (``exp(spread * N(0, 1))``) and rotation (``spread * N(0, 1)``): the range of
        variations expected.
    """

    name: ClassVar[str] = "tracking"

    resampling_threshold: float = 0.25
    restart_probability: float = 0.002
    phase_noise: float = 0.001
    speed_noise: float = 0.015
    scale_noise: float = 0.05
    rotation_noise: float = 0.01
    offset_noise: float = 0.0
    phase_spread: float = 0.05
    speed_spread: float = 0.6
    scale_spread: float = 0.6
    rotation_spread: float = 0.3

    def _check(self) -> None:
        check_number(self._field("resampling_threshold"), self.resampling_threshold,
                     minimum=0, maximum=1, hint="0 never resamples, 1 resamples at every frame.")
        for name in ("phase_noise", "speed_noise", "scale_noise", "rotation_noise",
                     "offset_noise", "speed_spread", "scale_spread", "rotation_spread"):
            check_float(self._field(name), getattr(self, name))
        check_number(self._field("phase_spread"), self.phase_spread, minimum=0, maximum=1)
        p = check_float(self._field("restart_probability"), self.restart_probability, 0.0,
                        strict=True)
        if p > 1.0:
            raise bad_param(self._field("restart_probability"), p, "a probability in (0, 1]",
                            "1 starts a particle again as soon as it reaches the end of its "
                            "template; smaller values let it hold the final posture.")


@dataclass(frozen=True, eq=False)
class Recognizer(ParamGroup):
    """A second expert on the class: an HHMM trained on the same takes (gvf_recognizer).

    Parameters
    ----------
    weight : weight ``w`` in [0, 1] of the HHMM in the class decision (0: off, the particle
        filter alone; 1: the HHMM alone). The stream's class log-posterior is the log-linear
        pool ``(1 - w) * L_gvf + w * L_hhmm`` of the particles' smoothed evidence and the
        HHMM's forward log-likelihood per class. ``label``, ``likelihoods`` and
        ``log_likelihoods`` are the pool's; nothing else is pooled. A model fitted with 0 has
        no HHMM (fit it again).
    states : states per class of that HHMM (left-right; takes need at least that many frames).
    decision : how the HHMM's log-likelihood is summed since the reset: ``"cumulative"``
        (none forgotten) or ``"decaying"`` (forgotten as the particles' evidence is, by
        ``1 / likelihood_window`` per frame).
    gate : 0 (off) or a width ``g``: the frame's weight moves towards 1 by ``exp(-dev / g)``,
        ``dev`` the leading classes' ``|log speed| + |log scale|``: the estimates then weigh
        on the class.
    """

    name: ClassVar[str] = "recognizer"

    weight: float = 0.5
    states: int = 10
    decision: str = "cumulative"
    gate: float = 1.0

    def _check(self) -> None:
        w = check_float(self._field("weight"), self.weight)
        if w > 1.0:
            raise bad_param(self._field("weight"), w, "a weight in [0, 1]",
                            "0 is the particle filter alone, 1 the HHMM alone on the class.")
        check_size(self._field("states"), self.states, limit="states")
        check_choice(self._field("decision"), self.decision, RECOGNIZER_DECISIONS)
        check_float(self._field("gate"), self.gate,
                    hint="A width in log units of speed and scale; 0 turns the gate off.")


@dataclass(frozen=True, eq=False)
class Estimates(ParamGroup):
    """How a class's ``speed`` and ``scale`` are read (the particles move and weigh the same
    whichever is chosen).

    Parameters
    ----------
    speed : ``"align_open"`` (the default: an alignment that restarts for a next gesture and
        holds at a held end, gvf_align_open), ``"align"`` (an alignment's speed since the
        reset) or ``"sampled"`` (the particles' mean speed).
    scale : ``"align"`` (the default: least squares along each class's alignment of its
        templates, gvf_align), ``"sampled"`` (the particles' mean scale) or ``"fitted"``
        (each particle's least-squares scale along its own path).
    speed_window : frames an alignment's slope looks back (0: since the reset).
    scale_window : frames a fitted scale looks back (0: since it started).
    """

    name: ClassVar[str] = "estimates"

    speed: str = "align_open"
    scale: str = "align"
    speed_window: float = 0.0
    scale_window: float = 100.0

    def _check(self) -> None:
        for field, choices in (("speed", SPEED_ESTIMATES), ("scale", SCALE_ESTIMATES)):
            value = getattr(self, field)
            values, why = REMOVED_VALUES[self._field(field)]
            if isinstance(value, str) and value in values:
                raise bad_param(self._field(field), value, "one of " + ", ".join(choices),
                                f"{value!r} was removed ({why}): use {values[value]!r}, the "
                                "default.")
            check_choice(self._field(field), value, choices)
        _check_frames(self._field("speed_window"), self.speed_window,
                      "0 reads the mean speed since the reset.")
        _check_frames(self._field("scale_window"), self.scale_window,
                      "0 looks back to where each particle started.")


@dataclass(frozen=True, eq=False)
class Alignment(ParamGroup):
    """The alignments of the live gesture to each template that read the speed and scale
    (``Estimates`` ``"align"``, ``"align_open"``). The defaults are what
    cross-validation on HAPT's training subjects chose; files saved before a field existed
    load with the value that reproduces what they ran.

    Parameters
    ----------
    max_step : how many template frames one frame may advance an alignment (the fastest
        speed followed, relative to a template), 1 to :data:`ALIGN_MAX_STEP_LIMIT`.
    speed : how an alignment's speed is read, :data:`ALIGN_SPEEDS`.
    null_cost, switch_cost, young_cost : how ``"align_open"``'s paths compare: a frame outside
        any gesture costs ``null_cost`` (0: paths compared per frame), a gesture begins from
        the null or a gesture's end plus ``switch_cost``, a young path pays ``young_cost`` for
        each frame it lacks (gvf_align_open).
    reset_margin : the since-reset speed until the open alignment's path is cheaper by this
        much (a new gesture), then the open alignment's (None: the open alignment's from the
        first frame).
    floor : the size normalisation's floor, a fraction of the template's root mean square
        (at most 100).
    scale_target, scale_prior : what the ``"align"`` scale is pulled towards (each input's
        amplitude ratio to the aligned template's prefix, or the particles' scale) and how
        strongly (``scale_prior`` > 0: it keeps the scale defined before the template has
        moved).
    margin_speed : the restart margin divided by the since-reset winner's speed to this power
        (0: off).
    """

    name: ClassVar[str] = "alignment"

    max_step: int = 48
    speed: str = "chord"
    null_cost: float = 6.0
    switch_cost: float = 150.0
    young_cost: float = 2.0
    reset_margin: float | None = 400.0
    floor: float = 0.02
    scale_target: str = "amplitude"
    scale_prior: float = 5.0
    margin_speed: float = 0.5

    def _check(self) -> None:
        check_number(self._field("max_step"), self.max_step, minimum=1,
                     maximum=ALIGN_MAX_STEP_LIMIT, integer=True,
                     hint="The most template frames one frame may advance an alignment.")
        check_choice(self._field("speed"), self.speed, ALIGN_SPEEDS)
        check_number(self._field("null_cost"), self.null_cost, minimum=0,
                     hint="0 compares the open alignment's paths by their cost per frame.")
        check_number(self._field("switch_cost"), self.switch_cost, minimum=0)
        check_number(self._field("young_cost"), self.young_cost, minimum=0)
        if self.reset_margin is not None:
            check_number(self._field("reset_margin"), self.reset_margin, minimum=0,
                         hint="None: the open alignment's speed from the first frame.")
        check_float(self._field("floor"), self.floor, 0.0, strict=True,
                    hint="The alignments' size normalisation's floor, a fraction of the "
                         "template's root mean square (files saved without it use 0.1).")
        # a fraction: beyond 100 template sizes the floor is all the normalisation sees
        check_number(self._field("floor"), self.floor, maximum=100,
                     hint="A fraction of the template's root mean square (the default is "
                          "0.02).")
        check_choice(self._field("scale_target"), self.scale_target, ALIGN_SCALE_TARGETS)
        # > 0: the prior is what keeps the least-squares scale defined before the template
        # has moved (0 divided by zero at the first frame)
        check_float(self._field("scale_prior"), self.scale_prior, 0.0, strict=True,
                    hint="How strongly the alignment's scale is pulled towards its target "
                         "(1 in files saved without it).")
        check_float(self._field("margin_speed"), self.margin_speed, 0.0,
                    hint="The restart margin over the since-reset winner's speed to this "
                         "power (0: off, as in files saved without it).")


#: The groups, by the GVF parameter that holds each.
GROUPS: dict[str, type[ParamGroup]] = {
    g.name: g for g in (Templates, Tracking, Recognizer, Estimates, Alignment)}

#: The flat names of before, ``{old: "<group>__<field>"}``.
OLD_NAMES = {
    "template": "templates__kind", "templates_per_class": "templates__per_class",
    "learned_tolerance": "templates__learned_tolerance",
    "start_posture": "templates__start_posture",
    "posture_weight": "templates__posture_weight", "speed_weight": "templates__speed_weight",
    **{name: f"tracking__{name}" for name in (
        "resampling_threshold", "restart_probability", "phase_noise", "speed_noise",
        "scale_noise", "rotation_noise", "offset_noise", "phase_spread", "speed_spread",
        "scale_spread", "rotation_spread")},
    **{f"recognizer_{name}": f"recognizer__{name}"
       for name in ("weight", "states", "decision", "gate")},
    "speed_estimate": "estimates__speed", "scale_estimate": "estimates__scale",
    "speed_window": "estimates__speed_window", "scale_window": "estimates__scale_window",
    **{f"align_{name}": f"alignment__{name}" for name in (
        "max_step", "speed", "null_cost", "switch_cost", "young_cost", "reset_margin", "floor",
        "scale_target", "scale_prior", "margin_speed")},
}

#: Settings removed because the project's cross-validations (experiments/gvf_eval.py, on
#: HAPTTransitions' training subjects) rejected every value but the one kept,
#: ``{old name: (the value kept, why)}``.
REMOVED = {
    "posture_in_particles": (
        False, "the absolute posture in each particle's weight scored below the posture on "
               "the class evidence alone in cross-validation (0.522 against 0.562)."),
    "recognizer_schedule": (
        "constant", "cross-validation kept the recognizer's constant weight over the "
                    "'progress' schedule."),
    "recognizer_input": (
        "plain", "cross-validation chose the plain frame for the recognizer HHMM: the frame "
                 "rescaled by the early scale estimates lost."),
}

_WARP = ("cross-validation on HAPT's training subjects read the speed as well from the "
         "templates' alignments as from the time warp, which needs an HHMM of its own, and the "
         "open alignment also restarts for a next gesture without a reset")
#: Values removed because the project's cross-validations (experiments/gvf_eval.py, on
#: HAPTTransitions' training subjects) rejected them, ``{field: ({value: the value a file
#: holding it loads with}, why)}``.
REMOVED_VALUES = {
    "estimates__speed": (
        {"warp": "align_open", "warp_rescaled": "align_open", "align_anchor": "align_open"},
        f"the time warps: {_WARP}; 'align_anchor' read the speed of a second gesture "
        "streamed without a reset within 15 % on 18.6 % of its frames in cross-validation, "
        "'align_open' on 48.6 %"),
    "estimates__scale": (
        {"warp_fitted": "align"},
        "the scale along the templates' alignments was within 15 % on 87.0 % of frames in "
        "cross-validation, along the time warp's on 76.1 %"),
}
#: Fields that only the removed values read (and their flat name of before), ``{name: why}``.
UNUSED = dict.fromkeys(("estimates__speed_states", "speed_states"),
                       f"it chose the HHMM of the time-warp estimates, removed: {_WARP}")
