"""The synth panel: which model output drives which synth parameter, the sounds, the audio light.

The panel edits a project's synth mapping (:class:`gesturemap.synth.SynthMapping`, saved in the
project's ``outputs["synth"]``): routes from a model output (regression output, a class's
likelihood or time progression) to a synth parameter with its input and output ranges, curve
and smoothing; the values of the parameters no route drives; the sample follower's sound (a
built-in one or a WAV/FLAC file); a one-shot sound per class and the onset threshold. "Apply"
checks the mapping and hands it to ``apply`` — the window sends it to the engine as the
``set_synth_mapping`` command, which saves it in the project and swaps it into the running
synth between two frames, sounds loaded off the real-time path.

:func:`audio_light` turns the engine's health counters into the audio status light shown in
the panel, the window's status bar and the stage view.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from ..errors import GesturemapError
from ..outputs.ranges import output_ranges
from ..synth import NO_OUTPUT_DEVICE, PARAMETERS, SynthMapping, builtin_sounds
from ..synth.mapping import CURVES, saves_mapping
from .panels import _changed_kept

__all__ = ["SynthPanel", "audio_advice", "audio_light", "silent_because"]

NONE = "(none)"
SOUND_FILES = "Sound files (*.wav *.flac *.WAV *.FLAC);;All files (*)"
ROUTE_COLUMNS = ("source", "target", "in min", "in max", "out min", "out max", "curve", "smooth ms")


def audio_light(stats: Mapping[str, Any] | None, error: str | None = None) -> tuple[str, str]:
    """The audio status light: ``(state, detail)`` with state "ok", "warn", "bad" or "off".

    Parameters
    ----------
    stats : dict or None
        The engine's health counters (:meth:`gesturemap.live.engine.Engine.stats`).
    error : str, optional
        Why the synth could not start (e.g. no audio device).
    """
    if error:
        said = error.lower()
        # a device there that refuses the rate or block asked for is not a missing one: "no
        # audio device" sent the performer to the cables of a sound card that works
        missing = ("no output device matching", "error querying device")
        if error.startswith(NO_OUTPUT_DEVICE) or any(m in said for m in missing):
            return "bad", "no audio device"
        if said.startswith("cannot open"):
            return "bad", "the audio device refused the settings"
        return "bad", "audio failed"
    if not stats or stats.get("audio_callbacks") is None:
        return "off", "no synth"
    if stats.get("audio_lost"):
        return "bad", ("audio server gone (JACK stopped?): silent until gesturemap starts "
                       "again; OSC and MIDI go on")
    callbacks = int(stats["audio_callbacks"])
    underruns = int(stats.get("audio_underruns") or 0)
    if callbacks == 0:
        return "warn", "starting"
    if underruns:
        return "warn", f"{underruns} underrun{'s' * (underruns != 1)}"
    p99 = stats.get("callback_us_p99")
    return "ok", "running" + (f" · p99 {p99:.0f} µs" if p99 is not None else "")


def audio_advice(error: str) -> str:
    """What to do when the synth could not start, in the window's words (no command options).

    Parameters
    ----------
    error : str
        What is wrong (:attr:`~gesturemap.synth.NoAudioDeviceError.problem`).
    """
    silent = ("Until then the mapping runs and its OSC messages go out; only the built-in synth "
              "is silent.")
    if error.startswith(NO_OUTPUT_DEVICE):  # said once, with what to do about it
        return ("no audio device: connect a sound card, or start a JACK server (`jackd -d "
                "dummy` plays into nothing), then reopen the project (File > Open recent). "
                f"{silent}")
    return (f"the synth could not start: {' '.join(error.split())}. Reopen the project to try "
            f"again. {silent}")


#: the audio light's words when the window was opened without the built-in synth
SYNTH_OFF = "the built-in synth is off (opened with --no-audio)"
#: why a window has no built-in synth by design: its words, and what brings the sound
OFF_BECAUSE = {
    "no-audio": (SYNTH_OFF, "the project is opened without --no-audio"),
    "thread": ("the built-in synth is off (the engine runs on a thread of the window, which "
               "has no synth)",
               "the project is opened with `gesturemap open`, whose engine and synth run in "
               "a process of their own"),
}


def _off_because(off: bool | str) -> tuple[str, str] | None:
    if not off:
        return None
    return OFF_BECAUSE["no-audio" if off is True else str(off)]


def silent_because(stats: Mapping[str, Any] | None, error: str | None = None,
                   off: bool | str = False) -> str | None:
    """Why a mapping applied plays nothing, in the audio light's words and with what brings
    the sound (None: the synth plays, or has not said yet).

    Parameters
    ----------
    stats, error
        As for :func:`audio_light`.
    off : bool or str
        The window has no built-in synth by design: True or "no-audio" (opened with
        ``--no-audio``), "thread" (its engine runs on a thread of the window).
    """
    because = _off_because(off)
    if because is not None:
        return f"{because[0]}: nothing plays until {because[1]}"
    state, detail = audio_light(stats, error)
    if state != "bad":
        return None
    if not error:  # the audio server went away: the light already says until when
        return detail
    if detail == "no audio device":
        until = "a sound card or a JACK server is there and the project is reopened"
    else:
        until = "the project is reopened"
    return f"{detail}: nothing plays until {until} (what to do: at the top of this tab)"


def _spin(lo: float, hi: float, value: float, decimals: int = 3) -> QtWidgets.QDoubleSpinBox:
    box = QtWidgets.QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setValue(value)
    box.setSingleStep(max((hi - lo) / 100, 10.0**-decimals))
    return box


def _sound_combo(current: str | None, extra: Sequence[str] = ()) -> QtWidgets.QComboBox:
    """An editable choice of sound: none, the built-in ones, files already chosen."""
    box = QtWidgets.QComboBox()
    box.setEditable(True)
    box.addItems([NONE, *builtin_sounds(), *[e for e in extra if e not in builtin_sounds()]])
    box.setCurrentText(current or NONE)
    return box


def _sound(box: QtWidgets.QComboBox) -> str | None:
    text = box.currentText().strip()
    return None if not text or text == NONE else text


class SynthPanel(QtWidgets.QWidget):
    """Edit the project's synth mapping; "Apply" sends it (live) to the running synth.

    Parameters
    ----------
    apply : callable ``apply(settings)``
        Receives the mapping as a JSON-compatible dict (:meth:`SynthMapping.to_dict`, with the
        project's ``"audio"`` settings kept), already checked.
    """

    applied = QtCore.Signal(dict)

    def __init__(  # noqa: PLR0915 - builds the panel's widgets in reading order
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._apply = apply
        self._audio: dict[str, Any] | None = None
        self._folder: Path | None = None
        self._classes: list[str] = []
        self._outputs = 0
        self._kind: str | None = None
        self._ranges: list[tuple[float, float]] = []
        self._ranges_key: tuple[Any, ...] | None = None
        self._ranges_found: list[tuple[float, float]] = []
        self._files: list[str] = []
        #: the mapping show_mapping was given, and what settings() read for it then: a
        #: part read otherwise since is an edit not applied
        self._shown: dict[str, Any] = {}
        self._shown_as: dict[str, Any] = {}
        #: the mappings Apply or Default sent that the engine is not seen playing yet, as
        #: (_shown, _shown_as), oldest first, and the one it played before them: the
        #: window's refreshes read the engine's mapping, and showing it before the engine
        #: took the one sent put the old mapping back in the tab for a moment
        self._sent: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._in_force: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
        # routes
        self.routes = QtWidgets.QTableWidget(0, len(ROUTE_COLUMNS))
        self.routes.setHorizontalHeaderLabels(ROUTE_COLUMNS)
        self.routes.verticalHeader().setVisible(False)
        self.routes.setMaximumHeight(180)  # four rows, then it scrolls: the rest stays in view
        self.routes.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.routes.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        add = QtWidgets.QPushButton("Add route")
        add.clicked.connect(lambda: self.add_route())
        remove = QtWidgets.QPushButton("Remove route")
        remove.clicked.connect(self.remove_route)
        route_buttons = QtWidgets.QHBoxLayout()
        route_buttons.addWidget(add)
        route_buttons.addWidget(remove)
        route_buttons.addStretch(1)
        routes_box = QtWidgets.QGroupBox("routes: model output → synth parameter")
        rv = QtWidgets.QVBoxLayout(routes_box)
        rv.addWidget(self.routes)
        rv.addLayout(route_buttons)
        # parameters no route drives
        self.parameters: dict[str, QtWidgets.QDoubleSpinBox] = {}
        params_box = QtWidgets.QGroupBox("parameters (when no route drives them)")
        pf = QtWidgets.QFormLayout(params_box)
        for name, spec in PARAMETERS.items():
            box = _spin(spec.minimum, spec.maximum, spec.default)
            box.setObjectName(name)
            box.setToolTip(spec.doc)
            box.setMaximumWidth(90)  # narrow: sounds and parameters fit side by side at 1280 px
            self.parameters[name] = box
            pf.addRow(name, box)
        # sounds
        self.follower = _sound_combo(None)
        self.follower.setObjectName("follower_sound")
        choose = QtWidgets.QPushButton("Choose file…")
        choose.clicked.connect(self.choose_follower_file)
        follower_row = QtWidgets.QHBoxLayout()
        follower_row.addWidget(self.follower, 1)
        follower_row.addWidget(choose)
        self.oneshots = QtWidgets.QTableWidget(0, 2)
        self.oneshots.setHorizontalHeaderLabels(("class", "one-shot sound"))
        self.oneshots.verticalHeader().setVisible(False)
        self.oneshots.horizontalHeader().setStretchLastSection(True)
        self.oneshots.setMaximumHeight(130)  # three classes, then it scrolls
        choose_shot = QtWidgets.QPushButton("Choose file for the class…")
        choose_shot.setToolTip("A sound file for the class selected in the table above")
        choose_shot.clicked.connect(self.choose_oneshot_file)
        self.onset_threshold = _spin(0.0, 1.0, 0.7)
        self.onset_release = _spin(0.0, 1.0, 0.5)
        self.onset_min_interval_ms = _spin(0.0, 10000.0, 150.0, decimals=0)
        for box in (self.onset_threshold, self.onset_release, self.onset_min_interval_ms):
            box.setMaximumWidth(90)
        sounds_box = QtWidgets.QGroupBox("sounds")
        sf = QtWidgets.QFormLayout(sounds_box)
        sf.addRow("sample follower", follower_row)
        sf.addRow(self.oneshots)
        sf.addRow(choose_shot)
        sf.addRow("onset threshold", self.onset_threshold)
        sf.addRow("onset release", self.onset_release)
        sf.addRow("onset min gap (ms)", self.onset_min_interval_ms)
        # apply and status
        apply_button = QtWidgets.QPushButton("Apply to the synth")
        apply_button.setObjectName("apply")
        apply_button.clicked.connect(self.apply)
        default_button = QtWidgets.QPushButton("Default")
        default_button.setObjectName("default")
        default_button.setToolTip("Play the default mapping for this model again (no mapping "
                                  "saved: it follows the model's kind and outputs)")
        default_button.clicked.connect(lambda: self.use_default())
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self.audio_status = QtWidgets.QLabel("audio: —")
        inner = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(inner)
        layout.addWidget(self.audio_status)  # on top: "no audio device" and what to do
        layout.addWidget(routes_box, 2)
        columns = QtWidgets.QHBoxLayout()
        columns.addWidget(sounds_box, 1)
        columns.addWidget(params_box, 1)
        layout.addLayout(columns, 3)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        # Apply and its status stay under the scrolled part, always in view: at 1280x780 the
        # page above is taller than the tab, and a long audio notice makes it taller still
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        footer = QtWidgets.QVBoxLayout()
        footer.setContentsMargins(9, 0, 9, 6)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(default_button)
        buttons.addWidget(apply_button, 1)
        footer.addLayout(buttons)
        footer.addWidget(self.status)
        outer.addLayout(footer)

    # -- showing a mapping ------------------------------------------------------------------
    def show_mapping(
        self,
        settings: Mapping[str, Any] | None,
        classes: Sequence[Any] = (),
        outputs: int = 0,
        folder: str | os.PathLike[str] | None = None,
        kind: str | None = None,
        ranges: Sequence[tuple[float, float]] = (),
    ) -> None:
        """Show a project's synth settings (``None``: the default mapping).

        Parameters
        ----------
        settings : dict or None
            The project's ``outputs["synth"]``.
        classes : sequence
            The project's classes (route sources and one-shot rows).
        outputs : int
            The number of regression outputs (route sources ``output:I``).
        folder : path, optional
            The project folder: files inside it are saved as relative paths.
        kind : str, optional
            The project's model kind: the default mapping is the one for it (a DTW
            project's sounds on a match).
        ranges : sequence of (low, high), optional
            Each regression output's range (the targets recorded): the default's routes read
            the outputs over it, as the synth plays them.
        """
        self._classes = [str(c) for c in classes]
        self._outputs = int(outputs)
        self._kind = kind
        self._ranges = [tuple(r) for r in ranges]
        self._folder = Path(folder) if folder else None
        self._audio = dict(settings["audio"]) if settings and settings.get("audio") else None
        mapping = SynthMapping.from_dict(settings, self._outputs, kind, self._ranges)
        self.routes.setRowCount(0)
        for r in mapping.routes:
            self.add_route(r.to_dict())
        for name, box in self.parameters.items():
            box.setValue(float(mapping.parameters.get(name, PARAMETERS[name].default)))
        files = [mapping.follower_sound or "", *mapping.oneshots.values()]
        self._files = [f for f in files if f and f not in builtin_sounds()]
        self._reset_combo(self.follower, mapping.follower_sound)
        self.oneshots.setRowCount(0)
        for label in dict.fromkeys([*self._classes, *mapping.oneshots]):
            self._add_oneshot_row(label, mapping.oneshots.get(label))
        self.onset_threshold.setValue(mapping.onset_threshold)
        self.onset_release.setValue(mapping.onset_release)
        self.onset_min_interval_ms.setValue(mapping.onset_min_interval_ms)
        self._applied_routes = None
        self.status.setText("")
        self._shown = dict(settings or {})
        self._shown_as = self.settings()
        self._sent = []

    def follow(self, settings: Mapping[str, Any] | None, kind: str | None = None,
               ranges: Sequence[tuple[float, float]] | None = None) -> None:
        """The synth mapping now in force (a scene recalled, Apply done): what the musician
        has not edited shows it, so that Apply sends what plays and never the mapping of the
        scene left behind; a part they edited (the routes, a parameter, a sound) keeps their
        edit. With no mapping in force (a scene saved without one), the default for the
        model's ``kind`` plays, and follows a model of another kind, or outputs recorded over
        other ``ranges`` (None: the ranges shown): it is what shows. Cheap when nothing
        changed (called on every refresh)."""
        settings = dict(settings or {})
        if self._sent and self._awaited(settings):
            return  # the tab shows the mapping sent, which the engine has not taken yet
        ranges = self._ranges if ranges is None else [tuple(r) for r in ranges]
        same_default = kind == self._kind and ranges == self._ranges
        if settings == self._shown and (saves_mapping(settings) or same_default):
            return
        try:
            now = self.settings()
        except GesturemapError:
            return  # an edit that is no mapping yet: left as typed, followed once it is
        if now == settings:  # what is shown is in force (an Apply come back): the tables
            # stay, with the musician's hand on them, as the Model tab's editors do
            self._shown, self._shown_as = settings, now
            return
        before, status, applied = self._shown_as, self.status.text(), self._applied_routes
        # none in force: the default (for the model's kind and outputs)
        self.show_mapping(settings or None, self._classes, self._outputs, self._folder, kind,
                          ranges)
        in_force = self._shown_as
        if now != before:
            merged = _changed_kept(before, now, in_force)
            for key in ("parameters", "oneshots"):  # one by one: a scene's others show
                merged[key] = _changed_kept(before.get(key) or {}, now.get(key) or {},
                                            in_force.get(key) or {})
            self.show_mapping(merged, self._classes, self._outputs, self._folder, kind, ranges)
            self._shown, self._shown_as = settings, in_force
        self.status.setText(status)
        self._applied_routes = applied

    def _awaited(self, settings: dict[str, Any]) -> bool:
        """Whether the engine playing ``settings`` has yet to take the last mapping sent:
        it plays the one before them, or one sent before the last (the engine takes them
        in turn). Anything else is a mapping brought otherwise (a scene recalled): the
        mappings sent are no longer awaited."""
        if settings == self._in_force[0]:
            return True
        for i, (sent, _) in enumerate(self._sent):
            if settings == sent:
                self._in_force, self._sent = self._sent[i], self._sent[i + 1:]
                return bool(self._sent)
        self._sent = []
        return False

    def _mark_sent(self, before: tuple[dict[str, Any], dict[str, Any]]) -> None:
        """The mapping shown was just sent; ``before``: the one shown as in force until then."""
        if not self._sent:
            self._in_force = before
        self._sent.append((self._shown, self._shown_as))

    def ranges_of(self, project: Any) -> list[tuple[float, float]]:
        """Each regression output's range in ``project`` (the targets its takes recorded:
        what the synth's default routes read them over), worked out again only when its
        takes or its output scaling changed: the window asks on every refresh."""
        takes = list(getattr(project, "takes", None) or [])
        outputs = getattr(project, "outputs", None) or {}
        key = (id(project), len(takes), takes[0].id if takes else None,
               takes[-1].id if takes else None, repr(outputs.get("scales")),
               tuple(getattr(project, "output_names", None) or ()))
        if key != self._ranges_key:
            self._ranges_key = key
            self._ranges_found = output_ranges(project)
        return self._ranges_found

    def edited(self) -> bool:
        """Whether the tab shows an edit not applied (a route, a parameter, a sound; one that
        is no mapping yet too) since it showed the mapping in force."""
        try:
            return self.settings() != self._shown_as
        except GesturemapError:
            return True

    def _reset_combo(self, box: QtWidgets.QComboBox, current: str | None) -> None:
        box.clear()
        box.addItems([NONE, *builtin_sounds(), *self._files])
        box.setCurrentText(current or NONE)

    def _add_oneshot_row(self, label: str, sound: str | None) -> None:
        row = self.oneshots.rowCount()
        self.oneshots.insertRow(row)
        item = QtWidgets.QTableWidgetItem(label)
        item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
        self.oneshots.setItem(row, 0, item)
        self.oneshots.setCellWidget(row, 1, _sound_combo(sound, self._files))

    def set_classes(self, classes: Sequence[Any]) -> None:
        """The project's classes now (one added, renamed or deleted since the tab showed
        them): a one-shot row and route sources for each; the sounds and routes shown, the
        musician's edits among them, stay. Cheap when nothing changed (called on every
        refresh)."""
        names = [str(c) for c in classes]
        if names == self._classes:
            return
        self._classes = names
        sounds = {}
        for row in range(self.oneshots.rowCount()):
            sound = _sound(self.oneshots.cellWidget(row, 1))
            if sound is not None:  # a sound chosen for a class gone stays until Apply
                sounds[self.oneshots.item(row, 0).text()] = sound
        self.oneshots.setRowCount(0)
        for label in dict.fromkeys([*names, *sounds]):
            self._add_oneshot_row(label, sounds.get(label))
        offered = self.sources()
        for row in range(self.routes.rowCount()):
            box = self._cell(row, 0)
            text = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems(offered)
            box.setCurrentText(text)
            box.blockSignals(False)

    def sources(self) -> list[str]:
        """The route sources the current model offers."""
        out = [f"output:{i}" for i in range(self._outputs)]
        out += ["likelihood:*", "progress:*", "speed:*", "scale:*", "rotation:*"]  # last 3: GVF
        out += [f"likelihood:{c}" for c in self._classes]
        out += [f"progress:{c}" for c in self._classes]
        return out

    def add_route(self, route: Mapping[str, Any] | None = None) -> int:
        """Add a row (a route dict, or a new route from the likeliest class's likelihood)."""
        r = dict(route or {"source": "likelihood:*", "target": "loudness"})
        spec = PARAMETERS.get(r.get("target", ""), PARAMETERS["loudness"])
        row = self.routes.rowCount()
        self.routes.insertRow(row)
        source = QtWidgets.QComboBox()
        source.setEditable(True)  # a source for a class the model does not know yet stays
        source.addItems(self.sources())
        source.setCurrentText(str(r.get("source", "likelihood:*")))
        target = QtWidgets.QComboBox()
        target.addItems(list(PARAMETERS))
        target.setCurrentText(str(r.get("target", "loudness")))
        curve = QtWidgets.QComboBox()
        curve.addItems(list(CURVES))
        curve.setCurrentText(str(r.get("curve", "lin")))
        widgets: list[QtWidgets.QWidget] = [
            source,
            target,
            _spin(-1e6, 1e6, float(r.get("in_min", 0.0))),
            _spin(-1e6, 1e6, float(r.get("in_max", 1.0))),
            _spin(-1e6, 1e6, float(r.get("out_min", spec.minimum))),
            _spin(-1e6, 1e6, float(r.get("out_max", spec.maximum))),
            curve,
            _spin(0.0, 10000.0, float(r.get("smoothing_ms", spec.smoothing_ms)), decimals=1),
        ]
        for col, w in enumerate(widgets):
            self.routes.setCellWidget(row, col, w)
        target.currentTextChanged.connect(lambda name, row=row: self._target_changed(row, name))
        return row

    def _target_changed(self, row: int, name: str) -> None:
        """A new target parameter: its full range and default smoothing."""
        spec = PARAMETERS[name]
        self._cell(row, 4).setValue(spec.minimum)
        self._cell(row, 5).setValue(spec.maximum)
        self._cell(row, 7).setValue(spec.smoothing_ms)

    def _cell(self, row: int, col: int) -> Any:
        return self.routes.cellWidget(row, col)

    def remove_route(self) -> None:
        rows = sorted({i.row() for i in self.routes.selectedIndexes()}, reverse=True)
        for row in rows or [self.routes.rowCount() - 1]:
            if row >= 0:
                self.routes.removeRow(row)

    # -- files ------------------------------------------------------------------------------
    def _relative(self, path: str) -> str:
        """``path`` relative to the project folder when it is inside it (a project that moves
        keeps its sounds)."""
        if self._folder is not None:
            try:
                return Path(path).resolve().relative_to(self._folder.resolve()).as_posix()
            except ValueError:
                pass
        return path

    def _choose(self) -> str | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "A sound file", str(self._folder or Path.home()), SOUND_FILES
        )
        if not path:
            return None
        path = self._relative(path)
        if path not in self._files:
            self._files.append(path)
        return path

    def choose_follower_file(self) -> None:
        """Ask for a WAV/FLAC file for the sample follower."""
        path = self._choose()
        if path:
            self.follower.addItem(path)
            self.follower.setCurrentText(path)

    def choose_oneshot_file(self) -> None:
        """Ask for a WAV/FLAC file for the selected class's one-shot."""
        row = self.oneshots.currentRow()
        if row < 0:
            self.status.setText("select a class first")
            return
        path = self._choose()
        if path:
            box = self.oneshots.cellWidget(row, 1)
            box.addItem(path)
            box.setCurrentText(path)

    # -- the mapping shown ------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The mapping shown, as the project saves it.

        Raises
        ------
        GesturemapError
            If it is not a valid mapping (the message names the field and what to try).
        """
        routes = []
        for row in range(self.routes.rowCount()):
            target = self._cell(row, 1).currentText()
            spec = PARAMETERS[target]
            route = {
                "source": self._cell(row, 0).currentText().strip(),
                "target": target,
                "in_min": self._cell(row, 2).value(),
                "in_max": self._cell(row, 3).value(),
                "curve": self._cell(row, 6).currentText(),
            }
            # the parameter's own range and smoothing stay implicit (as a hand-written one)
            for key, col, default in (
                ("out_min", 4, spec.minimum),
                ("out_max", 5, spec.maximum),
                ("smoothing_ms", 7, spec.smoothing_ms),
            ):
                if self._cell(row, col).value() != default:
                    route[key] = self._cell(row, col).value()
            routes.append(route)
        parameters = {
            name: box.value()
            for name, box in self.parameters.items()
            if box.value() != PARAMETERS[name].default
        }
        oneshots = {}
        for row in range(self.oneshots.rowCount()):
            sound = _sound(self.oneshots.cellWidget(row, 1))
            if sound is not None:
                oneshots[self.oneshots.item(row, 0).text()] = sound
        mapping = SynthMapping(
            routes=routes,
            parameters=parameters,
            follower_sound=_sound(self.follower),
            oneshots=oneshots,
            onset_threshold=self.onset_threshold.value(),
            onset_release=self.onset_release.value(),
            onset_min_interval_ms=self.onset_min_interval_ms.value(),
        )
        out = mapping.to_dict()
        if self._audio:
            out["audio"] = dict(self._audio)
        return out

    def apply(self) -> bool:
        """Check the mapping shown and send it; say what is wrong instead when it is not valid
        (a missing sound file too: the synth would refuse it)."""
        from ..synth.sounds import check_mapping_sounds

        try:
            settings = self.settings()
            check_mapping_sounds(settings, self._folder)
        except (GesturemapError, ValueError, TypeError) as exc:
            self.status.setText(f"not applied: {exc}")
            return False
        before = self._shown, self._shown_as
        self._shown, self._shown_as = dict(settings), dict(settings)
        self._mark_sent(before)
        self._apply(settings)
        self._applied_routes = len(settings["routes"])
        self._say_applied()
        self.applied.emit(settings)
        return True

    def use_default(self) -> bool:
        """Show and play the default mapping for the project's model: the project then saves
        none of its own (its audio settings stay), so the synth follows the model's kind and
        outputs again. Asks first when that discards a mapping saved or an edit not applied.
        Returns whether the default was applied."""
        saved = saves_mapping(self._shown)
        if saved or self.edited():
            lost = ("the synth mapping saved in this project (its routes, parameters and "
                    "sounds)" if saved else "your changes in this tab")
            answer = QtWidgets.QMessageBox.question(
                self, "Default synth mapping",
                f"Play the default mapping for this model? This discards {lost}.",
                QtWidgets.QMessageBox.StandardButton.Discard
                | QtWidgets.QMessageBox.StandardButton.Cancel,
                QtWidgets.QMessageBox.StandardButton.Cancel,
            )
            if answer != QtWidgets.QMessageBox.StandardButton.Discard:
                return False
        settings = {"audio": dict(self._audio)} if self._audio else {}
        before, sent = (self._shown, self._shown_as), self._sent
        self.show_mapping(settings or None, self._classes, self._outputs, self._folder,
                          self._kind, self._ranges)
        self._sent = sent
        self._mark_sent(before)
        self._apply(settings)
        self._applied_routes = None
        self.status.setText("applied: the default mapping, which follows the model")
        self.applied.emit(settings)
        return True

    #: the engine's count of mappings it refused, at the last look (None: not looked yet)
    _refusals_seen: int | None = None
    #: the routes of the mapping the status says was applied (None: it says something else)
    _applied_routes: int | None = None
    #: why nothing plays, at the last look at the audio (None: it plays, or not looked yet)
    _silent: str | None = None

    def _say_applied(self) -> None:
        """"applied", and when the synth cannot play (no audio device, the audio server
        gone) that the mapping is kept and what will play it: "applied" alone sent the
        performer looking for a fault in the mapping while the light said why."""
        text = f"applied: {self._applied_routes} routes"
        if self._silent is not None:
            text += f", kept in the project; {self._silent}"
        self.status.setText(text)

    def show_refusal(self, stats: Mapping[str, Any] | None) -> None:
        """Say a mapping the engine refused after Apply said "applied" (a sound whose file
        header reads but whose audio does not decode): the synth plays on with the mapping
        before, and the edit stays shown here to fix."""
        refused = ((stats or {}).get("refused") or {}).get("set_synth_mapping") or (0, "")
        count, why = int(refused[0]), str(refused[1])
        seen, self._refusals_seen = self._refusals_seen, count
        if seen is not None and count > seen:
            if self._sent:  # the mapping before plays on: the edit shows as not applied
                self._sent.pop()
                self._shown, self._shown_as = self._sent[-1] if self._sent else self._in_force
            self._applied_routes = None
            self.status.setText(f"not applied: {why}; the synth plays the mapping before")

    def show_audio(self, stats: Mapping[str, Any] | None, error: str | None = None,
                   off: bool | str = False) -> None:
        """Show the audio light's state and the synth's counters (and, under Apply, that a
        mapping applied plays nothing while the light is red, or while the synth is ``off``
        by design: see :func:`silent_because`)."""
        state, detail = audio_light(stats, error)
        because = _off_because(off)
        if because is not None:
            detail = (f"{because[0]}; the mapping is kept in the project and its OSC messages "
                      "go out")
        before, self._silent = self._silent, silent_because(stats, error, off)
        if self._applied_routes is not None and before != self._silent:
            self._say_applied()
        extra = ""
        if stats and stats.get("audio_callbacks") is not None:
            extra = (
                f" · {stats['audio_callbacks']} blocks · {stats.get('audio_underruns', 0)} "
                f"underruns · {stats.get('oneshots_played', 0)} one-shots"
            )
        self.audio_status.setText(f"audio: {audio_advice(error) if error else detail}{extra}")
        self.audio_status.setWordWrap(True)
        self.audio_status.setProperty("state", state)
