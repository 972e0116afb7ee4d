"""Dynamic time warping against the recorded takes (Wekinator's DTW), continuously.

Every take is a template (takes may have any lengths). ``predict`` is the 1-nearest-neighbour
classifier with whole-sequence DTW (squared Euclidean frame distance over all inputs, the
symmetric step, a Sakoe-Chiba ``band`` optional). A stream matches each incoming frame against
every template at once, one column update per template frame, O(total template frames * D):

- ``decision="cumulative"`` (default): every match starts at the stream's reset, so at a
  gesture's last frame each class's distance is the whole-sequence DTW of the gesture (no band)
  and the label is ``predict``'s.
- ``decision="decaying"``: open-begin DTW (SPRING) for streams that are never reset: a match may
  start at any earlier frame (what came before it is forgotten).
- ``decision="following"`` (a project's default, docs/wekinator.md): matches start at the reset
  while the stream has not run longer than the longest take since it (a stream reset at each
  gesture: ``"cumulative"`` exactly), and anywhere after that (``"decaying"``'s open begin: a
  stream never reset follows the performer).

Normalisation (``normalization``): ``"auto"`` (default) chooses, in ``fit``, between
``"global"`` and ``"window"`` (and, unless ``per_frame_distance`` is given, whether distances
are per template frame) by leave-one-take-out 1-NN on the training takes
(:mod:`._dtw_selection`), and says what it measured in ``normalization_selection_``: motion
sensors usually need each take z-normalised, speech-like features whose levels carry the class
need global standardisation. ``"global"`` standardises every input with the statistics of
all the training frames; ``"window"`` z-normalises every take as a whole, and matches each
template against the frames since the reset (at most twice the longest take) z-normalised
as a whole, afresh at each frame (:mod:`._dtw_window_kernels`, the UCR suite's approach): a
stream's distances are, to the last bit, ``distances`` of the frames so far (with an
open-begin decision a match may start anywhere in the window), at the cost of a
whole-sequence DTW per frame.
``"take"`` z-normalises every take (each template, and a whole query in
``predict``) by its own mean and standard deviation per input. A stream knows a gesture's
statistics only so far: every cell of its columns keeps its warping path's sums over the raw
frames and is costed, at each frame, as if the frames since the reset were z-normalised by
their statistics *now* (``_dtw_take_kernels``); at a gesture's last frame each distance is the
exact per-take cost of a warping path (never below ``predict``'s), the paths chosen as the
statistics stood when they grew. On HAPT's transitions the label at a gesture's last frame is
right 0.908 of the time where ``predict`` is 0.920 (the stream of before, which kept columns
of frames normalised by the statistics so far, 0.684). Such a stream
never prunes (its costs change with the statistics), and costs about 20 times a plain
column per template frame (docs/performance.md). ``"running"`` normalises every frame by the
running statistics of its own take so far, the templates' frames too, in ``fit``,
``predict`` and a stream alike: the
stream reads exactly what ``predict`` reads (its label at a gesture's last frame is
``predict``'s), at the cost of early frames normalised by few;
``"none"`` uses the raw inputs.

``DTWStream(model, exact_pruning=True)``: a cumulative stream lets a template sleep while it
provably cannot be its own class's best: an anchored column's least cell never decreases, so
it bounds the template's distance from then on; a sleeping template's bound grows with each
frame (from its blocks' boxes) and, should it come back within reach of its class's best, its
column is caught up from the frames kept since (a ring of at least :data:`HISTORY_MIN`
frames). A class's distance is the least of its templates', so every output is the one of a
stream updating every template, to the last bit. With ``prune`` a template also sleeps when
it can be neither the best class nor under the threshold: decisions are unchanged; only the
distances of far classes become lower bounds.

``progress`` is how far into the best template the stream has been matched for at most the
threshold per template frame. With ``per_frame_distance`` a DTW distance is divided by the
template's length (the cost per template frame). ``log_likelihoods = -distances / temperature`` and
``likelihoods`` are their softmax, so a class as far as a typical good match (``temperature``,
by default learned from the takes) is ``e`` times less likely than a perfect one.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import GesturemapError, TrainingCancelled
from . import _dtw_kernels as _k
from . import _dtw_window_kernels as _wk
from ._absurd import absurd_limit
from ._dtw_selection import AUTO_NORMALIZATIONS, WINDOW_REACH, choose, znorm_take
from ._standardize import StandardizingStream, fit_standardization
from ._stream_memo import shared
from .base import (
    BaseModel,
    Cancel,
    ProgressCallback,
    Result,
    _frozen,
    bad_param,
    check_choice,
    check_float,
    check_int,
    check_size,
    register_model,
    split_dataset,
)
from .interpreted import STEP

#: With ``normalization="take"`` or ``"running"`` a raw input beyond this is a corrupted
#: value, skipped.
RAW_ABSURD = 1e12

#: Band used to learn the default threshold and temperature from the takes (cheap, and takes
#: of one gesture rarely need more warping).
CALIBRATION_BAND = 0.1
#: ... from each take's distance to at most this many other takes (training stays fast when
#: there are many long takes).
CALIBRATION_NEIGHBOURS = 5
#: Input normalisations (see the module docstring).
NORMALIZATIONS = ("auto", "global", "window", "take", "running", "none")
#: Frames a pruning stream keeps at least (to catch a sleeping template up); at least twice
#: the longest template.
HISTORY_MIN = 512
#: How precisely a stream reads its templates (``precision``).
PRECISIONS = ("float64", "float32")
#: How a stream decides (see the module docstring).
DTW_DECISIONS = ("cumulative", "decaying", "following")
#: A stream's best class also matches above the threshold (up to :data:`MATCH_REACH` times it)
#: when its distance is at most 1 / MATCH_MARGIN of every other class's: a gesture performed a
#: little faster or slower than its takes, far nearer its own class than any other, whose
#: distance the takes' own spread (the threshold) does not cover. One class: the threshold only.
MATCH_MARGIN = 3.0
MATCH_REACH = 5.0


def znorm(x: np.ndarray) -> np.ndarray:
    """(T, D) ``x`` z-normalised per input by its own mean and standard deviation (a constant
    input is only centred)."""
    mean, scale = fit_standardization(x, True)
    return (x - mean) / scale


def running_znorm(x: np.ndarray) -> np.ndarray:
    """(T, D) ``x`` z-normalised causally: frame t by the mean and standard deviation of
    frames 0..t (``normalization="running"``), exactly as a stream reset at frame 0 does."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _k.running_znorm_sequence(x, out)
    return out


