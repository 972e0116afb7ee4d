"""The context relabeller: trained on the recordings' labelled gestures, it names
each spotted event from what came before its start and after its emission, never drops one,
runs in the live stream as a verifier (``gm.spot`` equals stepping), saves as the verifier's
JSON, and is chosen by its cross-fit or left off."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation.spotting.cv import make_dataset
from gesturemap.evaluation.spotting.relabel import fit_relabeler, relabeler_from_rows, truth_rows
from gesturemap.evaluation.spotting.scores import ground_truth_events
from gesturemap.models.spotting.core import NULL
from gesturemap.models.spotting.verifier import SpotVerifier, VerifierUnavailable
from tests.models.spotting.test_verifier_context import bump_frames, bump_streams, rest_frames
from tests.models.spotting.test_verifier_live import SETTINGS, _factory


def context_streams(seed: int):
    """Bump streams (``bump_streams``): the same bump (0 -> 1 -> 0 on channel 0) labelled 1
    after a still rest and 2 after a rest swaying on channel 1, then 5 still frames before the
    bump: only the frames before an event's start tell the two apart."""
    def trial(rng: np.random.Generator, sway: bool) -> tuple[np.ndarray, np.ndarray]:
        rest, bump = rest_frames(rng, sway), bump_frames(rng)
        return (np.vstack([rest, rng.normal(0, 0.01, (5, 2)), bump]),
                np.array([0] * (len(rest) + 5) + [2 if sway else 1] * len(bump)))
    return bump_streams(seed, trial, tail=80)


def _stream_file(path, st, idx=range(4), labels=None, gestures=(1, 2)) -> str:
    """Sessions ``idx`` of ``st`` as a stream file (``labels``: other frame labels)."""
    idx = list(idx)
    labels = st.labels if labels is None else labels
    np.savez(path, X_concat=np.vstack([st.sessions[i] for i in idx]),
             labels_concat=np.concatenate([labels[i] for i in idx]),
             lengths=[len(st.sessions[i]) for i in idx], subject=st.subject[idx],
             gesture_labels=list(gestures))
    return str(path)


def _gmm_project(folder, st, deltas: bool):
    """A spotting project of one-Gaussian GMMs trained on sessions 0-3 of ``st``, saved."""
    from gesturemap.project import Project

    project = Project("p", model={"kind": "gmm", "params": {"gaussians": 1, "deltas": deltas},
                                  "spotting": dict(SETTINGS)})
    for r in make_dataset(st, range(4), lambda a: a):
        project.add_take(r.inputs, r.label)
    project.train()
    project.save(folder)
    return project


@pytest.fixture(scope="module")
def trained():
    """A relabeller fitted (its own grid: context 0 / 50, wait 0, weight 1) on subjects 0-1
    of :func:`context_streams`,
    a model on the same; subjects 2-3 held out."""
    st = context_streams(2)
    v = fit_relabeler(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                      gestures=[1, 2], context=[0, 50], wait=0, weight=1.0, **SETTINGS)
    model = _factory().fit(make_dataset(st, range(4), lambda a: a))
    return st, v, model


def named_events(model, st, **settings) -> tuple[int, int, int]:
    """Held-out sessions 4-7 spotted with ``settings``: events named right, events, true
    events."""
    right = events = total = 0
    for i in range(4, 8):
        found = gm.spot(model, st.sessions[i], **settings)
        truth = ground_truth_events(st.labels[i], [1, 2])
        events += len(found)
        total += len(truth)
        for e in found:  # the truth whose bump holds the event's end
            near = [str(lb) for lb, s, t in truth if s <= e.end <= t + 50]
            right += bool(near) and near[0] == str(e.label)
    return right, events, total


def _named(model, st, v) -> tuple[int, int, int]:
    return named_events(model, st, verifier=v, **SETTINGS)


