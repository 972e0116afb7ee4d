"""The Quality panel's work, run in a worker process of its own (no Qt here).

Reviewing the takes trains the model once per fold, and explaining the live decision runs the
model a few dozen times: Python work that would hold the GIL. In the window's process it would
delay the painting, and with an in-process engine the frames too; so it runs in one worker
process (:class:`~gesturemap.gui.quality.QualityWorker`), never on the GUI thread or the
engine's frame path.

:func:`review` rebuilds a snapshot of the project from plain data (takes, pipeline settings,
model settings), reviews it (:func:`gesturemap.evaluation.quality.project_quality`) and trains
the whole model once more, kept in this process for :func:`explain_live` (training is
deterministic: it is the engine's model). Only plain data and arrays cross the process
boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The worker process's last trained model (set by :func:`review`).
_STATE: dict[str, Any] = {}


def lower_priority(window_pid: int | None = None) -> None:
    """The worker's initializer: ten nice levels below the window (about a tenth of a core
    when both want one), so that a review never slows the window's drawing or the pad, let
    alone the engine (real-time where permitted). Not SCHED_IDLE: on a busy machine a review
    would never finish. It ends when the window (``window_pid``) does, even a window killed
    outright, and even before this ran."""
    import os

    from ..utils.scheduling import exit_with_parent

    exit_with_parent(window_pid)
    try:
        os.nice(10)
    except OSError:
        pass


def payload(project: Any, folds: int = 10, tag: Any = None, key: Any = None
            ) -> dict[str, Any]:
    """What :func:`review` and :func:`prepare_meter` need, read from the window's copy of
    the project (plain data); ``tag`` comes back in the review (which project it was about),
    ``key`` names the takes (a review's calibration is for the meter's guide of the same)."""
    return {
        "project": tag,
        "key": key,
        "takes": [(np.asarray(t.inputs), t.label, None if t.times is None else
                   np.asarray(t.times)) for t in project.takes],
        "pipeline": project.pipeline.to_dict(),
        "model": project.model,
        "input_names": project.input_names,
        "output_names": project.output_names,
        "folds": folds,
    }


def review(data: dict[str, Any]) -> dict[str, Any]:
    """Review the takes; keep the whole model for :func:`explain_live`. Never raises: a
    problem comes back as ``{"error": message}``."""
    try:
        from ..evaluation.quality import project_quality
        from ..evaluation.vocabulary import vocabulary_guide

        project = _project(data)
        if project is None:
            return {"error": NOT_COMPARED, "project": data.get("project")}
        report = project_quality(project, folds=int(data["folds"]))
        # the vocabulary guide: the same takes, its threshold chosen by cross-validation on
        # them; its model (fitted on every take, deterministic) is the engine's, and the
        # one the "why?" strip explains with
        try:
            guide = vocabulary_guide(project.new_model(), report.dataset,
                                     folds=int(data["folds"]))
        except Exception as exc:  # the review stands without the guide
            _STATE.pop("guide", None)
            project.fit_pipeline()
            _STATE["model"] = project.new_model().fit(project.dataset())
            _STATE["model_key"] = data.get("key")
            return {**report.to_dict(), "project": data.get("project"), "blurs": [],
                    "guide_error": f"{type(exc).__name__}: {exc}"}
        _STATE["model"] = guide.model
        _STATE["model_key"] = data.get("key")  # the takes it is trained on: its explanations'
        _STATE["guide"] = guide
        return {**report.to_dict(), "project": data.get("project"),
                "blurs": blurs(guide, report.take_ids), "guide_threshold": guide.threshold,
                # for the meter's guide of the same takes (:func:`calibrate_meter`)
                "calibration": {"key": data.get("key"), "threshold": guide.threshold,
                                "thresholds": dict(guide.thresholds), "scale": guide.scale,
                                "typical_frames": dict(guide.typical_frames)}}
    except Exception as exc:  # reported in the panel, never raised into the window
        _STATE.pop("guide", None)
        return {"error": f"{type(exc).__name__}: {exc}", "project": data.get("project")}


#: Why takes are not reviewed nor compared.
NOT_COMPARED = "the quality review needs takes of two classes or more (recognition)"


def _project(data: dict[str, Any]) -> Any:
    """The project of a :func:`payload` (None: nothing to compare, a mapping or one class)."""
    from ..features import Pipeline
    from ..project import Project

    labels = {label for _, label, _ in data["takes"]}
    if data["output_names"] or len(labels) < 2:
        return None
    project = Project(pipeline=Pipeline.from_dict(data["pipeline"]), model=data["model"],
                      input_names=data["input_names"], output_names=data["output_names"])
    for inputs, label, times in data["takes"]:
        project.add_take(inputs, label, times=times)
    return project


def prepare_meter(data: dict[str, Any]) -> dict[str, Any]:
    """In the meter's worker: the guide that :func:`distinct_live` checks with, from a
    :func:`payload` of the takes named ``data["key"]`` — the model fitted once (the engine's:
    training is deterministic), uncalibrated (:func:`~gesturemap.evaluation.vocabulary.
    uncalibrated_guide`) until the review of the same takes brings its thresholds
    (:func:`calibrate_meter`). One training, where the review's cross-validation is ten or
    more: the meter judges a take seconds after the window opens. Never raises."""
    _STATE.pop("guide", None)  # the last takes' guide is not these takes'
    _STATE["key"] = data.get("key")
    try:
        from ..evaluation.quality import reviewed_takes
        from ..evaluation.vocabulary import uncalibrated_guide

        project = _project(data)
        if project is None:
            return {"error": NOT_COMPARED}
        model, dataset, _ = reviewed_takes(project)
        _STATE["guide"] = uncalibrated_guide(model, dataset)
        return {"key": data.get("key")}
    except Exception as exc:  # the meter stays silent, never raised into the window
        return {"error": f"{type(exc).__name__}: {exc}"}


def calibrate_meter(calibration: dict[str, Any]) -> None:
    """In the meter's worker: the thresholds and scale that the review chose by
    cross-validation (its ``calibration``), for the guide prepared from the same takes (its
    key); a review of other takes changes nothing."""
    import dataclasses

    guide = _STATE.get("guide")
    if guide is not None and calibration.get("key") == _STATE.get("key"):
        _STATE["guide"] = dataclasses.replace(
            guide, threshold=calibration["threshold"], thresholds=calibration["thresholds"],
            scale=calibration["scale"], typical_frames=calibration["typical_frames"])


def blurs(guide: Any, take_ids: list[str]) -> list[dict[str, Any]]:
    """The takes that blur their class into another (:attr:`VocabularyGuide.blurs`), as
    plain data with their take ids."""
    return [{"take": take_ids[b.index], "label": str(b.label), "into": str(b.into),
             "margin": b.distinctness.margin, "reason": b.distinctness.reason}
            for b in guide.blurs]


def distinct_live(features: np.ndarray, label: Any) -> dict[str, Any]:
    """How distinct the take being recorded is so far (``features``: its feature frames,
    (T, D)) for its class ``label``, by the meter's guide (:func:`prepare_meter`,
    :meth:`~gesturemap.VocabularyGuide.check`). ``{}`` with no guide yet; a ``note`` when
    there is nothing to compare (a new class, too few frames)."""
    guide = _STATE.get("guide")
    if guide is None:
        return {}
    if not any(str(lb) == str(label) for lb in guide.labels):
        return {"note": f"{label} is a new class: its takes are compared once it is trained"}
    try:
        from ..errors import GesturemapError

        return guide.check(features, label).to_dict()
    except GesturemapError as exc:  # too few frames, say
        return {"note": str(exc)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def explain_live(times: np.ndarray, features: np.ndarray, names: list[str],
                 since: float | None, frames: int, decided: int | None = None,
                 decided_from: int | None = None) -> dict[str, Any]:
    """Explain the model's live decision from the latest feature frames ``features`` (T, D)
    at ``times`` (T,): a cumulative decision reads every frame since the stream's last reset
    (the first at time ``since``), a following one (a project's default) those from its
    last restart: the ``decided_from``-th frame since the reset on (else, the reset's frame
    gone from the ring, the last ``decided``), and scores them as it does (a restart takes
    each class up at any of its states: :meth:`~gesturemap.models.hhmm.HHMM.taken_up_anywhere`),
    so those are explained — then the explanation's label is the monitor's; other decisions
    (a window, decaying evidence) the last ``frames`` (a typical take's length). Its ``key``
    names the takes the model explaining was trained on (the last review's payload's): after
    a retrain the window shows no explanation by the model the engine no longer plays."""
    model = _STATE.get("model")
    if model is None or len(features) == 0:
        return {}
    decision = getattr(model, "decision", None) or getattr(
        getattr(model, "inner_", None), "decision", None)
    # the frames' rate from every frame given: the span explained may be one frame (a
    # restart on the latest), which has no rate of its own
    rate_hz = (len(times) - 1) / max(float(times[-1] - times[0]), 1e-6) if len(times) > 1 \
        else 1.0
    restarted = False
    if (decision in ("cumulative", "following") and since is not None
            and (times >= since).sum() > 1):
        keep = times >= since
        if decision == "following" and decided_from is not None:
            restarted = decided_from > 0
            if times[0] <= since:
                # the reset's frame is in the ring: the restart's frame is found from it, by
                # an offset that changes only at a restart, however many frames came since
                # the engine counted (``decided`` counts back from the engine's latest frame:
                # the process engine's stats are up to half a second older than the ring)
                first = int(np.flatnonzero(keep)[0]) + decided_from
                if first >= len(times):  # a restart on frames this copy does not hold yet
                    return {}
                keep = np.arange(len(times)) >= first
            elif decided is not None:
                keep &= np.arange(len(times)) >= len(times) - decided
    else:
        keep = np.arange(len(times)) >= len(times) - max(frames, 2)  # two give a rate
    times, features = times[keep], features[keep]
    if restarted:  # score as the decision does since its restart (else another label)
        anywhere = getattr(model, "taken_up_anywhere", None)
        model = anywhere() if anywhere is not None else model
    try:
        from ..explain import explain

        ex = explain(model, features, channel_names=names or None)
        return {"key": _STATE.get("model_key"), "label": str(ex.label), "runner_up": None if ex.runner_up is None
                else str(ex.runner_up), "text": ex.text, "margin": ex.margin,
                "drivers": ex.drivers(3), "decided_s": [ex.decided[0] / rate_hz,
                                                       ex.decided[1] / rate_hz],
                "length_s": len(features) / rate_hz,
                "contributions": [float(v) for v in ex.channel_contributions],
                "names": list(ex.channel_names)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
