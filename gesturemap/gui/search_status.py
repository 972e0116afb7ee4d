"""What the window says about the background model search and the stream resets."""

from __future__ import annotations

from typing import Any

#: Keys that reset the model's stream (a gesture starts): F5, and PageDown, which page-turner
#: foot pedals send.
RESET_KEYS = ("F5", "PgDown")


def search_text(search: dict[str, Any] | None, resets: dict[str, int] | None = None) -> str:
    """One or two lines: the search's state, what it chose with its CV score (and the current
    model's), and how many times the stream was reset, by cause."""
    lines = []
    if search:
        state = search.get("state")
        if state == "searching":
            lines.append(f"searching for a better model (up to {search.get('budget_s', 0):.0f} s)…")
        elif state == "failed":
            lines.append(f"model search failed: {search.get('message', '')}")
        else:
            best, current = search.get("cv_score"), search.get("current_cv_score")
            score = "no CV score" if best is None else f"CV {best:.2f}"
            if state == "swapped":
                was = "" if current is None else f", was {current:.2f}"
                lines.append(f"search chose {search.get('chosen')} ({score}{was})")
            elif state == "discarded":
                lines.append("search result discarded: "
                             + search.get("message", "the takes changed during the search"))
            else:
                lines.append(f"search kept the model ({score}): {search.get('message', '')}")
    if resets and any(resets.values()):
        lines.append("stream resets: " + ", ".join(f"{k} {v}" for k, v in resets.items() if v))
    return "\n".join(lines)