def test_the_context_names_what_the_spotter_cannot(trained) -> None:
    st, v, model = trained
    assert v.cv_["chosen"] and v.cv_["context"] == 50 and v.context == 50
    assert NULL not in v.labels and sorted(v.labels) == ["1", "2"]
    right, events, total = _named(model, st, v)
    assert events == total == 32 and right == 32
    plain_right, plain_events, _ = _named(model, st, None)
    assert plain_events == 32 and plain_right <= 0.75 * 32, plain_right
    # the cross-fit says so: context 0 cannot tell them apart
    assert v.cv_["scores"]["50+0+1"] > v.cv_["scores"]["0+0+1"] + 0.3
    assert v.cv_["inner_score_with"] > v.cv_["inner_score_without"] + 0.3


def test_it_never_drops_an_event_and_keeps_frames_and_scores(trained) -> None:
    st, v, model = trained
    for i in range(4, 8):
        plain = gm.spot(model, st.sessions[i], **SETTINGS)
        named = gm.spot(model, st.sessions[i], verifier=v, **SETTINGS)
        assert [(e.start, e.end, e.emitted, e.score) for e in plain] == [
            (e.start, e.end, e.emitted, e.score) for e in named]


def test_stepping_equals_gm_spot_with_a_waiting_relabeller(trained) -> None:
    st, _, model = trained
    v = fit_relabeler(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                      gestures=[1, 2], context=50, wait=20, weight=2.0, rule=None, **SETTINGS)
    assert v.wait == 20 and v.cv_["wait"] == 20
    x = st.sessions[5]
    spotted = gm.spot(model, x, verifier=v, **SETTINGS)
    stream = gm.Spotter(model, verifier=v, **SETTINGS).stream()
    stepped = [r.event for r in (stream.step(f) for f in x) if r.event is not None]
    assert spotted == stepped and len(spotted) == 8
    plain = gm.spot(model, x, **SETTINGS)
    # the wait moves each emission by its 20 frames, nothing else
    assert [e.emitted for e in spotted] == [e.emitted + 20 for e in plain]


def test_its_json_round_trips(trained) -> None:
    st, v, model = trained
    back = SpotVerifier.from_dict(json.loads(json.dumps(v.to_dict())))
    for i in range(4, 8):
        assert gm.spot(model, st.sessions[i], verifier=back, **SETTINGS) == gm.spot(
            model, st.sessions[i], verifier=v, **SETTINGS)


def test_the_spotters_label_weighs_as_told() -> None:
    """With no other feature telling anything, a large weight keeps the spotter's label and
    a zero weight leaves the label to the segment's statistics."""
    st = context_streams(3)
    classes = ["1", "2"]
    f, y = truth_rows(st, range(4), classes, 0, 0)
    assert len(y) == 9 * 32 and f.shape[0] == len(y)
    keep = relabeler_from_rows(f, y, classes, weight=100.0)
    none = relabeler_from_rows(f, y, classes, weight=0.0)
    one_hot = 4 * 2 + 1
    for label in classes:
        rows = f.copy()
        rows[:, one_hot:one_hot + 2] = [float(label == c) for c in classes]
        assert set(keep.predict(rows)) == {label}
        assert none.predict(rows) == none.predict(f)


def test_bad_input_is_refused_with_a_reason() -> None:
    st = context_streams(2)
    with pytest.raises(VerifierUnavailable, match="one group"):
        fit_relabeler(_factory, st.sessions[:2], st.labels[:2], [0, 0], gestures=[1, 2],
                      **SETTINGS)
    with pytest.raises(VerifierUnavailable, match="weight"):
        fit_relabeler(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                      gestures=[1, 2], weight=-1.0, **SETTINGS)
    with pytest.raises(VerifierUnavailable, match="not pairs"):
        fit_relabeler(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                      gestures=[1, 2], context=[(10, 50)], **SETTINGS)
    with pytest.raises(gm.GesturemapError, match="model is int"):
        fit_relabeler(3, st.sessions[:4], st.labels[:4], st.subject[:4], gestures=[1, 2])
    # a gesture no labelled run shows: named
    f, y = truth_rows(st, range(4), ["1", "2"], 0, 0)
    with pytest.raises(VerifierUnavailable, match=r"\['3'\]"):
        relabeler_from_rows(f, y, ["1", "2", "3"], weight=1.0)


