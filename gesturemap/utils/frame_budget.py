"""What one frame costs a trained model, measured once after its training, and a warning when
that is more than a fast sensor leaves between two frames.

The model forms and the API accept sizes up to generous bounds (:mod:`gesturemap.models.limits`:
200,000 GVF particles, a kNN over every frame of hours): such a model trains, then takes
longer per frame than the frames come, and the engine falls behind the performer on stage. The trainer measures a few steps
of a fresh stream on a frame between two takes (:func:`note_frame_cost`: well under a second, in the
trainer, never on the frame path), keeps the median in ``training_info_["step_ms"]`` and, above
:data:`FRAME_BUDGET_S`, adds a warning to ``training_info_["warnings"]``, which the window
shows under the training status and ``gesturemap train`` prints.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

#: A frame's cost above this is warned about: the time between two frames at 200 frames/s,
#: the rate of the OSC sensors the performance budgets are set for (docs/performance.md).
FRAME_BUDGET_S = 0.005
#: The most timed steps, and the most time spent timing them (a step of 100 ms is timed
#: twice, not 7 times).
ROUNDS = 7
MEASURE_S = 0.25
#: What makes a frame cheaper, per model kind (None: the others). GVF's alignments cost most
#: with many inputs: at 20 gestures x 60 inputs (experiments/gvf_step_particles.py) its step
#: took 8.7 ms with 4 templates per class, 3.5 ms with 1, 1.9 ms with the particles' own
#: speed and scale, and 7.1 ms with a quarter of the particles.
ADVICE = {
    "gvf": "for GVF fewer templates per class (templates__per_class), the speed and scale "
           "\"sampled\" (estimates__speed and estimates__scale: no alignments), or fewer "
           "particles",
    None: "fewer states, Gaussians, templates or stored examples",
}


def step_seconds(model: Any, frame: np.ndarray, rounds: int = ROUNDS,
                 max_seconds: float = MEASURE_S) -> float:
    """The median time of ``model.stream().step(frame)``, after one untimed step (first-call
    compilation, buffers): at most ``rounds`` steps, and none started after ``max_seconds``."""
    stream = model.stream()
    stream.step(frame)
    times = []
    stop = time.perf_counter() + max_seconds
    for _ in range(max(1, int(rounds))):
        t0 = time.perf_counter()
        stream.step(frame)
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if t1 > stop:
            break
    return float(np.median(times))


def _probe_frame(dataset: Any) -> np.ndarray | None:
    """The frame to time: halfway between the middle frames of the first take and of the
    first take of another class (of the first take's quarter and three-quarter frames when
    there is no other class). Not a training frame: a model that searches its stored frames
    (kNN's early abandoning) answers one of those at once, and at 20 gestures x 60 channels
    a kNN timed on its first training frame showed a third of what a live frame costs it."""
    takes = [(take.label, np.asarray(take.inputs, dtype=float)) for take in dataset]
    takes = [(label, x) for label, x in takes if x.ndim == 2 and len(x)]
    if not takes:
        return None
    label, x = takes[0]
    other = next((y for lb, y in takes[1:] if lb != label), None)
    if other is None:
        return 0.5 * (x[len(x) // 4] + x[(3 * len(x)) // 4])
    return 0.5 * (x[len(x) // 2] + other[len(other) // 2])


def _interpreted() -> bool:
    """Whether numba runs its kernels as Python in this process (the interpreted worker of a
    first start): a step timed here says nothing of the compiled step the engine will run."""
    from numba.core import config

    return bool(config.DISABLE_JIT)


def note_frame_cost(model: Any, dataset: Any, budget_s: float = FRAME_BUDGET_S) -> str | None:
    """Time a trained ``model``'s step on a frame among ``dataset``'s takes
    (:func:`_probe_frame`, with :func:`step_seconds`); a dataset whose frames come faster
    (``dataset.frame_rate_hz``, a project's Resample rate) gives a frame ``1 / rate`` instead;
    keep it in ``training_info_["step_ms"]`` and, above ``budget_s``, add the warning to
    ``training_info_["warnings"]`` and say it with ``warnings.warn``. Returns the warning,
    or None. A model that cannot be timed (no frame, a step that fails) is left as it is: the
    measurement never fails a training, and a model trained interpreted is not timed."""
    frame = _probe_frame(dataset)
    if frame is None or _interpreted():
        return None
    try:
        cost = step_seconds(model, frame)
    except Exception:  # the measurement must not lose a trained model
        return None
    info = getattr(model, "training_info_", None)
    if not isinstance(info, dict):
        info = {}
        model.training_info_ = info
    info["step_ms"] = cost * 1e3
    rate = getattr(dataset, "frame_rate_hz", None)
    resampled = isinstance(rate, (int, float)) and rate > 0 and 1.0 / rate < budget_s
    if resampled:  # the pipeline's Resample: a model step per frame at that rate
        budget_s = 1.0 / rate
    if cost <= budget_s:
        return None
    note = (f"one frame costs {cost * 1e3:.1f} ms with these settings, more than the "
            f"{budget_s * 1e3:.3g} ms between frames at {1 / budget_s:.0f} frames/s"
            + (" (the pipeline's Resample rate)" if resampled else "")
            + ": the engine will fall behind. Make the model smaller "
            f"({ADVICE.get(getattr(model, 'kind', None), ADVICE[None])}) or "
            + ("lower the Resample rate." if resampled else "slow the sensor down."))
    notes = info.get("warnings")
    info["warnings"] = [*notes, note] if isinstance(notes, list) else [note]
    warnings.warn(note, stacklevel=2)
    return note
