"""The main window's controls beyond recording and training, as a mixin of
:class:`~gesturemap.gui.window.MainWindow`: class colours, regression targets, the rejection
threshold (the outputs' ``reject_below``), a take overlaid on the live plot, the features
plot, and the sensor settings.

Everything goes through the engine's commands with JSON arguments (``set_display``,
``set_reject_below``, ``set_outputs``, ``set_sensor``, ``play_take``) and reads only
``engine.project``, ``engine.ring`` / ``engine.feature_ring`` and ``engine.stats()``, so it
works the same with the engine in a process of its own.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6 import QtGui, QtWidgets

from ..outputs.rejection import reject_below
from .colours import class_colours
from .model_forms import model_channels

__all__ = ["TRAINING_COMMANDS", "ControlDeletion", "WindowControls", "refusal_line"]

#: Seconds between two readings of the engine's stats for the sensor panel.
_STATS_EVERY_S = 0.5
#: The refused commands the window says in its training line: those it waits on after
#: sending them, and a take refused at its end.
TRAINING_COMMANDS = ("train", "correct", "undo_correction", "redo_correction",
                     "stop_recording")


def refusal_line(name: str, why: str) -> str:
    """The training line for a refused training command: a take refused is said as not
    recorded (the same words whichever look at the engine's counters finds it first). The
    engine names the command its message answers ("correct: …", for the log and OSC clients);
    the window says it in the person's words, without it."""
    why = str(why).removeprefix(f"{name}: ")
    if name == "stop_recording":
        return f"not recorded: {why}"
    return f"refused: {why}"
#: Seconds a value the window sent wins over the engine's project, which has not caught up.
_ECHO_WAIT_S = 2.0


class ControlDeletion(QtGui.QUndoCommand):
    """Takes deleted by a control message (deleteAllExamples, deleteExamplesForOutput over
    OSC), as the window's undo stack knows them: undo puts them back from the project's trash
    (and gives takes a per-output deletion relabelled their labels back), redo deletes them
    again. The engine did the deletion itself, so the first redo (when pushed) does nothing."""

    def __init__(self, send: Any, ids: list[str]) -> None:
        super().__init__(f"deletion of {len(ids)} takes by OSC")
        self._send = send
        self.ids = list(ids)
        self._done = True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._send("redo_deletion", list(self.ids))

    def undo(self) -> None:
        self._send("restore_takes", list(self.ids))


def _loopback(host: str) -> bool:
    from ..sources.osc import is_loopback

    return is_loopback(host)


class WindowControls:
    """Methods of the main window for its controls (see the module's docstring).

    The window builds the widgets (``targets``, ``sensor_panel``, ``plot_features``) in its
    ``_build`` and calls :meth:`_refresh_controls` from its timer.
    """

    engine: Any
    project: Any

    # -- commands ---------------------------------------------------------------------------
    def recolour_class(self, name: str | None = None, colour: str | None = None) -> None:
        """Give class ``name`` (default: the one picked) a colour (default: ask with a colour
        picker); saved in the project's display settings."""
        name = name or self.current_class()  # type: ignore[attr-defined]
        if name is None:
            return
        if colour is None:
            current = class_colours(self.project).get(name, QtGui.QColor("#4299e1"))
            picked = QtWidgets.QColorDialog.getColor(
                current,
                self,  # type: ignore[arg-type]
                f"Colour of {name}",
            )
            if not picked.isValid():
                return
            colour = picked.name()
        colours = dict((self.project.display or {}).get("class_colors") or {})
        colours[name] = QtGui.QColor(colour).name()
        self.engine.command("set_display", {"class_colors": colours})

    def set_rejection_threshold(self, threshold: float) -> None:
        """Set the project's rejection threshold (0..1, ``outputs["reject_below"]``) from the
        monitor's slider: what the monitors show as unknown is what the outputs send as no
        class (:mod:`gesturemap.outputs.rejection`)."""
        value = round(float(threshold), 3)
        self.engine.command("set_reject_below", value)
        # until the engine's project has it, the monitors keep the value just set
        self._threshold_sent = (value, time.perf_counter())
        # the Outputs tab edits the same setting: its Apply must not send the old value back
        self.outputs_panel.show_reject_below(value)  # type: ignore[attr-defined]

    def set_sensor_settings(self, settings: dict[str, Any], confirmed: bool = False) -> None:
        """Send sensor settings to the engine, which reopens its source.

        A host that opens the port to the network (not 127.0.0.1) is asked about first
        (:meth:`confirm_network`); refused, the sensor listens on 127.0.0.1.
        """
        host = str(settings.get("host") or "127.0.0.1")
        if not confirmed and not _loopback(host) and not self.confirm_network(
            host, settings.get("port")
        ):
            settings = {**settings, "host": "127.0.0.1"}
        self.engine.command("set_sensor", settings)
        self.sensor_panel.status.setText("opening…")  # type: ignore[attr-defined]
        self._controls_stats_t = 0.0  # read the outcome at the next refresh

    def confirm_network(self, host: str, port: Any) -> bool:
        """Ask the person whether to listen on ``host`` (open to the network); True if yes."""
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self,  # type: ignore[arg-type]
            "Listen on the network?",
            f"The sensor asks to listen on {host}:{port if port is not None else ''}, which "
            "lets any machine on the network send to gesturemap (inputs and Wekinator control "
            "messages, such as deleting every take). Listen there?\n\nNo: listen on this "
            "machine only (127.0.0.1).",
            buttons.Yes | buttons.No,
            buttons.No,
        )
        return bool(answer == buttons.Yes)

    def _check_engine_requests(self, stats: dict[str, Any]) -> None:
        """Ask about a project's network sensor; put takes deleted over OSC on the undo stack."""
        request = stats.get("network_request")
        asked = getattr(self, "_network_asked", None)
        if request and request != asked:
            self._network_asked = request
            if self.confirm_network(request["host"], request.get("port")):
                sensor = dict(self.project.sensor or {})
                sensor["host"] = request["host"]
                self.set_sensor_settings(sensor, confirmed=True)
        seen = getattr(self, "_deletions_seen", None)
        if seen is None:
            seen = self._deletions_seen = set()
        for batch in stats.get("control_deletions") or []:
            key = tuple(batch)
            if key not in seen:
                seen.add(key)
                self.undo_stack.push(  # type: ignore[attr-defined]
                    ControlDeletion(self.engine.command, list(batch))
                )

    def _check_failures(self, stats: dict[str, Any]) -> None:
        """Say a retraining that failed, or a take or correction refused, whoever asked for
        it (a correction or a take over OSC, which the window did not wait for); and a take
        recorded while the sensor was away; and a project folder that cannot be written."""
        self._check_take_gaps(stats)
        self._check_not_saved(stats)
        seen = getattr(self, "_failures_seen", None)
        now = (stats.get("trainings_failed", 0),
               {k: v[0] for k, v in (stats.get("refused") or {}).items()})
        self._failures_seen = now
        if seen is None:
            return  # the first look (another engine)
        for name, (_count, why) in (stats.get("refused") or {}).items():
            # an edit refused (a class renamed as another, a take played while recording…),
            # whoever sent it: said where the person looks, not only in the log
            if name not in TRAINING_COMMANDS and now[1][name] > seen[1].get(name, 0):
                self.statusBar().showMessage(  # type: ignore[attr-defined]
                    refusal_line(name, why), 10000)
        if getattr(self, "_train_sent", None) is not None:
            return  # a training awaited: _check_training says its outcome
        status = self.train_status  # type: ignore[attr-defined]
        # a training refused that the window asked for before its last Train: not said, the
        # last one is what plays (the engine's counters come a moment late)
        stale = (now[1].get("train", 0) > seen[1].get("train", 0)
                 and self._superseded_refusal(stats))  # type: ignore[attr-defined]
        if now[0] > seen[0] and stats.get("training_failed") and not stale:
            status.setText(f"retraining failed: {stats['training_failed']}"
                           + ("\nthe last model plays on" if self.engine.model else ""))
        for name in TRAINING_COMMANDS:
            if now[1].get(name, 0) > seen[1].get(name, 0) and not (name == "train" and stale):
                status.setText(refusal_line(name, stats["refused"][name][1]))

    def _check_not_saved(self, stats: dict[str, Any]) -> None:
        """The project's folder could not be written (read-only, full): said in the status
        bar when an outage starts, and again when it ends, so that nobody records on
        believing the takes are kept on disk."""
        failing = stats.get("not_saved")
        was, self._not_saved_seen = getattr(self, "_not_saved_seen", None), bool(failing)
        if was is None or was == bool(failing):
            return  # the first look (another engine), or no change
        if isinstance(failing, dict):
            self.statusBar().showMessage(  # type: ignore[attr-defined]
                f"⚠ NOT SAVED: {failing.get('what')} could not be written into "
                f"{failing.get('folder')}: {failing.get('why')}. Kept in memory and tried "
                "again every few seconds: make the folder writable, or Save As elsewhere")
        else:
            self.statusBar().showMessage(  # type: ignore[attr-defined]
                "the project is saved again: everything recorded is on disk", 10000)

    def _check_take_gaps(self, stats: dict[str, Any]) -> None:
        """A take the engine recorded while the sensor was away (unplugged and back): said
        in the status bar until something else is (the take list marks it for good)."""
        count = int(stats.get("takes_with_gaps") or 0)
        seen, self._gaps_seen = getattr(self, "_gaps_seen", None), count
        last = stats.get("last_take_gap")
        if seen is None or count <= seen or not isinstance(last, dict):
            return  # the first look (another engine), or nothing new
        self.statusBar().showMessage(  # type: ignore[attr-defined]
            f"⚠ {last.get('take')} ({last.get('label')}): {last.get('text')}; kept, its "
            "frames with a hole there — delete it and record it again if it matters")

    # -- the plot ---------------------------------------------------------------------------
    def _plot_ring(self) -> Any:
        """The ring the input plot draws: raw inputs, or the pipeline's features."""
        features = getattr(self.engine, "feature_ring", None)
        if self.plot_features.isChecked() and features is not None:  # type: ignore[attr-defined]
            return features
        return self.engine.ring

    def _overlay_take(self, take_id: str) -> None:
        """Overlay the take selected in the dataset browser on the live plot (raw inputs)."""
        plot = self.plot  # type: ignore[attr-defined]
        take = self.dataset.take(take_id) if take_id else None  # type: ignore[attr-defined]
        if take is None or self.plot_features.isChecked():  # type: ignore[attr-defined]
            plot.set_overlay(None, None, QtGui.QColor())
            return
        times = take.times
        if times is None:
            rate = (self.project.sensor or {}).get("rate_hz") or 100.0
            times = np.arange(take.length) / float(rate)
        colour = class_colours(self.project).get(str(take.label), QtGui.QColor("#a0aec0"))
        plot.set_overlay(np.asarray(times), np.asarray(take.inputs), colour)

    # -- the timer --------------------------------------------------------------------------
    def _refresh_controls(self, now: float) -> None:
        """Bring the controls up to date with the engine's project (30 times a second)."""
        engine, project = self.engine, self.project
        if engine is not getattr(self, "_controls_engine", None):  # a project was opened
            self._controls_engine = engine
            self._controls_features = None
            self.sensor_panel.show_settings(project.sensor)  # type: ignore[attr-defined]
            self._overlay_take("")
        colours = class_colours(project)
        self._apply_colours(colours)
        threshold = reject_below(project.outputs)
        sent, sent_at = getattr(self, "_threshold_sent", (None, 0.0))
        if sent is not None and sent != threshold and now - sent_at < _ECHO_WAIT_S:
            threshold = sent
        monitors = [self.monitor]  # type: ignore[attr-defined]
        stage = getattr(self, "stage", None)
        if stage is not None:
            monitors.append(stage.monitor)
        dtw = engine._dtw_project()  # the engine's own test, so the two cannot drift
        for monitor in monitors:
            monitor.set_colours(colours)
            monitor.set_dtw(dtw)
            slider = monitor.threshold_slider
            if slider is None or not slider.isSliderDown():
                monitor.set_threshold(threshold)
            monitor.output_names = list(project.output_names or [])
        self.targets.show_outputs(project.output_names)  # type: ignore[attr-defined]
        # a scene recalled or the slider moved changed the outputs under the Outputs tab
        self.outputs_panel.follow(project.outputs)  # type: ignore[attr-defined]
        self.outputs_panel.set_dtw(dtw)  # type: ignore[attr-defined]
        # and the model settings under the Model tab (a scene brings its own)
        self.model_panel.follow(project.model)  # type: ignore[attr-defined]
        # a class added or renamed has its one-shot row (its sound follows a rename)
        self.synth_panel.set_classes(project.classes)  # type: ignore[attr-defined]
        self.synth_panel.follow(  # type: ignore[attr-defined]
            (project.outputs or {}).get("synth"), (project.model or {}).get("kind"),
            self.synth_panel.ranges_of(project))  # type: ignore[attr-defined]
        result = engine.last_result
        if engine.running and not engine.recording and result is not None:
            output = getattr(result, "output", None)
            if output is not None:
                self.targets.follow(output)  # type: ignore[attr-defined]
        # per-class overrides are keyed by class name (JSON keys; a number as its text)
        self.model_panel.set_classes([str(c) for c in project.classes])  # type: ignore[attr-defined]
        # the per-output editor offers the channels the model sees and the project's outputs
        self.model_panel.set_channels(  # type: ignore[attr-defined]
            model_channels(project), list(project.output_names or [])
        )
        self._refresh_plot_mode()
        self._refresh_pad(project.sensor)
        if now - getattr(self, "_controls_stats_t", 0.0) >= _STATS_EVERY_S:
            self._controls_stats_t = now
            stats = engine.stats()
            self.sensor_panel.show_status(stats)  # type: ignore[attr-defined]
            self._show_output_state()
            self._check_engine_requests(stats)
            playing = stats.get("playing")
            self.dataset.play_button.setText(  # type: ignore[attr-defined]
                f"▶ playing {playing}" if playing else "▶ Play"
            )

    #: the OSC output's (host, port) and send errors at the last look
    _output_seen: tuple[tuple[str, int] | None, int] = (None, 0)

    def _show_output_state(self) -> None:
        """The Outputs tab says where the OSC goes, and when it does not get there. A host
        name that does not resolve (mistyped) drops every message; only the terminal said
        so, and the tab went on saying "sending to" it."""
        out = getattr(self.engine, "output", None)  # type: ignore[attr-defined]
        if out is None:
            return
        where = (str(out.settings.host), int(out.settings.port))
        errors = int(getattr(out, "send_errors", 0))
        seen_where, seen = self._output_seen
        # a new output (other settings applied) counts its errors from 0
        dropped = errors - seen if where == seen_where and errors >= seen else errors
        self._output_seen = (where, errors)
        host, port = where
        self.outputs_panel.status.setText(  # type: ignore[attr-defined]
            f"not sending to {host}:{port}: {dropped} messages dropped just now ({host!r} "
            "does not resolve, or cannot be reached from here: check the host)"
            if dropped > 0 else f"sending to {host}:{port}")

    def _apply_colours(self, colours: dict[str, QtGui.QColor]) -> None:
        classes = self.classes  # type: ignore[attr-defined]
        for i in range(classes.count()):
            item = classes.item(i)
            colour = colours.get(item.text())
            if colour is not None and item.foreground().color() != colour:
                item.setForeground(colour)

    def _refresh_plot_mode(self) -> None:
        features = bool(self.plot_features.isChecked())  # type: ignore[attr-defined]
        ring = self._plot_ring()
        if features:
            names = tuple(getattr(ring, "names", ()) or ())
        else:
            project = self.project
            names = tuple(
                project.input_names or [f"in{i + 1}" for i in range(project.input_dim or 0)]
            )
        key = (features, names)
        if key != getattr(self, "_controls_features", None):
            self._controls_features = key
            if names:
                self.plot.set_channels(names)  # type: ignore[attr-defined]
            selected = self.dataset.selected_takes()  # type: ignore[attr-defined]
            self._overlay_take(selected[0].id if len(selected) == 1 else "")

    def _refresh_pad(self, sensor: dict[str, Any] | None) -> None:
        """The mouse pad feeds the engine only when it is the project's sensor."""
        if not getattr(self, "_engine_started", False):
            return
        pad = self.pad  # type: ignore[attr-defined]
        transport = (sensor or {}).get("transport", "mouse")
        wanted = transport == "mouse"
        what = (sensor or {}).get("profile") or (sensor or {}).get("port") or ""
        text = (f"mouse pad off — the sensor is {transport}{f' ({what})' if what else ''}: "
                "move it, not the mouse. The Sensor tab switches back to the mouse.")
        if text != pad.off_text:
            pad.off_text = text
            pad.update()
        if wanted and not pad.active:
            pad.start()
        elif not wanted and pad.active:
            pad.stop()
