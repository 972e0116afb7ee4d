"""Running an evaluation: build folds, train a fresh model on each, test it, gather a Report.

Every fold trains a new model from the same settings (kind + parameters) on its training
recordings only; whatever learns from data (standardisation, the project's feature pipeline)
is fitted on those recordings too, so nothing of a test recording leaks into its model.

Classification measures, per test recording:

- the **predicted label**: ``model.predict([whole recording])`` (the batch decision; for the
  probabilistic models the argmax of the sequence log-likelihood). ``accuracy``, the
  confusion matrix and per-class precision / recall / F1 come from it.
- the **early-recognition labels** (``early="stream"``, the default): the recording is played
  frame by frame through ``model.stream().step()`` (reset before each recording), and the
  label the stream shows is read after 10 %, 20 % … 100 % of its frames — what a performer
  would get at that moment. ``early="prefix"`` instead calls ``model.predict`` on the first
  10 %, 20 % … of the frames (the batch decision on a truncated gesture; for a model whose
  stream only looks at a short window this is the fairer question "is the gesture
  recognisable from its beginning"); ``early="both"`` measures both curves (the streamed one
  is ``accuracy``, the other ``prefix_accuracy``); ``early="none"`` skips them.

Output values (bimodal data: regression, or one model per output) stream every test
recording and compare ``Result.output`` at each frame with the recorded outputs: RMSE and MAE
per output over all test frames, and for an output of class numbers the share of frames with
the right class. A model that names its outputs (``output_names_``) is compared by name.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import FormatError, GesturemapError
from ..utils.storage import load_npz
from ..utils.thread_warnings import silencing_warnings
from ..utils.validation import Described, validation_error
from .metrics import FRACTIONS, checkpoints
from .report import Report
from .splits import leave_one_group_out, stratified_kfold

__all__ = [
    "EARLY_METHODS",
    "Progress",
    "cross_validate",
    "evaluate_project",
    "holdout",
    "load_npz_dataset",
    "model_spec",
    "standardized",
]

EARLY_METHODS = ("stream", "prefix", "both", "none")

ModelSpec = tuple[str, dict[str, Any]]
#: Builds (train, test) datasets for the recordings at these indices, and the indices of the
#: test recordings it kept (a project's take may give no frame after its pipeline).
Preparer = Callable[[np.ndarray, np.ndarray], tuple[Dataset, Dataset, np.ndarray]]


# ---- models -------------------------------------------------------------------------------------


def model_spec(model: Any, params: Mapping[str, Any] | None = None) -> ModelSpec:
    """``(kind, params)`` from a kind name (a key of MODEL_REGISTRY) or an unfitted model.

    The model is built once here so that unknown kinds and parameters fail before any fold.
    """
    from ..models import MODEL_REGISTRY

    if isinstance(model, str):
        if model not in MODEL_REGISTRY:
            raise validation_error("model", model, "one of " + ", ".join(sorted(MODEL_REGISTRY)))
        kind, merged = model, dict(params or {})
    elif hasattr(model, "get_params") and getattr(model, "kind", None) in MODEL_REGISTRY:
        kind, merged = model.kind, {**model.get_params(), **(params or {})}
    else:
        raise validation_error("model", model, "a model kind (str) or a gesturemap model")
    # every parameter, defaults included, so that a report says exactly what ran
    return kind, build(kind, merged).get_params()


def build(kind: str, params: Mapping[str, Any]) -> Any:
    """A new, unfitted model of this kind; a wrong parameter name is a GesturemapError."""
    from ..models import MODEL_REGISTRY

    if kind not in MODEL_REGISTRY:
        raise validation_error("model", kind, "one of " + ", ".join(sorted(MODEL_REGISTRY)))
    cls = MODEL_REGISTRY[kind]
    try:
        return cls(**params)
    except TypeError as error:
        raise validation_error(
            f"{kind} parameters",
            dict(params),
            "parameters among " + ", ".join(cls._param_names()),
            str(error),
        ) from None


# ---- data ---------------------------------------------------------------------------------------


def load_npz_dataset(path: str | os.PathLike[str]) -> tuple[Dataset, dict[str, np.ndarray]]:
    """A dataset file in the format of the shared datasets and its per-recording arrays.

    The file holds ``X_concat`` (N, D), ``lengths`` (n,) and ``y`` (n,) (see
    :meth:`gesturemap.Dataset.from_npz`); an optional ``Y_concat`` (N, D_out) makes it bimodal
    (regression). Any other array with one value per recording (e.g. ``subject``) is returned
    too, to group folds by it.
    """
    dataset = Dataset.from_npz(path)
    arrays = load_npz(path)
    outputs = arrays.get("Y_concat")
    if outputs is not None:
        if outputs.ndim == 1:
            outputs = outputs[:, None]
        if outputs.ndim != 2 or len(outputs) != dataset.n_frames:
            raise validation_error(
                f"{os.fspath(path)}: Y_concat",
                outputs,
                f"a ({dataset.n_frames}, D_out) array, one row per frame",
            )
        bimodal = Dataset(dataset.input_names)
        bounds = np.cumsum([r.length for r in dataset])[:-1]
        try:  # a NaN output is refused naming the file, as a NaN input is
            for recording, part in zip(dataset, np.split(outputs, bounds), strict=True):
                bimodal.add(recording.inputs, recording.label, part)
        except GesturemapError as error:
            raise FormatError(f"{os.fspath(path)}: Y_concat: {error}") from None
        dataset = bimodal
    extra = {
        k: v
        for k, v in arrays.items()
        if k not in ("X_concat", "Y_concat", "lengths", "y") and v.shape == (len(dataset),)
    }
    return dataset, extra


def _classes_to_tell_apart(labels: Sequence[Any], regression: bool, what: str,
                           more: str) -> None:
    """Refuse to measure a classifier on ``what`` (the recordings it trains on) when their
    ``labels`` name fewer than two classes: with one class to choose from it is never wrong,
    and the accuracy of 1.0 it would report says nothing. Outputs (``regression``) are
    measured whatever the labels."""
    classes = sorted({str(label) for label in labels})
    if regression or len(classes) >= 2:
        return
    raise GesturemapError(
        f"{what} are all of class {classes[0]!r}: a classifier with one class to choose "
        f"from is never wrong, so its accuracy would say nothing; {more}"
        if classes else f"{what} have no class: {more}")


def standardized(train: Dataset, *others: Dataset) -> list[Dataset]:
    """Every dataset standardised per input channel with the mean and std of ``train``'s frames.

    Uses the feature pipeline's :class:`~gesturemap.features.stages.Standardize` (a constant
    channel keeps std 1); outputs are left as they are.
    """
    from ..features.stages import Standardize

    stage = Standardize().fit([r.inputs for r in train])
    mean, std = np.asarray(stage.mean), np.asarray(stage.std)
    out = []
    for dataset in (train, *others):
        new = Dataset(dataset.input_names, dataset.output_names if dataset.is_bimodal else None)
        for r in dataset:
            new.add((r.inputs - mean) / std, r.label, r.outputs)
        out.append(new)
    return out


def _subset(dataset: Dataset, index: np.ndarray) -> Dataset:
    new = Dataset(dataset.input_names, dataset.output_names if dataset.is_bimodal else None)
    recordings = list(dataset)
    for i in index:
        r = recordings[int(i)]
        new.add(r.inputs, r.label, r.outputs)
    return new


def _dataset_preparer(dataset: Dataset, standardize: bool) -> Preparer:
    def prepare(
        train_index: np.ndarray, test_index: np.ndarray
    ) -> tuple[Dataset, Dataset, np.ndarray]:
        train, test = _subset(dataset, train_index), _subset(dataset, test_index)
        if standardize:
            train, test = standardized(train, test)
        return train, test, test_index

    return prepare


def _project_preparer(project: Any) -> Preparer:
    """Folds of a project's takes, each through a copy of its pipeline fitted on the fold's
    training takes (the same code that trains the project: ``Project.dataset``)."""
    from ..features import Pipeline
    from ..project import Project

    takes = list(project.takes)
    names = dict(input_names=project.input_names, output_names=project.output_names)

    def part(pipeline: Any, index: np.ndarray) -> Any:
        sub = Project(pipeline=pipeline, **names)
        for i in index:
            take = takes[int(i)]
            sub.add_take(take.inputs, take.label, times=take.times, outputs=take.outputs)
        return sub

    def prepare(
        train_index: np.ndarray, test_index: np.ndarray
    ) -> tuple[Dataset, Dataset, np.ndarray]:
        pipeline = Pipeline.from_dict(project.pipeline.to_dict())
        train = part(pipeline, train_index)
        train.fit_pipeline()
        test, kept = None, []
        for i in test_index:  # one by one: a take too short for the pipeline is not tested
            with silencing_warnings():  # (this thread's only: a review runs beside trainings)
                one = part(train.pipeline, [i]).dataset()
            if test is None:
                test = Dataset(one.input_names, one.output_names if one.is_bimodal else None)
            for r in one:
                test.add(r.inputs, r.label, r.outputs)
                kept.append(int(i))
        return train.dataset(), test, np.asarray(kept, dtype=np.int64)

    return prepare


# ---- one fold -----------------------------------------------------------------------------------


@dataclass
class FoldResult:
    """What one fold's model said about its test recordings (plain data: it crosses processes)."""

    test_index: np.ndarray
    labels: list[Any]
    truth: list[Any]
    predicted: list[Any] | None
    early: list[list[Any]] | None
    early_prefix: list[list[Any]] | None
    output_truth: np.ndarray | None
    output_estimate: np.ndarray | None
    output_names: list[str] | None
    n_train: int
    fit_s: float
    predict_s: float
    stream_s: float
    prefix_s: float
    #: each test recording's length in frames (as the model saw it)
    test_frames: list[int] = field(default_factory=list)


