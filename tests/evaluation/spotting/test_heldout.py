"""``gesturemap eval --spotting --train A.npz --test B.npz``: spotting trained on one stream
file's sessions and scored on another's, which nothing was trained or chosen on (the held-out
figures of a project trained on its performers and used by new ones)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.cli import main
from gesturemap.evaluation.spotting.scores import (
    ground_truth_events,
    match_detections,
    spotting_metrics,
)
from gesturemap.evaluation.spotting.streams import load_streams, make_dataset
from tests.evaluation.spotting.test_scores import ramp_streams

ARGS = ["--model", "gmm", "--param", "gaussians=1", "--param", "deltas=false",
        "--spot", "gmm_frames=40", "--quiet"]


@pytest.fixture(scope="module")
def streams():
    return ramp_streams(4, excursions=True)


def _npz(path, st, idx, labels=None, **replace):
    idx = list(idx)
    arrays = {"X_concat": np.vstack([st.sessions[i] for i in idx]),
              "labels_concat": np.concatenate([(labels or st.labels)[i] for i in idx]),
              "lengths": [len(st.sessions[i]) for i in idx], "subject": st.subject[idx],
              "gesture_labels": [1, 2]}
    arrays.update(replace)
    np.savez(path, **arrays)
    return str(path)


def test_held_out_figures_are_those_of_the_training_files_model_on_the_test_file(
        streams, tmp_path, capsys) -> None:
    train, test = _npz(tmp_path / "a.npz", streams, range(4)), _npz(tmp_path / "b.npz",
                                                                      streams, range(4, 8))
    out = tmp_path / "r.json"
    args = [a.replace("deltas=false", "deltas=true") for a in ARGS]  # tells the ramps apart
    assert main(["eval", "--spotting", "--train", train, "--test", test, *args,
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["protocol"] == ("held out: trained on 4 sessions of 2 subjects, tested on "
                                  "4 sessions of 2 subjects")
    assert "held out" in capsys.readouterr().out
    # the same by hand: a GMM trained on the first file's takes spots the second's sessions
    st = load_streams(train)
    model = gm.GMM(1, deltas=True).fit(make_dataset(st, range(4), lambda a: a))
    results = []
    for i in range(4, 8):
        events = gm.spot(model, streams.sessions[i], gmm_frames=40)
        truth = [(str(lb), s, e) for lb, s, e in ground_truth_events(streams.labels[i], [1, 2])]
        results.append(match_detections(truth, [(e.label, e.emitted) for e in events],
                                        tolerance=50, null_frames=int(np.sum(
                                            ~np.isin(streams.labels[i], [1, 2])))))
    expected = spotting_metrics(results, ["1", "2"], 50.0)
    for key in ("true_positives", "false_positives", "events", "f1"):
        assert report["metrics"][key] == pytest.approx(expected[key]), key
    assert report["metrics"]["events"] == 24 and report["metrics"]["f1"] >= 0.75
    # the test file's labels are what is scored: wrong ones, a worse score
    swapped = [np.where(lab == 1, 2, np.where(lab == 2, 1, lab)) for lab in streams.labels]
    bad = _npz(tmp_path / "c.npz", streams, range(4, 8), labels=swapped)
    assert main(["eval", "--spotting", "--train", train, "--test", bad, *args,
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["metrics"]["true_positives"] < expected[
        "true_positives"]


def test_held_out_with_a_verifier_trained_on_the_training_file(streams, tmp_path) -> None:
    """The verifier is cross-fitted over the training file's subjects only, the context
    chosen among 0, 1 and 2 s, and the test file is spotted with it where chosen."""
    train, test = _npz(tmp_path / "a.npz", streams, range(4)), _npz(tmp_path / "b.npz",
                                                                      streams, range(4, 8))
    out = tmp_path / "r.json"
    assert main(["eval", "--spotting", "--train", train, "--test", test, *ARGS, "--verify",
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    (v,) = report["verifier"]
    assert set(v["context_scores"]) == {"0", "50", "100"}
    expected = gm.fit_verifier({"kind": "gmm", "params": {"gaussians": 1, "deltas": False},
                                "spotting": {"gmm_frames": 40}}, streams.sessions[:4],
                               streams.labels[:4], streams.subject[:4], gestures=[1, 2],
                               context=[0, 50, 100])
    assert v["chosen"] == expected.cv_["chosen"] and v["context"] == expected.cv_["context"]


@pytest.mark.parametrize("case, message", [
    ("gestures", "are not the training streams'"),
    ("dims", "frames of [3] values"),
    ("folds", "--test is a held-out evaluation"),
])
def test_bad_held_out_input_is_one_line_and_exit_2(streams, tmp_path, capsys, case,
                                                   message) -> None:
    train = _npz(tmp_path / "a.npz", streams, range(4))
    extra = []
    if case == "gestures":
        test = _npz(tmp_path / "b.npz", streams, range(4, 8), gesture_labels=[1, 3])
        test_st = load_streams(test)  # each file names its own
        assert test_st.gestures == [1, 3]
    elif case == "dims":
        x = np.vstack([streams.sessions[i] for i in range(4, 8)])
        test = _npz(tmp_path / "b.npz", streams, range(4, 8),
                    X_concat=np.hstack([x, x[:, :1]]))
    else:
        test = _npz(tmp_path / "b.npz", streams, range(4, 8))
        extra = ["--folds", "2"]
    rc = main(["eval", "--spotting", "--train", train, "--test", test, *ARGS, *extra])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_test_gestures_listed_in_another_order_are_the_same_gestures(streams, tmp_path
                                                                     ) -> None:
    """The test file lists its gestures in another order (or as text, its frames labelled
    with text): the same gestures, the same figures, in the training file's order."""
    train = _npz(tmp_path / "a.npz", streams, range(4))
    text = [lab.astype(str) for lab in streams.labels]
    reports = []
    for name, replace in (("same", {}), ("reversed", {"gesture_labels": [2, 1]}),
                          ("text", {"gesture_labels": ["2", "1"], "labels": text})):
        test = _npz(tmp_path / f"{name}.npz", streams, range(4, 8), **replace)
        out = tmp_path / f"{name}.json"
        assert main(["eval", "--spotting", "--train", train, "--test", test, *ARGS,
                     "--json", str(out)]) == 0
        reports.append(json.loads(out.read_text())["metrics"])
    assert list(reports[0]["per_class"]) == ["1", "2"] and reports[0]["events"] == 24
    assert reports[1] == reports[0] == reports[2]
