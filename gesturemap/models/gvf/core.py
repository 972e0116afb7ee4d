"""Gesture Variation Follower (Caramiaux et al., ACM TiiS 2014): how a gesture is performed.

Per class up to ``templates.per_class`` templates (GVF 2's multiple templates): the takes are
grouped into similar takes (k-medoids) and each group gives the mean of its takes resampled to
their median length, or its medoid take. A stream runs a particle filter over (class, template,
phase, speed, scale per input, rotation, offset): at every frame each particle moves along its
template by ``speed / template length``, its variables take a small random step (speed and
scale multiplicative), and it is weighed by how well ``scale * rotate(template(phase)) +
offset`` explains the frame (a Gaussian of standard deviation ``tolerance`` in standardised
units, optionally widened per template and input by the takes' spread around it). The weights
give the class posterior (``likelihoods``) and, per class, weighted means of the phase
(``progress``), ``speed``, ``scale`` and ``rotation``, speed and scale converted to the class's
single template (all its takes) so that they do not depend on which template the particles
follow. Templates are stored relative to their first frame and a particle's offset starts at
the frame it started on, so scale and rotation act about the gesture's start; with
``templates.start_posture`` the first frame after a reset is also compared with where each
template's takes started. The particles are shared evenly among the classes and each class resamples
its own, so every class always has its estimates (and can take over when the performer changes
gesture); a class's likelihood is its smoothed evidence (``log p(frame | class, past frames)``,
forgotten by ``1 / likelihood_window`` per frame). A particle at its template's end holds the final
posture and starts again with probability ``tracking.restart_probability`` per frame. On the class
evidence only (the particles and their estimates follow the shape alone), the absolute posture
through the gesture (``templates.posture_weight``: each template's mean posture at each frame) and
each class's usual speed (``templates.speed_weight``) can weigh in too. With ``recognizer.weight``,
an HHMM trained on the same takes is a second expert on the class: the stream's class posterior is
the log-linear pool ``(1 - w) * GVF evidence + w * HHMM log-likelihood`` (both smoothed with the
same forgetting); the particles and their estimates are left alone. ``estimates.scale="fitted"``
reports each particle's least-squares scale along its path; the default speed and scale are read
from alignments of the frames to the templates (gvf_align, gvf_align_open). Every random number comes from the stream's own generator, seeded with
``random_state``: a stream (and its ``reset``) is reproducible, and streams sharing a model are
independent.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import fields
from typing import Any

import numpy as np

from ...data import Dataset
from ...errors import GesturemapError
from .._absurd import absurd_limit, is_absurd
from .._standardize import StandardizingStream, fit_standardization
from .._stream_memo import shared
from ..base import (
    BaseModel,
    Cancel,
    ProgressCallback,
    Result,
    _frozen,
    bad_param,
    check_float,
    check_int,
    check_number,
    check_size,
    register_model,
    split_dataset,
)
from . import _kernels as _k
from .align import FLOOR, LEGACY_MAX_STEP, align_estimate
from .params import (  # noqa: F401 - SCALE_ESTIMATES, TEMPLATES: their home before
    GROUPS,
    OLD_NAMES,
    REMOVED,
    REMOVED_VALUES,
    SCALE_ESTIMATES,
    TEMPLATES,
    UNUSED,
    Alignment,
    Estimates,
    Recognizer,
    Templates,
    Tracking,
)
from .recognizer import dump_hhmm, fit_hhmm, load_hhmm, recognizer_pool
from .spreads import borrow_spreads
from .templates import _clusters, _resample, _template, uneven_takes

#: A template needs this many takes for a posture spread of its own (else its class's).
MIN_POSTURE_TAKES = 3
#: Posture spreads are averaged over this fraction of the template on either side.
SMOOTH_FRACTION = 0.05
#: Least spread (log units) of a class's speeds for ``speed_weight``.
SPEED_SPREAD_FLOOR = 0.1
#: How strongly a fitted scale (``estimates.scale="fitted"``) is pulled towards the particle's
#: sampled scale: as many frames of a template one standardised unit from its start.
SCALE_FIT_PRIOR = 1.0
#: The largest ``tolerance``, in standard deviations of the inputs: at 1,000 every frame looks
#: alike to every particle, nothing is left to follow.
MAX_TOLERANCE = 1000.0
#: Saved arrays of the recognizer HHMM carry this prefix.
RECOGNIZER_PREFIX = "recognizer_"
#: The groups' defaults (frozen: every model that is not given its own shares them).
DEFAULT_TEMPLATES, DEFAULT_TRACKING = Templates(), Tracking()
DEFAULT_RECOGNIZER, DEFAULT_ESTIMATES, DEFAULT_ALIGNMENT = Recognizer(), Estimates(), Alignment()


def _spread(takes: list[np.ndarray], tmpl: np.ndarray) -> np.ndarray:
    """(D,) root mean square difference between takes (relative to their first frame,
    resampled to the template's length) and the template."""
    r = np.array([_resample(t - t[0], len(tmpl)) - tmpl for t in takes])
    return np.sqrt(np.mean(r**2, axis=(0, 1)))


def _posture_spreads(takes: list[np.ndarray], posture: np.ndarray) -> np.ndarray:
    """(T, D) spread of the takes' absolute postures around ``posture`` at each of its
    frames: root mean square difference of the takes resampled to its length."""
    r = np.array([_resample(t, len(posture)) - posture for t in takes])
    return np.sqrt(np.mean(r**2, axis=0))


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """(T, D) moving average over ``2 * width + 1`` frames (edges: the frames there are)."""
    if width < 1:
        return x
    c = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    i = np.arange(len(x))
    lo, hi = np.maximum(i - width, 0), np.minimum(i + width + 1, len(x))
    return (c[hi] - c[lo]) / (hi - lo)[:, None]


def _rms(tmpl: np.ndarray) -> np.ndarray:
    """(D,) root mean square of a template (relative to its first frame) per input."""
    return np.sqrt(np.mean(tmpl**2, axis=0))


@register_model
class GVF(BaseModel):
    """Gesture Variation Follower: which gesture, how far into it, how fast, how big, how
    turned — continuously, with a particle filter against a few templates per class.

    ``gm.GVF()`` has the defaults that cross-validation on HAPTTransitions' training subjects
    chose (experiments/gvf_eval.py; its tolerance, 0.15, is too tight on clean takes: 0.6).
    Most settings come in a few groups, each a frozen value with those defaults
    (:mod:`gesturemap.models.gvf.params`), ``gm.GVF(alignment=gm.GVF.Alignment(max_step=24))``
    or ``model.set_params(alignment__max_step=24)``; a group may also be given as a dict of
    (some of) its fields, and a field as ``alignment__max_step=24`` (settings held in one flat
    dict, ``gm.GVF(**settings)``). The flat names of before (``align_max_step=24``) still work this
    release, with a DeprecationWarning; saved models and projects with them load as before.

    Parameters
    ----------
    particles : number of particles (shared evenly by the classes; at least one each; at most
        200,000, 16 times the frame budget already).
    likelihood_window : frames over which a class's evidence is (exponentially) smoothed.
    tolerance : standard deviation of a frame around the particle's prediction, in
        standardised input units (larger: looser matching, slower to commit).
    rotation : estimate a rotation (inputs of 2 or 3 dimensions only).
    uniform_scale : one scale for all inputs instead of one per input.
    templates : :class:`~gesturemap.models.gvf.params.Templates`, how the templates are made
        and what else of the takes weighs on the class (``kind``, ``per_class``,
        ``learned_tolerance``, ``start_posture``, ``posture_weight``, ``speed_weight``).
    tracking : :class:`~gesturemap.models.gvf.params.Tracking`, the particles' noises and
        spreads, resampling and restart.
    recognizer : :class:`~gesturemap.models.gvf.params.Recognizer`, the HHMM that is a second
        expert on the class (``weight``, ``states``, ``decision``, ``gate``).
    estimates : :class:`~gesturemap.models.gvf.params.Estimates`, how ``speed`` and ``scale``
        are read.
    alignment : :class:`~gesturemap.models.gvf.params.Alignment`, the alignments that read
        them.
    standardize : scale inputs by the training statistics first (with ``rotation``, one
        scale for all inputs, so that angles stay true).
    random_state : seed of every stream's random generator.
    """

    kind = "gvf"
    Templates = Templates
    Tracking = Tracking
    Recognizer = Recognizer
    Estimates = Estimates
    Alignment = Alignment

    #: Run-time settings (no new fit needed): the groups' fields by their nested names.
    runtime_params = ("particles", "likelihood_window", "tolerance", "random_state",
                      *(f"tracking__{f.name}" for f in fields(Tracking)),
                      *(f"alignment__{f.name}" for f in fields(Alignment)),
                      "templates__learned_tolerance", "templates__start_posture",
                      "templates__posture_weight", "templates__speed_weight",
                      "recognizer__weight", "recognizer__decision", "recognizer__gate",
                      "estimates__speed", "estimates__scale", "estimates__speed_window",
                      "estimates__scale_window")

    #: saved before several templates per class: one template, no start posture, restart at
    #: the end at once (the multiplicative speed and scale steps came at the same time); and
    #: each later setting's value that reproduces what files saved before it ran
    legacy_params = {"templates__per_class": 1, "templates__start_posture": False,
                     "tracking__restart_probability": 1.0,
                     "templates__learned_tolerance": False, "templates__posture_weight": 0.0,
                     "templates__speed_weight": 0.0, "recognizer__weight": 0.0,
                     "recognizer__decision": "decaying", "recognizer__gate": 0.0,
                     "recognizer__states": 5, "estimates__scale": "sampled",
                     "estimates__speed": "sampled", "estimates__speed_window": 0.0,
                     "alignment__max_step": LEGACY_MAX_STEP,
                     "alignment__speed": "slope", "alignment__null_cost": 0.0,
                     "alignment__young_cost": 0.0, "alignment__reset_margin": None,
                     "alignment__floor": FLOOR, "alignment__scale_target": "particles",
                     "alignment__scale_prior": 1.0, "alignment__margin_speed": 0.0}
    renamed_params = OLD_NAMES
    removed_params = REMOVED
    removed_values = REMOVED_VALUES
    unused_params = UNUSED

    def __init__(self, particles: int = 1000, *, likelihood_window: float = 200.0,
                 tolerance: float = 0.6, rotation: bool = False, uniform_scale: bool = False,
                 templates: Templates = DEFAULT_TEMPLATES,
                 tracking: Tracking = DEFAULT_TRACKING,
                 recognizer: Recognizer = DEFAULT_RECOGNIZER,
                 estimates: Estimates = DEFAULT_ESTIMATES,
                 alignment: Alignment = DEFAULT_ALIGNMENT, standardize: bool = True,
                 random_state: int = 0) -> None:
        self.particles = particles
        self.likelihood_window = likelihood_window
        self.tolerance = tolerance
        self.rotation = rotation
        self.uniform_scale = uniform_scale
        # a group may come as a dict of its fields (a saved model's or project's JSON)
        self.templates = Templates.from_value(templates)
        self.tracking = Tracking.from_value(tracking)
        self.recognizer = Recognizer.from_value(recognizer)
        self.estimates = Estimates.from_value(estimates)
        self.alignment = Alignment.from_value(alignment)
        self.standardize = standardize
        self.random_state = random_state

    def _check_runtime_params(self) -> None:
        check_size("particles", self.particles)
        check_float("tolerance", self.tolerance, 0.0, strict=True)
        # a standard deviation in standardised units: at 1,000 every frame is alike to every
        # particle (and the squares of a value near 1e154 overflow at the first frame)
        check_number("tolerance", self.tolerance, maximum=MAX_TOLERANCE,
                     hint="The default is 0.6 standard deviations of the inputs.")
        check_float("likelihood_window", self.likelihood_window, 1.0)
        for name, group in GROUPS.items():
            if not isinstance(getattr(self, name), group):  # (set by hand: checked on entry)
                raise bad_param(name, getattr(self, name), f"a GVF.{group.__name__}(...)")
        check_int("random_state", self.random_state, 0)

    def _check_params(self) -> None:
        self._check_runtime_params()
        for name in ("rotation", "uniform_scale", "standardize"):
            if not isinstance(getattr(self, name), bool):
                raise bad_param(name, getattr(self, name), "True or False")

    # -- training --------------------------------------------------------------------------
    def fit(self, dataset: Any, *, progress: ProgressCallback | None = None,
            cancel: Cancel | None = None) -> GVF:
        """Choose the templates of each class from the takes of ``dataset``. Returns ``self``."""
        start = time.perf_counter()
        self._check_params()
        classes, d_in, d_out = split_dataset(dataset)
        if d_out:
            raise GesturemapError(
                "GVF follows gestures and does not regress outputs, but the takes have "
                "outputs: record the takes without outputs, or choose a regressor (gmm, hhmm, "
                "mlp, knn, linear, polynomial)."
            )
        if self.rotation and d_in not in (2, 3):
            raise bad_param("rotation", self.rotation, "False for inputs of "
                            f"{d_in} dimensions", "Rotation is estimated for 2-D or 3-D inputs.")
        x = np.vstack([c.inputs for c in classes])
        mean, scale = fit_standardization(x, self.standardize)
        if self.rotation:
            # a rotation turns inputs into one another: one scale for all keeps angles true
            scale = np.full(d_in, float(np.sqrt(np.mean(scale**2))))
        templates, class_offsets, speed_factors, scale_factors = [], [0], [], []
        start_means, start_stds, spreads = [], [], []
        postures, posture_spreads, speed_means, speed_stds = [], [], [], []
        n_takes, class_start_stds, notes = [], [], []  # (one take borrows: gvf_spreads)
        standardized = Dataset()  # the recognizer's takes
        for c in classes:
            z = (c.inputs - mean) / scale
            takes = [z[c.offsets[i]:c.offsets[i + 1]] for i in range(len(c.offsets) - 1)]
            for t in takes:
                standardized.add(t, label=c.label)
            # the class's single template is the reference of its speed and scale
            ref = _template(takes, self.templates.kind)
            notes.append(uneven_takes(c.label, [len(t) for t in takes], len(ref)))
            ref_rms = _rms(ref)
            floor = 0.1 * float(ref_rms.mean()) + 1e-12
            class_spread = _spread(takes, ref)
            # the class's posture spread at each phase (for templates of too few takes to
            # have their own)
            ref_post = np.mean([_resample(t, len(ref)) for t in takes], axis=0)
            class_post = _posture_spreads(takes, ref_post)
            # the class's speeds: its reference's length over each take's, in log units
            log_speeds = np.log(len(ref) / np.array([len(t) for t in takes], dtype=float))
            speed_mean = float(log_speeds.mean())
            speed_std = max(float(log_speeds.std()), SPEED_SPREAD_FLOOR)
            per_class = self.templates.per_class
            groups = ([list(range(len(takes)))] if per_class == 1
                      else _clusters(takes, per_class))
            for g in groups:
                gt = [takes[i] for i in g]
                t = ref if len(groups) == 1 else _template(gt, self.templates.kind)
                templates.append(t)
                firsts = np.array([x[0] for x in gt])
                start_means.append(firsts.mean(axis=0))
                start_stds.append(firsts.std(axis=0))
                # a template of one take has no spread of its own: the class's then
                spreads.append(_spread(gt, t) if len(g) > 1 else class_spread)
                post = np.mean([_resample(x, len(t)) for x in gt], axis=0)
                postures.append(post)
                own = len(g) >= MIN_POSTURE_TAKES
                width = int(round(SMOOTH_FRACTION * len(t)))
                posture_spreads.append(_smooth(_posture_spreads(gt, post) if own
                                               else _resample(class_post, len(t)), width))
                speed_factors.append(len(ref) / len(t))
                speed_means.append(speed_mean)
                speed_stds.append(speed_std)
                scale_factors.append((_rms(t) + floor) / (ref_rms + floor))
            class_offsets.append(len(templates))
            n_takes.append(len(takes))
            class_start_stds.append(np.array([t[0] for t in takes]).std(axis=0))
        borrow_spreads(n_takes, np.diff(class_offsets).tolist(), spreads, posture_spreads,
                       start_stds, class_start_stds)
        self.labels_ = [c.label for c in classes]
        self.input_dim_, self.output_dim_ = d_in, 0
        self.mean_, self.scale_ = mean, scale
        self.templates_ = np.ascontiguousarray(np.vstack(templates))
        self.offsets_ = np.concatenate([[0], np.cumsum([len(t) for t in templates])]).astype(
            np.int64)
        self.class_offsets_ = np.array(class_offsets, dtype=np.int64)
        self.speed_factors_ = np.array(speed_factors, dtype=np.float64)
        self.scale_factors_ = np.ascontiguousarray(scale_factors, dtype=np.float64)
        self.start_means_ = np.array(start_means, dtype=np.float64)
        self.start_stds_ = np.array(start_stds, dtype=np.float64)
        self.spreads_ = np.array(spreads, dtype=np.float64)
        self.postures_ = np.ascontiguousarray(np.vstack(postures))
        self.posture_spreads_ = np.ascontiguousarray(np.vstack(posture_spreads))
        self.speed_means_ = np.array(speed_means, dtype=np.float64)
        self.speed_stds_ = np.array(speed_stds, dtype=np.float64)
        self.recognizer_ = (fit_hhmm(
            self.recognizer.states, self.likelihood_window, standardized, cancel,
            f"recognizer (an HHMM, recognizer__weight={self.recognizer.weight}) cannot be "
            "trained: {exc} Lower recognizer__states, or set recognizer__weight=0 to follow "
            "with the particle filter alone.") if self.recognizer.weight > 0 else None)
        if progress is not None:
            progress(1.0, "templates chosen")
        notes = [n for n in notes if n]
        for note in notes:
            warnings.warn(note, stacklevel=3)
        self.training_info_ = {"seconds": time.perf_counter() - start,
                               "template_frames": [len(t) for t in templates],
                               "templates_per_class": np.diff(class_offsets).tolist(),
                               "warnings": notes}
        return self

    @property
    def rotation_dim_(self) -> int:
        """Number of rotation variables: 1 (2-D), 3 (3-D) or 0 (no rotation)."""
        self._check_fitted()
        return {2: 1, 3: 3}.get(self.input_dim_, 0) if self.rotation else 0

    def stream(self) -> GVFStream:
        """A new run-time stream (its own particles and random generator)."""
        self._check_fitted()
        return GVFStream(self)

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        """Each class's smoothed log-evidence after following the whole sequence with a fresh
        stream (``log_likelihoods`` of its last result; seeded, so repeatable)."""
        s = GVFStream(self)
        r = None
        for f in x:
            r = s.step(f)
        return np.array(r.log_likelihoods)

    # -- saving ----------------------------------------------------------------------------
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "scale": self.scale_, "templates": self.templates_,
                "offsets": self.offsets_, "class_offsets": self.class_offsets_,
                "speed_factors": self.speed_factors_, "scale_factors": self.scale_factors_,
                "start_means": self.start_means_, "start_stds": self.start_stds_,
                "spreads": self.spreads_, "postures": self.postures_,
                "posture_spreads": self.posture_spreads_, "speed_means": self.speed_means_,
                "speed_stds": self.speed_stds_, **self._hhmm_dumps()[1]}

    def _state_meta(self) -> dict[str, Any]:
        return self._hhmm_dumps()[0]

    def _hhmm_dumps(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The recognizer HHMM (if trained): its meta by name, its arrays under its prefix.
        (Files saved with the removed time warps may also hold its HHMM, ``speed_hhmm``:
        nothing reads it, and saving again leaves it out.)"""
        m, a = dump_hhmm(getattr(self, "recognizer_", None), RECOGNIZER_PREFIX)
        return ({"recognizer": m} if m else {}), (a if m else {})

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self._check_params()
        d = self.input_dim_
        mean = np.asarray(arrays["mean"], dtype=np.float64)
        scale = np.asarray(arrays["scale"], dtype=np.float64)
        templates = np.ascontiguousarray(arrays["templates"], dtype=np.float64)
        offsets = np.asarray(arrays["offsets"])
        if "class_offsets" not in arrays:
            # saved before several templates per class: one each, nothing learned beyond it
            n_c = len(self.labels_)
            arrays = {**arrays, "class_offsets": np.arange(n_c + 1),
                      "speed_factors": np.ones(n_c), "scale_factors": np.ones((n_c, d)),
                      "start_means": np.zeros((n_c, d)), "start_stds": np.zeros((n_c, d)),
                      "spreads": np.zeros((n_c, d))}
        if "postures" not in arrays:
            # saved before the absolute posture (then unused): postures unknown
            arrays = {**arrays, "postures": np.zeros_like(templates),
                      "posture_spreads": np.ones_like(templates)}
        per_frame = [np.ascontiguousarray(arrays[k], dtype=np.float64)
                     for k in ("postures", "posture_spreads")]
        if "speed_means" not in arrays:
            # saved before the classes' speeds (then unused): unknown
            n_t0 = len(np.asarray(arrays["speed_factors"]))
            arrays = {**arrays, "speed_means": np.zeros(n_t0), "speed_stds": np.ones(n_t0)}
        speed_means = np.asarray(arrays["speed_means"], dtype=np.float64)
        speed_stds = np.asarray(arrays["speed_stds"], dtype=np.float64)
        class_offsets = np.asarray(arrays["class_offsets"])
        speed_factors = np.asarray(arrays["speed_factors"], dtype=np.float64)
        scale_factors = np.ascontiguousarray(arrays["scale_factors"], dtype=np.float64)
        start_means = np.asarray(arrays["start_means"], dtype=np.float64)
        start_stds = np.asarray(arrays["start_stds"], dtype=np.float64)
        spreads = np.asarray(arrays["spreads"], dtype=np.float64)
        if mean.shape != (d,) or scale.shape != (d,) or not (scale > 0).all():
            raise ValueError("standardisation arrays do not match the inputs")
        if templates.ndim != 2 or templates.shape[1] != d or not np.isfinite(templates).all():
            raise ValueError(f"templates have shape {templates.shape}, expected (T, {d})")
        if (offsets.dtype.kind not in "iu" or offsets.ndim != 1 or len(offsets) < 2
                or offsets[0] != 0 or offsets[-1] != len(templates)
                or (np.diff(offsets) < 2).any()):
            raise ValueError("template offsets are inconsistent")
        n_t = len(offsets) - 1
        if (class_offsets.dtype.kind not in "iu"
                or class_offsets.shape != (len(self.labels_) + 1,) or class_offsets[0] != 0
                or class_offsets[-1] != n_t or (np.diff(class_offsets) < 1).any()):
            raise ValueError("class template offsets are inconsistent")
        if (speed_factors.shape != (n_t,) or scale_factors.shape != (n_t, d)
                or not (speed_factors > 0).all() or not (scale_factors > 0).all()
                or not np.isfinite(speed_factors).all()
                or not np.isfinite(scale_factors).all()):
            raise ValueError("template speed and scale factors are inconsistent")
        if (start_means.shape != (n_t, d) or start_stds.shape != (n_t, d)
                or not np.isfinite(start_means).all() or not np.isfinite(start_stds).all()
                or (start_stds < 0).any() or spreads.shape != (n_t, d)
                or not np.isfinite(spreads).all() or (spreads < 0).any()):
            raise ValueError("template start postures or spreads are inconsistent")
        if (any(a.shape != templates.shape or not np.isfinite(a).all() for a in per_frame)
                or (per_frame[1] < 0).any()):
            raise ValueError("template postures or their spreads are inconsistent")
        if (speed_means.shape != (n_t,) or speed_stds.shape != (n_t,)
                or not np.isfinite(speed_means).all() or not np.isfinite(speed_stds).all()
                or not (speed_stds > 0).all()):
            raise ValueError("class speeds are inconsistent")
        if self.rotation and d not in (2, 3):
            raise ValueError("rotation needs 2-D or 3-D inputs")
        self.mean_, self.scale_, self.templates_ = mean, scale, templates
        self.offsets_ = offsets.astype(np.int64)
        self.class_offsets_ = class_offsets.astype(np.int64)
        self.speed_factors_, self.scale_factors_ = speed_factors, scale_factors
        self.start_means_, self.start_stds_, self.spreads_ = start_means, start_stds, spreads
        self.postures_, self.posture_spreads_ = per_frame
        self.speed_means_, self.speed_stds_ = speed_means, speed_stds
        self.recognizer_ = load_hhmm(meta.get("recognizer"), arrays, RECOGNIZER_PREFIX,
                                     self.labels_, d)


class GVFStream(StandardizingStream):
    """Run-time state of a :class:`GVF`: the particles and the stream's random generator."""

    def __init__(self, model: GVF) -> None:
        self.model = model
        self.labels = list(model.labels_)
        c = len(self.labels)
        self._init_standardization(model.mean_, model.scale_)
        d = self._din
        self._nr = model.rotation_dim_
        n = max(1, int(model.particles) // c) * c
        self._forgetting = 1.0 / float(model.likelihood_window)
        self._seed = int(model.random_state)
        self._templates, self._offsets = model.templates_, model.offsets_
        self._lengths = np.diff(model.offsets_).astype(np.float64)
        self._class_offsets = model.class_offsets_
        self._speed_factors, self._scale_factors = model.speed_factors_, model.scale_factors_
        tpl, tr, est = model.templates, model.tracking, model.estimates
        self._start_posture = bool(tpl.start_posture)
        self._start_means = model.start_means_
        self._start_var = model.start_stds_**2 + float(model.tolerance) ** 2
        self._noise = np.array([tr.phase_noise, tr.speed_noise, tr.scale_noise,
                                tr.rotation_noise, tr.offset_noise], dtype=np.float64)
        self._spreads = np.array([tr.phase_spread, tr.speed_spread, tr.scale_spread,
                                  tr.rotation_spread], dtype=np.float64)
        # each template's tolerance per input: the parameter, widened (learned_tolerance) by
        # how far the template's takes were from it
        # (at each template frame: the kernel reads the frame nearest a particle's phase)
        # (computed once per model and tolerance, shared by its streams: _stream_memo)
        tol2 = float(model.tolerance) ** 2
        learned = bool(tpl.learned_tolerance)

        def template_gaussians() -> tuple[np.ndarray, np.ndarray]:
            var = np.full(model.templates_.shape, tol2)
            if learned:
                var += np.repeat(model.spreads_, np.diff(model.offsets_), axis=0) ** 2
            return _k.tolerance_gaussians(var)

        self._inv_vars, self._log_norms = shared(
            model, "tolerance", (model.templates_, model.offsets_, model.spreads_, tol2, learned),
            template_gaussians)
        self._postures = model.postures_
        self._posture_inv_vars, self._posture_log_norms = shared(
            model, "posture_tolerance", (model.posture_spreads_, tol2),
            lambda: _k.tolerance_gaussians(tol2 + model.posture_spreads_**2))
        self._posture_weight = float(tpl.posture_weight)
        self._speed_weight = float(tpl.speed_weight)
        self._speed_means = model.speed_means_
        speed_var = model.speed_stds_**2
        self._speed_inv_vars = 1.0 / speed_var
        self._speed_log_norms = -0.5 * np.log(2.0 * np.pi * speed_var)
        # (the posture on the particles' weights too: rejected by cross-validation, off)
        self._posture_in_particles = False
        self._threshold = float(tr.resampling_threshold)
        self._restart = float(tr.restart_probability)
        self._uniform_scale = bool(model.uniform_scale)
        self._cls = np.zeros(n, dtype=np.int64)
        self._tid = np.zeros(n, dtype=np.int64)
        self._phase = np.zeros(n)
        self._speed = np.ones(n)
        self._pscale = np.ones((n, d))
        self._rot = np.zeros((n, self._nr))
        self._offset = np.zeros((n, d))
        self._logw = np.zeros(n)
        self._posture_log = np.zeros(n)
        self._new_idx = np.zeros(n, dtype=np.int64)
        self._buf = np.zeros((3, d))
        # estimates.scale="fitted" (and the prior of "align"): each particle's least-squares
        # sums along its path
        self._fit_scale = est.scale != "sampled"
        self._align_scale = est.scale == "align"
        self._align_speed = est.speed != "sampled"
        window = float(est.scale_window)
        self._fit_keep = 1.0 - 1.0 / window if window > 0 else 1.0
        self._sxy = np.zeros((n, d))
        self._syy = np.zeros((n, d))
        self._center, self._limit = shared(model, "absurd", (model.postures_, model.templates_),
                                           lambda: absurd_limit(model.postures_, model.templates_))
        self._normals = np.zeros((n, 3 + 2 * d + self._nr))
        self._uniforms = np.zeros(2 * n + c)
        self._post = np.zeros(c)
        self._inst = np.zeros(c)
        self._inst_norm = np.zeros(c)
        self._progress = np.zeros(c)
        self._speeds = np.ones(c)
        self._scales = np.ones((c, d))
        self._rots = np.zeros((c, self._nr))
        self._log = np.zeros(c)
        # the second expert on the class (recognizer.weight > 0): an HHMM stream whose
        # log-likelihoods are pooled with the particles' evidence (gvf_recognizer)
        self._rec = recognizer_pool(model, c)
        self._align = align_estimate(model)  # None: the particles' speed and scale
        # the step kernel's arrays, by job (the same arrays: the stream's own names stay valid)
        self._k_model = _k.StepModel(
            self._templates, self._offsets, self._lengths, self._class_offsets,
            self._speed_factors, self._scale_factors, self._inv_vars, self._log_norms,
            self._postures, self._posture_inv_vars, self._posture_log_norms, self._speed_means,
            self._speed_inv_vars, self._speed_log_norms)
        self._k_settings = _k.StepSettings(
            c, self._noise, self._spreads, self._posture_weight, self._posture_in_particles,
            self._speed_weight, self._threshold, self._restart, self._uniform_scale,
            self._forgetting, self._fit_scale, self._fit_keep, SCALE_FIT_PRIOR)
        self._k_particles = _k.Particles(self._cls, self._tid, self._phase, self._speed,
                                         self._pscale, self._rot, self._offset, self._logw,
                                         self._sxy, self._syy)
        self._k_out = _k.ClassEstimates(self._log, self._inst, self._progress, self._speeds,
                                        self._scales, self._rots)
        self._k_scratch = _k.Scratch(self._normals, self._uniforms, self._posture_log,
                                     self._new_idx, self._buf)
        self.reset()

    def reset(self) -> None:
        """Forget the frames seen so far: the next frame starts every particle again."""
        self._rng = np.random.default_rng(self._seed)
        self._started = False
        if self._rec is not None:
            self._rec.reset()
        if self._align is not None:
            self._align.reset()

    @property
    def particles(self) -> dict[str, np.ndarray]:
        """A copy of the particles' state (class, template, phase, speed, scale, rotation,
        offset, log weight), for plots and checks. ``template`` indexes ``model.offsets_``;
        speed and scale are relative to the particle's own template."""
        return {"class": self._cls.copy(), "template": self._tid.copy(),
                "phase": self._phase.copy(),
                "speed": self._speed.copy(), "scale": self._pscale.copy(),
                "rotation": self._rot.copy(), "offset": self._offset.copy(),
                "log_weight": self._logw.copy()}

    def step(self, frame: Any) -> Result:
        """Follow one (D_in,) frame; returns a frozen :class:`Result`."""
        z = self._standardize(frame)
        rng = self._rng
        rng.standard_normal(out=self._normals)
        rng.random(out=self._uniforms)
        absurd = is_absurd(z, self._center, self._limit)  # (the particles start after it)
        if not self._started and not absurd:
            self._started = True
            _k.init_particles(z, len(self.labels), self._class_offsets, self._uniforms,
                              self._normals, self._spreads[0], self._spreads[1],
                              self._spreads[2], self._spreads[3], self._cls, self._tid,
                              self._phase, self._speed,
                              self._pscale, self._rot, self._offset, self._logw, self._log)
            self._sxy[:] = 0.0
            self._syy[:] = 0.0
            if self._start_posture:
                # log p(first frame | template's start posture), added to the particles'
                # (class-normalised) weights: the frame's evidence then includes it
                e = z - self._start_means
                ll = -0.5 * (np.log(2.0 * np.pi * self._start_var) + e * e
                             / self._start_var).sum(axis=1)
                self._logw += ll[self._tid]
            rng.standard_normal(out=self._normals)
            rng.random(out=self._uniforms)
        best = _k.step(z, self._k_model, self._k_settings, self._k_particles, self._k_out,
                       self._k_scratch, absurd)
        if self._align is not None:
            self._align.update(z, self._speeds if self._align_speed else self._align.speed,
                               absurd)
            if self._align_scale:
                self._align.fit_scales(z, self._fit_keep, SCALE_FIT_PRIOR,
                                       self._uniform_scale, self._scales)
        log = self._log
        if self._rec is not None:  # self._post: still the previous frame's
            best, log = self._rec.pool(z, log, best, self._progress, self._post,
                                       self._speeds, self._scales, absurd)
        _k.softmax(log, self._post)
        _k.softmax(self._inst, self._inst_norm)
        return Result(
            label=self.labels[best], label_index=int(best),
            likelihoods=_frozen(self._post), log_likelihoods=_frozen(log),
            instant_likelihoods=_frozen(self._inst_norm),
            instant_normalized_likelihoods=_frozen(self._inst_norm),
            progress=_frozen(self._progress), speed=_frozen(self._speeds),
            scale=_frozen(self._scales),
            rotation=_frozen(self._rots) if self._nr else None,
        )