def test_eval_spotting_relabel(tmp_path, capsys) -> None:
    """`gesturemap eval --spotting --relabel`: each fold trains a relabeller on its training
    subjects; where its cross-fit chose it, the held-out sessions are named by it."""
    from gesturemap.cli import main
    from tests.models.spotting.test_verifier_context import eval_args

    args = [a for a in eval_args(tmp_path, context_streams(4)) if a != "--verify"]
    reports, printed = {}, {}
    for k, flag in enumerate(([], ["--relabel", "--verifier-wait", "0"])):
        out = tmp_path / f"report{k}.json"
        assert main([*args, *flag, "--json", str(out)]) == 0
        reports[k] = json.loads(out.read_text())
        printed[k] = capsys.readouterr().out
    # alone, the spotter's false events are the bumps named wrong: the command says so
    m = reports[0]["metrics"]
    assert m["false_positives"] > 0 and m["false_inside_gestures"] == m["false_positives"]
    assert "most false events name a real gesture wrong: --relabel" in printed[0]
    assert "most false events" not in printed[1]
    folds = reports[1]["verifier"]
    assert len(folds) == 2 and all(f["chosen"] and f["context"] in (50, 100) for f in folds)
    assert all(set(f["scores"]) == {f"{c}+0+{w:g}" for c in (0, 50, 100)
                                    for w in (1, 2, 4)} for f in folds), folds
    assert reports[1]["metrics"]["f1"] > reports[0]["metrics"]["f1"] + 0.2
    assert "fold 1: relabeller on (on: cross-fitted" in printed[1]
    assert main([*args, "--relabel", "--verify"]) == 2
    assert "two second stages" in capsys.readouterr().err


def test_train_relabeler_stores_it_in_the_project(tmp_path, capsys) -> None:
    """`gesturemap train DIR --relabeler REHEARSALS.npz`: the relabeller takes the verifier's
    place in the project's spotting settings, the reloaded project spots with it (stepping
    as gm.spot), and the window's line says it only relabels."""
    from gesturemap.cli import main
    from gesturemap.gui.spotting_editor import verifier_text
    from gesturemap.project import Project

    st = context_streams(4)
    folder = tmp_path / "proj"
    _gmm_project(folder, st, deltas=False)
    path = _stream_file(tmp_path / "rehearsal.npz", st)
    assert main(["train", str(folder), "--relabeler", path]) == 0
    out = capsys.readouterr().out
    assert "relabeller chosen: cross-fit F1" in out and "stored the relabeller" in out, out
    project = Project.load(folder)
    stored = project.model["spotting"]["verifier"]
    assert NULL not in stored["labels"] and stored["summary"]["kind"] == "relabeller"
    assert verifier_text(stored).startswith("verifier: on, relabels only (trained for 1, 2")
    right = plain = 0
    for i in range(4, 8):
        x = st.sessions[i]
        got = gm.spot(project.trained, x, **project.model["spotting"])
        stream = gm.Spotter(project.trained, **project.model["spotting"]).stream()
        assert [r.event for r in (stream.step(f) for f in x) if r.event is not None] == got
        truth = [str(lb) for lb, _, _ in ground_truth_events(st.labels[i], [1, 2])]
        alone = gm.spot(project.trained, x, **SETTINGS)
        assert len(got) == len(alone) == len(truth)
        right += sum(str(e.label) == t for e, t in zip(got, truth, strict=True))
        plain += sum(str(e.label) == t for e, t in zip(alone, truth, strict=True))
    assert right == 32 and plain <= 24, (right, plain)
    assert main(["train", str(folder), "--relabeler", path, "--verifier", path]) != 0


def test_eval_spotting_relabel_held_out(tmp_path, capsys) -> None:
    """`gesturemap eval --spotting --train A.npz --test B.npz --relabel`: the relabeller is
    trained on A's performers only and names B's events."""
    from gesturemap.cli import main

    st = context_streams(5)
    args = ["eval", "--spotting", "--train", _stream_file(tmp_path / "a.npz", st), "--test",
            _stream_file(tmp_path / "b.npz", st, range(4, 8)), "--model", "gmm", "--param", "gaussians=1", "--param",
            "deltas=false", "--spot", "gmm_frames=40", "--quiet"]
    reports = {}
    for flag in ([], ["--relabel", "--verifier-wait", "0"]):
        out = tmp_path / f"held{len(flag)}.json"
        assert main([*args, *flag, "--json", str(out)]) == 0
        reports[len(flag)] = json.loads(out.read_text())
    assert reports[3]["verifier"][0]["chosen"], reports[3]["verifier"]
    # (29 of 32 named right: the cross-fit over two performers chose weight 4)
    assert reports[3]["metrics"]["f1"] >= 0.9 > 0.8 > reports[0]["metrics"]["f1"]
    assert "relabeller on (on:" in capsys.readouterr().out