def _stream_all(
    model: Any,
    test: Dataset,
    fractions: Sequence[float],
    regression: bool,
    note: Callable[[str], None],
) -> tuple[list[list[Any]], list[np.ndarray]]:
    """Labels at the checkpoints, and every frame's regression output, of each recording."""
    stream = model.stream()
    early, outputs = [], []
    for i, recording in enumerate(test):
        note(f"streaming {i}/{len(test)}")
        stream.reset()
        marks = set(checkpoints(recording.length, fractions))
        at: dict[int, Any] = {}
        frames = []
        for t, frame in enumerate(recording.inputs):
            result = stream.step(frame)
            if t in marks:
                at[t] = result.label
            if regression:
                frames.append(result.output)
        early.append([at[m] for m in checkpoints(recording.length, fractions)])
        if regression:
            outputs.append(np.asarray(frames, dtype=np.float64).reshape(recording.length, -1))
    return early, outputs


def _aligned_outputs(
    model: Any, test: Dataset, estimate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The model's outputs and the recorded ones, column for column, and their names.

    A model whose outputs are named (``output_names_``, e.g. one model per output) is compared
    on the recorded outputs of the same names; any other model column for column.
    """
    truth = np.vstack([r.outputs for r in test])
    names = list(test.output_names)
    model_names = [str(n) for n in getattr(model, "output_names_", None) or []]
    pairs = [(j, names.index(n)) for j, n in enumerate(model_names) if n in names]
    if pairs:
        return (
            estimate[:, [j for j, _ in pairs]],
            truth[:, [k for _, k in pairs]],
            [names[k] for _, k in pairs],
        )
    if model_names:
        raise GesturemapError(
            f"none of the model's outputs ({', '.join(model_names)}) is a recorded output "
            f"({', '.join(names)}): nothing to compare them with."
        )
    if estimate.shape[1] != truth.shape[1]:
        raise GesturemapError(
            f"the model gives {estimate.shape[1]} outputs and the recordings have "
            f"{truth.shape[1]} ({', '.join(names)}): nothing to compare them by."
        )
    return estimate, truth, names


def run_fold(
    spec: ModelSpec,
    train: Dataset,
    test: Dataset,
    test_index: np.ndarray,
    fractions: Sequence[float] = FRACTIONS,
    early: str = "stream",
    tick: Callable[[str], None] | None = None,
) -> FoldResult:
    """Train a new model on ``train``; test it on every recording of ``test``.

    ``tick(note)``, when given, is called as the fold goes (fitting, testing k/n) for a
    progress report.
    """
    note = tick or (lambda _: None)
    regression = train.is_bimodal
    model = build(*spec)
    note(f"fitting on {len(train)} recordings")
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    truth = [r.label for r in test]
    sequences = [r.inputs for r in test]
    n = len(sequences)
    predicted = early_labels = early_prefix = output_truth = output_estimate = None
    output_names = None
    predict_s = stream_s = prefix_s = 0.0
    if not regression:
        start = time.perf_counter()
        predicted = []
        step = max(1, n // 10)  # chunks: a model may compare the sequences in parallel
        for i in range(0, n, step):
            note(f"predicting {i}/{n}")
            predicted += list(model.predict(sequences[i : i + step]))
        predict_s = time.perf_counter() - start
    start = time.perf_counter()
    if regression:
        _, outputs = _stream_all(model, test, fractions, True, note)
        output_estimate, output_truth, output_names = _aligned_outputs(
            model, test, np.vstack(outputs)
        )
    elif early in ("stream", "both"):
        early_labels, _ = _stream_all(model, test, fractions, False, note)
    stream_s = time.perf_counter() - start
    if not regression and early in ("prefix", "both"):
        start = time.perf_counter()
        early_prefix = []
        for i, x in enumerate(sequences):
            note(f"predicting prefixes {i}/{n}")
            early_prefix.append(
                list(model.predict([x[: m + 1] for m in checkpoints(len(x), fractions)]))
            )
        prefix_s = time.perf_counter() - start
        if early == "prefix":
            early_labels, early_prefix = early_prefix, None
    return FoldResult(
        np.asarray(test_index),
        list(model.labels_),
        truth,
        predicted,
        early_labels,
        early_prefix,
        output_truth,
        output_estimate,
        output_names,
        len(train),
        fit_s,
        predict_s,
        stream_s,
        prefix_s,
        [r.length for r in test],
    )


# ---- progress -----------------------------------------------------------------------------------


class Progress:
    """A one-line progress report on stderr (rewritten in place on a terminal).

    Parameters
    ----------
    total : int
        Number of steps (folds).
    enabled : bool
        False makes every call a no-op (the API's default; the CLI turns it on).
    """

    def __init__(self, total: int, label: str = "eval", enabled: bool = True) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.done = 0
        self._start = time.perf_counter()
        self._tty = enabled and sys.stderr.isatty()
        self._last = time.perf_counter()

    def _write(self, text: str, final: bool = False) -> None:
        if not self.enabled:
            return
        if self._tty:
            sys.stderr.write("\r" + text.ljust(78)[:78] + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def say(self, text: str) -> None:
        """A line of its own, whatever the rate of notes (something to know before waiting)."""
        self._write(text, final=True)

    def note(self, text: str) -> None:
        """Say what the current step is doing: in place on a terminal; elsewhere (a log) at
        most one line every 10 s."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not self._tty and now - self._last < 10.0:
            return
        self._last = now
        self._write(
            f"{self.label} {self.done}/{self.total} done, {now - self._start:.0f} s · {text}"
        )

    def advance(self, note: str = "") -> None:
        self.done += 1
        elapsed = time.perf_counter() - self._start
        eta = elapsed / self.done * (self.total - self.done)
        width = 20
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        self._write(
            f"{self.label} [{bar}] {self.done}/{self.total} {elapsed:.0f} s"
            f"{f', ~{eta:.0f} s left' if self.done < self.total else ''}"
            f"{' · ' + note if note else ''}",
            final=self.done >= self.total,
        )


# ---- the protocols ------------------------------------------------------------------------------


def _check_early(early: str) -> str:
    if early not in EARLY_METHODS:
        raise validation_error("early", early, "one of " + ", ".join(EARLY_METHODS))
    return early


def _run(
    spec: ModelSpec,
    prepare: Preparer,
    folds: list[np.ndarray],
    n: int,
    *,
    protocol: dict[str, Any],
    ids: Sequence[Any],
    groups: Sequence[Any] | None = None,
    early: str,
    n_jobs: int,
    progress: bool,
    fractions: Sequence[float] = FRACTIONS,
    names: Sequence[str] = (),
) -> Report:
    early = _check_early(early)
    everything = np.arange(n)
    tasks = [(np.setdiff1d(everything, test), test) for test in folds]
    bar = Progress(len(tasks), label=f"eval {spec[0]}", enabled=progress)
    start = time.perf_counter()

    def one(train_index: np.ndarray, test_index: np.ndarray, tick: Any = None) -> FoldResult | None:
        train, test, kept = prepare(train_index, test_index)
        if len(kept) == 0:
            return None  # nothing left to test in this fold
        seconds = _dtw_seconds(spec, train, test, early)
        if tick is not None and seconds > SLOW_DTW_S:  # before the wait, not after it
            bar.say(f"DTW compares each of {test.n_frames} test frames with each of "
                    f"{train.n_frames} training frames: about {_duration(seconds)} per fold "
                    "on this machine (Ctrl-C stops it)")
        return run_fold(spec, train, test, kept, fractions, early, tick)

    if n_jobs == 1 or len(tasks) == 1:
        done = (one(train_index, test_index, bar.note) for train_index, test_index in tasks)
    else:
        from joblib import Parallel, delayed

        done = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(one)(a, b) for a, b in tasks)
    results: list[FoldResult] = []
    for result in done:
        if result is not None:
            results.append(result)
        bar.advance(f"fold accuracy {_fold_note(result)}")
    if not results:
        raise GesturemapError(
            "no recording was left to test: every test take is shorter than one frame of the "
            "pipeline's resampling."
        )
    return Report.from_folds(
        spec,
        results,
        protocol=protocol,
        ids=list(ids),
        groups=None if groups is None else list(groups),
        early=early,
        fractions=list(fractions),
        seconds=time.perf_counter() - start,
        output_names=list(names),
    )


#: A DTW fold expected to take longer than this says so, with its estimate, before it starts.
SLOW_DTW_S = 60.0


def _dtw_seconds(spec: ModelSpec, train: Dataset, test: Dataset, early: str) -> float:
    """About how long a DTW fold takes (0 for other models): every test frame against every
    template frame, once to predict and once more per streamed or prefix pass, and each take
    against a few others within a tenth of its length to calibrate."""
    if spec[0] != "dtw":
        return 0.0
    from ..models.dtw import frame_pairs_per_second

    lengths = np.array([r.length for r in train], dtype=float)
    passes = 1 + (early in ("stream", "both")) + 5 * (early in ("prefix", "both"))
    decimate = max(1, int(spec[1].get("decimate", 1) or 1))
    cells = passes * float(test.n_frames) * lengths.sum() / decimate
    cells += 5.0 * float(np.sum(lengths * np.minimum(lengths, 0.2 * lengths + 2.0)))
    return cells / frame_pairs_per_second(train.input_dim or 1)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _fold_note(result: FoldResult | None) -> str:
    if result is None:
        return "nothing to test"
    if result.predicted is None:
        return "n/a (regression)"
    hits = sum(p == t for p, t in zip(result.predicted, result.truth, strict=True))
    return f"{hits}/{len(result.truth)}"


def holdout(
    model: Any,
    train: Dataset,
    test: Dataset,
    *,
    params: Mapping[str, Any] | None = None,
    standardize: bool = False,
    early: str = "stream",
    progress: bool = False,
) -> Report:
    """Train on ``train``, test on ``test`` (a held-out test set).

    Parameters
    ----------
    model : str or model
        A kind of :data:`gesturemap.models.MODEL_REGISTRY` (``"hhmm"``, ``"knn"``…) or an
        unfitted model whose kind and parameters are used.
    train, test : Dataset
        Same input size; both bimodal (regression) or neither.
    params : dict, optional
        Model parameters (override the model's own).
    standardize : bool
        Scale inputs per channel by the training set's mean and std.
    early : {"stream", "prefix", "both", "none"}
        How the early-recognition curve is measured (see the module docstring).
    progress : bool
        Report progress on stderr.

    Returns
    -------
    Report
    """
    spec = model_spec(model, params)
    _classes_to_tell_apart([r.label for r in train], train.is_bimodal,
                           "the training recordings", "add recordings of another class.")
    if train.input_dim != test.input_dim or train.is_bimodal != test.is_bimodal:
        raise validation_error(
            "test",
            Described(repr(test)),
            f"a dataset like the training set ({train.input_dim} inputs, "
            f"{'with' if train.is_bimodal else 'without'} outputs)",
        )
    combined = Dataset(train.input_names, train.output_names if train.is_bimodal else None)
    for r in (*train, *test):
        combined.add(r.inputs, r.label, r.outputs)
    n_train = len(train)
    test_index = np.arange(n_train, n_train + len(test))
    protocol = {
        "name": "holdout",
        "folds": 1,
        "standardize": standardize,
        "n_train": n_train,
        "n_test": len(test),
    }

    def prepare(_: np.ndarray, __: np.ndarray) -> tuple[Dataset, Dataset, np.ndarray]:
        fitted, tested = standardized(train, test) if standardize else (train, test)
        return fitted, tested, test_index

    return _run(
        spec,
        prepare,
        [test_index],
        len(combined),
        protocol=protocol,
        ids=[*(None for _ in range(n_train)), *range(len(test))],
        early=early,
        n_jobs=1,
        progress=progress,
        names=train.output_names,
    )


def cross_validate(
    model: Any,
    dataset: Dataset,
    *,
    folds: int | None = 5,
    groups: Sequence[Any] | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    standardize: bool = False,
    early: str = "stream",
    n_jobs: int = 1,
    progress: bool = False,
) -> Report:
    """Cross-validate on one dataset: stratified k-fold, or leave-one-group-out.

    Parameters
    ----------
    model, params, standardize, early, progress
        As in :func:`holdout`; standardisation is refitted on each fold's training part.
    folds : int, default 5
        Number of stratified folds (shuffled with ``seed``); ignored when ``groups`` is given.
    groups : sequence, optional
        One group per recording (a take id, a subject): leave-one-group-out. One group per
        recording (``range(len(dataset))``) is leave-one-out.
    n_jobs : int, default 1
        Folds trained at once (joblib processes). 1 suits a 2-core machine: the HHMM
        already trains its classes in parallel threads.

    Returns
    -------
    Report
        Metrics over the pooled test predictions of every fold, and each fold's accuracy.
    """
    spec = model_spec(model, params)
    _classes_to_tell_apart([r.label for r in dataset], dataset.is_bimodal,
                           "the recordings", "add recordings of another class.")
    n = len(dataset)
    if groups is not None:
        if len(groups) != n:
            raise validation_error(
                "groups", Described(f"{len(groups)} groups"), f"one group per recording ({n})"
            )
        split = leave_one_group_out(groups)
        protocol = {"name": "leave-one-group-out", "folds": len(split)}
    else:
        split = stratified_kfold([r.label for r in dataset], folds, seed)  # type: ignore[arg-type]
        protocol = {"name": "stratified k-fold", "folds": len(split), "seed": seed}
    protocol["standardize"] = standardize
    return _run(
        spec,
        _dataset_preparer(dataset, standardize),
        split,
        n,
        protocol=protocol,
        ids=list(range(n)),
        groups=groups,
        early=early,
        n_jobs=n_jobs,
        progress=progress,
        names=dataset.output_names,
    )


def evaluate_project(
    project: Any,
    *,
    model: Any = None,
    params: Mapping[str, Any] | None = None,
    folds: int | None = None,
    seed: int = 0,
    early: str = "stream",
    n_jobs: int = 1,
    progress: bool = False,
) -> Report:
    """Cross-validate a project's takes with its feature pipeline and model settings.

    Each fold fits a copy of the project's pipeline on its training takes, exactly as
    training the project does. ``folds=None`` is leave-one-take-out; an int is stratified
    k-fold over the takes. ``model`` / ``params`` override the project's model settings.
    """
    takes = list(project.takes)
    if len(takes) < 2:
        raise GesturemapError(
            f"the project has {len(takes)} take(s): cross-validation needs at least two; "
            "record more takes."
        )
    _classes_to_tell_apart([take.label for take in takes], bool(project.output_names),
                           "the project's takes", "record takes of another gesture first.")
    if model is None:
        model = project.model["kind"]
        params = {**project.model["params"], **(params or {})}
    spec = model_spec(model, params)
    ids = [take.id for take in takes]
    if folds is None:
        split = leave_one_group_out(ids)
        protocol: dict[str, Any] = {"name": "leave-one-take-out", "folds": len(split)}
    else:
        split = stratified_kfold([take.label for take in takes], folds, seed)
        protocol = {"name": "stratified k-fold over takes", "folds": len(split), "seed": seed}
    protocol["pipeline"] = project.pipeline.to_dict()
    return _run(
        spec,
        _project_preparer(project),
        split,
        len(takes),
        protocol=protocol,
        ids=ids,
        early=early,
        n_jobs=n_jobs,
        progress=progress,
        names=list(project.output_names or ()),
    )
