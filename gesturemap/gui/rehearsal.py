"""The Rehearsal tab: how often the spotter fires by mistake while the performer only moves,
and the per-gesture thresholds that keep it within a budget (the window's ``gesturemap
audit``; docs/guides/rehearsal.md).

- :class:`RehearsalPanel`: record a rehearsal (the sensor's frames, never a take; the project
  keeps it in ``rehearsals/``) or load a rehearsal file (a stream file, as ``gesturemap
  audit`` reads; kept in the project when asked), choose among the rehearsals the project
  keeps, the budget,
  the costs of each gesture's mistakes, and the audit's figures: per gesture, false triggers
  per minute and gestures recognised now and at the proposed thresholds, the trade-off
  curves, and the false triggers with their "why?"; and, from a rehearsal file whose
  gestures are labelled, the spotter's second opinions (the context relabeller and the
  window detector, as ``gesturemap train DIR --relabeler FILES --detector FILES`` trains
  them).
- :class:`WindowRehearsal` (mixed into the main window): runs the audit in the window's
  worker process (:mod:`.rehearsal_jobs`: never on the GUI thread or the frame path) and
  stores what the performer asks for, each an engine command on the undo stack: the
  thresholds when Apply is pressed, the costs when they are edited, the second opinions
  their cross-fits chose once trained. The rehearsals are kept and removed by engine commands
  too (the engine holds the project's lock): a recorded one is recorded by the engine and
  kept when its recording stops (or the engine does: a window killed mid-rehearsal loses
  nothing), a file when **Keep in the project** is pressed. Nothing else is written.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..models.spotting.core import NULL
from ..project.rehearsals import REHEARSALS_DIR, kept_rehearsals, new_rehearsal_name
from .colours import class_colour
from .rehearsal_jobs import basis

__all__ = ["RehearsalPanel", "SpottingValues", "WindowRehearsal"]

#: The default false-alarm budget (false triggers per minute, all gestures together).
DEFAULT_BUDGET = 0.1
#: Costs are stored this long after the last change of a cost box (one undo step per edit).
COSTS_DELAY_MS = 400
#: Seconds a training must have been over before an audit reads the project's folder.
SETTLED_S = 0.5
#: Seconds between two listings of the rehearsals the project keeps.
KEPT_LIST_S = 0.5
#: Seconds the window waits for the engine to say it kept or removed a rehearsal.
KEEP_ANSWER_S = 30.0

_COLUMNS = ["gesture", "false/min\nnow", "false/min\nproposed", "recognised\nnow",
            "recognised\nproposed", "threshold\n(× typical)"]


def _button(text: str, signal: Any, tip: str, enabled: bool = True) -> QtWidgets.QPushButton:
    """A push button that emits ``signal`` when clicked."""
    button = QtWidgets.QPushButton(text)
    button.setToolTip(tip)
    button.setEnabled(enabled)
    button.clicked.connect(signal.emit)
    return button


def _row(*widgets: QtWidgets.QWidget | None) -> QtWidgets.QHBoxLayout:
    """The widgets side by side; None: a stretch."""
    row = QtWidgets.QHBoxLayout()
    for w in widgets:
        if w is None:
            row.addStretch(1)
        else:
            row.addWidget(w)
    return row


def _pct(x: Any) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"


class RehearsalPanel(QtWidgets.QWidget):
    """The rehearsal, the budget, the costs and the last audit's figures."""

    #: the record button was toggled: record (True) or stop (False)
    record_toggled = QtCore.Signal(bool)
    audit_clicked = QtCore.Signal()
    apply_clicked = QtCore.Signal()
    #: a cost box changed and stayed unchanged for :data:`COSTS_DELAY_MS`
    costs_edited = QtCore.Signal()
    second_clicked = QtCore.Signal()
    #: a kept rehearsal (or every one) was chosen in the list
    kept_chosen = QtCore.Signal()
    keep_clicked = QtCore.Signal()
    remove_clicked = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        #: stream files to audit (None: the recorded rehearsal)
        self.paths: list[str] | None = None
        self.result: dict[str, Any] | None = None
        self._labels: list[str] = []
        self.record = QtWidgets.QPushButton("● Record a rehearsal")
        self.record.setCheckable(True)
        self.record.setToolTip("Move as in the piece, without the gestures; press again to "
                               "stop. The frames are kept for the audit, never as a take.")
        self.record.toggled.connect(self.record_toggled.emit)
        self.load = QtWidgets.QPushButton("Load a rehearsal file…")
        self.load.setToolTip("A stream file (.npz: X_concat, labels_concat, lengths), as "
                             "gesturemap audit reads: ordinary movement labelled null or 0, "
                             "or a run-through with its gestures labelled")
        self.load.clicked.connect(self._load_dialog)
        self.source = QtWidgets.QLabel("no rehearsal yet")
        self.source.setWordWrap(True)
        #: the rehearsals the project keeps: the combo's items after the first, which is
        #: every one of them together
        self.kept_paths: list[str] = []
        self.kept = QtWidgets.QComboBox()
        self.kept.setToolTip("The rehearsals this project keeps (its folder's rehearsals/): "
                             "each recorded here, and each file kept with Keep in the project. "
                             "gesturemap audit DIR audits every one of them.")
        self.kept.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kept.setEnabled(False)
        self.kept.activated.connect(lambda _i: self.kept_chosen.emit())
        self.keep_button = _button("Keep in the project", self.keep_clicked, (
            "Copy the loaded rehearsal file into the project's folder, to audit with and "
            "train second opinions from again later, without the original"), enabled=False)
        self.remove_button = _button("Remove", self.remove_clicked, (
            "Move the chosen kept rehearsal into the project's trash/rehearsals/ (move it "
            "back to keep it again)"), enabled=False)
        self.budget = QtWidgets.QDoubleSpinBox(decimals=3, singleStep=0.05,
                                               suffix=" false triggers / min")
        self.budget.setRange(0.0, 100.0)
        self.budget.setValue(DEFAULT_BUDGET)
        self.budget.setToolTip("False triggers per minute allowed, all gestures together, "
                               "each weighted by its cost (0.1: one every ten minutes)")
        self.audit_button = _button("Audit", self.audit_clicked, (
            "Replay the rehearsal through the spotter (in the background); nothing is "
            "written"))
        # a short label: the row is squeezed at a 1280-pixel window, and a longer one clipped
        self.apply_button = _button("Apply thresholds", self.apply_clicked, (
            "Apply the proposed thresholds: store them in the project's spotting settings "
            "(Ctrl+Z takes them back)"), enabled=False)
        self.second_button = QtWidgets.QPushButton("Train second opinions")
        self.second_button.setToolTip(
            "From the rehearsal file, a run-through with its gestures labelled: the context "
            "relabeller (names each event from the seconds around it) and the window "
            "detector (finds gestures the spotter misses, holds back what it sees nothing "
            "of), each kept only when a cross-fit over the file's performers finds it helps. "
            "In the background, a minute or more; Ctrl+Z takes them back. As gesturemap "
            "train DIR --relabeler FILES --detector FILES.")
        self.second_button.setEnabled(False)
        self.second_button.clicked.connect(self.second_clicked.emit)
        self.second_status = QtWidgets.QLabel("")
        self.second_status.setWordWrap(True)
        self.status = QtWidgets.QLabel("record or load a rehearsal, then audit")
        self.status.setWordWrap(True)
        self.verdict = QtWidgets.QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet("font-weight: bold")
        self.table = QtWidgets.QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.costs = QtWidgets.QTableWidget(0, 3)
        self.costs.setHorizontalHeaderLabels(["gesture", "false trigger costs", "miss costs"])
        self.costs.verticalHeader().setVisible(False)
        self.costs.setToolTip("What each mistake costs (1: an ordinary one; 10: ten times as "
                              "bad). Stored in the project's spotting settings; the spotter "
                              "follows them at once (a movement that looks most like a "
                              "costly gesture fires nothing rather than another gesture) "
                              "and the next audit chooses the thresholds by them.")
        self._cost_boxes: dict[str, tuple[QtWidgets.QDoubleSpinBox, QtWidgets.QDoubleSpinBox]] = {}
        self._costs_timer = QtCore.QTimer(self, singleShot=True, interval=COSTS_DELAY_MS)
        self._costs_timer.timeout.connect(self.costs_edited.emit)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "false triggers per minute")
        self.plot.setLabel("left", "gestures recognised")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setMinimumHeight(160)
        self.triggers = QtWidgets.QListWidget()
        self.triggers.setToolTip("The false triggers at the proposed thresholds: when, which "
                                 "gesture, and why the model took the movement for it")
        self._build_layout()

    def _build_layout(self) -> None:
        top = QtWidgets.QHBoxLayout()
        for w in (self.record, self.load):
            top.addWidget(w)
        top.addWidget(self.source, 1)
        kept = _row(QtWidgets.QLabel("Kept in the project:"), self.kept, self.keep_button,
                    self.remove_button, None)
        run = _row(QtWidgets.QLabel("budget"), self.budget, self.audit_button,
                   self.apply_button, None, self.second_button)
        middle = QtWidgets.QHBoxLayout()
        left = QtWidgets.QVBoxLayout()
        left.addWidget(QtWidgets.QLabel("<b>Per gesture</b>"))
        left.addWidget(self.table, 2)
        left.addWidget(QtWidgets.QLabel("<b>Costs of its mistakes</b>"))
        left.addWidget(self.costs, 1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("<b>Trade-off</b> (circles: proposed)"))
        right.addWidget(self.plot)
        middle.addLayout(left, 3)
        middle.addLayout(right, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(kept)
        layout.addLayout(run)
        layout.addWidget(self.status)
        layout.addWidget(self.second_status)
        layout.addWidget(self.verdict)
        layout.addLayout(middle, 3)
        layout.addWidget(QtWidgets.QLabel("<b>False triggers</b> (at the proposed thresholds)"))
        layout.addWidget(self.triggers, 1)

    def clear(self) -> None:
        """Forget the last audit and the rehearsal file (another project was opened)."""
        self.result, self.paths = None, None
        self.record.setChecked(False)
        self.source.setText("no rehearsal yet")
        self.status.setText("record or load a rehearsal, then audit")
        self.verdict.setText("")
        self.table.setRowCount(0)
        self.triggers.clear()
        self.plot.clear()
        self.apply_button.setEnabled(False)
        self.audit_button.setEnabled(True)
        self.second_status.setText("")
        self.second_button.setText("Train second opinions")
        self.second_button.setEnabled(False)
        self.show_kept([])
        self.keep_button.setEnabled(False)

    # -- the rehearsal ------------------------------------------------------------------------
    def _load_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, "Rehearsal files", "", "stream files (*.npz)")
        if paths:
            self.use_files(paths)

    def use_files(self, paths: list[str], text: str | None = None) -> None:
        """Audit these stream files (instead of a recorded rehearsal)."""
        self.paths = [str(p) for p in paths]
        self.source.setText(text or "rehearsal: " + ", ".join(Path(p).name for p in self.paths))
        self.second_button.setEnabled(True)
        kept = set(self.kept_paths)
        self.keep_button.setEnabled(any(p not in kept for p in self.paths))
        if not kept.issuperset(self.paths):
            self.kept.setCurrentIndex(-1)  # a file from elsewhere: no kept one is chosen
        self.remove_button.setEnabled(self.chosen_kept() is not None)

    def show_kept(self, paths: list[str]) -> None:
        """List the rehearsals the project keeps (oldest first), keeping the choice."""
        if paths == self.kept_paths:
            return
        chosen = self.paths if self.paths and set(self.paths) <= set(self.kept_paths) else None
        self.kept_paths = list(paths)
        self.kept.blockSignals(True)
        self.kept.clear()
        if paths:
            self.kept.addItem(f"every one ({len(paths)})")
            for p in paths:
                self.kept.addItem(Path(p).stem)
        self.kept.blockSignals(False)
        self.kept.setEnabled(bool(paths))
        if chosen is not None and chosen == self.kept_paths:
            self.kept.setCurrentIndex(0)
        elif chosen is not None and len(chosen) == 1 and chosen[0] in self.kept_paths:
            self.kept.setCurrentIndex(1 + self.kept_paths.index(chosen[0]))
        else:
            self.kept.setCurrentIndex(-1)
        self.remove_button.setEnabled(self.chosen_kept() is not None)

    def choose_kept(self, index: int) -> None:
        """Audit the kept rehearsal ``index`` (0: every one) from now on."""
        self.kept.setCurrentIndex(index)
        if index == 0:
            self.use_files(self.kept_paths, f"every rehearsal the project keeps "
                                            f"({len(self.kept_paths)})")
        elif index > 0:
            path = self.kept_paths[index - 1]
            self.use_files([path], f"the project's rehearsal {Path(path).stem}")

    def chosen_kept(self) -> str | None:
        """The one kept rehearsal chosen (None: every one, or none)."""
        index = self.kept.currentIndex()
        return self.kept_paths[index - 1] if 0 < index <= len(self.kept_paths) else None

    # -- second opinions ----------------------------------------------------------------------
    def show_second_busy(self, seconds: int = 0, step: str = "") -> None:
        """A training under way for ``seconds`` (shown from 1 s: a minute or more on a long
        rehearsal, and the window shows it is still at work), at ``step``; the button
        cancels it."""
        self.second_button.setText("Cancel the second opinions")
        self.second_button.setEnabled(True)
        self.second_status.setText("training the second opinions from the rehearsal file (in "
                                   "the background)…" + (f" {step}" if step else "")
                                   + (f" ({seconds} s)" if seconds else ""))

    def show_second(self, result: dict[str, Any], stored: list[str]) -> None:
        """What the second opinions' cross-fits found, and what was stored (``stored``)."""
        self.second_button.setText("Train second opinions")
        self.second_button.setEnabled(bool(self.paths))
        if "error" in result:
            self.second_status.setText(f"no second opinions: {result['error']}")
            return
        kept = (f"stored the {' and the '.join(stored)} in the project's spotting settings "
                "(Ctrl+Z takes them back)" if stored else "nothing stored")
        self.second_status.setText("\n".join([*result.get("lines", []), kept]))

    # -- costs --------------------------------------------------------------------------------
    def show_costs(self, labels: list[str], costs: dict[str, Any] | None) -> None:
        """One row per gesture, its costs as the project stores them (1 where not given);
        the boxes being edited are left alone."""
        if self._costs_timer.isActive():
            return
        if labels != self._labels:
            self._labels = list(labels)
            self.costs.setRowCount(len(labels))
            self._cost_boxes = {}
            for i, lb in enumerate(labels):
                self.costs.setItem(i, 0, QtWidgets.QTableWidgetItem(lb))
                boxes = []
                for j in (1, 2):
                    box = QtWidgets.QDoubleSpinBox(decimals=2, singleStep=0.5)
                    box.setRange(0.01, 1000.0)
                    box.setValue(1.0)
                    box.setObjectName(f"cost.{lb}.{'false' if j == 1 else 'miss'}")
                    box.valueChanged.connect(lambda _v: self._costs_timer.start())
                    self.costs.setCellWidget(i, j, box)
                    boxes.append(box)
                self._cost_boxes[lb] = (boxes[0], boxes[1])
            self.costs.resizeColumnsToContents()
        for lb, (false, miss) in self._cost_boxes.items():
            given = (costs or {}).get(lb) or {}
            for box, kind in ((false, "false"), (miss, "miss")):
                value = float(given.get(kind, 1.0)) if isinstance(given, dict) else (
                    float(given) if kind == "false" else 1.0)
                if box.value() != value:
                    box.blockSignals(True)
                    box.setValue(value)
                    box.blockSignals(False)

    def costs_shown(self) -> dict[str, dict[str, float]]:
        """The costs in the boxes, as the project's spotting settings store them: the
        gestures whose costs are not both 1."""
        out = {}
        for lb, (false, miss) in self._cost_boxes.items():
            one = {"false": float(false.value()), "miss": float(miss.value())}
            if one != {"false": 1.0, "miss": 1.0}:
                out[lb] = one
        return out

    def costs_with_edits(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        """The costs to store once the boxes were edited: the boxes' where they differ from
        what is stored; a gesture's stored entry as it is where its boxes show it unchanged
        (with the level an audit made a costly gesture compete from), and where the table
        does not show the gesture (a cost waiting for a gesture not trained yet). None: no
        cost."""
        shown = self.costs_shown()
        out = {}
        for lb, c in (stored or {}).items():
            one = ({"false": float(c.get("false", 1.0)), "miss": float(c.get("miss", 1.0))}
                   if isinstance(c, dict) else {"false": float(c), "miss": 1.0})
            if lb not in self._cost_boxes or shown.get(lb) == one:
                out[lb] = c
        for lb, c in shown.items():
            out.setdefault(lb, c)
        return out or None

    @property
    def costs_pending(self) -> bool:
        return self._costs_timer.isActive()

    # -- results ------------------------------------------------------------------------------
    def show_busy(self, what: str) -> None:
        self.status.setText(f"auditing {what} (in the background)…")
        self.audit_button.setEnabled(False)

    def show_error(self, text: str) -> None:
        self.status.setText(f"no audit: {text}")
        self.audit_button.setEnabled(True)

    def show_audit(self, result: dict[str, Any]) -> None:
        """Show an audit (:meth:`gesturemap.evaluation.audit.Audit.to_dict`)."""
        self.audit_button.setEnabled(True)
        if "error" in result:
            self.result = None
            self.apply_button.setEnabled(False)
            self.show_error(result["error"])
            return
        self.result = result
        labels = result["labels"]
        total = sum(result["predicted_false_alarms"].values())
        self.status.setText(
            f"{result['null_minutes']:.1f} min of ordinary movement replayed; budget "
            f"{result['budget']:g} false triggers/min. Nothing is written until you apply.")
        drop, spread = result.get("recall_drop"), result.get("recall_drop_spread")
        share = result.get("found_share_lost")
        lost = "" if drop is None else (
            f"; gestures lost on new performers: about {100 * drop:.0f}%"
            + ("" if spread is None else f" (give or take {100 * spread:.0f}%)")
            + ("" if share is None else
               f", {100 * share:.0f}% of those the present thresholds find"))
        from ..evaluation.audit import shown_text

        shown = shown_text(result)  # what a rehearsal this long can show
        self.verdict.setText(
            (f"budget met: {total:.2f} false triggers/min at the proposed thresholds"
             if result["met"] else
             f"budget NOT met: {total:.2f} false triggers/min even at the strictest "
             "thresholds tried (record more takes, or null takes of this movement)") + lost
            + f". {shown[:1].upper()}{shown[1:]}.")
        # amber: met on this rehearsal, but too short a rehearsal to show it
        colour = ("#fc8181" if not result["met"] else
                  "#68d391" if result["shown"] else "#f6ad55")
        self.verdict.setStyleSheet(f"font-weight: bold; color: {colour}")
        self.table.setRowCount(len(labels))
        for i, lb in enumerate(labels):
            cells = [lb, f"{result['baseline_false_alarms'][lb]:.2f}",
                     f"{result['predicted_false_alarms'][lb]:.2f}",
                     _pct(result["baseline_recall"][lb]), _pct(result["predicted_recall"][lb]),
                     f"{result['thresholds'][lb]:.1f} ({result['multipliers'][lb]:.2f})"]
            # "now" is the project's own thresholds (the default level where it has none):
            # the threshold those columns were counted at, on hover
            now = (f"now: at the project's threshold {result['baseline_thresholds'][lb]:.1f}"
                   if lb in result.get("baseline_thresholds", {}) else "")
            for j, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if j in (1, 3) and now:
                    item.setToolTip(now)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self._plot(result)
        self.triggers.clear()
        several = any(e["recording"] for e in result["events"])  # a file of recordings
        for e in result["events"]:
            text = f"{e['time_s']:7.1f} s · {e['label']}"
            if several:
                text += f" (recording {e['recording'] + 1})"
            item = QtWidgets.QListWidgetItem(text + (f" · {e['why']}" if e["why"] else ""))
            item.setToolTip(e["why"] or "")
            self.triggers.addItem(item)
        if not result["events"]:
            self.triggers.addItem("no false trigger at the proposed thresholds")
        self.apply_button.setEnabled(True)

    def _plot(self, result: dict[str, Any]) -> None:
        self.plot.clear()
        for k, lb in enumerate(result["labels"]):
            c = result["curve"][lb]
            fa = np.asarray(c["false_alarms_per_min"], dtype=float)
            rec = np.array([np.nan if r is None else r for r in c["recall"]], dtype=float)
            ok = np.isfinite(rec)
            colour = class_colour(k)
            self.plot.plot(fa[ok], rec[ok], pen=pg.mkPen(colour, width=2), symbol="o",
                           symbolSize=5, symbolBrush=colour, name=lb)
            i = int(np.argmin(np.abs(np.asarray(c["multiplier"]) - result["multipliers"][lb])))
            if ok[i]:
                self.plot.plot([fa[i]], [rec[i]], pen=None, symbol="o", symbolSize=14,
                               symbolPen=pg.mkPen(colour, width=2), symbolBrush=None)


class SpottingValues(QtGui.QUndoCommand):
    """Some spotting settings set (redo) and put back (undo), by the engine command
    ``set_spotting_values``: an audit's thresholds applied, or the costs edited."""

    def __init__(self, send: Any, text: str, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().__init__(text)
        self._send, self._new, self._old = send, new, old

    def redo(self) -> None:
        self._send("set_spotting_values", self._new)

    def undo(self) -> None:
        self._send("set_spotting_values", self._old)


class WindowRehearsal:
    """The Rehearsal tab's recording, audits, Apply and costs (mixed into the main window)."""

    project: Any
    engine: Any
    rehearsal: RehearsalPanel
    #: the recorded rehearsal: chunks of (times, frames), and the input ring's count read
    _rehearsal_chunks: list[tuple[np.ndarray, np.ndarray]]
    _rehearsal_from: int | None = None
    _rehearsal_missed = 0
    #: the audit asked for and not yet submitted (waits for a training to settle)
    _audit_wanted: dict[str, Any] | None = None
    _audit_basis: str | None = None
    _trainings_seen = (0, 0.0)
    #: the costs last stored and when: shown once the project has them
    _costs_sent: tuple[Any, float] | None = None
    #: what the second opinions under way are trained for (:meth:`_second_for`), and since when
    _second_basis: str | None = None
    _second_since = 0.0
    #: the file the training under way writes its step to
    _second_progress: str | None = None
    #: the kept rehearsals were last listed then; the project's first listing is still to come
    _kept_at = 0.0
    _kept_first = True
    #: whether the engine records a rehearsal (``stats()["rehearsing"]``)
    _engine_rehearsing = False
    #: the engine's count of rehearsal starts before the window's own (the window's
    #: rehearsal is the engine's once that count has moved past it)
    _rehearsal_base = 0
    _rehearsal_ended = False
    _rehearsal_stopping = False
    #: requests to keep or remove a rehearsal: token -> (what, name, sent at, file kept)
    _kept_asked: dict[str, tuple[str, str, float, str | None]]
    _kept_tokens = 0

    def _connect_rehearsal(self) -> None:
        panel = self.rehearsal
        self._rehearsal_chunks = []
        panel.record_toggled.connect(self.record_rehearsal)
        panel.audit_clicked.connect(self.audit_rehearsal)
        panel.apply_clicked.connect(self.apply_audit)
        panel.costs_edited.connect(self.store_costs)
        panel.second_clicked.connect(self._second_clicked)
        panel.kept_chosen.connect(lambda: panel.choose_kept(panel.kept.currentIndex()))
        panel.keep_clicked.connect(self.keep_loaded_rehearsal)
        panel.remove_clicked.connect(self.remove_kept_rehearsal)
        self._kept_asked = {}

    def _spotting_settings(self) -> dict[str, Any] | None:
        spotting = (self.project.model or {}).get("spotting")
        return dict(spotting) if isinstance(spotting, dict) else None

    def _scene_playing(self) -> str | None:
        """The scene whose model plays (the worker reads it from the project's folder, where
        the project's own mapping is saved apart from it), else None."""
        return (self.engine.stats().get("scenes") or {}).get("playing")

    def _gestures(self) -> list[str]:
        spotting = self._spotting_settings() or {}
        null = str(spotting.get("null_label", NULL))
        labels = getattr(self.engine.model, "labels_", None) or []
        return [str(lb) for lb in labels if str(lb) != null]

    def _clear_rehearsal(self) -> None:
        """Another project is opened: its rehearsal, audit and pending audit are forgotten."""
        self._rehearsal_from = None
        self._rehearsal_chunks = []
        self._audit_wanted = self._audit_basis = self._costs_sent = None
        self._second_basis = None
        self._forget_second_progress()
        self._kept_at, self._kept_first, self._kept_asked = 0.0, True, {}
        self._engine_rehearsing = self._rehearsal_ended = False
        self._rehearsal_base = 0
        self._rehearsal_stopping = False
        self.rehearsal.clear()

    # -- recording ----------------------------------------------------------------------------
    def record_rehearsal(self, on: bool) -> None:
        """Start (``on``) or stop the rehearsal: the engine records it and keeps it in the
        project (so that a window killed mid-rehearsal loses nothing), while the window reads
        the same frames from its input ring to audit them at once. Never a take."""
        panel = self.rehearsal
        if on and self.record_button.isChecked():  # type: ignore[attr-defined]
            # a take's frames and a rehearsal's are never the same (the take would hold
            # the rehearsal's ordinary movement, and the audit a gesture recorded as rest)
            panel.record.blockSignals(True)
            panel.record.setChecked(False)
            panel.record.blockSignals(False)
            panel.source.setText("not recording a rehearsal: a take is being recorded; stop "
                                 "it first (Space)")
            return
        if on:
            self._rehearsal_chunks = []
            self._rehearsal_missed = 0
            self._rehearsal_from = self.engine.ring.count
            self._rehearsal_base = int(self.engine.stats().get("rehearsals_started", 0))
            panel.paths = None
            panel.second_button.setEnabled(False)  # a recording has no gestures labelled
            panel.source.setText("recording a rehearsal: move as in the piece…")
            self.engine_command("rehearsal", 1)  # type: ignore[attr-defined]
            return
        self._read_rehearsal()
        self._rehearsal_from = None
        frames = sum(len(t) for t, _ in self._rehearsal_chunks)
        seconds = (float(self._rehearsal_chunks[-1][0][-1] - self._rehearsal_chunks[0][0][0])
                   if frames > 1 else 0.0)
        panel.source.setText(
            f"rehearsal recorded: {frames} frames, {seconds:.0f} s"
            + (f" ({self._rehearsal_missed} frames missed or of another size)"
               if self._rehearsal_missed else ""))
        if self._rehearsal_ended:  # the engine stopped it (its bound, a controller's 0)
            self._rehearsal_ended = False
            panel.source.setText(panel.source.text() + "; the engine stopped it and the "
                                 "project keeps it (the list above)")
            return
        self._rehearsal_stopping = True  # the engine's next "not rehearsing" is this stop
        self._ask_kept("end_rehearsal", "recorded", "")
        panel.source.setText(panel.source.text() + "; keeping it in the project…")

    def _read_rehearsal(self) -> None:
        """The frames the input ring got since the last read (the window's timer)."""
        if self._rehearsal_from is None:
            return
        ring = self.engine.ring
        count = ring.count
        new = count - self._rehearsal_from
        if new < 0:  # the ring started again (a new engine): from its start
            new = count
        if new > ring.capacity:
            self._rehearsal_missed += new - ring.capacity
        if new > 0:
            t, v = ring.between(count - new, count)
            if v.ndim == 2 and v.shape[1] == (self.project.input_dim or v.shape[1]):
                self._rehearsal_chunks.append((t, v))
            else:  # another source's frames (the pad beside an OSC sensor): not the sensor's
                self._rehearsal_missed += len(t)
        self._rehearsal_from = count

    def recorded_rehearsal(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The recorded rehearsal: times (T,) and frames (T, D), or None."""
        chunks = [c for c in self._rehearsal_chunks if len(c[0])]
        if not chunks:
            return None
        return (np.concatenate([t for t, _ in chunks]),
                np.vstack([v for _, v in chunks]))

    # -- auditing -----------------------------------------------------------------------------
    def audit_rehearsal(self) -> None:
        """Audit the rehearsal (a file, else the one recorded) in the worker process."""
        panel = self.rehearsal
        if panel.record.isChecked():
            panel.record.setChecked(False)  # stops and keeps what was recorded
        labels = getattr(self.engine.model, "labels_", None)
        if labels is None or self._spotting_settings() is None:
            panel.show_error("train the model first" if labels is None else
                             "spotting is off: turn it on in the Model tab first")
            return
        data: dict[str, Any] = {
            "folder": str(self.engine.project_dir), "spotting": self._spotting_settings(),
            "budget": float(panel.budget.value()), "basis": basis(self.project, labels),
            "tag": getattr(self, "_opened", 0), "scene": self._scene_playing()}
        if panel.paths:
            data["paths"] = list(panel.paths)
            what = "the rehearsal file"
        else:
            recorded = self.recorded_rehearsal()
            if recorded is None:
                panel.show_error("record a rehearsal or load a rehearsal file first")
                return
            data["times"], data["frames"] = recorded
            what = "the recorded rehearsal"
        self._audit_wanted = data
        panel.show_busy(what)
        self._submit_audit(time.perf_counter())

    def _submit_audit(self, now: float) -> None:
        """Hand the audit to the worker once no training is under way and the last one
        ended :data:`SETTLED_S` ago (the engine saves its model just after)."""
        data = self._audit_wanted
        if data is None:
            return
        trainings = self.engine.trainings
        if trainings != self._trainings_seen[0]:
            self._trainings_seen = (trainings, now)
        if (getattr(self, "_train_sent", None) is not None
                or now - self._trainings_seen[1] < SETTLED_S):
            return
        data["basis"] = basis(self.project, getattr(self.engine.model, "labels_", None))
        data["scene"] = self._scene_playing()
        if self.quality_worker.request_audit(data):  # type: ignore[attr-defined]
            self._audit_wanted = None
            self._audit_basis = data["basis"]

    # -- the rehearsals the project keeps ------------------------------------------------------
    def _ask_kept(self, command: str, what: str, name: str, *args: Any,
                  source: str | None = None) -> None:
        """Send an engine command that keeps or removes a rehearsal; its answer is followed
        by :meth:`_follow_kept`."""
        self._kept_tokens += 1
        token = f"window-{id(self)}-{self._kept_tokens}"
        self._kept_asked[token] = (what, name, time.perf_counter(), source)
        self.engine_command(command, *args, token)  # type: ignore[attr-defined]

    def keep_loaded_rehearsal(self) -> None:
        """Keep a copy of each loaded rehearsal file that the project does not keep yet."""
        panel = self.rehearsal
        taken: set[str] = set()
        for path in panel.paths or []:
            if path in panel.kept_paths:
                continue
            # two files of one name: each its own
            name = new_rehearsal_name(self.engine.project_dir, Path(path).stem, taken=taken)
            taken.add(name)
            self._ask_kept("keep_rehearsal_file", "file", name, path, name, source=path)
        panel.keep_button.setEnabled(False)
        panel.status.setText("keeping the rehearsal file in the project…")

    def remove_kept_rehearsal(self) -> None:
        """Move the chosen kept rehearsal into the project's trash."""
        path = self.rehearsal.chosen_kept()
        if path is not None:
            self._ask_kept("remove_rehearsal", "removed", Path(path).name, Path(path).name)
            self.rehearsal.remove_button.setEnabled(False)

    def _follow_kept(self, now: float) -> None:
        """List the rehearsals the project keeps (a project just opened starts from every
        one of them) and say what became of the requests to keep or remove one."""
        if now - self._kept_at < KEPT_LIST_S:
            return
        self._kept_at = now
        panel = self.rehearsal
        folder = getattr(self.engine, "project_dir", None)
        stats = self.engine.stats()
        answers = stats.get("rehearsals") or {} if self._kept_asked else {}
        rehearsing = bool(stats.get("rehearsing"))
        if panel.record.isChecked():  # the window's own rehearsal
            self._engine_rehearsing = rehearsing
            ours = int(stats.get("rehearsals_started", 0)) > self._rehearsal_base
            if ours and not rehearsing:  # started, then stopped by its bound or an OSC 0
                self._rehearsal_ended = True
                panel.record.setChecked(False)
        elif self._rehearsal_stopping:  # the window's stop, on its way to the engine
            self._rehearsal_stopping = self._engine_rehearsing = rehearsing
        elif rehearsing != self._engine_rehearsing:  # a controller's /gesturemap/rehearsal
            self._engine_rehearsing = rehearsing
            panel.status.setText(
                "a rehearsal is being recorded from a controller (/gesturemap/rehearsal 1); "
                "/gesturemap/rehearsal 0 keeps it in the project" if rehearsing else
                "the controller's rehearsal stopped: the project keeps it (the list above)")
        # listed after the answers were read: a rehearsal said kept is on the list
        panel.show_kept([str(p) for p in kept_rehearsals(folder)])
        if self._kept_first:
            self._kept_first = False
            if (panel.kept_paths and panel.paths is None and not self._rehearsal_chunks
                    and not panel.record.isChecked()):
                panel.choose_kept(0)
        for token, (what, name, since, source) in list(self._kept_asked.items()):
            answer = answers.get(token)
            if answer is None and now - since < KEEP_ANSWER_S:
                continue
            del self._kept_asked[token]
            outcome = "no answer from the engine" if answer is None else answer[1]
            if answer is not None and not name:  # named by the engine as it kept it
                name = str(answer[0])
            stem = Path(name).stem
            kept = str(Path(folder or ".") / REHEARSALS_DIR / name)
            if what == "recorded":
                text = panel.source.text().removesuffix("; keeping it in the project…")
                panel.source.setText(text + (f"; kept in the project as {stem}"
                                             if outcome == "kept" else f"; {outcome}"))
            elif what == "file":
                panel.status.setText(f"kept in the project as {stem}" if outcome == "kept"
                                     else f"{stem}: {outcome}")
                if outcome == "kept" and panel.paths and source in panel.paths:
                    # the copy stands for the file from now on
                    if panel.paths == [source] and kept in panel.kept_paths:
                        panel.choose_kept(1 + panel.kept_paths.index(kept))
                    else:
                        panel.use_files([kept if p == source else p for p in panel.paths])
            else:
                panel.status.setText(f"{stem} moved to the project's trash/rehearsals/"
                                     if outcome == "removed" else f"{stem}: {outcome}")
                if outcome == "removed" and panel.paths and kept in panel.paths:
                    panel.paths = None
                    panel.source.setText("no rehearsal chosen: record one, load a file or "
                                         "choose a kept one")
                    panel.second_button.setEnabled(False)
                panel.remove_button.setEnabled(panel.chosen_kept() is not None)

    def _refresh_rehearsal(self, now: float) -> None:
        """The window's timer: keep the rehearsal's frames, submit and show audits, and
        show the costs the project has."""
        self._read_rehearsal()
        self._follow_kept(now)
        self._submit_audit(now)
        result = self.quality_worker.poll_audit()  # type: ignore[attr-defined]
        if result is not None and result.get("tag", 0) == getattr(self, "_opened", 0):
            self.rehearsal.show_audit(result)
        second = self.quality_worker.poll_second_opinions()  # type: ignore[attr-defined]
        if second is not None and second.get("tag", 0) == getattr(self, "_opened", 0):
            self._store_second_opinions(second)
        elif self._second_basis is not None:
            self.rehearsal.show_second_busy(int(now - self._second_since),
                                            self._second_step())
        spotting = self._spotting_settings()
        self._follow_apply(spotting)
        if spotting is not None:  # the Model tab sends its settings whole: with these in
            self.model_panel.spotting.follow_stored(spotting)  # type: ignore[attr-defined]
        costs = (spotting or {}).get("costs") or None
        sent = self._costs_sent
        if sent is not None and sent[0] != costs and now - sent[1] < 3.0:
            return  # the engine has not applied them yet: the boxes keep what was typed
        self._costs_sent = None
        self.rehearsal.show_costs(self._gestures() if spotting is not None else [], costs)

    def _follow_apply(self, spotting: dict[str, Any] | None) -> None:
        """Apply is there while it would change something: an audit shown whose thresholds
        and costs the project does not hold yet (once applied, a second press only stacked
        an undo step that changed nothing; a project that spots nothing cannot take them)."""
        from ..evaluation.audit import values_to_store

        result = self.rehearsal.result
        new = None if result is None or spotting is None else values_to_store(result, spotting)
        held = {key: (spotting or {}).get(key) or None for key in ("thresholds", "costs")}
        self.rehearsal.apply_button.setEnabled(new is not None and new != held)

    # -- what is written: only what the performer asks for ------------------------------------
    def apply_audit(self) -> None:
        """Store the last audit's thresholds (and the costs it followed) in the project's
        spotting settings, as ``gesturemap audit --apply`` does; Ctrl+Z takes them back."""
        from ..evaluation.audit import values_to_store

        panel = self.rehearsal
        result = panel.result
        spotting = self._spotting_settings()
        if result is None or spotting is None:
            return
        now = basis(self.project, getattr(self.engine.model, "labels_", None))
        if now != self._audit_basis:
            panel.status.setText("the project changed since the audit (a training, a take): "
                                 "nothing applied; audit again")
            return
        # the audit's, and those waiting for a gesture the model does not spot yet
        new = values_to_store(result, spotting)
        old = {"thresholds": spotting.get("thresholds"), "costs": spotting.get("costs")}
        self.undo_stack.push(SpottingValues(  # type: ignore[attr-defined]
            self.engine_command, "apply the rehearsal audit's thresholds", new, old))  # type: ignore[attr-defined]
        panel.status.setText("applied: the thresholds are in the project's spotting settings "
                             "(Ctrl+Z takes them back)")

    def _second_clicked(self) -> None:
        """The button trains, or cancels the training under way."""
        if self._second_basis is not None:
            self.cancel_second_opinions()
        else:
            self.train_second_opinions()

    def cancel_second_opinions(self) -> None:
        """Stop the second opinions' training under way; nothing is stored."""
        if self._second_basis is None:
            return
        self._second_basis = None
        self._forget_second_progress()
        self.quality_worker.cancel_second_opinions()  # type: ignore[attr-defined]
        self.rehearsal.show_second({"error": "cancelled: nothing stored"}, [])

    def train_second_opinions(self) -> None:
        """Train the relabeller and the window detector from the rehearsal file, in a worker
        process, for the model that runs now; stored when they come back (one undo step)."""
        panel = self.rehearsal
        labels = getattr(self.engine.model, "labels_", None)
        if labels is None or self._spotting_settings() is None or not panel.paths:
            panel.show_second({"error": "train the model first" if labels is None else
                               "spotting is off: turn it on in the Model tab first"
                               if self._spotting_settings() is None else
                               "load a rehearsal file with its gestures labelled"}, [])
            return
        if getattr(self, "_train_sent", None) is not None:
            panel.show_second({"error": "a training is under way: try again when it is "
                                        "over"}, [])
            return
        now = self._second_for()
        handle, progress = tempfile.mkstemp(prefix="gesturemap-second-", suffix=".txt")
        os.close(handle)
        data = {"folder": str(self.engine.project_dir), "basis": basis(self.project, labels),
                "spotting": self._spotting_settings(), "paths": list(panel.paths),
                "tag": getattr(self, "_opened", 0), "progress": progress,
                "scene": self._scene_playing()}
        if self.quality_worker.request_second_opinions(data):  # type: ignore[attr-defined]
            self._second_basis, self._second_since = now, time.perf_counter()
            self._forget_second_progress()  # a cancelled one's, if any
            self._second_progress = progress
            panel.show_second_busy()
        else:  # one under way still, perhaps for the project open before this one
            Path(progress).unlink(missing_ok=True)
            panel.show_second({"error": "second opinions are being trained already: try "
                                        "again when they are done"}, [])

    def _second_step(self) -> str:
        """The step the second opinions' training is at (its worker writes it), or ""."""
        path = self._second_progress
        if path is None:
            return ""
        try:
            return Path(path).read_text(encoding="utf-8")[:200]
        except (OSError, UnicodeDecodeError):  # not written yet, or written just now
            return ""

    def _forget_second_progress(self) -> None:
        path, self._second_progress = self._second_progress, None
        if path is not None:
            Path(path).unlink(missing_ok=True)

    def _second_for(self) -> str:
        """What second opinions are trained for: the model and takes (:func:`basis`), and the
        spotting settings the relabeller reads the events of (but the second opinions)."""
        spotting = {k: v for k, v in (self._spotting_settings() or {}).items()
                    if k not in ("verifier", "detector")}
        return basis(self.project, getattr(self.engine.model, "labels_", None)) + json.dumps(
            spotting, sort_keys=True, default=str)

    def _store_second_opinions(self, result: dict[str, Any]) -> None:
        """Store what the second opinions' cross-fits chose (one undo step), unless the
        project changed meanwhile."""
        panel = self.rehearsal
        trained_for, self._second_basis = self._second_basis, None
        self._forget_second_progress()
        spotting = self._spotting_settings()
        if "error" in result or spotting is None:
            panel.show_second(result if "error" in result else
                              {"error": "spotting was turned off meanwhile"}, [])
            return
        if self._second_for() != trained_for:
            panel.show_second({"error": "the project changed while they trained (a "
                                        "training, a take): nothing stored; train them "
                                        "again"}, [])
            return
        new = {k: result[k] for k in ("verifier", "detector") if result.get(k) is not None}
        if new:
            old = {k: spotting.get(k) for k in new}
            self.undo_stack.push(SpottingValues(  # type: ignore[attr-defined]
                self.engine_command, "train the second opinions", new, old))  # type: ignore[attr-defined]
        names = {"verifier": "relabeller", "detector": "window detector"}
        panel.show_second(result, [names[k] for k in new])

    def store_costs(self) -> None:
        """The costs in the boxes into the project's spotting settings (one undo step)."""
        spotting = self._spotting_settings()
        if spotting is None:
            return
        costs = self.rehearsal.costs_with_edits(spotting.get("costs"))
        if costs == (spotting.get("costs") or None):
            return
        self._costs_sent = (costs, time.perf_counter())
        self.undo_stack.push(SpottingValues(  # type: ignore[attr-defined]
            self.engine_command, "edit the costs of mistakes", {"costs": costs},  # type: ignore[attr-defined]
            {"costs": spotting.get("costs")}))