def test_its_rows_read_what_the_live_stream_reads() -> None:
    """A training row is the row the live stream's relabeller reads for an event with the
    same start and emission (its context and its wait: the frames the ring holds at the
    due frame); a placement the session cannot hold (fewer than ``wait`` frames after it)
    is left out."""
    from gesturemap.evaluation.spotting.cv import Streams
    from gesturemap.evaluation.spotting.relabel import _placements
    from gesturemap.models.spotting.core import Event
    from gesturemap.models.spotting.verifier import verifier_features

    st = context_streams(6)
    x, lab = st.sessions[0], st.labels[0]
    runs = ground_truth_events(lab, [1, 2])
    for context, wait in ((0, 0), (50, 0), (50, 20), (0, 20)):
        rows, targets = truth_rows(st, [0], ["1", "2"], context, wait)
        live = [Event(str(lb), a, t, t, 1.0) for lb, s, e in runs
                for a, t in _placements(s, e, 50.0)]
        assert len(live) == 9 * len(runs) == len(rows)
        # one event at a time: a live stream emits one event a frame (the 9 placements of a
        # run share emissions)
        np.testing.assert_array_equal(rows, np.vstack([verifier_features(
            [ev], x, {}, ["1", "2"], context=context, wait=wait) for ev in live]))
        assert targets == [ev.label for ev in live]
    # the last run 5 frames before the session's end: a 20-frame wait is cut off there
    lb, s, e = runs[-1]
    cut = Streams([x[:e + 6]], [lab[:e + 6]], np.array([0]), [1, 2], 50.0)
    full, _ = truth_rows(cut, [0], ["1", "2"], 0, 0)
    waited, _ = truth_rows(cut, [0], ["1", "2"], 0, 20)
    late = sum(t + 20 >= e + 6 for _, t in _placements(s, e, 50.0))
    assert late > 0 and len(waited) == len(full) - late


