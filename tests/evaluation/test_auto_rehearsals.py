"""``gm.auto`` on a spotting dataset that holds rehearsals: the takes cut as the command line
cuts them, the context relabeller and the window detector trained from the rehearsals and kept
only when their cross-fit says they help, used by ``gm.spot`` and ``gm.Spotter`` unless told
otherwise, and saved with the model."""

from __future__ import annotations

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import GesturemapError
from gesturemap.evaluation.spotting.streams import make_dataset
from gesturemap.models.spotting.core import model_spotting
from tests.evaluation.spotting.test_relabel import context_streams
from tests.evaluation.spotting.test_relabel import named_events as _named


@pytest.fixture(scope="module")
def rehearsed():
    """Bumps told apart only by the rest before them (``context_streams``): subjects 0-1's
    sessions as a dataset's rehearsals, gm.auto on it; subjects 2-3 held out."""
    from gesturemap.models.spotting.choose import spotting_candidates

    st = context_streams(2)
    ds = gm.dataset_from_rehearsals(st.sessions[:4], st.labels[:4], groups=st.subject[:4],
                                    gestures=[1, 2])
    # The command line's spotter alone, with time to finish: under a short budget a loaded
    # machine finished no candidate at all, and the tests below are about the rehearsals.
    return st, ds, gm.auto(ds, budget_s=120, candidates=spotting_candidates()[:1],
                           task="spotting")


def test_the_takes_are_the_command_lines_and_the_rehearsals_are_kept(rehearsed) -> None:
    st, ds, _ = rehearsed
    cli = make_dataset(st, range(4), lambda x: x)
    assert len(ds) == len(cli) > 30
    assert all(a.label == b.label and np.array_equal(a.inputs, b.inputs)
               for a, b in zip(ds, cli, strict=True))
    assert [r.group for r in ds.rehearsals] == [0, 0, 1, 1]  # numbers stay numbers
    assert all(np.array_equal(r.inputs, x) for r, x in zip(ds.rehearsals, st.sessions[:4],
                                                            strict=True))
    # every frame that is not a gesture's is null, as text
    assert set(np.unique(ds.rehearsals[0].frame_labels)) == {"1", "2", gm.NULL}
    assert ds.frame_rate_hz == 50.0


def test_the_relabeller_names_what_the_takes_alone_cannot(rehearsed) -> None:
    st, _, model = rehearsed
    done = model.selection_["rehearsals"]
    assert model.selection_["task"] == "spotting"
    assert done["relabeler"]["chosen"] and done["relabeler"]["context"] >= 25, done
    assert model_spotting(model)["verifier"] is not None
    # the bumps are the same: only the rest before them names them
    assert _named(model, st) == (32, 32, 32)
    plain_right, plain_events, _ = _named(model, st, verifier=None, detector=None)
    assert plain_events == 32 and plain_right <= 0.75 * 32, plain_right
    # a Spotter built by hand uses them too, live as in one call
    spotter = gm.Spotter(model)
    assert spotter.verifier is not None
    stream = spotter.stream()
    live = [e for e in map(stream.step_event, st.sessions[5]) if e is not None]
    assert len(live) == 8
    assert [(e.label, e.emitted) for e in live] == [
        (e.label, e.emitted) for e in gm.spot(model, st.sessions[5])]


def test_the_detector_is_kept_only_when_its_cross_fit_helps(rehearsed) -> None:
    _, _, model = rehearsed
    check = model.selection_["rehearsals"]["detector"]
    # every bump is found and named already: the detector can only add to it, and does not
    assert check["f1_without"] == 1.0 and not check["chosen"]
    assert model_spotting(model)["detector"] is None


