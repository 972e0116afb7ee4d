"""Why did the model take this gesture for that one? Explanations a musician can act on.

:func:`explain` answers for one whole gesture (a (T, D) sequence):

- the decision (``label``) and the class that came second (``runner_up``);
- the ``margin``: their log-likelihood ratio, also in words ("circle over swipe, 12x as
  likely");
- ``channel_contributions`` (D,): how much each input channel pushed the decision towards
  ``label`` and away from ``runner_up``, in the same unit as the margin (nats): the channel's
  Shapley value, its gain to the margin averaged over every order in which the channels can
  join. Leaving one channel out of all the others is not enough on a motion sensor: the axes
  of an IMU are correlated, a channel whose partner carries the same information loses
  little alone, and a channel of pure noise the model overfitted may lose as much (measured
  in ``benchmarks/explain_noise_channels.py``). A coalition of channels is scored exactly for
  the Gaussian models (GMM/GMR, HHMM/HMR): the other channels are marginalised out of every
  Gaussian (their rows and columns dropped). DTW and kNN compare with stored examples: the
  other channels are dropped from them and from the gesture, exactly as well. For the other
  classic models the other channels are occluded (held at their training mean). Channels the
  model ignores (``ignore_channels``) contribute exactly 0. The contributions add up to the
  margin (with occlusion: to the margin minus that of the gesture with every channel held);
  ``contributions="leave-one-out"`` gives the margin lost without each channel alone;
- ``decided``: the span of frames over which the margin grew most (where the classes
  parted), and ``parted_at``, the frame from which ``label`` led for good;
- ``nearest``: the training takes the gesture resembles most (DTW distance on standardised
  channels) — only when the training ``dataset`` is given; without it ``nearest`` is ``None``.

Everything here is batch work on a finished gesture: never call it on the real-time path
(the window and the engine run it on a worker thread).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import GesturemapError
from .models.base import check_model
from .utils.shapley import shapley_values

__all__ = ["Explanation", "Neighbour", "explain", "margin_words"]

#: Prefix lengths at which the margin is computed to find where the classes parted.
_CURVE_POINTS = 24

#: Coalitions of channels scored for the Shapley values: every one up to 9 channels (510),
#: sampled orders beyond, so that the cost stays near 512 scorings of the gesture whatever the
#: width. Chosen on HAPT's training subjects only (benchmarks/explain_noise_channels.py
#: --choose, 6 IMU + 3 noise channels): every coalition ranked the noise channels last on
#: 0.85 of the inner held-out takes, 64 to 256 sampled ones on 0.80-0.82.
SHAPLEY_BUDGET = 512

#: How ``channel_contributions`` are computed (see :func:`explain`).
CONTRIBUTIONS = ("shapley", "leave-one-out")
#: What the chosen class is weighed against in the margin the channels share out.
AGAINST = ("runner_up", "others")


@dataclass(frozen=True)
class Neighbour:
    """A training take close to the explained gesture: its index in the dataset, its label,
    and its DTW distance (per template frame, on standardised channels)."""

    index: int
    label: Any
    distance: float


@dataclass(frozen=True)
class Explanation:
    """Why ``model`` decided ``label`` for a gesture (see :func:`explain`).

    Attributes
    ----------
    label, runner_up : the decision and the class that came second (None with one class).
    margin : log-likelihood ratio of ``label`` over ``runner_up`` (nats; inf with one class).
    text : the margin in words, e.g. ``"circle over swipe, 12x as likely"``.
    labels : the model's classes; ``log_likelihoods`` (C,) of the whole gesture under each.
    channel_contributions : (D,) per input channel: the margin lost without that channel
        (positive: the channel pushed towards ``label``; negative: towards ``runner_up``).
    method : how a channel is taken away: ``"marginal"`` (Gaussian models: marginalised out,
        exact), ``"dropped"`` (DTW, kNN: dropped from the stored examples too, exact) or
        ``"occlusion"`` (other families: held at its training mean).
    contributions : ``"shapley"`` (each channel's Shapley value, the default) or
        ``"leave-one-out"`` (the margin lost without that channel alone).
    against, shared : what the channels' contributions share out: ``"runner_up"`` (the
        default), ``margin``; ``"others"``, the log-likelihood of ``label`` over the mean of
        every other class's. ``shared`` is that margin (nats).
    channel_names : names of the D channels (given, or the dataset's), else ``in1``...
    decided : (start, end) frames, end exclusive: where the margin grew most.
    parted_at : first frame from which ``label`` stayed ahead of ``runner_up``.
    curve_frames, curve : the margin of each prefix of the gesture (frames, nats).
    nearest : the closest training takes (with ``dataset=``), else None.
    """

    label: Any
    runner_up: Any
    margin: float
    text: str
    labels: list[Any]
    log_likelihoods: np.ndarray
    channel_contributions: np.ndarray
    method: str
    channel_names: tuple[str, ...]
    decided: tuple[int, int]
    parted_at: int
    curve_frames: np.ndarray
    curve: np.ndarray
    nearest: list[Neighbour] | None = None
    ignored: tuple[int, ...] = field(default=())
    contributions: str = "shapley"
    against: str = "runner_up"
    shared: float = math.nan

    @property
    def ratio(self) -> float:
        """How many times likelier ``label`` is than ``runner_up`` (inf when huge)."""
        return math.exp(self.margin) if self.margin < 700 else math.inf

    def ranking(self) -> list[int]:
        """Channel indices, the one that drove the decision most first."""
        return [int(i) for i in np.argsort(-self.channel_contributions, kind="stable")]

    def drivers(self, n: int = 3) -> list[str]:
        """Names of the ``n`` channels that pushed most towards ``label`` (positive only)."""
        return [self.channel_names[i] for i in self.ranking()[:n]
                if self.channel_contributions[i] > 0]

    def summary(self) -> str:
        """One or two lines for a musician."""
        parts = [self.text]
        drivers = self.drivers()
        if drivers:
            parts.append("mostly from " + ", ".join(drivers))
        if self.runner_up is not None:
            parts.append(f"decided in frames {self.decided[0]}-{self.decided[1]}")
        if self.nearest:
            n = self.nearest[0]
            parts.append(f"closest take: #{n.index} ({n.label})")
        return "; ".join(parts)


def margin_words(label: Any, runner_up: Any, margin: float) -> str:
    """``"circle over swipe, 12x as likely"`` (``×`` in the text)."""
    if runner_up is None:
        return f"{label} (the only class)"
    if not math.isfinite(margin) or margin > math.log(1000):
        times = "more than 1000× as likely"
    elif margin < math.log(10):
        times = f"{math.exp(margin):.1f}× as likely"
    else:
        times = f"{math.exp(margin):.0f}× as likely"
    if margin < math.log(1.5):
        times += " (a close call)"
    return f"{label} over {runner_up}, {times}"


def explain(model: Any, sequence: Any, *, dataset: Any = None,
            channel_names: Sequence[str] | None = None, n_nearest: int = 3,
            contributions: str = "shapley", against: str = "runner_up") -> Explanation:
    """Explain ``model``'s decision on a whole gesture ``sequence`` (T, D).

    Parameters
    ----------
    model : a fitted gesturemap model that recognises classes (any family).
    sequence : (T, D) the gesture, in the model's input space (features, as the model saw
        them in training).
    dataset : the training :class:`gesturemap.Dataset`, optional. With it, ``nearest`` lists
        the ``n_nearest`` closest takes, and occlusion holds a channel at the dataset's
        mean; without it ``nearest`` is None and occlusion uses the model's own training mean
        where it keeps one (classic models, DTW), else the gesture's mean.
    channel_names : names of the D channels (default: the dataset's, else ``in1``...).
    contributions : ``"shapley"`` (default): a channel's Shapley value over the coalitions of
        channels, exact up to 9 channels the model sees, else estimated from
        :data:`SHAPLEY_BUDGET` coalitions; ``"leave-one-out"``: the margin lost without that
        channel alone (D + 1 scorings, but a channel correlated with another looks idle).
    against : what the contributions share out: ``"runner_up"`` (default), the margin of the
        decision over the class that came second (they add up to ``margin``); ``"others"``,
        its log-likelihood over the mean of every other class's. Against one rival, a
        channel that separates the two in some states (a model that fitted noise state by
        state) carries part of the margin; against all the others it carries less: on HAPT's
        transitions with three noise channels appended, an HHMM ranks them least
        influential on 0.98 of held-out takes with ``"others"``, 0.82 with ``"runner_up"``
        (docs/performance.md). ``"others"`` scores every class for each coalition.
    """
    if contributions not in CONTRIBUTIONS:
        raise GesturemapError(f"contributions={contributions!r}: expected one of "
                              f"{', '.join(map(repr, CONTRIBUTIONS))}.")
    if against not in AGAINST:
        raise GesturemapError(f"against={against!r}: expected one of "
                              f"{', '.join(map(repr, AGAINST))}.")
    check_model("explain(model, sequence)", model)
    model._check_fitted()
    x = model._check_sequence(sequence)  # the channels the model sees
    full = np.asarray(sequence, dtype=np.float64)
    if full.ndim == 1:
        full = full[:, None]
    d = full.shape[1]
    widths = {np.asarray(r.inputs).shape[1] for r in dataset} if dataset is not None else set()
    if widths - {d}:  # channels compared by position: another space would be read as this one
        raise GesturemapError(
            f"dataset: takes of {', '.join(map(str, sorted(widths)))} channels, the gesture has "
            f"{d}: pass the takes the model was trained on, in its input space (a project's "
            "features: project.dataset(), with its pipeline fitted)")
    kept = getattr(model, "kept_channels_", None)
    kept = np.arange(d) if kept is None else np.asarray(kept)
    labels = list(model.labels_)
    if getattr(model, "output_dim_", 0) and getattr(model, "kind", "") not in ("gmm", "hhmm"):
        raise GesturemapError(
            f"explain() explains a recognition, and this {type(model).__name__} only regresses "
            "outputs: use a classifier, or a GMM/HHMM (GMR/HMR) which also recognises.")
    ll = model._sequence_loglik(x)
    order = np.argsort(-ll, kind="stable")
    best = int(order[0])
    second = int(order[1]) if len(labels) > 1 else None
    margin = float(ll[best] - ll[second]) if second is not None else math.inf
    runner = labels[second] if second is not None else None
    rivals = np.array([] if second is None else [second] if against == "runner_up"
                      else [i for i in range(len(labels)) if i != best], dtype=np.int64)
    shared = float(ll[best] - ll[rivals].mean()) if len(rivals) else math.inf

    contrib = np.zeros(d)
    method = _method(model)
    if second is not None:
        inner = _inner_contributions(model, x, best, rivals, shared, dataset, kept, method,
                                     contributions)
        contrib[kept] = inner

    names = _names(channel_names, dataset, d)
    frames, curve = _margin_curve(model, x, best, second)
    # one class: nothing parts, the decision holds over the whole gesture from its start
    decided, parted = _decided(frames, curve) if second is not None else ((0, len(x)), 0)
    nearest = _nearest(full, dataset, kept, n_nearest) if dataset is not None else None
    return Explanation(
        label=labels[best], runner_up=runner, margin=margin,
        text=margin_words(labels[best], runner, margin), labels=labels,
        log_likelihoods=ll, channel_contributions=contrib, method=method,
        channel_names=names, decided=decided, parted_at=parted, curve_frames=frames,
        curve=curve, nearest=nearest,
        ignored=tuple(i for i in range(d) if i not in set(kept.tolist())),
        contributions=contributions, against=against, shared=shared,
    )


# -- channel contributions -------------------------------------------------------------------
def _is_gaussian(model: Any) -> bool:
    classes = getattr(model, "class_params_", None)
    return (getattr(model, "kind", "") in ("gmm", "hhmm") and isinstance(classes, list)
            and bool(classes) and "covariances" in classes[0])


def _inner_contributions(model: Any, x: np.ndarray, best: int, rivals: np.ndarray,
                         margin: float, dataset: Any, kept: np.ndarray, method: str,
                         contributions: str) -> np.ndarray:
    """Each seen channel's contribution to the margin of ``best`` over the mean of ``rivals``
    (x: (T, D_seen)): its Shapley value over the coalitions of channels, or the margin lost
    without it alone (``"leave-one-out"``)."""
    d = x.shape[1]
    if d == 1:  # without its only channel the model knows nothing: the whole margin
        return np.array([margin])
    baseline = _baseline(model, x, dataset, kept) if method == "occlusion" else None
    if method == "marginal" and len(model.labels_) > 2 and len(rivals) == 1:
        # a GMM, and an HHMM's whole-sequence score (each class's HMM run on its own, the
        # top level unread), score each class on its own and the margin reads two: the
        # others need not be marginalised and scored for each of the coalitions (2^D)
        model, best, rivals = _two_classes(model, best, int(rivals[0])), 0, np.array([1])

    def worth(mask: np.ndarray) -> float:
        """The margin of ``best`` over ``rivals`` seeing only the channels in ``mask``."""
        if baseline is not None:
            occluded = x.copy()
            occluded[:, ~mask] = baseline[~mask]
            ll = model._sequence_loglik(occluded)
        else:
            without = _without_channels if method == "marginal" else _without_stored_channels
            ll = without(model, np.flatnonzero(~mask))._sequence_loglik(
                np.ascontiguousarray(x[:, mask]))
        return float(ll[best] - ll[rivals].mean())

    # a model that sees no channel knows nothing (margin 0); an occluded one sees the baseline
    empty = 0.0 if baseline is None else worth(np.zeros(d, dtype=bool))
    if contributions == "leave-one-out":
        return np.array([margin - worth(np.arange(d) != j) for j in range(d)])
    return shapley_values(worth, d, full=margin, empty=empty, budget=SHAPLEY_BUDGET)


def _method(model: Any) -> str:
    if _is_gaussian(model):
        return "marginal"
    if getattr(model, "kind", "") == "dtw" or (
            getattr(model, "kind", "") == "knn" and "train" in getattr(model, "arrays_", {})):
        return "dropped"
    return "occlusion"


def _two_classes(model: Any, best: int, second: int) -> Any:
    """A copy of a fitted GMM or HHMM that holds the classes ``best`` and ``second`` only (in
    that order); the original is untouched. An HHMM's top level (class prior, class-to-class
    transitions, exits) and following floors are cut to the two as well, so that the copy
    is whole, though its whole-sequence score never reads them."""
    two = [best, second]
    clone = copy.copy(model)
    clone.class_params_ = [model.class_params_[k] for k in two]
    clone.labels_ = [model.labels_[k] for k in two]
    if getattr(model, "kind", "") == "hhmm":
        clone.top_prior_ = model.top_prior_[two]
        clone.top_transition_ = model.top_transition_[np.ix_(two, two)]
        clone.top_exit_transition_ = model.top_exit_transition_[two]
        floor = getattr(model, "frame_floor_", None)
        if floor is not None:
            clone.frame_floor_ = np.asarray(floor)[two]
    clone._bank_cache = None
    return clone


def _without_stored_channels(model: Any, drop: np.ndarray) -> Any:
    """A copy of a fitted DTW or kNN whose stored examples (templates, training frames) and
    standardisation lose the channels ``drop``: the distance without them, exactly."""
    clone = copy.copy(model)
    if getattr(model, "kind", "") == "dtw":
        clone.templates_ = np.ascontiguousarray(np.delete(model.templates_, drop, axis=1))
        clone.mean_ = np.delete(model.mean_, drop)
        clone.scale_ = np.delete(model.scale_, drop)
    else:
        arrays = dict(model.arrays_)
        arrays["train"] = np.ascontiguousarray(np.delete(arrays["train"], drop, axis=1))
        arrays["mean"] = np.delete(arrays["mean"], drop)
        arrays["scale"] = np.delete(arrays["scale"], drop)
        clone.arrays_ = arrays
    clone.input_dim_ = model.input_dim_ - len(drop)
    return clone


def _without_channels(model: Any, drop: np.ndarray) -> Any:
    """A copy of a fitted GMM/HHMM with the input channels ``drop`` marginalised out of every
    Gaussian (a Gaussian's marginal drops their rows and columns); the original is untouched."""
    clone = copy.copy(model)
    d_in = int(getattr(model, "model_dim_", model.input_dim_))
    d_all = d_in + model.output_dim_
    # with deltas the model's frame is (inputs, their differences): both columns of each go
    gone = {int(j) for j in drop}
    if d_in != model.input_dim_:
        gone |= {int(j) + model.input_dim_ for j in drop}
    keep = np.array([i for i in range(d_all) if i not in gone])
    classes = []
    for c in model.class_params_:
        c2 = dict(c)
        c2["means"] = np.ascontiguousarray(c["means"][..., keep])
        c2["covariances"] = np.ascontiguousarray(c["covariances"][..., keep, :][..., keep])
        classes.append(c2)
    clone.class_params_ = classes
    clone.input_dim_ = model.input_dim_ - len(drop)
    clone._bank_cache = None
    return clone


def _baseline(model: Any, x: np.ndarray, dataset: Any, kept: np.ndarray) -> np.ndarray:
    """The value an occluded channel is held at: the training mean, as well as we know it."""
    if dataset is not None and len(dataset):
        return np.vstack([np.asarray(r.inputs) for r in dataset]).mean(axis=0)[kept]
    mean = _training_mean(model)
    if mean is not None and len(mean) >= x.shape[1]:
        return mean[:x.shape[1]]
    return x.mean(axis=0)  # a poor stand-in: a channel held still loses nothing


def _training_mean(model: Any) -> np.ndarray | None:
    """The mean of the frames ``model`` was trained on, where it keeps one. A model behind
    its own feature stages (``Featured``, gm.auto's) keeps it in its standardisation, or its
    inner model does: its features are the inputs first (then their deltas)."""
    arrays = getattr(model, "arrays_", None)
    if isinstance(arrays, dict) and "center" in arrays:  # classic models: the frames' mean
        return np.asarray(arrays["center"])
    standardize = getattr(model, "standardize", False)
    if isinstance(arrays, dict) and standardize and "mean" in arrays:
        return np.asarray(arrays["mean"])
    pipeline, inner = getattr(model, "pipeline_", None), getattr(model, "inner_", None)
    if pipeline is not None and inner is not None:
        for stage in pipeline.stages:
            if stage.kind == "standardize":
                return np.asarray(stage.mean)
        # an inner model that drops features keeps the mean of the others only
        return _training_mean(inner) if getattr(inner, "kept_channels_", None) is None else None
    mean = getattr(model, "mean_", None)
    if mean is not None and standardize:
        return np.asarray(mean)
    return None


# -- where the classes parted ----------------------------------------------------------------
def _margin_curve(model: Any, x: np.ndarray, best: int, second: int | None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The margin ``ll[best] - ll[second]`` of prefixes of the gesture (at most
    :data:`_CURVE_POINTS` of them): the batch decision's own quantity, for every family."""
    t = len(x)
    frames = np.unique(np.linspace(1, t, min(t, _CURVE_POINTS)).round().astype(int))
    if second is None:
        return frames, np.zeros(len(frames))
    curve = np.empty(len(frames))
    for i, n in enumerate(frames):
        ll = model._sequence_loglik(np.ascontiguousarray(x[:n]))
        curve[i] = ll[best] - ll[second]
    return frames, curve


def _decided(frames: np.ndarray, curve: np.ndarray) -> tuple[tuple[int, int], int]:
    """The span where the margin grew most (largest rise ``curve[b] - curve[a]``, with the
    empty prefix at margin 0) and the first frame from which it stayed positive."""
    pts = np.concatenate([[0], frames])
    vals = np.concatenate([[0.0], curve])
    best_gain, span = -np.inf, (0, int(pts[-1]))
    low_i = 0
    for i in range(1, len(vals)):
        gain = vals[i] - vals[low_i]
        if gain > best_gain:
            best_gain, span = gain, (int(pts[low_i]), int(pts[i]))
        if vals[i] < vals[low_i]:
            low_i = i
    negative = np.nonzero(curve <= 0)[0]
    if not len(negative):
        parted = int(frames[0])
    elif negative[-1] + 1 < len(frames):
        parted = int(frames[negative[-1] + 1])
    else:
        parted = int(frames[-1])
    return span, parted - 1


# -- nearest takes ---------------------------------------------------------------------------
def _nearest(full: np.ndarray, dataset: Any, kept: np.ndarray, n: int) -> list[Neighbour]:
    from .models.dtw import take_distances

    takes = [np.asarray(r.inputs, dtype=np.float64)[:, kept] for r in dataset]
    if not takes:
        return []
    dist = take_distances(full[:, kept], takes)
    order = np.argsort(dist, kind="stable")[:n]
    labels = [r.label for r in dataset]
    return [Neighbour(int(i), labels[i], float(dist[i])) for i in order]


def _names(given: Sequence[str] | None, dataset: Any, d: int) -> tuple[str, ...]:
    if given is not None and len(given) == d:
        return tuple(str(n) for n in given)
    names = getattr(dataset, "input_names", None) if dataset is not None else None
    if names and len(names) == d:
        return tuple(names)
    return tuple(f"in{i + 1}" for i in range(d))
