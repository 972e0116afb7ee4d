"""Run a logged session back through a project, offline: the same pipeline and model stream
code as the engine, fed with the logged frames and their logged times, so the outputs are the
ones the session produced.

The live stream is reset where a gesture starts (``/gesturemap/reset``, a take, running
started, an onset); a log that records those resets as ``reset`` events (data ``frame``: the
index of the first ``input`` row after the reset) replays them at the same frame, so the labels
after a reset are the live ones too. A ``reset`` event without ``frame`` is placed by its time
(before the first frame logged after it).

A scene recalled on stage (a ``scene`` event, data ``name`` and ``frame``) is recalled at the
same frame, from the replaying project's scene of that name, with the crossfade the engine
plays (:class:`gesturemap.live.scenes.CrossfadeStream`), timed by the logged frames' times.

The rejection threshold in force (a ``reject_below`` event, data ``value`` and ``frame``:
logged as the log opens and at each change — the window's slider, its Outputs tab, a scene's
outputs) is set at the same frame, so the labels are the ones the outputs sent; replayed
through another project than the one that played, that project's own threshold holds.

A model retrained during the session is not in the log: the project's model, saved with the
last retraining, replays every frame before it (those results are not the live ones). From
the last retraining (a ``trained`` event, data ``frame``) on, that model is the one the session
played, whichever scene played before it, so the replay swaps it in at the same frame, with a
fresh stream, as the engine did: from there the results are the live ones.

Where the session's model answered no frame (a ``running`` event, data ``on`` false and
``frame``: running stopped, or nothing trained yet) the outputs sent nothing: the replay's
label is empty there, as in the live ``labels.csv``, and it spots no gesture; the model still
gives its likelihoods (the live stream, reset when running starts again, is the same after)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import Any

import numpy as np

from ..outputs.rejection import reject_below, rejected

#: The event kind of a stream reset in a session log (see the module's docstring).
RESET = "reset"
#: The event kind of a model retrained during a session (the model is not in the log).
TRAINED = "trained"
#: The event kind of the rejection threshold set in a session (data ``value``, ``frame``).
REJECT = "reject_below"
#: The event kind of the model starting or stopping to answer frames (data ``on``, ``frame``).
RUNNING = "running"


class _Replay:
    """The engine's frame path over frames given a chunk at a time: its state (pipeline,
    model stream) carries from one chunk to the next, so chunks replay as one stream."""

    def __init__(self, project: Any, input_dim: int) -> None:
        if project.trained is None:
            from ..errors import GesturemapError

            raise GesturemapError("the project has no trained model: train it first")
        from .frame_path import FramePath, model_stream

        self.project = project
        #: the project's own mapping as it opened (settings, model, outputs): the model saved
        #: with the session's last retraining, which a recall (recall_scene) replaces
        self._own = (project.model, project.trained, project.outputs)
        # the engine's frame path: its channel names, and its stream (spotting when the
        # project's model settings say so)
        self.path = FramePath(project, model_stream(project, project.trained))
        self.path.start(input_dim)
        #: the classes of the model playing (a recalled scene's may be others)
        self.labels = [str(lb) for lb in project.trained.labels_]
        #: the rejection threshold in force (a recalled scene's outputs may set another)
        self.reject_below = reject_below(project.outputs)
        #: whether the log's thresholds are set (:meth:`apply`): a recall then leaves the
        #: threshold to them (the log has the one the scene brought, as it was then)
        self.logged_thresholds = False
        self._t = 0.0  # the time of the frame replayed: a scene crossfade's clock, as live
        #: whether the session's model answered the frame replayed (its outputs sent it)
        self.answering = True
        #: the scenes a recall named that the project does not have (not replayed)
        self.missing_scenes: list[str] = []

    def recall(self, name: Any) -> None:
        """Recall the project's scene ``name`` as the engine does on stage (a crossfade of
        the project's ``scene_fade_s``, timed by the frames' times as the engine's is); a
        scene the project does not have
        leaves the model playing, and is listed in :attr:`missing_scenes`."""
        from .frame_path import model_stream
        from .scenes import CrossfadeStream, _Held

        try:
            scene = self.project.recall_scene(str(name))
        except KeyError:
            self.missing_scenes.append(str(name))
            return
        path = self.path
        new = model_stream(self.project, scene.trained)  # by the scene's own model settings
        old = path.stream
        if isinstance(old, CrossfadeStream):  # mid-fade: the next fade starts where it is
            last = path.result()
            old = _Held(None if last is None else last.output)
        fade_s = float(getattr(self.project, "scene_fade_s", 0.0))
        if old is not None and fade_s > 0:
            path.stream = CrossfadeStream(old, new, fade_s, self._faded, clock=lambda: self._t)
        else:
            path.stream = new
        self.labels = [str(lb) for lb in scene.trained.labels_]
        if not self.logged_thresholds:
            self.reject_below = reject_below(self.project.outputs)  # the scene's, as on stage

    def apply(self, change: tuple[str, Any]) -> None:
        """A logged change, before the frame it names: ``("scene", name)`` recalls a scene,
        ``("reject_below", value)`` sets the rejection threshold, ``("running", on)`` says
        whether the session's model answered frames from there on."""
        kind, what = change
        if kind == REJECT:
            self.reject_below = what
        elif kind == RUNNING:
            self.answering = what
        elif kind == TRAINED:
            self.retrained()
        else:
            self.recall(what)

    def retrained(self) -> None:
        """The session's last retraining swapped its model in: the project's own (saved with
        it), through a fresh stream by the project's model settings, as the engine's swap.
        A scene recalled before it plays no more, nor a crossfade from it: the engine
        replaced whatever stream played (its rejection threshold stays, as on stage)."""
        from .frame_path import model_stream

        project = self.project
        project.model, project.trained, project.outputs = self._own
        self.path.stream = model_stream(project, project.trained)
        self.labels = [str(lb) for lb in project.trained.labels_]

    def label(self, r: Any) -> Any:
        """The class the live outputs sent for ``r``: its label, or None on a frame they
        sent as no class (below ``reject_below``, a DTW frame that matches nothing) or did
        not send (the model answered no frame), as the live log's ``labels.csv`` holds it."""
        return None if not self.answering or rejected(r, self.reject_below) else r.label

    def _faded(self, fader: Any) -> None:
        if self.path.stream is fader:
            self.path.stream = fader.new

    def run(self, times: np.ndarray, inputs: np.ndarray,
            resets: Iterable[int] = (),
            changes: Mapping[int, list[tuple[str, Any]]] | None = None,
            ) -> Iterator[tuple[float, Any]]:
        """``(t, Result)`` of each frame; ``resets``: indices in this chunk of the frames
        before which the stream is reset; ``changes``: index -> the changes made before that
        frame (:meth:`apply`), in order."""
        path = self.path
        at = {int(i) for i in resets}
        changes = changes or {}
        # tolist: the very floats float(t) gives, without a numpy scalar a frame
        for i, (t, x) in enumerate(zip(times.tolist(), inputs, strict=True)):
            for change in changes.get(i, ()):
                self.apply(change)
            if i in at:
                path.reset_stream()
            self._t = t
            for r in path.step(x, t):
                yield t, r


