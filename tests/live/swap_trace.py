"""What a model swap does between two frames: the streams it builds and packs."""

from __future__ import annotations

import threading
from typing import Any


def trace_swap(monkeypatch: Any, method: str) -> list[str]:
    """Patch ``Engine.<method>`` (an engine command that swaps a model in) to note, in the
    list returned, each HHMM stream built ("stream") and each stream packed for the compiled
    path ("packed") while it runs."""
    from gesturemap.live import compiled
    from gesturemap.live.engine import Engine
    from gesturemap.models.hhmm import HHMMStream

    swapping = threading.local()
    during_swap: list[str] = []

    def traced(real: Any, what: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if getattr(swapping, "on", False):
                during_swap.append(what)
            return real(*args, **kwargs)
        return call

    real_swap = getattr(Engine, method)

    def swap(self: Any, *args: Any) -> Any:
        swapping.on = True
        try:
            return real_swap(self, *args)
        finally:
            swapping.on = False

    monkeypatch.setattr(Engine, method, swap)
    monkeypatch.setattr(compiled, "_packed", traced(compiled._packed, "packed"))
    monkeypatch.setattr(HHMMStream, "__init__", traced(HHMMStream.__init__, "stream"))
    return during_swap
