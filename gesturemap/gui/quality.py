"""The Quality panel and the "why?" strip.

- :class:`QualityPanel` (a tab beside the dataset browser): after every retrain, the takes are
  reviewed in the background (leave-one-take-out, up to 10 trainings: see
  :func:`gesturemap.review_takes`): the share of takes recognised from the others per class,
  the confusion matrix, the class that most needs another take, and the suspicious takes —
  highlighted in the dataset browser's take list; a click on one selects it there (shown
  over the live plot) and plays it through the model; and the takes that blur a class into
  another (the vocabulary guide's, :func:`gesturemap.vocabulary_guide`).
- :class:`WhyStrip` (under the monitor): the live decision explained — runner-up, margin in
  words, the channels that drove it — refreshed twice a second.
- :class:`DistinctMeter` (under the monitor): while a take is recorded, how distinct it is so
  far from the other classes (the vocabulary guide, :func:`gesturemap.vocabulary_guide`), the
  nearest class, and a warning when it collides; refreshed four times a second.
- :class:`QualityWorker` runs them all in a worker process (:mod:`.quality_jobs`), and the
  rehearsal audits (:mod:`.rehearsal_jobs`): never on the GUI thread, never on the engine's
  frame path. The meter's checks have a worker of their own, so that they never wait behind a
  review. The second opinions trained from a rehearsal (a minute or more) have a worker
  of their own, so that reviews and explanations do not wait for them. The GUI polls the
  futures on its timer.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..utils.children import ctrl_c_kept_from_children, helper_context, in_this_environment
from . import quality_jobs, rehearsal_jobs
from .labels import never_widens, shown_name

__all__ = ["DistinctMeter", "QualityPanel", "QualityWorker", "WhyStrip"]

#: Suspicion at or above which a take is highlighted (orange), and "probably mislabelled" (red).
SUSPICIOUS = 0.5
#: Why a project's takes are not reviewed (nor the live decision explained).
NOT_REVIEWED = ("takes of two classes or more are reviewed, and the live decision explained "
                "(recognition projects)")
MISLABELLED_COLOUR = "#9b2c2c"
SUSPICIOUS_COLOUR = "#975a16"


class QualityWorker:
    """One worker process for the reviews and the live explanations (started on first use).

    Jobs are submitted from the GUI thread and polled with :meth:`poll`; at most one review
    and one explanation are in flight, a newer request replacing a waiting one (and the
    review under way then comes back as nothing: it is of takes since changed).

    The distinctness meter's checks have a worker process of their own, with a guide of its
    own (one training, :func:`quality_jobs.prepare_meter`): in the reviews' worker they
    waited behind a review — its ten or more trainings, twenty seconds after a window
    opened — and the meter judged nothing meanwhile. The review's thresholds calibrate it
    when they come.
    """

    def __init__(self) -> None:
        self._pool: cf.ProcessPoolExecutor | None = None
        #: the long jobs' worker (second opinions), started on first use
        self._long_pool: cf.ProcessPoolExecutor | None = None
        self._second: cf.Future | None = None
        self._review: cf.Future | None = None
        self._explain: cf.Future | None = None
        self._distinct: cf.Future | None = None
        self._distinct_take = 0  # the take the check under way is for
        #: the meter's worker, started on the first take's preparation
        self._meter_pool: cf.ProcessPoolExecutor | None = None
        #: the takes (a payload's key) that the meter's guide was last prepared from
        self.meter_key: Any = None
        self._audit: cf.Future | None = None
        self._next_review: dict[str, Any] | None = None
        self._closed = False

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = _worker()
        return self._pool

    def request_review(self, data: dict[str, Any]) -> None:
        if self._closed:
            return
        if self._meter_pool is not None:  # the meter follows the takes reviewed
            self.prepare_meter(data)
        if self._review is not None and not self._review.done():
            self._next_review = data  # after the one under way
            return
        self._review = _submit(self._executor(), quality_jobs.review, data)

    def request_explanation(self, times: np.ndarray, features: np.ndarray, names: list[str],
                            since: float | None, frames: int, decided: int | None = None,
                            decided_from: int | None = None) -> bool:
        """Submit an explanation (see :func:`quality_jobs.explain_live`) unless one is under
        way; returns whether it was submitted."""
        if self._closed:
            return False
        if self._explain is not None and not self._explain.done():
            return False
        self._explain = _submit(self._executor(),
            quality_jobs.explain_live, np.ascontiguousarray(times),
            np.ascontiguousarray(features), names, since, frames, decided, decided_from)
        return True

    def request_distinctness(self, features: np.ndarray, label: Any, take: int = 0) -> bool:
        """Submit the guide's check of the take being recorded (:func:`quality_jobs.distinct_live`)
        unless one is under way; returns whether it was submitted. ``take`` names the take:
        the result comes back with it, so that a check of the last take finishing during the
        next is known for what it is."""
        if self._closed:
            return False
        if self._distinct is not None and not self._distinct.done():
            return False
        self._distinct = _submit(self._meter(),
            quality_jobs.distinct_live, np.ascontiguousarray(features), label)
        self._distinct_take = take
        return True

    def _meter(self) -> cf.ProcessPoolExecutor:
        if self._meter_pool is None:
            self._meter_pool = _worker()
        return self._meter_pool

    def prepare_meter(self, data: dict[str, Any]) -> None:
        """Prepare the meter's guide from ``data`` (:func:`quality_jobs.payload`) in the
        meter's worker, unless it was prepared from the same takes (its key): checks asked
        since wait for it there (one training), not behind a review."""
        if self._closed or data.get("key") == self.meter_key:
            return
        self.meter_key = data.get("key")
        _submit(self._meter(), quality_jobs.prepare_meter, data)  # never raises: unpolled

    def distinctness_pending(self, take: int) -> bool:
        """Whether a check of ``take`` asked for has not been polled back yet."""
        return self._distinct is not None and self._distinct_take == take

    def poll_distinctness(self) -> tuple[dict[str, Any], int] | None:
        """The guide's check that finished since the last poll, and the take it was asked
        for (else None)."""
        result, self._distinct = _finished(self._distinct)
        return None if result is None else (result, self._distinct_take)

    def request_audit(self, data: dict[str, Any]) -> bool:
        """Submit a rehearsal audit (:func:`rehearsal_jobs.audit_project`) unless one is under
        way; returns whether it was submitted."""
        if self._closed or (self._audit is not None and not self._audit.done()):
            return False
        self._audit = _submit(self._executor(), rehearsal_jobs.audit_project, data)
        return True

    def poll_audit(self) -> dict[str, Any] | None:
        """The rehearsal audit that finished since the last poll (else None)."""
        result, self._audit = _finished(self._audit)
        return result

    def request_second_opinions(self, data: dict[str, Any]) -> bool:
        """Submit the second opinions' training (:func:`rehearsal_jobs.train_second_opinions`)
        unless one is under way; returns whether it was submitted."""
        if self._closed or (self._second is not None and not self._second.done()):
            return False
        if self._long_pool is None:
            self._long_pool = _worker()
        self._second = _submit(self._long_pool, rehearsal_jobs.train_second_opinions, data)
        return True

    def cancel_second_opinions(self) -> None:
        """Stop the second opinions' training under way: its worker process ends (the
        cross-fits cannot be interrupted from outside), and the next request starts one."""
        pool, self._long_pool, self._second = self._long_pool, None, None
        if pool is not None:
            _stop(pool)

    def poll_second_opinions(self) -> dict[str, Any] | None:
        """The second opinions' training that finished since the last poll (else None)."""
        result, self._second = _finished(self._second)
        return result

    @property
    def busy(self) -> bool:
        return self._review is not None and not self._review.done()

    def poll(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """``(review, explanation)`` results that finished since the last poll (else None)."""
        review = explanation = None
        if self._review is not None and self._review.done():
            review = _result(self._review)
            self._review = None
            if review.get("calibration") is not None and self._meter_pool is not None:
                # applied there only to a guide of the same takes
                _submit(self._meter_pool, quality_jobs.calibrate_meter, review["calibration"])
            if self._next_review is not None:
                # the takes changed since this review was asked for: it speaks of takes
                # that are no longer the project's ("circle has one take only" with three
                # recorded since), so only the review of the takes as they are is shown
                data, self._next_review = self._next_review, None
                self.request_review(data)
                review = None
        if self._explain is not None and self._explain.done():
            explanation = _result(self._explain)
            self._explain = None
        return review, explanation

    def close(self) -> None:
        """Stop the worker process now (a review under way is abandoned); no more jobs."""
        self._closed = True
        pools = [p for p in (self._pool, self._long_pool, self._meter_pool) if p is not None]
        self._pool = self._long_pool = self._meter_pool = None
        for pool in pools:
            _stop(pool)


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Shut ``pool`` down now, its worker process ended whatever it is doing."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public handle < 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()


def _submit(pool: cf.ProcessPoolExecutor, job: Any, *args: Any) -> cf.Future:
    # the pool starts its worker process at a submit: started here, it never sees a Ctrl-C
    # meant for the window (which closes it in its own time)
    with ctrl_c_kept_from_children():
        return pool.submit(job, *args)


def _worker() -> cf.ProcessPoolExecutor:
    # never a fork of this process (its Qt and engine threads): see helper_context
    initializer, initargs = in_this_environment(quality_jobs.lower_priority, os.getpid())
    return cf.ProcessPoolExecutor(max_workers=1, mp_context=helper_context(),
                                  initializer=initializer, initargs=initargs)


def _finished(future: cf.Future | None) -> tuple[dict[str, Any] | None, cf.Future | None]:
    """A job's result once it is done, and what to keep of its future (None once done)."""
    if future is None or not future.done():
        return None, future
    return _result(future), None


def _result(future: cf.Future) -> dict[str, Any]:
    try:
        return future.result(timeout=0)
    except Exception as exc:  # a dead worker, say: shown, never raised into the window
        return {"error": f"{type(exc).__name__}: {exc}"}


class QualityPanel(QtWidgets.QWidget):
    """Per-class scores, confusion matrix and suspicious takes of the last review."""

    #: a suspicious take was clicked: its id
    take_clicked = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: dict[str, Any] | None = None
        self.status = QtWidgets.QLabel("the takes are reviewed after each training")
        self.status.setWordWrap(True)
        self.advice = QtWidgets.QLabel("")
        self.advice.setWordWrap(True)
        self.advice.setStyleSheet("font-weight: bold")
        #: what to record next (the review's suggestion), shown between takes only
        self.next_take = QtWidgets.QLabel("")
        self.next_take.setWordWrap(True)
        self.next_take.setToolTip("the class the model is least sure of, or whose takes "
                                  "cover least, and how to record it; updated after each "
                                  "training, hidden while a take is recorded")
        self._next_text = ""
        self._recording = False
        self.classes = QtWidgets.QTableWidget(0, 4)
        self.classes.setHorizontalHeaderLabels(["class", "takes", "recognised", "precision"])
        self.classes.verticalHeader().setVisible(False)
        self.classes.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion = QtWidgets.QTableWidget(0, 0)
        self.confusion.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion.setToolTip("rows: the takes' labels; columns: what the model trained "
                                  "without each take recognised")
        self.suspicious = QtWidgets.QListWidget()
        self.suspicious.setToolTip("click: select the take (shown over the live plot) and "
                                   "play it through the model")
        self.suspicious.itemClicked.connect(
            lambda item: self.take_clicked.emit(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.advice)
        layout.addWidget(self.next_take)
        tables = QtWidgets.QHBoxLayout()
        left = QtWidgets.QVBoxLayout()
        left.addWidget(QtWidgets.QLabel(
            "<b>Per class</b> (each take judged by a model trained without it)"))
        left.addWidget(self.classes)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("<b>Confusion</b> (rows: labelled as)"))
        right.addWidget(self.confusion)
        tables.addLayout(left, 1)
        tables.addLayout(right, 1)
        layout.addLayout(tables, 2)
        layout.addWidget(QtWidgets.QLabel("<b>Takes to look at</b>"))
        layout.addWidget(self.suspicious, 1)
        #: the vocabulary guide's takes that blur their class into another
        self.blurs = QtWidgets.QListWidget()
        self.blurs.setToolTip("takes that the model trained without them takes for another "
                              "class, or nearly: they blur their class into it. Click: select "
                              "the take and play it")
        self.blurs.itemClicked.connect(
            lambda item: item.data(QtCore.Qt.ItemDataRole.UserRole) and self.take_clicked.emit(
                item.data(QtCore.Qt.ItemDataRole.UserRole)))
        layout.addWidget(QtWidgets.QLabel("<b>Takes that blur a class into another</b>"))
        layout.addWidget(self.blurs, 1)

    def clear(self) -> None:
        """Forget the last review (another project was opened)."""
        self.report = None
        self.status.setText("the takes are reviewed after each training")
        self.advice.setText("")
        self._next_text = ""
        self._show_next_take()
        self.classes.setRowCount(0)
        self.confusion.setRowCount(0)
        self.confusion.setColumnCount(0)
        self.suspicious.clear()
        self.blurs.clear()

    def show_busy(self) -> None:
        self.status.setText("reviewing the takes (in the background)…")

    def show_report(self, report: dict[str, Any]) -> None:
        """Show a review (:meth:`gesturemap.evaluation.quality.QualityReport.to_dict`)."""
        if "error" in report:
            self.report = None
            self.status.setText(f"no review: {report['error']}")
            self._next_text = ""
            self._show_next_take()
            return
        self.report = report
        n = len(report["takes"])
        folds = report["folds"]
        how = "each take left out in turn" if folds == n else f"{folds} folds of takes"
        acc = report["accuracy"]
        self.status.setText(
            f"{'-' if acc is None else f'{100 * acc:.0f}%'} of {n} takes recognised by the "
            f"model trained on the others ({how}, {report['model']})")
        self.advice.setText(report["advice"])
        suggestion = report.get("next_take")
        self._next_text = suggestion["text"] if suggestion else ""
        self._show_next_take()
        labels = report["labels"]
        counts = np.asarray(report["confusion"])
        self.classes.setRowCount(len(labels))
        for i, lb in enumerate(labels):
            cells = [lb, str(int(counts[i].sum())), _pct(report["recall"][i]),
                     _pct(report["precision"][i])]
            for j, text in enumerate(cells):
                self.classes.setItem(i, j, QtWidgets.QTableWidgetItem(text))
            if lb == report["needs_take"]:
                self.classes.item(i, 0).setBackground(QtGui.QColor(SUSPICIOUS_COLOUR))
        self.classes.resizeColumnsToContents()
        self.confusion.setRowCount(len(labels))
        self.confusion.setColumnCount(len(labels))
        self.confusion.setHorizontalHeaderLabels(labels)
        self.confusion.setVerticalHeaderLabels(labels)
        totals = counts.sum(axis=1)
        for i in range(len(labels)):
            for j in range(len(labels)):
                item = QtWidgets.QTableWidgetItem(str(int(counts[i, j])) if counts[i, j] else "")
                share = counts[i, j] / totals[i] if totals[i] else 0.0
                good = i == j
                colour = QtGui.QColor(40, int(60 + 120 * share), 90) if good else QtGui.QColor(
                    int(40 + 160 * share), 40, 50)
                item.setBackground(colour)
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                self.confusion.setItem(i, j, item)
        self.confusion.resizeColumnsToContents()
        self.suspicious.clear()
        for take in sorted(report["takes"], key=lambda t: -t["suspicion"]):
            if take["suspicion"] < SUSPICIOUS:
                break
            item = QtWidgets.QListWidgetItem(
                f"{take['id']} ({take['label']}): {take['verdict']} · "
                f"suspicion {take['suspicion']:.2f}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, take["id"])
            item.setForeground(QtGui.QColor("#feb2b2" if "mislabelled" in take["verdict"]
                                            else "#fbd38d"))
            self.suspicious.addItem(item)
        if not self.suspicious.count():
            self.suspicious.addItem("no suspicious take")
        self._show_blurs(report.get("blurs") or [])

    def _show_blurs(self, blurs: list[dict[str, Any]]) -> None:
        self.blurs.clear()
        for b in blurs:
            item = QtWidgets.QListWidgetItem(
                f"{b['label']} → {b['into']}: {b['take']} ({b['label']} "
                f"{abs(b['margin']):.2f} per frame {'below' if b['margin'] < 0 else 'above'} "
                f"{b['into']})")
            item.setToolTip(b["reason"])
            item.setData(QtCore.Qt.ItemDataRole.UserRole, b["take"])
            item.setForeground(QtGui.QColor("#fbd38d"))
            self.blurs.addItem(item)
        if not self.blurs.count():
            self.blurs.addItem("no take blurs its class into another")

    def set_recording(self, recording: bool) -> None:
        """Hide the next-take line while a take is recorded (the performer is busy)."""
        if recording != self._recording:
            self._recording = recording
            self._show_next_take()

    def _show_next_take(self) -> None:
        text = "" if self._recording else self._next_text
        self.next_take.setText(text)
        self.next_take.setVisible(bool(text))

    def suspicion(self) -> dict[str, tuple[float, str]]:
        """``{take id: (suspicion, verdict)}`` of the takes at or above :data:`SUSPICIOUS`."""
        if not self.report:
            return {}
        return {t["id"]: (t["suspicion"], t["verdict"]) for t in self.report["takes"]
                if t["suspicion"] >= SUSPICIOUS}

    def highlight(self, tree: QtWidgets.QTreeWidget) -> None:
        """Colour the suspicious takes in the dataset browser's take list (``tree``)."""
        marks = self.suspicion()
        for i in range(tree.topLevelItemCount()):
            top = tree.topLevelItem(i)
            for k in range(top.childCount()):
                item = top.child(k)
                mark = marks.get(item.data(0, QtCore.Qt.ItemDataRole.UserRole))
                brush = QtGui.QBrush() if mark is None else QtGui.QBrush(QtGui.QColor(
                    MISLABELLED_COLOUR if "mislabelled" in mark[1] else SUSPICIOUS_COLOUR))
                item.setBackground(0, brush)
                item.setToolTip(0, "" if mark is None else f"{mark[1]} (suspicion {mark[0]:.2f})")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


class DistinctMeter(QtWidgets.QFrame):
    """While a take is recorded: how distinct it is so far (a meter), the nearest class, and a
    warning when it collides. The last take's verdict stays until the next take starts."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.bar.setFormat("distinct %p%")
        self.bar.setToolTip("how distinct the take being recorded is so far from the other "
                            "classes (and the null class): 50% is a tie with the nearest")
        self.nearest = QtWidgets.QLabel("distinctness: shown while a take is recorded")
        self.nearest.setWordWrap(True)
        self.warning = QtWidgets.QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #feb2b2; font-weight: bold")
        self.warning.setVisible(False)
        #: checks shown (the tests count them)
        self.updates = 0
        #: the last check shown (plain data), or None
        self.last: dict[str, Any] | None = None
        self._label: Any = ""  # the class of the take followed
        never_widens(self.nearest, self.warning)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.bar)
        layout.addWidget(self.nearest)
        layout.addWidget(self.warning)

    def reset(self) -> None:
        """Another project opened: nothing of the last one's takes is shown."""
        self.last = None
        self._label = ""
        self.bar.setValue(0)
        self.bar.setStyleSheet("")
        self.nearest.setText("distinctness: shown while a take is recorded")
        self.warning.setVisible(False)

    def start(self, label: Any) -> None:
        """A take of ``label`` starts: forget the last one's verdict."""
        self.last = None
        self._label = label
        self.bar.setValue(0)
        self.nearest.setText(f"recording {shown_name(label)}: judged after a few frames…")
        self.warning.setVisible(False)

    def ended(self, judging: bool) -> None:
        """The take stopped: without a verdict yet, the meter no longer says it is recording
        (``judging``: a check of it is still under way, and is shown when it comes)."""
        if self.last is None:
            name = shown_name(self._label)
            self.nearest.setText(f"{name}: judging the take…" if judging else
                                 f"{name}: the take ended before it could be judged")

    def show_distinctness(self, d: dict[str, Any]) -> None:
        if not d:
            return
        if "note" in d or "error" in d:
            self.nearest.setText(d.get("note") or d["error"])
            return
        self.last = d
        self.updates += 1
        self.bar.setValue(int(round(100 * d["score"])))
        self.nearest.setText(f"{shown_name(d['label'])}: nearest {shown_name(d['nearest'])} "
                             f"({d['margin']:+.2f} per frame, {d['frames']} frames)")
        self.warning.setText(f"⚠ collides with {shown_name(d['nearest'])}: {d['reason']}"
                             if d["collides"] else "")
        self.warning.setVisible(bool(d["collides"]))
        colour = "#c0392b" if d["collides"] else "#2f855a"
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")


class WhyStrip(QtWidgets.QFrame):
    """Why the model decides what it decides now: a line under the monitor, and a "that was…"
    button that corrects the last gesture to the class picked for recording."""

    def __init__(self, correct: Callable[[], None],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.text = QtWidgets.QLabel("why? — (explained while running)")
        self.text.setWordWrap(True)
        self.text.setToolTip("the live decision explained (off the frame path, twice a "
                             "second): the runner-up, how much likelier, the channels that "
                             "drove it and when the classes parted")
        self.correct_button = QtWidgets.QPushButton("That was…  (C)")
        self.correct_button.setToolTip("the last gesture was the class picked on the left: "
                                       "add it as a take of that class and retrain "
                                       "(Ctrl+Z undoes)")
        self.correct_button.clicked.connect(correct)
        never_widens(self.text)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.correct_button)

    #: the last explanation shown ({} none), and the frame's rejection the monitor shows
    #: (the likeliest class's name, its likelihood, the threshold; None: not rejected)
    _explanation: dict[str, Any] = {}
    _rejection: tuple[str, float, float] | None = None

    def show_explanation(self, ex: dict[str, Any]) -> None:
        if not ex:
            return
        self._explanation = ex
        self._render()

    @property
    def explained_key(self) -> Any:
        """The takes (a review's key) of the model whose explanation is shown (None: none)."""
        return self._explanation.get("key")

    def reset(self) -> None:
        """Another project opened: the last one's decision is not explained."""
        self._explanation, self._rejection = {}, None
        self._render()

    def show_note(self, note: str) -> None:
        """Say why nothing is explained (the explanation shown before is gone)."""
        self._explanation = {"error": note}
        self._render()

    def show_rejection(self, rejection: tuple[str, float, float] | None) -> None:
        """The live frame's rejection, as the monitor shows it: ``(likeliest class,
        likelihood, threshold)``, or None when a class is chosen. A rejected frame sends no
        class, so the strip must not explain it as a decision for the likeliest one."""
        if rejection is not None:  # to the digits shown: no redraw for a change unseen
            name, lik, thr = rejection
            rejection = (name, round(lik, 2), round(thr, 2))
        if rejection != self._rejection:
            self._rejection = rejection
            self._render()

    def _render(self) -> None:
        ex, rejection = self._explanation, self._rejection
        if "error" in ex:
            self.text.setText(f"why? — {ex['error']}")
            return
        if rejection is not None:
            name, lik, thr = rejection
            text = (f"why? unknown: the likeliest class, {shown_name(name)}, has likelihood "
                    f"{lik:.2f}, below the rejection threshold {thr:.2f}, so no class is sent "
                    "(class 0)")
            if ex:  # what the model leaned to, and on what, though too unsure to decide
                text += (f" · it leaned to {ex['text']} over the last {ex['length_s']:.1f} s")
            self.text.setText(text)
            return
        if not ex:
            self.text.setText("why? — (explained while running)")
            return
        drivers = ", ".join(ex["drivers"]) or "no channel in particular"
        a, b = ex["decided_s"]
        self.text.setText(f"why? {ex['text']} · driven by {drivers} · decided "
                          f"{a:.1f}–{b:.1f} s into the last {ex['length_s']:.1f} s")


class WindowQuality:
    """The quality tab's reviews, the live "why" strip and "that was X" corrections (mixed into
    the main window)."""

    project: Any
    engine: Any
    monitor: Any
    #: the engine's trainings when the last review was asked for
    _reviewed_trainings = 0

    def _request_review(self) -> None:
        """Review the takes in the background (after every training)."""
        from .quality_jobs import payload

        self._reviewed_trainings = self.engine.trainings
        if len({t.label for t in self.project.takes}) >= 2 and not self.project.output_names:
            self.quality_worker.request_review(payload(self.project, tag=self._opened,
                                                       key=self._takes_key()))
            self.quality.show_busy()
        else:  # nothing to review: the last review, and the model it explained with, are gone
            self.quality.show_report({"error": NOT_REVIEWED})
            self.why.show_note(NOT_REVIEWED)

    def _takes_key(self) -> tuple[int, int]:
        """The takes a review or the meter's guide is of: the project's, as last trained."""
        return self._opened, self.engine.trainings

    def _prepare_meter(self) -> None:
        """A take starts: the meter's guide is prepared for the takes trained, if it is not
        (the first take since the window opened, say) — in its worker, at once, never after
        the review (its worker is started here, not while the window opens)."""
        from .quality_jobs import payload

        if (self.engine.model is not None and not self.project.output_names
                and len({t.label for t in self.project.takes}) >= 2
                and self.quality_worker.meter_key != self._takes_key()):
            self.quality_worker.prepare_meter(payload(self.project, tag=self._opened,
                                                      key=self._takes_key()))

    def _initial_review(self) -> None:
        if (self._engine_started and self.quality.report is None
                and not self.quality_worker.busy and self.engine.model is not None):
            self._request_review()

    def _refresh_quality(self, now: float) -> None:
        """Show finished reviews and explanations; ask for the next explanation (the timer's)."""
        engine = self.engine
        if engine.trainings != self._reviewed_trainings and engine.model is not None:
            # a training the window did not ask for (an OSC correction or undo, Wekinator's
            # train, the undo of a correction): its takes reviewed too, and the worker's model
            # that the "why?" strip explains retrained with it
            self._request_review()
        self.quality.set_recording(bool(engine.recording))
        review, explanation = self.quality_worker.poll()
        if review is not None and review.get("project", self._opened) == self._opened:
            self.quality.show_report(review)
            self._highlight_key = None
        key = self._takes_key()
        if (explanation is not None and self.quality.report is not None
                and explanation.get("key", key) == key):
            # (with no review, nothing is explained: an explanation asked before the classes
            # went down to one, and answered by the worker's model of the classes deleted
            # since, would stay on the strip; nor by the worker's model of the takes before
            # a retrain — asked before it, or answered before the review of the new takes
            # retrained that model — while the monitor shows the retrained model's class)
            self.why.show_explanation(explanation)
        if self.why.explained_key not in (None, key):
            self.why.show_note("the retrained model is explained once its takes are reviewed…")
        # the frame the monitor shows as unknown is explained as such, never as a decision
        self.why.show_rejection(self.monitor.rejection if engine.running else None)
        self._refresh_distinctness(now)
        key = getattr(self.dataset, "_shown", None)
        if key != self._highlight_key:  # the take list was rebuilt, or a new review came
            self._highlight_key = key
            self.quality.highlight(self.dataset.tree)
        if (engine.running and engine.model is not None and self.quality.report is not None
                and now - self._why_at >= 0.5):
            self._why_at = now
            ring = engine.feature_ring
            lengths = sorted(t.length for t in self.project.takes) or [150]
            n = int(min(lengths[len(lengths) // 2], 400))
            times, values = ring.latest()  # the worker picks the frames the decision reads
            if len(values) > 1:
                stats = engine.stats()
                self.quality_worker.request_explanation(
                    times, values, list(ring.names), stats.get("stream_reset_t"), n,
                    stats.get("decided_frames"), stats.get("decided_from"))

    #: the feature ring's frame count when the take being recorded started (None: no take)
    _take_from: int | None = None
    #: the engine's count of record commands when the take followed started: its name
    _meter_take = -1
    _distinct_at = 0.0

    def _refresh_distinctness(self, now: float) -> None:
        """While a take is recorded, ask the worker four times a second how distinct its
        frames so far are (the guide's check runs there, never on the GUI thread or the
        frame path); show what comes back."""
        engine = self.engine
        ring = engine.feature_ring
        recording = engine.recording
        # a take is new when the engine applied a start or stop since the one followed: a
        # stop and a start between two ticks of this timer are another take, not more frames
        take = engine.record_commands
        new = recording and (self._take_from is None or take != self._meter_take)
        if new:  # the take's first frames: count from here
            self._take_from = ring.count
            self._meter_take = take
            self._distinct_at = now
            self.distinct.start(engine.current_label)
            self._prepare_meter()
        shown = self.quality_worker.poll_distinctness()
        # a check of the last take that ends during this one is not this take's; one that
        # ends after its take stopped is (the worker may be busy with a review meanwhile)
        if shown is not None and shown[1] == self._meter_take:
            self.distinct.show_distinctness(shown[0])
        if not recording:
            if self._take_from is not None:  # the take followed just stopped
                self.distinct.ended(self.quality_worker.distinctness_pending(self._meter_take))
            self._take_from = None
            return
        frames = min(ring.count - self._take_from, ring.capacity)
        if not new and frames >= 3 and now - self._distinct_at >= 0.25:
            _, values = ring.latest(frames)
            if self.quality_worker.request_distinctness(values, engine.current_label, take):
                self._distinct_at = now

    def _quality_take_clicked(self, take_id: str) -> None:
        """A suspicious take clicked: select it in the dataset browser (overlaid on the live
        plot) and play it through the model (the monitor shows what the model makes of it)."""
        self.dataset.select_take(take_id)
        self.dataset.play_selected()

    def correct_last_gesture(self, label: str | None = None) -> None:
        """"That was X": the gesture since the last reset or take becomes a take of ``label``
        (default: the class picked on the left), and the model retrains. Undo takes it back."""
        label = label if label is not None else self.current_class()
        if label is None:
            self.train_status.setText("pick the class the gesture was, then correct")
            return
        self._await_training()  # the engine retrains (or refuses): watch it
        self._correction = _Correction(self.engine_command, self._label(label),
                                       self._correction_retrains)
        self.undo_stack.push(self._correction)
        self.train_status.setText(f"that was {label}: added as a take, training…")

    def _correction_retrains(self, what: str) -> None:
        """A correction undone or redone (``what``: "that was X undone"): the engine retrains,
        and the training line follows that retraining, not the correction's before it; or,
        the project's only take undone, says there is no model."""
        self._await_training()
        self._awaited_edit = what
        self.train_status.setText(f"{what}: training…")

    def _correction_refused(self) -> None:
        """The engine refused the last correction (no gesture since the last reset or take):
        its undo step does nothing, and leaves the stack when undone (an undo there would take
        an earlier correction's take out)."""
        correction = getattr(self, "_correction", None)
        if correction is not None:
            correction.refused = True
            correction.setText(f"{correction.text()} (nothing to correct)")
            correction.setObsolete(True)
            self._correction = None


#: numbers the window's corrections (their tokens in the engine)
_TOKENS = itertools.count(1)


class _Correction(QtGui.QUndoCommand):
    """"That was X" (redo: the engine adds the last gesture as a take / puts it back) and its
    undo (the engine takes it out again); the engine retrains each time."""

    def __init__(self, send: Any, label: Any, on_retrain: Any) -> None:
        super().__init__(f"that was {label}")
        self._send = send
        self._label = label
        #: ``on_retrain(what)``, before an undo or a redo is sent: the window awaits its retrain
        self._on_retrain = on_retrain
        self._done_once = False
        # its name in the engine: undo takes out this correction's take, not that of a
        # correction sent over OSC since (a pedal's "/gesturemap/correct")
        self._token = f"window-{next(_TOKENS)}"
        #: the engine refused it (nothing to correct): undo and redo do nothing
        self.refused = False

    def redo(self) -> None:
        if self.refused:
            return
        if self._done_once:
            self._on_retrain(f"that was {self._label} again")
            self._send("redo_correction", self._token)
        else:
            self._done_once = True
            self._send("correct", self._label, self._token)

    def undo(self) -> None:
        if not self.refused:
            self._on_retrain(f"that was {self._label} undone")
            self._send("undo_correction", self._token)
