"""The engine's background search (``gm.auto`` after each retrain, when the project asks).

A mixin of :class:`gesturemap.live.engine.Engine`. The search runs in a trainer process of its own
(one core, nicer than a retrain), fed by a thread of its own; its winner comes back as a
command and is swapped in between two frames only when it beats the current model's CV score
by the project's margin, and only when what it was trained on is still the project's (takes,
labels, outputs, feature pipeline, model settings: :func:`search_basis`).
"""

from __future__ import annotations

import copy
import queue as queue_mod
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import GesturemapError
from .compiled import ready_stream


def search_basis(project: Any) -> tuple[Any, ...]:
    """What a search of ``project`` trains on, to tell later whether its winner is still the
    project's: the takes (each a frozen :class:`~gesturemap.project.takes.Take`: a relabelled
    take, or new outputs or names, is a new object, compared by identity), the feature
    pipeline's settings, the model settings (run-time ones included: the winner carries them)
    and the input and output names."""
    return (tuple(project.takes), project.pipeline.to_dict(), copy.deepcopy(project.model),
            project.input_names, project.output_names)


#: What each part of :func:`search_basis` is, for the message of a discarded search.
_BASIS_PARTS = ("the takes", "the feature pipeline", "the model settings", "the input names",
                "the output names")


def _changed(before: tuple[Any, ...], now: tuple[Any, ...]) -> list[str]:
    """The parts of a project that changed between two :func:`search_basis`."""
    return [part for part, a, b in zip(_BASIS_PARTS, before, now, strict=True) if a != b]


class BackgroundSearch:
    """The search's commands and plumbing (mixed into :class:`gesturemap.live.engine.Engine`)."""

    project: Any
    searcher: Any
    search_status: dict[str, Any] | None
    #: what the running search trains on (:func:`search_basis`), None when none runs
    _search_basis: tuple[Any, ...] | None = None

    def _search_settings(self) -> dict[str, float] | None:
        from .trainer import auto_settings

        settings = getattr(self.project, "model", None)
        try:
            return auto_settings(settings if isinstance(settings, dict) else None)
        except GesturemapError as exc:
            self._count_error(exc, "search settings")
            return None

    def _ensure_searcher(self) -> Any:
        if self.searcher is None:
            from .trainer import Trainer

            # one core at most, and nicer than a retrain: the quick model comes first
            self.searcher = Trainer(self._trainer_mode, n_jobs=1, nice=10)
            self.searcher.start_worker()
            self.background_threads([getattr(self.searcher, "_reader", None)])
        return self.searcher

    def _cmd_search(self) -> None:
        """Search a family and settings for the project now (``gesturemap train --auto`` does
        it offline); the winner is swapped in when better by the margin."""
        self._start_search()

    def _start_search(self) -> None:
        from ..project.settings import DEFAULT_SEARCH

        settings = self._search_settings() or dict(DEFAULT_SEARCH)
        self._cancel_search()
        if not self.project.takes:
            return
        # taken here, on the engine thread, before the search's own thread packs the project:
        # whatever changes after this is caught when the winner comes back
        basis = search_basis(self.project)
        self._search_basis = basis
        self.search_status = {"state": "searching", "budget_s": settings["budget_s"],
                              "margin": settings["margin"], "started": time.time()}

        def done(j: Any) -> None:  # the searcher's thread: the winner's stream made here
            j.stream = ready_stream(j)
            self.command("_searched", j, basis, settings["margin"])

        def send() -> None:
            try:
                self._search_job = self._ensure_searcher().search_project(
                    self.project, settings["budget_s"], on_done=done)
            except Exception as exc:
                self._count_error(exc, "search")
                if self._search_basis is basis:
                    self._search_basis = None
                self.search_status = {"state": "failed", "message": str(exc)}

        self._search_io(send)

    def _search_io(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the search's own thread, in order. Never the I/O thread: sending a
        project to the search process (nice 10) may wait until that busy process reads it, and
        a retrain's job must not queue behind it; never the engine thread either."""
        if self._search_queue is None:
            self._search_queue = queue_mod.Queue()
            q = self._search_queue

            def loop() -> None:
                while True:
                    item = q.get()
                    if item is None:
                        return
                    try:
                        item()
                    except Exception as exc:
                        self._count_error(exc, "search")

            thread = threading.Thread(target=loop, name="gesturemap-search", daemon=True)
            thread.start()
            self.background_threads([thread])
        self._search_queue.put(job)

    def _cancel_search(self) -> None:
        self._search_basis = None
        if self._search_job is not None or self._search_queue is not None:
            # read on the search's thread: a job being sent becomes _search_job there
            self._search_io(lambda: self._search_job is not None and self._search_job.cancel())

    def _drop_outdated_search(self) -> None:
        """After each command: a search whose project has changed since it began (a take
        relabelled, removed or added, other settings) could never be swapped in; it is
        cancelled now, freeing its core, rather than discarded when it ends. Compares only
        while a search runs."""
        basis = self._search_basis
        if basis is None:
            return
        changed = _changed(basis, search_basis(self.project))
        if changed:
            self._cancel_search()
            self.search_status = {"state": "discarded",
                                  "message": f"{' and '.join(changed)} changed during the "
                                             "search; it was stopped"}

    def _cmd__searched(self, job: Any, basis: tuple[Any, ...], margin: float) -> None:
        if basis is self._search_basis:
            self._search_basis = None
        if job.cancelled:
            return
        try:
            winner = job.result(timeout=0)
        except Exception as exc:
            self.search_status = {"state": "failed", "message": str(exc)}
            self._count_error(exc, "search")
            return
        from ..models.search import selection_of
        from .trainer import search_verdict

        sel = selection_of(winner) or {}
        cands = sel.get("candidates") or []
        current = cands[0].get("cv_score") if cands else None
        best = sel.get("cv_score")
        status: dict[str, Any] = {
            "state": "kept", "chosen": sel.get("chosen_name"), "model": sel.get("model"),
            "cv_score": best, "current_cv_score": current, "cv": sel.get("cv"),
            "reason": sel.get("reason"), "tried": len(cands),
            "elapsed_s": sel.get("elapsed_s"), "margin": margin}
        changed = _changed(basis, search_basis(self.project))
        why = search_verdict(sel, margin)
        if changed:
            status.update(state="discarded",
                          message=f"{' and '.join(changed)} changed during the search")
        elif why is not None:
            status["message"] = why
        else:
            if job.pipeline is not None:
                self.project.pipeline = job.pipeline
            self.project.check_verifier(winner)  # one over another family: removed, said
            self._set_model(winner, ready=getattr(job, "stream", None))
            self._start_pipeline(self.project.input_dim)
            self.searches_swapped += 1
            status["state"] = "swapped"
            self._log_event("searched", chosen=str(sel.get("chosen_name")), cv=best)
            self._autosave()
        self.search_status = status
