"""Wekinator's per-output switches: ``disableModelRunning`` / ``enableModelRunning N...`` and
``disableModelRecording`` / ``enableModelRecording N...``.

Wekinator runs one model per output. ``disableModelRunning 2`` stops output 2's model: while
running, ``/wek/outputs`` still carries every output, output 2 at its *current value* — the
value it had when its model stopped (the last one sent), or the one a later
``/wekinator/control/outputs`` sets (Wekinator's ``SupervisedLearningManager.computeValues``
sends ``OutputManager.getCurrentValues()`` for an output whose model does not run, and every
computed frame or ``outputs`` message updates those). A performer freezes a parameter there,
or sets it by hand, while the others follow the gesture. ``enableModelRunning 2`` lets the
model answer again. Numbers count from 1; one out of range, or not a number, refuses the whole
message (Wekinator's ``OSCControlReceiver``). A DTW project has no per-output models: Wekinator
takes the message and changes nothing, and so does gesturemap.

``disableModelRecording 1`` keeps output 1 out of what is recorded: Wekinator records the
frames with that output missing (``?``), and an output's model trains only on the examples
that have its value. With every output switched off nothing it records trains anything, so
gesturemap records nothing (no take) until ``enableModelRecording``. One model here learns a
regression's outputs together: a take has all its outputs or none, so switching off some of
several outputs is said (refused), and the takes keep every output until all are off.

Wekinator saves each output's switches with its project; so does gesturemap
(:attr:`gesturemap.project.Project.switches`, saved after each change): a project opened again
holds the same outputs at the values they held, and records as it did.

A mixin of :class:`gesturemap.live.engine.Engine`: every ``_cmd_*`` runs on the engine thread,
between two frames. The held values reach the frame path as one array,
:attr:`gesturemap.outputs.osc.OSCOutput.held`, replaced whole (never changed in place).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import GesturemapError

__all__ = ["ModelSwitches"]


class ModelSwitches:
    """Per-output running and recording switches (mixed into
    :class:`gesturemap.live.engine.Engine`)."""

    project: Any
    output: Any
    path: Any
    _autosave: Any
    current_label: Any
    current_outputs: Any
    frames_out: int
    _class_numbers: Any
    _is_regression: Any
    _dtw_project: Any
    #: frames_out when ``outputs`` last set the current values (-1: never): a frame sent
    #: after it makes the sent values the current ones, as each computed frame does in
    #: Wekinator
    _outputs_at = -1
    #: the class number ``outputs`` set last (Wekinator's default: 1)
    _outputs_number = 1.0

    def _output_count(self) -> int:
        return len(self.project.output_names) if self._is_regression() else 1

    def _output_indices(self, verb: str, numbers: tuple[Any, ...]) -> list[int]:
        """The outputs ``numbers`` name (from 1), as indices; refused when one names none."""
        n = self._output_count()
        if not numbers:
            raise GesturemapError(f"{verb}: give the numbers of the outputs (from 1 to {n})")
        indices = []
        for number in numbers:
            try:
                value = float(number)
            except (TypeError, ValueError):
                value = math.nan
            if not (math.isfinite(value) and value.is_integer() and 1 <= value <= n):
                raise GesturemapError(
                    f"{verb} {number!r:.40}: an output's number, from 1 to {n} (the project "
                    f"has {n} output{'s' if n != 1 else ''}); nothing was changed")
            indices.append(int(value) - 1)
        return indices

    def _restore_switches(self) -> None:
        """The switches the project was saved with (engine thread, as it starts): a number
        beyond the project's outputs (a file edited by hand) is left out."""
        saved = getattr(self.project, "switches", None)
        if not saved or self._dtw_project():
            return
        n = self._output_count()
        held = np.full(n, np.nan)
        for number, value in saved.get("held", {}).items():
            if int(number) <= n:
                held[int(number) - 1] = value
        if not np.isnan(held).all():
            self.output.held = held
        self._recording_off = frozenset(k - 1 for k in saved.get("recording_off", ()) if k <= n)

    def _keep_switches(self, save: bool = True) -> None:
        """Keep the switches in the project, and save it (on the I/O thread) when ``save``:
        not for each ``outputs`` setting a held value (a fader sends dozens a second; the
        project's next save writes the last)."""
        held = () if self.output.held is None else enumerate(self.output.held.tolist())
        kept: dict[str, Any] | None = {
            "held": {str(i + 1): v for i, v in held if not math.isnan(v)},
            "recording_off": sorted(i + 1 for i in self._recording_off)}
        if not (kept["held"] or kept["recording_off"]):
            kept = None  # every output on
        if kept != getattr(self.project, "switches", None):
            self.project.switches = kept
            if save:
                self._autosave()

    def _cmd_disable_running(self, *numbers: Any) -> None:
        which = self._output_indices("disableModelRunning", numbers)
        if self._dtw_project():
            return
        current = self._current_values()
        held = self.output.held
        held = np.full(len(current), np.nan) if held is None else held.copy()
        for i in which:
            if math.isnan(held[i]):  # a second disable keeps the value held first
                held[i] = current[i]
        self.output.held = held
        self._keep_switches()

    def _cmd_enable_running(self, *numbers: Any) -> None:
        which = self._output_indices("enableModelRunning", numbers)
        held = self.output.held
        if held is None:
            return
        held = held.copy()
        held[which] = np.nan
        self.output.held = None if np.isnan(held).all() else held
        self._keep_switches()

    #: the outputs switched off for recording (``disableModelRecording``), as indices
    _recording_off: frozenset[int] = frozenset()

    @property
    def recording_off(self) -> bool:
        """Whether every output is switched off for recording: a recording keeps no frame
        (read for each frame recorded: the empty set, as nearly always, answers at once)."""
        return bool(self._recording_off) and len(self._recording_off) >= self._output_count()

    def _cmd_disable_recording(self, *numbers: Any) -> None:
        which = self._output_indices("disableModelRecording", numbers)
        if self._dtw_project():
            return
        self._recording_off = self._recording_off | set(which)
        self._keep_switches()
        n = self._output_count()
        if not self.recording_off:  # (kept: the next message may switch off the others)
            on = [str(i + 1) for i in range(n) if i not in self._recording_off]
            raise GesturemapError(
                f"disableModelRecording {' '.join(map(str, numbers))}: this project's model "
                f"learns its {n} outputs together, and a take records all of them: takes keep "
                f"every output until {' '.join(on)} {'is' if len(on) == 1 else 'are'} "
                "switched off too")

    def _cmd_enable_recording(self, *numbers: Any) -> None:
        which = self._output_indices("enableModelRecording", numbers)
        self._recording_off = self._recording_off - set(which)
        self._keep_switches()

    def _current_values(self) -> np.ndarray:
        """Wekinator's current value of each output: the last sent on ``/wek/outputs`` when a
        frame was answered since ``outputs`` last came, else what ``outputs`` set (before
        either: class 1, or 0)."""
        if self.frames_out > self._outputs_at:
            if self._is_regression():
                last = self.output.last_values
                if last is not None and len(last) == self._output_count():
                    return np.array(last, dtype=np.float64)
            else:  # (a classifier's frame sent from templates leaves no last_values)
                result = self.path.result()
                numbers = getattr(self, "_class_numbers", None)  # (set with a model)
                if result is not None and numbers is not None:
                    return np.array([float(numbers[result.label_index])])
        if self._is_regression():
            return np.array(self.current_outputs, dtype=np.float64)
        return np.array([float(self._outputs_number)])

    def _outputs_set(self, values: np.ndarray) -> None:
        """``outputs`` came (checked): the current values from now on, held ones included."""
        self._outputs_at = self.frames_out
        if not self._is_regression():
            self._outputs_number = float(values[0])
            values = values[:1]
        held = self.output.held
        if held is not None and len(held) == len(values):
            self.output.held = np.where(np.isnan(held), np.nan, values)
            self._keep_switches(save=False)
