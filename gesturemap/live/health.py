"""The engine's health: step and latency percentiles, the counters of ``stats()``, the
``--stats FILE`` writer (the keys a stage crew watches), and the session log's
opening.

A mixin of :class:`gesturemap.live.engine.Engine`; ``stats()`` is safe to call from any thread.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..models.interpreted import interpreting


class Percentiles:
    """A ring of the last ``n`` samples; percentiles are computed off the real-time path."""

    def __init__(self, n: int = 8192) -> None:
        self._buf = np.zeros(n)
        self._i = 0
        self._count = 0

    def add(self, value: float) -> None:
        self._buf[self._i] = value
        self._i = (self._i + 1) % len(self._buf)
        if self._count < len(self._buf):
            self._count += 1

    def get(self, q: float) -> float | None:
        if not self._count:
            return None
        return float(np.percentile(self._buf[: self._count], q))


class Health:
    """``stats()`` and the stats file (mixed into :class:`gesturemap.live.engine.Engine`)."""

    _step_us: Percentiles
    _latency_us: Percentiles
    takes_with_gaps: int
    last_take_gap: dict[str, Any] | None
    #: the engine's one test of a DTW project (what recording and switches go by too)
    _dtw_project: Any

    def stats(self) -> dict[str, Any]:
        """The health counters (safe to call from any thread)."""
        # one read of the list: the window replaces it (another sensor) from another thread
        live = list(self.sources)
        trainer = getattr(self, "trainer", None)
        sources = [s.stats.snapshot() for s in live]
        out = {
            "frames_in": self.frames_in,
            "frames_out": self.frames_out,
            # frames answered by the compiled path (engine_wire._compiled), and the others
            "frames_compiled": self.frames_compiled,
            "frames_plain": self.frames_in - self.frames_compiled,
            # the compiled path's kernel: "off", "compiling" (frames take the ordinary path
            # meanwhile), "ready", "failed"
            "compiled": self.compiled_state,
            "bad_packets": sum(s.get("bad_packets", 0) for s in sources) + self.bad_frames,
            "bad_frames": self.bad_frames,
            # regression outputs that were NaN or infinite: sent as their last number
            "nonfinite_outputs": self.path.nonfinite_outputs,
            "dropped_frames": self.queue.dropped,
            "errors": self.errors,
            "refused_commands": self.refused_commands,
            # writes of the project that failed (its folder read-only, a full disk), and the
            # outage under way (what, folder, why, since; None: all is on disk)
            "save_failures": self.save_failures,
            "not_saved": None if self.not_saved is None else dict(self.not_saved),
            # the last refusal of each command ({name: [times, why]}) and the last failed
            # retraining (None since the last good one): what the window tells the performer
            "refused": self.refused,
            "trainings_failed": self.trainings_failed,
            "rehearsals": getattr(self, "rehearsal_outcomes", {}),
            "rehearsing": getattr(self, "_rehearsal_armed", False),
            # rehearsal starts applied so far: a window tells its own from the count, not
            # from catching the engine while it records (a start and a stop can both come
            # between two of its looks)
            "rehearsals_started": getattr(self, "rehearsals_started", 0),
            "training_failed": self.training_failed,
            "times_repaired": getattr(self.project, "times_repaired", 0),
            # takes recorded while a sensor was away (kept, marked), and the last one
            "takes_with_gaps": self.takes_with_gaps,
            "last_take_gap": self.last_take_gap,
            "kernel_drops": sum(s.get("kernel_drops", 0) for s in sources),
            "control_deletions": [list(batch) for batch in self.control_deletions],
            "step_us_p50": self._step_us.get(50),
            "step_us_p99": self._step_us.get(99),
            "latency_us_p50": self._latency_us.get(50),
            "latency_us_p99": self._latency_us.get(99),
            "trainings": self.trainings,
            # the training process compiling the project's kernels (first start on a machine)
            "preparing": None if trainer is None else getattr(trainer, "preparing", None),
            "prepared_s": None if trainer is None else getattr(trainer, "prepared_s", None),
            # meanwhile: models trained, and step kernels run, by the interpreter
            "trainings_interpreted": self.trainings_interpreted,
            "interpreted_steps": list(interpreting()),
            "last_train_ms": self.last_train_ms,
            "last_train_cpu_ms": self.last_train_cpu_ms,
            "resets": dict(self.resets),
            # the session log's rows not written: a full disk, its folder removed (None: no log)
            **self._log_stats(),
            "search": None if self.search_status is None else dict(self.search_status),
            "searches_swapped": self.searches_swapped,
            "take_to_model_ms": self.last_take_to_model_ms,
            "takes": len(self.project.takes),
            # why the spotting verifier was removed at the last retraining (None: it was not)
            "verifier_removed": getattr(self.project, "verifier_removed", None),
            "detector_removed": getattr(self.project, "detector_removed", None),
            "running": self.running,
            "realtime_priority": self.realtime,
            "recording": self.recording,
            "sources": {s.name: snap for s, snap in zip(live, sources, strict=True)},
            "output_send_errors": self.output.send_errors,
            "scenes": self.scenes.stats(),
            **(self.synth.stats() if self.synth is not None else {}),
            **{k: v for sink in self.sinks for k, v in sink.stats().items()},
            "time": time.time(),
        }
        return out

    def _log_stats(self) -> dict[str, Any]:
        log = self.session_log
        if log is None:
            return {"log_rows_lost": None, "log_rows_dropped": None, "log_write_errors": None}
        counts = log.stats()
        return {"log_rows_lost": sum(counts["lost"].values()),
                "log_rows_dropped": sum(counts["dropped"].values()),
                "log_write_errors": counts["write_errors"]}

    def _write_stats(self) -> None:
        if self._stats_file is None:
            return
        import json

        from ..utils.storage import atomic_write_text

        try:
            atomic_write_text(self._stats_file, json.dumps(self.stats(), indent=1))
        except Exception as exc:
            self._count_error(exc, "stats")

    def _stats_loop(self) -> None:
        while not self._stop.wait(1.0):
            self._write_stats()
            self._retry_if_due()

    def _open_log(self, handover: bool = False) -> None:
        """Open the session log. ``handover``: on the I/O thread of a running engine (a new
        project learned its input size from its first frame): the engine thread takes the
        log between two frames, writing first what it held for it meanwhile."""
        from ..log import SessionLog
        from .frame_path import channel_names

        in_names = channel_names(self.project, self.project.input_dim or 0)
        labels = list(getattr(self.model, "labels_", None) or self.project.classes or [])
        streams = {"input": in_names}
        if labels:  # a project with no classes yet logs labels and events only
            streams["likelihoods"] = [str(lb) for lb in labels]
            if self._dtw_project():
                # what DTW's /wek/outputs sends: a researcher's record of the run holds it
                streams["distances"] = [str(lb) for lb in labels]
        if self._is_regression():
            streams["output"] = list(self.project.output_names)
        # the pipeline's output, as the model sees it (a project with no stage: the input)
        self._logged_features = 0
        pipeline = self.project.pipeline
        if pipeline.stages:
            try:
                streams["features"] = list(pipeline.output_names(len(in_names), in_names))
                self._logged_features = len(streams["features"])
            except GesturemapError:  # a stage not fitted yet: its features cannot be named
                pass
        # which project played: `gesturemap replay LOG` replays through it unless told another
        # (and its id, which a move of its folder keeps: a replay through the folder moved is
        # still a replay through the project that played, its logged thresholds its own)
        meta = {} if self.project_dir is None else {"project": str(self.project_dir.resolve()),
                                                    "project_uid": self.project.uid}
        # t0=0: the files hold the engine's own clock, so a replay feeds the pipeline the very
        # same times
        # opened late (a new project, at its first frame): the session began with that frame,
        # held for the log meanwhile, so that log_start(DIR) is no later than its first row
        first = self._log_first_t if handover else None
        log = SessionLog(self._log_dir, streams, t0=0.0, start=first, meta=meta)
        if handover:
            self.command("_log_opened", log, labels)
        else:
            self._use_log(log, labels)

    #: whether the session log has a DTW project's distances stream (its columns the labels')
    _log_distances = False

    def _use_log(self, log: Any, labels: list[Any]) -> None:
        self.session_log = log
        self._logged_labels = [str(lb) for lb in labels]
        self._log_likelihoods = self._labels == self._logged_labels
        self._log_distances = "distances" in log.streams

    #: rows (input frames, events) held for a session log still opening; beyond, counted
    LOG_BACKLOG = 20_000

    def _hold_for_log(self, row: tuple[Any, ...]) -> None:
        """Hold a row for the session log being opened (engine thread only; there is
        one: ``_log_backlog`` is a list)."""
        backlog = self._log_backlog
        if len(backlog) < self.LOG_BACKLOG:
            backlog.append(row)
            self._log_backlog_inputs += row[0] == "input"
        elif row[0] == "input":
            self._log_backlog_missed += 1

    def _cmd__log_opened(self, log: Any, labels: list[Any]) -> None:
        """The log opened on the I/O thread: the rows held for it first, then it is the
        engine's (its frames before this one are in it, in order)."""
        backlog, self._log_backlog = self._log_backlog or [], None
        for row in backlog:
            if row[0] == "input":
                log.write("input", row[1], row[2])
            elif row[0] == "label":
                log.label(row[1], row[2])
            else:
                log.event(row[1], row[2], **row[3])
        log.drop("input", self._log_backlog_missed)
        self._use_log(log, labels)
