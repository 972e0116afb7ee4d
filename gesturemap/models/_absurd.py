"""Absurd frames: a corrupted value, not a movement.

A frame is absurd when one of its inputs lies further from the templates' mean posture than
:data:`ABSURD_REACHES` times the templates' reach, or is not a number. The models that follow a
stream against templates (GVF: the particles, the fitted sums, the alignments, the warp and the
recognizer; DTW's stream) skip such a frame as if it had not come, so one corrupted packet
cannot lose their estimates. Shared here so that every model uses the same bound.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: A frame is absurd when one of its inputs lies further from the templates' mean posture than
#: this many times the templates' reach (:func:`absurd_limit`). A trained gesture performed even
#: 20 times bigger (GVF's largest scale, ``_gvf_kernels.FACTOR_MAX``), from any posture the
#: templates pass through, stays within about 40 reaches, so 1,000 leaves
#: a margin of 25 for postures no take showed; and any frame that passes (at most 1e3 reaches
#: per input) gives squares and sums far from a float's overflow.
ABSURD_REACHES = 1000.0


def absurd_limit(postures: np.ndarray,
                 templates: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The templates' mean posture (D,) (the mean of ``postures`` (T, D), every template
    frame's mean posture) and the distance from it, on any input, beyond which a frame is
    absurd: :data:`ABSURD_REACHES` times the templates' reach, the farthest any template
    frame's posture lies from that mean, or any template frame from its template's start
    (``templates``, relative to their starts, if given), on any input (at least 1e-12)."""
    center = postures.mean(axis=0)
    reach = max(float(np.abs(postures - center).max(initial=0.0)),
                0.0 if templates is None else float(np.abs(templates).max(initial=0.0)),
                1e-12)
    return np.ascontiguousarray(center), ABSURD_REACHES * reach


@njit(cache=True, nogil=True)
def is_absurd(z, center, limit):
    """True when an input of the frame ``z`` lies further than ``limit`` from ``center``, or
    is not a number (:func:`absurd_limit`)."""
    for i in range(z.shape[0]):
        if not abs(z[i] - center[i]) <= limit:
            return True
    return False