def replay_frames(project: Any, times: np.ndarray, inputs: np.ndarray,
                  resets: Iterable[int] = ()) -> list[Any]:
    """``(t, Result)`` of ``project.trained`` for every frame, as the engine computes them.

    ``resets``: indices of the frames before which the stream is reset (a gesture starts).
    """
    return list(_Replay(project, inputs.shape[1]).run(times, inputs, resets))


def _log_events(log_dir: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """The ``reset`` events of a session log: the rows given by ``frame`` (sorted, unique),
    and the times of those placed by their time (sorted); and its ``scene``, ``trained`` and
    ``reject_below`` events."""
    from ..log import iter_events

    frames: set[int] = set()
    by_time = []
    others = []
    for event in iter_events(log_dir):
        if event.kind in ("scene", TRAINED, REJECT, RUNNING):
            others.append(event)
        if event.kind != RESET:
            continue
        frame = _frame_of(event)
        if frame is not None:
            frames.add(frame)
        else:
            by_time.append(event.t)
    return (np.array(sorted(frames), dtype=np.int64),
            np.sort(np.array(by_time, dtype=np.float64)), others)


def _frame_of(event: Any) -> int | None:
    """The ``input`` row an event names (its data's ``frame``), or None."""
    frame = event.data.get("frame")
    if isinstance(frame, int) and not isinstance(frame, bool) and frame >= 0:
        return frame
    return None


def _placed(times: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Before which of ``times`` each reset at ``when`` is: the first frame logged after it
    (its time is past ``when``; ``len(times)``: none). On a clock that never goes back,
    ``searchsorted(times, when, "right")``; the running maximum makes it so on any, and lets a
    chunk answer alone for the resets no earlier chunk has placed."""
    if not len(times):
        return np.zeros(len(when), dtype=np.int64)
    return np.searchsorted(np.maximum.accumulate(times), when, side="right")


def log_resets(log_dir: str | os.PathLike[str], times: np.ndarray) -> list[int]:
    """The ``input`` rows of a session log before which the live stream was reset (see the
    module's docstring); ``times`` are the ``input`` stream's times."""
    frames, by_time, _ = _log_events(log_dir)
    placed = _placed(np.asarray(times, dtype=np.float64), by_time)
    return sorted({*frames.tolist(), *placed.tolist()})


def _threshold_of(event: Any) -> float | None:
    """The rejection threshold a ``reject_below`` event sets (None: it names none)."""
    value = event.data.get("value")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None


class _Resets:
    """A session log's resets, scene recalls, rejection thresholds and running stretches,
    given a chunk of ``input`` rows at a time (in order). ``same``: the project that played is
    replaying, so the logged thresholds are set and its model swapped in at the last
    retraining (another project keeps its own threshold and model)."""

    def __init__(self, log_dir: str | os.PathLike[str], same: bool = True) -> None:
        self.frames, self.pending, events = _log_events(log_dir)
        # changes by the row they name; one of a log that names none, by its time
        self.changes: list[tuple[int | None, float, tuple[str, Any]]] = []
        # the last retraining's model is the project's, saved with it: from its frame on the
        # session played it, whichever scene played before (only the project that played
        # has it). In the log's order among the changes: a scene recalled after it wins
        last_trained = next((e for e in reversed(events) if e.kind == TRAINED), None)
        for e in events:
            if e is last_trained and same:
                self.changes.append((_frame_of(e), e.t, (TRAINED, None)))
            elif e.kind == "scene":
                self.changes.append((_frame_of(e), e.t, ("scene", e.data.get("name"))))
            elif e.kind == REJECT and same and (value := _threshold_of(e)) is not None:
                self.changes.append((_frame_of(e), e.t, (REJECT, value)))
            elif e.kind == RUNNING and isinstance(e.data.get("on"), bool):
                self.changes.append((_frame_of(e), e.t, (RUNNING, e.data["on"])))
        #: the times of the models retrained during the session (not in the log)
        self.retrained = [e.t for e in events if e.kind == TRAINED]
        self.first = 0  # the row index of the next chunk's first row

    def chunk(self, times: np.ndarray) -> tuple[set[int], dict[int, list[tuple[str, Any]]]]:
        """The rows of this chunk (indices in it) before which the stream is reset, and the
        changes (scenes recalled, thresholds set) before rows of it (index -> the changes,
        in the log's order)."""
        first, n = self.first, len(times)
        self.first += n
        lo, hi = np.searchsorted(self.frames, [first, first + n])
        at = set((self.frames[lo:hi] - first).tolist())
        placed = _placed(times, self.pending)
        inside = placed < n
        at.update(placed[inside].tolist())
        self.pending = self.pending[~inside]
        changes: dict[int, list[tuple[str, Any]]] = {}
        later = []
        for frame, t, change in self.changes:
            i = (frame - first if frame is not None
                 else int(_placed(times, np.array([t]))[0]))
            if 0 <= i < n or (frame is not None and i < 0):
                changes.setdefault(max(i, 0), []).append(change)
            else:
                later.append((frame, t, change))
        self.changes = later
        return at, changes


def _csv_row(fields: Iterable[Any]) -> str:
    """One CSV line (labels may hold commas, quotes or line breaks: quoted as CSV does)."""
    from ..log import _csv_field

    return ",".join(_csv_field(str(f)) for f in fields)


def _by_label(values: list[float], labels: list[str], columns: list[str]) -> list[float]:
    """The likelihoods ``values`` of classes ``labels`` under the CSV's ``columns`` (a class
    the columns do not have is left out; a column the model has no class of is NaN)."""
    of = dict(zip(labels, values, strict=True))
    return [of.get(c, float("nan")) for c in columns]


def _distances(result: Any, playing: list[str], columns: list[str]) -> list[float]:
    """A DTW result's distances under the CSV's ``columns`` (the classes of the model
    ``playing``, by name; NaN where a recalled scene's model gives none)."""
    d = getattr(result, "distances", None)
    if d is None:
        return [float("nan")] * len(columns)
    values = [float(v) for v in d]
    return values if playing == columns else _by_label(values, playing, columns)


def _values(output: Any, width: int) -> list[float]:
    """A regression result's values as floats, ``width`` of them (NaN for a frame that gave
    none, so every row keeps the header's columns)."""
    if output is None:
        return [float("nan")] * width
    values = [float(v) for v in np.ravel(output)][:width]
    return values + [float("nan")] * (width - len(values))


def _open_outs(stack: ExitStack, *paths: str | os.PathLike[str] | None) -> list[Any]:
    """A :class:`gesturemap.utils.storage.AtomicFile` (text) for each path given (None: none), each
    discarded on any error: an interrupted replay leaves no half file."""
    from ..utils.storage import AtomicFile

    return [None if path is None else stack.enter_context(AtomicFile(path, text=True))
            for path in paths]


def _uid_in(folder: str | os.PathLike[str]) -> str | None:
    """The id of the project in ``folder`` (its ``project.json``'s ``uid``), or None: no
    readable project there."""
    from ..errors import FormatError
    from ..project import PROJECT_FILE
    from ..utils.storage import read_json_file

    try:
        document = read_json_file(os.path.join(folder, PROJECT_FILE))
    except (FormatError, OSError):
        return None
    uid = document.get("uid") if isinstance(document, dict) else None
    return uid if isinstance(uid, str) else None


def _played_by(played: str | None, played_uid: str | None,
               project_dir: str | os.PathLike[str], uid: str) -> bool:
    """Whether the project in ``project_dir`` (of id ``uid``) is the one that played a session
    logged as played in folder ``played`` by a project of id ``played_uid``: that folder, or
    the project moved or renamed since (its id, and no project of that id left where it
    played). A copy saved elsewhere keeps the id too, but the original is still where it
    played: the copy, perhaps set otherwise since, is another project."""
    if played is None or os.path.realpath(played) == os.path.realpath(project_dir):
        return True
    if played_uid is None or played_uid != uid:
        return False
    return _uid_in(played) != played_uid  # nothing of that id left where it played: it moved


def played_project(log_dir: str | os.PathLike[str]) -> str | None:
    """The folder of the project that played a session log, found by the id the log records
    (``meta.project_uid``): the folder it played in while that still holds it, else the
    log's own folder or the nearest of its parents that does (a session logged inside its
    project's folder moves with it). A log that records no id (an older gesturemap): the
    folder it played in, if it is still there. None: not found, or the log names no project.

    Raises
    ------
    FormatError
        If ``log_dir`` is not a readable session log.
    """
    from pathlib import Path

    from ..log import log_project, log_project_uid

    played, uid = log_project(log_dir), log_project_uid(log_dir)
    if uid is None:
        return played if played is not None and os.path.isdir(played) else None
    if played is not None and _uid_in(played) == uid:
        return played
    here = Path(log_dir).resolve()
    return next((str(folder) for folder in (here, *here.parents) if _uid_in(folder) == uid),
                None)


def replay_log(log_dir: str | os.PathLike[str], project_dir: str | os.PathLike[str], *,
               out: str | os.PathLike[str] | None = None,
               events_out: str | os.PathLike[str] | None = None,
               chunk_rows: int | None = None) -> int:
    """Replay the ``input`` stream of a session log; optionally write results as CSV
    (``t,label`` — empty on a frame the outputs sent as no class, as in the live log —, each
    class's likelihood, a DTW model's distance to each gesture (``distance:LABEL``, as the
    live log's ``distances.csv``), then each regression output by the project's
    ``output_names``, as the live log's ``output.csv``), and the gestures spotted (with
    spotting on) as CSV ``t,label,score,start,end,emitted``.

    A scene recalled during the session is recalled at the same frame (see the module's
    docstring); one the project does not have is not, with a warning.

    The log is read, replayed and written ``chunk_rows`` input rows at a time (default
    :data:`gesturemap.log.CHUNK_ROWS`), so memory does not grow with the session's length;
    each file is written beside its path and renamed over it once whole. A log that was not
    closed (a session killed) replays up to its last whole row, with a warning. Returns the
    number of results (one a frame, unless the feature pipeline makes more or fewer)."""
    import warnings

    from ..errors import FormatError
    from ..features import MAX_ABS_VALUE
    from ..log import (
        CHUNK_ROWS,
        log_ended,
        log_project,
        log_project_uid,
        log_rows_missing,
        read_stream_chunks,
        stream_columns,
    )
    from ..project import Project

    project = Project.load(project_dir)
    columns = stream_columns(log_dir)
    if not log_ended(log_dir):
        # a researcher must know the log is short of its end before trusting the replay
        warnings.warn(f"{log_dir} has no end: its session was killed or crashed (or is "
                      "still running); it replays up to its last whole row, and the rows "
                      "of its last half second may be missing", stacklevel=2)
    missing = log_rows_missing(log_dir)
    if missing:
        # the frames between are not in the log: the model steps the frames on either side
        # of the gap as if they followed each other, so from there the results part from the
        # session's (a researcher comparing the two must know where)
        warnings.warn(f"{log_dir}: {missing} input row(s) of the session were not written "
                      "(session.json's dropped and lost: a full disk, or the writer fell "
                      "behind); the replay steps the frames that were, so its results may "
                      "differ from the live ones after each gap", stacklevel=2)
    if "input" not in columns:
        raise FormatError(f"{log_dir} has no 'input' stream to replay (its streams: "
                          f"{', '.join(sorted(columns)) or 'none'}).")
    logged, expected = columns["input"], project.input_dim
    if expected is not None and expected != len(logged):
        # said before anything is read, with both sides: a log of another sensor, or a
        # project of another one (otherwise "frame has shape (2,)" at its first frame, and
        # nothing at all for a log with no frames)
        raise FormatError(f"{log_dir} logged {len(logged)} input channels "
                          f"({', '.join(logged)[:80]}); {project_dir} takes {expected}: "
                          "replay it through a project of the same sensor")
    replay = _Replay(project, len(logged))
    # the thresholds the session set are the settings of the project that played it; another
    # project replays by its own, as it does with its own model
    same = _played_by(log_project(log_dir), log_project_uid(log_dir), project_dir, project.uid)
    resets = _Resets(log_dir, same=same)
    replay.logged_thresholds = any(kind == REJECT for _, _, (kind, _) in resets.changes)
    if resets.retrained and same:
        # the retrained models are not in the log: the project's model, the last one trained,
        # plays before the last retraining too, and a researcher comparing the replay with the
        # live outputs must know where they part (through another project, nothing was live
        # to compare with)
        warnings.warn(f"{log_dir}: the model was retrained {len(resets.retrained)} time(s) "
                      f"during the session (the last at t={resets.retrained[-1]!r}), and the "
                      "models before the last are not in the log: the project's model, the "
                      "last one trained, plays the frames before it too, so the results before "
                      "the last retraining are not the live ones", stacklevel=2)
    # a frame the engine logged passed its check (finite, within MAX_ABS_VALUE): a row that
    # would not is damage, refused with its file and line before the model meets it (which
    # could say only "Bad frame", not where)
    chunks = read_stream_chunks(log_dir, "input", chunk_rows=chunk_rows or CHUNK_ROWS,
                                finite_below=MAX_ABS_VALUE)
    count = 0
    with ExitStack() as stack:
        results, events = _open_outs(stack, out, events_out)
        # a regression's values are what its session played (the live log's output.csv):
        # without them a replay of a mapping by demonstration has nothing to compare
        outputs = list(project.output_names or ())
        # a DTW model's distances are what its /wek/outputs sent (the live log's distances.csv)
        dtw = getattr(project.trained, "kind", None) == "dtw"
        if results is not None:
            labels = [str(lb) for lb in project.trained.labels_]
            distances = [f"distance:{c}" for c in labels] if dtw else []
            results.handle.write(_csv_row(["t", "label", *labels, *distances, *outputs])
                                 + "\n")
        if events is not None:
            events.handle.write("t,label,score,start,end,emitted\n")
        fields: dict[Any, str] = {}  # each label's CSV field, quoted once
        for times, values, _ in chunks:
            rows, spotted = [], []
            at, changes = resets.chunk(times)
            for t, r in replay.run(times, values, at, changes):
                count += 1
                if results is not None:
                    label = replay.label(r)
                    field = fields.get(label)
                    if field is None:
                        field = fields[label] = "" if label is None else _csv_row([label])
                    lk = r.likelihoods
                    lk = lk.tolist() if type(lk) is np.ndarray else list(map(float, lk))
                    if replay.labels != labels:  # a recalled scene's classes: by their names
                        lk = _by_label(lk, replay.labels, labels)
                    if dtw:
                        lk += _distances(r, replay.labels, labels)
                    if outputs:
                        lk += _values(r.output, len(outputs))
                    rows.append(f"{t!r},{field},{','.join(map(repr, lk))}\n")
                ev = r.event if events is not None and replay.answering else None
                if ev is not None:
                    spotted.append(_csv_row([repr(t), ev.label, repr(float(ev.score)),
                                             ev.start, ev.end, ev.emitted]) + "\n")
            if results is not None:
                results.handle.write("".join(rows))
            if events is not None:
                events.handle.write("".join(spotted))
        for done in (results, events):
            if done is not None:
                done.commit()
    if replay.missing_scenes:
        # the outputs after such a recall are not the live ones: the researcher must know
        names = ", ".join(map(repr, sorted(set(replay.missing_scenes))))
        warnings.warn(f"{project_dir} has no scene {names} that the session recalled: its "
                      "model played on instead, so the results after the recall are not the "
                      "live ones", stacklevel=2)
    return count
