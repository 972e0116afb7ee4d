"""A model given frames instead of labelled takes says what to give it (before, every model
kind raised ``AttributeError: 'numpy.ndarray' object has no attribute 'label'``)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError


@pytest.mark.parametrize("kind", ["GMM", "HHMM", "DTW", "KNN", "MLP", "GVF"])
@pytest.mark.parametrize("given", ["array", "list"])
def test_fit_on_frames_says_to_give_labelled_takes(kind, given):
    frames = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(GesturemapError, match=r"ds.add\(frames, label="):
        getattr(gm, kind)().fit(frames if given == "array" else [frames])


def _two_classes() -> gm.Dataset:
    rng = np.random.default_rng(1)
    ds = gm.Dataset()
    for k in range(6):
        ds.add(rng.normal(size=(30, 2)) + 3 * (k % 2), label="ab"[k % 2])
    return ds


def test_explain_spot_audit_review_say_what_is_not_a_model(tmp_path):
    """gm.explain, gm.spot and gm.audit given a project, a Spotter, a model kind or a model
    class raised "'Project' object has no attribute '_check_fitted'" (or "missing 1 required
    positional argument: 'self'"), gm.review_takes given a class the same; now each names
    what it got and what to give instead."""
    ds = _two_classes()
    model = gm.HHMM(states=3).fit(ds)
    project = gm.Project("p", model="hhmm")
    x = ds[0].inputs
    calls = {
        "explain(model, sequence)": lambda m: gm.explain(m, x),
        "spot(model, sequence)": lambda m: gm.spot(m, x),
        "audit(model, rehearsal)": lambda m: gm.audit(m, [x]),
        "review_takes(dataset, model)": lambda m: gm.review_takes(ds, m),
        "suggest_next_take(model, dataset)": lambda m: gm.suggest_next_take(m, ds),
    }
    given = {
        "a Project, not a gesturemap model: a project's trained model is project.trained":
            project,
        "a Spotter, not a gesturemap model: pass the model it spots with, spotter.model":
            gm.Spotter(model),
        "a str, not a gesturemap model: a model kind names no model": "hhmm",
        r"the class HHMM itself, not a model: give one, e.g. gm.HHMM\(\)": gm.HHMM,
        "a NoneType, not a gesturemap model": None,
    }
    for call, run in calls.items():
        for said, thing in given.items():
            if call.startswith("spot") and isinstance(thing, gm.Spotter):
                continue  # a Spotter is what gm.spot spots with
            with pytest.raises(TypeError, match=re.escape(call) + ": got " + said):
                run(thing)
    assert gm.spot(gm.Spotter(model), x) == gm.spot(model, x)  # still spots


@pytest.mark.parametrize("kind", ["GMM", "HHMM", "DTW", "KNN", "GVF", "featured"])
def test_predict_of_one_array_asks_for_a_list(kind):
    """predict takes a list of sequences; given one (T, 1) array, a model of one input took
    its T rows for T gestures of one frame each and gave T labels back, silently (and a
    model of more inputs said "sequence has shape (3,)"). Now both say to give [sequence]."""
    from gesturemap.models.featured import Featured
    from gesturemap.models.hhmm import HHMM

    rng = np.random.default_rng(2)
    for width in (1, 3):
        ds = gm.Dataset()
        for k in range(6):
            ds.add(rng.normal(size=(30, width)) + 3 * (k % 2), label="ab"[k % 2])
        model = (Featured.of(HHMM(states=3), deltas=True) if kind == "featured"
                 else getattr(gm, kind)()).fit(ds)
        x = ds[1].inputs
        with pytest.raises(GesturemapError, match=re.escape(
                f"predict takes a list of (T, {width}) sequences and returns a label for "
                f"each; it got one (30, {width}) array: give [sequence]")):
            model.predict(x)
        assert model.predict([x]) == ["b"]
        assert model.predict(np.stack([x, x])) == ["b", "b"]  # several of one length