def typical_distance(templates: np.ndarray, offsets: np.ndarray, template_class: np.ndarray,
                     normalize: bool, cancel: Cancel | None = None,
                     queries: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """The median distance between a take and the nearest other take of its class (of any
    class when no class has two takes; the number of inputs when there is one take).
    ``queries`` (frames, offsets): the takes as a stream sees them, when the templates are
    not the whole takes (decimated)."""
    n = len(template_class)
    q_frames, q_offsets = queries if queries is not None else (templates, offsets)

    def take(k: int) -> np.ndarray:
        return templates[offsets[k]:offsets[k + 1]]

    nearest = []
    for same in (True, False):
        for k in range(n):
            if cancel is not None and cancel.is_set():
                raise TrainingCancelled("training was cancelled")
            best = np.inf
            others = [j for j in range(n) if j != k and
                      (template_class[j] == template_class[k]) == same]
            scale = len(take(k)) if normalize else 1.0
            for j in others[:CALIBRATION_NEIGHBOURS]:
                d = _k.dtw_in_steps(q_frames[q_offsets[j]:q_offsets[j + 1]], take(k),
                                    CALIBRATION_BAND, best * scale, cancel) / scale
                best = min(best, d)
            if np.isfinite(best):
                nearest.append(best)
        if nearest:
            return max(float(np.median(nearest)), 1e-12)
    return float(templates.shape[1])


def decimated(n: int, factor: int) -> np.ndarray:
    """Indices of about one frame in ``factor`` of ``n``, evenly spread, first and last kept."""
    if factor <= 1 or n <= 2:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max(2, round(n / factor)))).astype(int))


