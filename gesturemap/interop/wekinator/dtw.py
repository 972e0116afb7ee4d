"""A Wekinator DTW project's settings (``current/models/model1.xml``) and what they become.

Wekinator's ``DtwModel`` (read for its meaning; nothing of it is run or copied) holds, beside
its examples:

- ``isGestureActive``: per gesture, on or off. A gesture switched off is left out of the
  search: it never matches and its distance stays at ``Double.MAX_VALUE``. Here: the DTW
  model's ``inactive`` (its takes are kept, not used as templates; its distance on
  ``/wek/outputs`` is +inf, as for a gesture without examples).
- ``selectedInputs`` (and the distance function's ``inputMask``): the inputs the distance
  uses. Here: ``ignore_channels``, the inputs left out.
- ``settings/runningType``: ``LABEL_CONTINUOUSLY`` searches, at every new frame, the recent
  frames for a gesture that may start anywhere (here: ``decision="decaying"``, open-begin
  matching); ``LABEL_ONCE_PER_RECORD`` compares the whole run (from start to stop running)
  once, at stop, and names the nearest active gesture whatever the threshold (here:
  ``decision="cumulative"``: matches start when running starts; the gesture's message is
  sent while running, once under the threshold).
- ``matchThreshold``: a match while the nearest distance is below it. Wekinator's distance
  is FastDTW's sum of Euclidean frame distances on the raw, downsampled inputs; gesturemap's
  is exact DTW of squared distances on standardised inputs, per template frame. The two
  scales have nothing in common: the threshold is not copied; gesturemap learns its own from
  the takes (``threshold`` 0).
- ``settings/minimumLengthRestriction``, ``minAllowedGestureLength``: the shortest stretch of
  the stream compared (in downsampled frames; or the shortest example). gesturemap's
  open-begin search has no minimum match length: not carried over.
- ``settings/downsamplePolicy``, ``downsampleMaxLength``, ``downsampleFactor``: examples and
  the stream keep one frame in N (to the longest example at most ``downsampleMaxLength``
  frames, or by a constant N), to keep FastDTW affordable. gesturemap compares every frame
  exactly: not carried over (``decimate`` N would be its own speed trade).
- ``settings/matchWidth`` (FastDTW's search radius, an approximation of exact DTW) and
  ``hopSizeForContinuousSearch`` (the start frames tried: every Nth): gesturemap computes
  exact DTW from every start frame, what both approach at their best.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

__all__ = ["dtw_model", "dtw_settings"]


def _float(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and value == value and abs(value) != float("inf") \
        else None


def _flags(root: ET.Element, path: str) -> list[bool]:
    return [(b.text or "").strip() == "true" for b in root.findall(path)]


def dtw_settings(root: ET.Element) -> dict[str, Any]:
    """The settings of a parsed DTW ``model1.xml`` (``<DtwModel>``), not its data: the keys
    ``match_threshold``, ``max_distance`` (floats), ``gesture_active``, ``selected_inputs``
    (lists of bools) where the file has them, and each ``<settings>`` child by its tag."""
    out: dict[str, Any] = {}
    for key, tag in (("match_threshold", "matchThreshold"), ("max_distance", "maxDistance")):
        value = _float(root.findtext(tag))
        if value is not None:
            out[key] = value
    settings = root.find("settings")
    if settings is not None:
        for child in settings:
            out[child.tag] = (child.text or "").strip()
    for key, path in (("gesture_active", "isGestureActive/boolean"),
                      ("selected_inputs", "selectedInputs/boolean")):
        flags = _flags(root, path)
        if flags:
            out[key] = flags
    if "selected_inputs" not in out:
        mask = _flags(root, "distanceFunction/inputMask/boolean")
        if mask:
            out["selected_inputs"] = mask
    return out


def _int(settings: dict[str, Any], key: str, default: int) -> int:
    try:
        return max(1, int(float(settings.get(key, default))))
    except (TypeError, ValueError):
        return default


def _downsampling(s: dict[str, Any], lengths: list[int]) -> tuple[int, str]:
    """Wekinator's downsampling factor for examples of ``lengths`` frames, and its words."""
    policy = s.get("downsamplePolicy", "DOWNSAMPLE_TO_MAX_LENGTH")
    if policy == "NO_DOWNSAMPLING":
        return 1, ""
    if policy == "DOWNSAMPLE_BY_CONSTANT_FACTOR":
        factor = _int(s, "downsampleFactor", 5)
        return factor, f"downsampling by {factor}"
    most = _int(s, "downsampleMaxLength", 10)
    factor = max(1, max(lengths, default=0) // most)
    kept = f"1 frame in {factor}" if factor > 1 else "no frame dropped with these examples"
    return factor, f"downsampling to at most {most} frames per example ({kept})"


def dtw_model(s: dict[str, Any], labels: list[Any], lengths: list[int],
              input_names: list[str]) -> tuple[dict[str, Any], list[str], list[str]]:
    """The DTW model a Wekinator DTW project's settings ``s`` (:func:`dtw_settings`) become,
    for gestures ``labels`` (1, 2, ...), examples of ``lengths`` frames and the project's
    inputs. Returns ``(spec, carried, not_carried)``: the model ``{"kind", "params"}``, what
    each setting became, and the settings not carried over with the reason."""
    # Wekinator compares every frame of a continuous stream with distances that carry from
    # frame to frame: global standardisation, per template frame, not gesturemap's choice
    # among normalisations (whose z-normalised windows are matched afresh at every frame)
    params: dict[str, Any] = {"normalization": "global", "per_frame_distance": True}
    carried: list[str] = ["distance -> DTW on globally standardised inputs, per template "
                          "frame (normalization global, not chosen from the takes)"]
    dropped: list[str] = []
    once = s.get("runningType") == "LABEL_ONCE_PER_RECORD"
    params["decision"] = "cumulative" if once else "decaying"
    if once:
        carried.append("running type 'label once per record' -> decision cumulative (matches "
                       "start when running starts; the gesture's message is sent while "
                       "running once under the threshold, where Wekinator names the nearest "
                       "gesture once, at stop, whatever the threshold)")
    else:
        carried.append("running type 'label continuously' -> decision decaying (a match may "
                       "start at any frame)")
    active = list(s.get("gesture_active") or [])
    off = [lb for lb, on in zip(labels, active, strict=False) if not on]
    if off:
        params["inactive"] = off
        carried.append(f"gesture{'s' if len(off) > 1 else ''} {', '.join(map(str, off))} "
                       "switched off -> inactive (takes kept, never matched)")
    selected = list(s.get("selected_inputs") or [])
    unused = [i for i, on in enumerate(selected[:len(input_names)]) if not on]
    if unused and len(unused) < len(input_names):
        params["ignore_channels"] = unused
        carried.append(f"input{'s' if len(unused) > 1 else ''} "
                       f"{', '.join(input_names[i] for i in unused)} not used -> "
                       "ignore_channels")
    elif unused:
        dropped.append("no input selected (every input used)")
    if "match_threshold" in s:
        dropped.append(f"match threshold {s['match_threshold']:g} (Wekinator's FastDTW "
                       "distance on raw, downsampled inputs; gesturemap's distances are per "
                       "template frame on standardised inputs, another scale: its threshold "
                       "is learned from the takes, set the model's threshold to change it)")
    factor, words = _downsampling(s, lengths)
    if "minimumLengthRestriction" in s or "minAllowedGestureLength" in s:
        if s.get("minimumLengthRestriction") == "SET_FROM_EXAMPLES":
            what = "the shortest example's length"
        else:
            n = _int(s, "minAllowedGestureLength", 5)
            what = f"{n} frames" + (f" ({n * factor} before downsampling)" if factor > 1
                                    else "")
        dropped.append(f"minimum gesture length {what} (gesturemap's matching has no minimum "
                       "length)")
    if words:
        trade = f"; decimate {factor} would be its own" if factor > 1 else ""
        dropped.append(f"{words} (Wekinator's speed trade for FastDTW; gesturemap compares "
                       f"every frame exactly{trade})")
    if "matchWidth" in s or "hopSizeForContinuousSearch" in s:
        dropped.append(f"match width {s.get('matchWidth', '?')} and hop size "
                       f"{s.get('hopSizeForContinuousSearch', '?')} (FastDTW's radius and the "
                       "start frames tried: gesturemap computes exact DTW from every frame)")
    return {"kind": "dtw", "params": params}, carried, dropped
