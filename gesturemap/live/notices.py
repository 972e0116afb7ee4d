"""What the engine tells the performer when it says no: a command refused (a take the model
could not train on, a control message's bad index...) and a retraining that failed.

Each is said three ways at once, so that whoever is listening hears it: the log (at a limited
rate), ``stats()`` (``refused``, ``training_failed``: what the window shows) and an OSC message
on the output port (``/gesturemap/refused COMMAND WHY``, ``/gesturemap/training_failed WHY``;
addresses ``refused`` and ``training_failed`` of the output settings, ``None`` turns one off).
A failed retraining leaves the last good model playing.

A mixin of :class:`gesturemap.live.engine.Engine`; its methods run on the engine thread.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import GesturemapError
from ..utils.faults import raise_mode

#: OSC notices sent at most this often (per second): a flood of bad control messages must not
#: become a flood out.
NOTICES_PER_S = 20


class Notices:
    """Refusals and failed trainings (mixed into :class:`gesturemap.live.engine.Engine`)."""

    output: Any
    project: Any
    _errlog: Any
    _log_event: Any
    refused_commands: int
    running: bool
    model: Any
    command: Any
    errors: int
    exception: BaseException | None

    def _init_notices(self) -> None:
        #: refused commands by name: [times refused, why the last time] (replaced whole,
        #: never changed in place: stats() reads it on another thread)
        self.refused: dict[str, list[Any]] = {}
        #: failed retrainings so far, and why the last one failed (None: none failed)
        self.trainings_failed = 0
        self.training_failed: str | None = None
        self._notice_window = (0.0, 0)  # (second it counts, notices sent in it)

    def _refuse(self, name: str, exc: GesturemapError, notice: bool = True) -> None:
        """A command refused as it stands: the sender's mistake, not a fault of gesturemap
        (not in ``errors``), said in the log, in ``stats()["refused"]`` and (``notice``) over
        OSC."""
        self.refused_commands += 1
        count = int(self.refused.get(name, [0, ""])[0]) + 1
        self.refused = {**self.refused, name: [count, str(exc)]}
        self._errlog(f"refused {name}", "command %s refused: %s", name, exc)
        if notice:
            self._notice("refused", name, str(exc))

    def _training_failed(self, exc: BaseException) -> None:
        """A retraining that did not give a model: the running one stays; a project the model
        cannot train on (a :class:`GesturemapError`) is refused, anything else is an error."""
        self.trainings_failed += 1
        self.training_failed = f"{exc}"
        if isinstance(exc, GesturemapError):
            self._refuse("train", exc, notice=False)
        else:
            self._count_error(exc, "training")
        self._log_event("training_failed", reason=self.training_failed)
        self._notice("training_failed", self.training_failed)

    def _retrain_lost_model(self) -> None:
        """A project whose saved model could not be read opened untrained with its takes:
        retrain it at once, and run the new model when it comes (said in the log)."""
        problem = getattr(self.project, "model_problem", None)
        if problem is None or self.model is not None or not self.project.takes:
            return
        self._errlog("lost model", "%s", problem)
        self.running = True  # the retrained model answers as soon as it is swapped in
        self.command("train")

    def _note_left_out(self, model: Any) -> None:
        """A class the training set left out (its takes too short for the model's settings,
        saved before such takes were refused) is said with the model's training warnings,
        in the log and over OSC: the model plays without it."""
        from ..models.spotting.core import NULL
        from ..project.training import left_out_note

        project = self.project
        if project.output_names or (project.model or {}).get("kind") == "per_output":
            return  # its take labels are no classes of the model
        labels = set(getattr(model, "labels_", None) or [])
        missing = sorted({t.label for t in project.takes} - labels - {NULL}, key=str)
        if not missing or not labels:
            return
        text = (f"class(es) {', '.join(map(repr, missing))} left out of training: their takes "
                "are too short for the model's settings (record longer takes, or delete "
                "them)")
        info = getattr(model, "training_info_", None)
        if isinstance(info, dict):
            said = [str(w) for w in info.get("warnings") or []]
            # the training's own warning says why, class by class: not said twice
            if not all(any(left_out_note(c) in w for w in said) for c in missing):
                info["warnings"] = [*said, text]
        self._errlog("left out", "%s", text)
        self._notice("refused", "train", text)

    def _count_error(self, exc: BaseException, where: str) -> None:
        """A fault of gesturemap's own (not the sender's): counted in ``errors``, logged at a
        limited rate; kept to be raised at stop in the tests' raise mode."""
        self.errors += 1
        self._errlog(where, "%s: %s", where, exc)
        if raise_mode() and not isinstance(exc, GesturemapError):
            self.exception = exc

    def _notice(self, key: str, *texts: str) -> None:
        """Send a notice over OSC, unless turned off or over :data:`NOTICES_PER_S`."""
        second = int(time.monotonic())
        at, sent = self._notice_window
        if at != second:
            at, sent = second, 0
        if sent >= NOTICES_PER_S:
            return
        self._notice_window = (at, sent + 1)
        self.output.send_texts(key, *texts)
