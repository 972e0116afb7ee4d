"""The spotting settings of the model panel: spotting on or off, and every setting of
:class:`gesturemap.Spotter` a person may change, each checked as typed.

Every number is typed as text (a spin box would refuse a wrong value without saying why, and
round a fraction): what :meth:`SpottingEditor.problems` finds is shown in red under the fields
and the wrong field is outlined, and the model panel sends nothing until it is corrected.
Settings the editor does not show (the per-class ``thresholds`` and ``min_stay`` dicts of a
project file, whose number field is then read-only, and ``bound_matches``) are kept as they
were. The spotting verifier (``gesturemap train DIR
--verifier``), or the context relabeller in its place (``--relabeler``), is shown on one
read-only line, with a button that removes it.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from ..errors import GesturemapError
from ..models.spotting.core import NULL, NUMBERS, SPOT_KINDS, check_value, with_new_names

__all__ = ["SPOTTING_KINDS", "SpottingEditor", "detector_text", "verifier_text"]

#: The model kinds that spot gestures (``gm.Spotter`` takes them).
SPOTTING_KINDS = SPOT_KINDS

#: What each field means, for its label's tooltip.
HELP = {
    "relative_threshold": "A match counts from this fraction of its class's typical score (HHMM, GMM); "
                 "DTW: while its distance is under this times the model's threshold. Higher: "
                 "fewer false alarms, more misses.",
    "min_duration": "A match counts when it lasts at least this fraction of its class's "
                    "expected duration.",
    "max_duration": "A match counts when it lasts at most this many times its class's "
                    "expected duration.",
    "hold_frames": "A candidate is emitted once its score has not improved for this many "
                   "frames (the delay after a gesture's end).",
    "refractory_frames": "Frames after an event during which nothing else is emitted.",
    "defer_frames": "A candidate waits up to this many more frames while a longer gesture it "
                    "may begin is still being matched above it (0: off).",
    "defer_projection": "While deferring, a longer gesture counts as ahead when its partial "
                        "score plus this fraction of what its remaining states typically add "
                        "is above the candidate's (0: its partial score alone).",
    "settle_frames": "A candidate also waits up to this many more frames while the movement "
                     "goes on (a longer gesture completing meanwhile replaces it; 0: off).",
    "settle_ratio": "The movement has settled when its motion over the last ~0.2 s is below "
                    "this fraction of its motion over the last ~2 s.",
    "min_stay": "A match leaves a state only after this fraction of the state's expected "
                "duration.",
    "max_stay": "After this many times its expected duration in one state, a match gains "
                "nothing more there.",
    "gmm_frames": "GMM only: a class's typical gesture lasts this many frames.",
    "null_label": "The label of the non-gesture takes (never emitted).",
}

_BAD_STYLE = "border: 1px solid #c53030"


class SpottingEditor(QtWidgets.QGroupBox):
    """Spotting on/off (the group's check box) and its settings.

    :meth:`show_spotting` shows a project's ``model["spotting"]`` (None: off);
    :meth:`spotting` gives what to send: None when off, else the settings that differ from the
    defaults (and those the project had); :meth:`problems` says what must change first.
    :attr:`verifier` shows the spotting verifier; :attr:`remove_verifier` removes it from the
    settings and emits :attr:`verifier_removed` (the model panel then applies them).
    """

    verifier_removed = QtCore.Signal()
    #: the window detector was removed from the settings (applied like the verifier's removal)
    detector_removed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("spot gestures in the stream (events on OSC /gesturemap/event)", parent)
        self.setCheckable(True)
        self.setChecked(False)
        self.setToolTip("Find each gesture in the continuous stream and emit one event for it; "
                        "record takes labelled 'null' of anything that is not a gesture.")
        self._given: dict[str, Any] = {}
        self.fields: dict[str, QtWidgets.QLineEdit] = {}
        form = QtWidgets.QFormLayout()
        for name, (_, _, _, default) in NUMBERS.items():
            field = QtWidgets.QLineEdit()
            field.setObjectName(f"spotting.{name}")
            field.setPlaceholderText(f"{default:g}")
            field.setToolTip(HELP[name] + f" Default {default:g}; empty: the default.")
            field.textEdited.connect(lambda _text: self.problems())
            self.fields[name] = field
            form.addRow(name, field)
        self.null_label = QtWidgets.QLineEdit()
        self.null_label.setObjectName("spotting.null_label")
        self.null_label.setPlaceholderText(NULL)
        self.null_label.setToolTip(HELP["null_label"] + f" Empty: {NULL!r}.")
        form.addRow("null_label", self.null_label)
        self.kept = QtWidgets.QLabel("")
        self.kept.setWordWrap(True)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c53030")
        self.verifier, self.remove_verifier, row = _line_with_remove(
            "verifier", "A second stage that checks each spotted gesture, trained from "
            "rehearsal recordings: gesturemap train DIR --verifier FILES (docs/spotting.md, "
            "\"Verifying events\"), or one that only renames it from the posture before and "
            "after: gesturemap train DIR --relabeler FILES (\"Naming events by their "
            "context\"); the Rehearsal tab's Train second opinions trains the latter.",
            "Spot without the verifier (applied at once); train it again with gesturemap "
            "train DIR --verifier FILES (or --relabeler FILES, or in the Rehearsal tab).",
            self._remove_verifier)
        self.detector, self.remove_detector, detector_row = _line_with_remove(
            "detector", "A window detector beside the spotter, trained from rehearsal "
            "recordings: it finds gestures the spotter misses and holds back the spotter's "
            "events it sees nothing of. gesturemap train DIR --detector FILES, or the "
            "Rehearsal tab's Train second opinions (docs/spotting.md, \"A second opinion\").",
            "Spot without the detector (applied at once); train it again with gesturemap "
            "train DIR --detector FILES, or in the Rehearsal tab.",
            self._remove_detector)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.kept)
        layout.addLayout(row)
        layout.addLayout(detector_row)
        layout.addWidget(self.message)
        #: the settings last shown or followed, and what :meth:`_state` read for them: a
        #: field read otherwise since is an edit the musician has not applied
        self._in_force: dict[str, Any] | None = None
        self._as_shown = self._state()

    def show_spotting(self, settings: dict[str, Any] | None) -> None:
        """Show a project's spotting settings (None: spotting off, the fields at their
        defaults)."""
        self._given = with_new_names(dict(settings or {}))
        self.setChecked(settings is not None)
        for name, field in self.fields.items():
            value = self._given.get(name)
            # a dict of classes' own values is kept as it is, not typed over
            field.setEnabled(not isinstance(value, dict))
            field.setText("" if value is None or isinstance(value, dict) else _text(value))
            field.setStyleSheet("")
        label = self._given.get("null_label")
        self.null_label.setText("" if label is None else str(label))
        self._show_kept()
        self.message.setText("")
        self.show_verifier(self._given.get("verifier"))
        self.show_detector(self._given.get("detector"))
        self._in_force = None if settings is None else dict(settings)
        self._as_shown = self._state()

    def follow(self, settings: dict[str, Any] | None) -> None:
        """The spotting settings now in force (a scene recalled, Apply done): each field the
        musician has not edited since they were shown (spotting on or off, a number, the null
        label) shows the new value, so that Apply sends what is in force and never the
        thresholds of the scene left behind; a field they edited keeps their edit. The
        second opinions' lines change only when the project's do (a retraining's "removed"
        stays said). Cheap when nothing changed."""
        if settings == self._in_force:
            return
        self._in_force = None if settings is None else dict(settings)
        new = None if settings is None else with_new_names(dict(settings))
        target = _state_of(new)
        before, shown = self._as_shown, self._state()
        opinions = {k: self._given[k] for k in ("verifier", "detector") if k in self._given}
        self._given = {k: v for k, v in (new or {}).items() if k not in opinions}
        self._given.update(opinions)
        self.follow_stored(new)  # the second opinions: shown again only when they changed
        for key, value in target.items():
            keep = shown[key] != before[key]
            self._set(key, shown[key] if keep else value, disabled=_per_class(new, key))
        self._as_shown = target
        self._show_kept()
        self.problems()

    def edited(self) -> bool:
        """Whether a field (or the check box) shows an edit not applied since the settings in
        force were shown."""
        return self._state() != self._as_shown

    def _state(self) -> dict[str, Any]:
        """What the editor shows: spotting on or off, each number as read (an empty field:
        None), the null label."""
        state: dict[str, Any] = {"on": self.isChecked(), "null_label": self.null_label.text()}
        for name, field in self.fields.items():
            text = field.text().strip()
            state[name] = _number(text) if text else None
        return state

    def _set(self, key: str, value: Any, disabled: bool = False) -> None:
        """Show one entry of :meth:`_state`, leaving a field alone when it reads so already
        (one under the musician's hand keeps its cursor, "0.50" stays as typed)."""
        if key == "on":
            self.setChecked(bool(value))
            return
        field = self.null_label if key == "null_label" else self.fields[key]
        field.setEnabled(not disabled)
        if key == "null_label":
            text = str(value)
        else:
            typed = field.text().strip()
            value = None if disabled else value
            if (_number(typed) if typed else None) == value:
                return
            text = "" if value is None else _text(value)
        if field.text() != text:
            field.setText(text)

    def _show_kept(self) -> None:
        kept = [f"per-class {name} (kept as the project has them): {_short(self._given[name])}"
                for name in ("thresholds", "min_stay", "min_stays")
                if isinstance(self._given.get(name), dict)]
        if "bound_matches" in self._given:
            kept.append("bound_matches (kept as the project has it): "
                        f"{self._given['bound_matches']}")
        if self._given.get("costs"):
            kept.append(f"costs of mistakes (the Rehearsal tab): {self._given['costs']}")
        self.kept.setText("\n".join(kept))
        self.kept.setVisible(bool(kept))

    def follow_stored(self, settings: dict[str, Any] | None) -> None:
        """Take the per-class ``thresholds``, the ``costs`` and the second opinions
        (``verifier``, ``detector``) the project has now (set by the Rehearsal tab, or over
        OSC), every field kept as typed: the settings this editor sends keep them."""
        settings = settings or {}
        for key, show in (("verifier", self.show_verifier), ("detector", self.show_detector)):
            stored = settings.get(key)
            if self._given.get(key) is stored:
                continue  # (called on every refresh: a detector is megabytes to compare)
            if self._given.get(key) != stored:
                show(stored)
            elif stored is not None:  # the same, in the project's new copy: kept by identity
                self._given[key] = stored
        changed = False
        for name in ("thresholds", "costs"):
            if self._given.get(name) != settings.get(name):
                changed = True
                if settings.get(name) is None:
                    self._given.pop(name, None)
                else:
                    self._given[name] = settings[name]
        if changed:
            self._show_kept()

    def show_verifier(self, verifier: dict[str, Any] | None, removed: str | None = None
                      ) -> None:
        """Show the verifier the project now has (a retraining may have removed it: then
        ``removed`` says why), keeping every other field as typed."""
        if verifier is None:
            self._given.pop("verifier", None)
        else:
            self._given["verifier"] = verifier
        self.verifier.setText(verifier_text(verifier, removed))
        self.remove_verifier.setEnabled(verifier is not None)

    def _remove_verifier(self) -> None:
        self.show_verifier(None)
        self.verifier_removed.emit()

    def show_detector(self, detector: dict[str, Any] | None, removed: str | None = None
                      ) -> None:
        """Show the window detector the project's settings hold (a retraining may have
        removed it: then ``removed`` says why), every field kept as typed."""
        if detector is None:
            self._given.pop("detector", None)
        else:
            self._given["detector"] = detector
        self.detector.setText(detector_text(detector) + (
            f" (removed at the last retraining: {removed})"
            if detector is None and removed else ""))
        self.remove_detector.setEnabled(detector is not None)

    def _remove_detector(self) -> None:
        self.show_detector(None)
        self.detector_removed.emit()

    def _values(self) -> tuple[dict[str, Any], list[str]]:
        """The numbers typed (empty fields left out) and what is wrong with them."""
        values: dict[str, Any] = {}
        wrong: list[str] = []
        for name, field in self.fields.items():
            text = field.text().strip() if field.isEnabled() else ""
            bad = False
            if text:
                try:
                    values[name] = check_value(name, _number(text))
                except GesturemapError as exc:
                    wrong.append(str(exc))
                    bad = True
            field.setStyleSheet(_BAD_STYLE if bad else "")
        return values, wrong

    def problems(self) -> list[str]:
        """What must change before the settings shown can be sent (empty: nothing); also
        shown under the fields."""
        wrong = self._values()[1] if self.isChecked() else []
        if not self.isChecked():
            for field in self.fields.values():
                field.setStyleSheet("")
        self.message.setText(" ".join(wrong))
        return wrong

    def spotting(self) -> dict[str, Any] | None:
        """The settings to send: None when spotting is off; else the project's settings with
        the fields' values (a field left empty: the default; a wrong one: as it was)."""
        if not self.isChecked():
            return None
        values, _ = self._values()
        out = {k: v for k, v in self._given.items()
               if k not in NUMBERS or k in values or isinstance(v, dict)}
        for name, value in values.items():
            if name in self._given or value != NUMBERS[name][3]:
                out[name] = value
        label = self.null_label.text().strip()
        if label and label != NULL:
            out["null_label"] = label
        elif "null_label" in out and not label:
            del out["null_label"]
        for name in NUMBERS:  # a wrong value keeps the project's
            if name in self._given and name not in values and self.fields[name].text().strip():
                out[name] = self._given[name]
        return out


def _state_of(settings: dict[str, Any] | None) -> dict[str, Any]:
    """What :meth:`SpottingEditor.show_spotting` shows for ``settings``, as
    :meth:`SpottingEditor._state` reads it."""
    given = settings or {}
    state: dict[str, Any] = {"on": settings is not None}
    for name in NUMBERS:
        value = given.get(name)
        state[name] = None if isinstance(value, dict) else value
    label = given.get("null_label")
    state["null_label"] = "" if label is None else str(label)
    return state


def _per_class(settings: dict[str, Any] | None, name: str) -> bool:
    """Whether ``settings`` hold a dict of classes' own values for ``name`` (its field is
    then read-only)."""
    return isinstance((settings or {}).get(name), dict)


def _line_with_remove(name: str, tip: str, remove_tip: str, remove: Any
                      ) -> tuple[QtWidgets.QLabel, QtWidgets.QPushButton, QtWidgets.QHBoxLayout]:
    """A second opinion's read-only line ("name: none") and its Remove button, in a row."""
    line = QtWidgets.QLabel(f"{name}: none")
    line.setObjectName(f"spotting.{name}")
    line.setWordWrap(True)
    line.setToolTip(tip)
    button = QtWidgets.QPushButton(f"Remove {name}")
    button.setObjectName(f"spotting.remove_{name}")
    button.setToolTip(remove_tip)
    button.clicked.connect(remove)
    row = QtWidgets.QHBoxLayout()
    row.addWidget(line, 1)
    row.addWidget(button)
    return line, button, row


def verifier_text(verifier: dict[str, Any] | None, removed: str | None = None) -> str:
    """The verifier's line: "verifier: none", or "verifier: on (trained for a, b; cross-fit
    F1 0.81 vs 0.74 without)" from the summary ``gesturemap train --verifier`` stores."""
    if verifier is None:
        return "verifier: none" + (f" (removed at the last retraining: {removed})"
                                   if removed else "")
    summary = verifier.get("summary") or {}
    relabels = NULL not in verifier.get("labels", [NULL])  # a relabeller never drops
    text = (f"verifier: on{', relabels only' if relabels else ''} (trained for "
            f"{', '.join(map(str, verifier.get('classes', [])))}")
    if summary.get("f1_with") is not None and summary.get("f1_without") is not None:
        text += (f"; cross-fit F1 {summary['f1_with']:.2f} vs {summary['f1_without']:.2f} "
                 f"without, {summary.get('detections', '?')} detections")
    if verifier.get("context"):
        near = f" (and the nearest {verifier['near']} apart)" if verifier.get("near") else ""
        text += f"; reads {verifier['context']} frames before each start{near}"
    if verifier.get("wait") and verifier.get("settle"):
        text += (f"; reads {verifier['wait']} frames once the movement settles, at most "
                 f"{verifier['settle']} frames after each emission")
    elif verifier.get("wait"):
        text += f"; waits {verifier['wait']} frames after each emission"
    return text + ")"


def detector_text(detector: dict[str, Any] | None) -> str:
    """The detector's line: "detector: none", or "detector: on (trained for a, b; windows
    of 200 frames, events at probability 0.7, ... nodes)"."""
    if detector is None:
        return "detector: none"
    classes = ", ".join(map(str, detector.get("classes", [])))
    settings = detector.get("settings") or {}
    return (f"detector: on (trained for {classes}; windows of {settings.get('window', '?')} "
            f"frames, events at probability {settings.get('tau', '?')}, "
            f"{len(detector.get('feature', []))} nodes)")


def _short(values: dict[str, Any]) -> str:
    """Per-class numbers, rounded for reading."""
    return ", ".join(f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}"
                     for k, v in values.items())


def _number(text: str) -> Any:
    """Text as an int when it is one, else a float (``nan`` for no number: refused)."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)
