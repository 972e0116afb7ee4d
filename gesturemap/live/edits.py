"""The engine's commands that edit the project's takes: corrections ("that was X"), undo and
redo, deletions by control messages and their restoring, Wekinator's name messages; and the
stream's resets where a gesture starts (a trigger, a motion onset), which also start the
gesture a correction relabels.

A mixin of :class:`gesturemap.live.engine.Engine`: every ``_cmd_*`` runs on the engine thread,
between two frames (send it with ``Engine.command``); saving is the I/O thread's.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..data import hand_over, label_for_number
from ..errors import GesturemapError

#: The most classes takes and corrections create while running (over OSC: "outputs N" then a
#: take, "/gesturemap/correct LABEL"): 2,000 labels sent over OSC took the training process
#: from 0.39 to 1.59 GB and the frames' p99 latency to 0.43 s. Enough for MIDI's 128 notes.
MAX_LIVE_CLASSES = 128
#: Batches of takes deleted by control messages that are remembered for their undo.
CONTROL_BATCHES = 20


def _names_as_text(verb: str, what: str, names: tuple[Any, ...]) -> list[str]:
    """Names a client sent (``setInputNames``, ``setOutputNames``), refused unless every one
    is an OSC string: Wekinator refuses the message otherwise, and a patch sending numbers
    (a message box of 1 2 3) meant no names; taken as text they would have renamed the
    channels "1.0", "2.0"... in the saved project."""
    for i, name in enumerate(names, 1):
        if not isinstance(name, str):
            raise GesturemapError(
                f"{verb}: argument {i} ({name!r:.40}) is not text; send each {what} name as "
                f"an OSC string, as Wekinator expects; the {what}s keep their names")
    return list(names)


class TakeEdits:
    """Corrections and take edits (mixed into :class:`gesturemap.live.engine.Engine`)."""

    project: Any
    stream: Any
    path: Any
    session_log: Any
    rehearsing: bool
    _log_backlog: list[tuple[Any, ...]] | None
    _log_backlog_inputs: int
    _log_event: Any
    resets: dict[str, int]
    _gesture: Any
    _onset_given: Any
    _count_error: Any
    _is_regression: Any
    _cmd_cancel_train: Any
    _start_training: Any
    _dtw_project: Any
    _next_take: Any
    _io: Any
    project_dir: Any
    command: Any
    _set_model: Any
    current_label: Any
    current_outputs: Any
    output: Any
    recording: bool
    _take_label: Any

    def _init_corrections(self) -> None:
        #: ids of the takes added by corrections, the last one first to undo
        self.corrections: list[str] = []
        #: (take, token) of the corrections undone, the last one first to redo
        self._undone_corrections: list[tuple[Any, str | None]] = []
        #: the class each correction declared (its take id -> label), taken out on its undo
        self._correction_classes: dict[str, Any] = {}
        #: the window's names for its corrections -> their take ids (its undo names one)
        self._correction_tokens: dict[str, str] = {}
        #: the time of the first frame the model stream read since its last reset (or a new
        #: stream), or None: the frames a cumulative decision is made on start there
        self.stream_reset_t: float | None = None
        self._reset_pending = True
        #: (old label, new label) of takes a per-output deletion relabelled, by id
        self._control_labels: dict[str, tuple[Any, Any]] = {}
        #: what /gesturemap/undo takes back, the latest last: ("correction", take id) or
        #: ("deletion", [take ids])
        self._osc_edits: list[tuple[str, Any]] = []

    def _onset_settings(self) -> Any:
        settings = getattr(self.project, "model", None)
        return settings.get("onset") if isinstance(settings, dict) else None

    def _onset_detector(self) -> Any:
        from .onset import OnsetDetector

        self._onset_given = self._onset_settings()
        try:
            return OnsetDetector.from_settings(self._onset_given)
        except GesturemapError as exc:
            self._count_error(exc, "onset settings")
            return None

    def label_for_number(self, number: Any) -> Any:
        """The class Wekinator's class ``number`` names: the number itself in a numbered
        project; in a project of named classes, the class that number is sent for on
        ``/wek/outputs`` (the model's order, or the order a model would have)."""
        labels = list(getattr(self.project.trained, "labels_", None) or [])
        if not labels:
            labels = sorted({*self.project.classes, *(t.label for t in self.project.takes)})
        return label_for_number(number, labels, (self.project.outputs or {}).get("class_numbers"))

    def _cmd_reset(self) -> None:
        """A gesture starts now (OSC /gesturemap/reset, a key, a pedal): reset the stream."""
        self._reset_stream("trigger")
        self._clear_gesture()  # the last gesture (what a correction relabels) begins here
        self.resets["trigger"] += 1

    def _reset_stream(self, reason: str, written: bool = False) -> None:
        """Reset the model stream (a gesture starts) and, with a session log open, log it:
        a ``reset`` event whose ``frame`` is the first ``input`` row the reset stream reads
        (the row just logged when ``written``), where ``gesturemap replay`` resets too."""
        self.path.reset_stream()
        self._reset_pending = True
        log = self.session_log
        if log is not None:
            self._log_event("reset", reason=reason,
                            frame=max(0, log.accepted("input") - int(written)))
        elif self._log_backlog is not None:  # the log is opening: the rows held for it
            self._log_event("reset", reason=reason,
                            frame=max(0, self._log_backlog_inputs - int(written)))

    def _clear_gesture(self) -> None:
        self._gesture.clear()

    def correction_label(self, label: Any) -> Any:
        """The label a correction adds its take under. An empty label means "that was
        nothing": a null take, under ``gm.NULL`` (spotting learns "anything else" from those)."""
        if label is None or label == "":
            from ..models.spotting.core import NULL

            if (getattr(self.project, "model", None) or {}).get("spotting") is None:
                raise GesturemapError(
                    "correct: an empty label means \"that was nothing\" (a null take), which "
                    "only gesture spotting uses: turn spotting on in the model settings, or "
                    "name the class the gesture was")
            return NULL
        known = [t.label for t in self.project.takes]
        if known and all(isinstance(k, (int, np.integer)) for k in known):
            try:  # a numbered project (Wekinator's classes): "2" or 2.0 is class 2
                value = float(label)
                if value.is_integer():
                    return int(value)
            except (TypeError, ValueError):
                pass
        if isinstance(label, float) and not np.isfinite(label):  # no class "nan" or "inf"
            raise GesturemapError(f"correct: {label!r} is no class name or number")
        if isinstance(label, float) and label.is_integer():
            return int(label)
        return label if isinstance(label, (int, np.integer)) else str(label)

    def _cmd_correct(self, label: Any = "", token: Any = None) -> None:
        """Relabel the last gesture (the frames since the last reset or take) as ``label``:
        it becomes a take, and training follows. ``token`` (the window's): the name its undo
        and redo give this correction."""
        if self.recording:  # its frames would be in two takes of two classes
            raise GesturemapError("correct: a take is being recorded; stop it first (or delete "
                                  "it and correct the gesture after)")
        if self.rehearsing:  # ordinary movement: its frames never become a take
            raise GesturemapError("correct: a rehearsal is being recorded, and its frames "
                                  "never become a take; stop it first (/gesturemap/rehearsal 0)")
        if self._is_regression():  # a take of it needs the outputs it was meant to give
            raise GesturemapError(
                "correct: this project maps gestures to outputs "
                f"({', '.join(self.project.output_names)}), it has no classes to correct; "
                "set the outputs and record a take instead")
        if not self._gesture:
            raise GesturemapError("correct: no gesture since the last reset or take")
        label = self.correction_label(label)
        inputs, times = self._gesture.frames()
        inputs = hand_over(inputs)  # a copy of its own: the take keeps it, uncopied again
        # refused (a label the project cannot take), the gesture stays for another try
        take = self._add_correction(inputs, label, times, token)
        self._clear_gesture()
        self._undone_corrections.clear()  # a new correction: the undone ones cannot come back
        self._take_ended_at = time.perf_counter()
        self._log_event("correction", id=take.id, label=str(take.label), frames=len(inputs))
        self._cmd_train()

    def _add_correction(self, inputs: Any, label: Any, times: Any, token: Any) -> Any:
        """Add a correction's take (saved by the I/O thread) and remember it for undo, with
        the class it declared, if it named a new one (undone, the class goes with it), and
        its ``token``, if given."""
        self._check_take("correct", inputs, label, times)
        new_class = label not in self.project.classes
        take = self.project.add_take(inputs, label, times=times)
        self.corrections.append(take.id)
        self._osc_edits = [*self._osc_edits[-(CONTROL_BATCHES - 1):], ("correction", take.id)]
        if new_class:
            self._correction_classes[take.id] = take.label
        if token is not None:
            self._correction_tokens[str(token)] = take.id
        if self.project_dir is not None:
            folder = self.project_dir
            self._io.put(lambda: self._save(f"correction {take.id} ({take.label})", folder,
                                            lambda: self.project.save_take(folder, take)))
        return take

    def _check_take(self, what: str, inputs: Any, label: Any, times: Any) -> None:
        """Refuse a take (``what``: "take", "correct") the model could not train on, at once
        and saying why, rather than let it break every retraining after it."""
        project = self.project
        if not project.has_class(label) and project.class_count >= MAX_LIVE_CLASSES:
            raise GesturemapError(
                f"{what}: {label!r:.60} would be class {project.class_count + 1}; a running "
                f"project takes at most {MAX_LIVE_CLASSES} (each costs every frame and every "
                "training): add classes in the window or the project's file")
        try:
            project.check_take(inputs, label, times)
        except GesturemapError as exc:
            raise GesturemapError(f"{what}: {len(inputs)} frames of {label!r} not added: "
                                  f"{exc}") from None

    def _cmd_undo_correction(self, token: Any = None) -> None:
        """Take the last correction's take out again (the correction named ``token``: the
        window's undo, which must not take out a correction sent over OSC since), and
        retrain."""
        if token is not None:
            take_id = self._correction_tokens.get(str(token))
            if take_id not in self.corrections:
                raise GesturemapError("undo: that correction is undone already")
            self.corrections.remove(take_id)
            try:
                self._undo_correction(take_id)
            except KeyError:  # its take deleted meanwhile (the dataset browser)
                raise GesturemapError("undo: that correction's take was deleted") from None
            return
        while self.corrections:
            take_id = self.corrections.pop()
            try:
                self._undo_correction(take_id)
            except KeyError:  # deleted meanwhile: undo the one before
                continue
            return
        raise GesturemapError("undo: no correction to undo")

    def _undo_correction(self, take_id: str) -> None:
        take = self.project.remove_take(take_id)
        tokens = [k for k, v in self._correction_tokens.items() if v == take_id]
        for k in tokens:
            del self._correction_tokens[k]
        self._undone_corrections.append((take, tokens[0] if tokens else None))
        declared = self._correction_classes.pop(take_id, None)
        if declared is not None and all(t.label != declared for t in self.project.takes):
            self.project.remove_class(declared)  # the class this correction brought
        self._log_event("undo_correction", id=take_id)
        if not self.project.takes:  # its only take: the model it trained goes with it
            self._cmd_cancel_train()
            self._set_model(None)
        self._autosave()
        if self.project.takes:
            self._cmd_train()

    def _cmd_redo_correction(self, token: Any = None) -> None:
        """Put the last undone correction's take back (the one named ``token``, if given),
        and retrain."""
        undone = self._undone_corrections
        where = [i for i, (_, t) in enumerate(undone) if token is None or t == str(token)]
        if not where:
            raise GesturemapError("redo: no undone correction")
        old, name = undone.pop(where[-1])
        self._add_correction(old.inputs, old.label, old.times, name)
        self._cmd_train()

    def _cmd_delete_all(self) -> None:
        # Nothing a datagram does destroys data at once: the takes go to the project's trash
        # (Project.save moves their files there), restorable by restore_takes (the window's
        # undo, /gesturemap/undo or /gesturemap/restore, `gesturemap restore DIR`).
        if self.recording:
            # Wekinator deletes the examples of the recording under way too, and records on
            # (a controller's "clear" pressed while recording keeps what comes after it): the
            # frames so far end as a take, deleted with the others, and a new take begins
            try:
                self._next_take()
            except GesturemapError:
                pass  # too short to be a take: no model could train on them anyway
            if self.project_dir is not None:
                # deleted once the I/O thread has written that take (its next job): a take
                # removed before its files are written never reaches the trash
                ids = list(self._labels_now())
                self._io.put(lambda: self.command("_delete_takes", ids))
                return
        self._cmd__delete_takes(list(self._labels_now()))

    def _cmd__delete_takes(self, ids: list[str]) -> None:
        """Move the takes ``ids`` (those still there) to the trash, as one deletion."""
        wanted = set(ids)
        before = {i: label for i, label in self._labels_now().items() if i in wanted}
        for take_id in before:
            self.project.remove_take(take_id)
        self._control_edit(before)
        self._autosave()
        self._dtw_follows_takes()

    def _labels_now(self) -> dict[str, Any]:
        return {take.id: take.label for take in self.project.takes}

    def _control_edit(self, before: dict[str, Any]) -> None:
        """Remember what a control message changed since the takes' labels were ``before``:
        the takes it removed and those it relabelled (a per-output deletion), as one batch
        of ``control_deletions`` that restore_takes and the undos bring back."""
        after = self._labels_now()
        ids = [i for i in before if i not in after or after[i] != before[i]]
        if not ids:
            return
        for take_id in ids:
            if take_id in after:
                self._control_labels[take_id] = (before[take_id], after[take_id])
        self.control_deletions = [*self.control_deletions[-(CONTROL_BATCHES - 1):], ids]
        self._osc_edits.append(("deletion", ids))
        self._log_event("deleted", takes=ids)

    def _cmd_remove_takes(self, ids: Any) -> None:
        """Remove the takes ``ids`` (into the trash at the next save), e.g. an undo's redo."""
        for take_id in [str(i) for i in ids]:
            self.project.remove_take(take_id)
        self._autosave()

    def _cmd_redo_deletion(self, ids: Any) -> None:
        """Delete again what a control message deleted and an undo brought back (the window's
        redo): the takes removed, the per-output takes relabelled as the deletion left them."""
        before = self._labels_now()
        for take_id in [str(i) for i in ids]:
            if take_id not in before:
                continue
            relabelled = self._control_labels.get(take_id)
            if relabelled is not None and before[take_id] == relabelled[0]:
                self.project.relabel_take(take_id, relabelled[1])
            else:
                self.project.remove_take(take_id)
        self._sync_outputs()
        self._control_edit(before)
        self._autosave()
        self._dtw_follows_takes()

    def _cmd_restore_takes(self, *ids: Any) -> None:
        """Put back what control messages deleted: the takes ``ids`` (a list, or one id per
        argument as ``/gesturemap/restore ID...`` sends them), else all of the last batch. A
        take a per-output deletion relabelled gets its label back.

        Raises
        ------
        GesturemapError
            If none of ``ids`` is in the trash nor relabelled by a deletion, or nothing was
            deleted.
        """
        if len(ids) == 1 and isinstance(ids[0], (list, tuple)):
            ids = tuple(ids[0])
        if not ids:
            if not self.control_deletions:
                raise GesturemapError("restore: nothing was deleted by a control message")
            ids = tuple(self.control_deletions[-1])
        wanted = [str(i) for i in ids]
        labels = self._labels_now()
        relabelled = [i for i in wanted if i in labels and i in self._control_labels]
        for take_id in relabelled:
            old, new = self._control_labels[take_id]  # kept: the window's redo reads it
            if labels[take_id] == new:
                self.project.relabel_take(take_id, old)
        restored = self.project.restore_takes(wanted)
        if not restored and not relabelled:
            trash = self.project.trash()
            raise GesturemapError(f"restore: {' '.join(wanted):.200} not in the trash (it "
                                  f"holds: {' '.join(trash) or 'nothing'}"[:300] + ")")
        back = {t.id for t in restored} | set(relabelled)
        self.control_deletions = [kept for batch in self.control_deletions
                                  if (kept := [i for i in batch if i not in back])]
        self._sync_outputs()
        self._log_event("restored", takes=sorted(back))
        self._autosave()
        self._dtw_follows_takes()

    def _sync_outputs(self) -> None:
        from ..interop.wekinator.examples import sync_skip_labels

        sync_skip_labels(self.project)

    def _cmd_delete_for_output(self, index: Any = None, *_: Any) -> None:
        """Wekinator's deleteExamplesForOutput N (from 1; out of range, or not a whole number:
        refused): a DTW project deletes gesture N's takes; a per-output project takes output
        N out of every take (a take left with no output goes), as Wekinator sets that output
        to ``?`` in every example; a project with one output deletes every take (Wekinator's
        only output); one model of several outputs refuses (see
        :func:`gesturemap.interop.wekinator.examples.delete_examples_for_output`).

        A take being recorded of that output loses its frames so far too, as with
        deleteAllExamples: Wekinator deletes the examples of the recording under way with
        the others and records on, so what comes after the message is kept."""
        from ..interop.wekinator.examples import check_output_deletion, holds_output

        if index is None:  # a message cut short is no "delete everything"
            raise GesturemapError("deleteExamplesForOutput needs the output's number (from 1)")
        index = check_output_deletion(self.project, index)  # refused: the take goes on whole
        if self.recording and holds_output(self.project, self._take_label, index):
            try:  # the frames so far end as a take, deleted with the others; a new one begins
                self._next_take()
            except GesturemapError:
                pass  # too short to be a take: no model could train on them anyway
            if self.project_dir is not None:
                # once the I/O thread has written that take (its next job): a take removed
                # before its files are written never reaches the trash
                ids = list(self._labels_now())
                self._io.put(lambda: self.command("_delete_for_output", index, ids))
                return
        self._cmd__delete_for_output(index)

    def _cmd__delete_for_output(self, index: int, ids: list[str] | None = None) -> None:
        """Output ``index``'s examples deleted from the takes ``ids`` (default: every take),
        as one deletion."""
        from ..interop.wekinator.examples import delete_examples_for_output

        before = self._labels_now()
        delete_examples_for_output(self.project, index, None if ids is None else set(ids))
        self._control_edit(before)
        self._autosave()
        self._dtw_follows_takes()

    def _dtw_follows_takes(self) -> None:
        """A DTW project's templates are its takes (Wekinator's DTW matches against the
        examples it has, with no train message): after takes were deleted or restored, its
        model is stored again from the takes left (none: no model, so a deleted gesture
        never matches again), and a restored gesture matches at once."""
        if not self._dtw_project():
            return
        self._cmd_cancel_train()
        if self.project.takes:
            # not train's own command, which ends a take under way so that it trains
            # (Wekinator's train): a gesture being recorded would be cut in two templates
            self._start_training()
        else:
            self._set_model(None)

    def _cmd_undo(self) -> None:
        """``/gesturemap/undo``: take back the latest correction or control deletion, whichever
        came last (one already undone another way is passed over)."""
        edits = self._osc_edits
        while edits:
            kind, what = edits.pop()
            if kind == "correction" and what in self.corrections:
                self.corrections.remove(what)
                try:
                    self._undo_correction(what)
                except KeyError:  # its take deleted meanwhile (the dataset browser)
                    continue
                return
            live = {i for batch in self.control_deletions for i in batch}
            if kind == "deletion" and live.intersection(what):
                self._cmd_restore_takes([i for i in what if i in live])
                return
        raise GesturemapError("undo: nothing to undo")

    def _cmd_set_input_names(self, *names: Any) -> None:
        self.project.input_names = _names_as_text("setInputNames", "input", names)
        self._autosave()  # a client names them once, when it starts: kept as any edit

    def _cmd_set_output_names(self, *names: Any) -> None:
        """Wekinator's ``setOutputNames``: refused, and said, whatever the names. Wekinator
        takes output names only while a project is being made (its new-project screen) and
        refuses them, warning, once it exists; a project the engine runs exists, its outputs
        named when it was made (``gesturemap new --outputs``, the window, an import). Names
        sent by a sketch starting up would otherwise rename the outputs that the project's
        scenes, mappings and routes name."""
        names = tuple(_names_as_text("setOutputNames", "output", names))
        have = list(self.project.output_names or ()) if self._is_regression() else []
        if have:
            what = f"{len(have)} outputs ({', '.join(have)}), which keep their names"
        else:  # a classifier's (or DTW's) one output: its class number
            what = "1 output (the class number), which keeps its meaning"
        if len(names) != max(len(have), 1):
            # a patch made for a project of other outputs (Wekinator's sketches send one
            # name, "hue", to projects of two or five), as Wekinator warns first
            raise GesturemapError(f"setOutputNames: {len(names)} name"
                                  f"{'s' if len(names) != 1 else ''}; the project has {what}")
        raise GesturemapError("setOutputNames: outputs are named when a project is made, not "
                              f"after (Wekinator refuses it too); the project has {what}")
