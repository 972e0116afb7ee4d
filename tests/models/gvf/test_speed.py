"""How GVF reads a class's speed (``estimates.speed``): the particles' own (``"sampled"``) as it
always did, and the choices that were removed refused in code, saying why."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError

from .test_core import _check_old_file_runs_as, _replay, _shapes_dataset, assert_as_recorded

#: frame: (label index, log-likelihoods, speeds, scales (C * D)) of ``GVF(300,
#: random_state=2)`` (its defaults then: recognizer 0.5, fitted scale) on the shapes,
#: streaming a wave x1.3 x1.2 then a circle x0.8 x0.9, from the code before estimates.speed
#: (commit 03235b2, run from a ``git archive`` of it)
BEFORE = {
    0: (1, [-123.41865144811958, 1.322054056385752, -1.1104802180128452],
        [1.1563624220649524, 1.0555294372181239, 1.0903983502660064],
        [0.9130176955957129, 0.754600755137941, 1.059320179761744, 1.0837174038675719,
         0.8145194083414168, 0.6073650536566154]),
    40: (2, [-651.3229287689965, -1839.8168469963366, -26.82415333264056],
         [0.5554712412823468, 1.1375924663671395, 1.1092729705971396],
         [0.04889059943959314, 0.10712655764160263, 1.3644337879395811, 1.3966026092450925,
          1.2599937225201256, 1.001225949703155]),
    76: (2, [-1058.134112503114, -4755.211469073336, -163.0387070590175],
         [0.5338340732694167, 0.7555882907164299, 1.5432263605142074],
         [0.04889059943959322, 0.05007359021571969, 1.7560050067271777, 0.04870504130425953,
          1.243016017692453, 1.0133987385127072]),
}


def _stream_x():
    return np.vstack([_replay("wave", 1.3, 1.2), _replay("circle", 0.8, 0.9)])


def test_sampled_is_the_stream_before():
    # (the recognizer as it was then: w 0.5, "decaying"; 18h's defaults differ)
    # (and the scale as it was then)
    model = gm.GVF(300, random_state=2,
                   recognizer=gm.GVF.Recognizer(weight=0.5, decision="decaying", states=5, gate=0.0),
                   estimates=gm.GVF.Estimates(speed="sampled", scale="fitted")).fit(_shapes_dataset())
    res = model.stream().run(_stream_x())
    for j, (label, log, speed, scale) in BEFORE.items():
        assert res[j].label_index == label
        assert_as_recorded(res[j].log_likelihoods, log)
        assert_as_recorded(res[j].speed, speed)
        assert_as_recorded(res[j].scale.ravel(), scale)
    # a file saved before the setting loads as "sampled" and runs exactly as before
    _check_old_file_runs_as(model, ("estimates__speed",), list(model.dump()[1]))


def _hapt(datasets_dir):
    z = np.load(datasets_dir / "HAPTTransitions" / "HAPT_transitions_train.npz")
    takes = [x[::2].astype(np.float64)
             for x in np.split(z["X_concat"], np.cumsum(z["lengths"])[:-1])]
    return takes, z["y"].astype(str), z["subject"]


def _hapt_replay(x, speed, scale):
    n = max(2, int(round(len(x) / speed)))
    t = np.linspace(0, len(x) - 1, n)
    y = np.stack([np.interp(t, np.arange(len(x)), x[:, j]) for j in range(x.shape[1])], 1)
    return y[0] + scale * (y - y[0])


def test_bad_speed_settings_are_named():
    ds = _shapes_dataset()
    for bad in ("warped", 1, None):
        with pytest.raises(GesturemapError, match="estimates__speed"):
            gm.GVF(100, estimates=gm.GVF.Estimates(speed=bad)).fit(ds)
    model = gm.GVF(100).fit(ds)
    with pytest.raises(GesturemapError, match="estimates__speed"):
        model.set_params(estimates__speed="fast")
    for bad in (0.5, -1.0, "long", float("nan")):
        with pytest.raises(GesturemapError, match="estimates__speed_window"):
            gm.GVF(100, estimates=gm.GVF.Estimates(speed_window=bad)).fit(ds)


@pytest.mark.parametrize(("field", "value", "instead"), [
    ("speed", "warp", "align_open"), ("speed", "warp_rescaled", "align_open"),
    ("speed", "align_anchor", "align_open"), ("scale", "warp_fitted", "align")])
def test_removed_estimates_are_refused_in_code_saying_why(field, value, instead):
    # (a saved file holding one loads with the default: test_params)
    for make in (lambda: gm.GVF.Estimates(**{field: value}),
                 lambda: gm.GVF(**{f"estimates__{field}": value}),
                 lambda: gm.GVF().set_params(**{f"estimates__{field}": value})):
        with pytest.raises(GesturemapError, match=f"{value}' was removed .*cross-validation"
                                                  f".*use '{instead}'"):
            make()


def test_the_time_warps_states_are_left_out_in_code_with_a_warning():
    for given in ({"estimates__speed_states": 10}, {"speed_states": 3},
                  {"estimates": {"speed_states": 0, "scale_window": 50.0}}):
        with pytest.warns(DeprecationWarning, match="speed_states' was removed"):
            model = gm.GVF(**given)
        assert model.estimates == gm.GVF.Estimates(
            scale_window=given.get("estimates", {}).get("scale_window", 100.0))
