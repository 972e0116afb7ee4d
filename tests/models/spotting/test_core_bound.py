"""``Spotter(bound_matches=True)``: a partial match that would span more frames than
``max_duration`` allows is dropped inside the Viterbi pass, so that a younger one may take its
state, instead of only being refused when it completes."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.models.spotting import _kernels as _k
from gesturemap.models.spotting.core import Spotter, check_settings


def test_drop_long_forgets_only_the_matches_too_long_to_count() -> None:
    n_states = np.array([3, 2])
    delta = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, _k.NEG]])
    start = np.array([[0, 50, 95], [10, 60, 0]])
    max_length = np.array([60, 41])
    _k.drop_long(100, n_states, delta, start, max_length)
    # class 0 may span 60 frames up to frame 100 (start >= 41); class 1, 41 (start >= 60)
    assert delta.tolist() == [[_k.NEG, 2.0, 3.0], [_k.NEG, 5.0, _k.NEG]]


@pytest.fixture(scope="module")
def hapt(datasets_dir):
    """HAPT's spotting HHMM (the settings of the spotting benchmark: 10 states, a null class of
    one state with 8 Gaussians, null takes every 1000 frames) trained on the sessions of
    subjects 1, 3 and 5 (the repository keeps 8 sessions, each up to 30 s after its last
    transition)."""
    from gesturemap.evaluation.spotting.streams import load_streams, make_dataset

    st = load_streams(str(datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz"))
    assert st.subject.tolist() == [1, 1, 3, 3, 5, 5, 6, 6]
    model = gm.HHMM(states=10, gaussians=1, relative_regularization=0.1, deltas=False,
                    class_params={gm.NULL: {"states": 1, "gaussians": 8}})
    return st, model.fit(make_dataset(st, list(range(6)), lambda x: x, null_every=1000))


def test_on_real_sessions_it_changes_matches_and_stepping_equals_spot(hapt) -> None:
    st, model = hapt
    changed = 0
    for i in (0, 2, 6):
        x = st.sessions[i]
        plain = gm.spot(model, x)
        assert gm.spot(model, x, bound_matches=False) == plain  # off: the package's spotter
        bounded = gm.spot(model, x, bound_matches=True)
        changed += bounded != plain
        sp = Spotter(model, bound_matches=True)
        assert all(e.end - e.start + 1 <= sp.max_length_[sp.labels.index(e.label)]
                   for e in bounded)
        s = sp.stream()
        assert [r.event for r in map(s.step, x) if r.event is not None] == bounded
        s = sp.stream()
        assert [e for part in np.array_split(x, 5) for e in s.run_events(part)] == bounded
    # sessions 0 and 2 (subject 6's session 6 is held out): a match taken by a younger one;
    # on the whole data, held-out sessions of subjects 16 and 19 did the same
    assert changed >= 2


def test_the_setting_is_checked(hapt) -> None:
    _, model = hapt
    assert check_settings({"bound_matches": True}) == {"bound_matches": True}
    for bad in (1, "yes", None):
        with pytest.raises(gm.GesturemapError, match="bound_matches"):
            check_settings({"bound_matches": bad})
        with pytest.raises(gm.GesturemapError, match="bound_matches"):
            Spotter(model, bound_matches=bad)