@register_model
class DTW(BaseModel):
    """Dynamic time warping: recognition against the recorded takes, while they are performed.

    Parameters
    ----------
    threshold : a class matches (``Result.match``) while its distance is under this; 0 =
        learned from the takes: twice the typical distance between a take and the nearest
        other take of its class.
    temperature : scale of the likelihoods (``log_likelihoods = -distances / temperature``);
        0 = learned: that typical distance.
    per_frame_distance : divide distances by the template length (cost per template frame);
        None: chosen with the normalisation when ``normalization="auto"``, else True.
    band : Sakoe-Chiba band of whole-sequence DTW (``predict``, ``log_likelihood``), as a
        fraction of the longer sequence; 1 = unconstrained (what a stream computes).
    normalization : ``"auto"`` (chosen in ``fit`` between ``"global"`` and ``"window"`` by
        leave-one-take-out 1-NN on the takes; ``normalization_`` and
        ``normalization_selection_`` say what and why; ``"global"`` unless ``decision`` is
        ``"cumulative"``), ``"window"`` (every take, and the
        frames since a stream's reset within twice the longest take, z-normalised as a
        whole, matched afresh at each frame: live = batch, a whole DTW per frame),
        ``"global"`` (standardise every input with the training statistics),
        ``"take"`` (z-normalise every take by its own statistics), ``"running"`` (every
        frame by the statistics of its take so far, templates and queries alike: a stream
        reads what ``predict`` reads, so its label at a gesture's last frame is
        ``predict``'s) or ``"none"``.
    decision : ``"cumulative"`` (matches start at the reset: the label is ``predict``'s at a
        gesture's last frame), ``"decaying"`` (open-begin matching, never-reset streams) or
        ``"following"`` (anchored at the reset for as long as the longest take, open-begin
        after: either, as the stream is used) (run-time).
    standardize : older spelling of ``normalization`` (True = ``"global"``, False =
        ``"none"``); when given (not None) it wins.
    n_jobs : threads that compare whole sequences in ``predict`` (default: one per core).
    prune : a ``"cumulative"`` stream skips the templates that provably cannot be the best
        class nor under the threshold (lower bounds on their columns; a template whose bound
        comes back within reach is caught up from the frames kept since it stopped): the
        label, the match, every distance under the threshold and the progress of those classes
        are exactly the unpruned ones, the other classes' distances are lower bounds (still
        over the threshold and the best distance). Fastest when streams are reset at gestures'
        starts. Not with ``normalization="take"``, whose stream updates every template
        (run-time).
    precision : ``"float32"``: a stream reads its templates rounded to single precision (half
        the memory read per frame; sums still in double precision), so its distances differ
        from the exact ones by about 1e-8 relatively (docs/performance.md) (run-time).
    decimate : keep about one frame in ``decimate`` of every take as its template (first and
        last kept; the threshold and temperature learned as a stream meets them): the cost of
        a frame divided by about ``decimate``, at some accuracy (docs/performance.md); 1 = every
        frame.
    normalize : former name of ``per_frame_distance``: still accepted, with a
        DeprecationWarning (``renamed_params``); files saved with it load.
    inactive : labels of the classes switched off (Wekinator's per-gesture on/off): their
        takes stay in the dataset but are not templates, so they never match and the model
        does not know them (``labels_`` leaves them out). A number may be given as text
        (``"2"`` for the class 2), as JSON settings key it.

    Defaults chosen by leave-one-dataset-out validation (docs/decisions.md).
    """

    kind = "dtw"
    runtime_params = ("threshold", "temperature", "band", "n_jobs", "decision", "prune",
                      "precision")
    # saved before decisions: open-begin streams; before "auto": global standardisation
    legacy_params = {"decision": "decaying", "normalization": "global"}
    renamed_params = {"normalize": "per_frame_distance"}

    def __init__(self, threshold: float = 0.0, *, temperature: float = 0.0,
                 per_frame_distance: bool | None = None, band: float = 1.0,
                 standardize: bool | None = None, n_jobs: int | None = None,
                 normalization: str = "auto", decision: str = "cumulative",
                 prune: bool = False, decimate: int = 1, precision: str = "float64",
                 inactive: list[Any] | None = None) -> None:
        self.threshold = threshold
        self.temperature = temperature
        self.per_frame_distance = per_frame_distance
        self.band = band
        self.standardize = standardize
        self.n_jobs = n_jobs
        self.normalization = normalization
        self.decision = decision
        self.prune = prune
        self.decimate = decimate
        self.precision = precision
        self.inactive = inactive

    def _check_runtime_params(self) -> None:
        check_float("threshold", self.threshold)
        check_float("temperature", self.temperature)
        band = check_float("band", self.band, 0.0, strict=True)
        if band > 1.0:
            raise bad_param("band", self.band, "a fraction in (0, 1]", "1 means no band.")
        if self.n_jobs is not None:
            check_int("n_jobs", self.n_jobs, 1)
        check_choice("decision", self.decision, DTW_DECISIONS)
        if not isinstance(self.prune, bool):
            raise bad_param("prune", self.prune, "True or False")
        check_choice("precision", self.precision, PRECISIONS)

    def _check_params(self) -> None:
        self._check_runtime_params()
        if self.per_frame_distance is not None and not isinstance(self.per_frame_distance, bool):
            raise bad_param("per_frame_distance", self.per_frame_distance,
                            "True, False or None",
                            "None: chosen with normalization=\"auto\", else True.")
        if self.standardize is not None and not isinstance(self.standardize, bool):
            raise bad_param("standardize", self.standardize, "True, False or None")
        check_choice("normalization", self.normalization, NORMALIZATIONS)
        check_size("decimate", self.decimate)
        off = self.inactive
        if off is not None and (not isinstance(off, list | tuple) or not all(
                isinstance(v, str | int) and not isinstance(v, bool) for v in off)):
            raise bad_param("inactive", off, "a list of class labels (text or integers)",
                            "None switches every class on.")

    def _active(self, dataset: Any) -> Any:
        """``dataset`` without the takes of the classes switched off (``inactive``)."""
        if not self.inactive:
            return dataset
        off = {str(v) for v in self.inactive}
        try:
            kept = [r for r in dataset if str(r.label) not in off]
        except TypeError:
            return dataset  # not a dataset: split_dataset says so
        if not kept and list(dataset):
            raise GesturemapError(
                f"every class with takes is switched off (inactive={list(self.inactive)}): "
                "switch one on (remove it from inactive), or record takes of another class.")
        return kept

    @property
    def normalization_(self) -> str:
        """The normalisation in use: the one ``fit`` chose (``"auto"``), else the one asked
        for (``standardize``, when given, wins)."""
        chosen = getattr(self, "fitted_normalization_", None)
        return chosen if chosen is not None else self._requested_normalization()

    def _requested_normalization(self) -> str:
        if self.standardize is None:
            return str(self.normalization)
        return "global" if self.standardize else "none"

    def _choose_normalization(self, takes: list[np.ndarray], template_class: list[int],
                              cancel: Cancel | None) -> tuple[str, bool, dict[str, Any] | None]:
        """The normalisation and per-frame setting to fit with, and the record of the choice
        (None when nothing was left to choose)."""
        asked = self._requested_normalization()
        norms = AUTO_NORMALIZATIONS if asked == "auto" else (asked,)
        if asked == "auto" and self.decision != "cumulative":
            # a stream that is never reset matches from any frame (open begin): "window"
            # reads the latest frames anchored at the window's start, which only a stream
            # reset at each gesture ("cumulative") reads as predict does. Such models (a
            # project's, a Wekinator import) keep the historical behaviour, and their retrain
            # after a take stays as quick as it was
            norms = ("global",)
            asked = "global"
        if self.per_frame_distance is not None:
            per_frames: tuple[bool, ...] = (bool(self.per_frame_distance),)
        else:  # the historical default, unless "auto" chooses it with the normalisation
            per_frames = (True, False) if asked == "auto" else (True,)
        if len(norms) * len(per_frames) == 1:
            return norms[0], per_frames[0], None
        return choose(takes, np.array(template_class), norms, per_frames, float(self.band),
                      cancel)

    # -- training --------------------------------------------------------------------------
    def fit(self, dataset: Any, *, progress: ProgressCallback | None = None,
            cancel: Cancel | None = None) -> DTW:
        """Keep every take of ``dataset`` as a template; learn the default threshold and
        temperature. Returns ``self``; ``labels_`` holds the sorted labels."""
        start = time.perf_counter()
        self._check_params()
        classes, d_in, d_out = split_dataset(self._active(dataset))
        if d_out:
            raise GesturemapError(
                "DTW recognises gestures and does not regress outputs, but the takes have "
                "outputs: record the takes without outputs, or choose a regressor (gmm, hhmm, "
                "mlp, knn, linear, polynomial)."
            )
        lengths, template_class, takes = [], [], []
        for i, c in enumerate(classes):
            lengths.extend(np.diff(c.offsets).tolist())
            template_class.extend([i] * (len(c.offsets) - 1))
            takes.extend(c.inputs[a:b] for a, b in zip(c.offsets[:-1], c.offsets[1:],
                                                       strict=True))
        norm, per_frame, selection = self._choose_normalization(takes, template_class, cancel)
        if norm == "window":
            takes = [znorm_take(t) for t in takes]
        elif norm == "take":
            takes = [znorm(t) for t in takes]
        elif norm == "running":
            takes = [running_znorm(t) for t in takes]
        x = np.vstack(takes)
        mean, scale = fit_standardization(x, norm == "global")
        templates = np.ascontiguousarray((x - mean) / scale)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        tclass = np.array(template_class, dtype=np.int64)
        queries = None
        if self.decimate > 1:
            queries = (templates, offsets)
            keep = [offsets[k] + decimated(n, self.decimate) for k, n in enumerate(lengths)]
            templates = np.ascontiguousarray(templates[np.concatenate(keep)])
            offsets = np.concatenate([[0], np.cumsum([len(k) for k in keep])]).astype(np.int64)
        typical = typical_distance(templates, offsets, tclass, per_frame, cancel, queries)
        if progress is not None:
            progress(1.0, "templates stored")
        # every fitted attribute at once, at the end: a cancelled fit leaves the model as it was
        self.input_dim_, self.output_dim_ = d_in, 0
        self.mean_, self.scale_ = mean, scale
        self.templates_, self.offsets_, self.template_class_ = templates, offsets, tclass
        self.typical_distance_ = typical
        self.fitted_normalization_, self.per_frame_distance_ = norm, per_frame
        self.normalization_selection_ = selection
        self.training_info_ = {"seconds": time.perf_counter() - start,
                               "templates": len(lengths), "typical_distance": typical,
                               "normalization": norm, "per_frame_distance": per_frame}
        self.labels_ = [c.label for c in classes]
        return self

    # -- inference -------------------------------------------------------------------------
    @property
    def threshold_(self) -> float:
        """The threshold in use (``threshold``, or twice the typical distance)."""
        self._check_fitted()
        return float(self.threshold) if self.threshold > 0 else 2.0 * self.typical_distance_

    @property
    def temperature_(self) -> float:
        """The temperature in use (``temperature``, or the typical distance)."""
        self._check_fitted()
        return float(self.temperature) if self.temperature > 0 else self.typical_distance_

    def _standardized(self, x: np.ndarray) -> np.ndarray:
        if self.normalization_ == "take":
            return np.ascontiguousarray(znorm(x))
        if self.normalization_ == "running":
            return running_znorm(x)
        return np.ascontiguousarray((x - self.mean_) / self.scale_)

    def _distances(self, x: np.ndarray, per_class: bool,
                   cancel: Cancel | None = None) -> tuple[np.ndarray, int]:
        out = np.zeros(len(self.labels_))
        layout = (self.templates_, self.offsets_, self.template_class_, float(self.band),
                  self.per_frame_distance_, per_class, out)
        if self.normalization_ == "window":
            reach = self.window_reach()
            x = np.ascontiguousarray(x, dtype=np.float64)
            scratch = np.empty((int(reach.max()), x.shape[1]))
            if min(len(x), int(reach.max())) * len(self.templates_) > _k.STEP_CELLS:
                def window(k: int) -> np.ndarray:  # the frames template k is matched against
                    w = min(len(x), int(reach[k]))
                    _wk.window_znorm(x, len(x) - w, len(x), scratch)
                    return scratch[:w]

                return out, _k.nearest_in_steps(window, *layout, cancel)
            k = _wk.window_class_distances(
                x, self.templates_, self.offsets_, self.template_class_, reach, float(self.band),
                self.per_frame_distance_, per_class, False, scratch,
                np.empty(len(self.templates_)), out)
            return out, int(k)
        query = self._standardized(x)
        if len(query) * len(self.templates_) > _k.STEP_CELLS:  # long: Ctrl-C between steps
            return out, _k.nearest_in_steps(lambda _: query, *layout, cancel)
        return out, int(_k.class_distances(query, *layout))

    def window_reach(self) -> np.ndarray:
        """(K,) how many of the latest frames each template is matched against with
        ``normalization="window"``: :data:`WINDOW_REACH` times the longest take, the same for
        every template, so that a gesture is z-normalised as a whole against every template
        (a shorter window would cut a long gesture to a short template's length and match
        its end only)."""
        self._check_fitted()
        longest = WINDOW_REACH * max(1, int(self.decimate)) * int(np.diff(self.offsets_).max())
        return np.full(len(self.offsets_) - 1, longest, dtype=np.int64)

    def distances(self, sequence: Any) -> np.ndarray:
        """(C,) DTW distance of a whole (T, D_in) sequence to each class's nearest template."""
        self._check_fitted()
        return self._distances(self._check_sequence(sequence), True)[0]

    def _sequence_loglik(self, x: np.ndarray) -> np.ndarray:
        return -self._distances(x, True)[0] / self.temperature_

    def predict(self, sequences: Any) -> list[Any]:
        """The label of the nearest template (1-NN, whole-sequence DTW) of each sequence."""
        self._check_fitted()
        checked = [self._check_sequence(s) for s in self._sequence_list(sequences)]

        stop = threading.Event()

        def one(x: np.ndarray) -> Any:
            k = self._distances(x, False, stop)[1]
            return self.labels_[int(self.template_class_[k])]

        jobs = self.n_jobs if self.n_jobs is not None else (os.cpu_count() or 1)
        if jobs <= 1 or len(checked) <= 1:
            return [one(x) for x in checked]
        # the kernel releases the GIL: sequences are compared in parallel
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            return list(pool.map(one, checked))
        finally:
            # on Ctrl-C, the sequences being compared stop at their next step and the others
            # are not started (leaving the pool would wait for every one of them)
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def stream(self) -> DTWStream:
        """A new run-time stream (its own DTW columns) over this trained model."""
        self._check_fitted()
        return DTWStream(self)

    def _stream_layout(self) -> tuple[np.ndarray, ...]:
        """The templates as streams read them: (templates at the stream's precision, blocks,
        first block of each template, blocks' least and greatest values, absurd centre and
        limit), laid out once per fitted templates and precision and shared by every stream
        (read-only there; :mod:`._stream_memo`). The engine builds a retrained model's stream
        on its frame path; the layout (a Python loop over every block: 15-20 ms at 150 takes
        of 60 channels) is made before, where the trainer loads the model's kernels."""
        precision = self.precision

        def build() -> tuple[np.ndarray, ...]:
            templates = self.templates_
            if precision == "float32":  # the templates rounded once, then read at half width
                templates = templates.astype(np.float32).astype(np.float64)
            blocks, first, lo, hi = _k.template_blocks(templates, self.offsets_)
            if precision == "float32":
                blocks = blocks.astype(np.float32)
            center, limit = absurd_limit(templates)
            return templates, blocks, first, lo, hi, center, limit

        return shared(self, "layout", (self.templates_, self.offsets_, precision), build)

    # -- saving ----------------------------------------------------------------------------
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "scale": self.scale_, "templates": self.templates_,
                "offsets": self.offsets_, "template_class": self.template_class_}

    def _state_meta(self) -> dict[str, Any]:
        return {"typical_distance": self.typical_distance_,
                "normalization": self.fitted_normalization_,
                "per_frame_distance": self.per_frame_distance_,
                "normalization_selection": self.normalization_selection_}

    def _set_state_arrays(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self._check_params()
        d = self.input_dim_
        mean = np.asarray(arrays["mean"], dtype=np.float64)
        scale = np.asarray(arrays["scale"], dtype=np.float64)
        templates = np.ascontiguousarray(arrays["templates"], dtype=np.float64)
        offsets = np.asarray(arrays["offsets"])
        tclass = np.asarray(arrays["template_class"])
        if mean.shape != (d,) or scale.shape != (d,) or not (scale > 0).all():
            raise ValueError("standardisation arrays do not match the inputs")
        if templates.ndim != 2 or templates.shape[1] != d or not np.isfinite(templates).all():
            raise ValueError(f"templates have shape {templates.shape}, expected (T, {d})")
        if (offsets.dtype.kind not in "iu" or tclass.dtype.kind not in "iu"
                or offsets.ndim != 1 or len(offsets) < 2 or offsets[0] != 0
                or offsets[-1] != len(templates) or (np.diff(offsets) < 1).any()
                or tclass.shape != (len(offsets) - 1,) or tclass.min() < 0
                or tclass.max() >= len(self.labels_)):
            raise ValueError("template offsets or classes are inconsistent")
        empty = sorted(set(range(len(self.labels_))) - set(tclass.tolist()))
        if empty:  # a class nothing can match: it would never be recognised, without a word
            raise ValueError(f"class {self.labels_[empty[0]]!r} has no template")
        typical = float(meta["typical_distance"])
        if not (np.isfinite(typical) and typical > 0):
            raise ValueError("typical_distance must be a positive number")
        self.mean_, self.scale_, self.templates_ = mean, scale, templates
        # a model saved before "auto" names neither: it used what its parameters asked for
        norm = meta.get("normalization", self._requested_normalization())
        per_frame = meta.get("per_frame_distance", self.per_frame_distance)
        per_frame = True if per_frame is None else per_frame
        if norm not in NORMALIZATIONS or norm == "auto" or not isinstance(per_frame, bool):
            raise ValueError(f"normalization {norm!r} / per_frame_distance {per_frame!r}")
        self.offsets_ = offsets.astype(np.int64)
        self.template_class_ = tclass.astype(np.int64)
        self.typical_distance_ = typical
        self.fitted_normalization_, self.per_frame_distance_ = norm, per_frame
        self.normalization_selection_ = meta.get("normalization_selection")


class DTWStream(StandardizingStream):
    """Run-time state of a :class:`DTW`: one DTW column per template (anchored at the reset,
    or open-begin), and the running statistics of a per-take normalisation."""

    def __init__(self, model: DTW, exact_pruning: bool = False,
                 decision: str | None = None) -> None:
        """``exact_pruning``: a cumulative stream lets sleep the templates that cannot be their
        class's best (every output unchanged to the last bit). Off by default: it saves
        little where a class's takes are alike, and a template woken late is caught up over
        every frame it missed at once (docs/performance.md, "Scale"). ``decision``: this
        stream's, instead of the model's (a spotter's stream is ``"decaying"``: open-begin)."""
        self.model = model
        self.labels = list(model.labels_)
        c = len(self.labels)
        self._init_standardization(model.mean_, model.scale_)
        self._offsets = model.offsets_
        templates, self._blocks, self._first_block, lo, hi, center, limit = (
            model._stream_layout())
        self._acc = np.zeros((2, self._blocks.shape[2]))
        self._tclass = model.template_class_
        self._normalize = model.per_frame_distance_
        self._threshold = model.threshold_
        self._inv_temp = 1.0 / model.temperature_
        check_choice("decision", decision or model.decision, DTW_DECISIONS)
        self._anchored = (decision or model.decision) == "cumulative"
        # "following": anchored at the reset for the longest take's frames, open-begin after
        self._following = (decision or model.decision) == "following"
        self._longest = int(np.diff(model.offsets_).max()) if self._following else 0
        self._take = model.normalization_ in ("take", "running", "window")
        # "window": the raw frames since the reset (at most the longest reach), matched afresh
        # at each frame by the kernel ``distances`` runs (_dtw_window_kernels)
        self._window = model.normalization_ == "window"
        if self._window:
            self._reach = model.window_reach()
            self._band = float(model.band)
            reach = int(self._reach.max())
            self._history = np.zeros((2 * reach, self._din))
            self._scratch = np.zeros((reach, self._din))
            self._templates_w = np.ascontiguousarray(templates)
        # "take": every cell keeps its path's statistics over the raw frames (see
        # _dtw_take_kernels), scored with the take's statistics at each frame
        self._paths = model.normalization_ == "take"
        if self._paths:
            n_cells, d = templates.shape
            self._templates = np.ascontiguousarray(templates)
            self._cells = np.zeros((n_cells, 2 + 4 * d))
            self._spare = np.zeros((2, 2 + 4 * d))
            self._ref = np.zeros(d)
            self._shifted = np.zeros(d)
            self._mu = np.zeros(d)
            self._inv = np.ones(d)
        self._count = np.zeros(1, dtype=np.int64)
        self._run_mean = np.zeros(self._din)
        self._run_m2 = np.zeros(self._din)
        self._col = np.full(len(model.templates_), np.inf)
        n_t = len(model.template_class_)
        self._awake = np.ones(n_t, dtype=np.int8)
        # 1: prune (far classes get lower bounds), 2: within each class only (exact), 0: none
        # ("take" never prunes: its cells' costs change with the take's statistics)
        mode = 1 if model.prune else (
            2 if exact_pruning and (self._anchored or self._following) else 0)
        if self._paths or self._window:
            mode = 0
        # the frames a sleeping template may have to be caught up over (only when pruning)
        history = max(HISTORY_MIN, 2 * int(np.diff(model.offsets_).max())) if mode else 1
        self._prune = (np.array([mode]), self._count,
                       np.array([self._threshold]), np.zeros((history, self._din)), lo, hi,
                       self._awake, np.zeros(n_t, dtype=np.int64), np.zeros(n_t),
                       np.zeros(n_t))
        # An absurd frame (a corrupted value: an input further from the templates' mean than
        # ABSURD_REACHES times their reach, absurd_limit) is skipped: it would add the same
        # huge cost to every match since the reset and drown every later difference until the
        # next reset. With the per-take normalisation, whose units come from the take itself,
        # only a raw input beyond RAW_ABSURD (no sensor's unit reaches it) is skipped, before
        # it enters the take's running statistics.
        self._center, self._limit = center, limit
        self._zero = np.zeros(self._din)
        self._last: Result | None = None
        self._dist = np.zeros(c)
        self._progress = np.zeros(c)
        self._best_template = np.zeros(c, dtype=np.int64)
        self._log = np.zeros(c)
        self._inst = np.zeros(c)
        self._norm = np.zeros(c)

    def reset(self) -> None:
        """Forget the frames seen so far: the next frame may only start matches."""
        self._col[:] = np.inf
        self._awake[:] = 1
        self._count[0] = 0
        self._run_mean[:] = 0.0
        self._run_m2[:] = 0.0
        if self._paths:
            self._cells[:, 0] = 0.0  # no path anywhere
        self._last = None

    @property
    def best_templates(self) -> np.ndarray:
        """(C,) index (into the training takes, in label order) of each class's best template
        at the last frame."""
        return self._best_template.copy()

    def step(self, frame: Any) -> Result:
        """Match one (D_in,) frame; returns a frozen :class:`Result`."""
        first = self._count[0] == 0
        # compiled, or their interpreted twins on a first start (models/interpreted.py)
        step = STEP
        if self._window:
            return self._window_step(frame)
        if self._paths:
            x = self._check_frame(frame)
            if step.dtw_is_absurd(x, self._zero, RAW_ABSURD):
                return self._skipped()
            step.take_statistics(x, self._count, self._run_mean, self._run_m2, self._ref,
                                 self._shifted, self._mu, self._inv)
            step.take_columns(self._shifted, self._mu, self._inv, self._templates,
                              self._offsets, self._cells, self._spare, self._col,
                              self._anchored_now(), first)
            best = step.dtw_summarise(self._offsets, self._tclass, self._normalize,
                                      self._threshold, self._inv_temp, self._col, self._dist,
                                      self._progress, self._best_template, self._log,
                                      self._inst, self._norm, False, self._awake,
                                      self._prune[8])
            return self._result(best)
        if self._take:
            z = self._check_frame(frame)
            if step.dtw_is_absurd(z, self._zero, RAW_ABSURD):
                return self._skipped()
            step.running_znorm(z, self._count, self._run_mean, self._run_m2, self._z)
            z = self._z
        else:
            z = self._standardize(frame)
            if step.dtw_is_absurd(z, self._center, self._limit):
                return self._skipped()
            self._count[0] += 1
        best = step.spring_step(z, self._blocks, self._first_block, self._offsets,
                                self._tclass, self._normalize, self._threshold, self._inv_temp,
                                self._col, self._acc, self._dist, self._progress,
                                self._best_template, self._log, self._inst, self._norm,
                                self._anchored_now(), first, self._prune)
        return self._result(best)

    def _window_step(self, frame: Any) -> Result:
        """``normalization="window"``: the frames since the reset (within the longest reach)
        matched against every template afresh, as ``distances`` matches a sequence; where the
        decision is open-begin (``"decaying"``, ``"following"`` after the longest take), a
        match may start at any frame of the window."""
        step = STEP
        x = self._check_frame(frame)
        if step.dtw_is_absurd(x, self._zero, RAW_ABSURD):
            return self._skipped()
        reach = len(self._scratch)
        n = int(self._count[0])
        if n >= 2 * reach and n % reach == 0:
            # the buffer (twice the reach) is full: its latest half moves to the start, once
            # every reach frames (no allocation)
            self._history[:reach] = self._history[reach:]
        pos = reach + n % reach if n >= 2 * reach else n
        self._history[pos] = x
        self._count[0] = n + 1
        window = self._history[max(0, pos + 1 - reach):pos + 1]
        if len(window) * len(self._templates_w) > _k.STEP_CELLS:
            # a window of very long takes against every template is seconds of work: in
            # steps, so that a replay or a spotting run over it stops at Ctrl-C (the same
            # distances and rows, bit for bit)
            def window_for(k: int) -> np.ndarray:
                w = min(len(window), int(self._reach[k]))
                step.window_znorm(window, len(window) - w, len(window), self._scratch)
                return self._scratch[:w]

            _k.nearest_in_steps(window_for, self._templates_w, self._offsets, self._tclass,
                                self._band, self._normalize, True, self._dist,
                                rows=self._col, open_begin=not self._anchored_now())
        else:
            step.window_class_distances(window, self._templates_w, self._offsets,
                                        self._tclass, self._reach, self._band, self._normalize,
                                        True, not self._anchored_now(), self._scratch,
                                        self._col, self._dist)
        best = step.dtw_summarise(self._offsets, self._tclass, self._normalize, self._threshold,
                                  self._inv_temp, self._col, self._dist, self._progress,
                                  self._best_template, self._log, self._inst, self._norm, False,
                                  self._awake, self._prune[8])
        return self._result(best)

    def _anchored_now(self) -> bool:
        """Whether this frame's matches start at the reset: always (``"cumulative"``), never
        (``"decaying"``), or (``"following"``) while no longer than the longest take has passed
        since it. Where a following stream turns open-begin, templates put to sleep by pruning
        (their columns not kept up) wake with no match under way."""
        if not self._following:
            return self._anchored
        if self._count[0] <= self._longest:
            return True
        if self._count[0] == self._longest + 1 and self._prune[0][0]:
            asleep = self._awake == 0
            self._col[np.repeat(asleep, np.diff(self._offsets))] = np.inf
            self._awake[:] = 1
        return False

    def _result(self, best: int) -> Result:
        label = self.labels[best]
        self._last = Result(
            label=label, label_index=best,
            likelihoods=_frozen(self._norm), log_likelihoods=_frozen(self._log),
            instant_likelihoods=_frozen(self._inst),
            instant_normalized_likelihoods=_frozen(self._norm),
            progress=_frozen(self._progress), distances=_frozen(self._dist),
            match=label if self._matches(best) else None,
        )
        return self._last

    def _matches(self, best: int) -> bool:
        """Whether the best class matches (see :data:`MATCH_MARGIN`)."""
        d = float(self._dist[best])
        if d < self._threshold:
            return True
        if d >= MATCH_REACH * self._threshold or len(self._dist) < 2:
            return False
        others = np.delete(self._dist, best)
        return bool(d * MATCH_MARGIN <= others.min())

    def _skipped(self) -> Result:
        """An absurd frame changes nothing: the last answer again, or, before any frame since
        the reset, no class ahead (uniform likelihoods, every distance infinite)."""
        if self._last is not None:
            return self._last
        c = len(self.labels)
        uniform = np.full(c, 1.0 / c)
        return Result(label=self.labels[0], label_index=0, likelihoods=_frozen(uniform),
                      log_likelihoods=_frozen(np.zeros(c)),
                      instant_likelihoods=_frozen(uniform),
                      instant_normalized_likelihoods=_frozen(uniform),
                      progress=_frozen(np.zeros(c)), distances=_frozen(np.full(c, np.inf)),
                      match=None)



_pair_rates: dict[int, float] = {}  # measured once per number of inputs


def frame_pairs_per_second(dim: int) -> float:
    """How many pairs of ``dim``-input frames a whole-sequence DTW compares a second on this
    machine, now (timed once, on a DTW of a thousand frames): to say how long a long one
    will take before it starts."""
    if dim not in _pair_rates:
        a = np.random.default_rng(0).normal(size=(1000, dim))
        _k.dtw(a[:10], a[:10], 1.0, np.inf)  # compiled (or loaded) first
        start = time.perf_counter()
        _k.dtw(a, a[::-1].copy(), 1.0, np.inf)
        _pair_rates[dim] = 1e6 / max(time.perf_counter() - start, 1e-6)
    return _pair_rates[dim]


def take_distances(query: np.ndarray, takes: list[np.ndarray]) -> np.ndarray:
    """The DTW distance from ``query`` to each take, both standardised with the takes' mean and
    scale (what "nearest takes" means in an explanation).

    Parameters
    ----------
    query : numpy.ndarray, shape (T, D)
    takes : list of numpy.ndarray, each (T_i, D)

    Returns
    -------
    numpy.ndarray, shape (len(takes),)
        Each take's distance (0 for none when ``takes`` is empty).
    """
    if not takes:
        return np.zeros(0)
    mean, scale = fit_standardization(np.vstack(takes), True)
    templates = np.ascontiguousarray(np.vstack([(t - mean) / scale for t in takes]))
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in takes])]).astype(np.int64)
    own = np.arange(len(takes), dtype=np.int64)  # each take its own "class": every distance
    dist = np.zeros(len(takes))
    query = np.ascontiguousarray((query - mean) / scale)
    layout = (templates, offsets, own, 0.1, True, True, dist)
    if len(query) * len(templates) > _k.STEP_CELLS:  # long takes: Ctrl-C between steps
        _k.nearest_in_steps(lambda _: query, *layout)
    else:
        _k.class_distances(query, *layout)
    return dist
