"""The Rehearsal tab's work, run in worker processes (no Qt here): the audit, and the
spotter's second opinions trained from a rehearsal file.

:func:`audit_project` replays a rehearsal through the project's spotter, as ``gesturemap audit
DIR REHEARSAL...`` does: the project is read from its folder (the trained model and fitted
pipeline the engine saved after its last training), the rehearsal is a stream file read by the
command's own reader or the frames the window recorded, and the audit is
:func:`gesturemap.evaluation.audit.audit` with the window's spotting settings and costs. It
reads, never writes: the window stores the thresholds when the performer presses Apply. Only
plain data and arrays cross the process boundary.
"""

from __future__ import annotations

import json
import time
from typing import Any

#: How long the worker waits for the project's folder to hold the model the engine runs (the
#: engine saves it on its I/O thread just after a training).
SAVED_WAIT_S = 10.0


def basis(project: Any, labels: Any) -> str:
    """What an audit is worked out for, as text to compare: the model's gestures, the
    fitted pipeline, the model settings but spotting, and the takes (ids and labels)."""
    model = {k: v for k, v in (project.model or {}).items() if k != "spotting"}
    return json.dumps([[str(lb) for lb in labels or []], project.pipeline.to_dict(), model,
                       [(t.id, str(t.label)) for t in project.takes]],
                      sort_keys=True, default=str)


def _saved_project(folder: str, expected: str, scene: str | None = None) -> Any:
    """The project in ``folder`` once it is the one the window runs (``expected``: its
    :func:`basis`), playing the scene ``scene`` when one plays (the folder holds the
    project's own mapping, and the scene in its entry); raises a GesturemapError saying
    what to do after :data:`SAVED_WAIT_S`."""
    from ..errors import GesturemapError
    from ..project import Project

    deadline = time.monotonic() + SAVED_WAIT_S
    while True:
        project = Project.load(folder)
        if scene is not None:
            try:
                project.recall_scene(scene)
            except KeyError:
                raise GesturemapError(f"the scene {scene!r} that plays is not in the "
                                      "project's folder: save it, then audit") from None
        labels = getattr(project.trained, "labels_", None)
        if basis(project, labels) == expected:
            return project
        if time.monotonic() > deadline:
            raise GesturemapError("the project's folder does not hold the model that runs "
                                  "(a training or save under way?): train again, then audit")
        time.sleep(0.2)


def audit_project(data: dict[str, Any]) -> dict[str, Any]:
    """Audit a rehearsal (``data``: ``folder``, ``basis``, ``spotting`` the window's spotting
    settings, ``budget``, and ``paths`` of stream files or the recorded ``frames`` (T, D) at
    ``times`` (T,)). Returns :meth:`Audit.to_dict` plus ``rate_hz`` and ``tag``; never raises:
    a problem comes back as ``{"error": message}``."""

    def work(project: Any) -> dict[str, Any]:
        from ..evaluation.audit import audit, project_costs
        from ..evaluation.rehearsal import recorded_rehearsal, rehearsal_frames

        if data.get("paths"):
            recordings, labels, _, _, rate = rehearsal_frames(data["paths"], project)
        else:
            recordings, labels, rate = recorded_rehearsal(project, data["frames"],
                                                          data["times"])
        spotting = project.model["spotting"]
        result = audit(project.trained, recordings, float(data["budget"]),
                       project_costs(project.trained, spotting), labels=labels,
                       takes=project.dataset(), rate_hz=rate, spotting=spotting)
        return {**result.to_dict(), "rate_hz": rate}

    return _with_saved_project(data, work)


def train_second_opinions(data: dict[str, Any]) -> dict[str, Any]:
    """The context relabeller, then the window detector, trained for the project's model from
    rehearsal files (``data``: ``folder``, ``basis``, ``spotting`` the window's spotting
    settings, ``paths``), as ``gesturemap train DIR --relabeler FILES --detector FILES``
    trains them: each kept only when its cross-fit over the performers chooses it, the
    detector's cross-fit spotting with the relabeller when it is kept. Returns ``verifier``
    and ``detector`` (their ``to_dict()``, None when not chosen), ``lines`` (what each
    cross-fit found) and ``tag``; never raises: a problem comes back as ``{"error":
    message}``. Nothing is written in the project: the window stores what was chosen. The
    step under way is written to the file ``data["progress"]`` (when given) as each starts,
    for the window to show."""

    say = _progress_writer(data.get("progress"))

    def work(project: Any) -> dict[str, Any]:
        from ..evaluation.rehearsal import train_project_detector, train_project_verifier

        relabeller, line = train_project_verifier(project, data["paths"], relabel=True,
                                                  progress=say)
        verifier = relabeller.to_dict() if relabeller.cv_["chosen"] else None
        if verifier is not None:  # the detector is checked beside it, as it will run
            project.model = {**project.model, "spotting": {**project.model["spotting"],
                                                           "verifier": verifier}}
        detector, lines = train_project_detector(project, data["paths"], progress=say)
        return {"verifier": verifier, "lines": [line, *lines],
                "detector": None if detector is None else detector.to_dict()}

    return _with_saved_project(data, work)


def _progress_writer(path: str | None) -> Any:
    """A ``progress`` callback that writes each line to ``path`` (atomically: the window
    reads whole lines), or None; a line that cannot be written is dropped (the training goes
    on)."""
    if not path:
        return None
    from ..utils.storage import atomic_write_text

    def say(text: str) -> None:
        try:
            atomic_write_text(path, text)
        except OSError:
            pass
    return say


def _with_saved_project(data: dict[str, Any], work: Any) -> dict[str, Any]:
    """``work(project)`` on the project the window runs, read from its folder, with the
    window's spotting settings (``data["spotting"]``: costs edited a moment ago are the ones
    followed); its result with ``data["tag"]``, or ``{"error": message}``: never raises
    into the window."""
    tag = data.get("tag")
    try:
        project = _saved_project(data["folder"], data["basis"], data.get("scene"))
        if data["spotting"] is None:
            return {"error": "spotting is off: turn it on in the Model tab first", "tag": tag}
        project.model = {**project.model, "spotting": data["spotting"]}
        return {**work(project), "tag": tag}
    except Exception as exc:  # shown in the panel, never raised into the window
        return {"error": f"{type(exc).__name__}: {exc}" if not _ours(exc) else str(exc),
                "tag": tag}


def _ours(exc: Exception) -> bool:
    from ..errors import GesturemapError

    return isinstance(exc, GesturemapError)