def test_they_are_saved_with_the_model(rehearsed, tmp_path) -> None:
    st, _, model = rehearsed
    back = gm.load(model.save(tmp_path / "m.json"))
    assert model_spotting(back) == model_spotting(model)
    for i in (4, 6):
        assert [(e.label, e.start, e.emitted) for e in gm.spot(back, st.sessions[i])] == [
            (e.label, e.start, e.emitted) for e in gm.spot(model, st.sessions[i])]
    # trained again, on whatever takes, it no longer has them: they were trained for the fit
    back.fit(make_dataset(st, range(2), lambda x: x))
    assert model_spotting(back) == {} and gm.Spotter(back).verifier is None


def test_without_rehearsals_nothing_changes(rehearsed) -> None:
    """The same takes without their rehearsals: no second opinion, and the candidate the
    rehearsed search chose spots exactly as that model does without its second opinions.
    (The search is given that one candidate: a search under a time budget chooses among
    what it had time for, which depends on the machine's load.)"""
    from gesturemap.models.spotting.choose import spotting_candidates

    st, ds, model = rehearsed
    takes = ds.copy()
    takes._rehearsals.clear()
    chosen = [c for c in spotting_candidates() if c[0] == model.selection_["chosen_name"]]
    plain = gm.auto(takes, budget_s=120, candidates=chosen, task="spotting")
    assert "rehearsals" not in plain.selection_ and model_spotting(plain) == {}
    assert plain.selection_["chosen_name"] == model.selection_["chosen_name"]
    for i in (4, 7):
        assert [(e.label, e.emitted) for e in gm.spot(plain, st.sessions[i])] == [
            (e.label, e.emitted) for e in gm.spot(model, st.sessions[i], verifier=None,
                                                  detector=None)]


def test_one_group_says_why_and_attaches_nothing() -> None:
    st = context_streams(3)
    ds = gm.dataset_from_rehearsals(st.sessions[:2], st.labels[:2], groups=["a", "a"],
                                    gestures=[1, 2])
    model = gm.auto(ds, budget_s=2)
    done = model.selection_["rehearsals"]
    assert not done["relabeler"]["chosen"] and "one group" in done["relabeler"]["reason"]
    assert not done["detector"]["chosen"] and done["detector"]["reason"]
    assert model_spotting(model) == {"verifier": None, "detector": None}


def test_bad_rehearsals_are_refused_and_leave_the_dataset_as_it_was() -> None:
    st = context_streams(2)
    ds = gm.dataset_from_rehearsals(st.sessions[:2], st.labels[:2], gestures=[1, 2])
    n = len(ds.rehearsals)
    with pytest.raises(GesturemapError, match="2 columns"):
        ds.add_rehearsal(np.zeros((10, 3)), ["null"] * 10)
    with pytest.raises(GesturemapError, match="one label per frame"):
        ds.add_rehearsal(np.zeros((10, 2)), ["null"] * 9)
    with pytest.raises(GesturemapError, match="finite"):
        ds.add_rehearsal(np.full((10, 2), np.nan), ["null"] * 10)
    with pytest.raises(GesturemapError, match="no frame is labelled with a gesture"):
        gm.dataset_from_rehearsals(st.sessions[:1], st.labels[:1], gestures=[5])
    with pytest.raises(GesturemapError, match="rate_hz"):
        gm.dataset_from_rehearsals(st.sessions[:1], st.labels[:1], rate_hz=0)
    assert len(ds.rehearsals) == n


def test_a_cancel_stops_it_between_its_trainings() -> None:
    from gesturemap.models import Cancel

    st = context_streams(2)
    ds = gm.dataset_from_rehearsals(st.sessions[:4], st.labels[:4], groups=st.subject[:4],
                                    gestures=[1, 2])
    cancel = Cancel()
    said = []

    def progress(share: float, what: str) -> None:
        said.append(what)
        if "relabeller" in what:  # asked while the relabeller trains
            cancel.set()

    with pytest.raises(gm.TrainingCancelled):
        gm.auto(ds, budget_s=2, progress=progress, cancel=cancel)
    assert said[-1] == "training the context relabeller on the rehearsals"
