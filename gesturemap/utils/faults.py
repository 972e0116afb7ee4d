"""What every layer does when something goes wrong on the real-time path.

Nothing on that path raises: a fault is counted, logged at most once a second per kind
(:class:`RateLimitedLog`), and the frame, packet or block is skipped. With the environment
variable ``GESTUREMAP_RAISE=1`` (the tests set it) an unexpected exception is kept and raised
again when the part stops (:func:`raise_mode`), so a bug cannot hide behind the counters.

Sources, outputs, the session log, the synth and the engine all import this module; it imports
nothing of gesturemap's.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

__all__ = ["RateLimitedLog", "raise_mode"]


class RateLimitedLog:
    """Log at most one message per second for each kind of trouble.

    A sensor sending garbage at 1 kHz must not write a thousand lines a second; the message
    that does get through says how many like it were held back.

    Parameters
    ----------
    logger : logging.Logger
    interval_s : float, default 1.0
        The shortest time between two messages of the same kind.
    """

    __slots__ = ("_held", "_last", "interval_s", "logger")

    def __init__(self, logger: logging.Logger, interval_s: float = 1.0) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(
        self,
        kind: str,
        message: str,
        *args: Any,
        level: int = logging.WARNING,
        exc_info: Any = None,
    ) -> bool:
        """Log ``message % args`` unless a message of this ``kind`` went out less than a second ago.

        Returns
        -------
        bool
            Whether the message was logged.
        """
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval_s:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        if held:
            message += " (and %d more like this since the last message)"
            args = (*args, held)
        self.logger.log(level, message, *args, exc_info=exc_info)
        return True


def raise_mode() -> bool:
    """Whether ``GESTUREMAP_RAISE=1``: unexpected errors end the thread instead of being skipped."""
    return os.environ.get("GESTUREMAP_RAISE", "") == "1"