def test_short_runs_keep_a_quarter_of_themselves() -> None:
    """Shifts of half a second would move a 20-frame gesture off itself: every placement
    keeps at least a quarter of the run; a run of 2 s or more (100 frames at 50 Hz) keeps the
    shifts whole."""
    from gesturemap.evaluation.spotting.relabel import _placements

    for n in (4, 20, 37, 100, 400):
        for a, t in _placements(1000, 1000 + n - 1, 50.0):
            # a start may move before the run (the spotter's may), by a quarter at most
            assert 1000 - n // 4 <= a <= t <= 1000 + n - 1, (n, a, t)
            assert t - max(a, 1000) + 1 >= max(n // 4, 1), (n, a, t)
    assert sorted({a - 1000 for a, _ in _placements(1000, 1099, 50.0)}) == [-25, 0, 25]
    assert sorted({t - 1099 for _, t in _placements(1000, 1099, 50.0)}) == [-50, -25, 0]


def test_one_gesture_and_a_gesture_one_part_lacks_are_named_before_training() -> None:
    st = context_streams(2)
    only_one = [np.where(lab == 2, 0, lab) for lab in st.labels[:4]]
    with pytest.raises(VerifierUnavailable, match="one gesture .1.: a relabeller chooses"):
        fit_relabeler(_factory, st.sessions[:4], only_one, st.subject[:4], gestures=[1],
                      **SETTINGS)
    # gesture 2 labelled only in group 0's recordings: the part holding group 0 has it, the
    # relabeller of that part (trained on group 1) has none
    lone = [lab if g == 0 else np.where(lab == 2, 0, lab)
            for lab, g in zip(st.labels[:4], st.subject[:4], strict=True)]
    with pytest.raises(VerifierUnavailable, match=r"\['2'\] are labelled only in the "
                                                  r"recordings of cross-fitting fold 1 of 2"):
        fit_relabeler(lambda: pytest.fail("trained before the check"), st.sessions[:4], lone,
                      st.subject[:4], gestures=[1, 2], **SETTINGS)
    with pytest.raises(VerifierUnavailable, match="C 0"):
        fit_relabeler(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                      gestures=[1, 2], C=0, **SETTINGS)
    with pytest.raises(VerifierUnavailable, match="rate_hz 0"):
        fit_relabeler(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                      gestures=[1, 2], rate_hz=0, **SETTINGS)
    # weights as an array are weights
    v = fit_relabeler(_factory, st.sessions[:4], st.labels[:4], st.subject[:4],
                      gestures=[1, 2], context=50, wait=0, weight=np.array([1.0, 2.0]),
                      **SETTINGS)
    assert set(v.cv_["scores"]) == {"50+0+1", "50+0+2"}


def test_a_project_the_relabeller_does_not_help_stores_nothing(tmp_path, capsys) -> None:
    """Deltas tell the ramps apart: the spotter alone names them right, the relabeller is
    not chosen, the project is unchanged; bad input exits 2 with one line."""
    from gesturemap.cli import main
    from gesturemap.project.lock import LOCK_FILE
    from tests.evaluation.spotting.test_scores import ramp_streams

    st = ramp_streams(5)
    folder = tmp_path / "proj"
    _gmm_project(folder, st, deltas=True)

    def files() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(folder.rglob("*"))
                if p.is_file() and p.name != LOCK_FILE}
    before = files()
    assert main(["train", str(folder), "--relabeler", _stream_file(tmp_path / "r.npz", st)]
                ) == 0
    out = capsys.readouterr().out
    assert "relabeller not chosen" in out and "nothing stored: off:" in out, out
    assert files() == before
    one = _stream_file(tmp_path / "one.npz", st, labels=[np.where(lab == 2, 0, lab)
                                                         for lab in st.labels], gestures=[1])
    assert main(["train", str(folder), "--relabeler", one]) == 2
    err = capsys.readouterr().err
    assert "no relabeller can be trained" in err and "['2'] have no labelled run" in err and len(
        err.strip().splitlines()) == 1, err
    assert files() == before


def test_eval_relabel_refuses_pairs(tmp_path, capsys) -> None:
    from gesturemap.cli import main
    from tests.models.spotting.test_verifier_context import eval_args

    args = [a for a in eval_args(tmp_path, context_streams(4)) if a != "--verify"]
    for extra in (["--verifier-context", "50,100"], ["--verifier-wait", "10,40"]):
        assert main([*args, "--relabel", *extra]) == 2
        assert "--relabel reads one context and one wait" in capsys.readouterr().err


def test_a_relabeller_and_a_window_detector_together(trained) -> None:
    """Both second opinions at once: the detector merges the events the relabeller named
    (in that order, as the rule writes it), and a live stream gives what one call gives."""
    from gesturemap.models.spotting.detector import window_ends
    from tests.models.spotting.test_detector import rule_merge

    st, v, model = trained
    d = gm.fit_detector(st.sessions[:4], st.labels[:4], gestures=[1, 2], rate_hz=50.0,
                        trees=10, max_leaves=32)
    changed = 0
    for i in range(4, 8):
        x = st.sessions[i]
        named = gm.spot(model, x, verifier=v, **SETTINGS)
        both = gm.spot(model, x, verifier=v, detector=d, **SETTINGS)
        changed += both != named
        ends = window_ends(len(x), d.window, d.hop)
        p = d.predict_proba(d.features(x, ends))
        ps = np.array([p[max(j - d.smooth + 1, 0):j + 1].sum(0) / d.smooth
                       for j in range(len(p))])
        assert [(str(e.label), e.emitted) for e in both] == rule_merge(named, ends, ps, d)
        s = gm.Spotter(model, verifier=v.to_dict(), detector=d.to_dict(), **SETTINGS).stream()
        assert [e for e in map(s.step_event, x) if e is not None] == both
    assert changed == 4  # the detector has a say on every held-out session
