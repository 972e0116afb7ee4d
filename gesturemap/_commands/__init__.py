"""Parts of the ``gesturemap`` command line (:mod:`gesturemap.cli`), by command."""


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 take", "3 takes", "0 scenes")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
