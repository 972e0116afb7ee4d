"""The spotting protocol of HAPT's README, on hand-made cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gesturemap.evaluation.spotting.scores import (
    ground_truth_events,
    match_detections,
    spotting_metrics,
)


def test_ground_truth_events_are_maximal_runs_of_one_gesture() -> None:
    lab = np.array([1, 1, 7, 7, 7, 8, 8, -1, 7, 4])
    assert ground_truth_events(lab, range(7, 13)) == [(7, 2, 4), (8, 5, 6), (7, 8, 8)]


def test_matching_rule() -> None:
    truth = [("a", 100, 150), ("a", 160, 170), ("b", 300, 350)]
    detections = [
        ("a", 99),    # before the start: false positive
        ("a", 165),   # inside both windows of "a": takes the one with the smallest end (150)
        ("a", 171),   # event 1 taken: the other "a" (ends 170, +50 tolerance)
        ("a", 200),   # both "a" matched already: false positive
        ("b", 400),   # end + 50 exactly: true positive, delay 1.0 s
        ("b", 401),   # nothing left: false positive
    ]
    res = match_detections(truth, list(reversed(detections)), tolerance=50, null_frames=3000)
    assert res.true_positives == [("a", 165, 150), ("a", 171, 170), ("b", 400, 350)]
    assert res.false_positives == [("a", 99), ("a", 200), ("b", 401)]
    assert res.missed == []
    m = spotting_metrics([res], ["a", "b"], rate_hz=50.0)
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == 1.0
    assert m["f1"] == pytest.approx(2 / 3)
    # per class: a 2 TP / 2 FP -> F1 2/3; b 1 TP / 1 FP -> F1 2/3
    assert m["macro_f1"] == pytest.approx(2 / 3)
    delays = sorted([(165 - 150) / 50, (171 - 170) / 50, (400 - 350) / 50])
    assert m["delay_median_s"] == pytest.approx(delays[1])
    assert m["delay_p90_s"] == pytest.approx(np.percentile(delays, 90))
    assert m["false_alarms_per_min"] == pytest.approx(3 / (3000 / 50 / 60))
    # inside a real gesture's window: 200 only ("a" found a third time, within 160-170 + 50);
    # 99 is before every start and 401 one frame past "b"'s 300-350 + 50: on null
    assert res.misnamed == 1 and m["false_inside_gestures"] == 1


def test_wrong_label_is_a_false_positive_and_a_miss() -> None:
    res = match_detections([("a", 10, 20)], [("b", 15)], tolerance=50, null_frames=100)
    assert res.true_positives == [] and res.false_positives == [("b", 15)]
    assert res.missed == [("a", 10, 20)]
    assert res.misnamed == 1  # "a" named "b"
    m = spotting_metrics([res], ["a", "b"])
    assert m["f1"] == 0.0 and m["macro_f1"] == 0.0
    assert math.isnan(m["delay_median_s"])


def test_eval_spotting_command_line(tmp_path, capsys) -> None:
    import json

    from gesturemap.cli import main
    from tests.models.spotting.test_core_spotting import _gesture, _rest

    rng = np.random.default_rng(2)
    xs, labels, subject = [], [], []
    for session in range(6):
        parts, lab = [], []
        for name, code in [("circle", 1), ("zigzag", 2), ("circle", 1), ("zigzag", 2)]:
            r = _rest(int(rng.integers(80, 140)), rng)
            g = _gesture(name, int(rng.integers(45, 60)), rng)
            parts += [r, g]
            lab += [0] * len(r) + [code] * len(g)
        r = _rest(100, rng)
        parts.append(r)
        lab += [0] * len(r)
        xs.append(np.vstack(parts))
        labels.append(np.array(lab, dtype=np.int8))
        subject.append(session // 2)
    path = tmp_path / "streams.npz"
    np.savez(path, X_concat=np.vstack(xs).astype(np.float32),
             labels_concat=np.concatenate(labels), lengths=[len(x) for x in xs],
             subject=subject, gesture_labels=[1, 2])
    out = tmp_path / "report.json"
    code = main(["eval", "--spotting", "--train", str(path), "--folds", "3", "--param",
                 "states=6", "--json", str(out), "--quiet"])
    assert code == 0
    report = json.loads(out.read_text())
    m = report["metrics"]
    assert m["events"] == 24 and m["f1"] >= 0.9, m
    printed = capsys.readouterr().out
    assert "F1" in printed
    # a line a gesture: events, found, false alarms named after it (which one to work on)
    rows = printed.splitlines()
    header = rows.index("gesture  events  found  false  precision  recall     F1")
    for label, line in zip(("1", "2"), rows[header + 1:header + 3], strict=True):
        c = m["per_class"][label]
        assert line.split()[:4] == [label, str(c["support"]), str(c["true_positives"]),
                                    str(c["false_positives"])]
    assert sum(c["false_positives"] for c in m["per_class"].values()) == m["false_positives"]
    # a bad setting is one line on stderr and exit code 2
    assert main(["eval", "--spotting", "--train", str(path), "--spot", "nope=1",
                 "--quiet"]) == 2
    # the same streams labelled with text, as `gesturemap train --verifier` reads rehearsals
    # (no gesture list: every label but "null"): the same events, the same figures
    named = tmp_path / "named.npz"
    text = np.array(["null", "circle", "zigzag"])[np.concatenate(labels)]
    np.savez(named, X_concat=np.vstack(xs).astype(np.float32), labels_concat=text,
             lengths=[len(x) for x in xs], subject=subject)
    out2 = tmp_path / "named.json"
    assert main(["eval", "--spotting", "--train", str(named), "--folds", "3", "--param",
                 "states=6", "--json", str(out2), "--quiet"]) == 0
    m2 = json.loads(out2.read_text())["metrics"]
    assert {k: m2[k] for k in ("events", "f1", "false_positives")} == {
        k: m[k] for k in ("events", "f1", "false_positives")}


def test_null_takes_are_contiguous_runs_of_the_stream() -> None:
    from gesturemap.evaluation.spotting.cv import Streams, make_dataset, null_runs
    from gesturemap.models.spotting.core import NULL

    # one session: frame t's input is t, so a take's frames are consecutive iff its inputs step by 1
    lab = np.zeros(5000, dtype=np.int64)
    lab[1200:1400] = 7
    lab[3000:3030] = 8
    lab[4980:] = 7  # a null run of 1550 frames, then one cut short by a gesture
    x = np.arange(5000, dtype=np.float64)[:, None].repeat(2, axis=1)
    st = Streams([x], [lab], np.array([1]), [7, 8], 50.0)
    assert null_runs(lab == 0) == [(0, 1200), (1400, 3000), (3030, 4980)]
    ds = make_dataset(st, [0], lambda a: a, null_take=100, null_every=1000)
    nulls = [r.inputs[:, 0] for r in ds if r.label == NULL]
    starts = sorted(int(t[0]) for t in nulls)
    assert starts == [0, 1000, 1400, 2400, 3030, 4030]
    for t in nulls:
        assert np.all(np.diff(t) == 1)  # consecutive frames, not every n-th
        assert np.all(lab[t.astype(int)] == 0)  # never a gesture frame
    assert sorted(len(t) for t in nulls) == [100] * 6
    gest = sorted((r.label, len(r.inputs)) for r in ds if r.label != NULL)
    assert gest == [("7", 20), ("7", 200), ("8", 30)]
    # a run shorter than half a take gives none; a take is cut at its run's end
    ds = make_dataset(st, [0], lambda a: a, null_take=100, null_every=150)
    nulls = [r.inputs[:, 0] for r in ds if r.label == NULL]
    assert all(np.all(lab[t.astype(int)] == 0) and np.all(np.diff(t) == 1) for t in nulls)
    assert min(len(t) for t in nulls) >= 50


def ramp_streams(seed: int, excursions: bool = False) -> Any:
    """8 sessions (2 per subject) of ramps up (0 -> 1, label 1) and down (1 -> 0, label 2)
    between rests: a GMM without deltas cannot tell them apart (same values), so its labels
    are guesses. With ``excursions``, rests on 0 are broken by a null "up and straight back
    down" that the GMM also takes for a ramp."""
    from gesturemap.evaluation.spotting.cv import Streams
    from tests.models.spotting.test_core_deltas import _ramp, _rest

    rng = np.random.default_rng(seed)
    xs, labels = [], []
    for _ in range(8):
        parts, lab, level = [], [], 0.0
        for k in range(6):
            r = _rest(int(rng.integers(60, 100)), level, rng)
            g = _ramp(level == 0.0, int(rng.integers(35, 45)), rng)
            parts += [r, g]
            lab += [0] * len(r) + [1 if level == 0.0 else 2] * len(g)
            level = 1.0 - level
            if excursions and k % 2 == 1:
                r = _rest(int(rng.integers(60, 100)), level, rng)
                n = int(rng.integers(20, 25))
                e = np.vstack([_ramp(True, n, rng), _ramp(False, n, rng)])
                parts += [r, e]
                lab += [0] * (len(r) + len(e))
        r = _rest(80, level, rng)
        xs.append(np.vstack([*parts, r]))
        labels.append(np.array(lab + [0] * len(r)))
    return Streams(xs, labels, np.arange(8) // 2, [1, 2], 50.0)


@pytest.mark.parametrize("relabeller", ["dtw", "stats"])
def test_nested_cv_chooses_relabelling_when_it_fixes_labels(relabeller: str) -> None:
    """Ramps up and down that a GMM without deltas cannot tell apart (its labels are guesses);
    1-NN DTW on each event's frames can, and so can the summary statistics' logistic
    regression (start and end posture). The nested CV's inner folds choose relabelling, and
    the held-out labels are right."""
    import gesturemap as gm
    from gesturemap.evaluation.spotting.cv import SegmentStats, nested_cv

    st = ramp_streams(4)
    labels = st.labels
    # the statistics see the rest the spotter's segment ends with (it was trained on the bare
    # takes): on these few takes a context helps it in one inner CV
    contexts = [None, 0] if relabeller == "dtw" else [None, 0, 25]
    res = nested_cv(st, lambda: gm.GMM(gaussians=1, deltas=False),
                    {"gmm_frames": [40], "relabel_context": contexts}, lambda a: a,
                    outer=2, inner=2, log=lambda s: None,
                    make_relabeler=lambda d: (SegmentStats() if relabeller == "stats" else
                                              gm.DTW(normalization="take", n_jobs=1)).fit(d))
    assert None not in [c["relabel_context"] for c in res["chosen"]]
    if relabeller == "dtw":
        assert [c["relabel_context"] for c in res["chosen"]] == [0, 0]
    for table in res["inner"]:
        f1 = {c["relabel_context"]: m["f1"] for c, m in table}
        assert max(f1[c] for c in contexts[1:]) > f1[None] + 0.2, table
    assert res["metrics"]["f1"] > 0.9, res["metrics"]
    for i, events in res["events"].items():  # the events kept are the relabelled ones
        truth = [str(lb) for lb, _, _ in ground_truth_events(labels[i], [1, 2])]
        assert [e.label for e in events] == truth


EVAL = ["eval", "--spotting", "--model", "gmm", "--param", "gaussians=1", "--param",
        "deltas=false", "--spot", "gmm_frames=40", "--quiet"]


@pytest.fixture(scope="module")
def ramps() -> Any:
    return ramp_streams(4)


def _file(path: Any, st: Any, idx: Any = range(8), **replace: Any) -> str:
    """Sessions ``idx`` of ``st`` as a stream file (``replace``: other arrays, None: none)."""
    from tests.test_cli_train_verifier import _npz

    return str(_npz(path, st, idx, **replace))


def _refused(argv: list[str], capsys: Any, message: str) -> str:
    """Run the command: exit code 2 and one line on stderr holding ``message`` (returned)."""
    from gesturemap.cli import main

    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("case, message", [
    ("few subjects", "2 subjects for 4 recordings: give one per recording"),
    ("more subjects", "5 subjects for 4 recordings"),
    ("lengths", "summing to X_concat's"),
    ("labels", "a label per frame"),
    ("empty", "no X_concat, labels_concat, lengths"),
    ("one array", "is damaged or not an .npz file"),
    ("no bytes", "is damaged or not an .npz file"),
    ("nan frames", "X_concat holds values that are not finite numbers"),
    ("no gesture", "no frame is labelled with a gesture (7, 8"),
])
def test_a_bad_stream_file_is_one_line_and_exit_2(ramps, tmp_path, capsys, case,
                                                  message) -> None:
    """``eval --spotting`` checks its stream files as ``train --verifier`` does (the same
    reader): never silently wrong figures, never a traceback; the file named once."""
    path = str(tmp_path / "s.npz")
    x, lab = np.vstack(ramps.sessions[:4]), np.concatenate(ramps.labels[:4])
    replace = {"few subjects": {"subject": np.array([0, 1])},
               "more subjects": {"subject": np.arange(5)},
               "lengths": {"lengths": np.array([100, 100, 100, 100])},
               "labels": {"labels_concat": lab[:-3]},
               "nan frames": {"X_concat": np.where(np.arange(len(x))[:, None] == 9, np.nan, x)},
               "no gesture": {"gesture_labels": None}}.get(case)
    if replace is not None:
        _file(path, ramps, range(4), **replace)
    elif case == "empty":
        np.savez(path)
    elif case == "one array":
        path = str(tmp_path / "s.npy")
        np.save(path, x)
    else:
        open(path, "wb").close()
    err = _refused([*EVAL, "--train", path, "--folds", "2"], capsys, message)
    assert err.count(path) == 1, err
    _refused([*EVAL, "--train", _file(tmp_path / "a.npz", ramps, range(4)), "--test", path],
             capsys, message)


def test_whole_number_labels_are_read_as_the_integers_they_are(ramps, tmp_path) -> None:
    from gesturemap.errors import GesturemapError
    from gesturemap.evaluation.spotting.streams import load_streams

    lab = np.concatenate(ramps.labels[:4])
    ints = load_streams(_file(tmp_path / "i.npz", ramps, range(4)))
    floats = load_streams(_file(tmp_path / "f.npz", ramps, range(4),
                                labels_concat=lab.astype(np.float32),
                                gesture_labels=np.array([1.0, 2.0])))
    assert floats.gestures == ints.gestures == [1, 2]
    for a, b in zip(floats.labels, ints.labels, strict=True):
        assert a.dtype.kind == "i"
        np.testing.assert_array_equal(a, b)
    # HAPT's numbering as floats, no gesture list: its transitions 7-12 are the gestures
    hapt = load_streams(_file(tmp_path / "h.npz", ramps, range(4), gesture_labels=None,
                              labels_concat=np.where(lab > 0, lab + 6, 0).astype(float)))
    assert hapt.gestures == list(range(7, 13)) and hapt.labels[0].dtype.kind == "i"
    assert load_streams(_file(tmp_path / "g.npz", ramps, range(4)), ["1", 2.0]).gestures == [1, 2]
    with pytest.raises(GesturemapError, match=r"the gestures \['up'\] are not"):
        load_streams(_file(tmp_path / "u.npz", ramps, range(4)), ["up", 2])
    with pytest.raises(GesturemapError, match="rate_hz"):
        load_streams(_file(tmp_path / "r.npz", ramps, range(4)), rate_hz=0)


@pytest.mark.parametrize("rate", ["0", "-50", "nan", "inf", "fast"])
def test_a_rate_that_is_not_a_positive_number_is_refused(ramps, tmp_path, capsys,
                                                         rate) -> None:
    from gesturemap.cli import main

    with pytest.raises(SystemExit) as exc:
        main([*EVAL, "--train", _file(tmp_path / "s.npz", ramps), "--rate", rate])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].endswith(
        f"argument --rate: {rate}: frames per second, a finite number > 0"), err


@pytest.mark.parametrize("extra, message", [
    (["--plots", "PLOTS"], "--plots with --spotting: spotting draws no plots"),
    (["--standardize"], "--standardize with --spotting"),
    (["--leave-one-out"], "--leave-one-out with --spotting: spotting's folds hold out subjects"),
    (["--group-by", "subject"], "--group-by with --spotting"),
    (["--seed", "0"], "--seed with --spotting: spotting's folds are not shuffled"),
    (["--jobs", "2"], "--jobs with --spotting"),
    (["--early", "none"], "--early with --spotting"),
    (["--project", "P"], "--project with --spotting"),
    (["--verifier-context", "50"], "--verifier-context: the second stage's setting(s); add "
                                   "--verify or --relabel"),
    (["--verifier-folds", "3", "--verifier-confidence", "none"],
     "--verifier-folds, --verifier-confidence: the second stage's"),
    (["--folds", "9"], "the streams come from 4 subjects; spotting's 9-fold cross-validation "
                       "holds out subjects, so it needs at least 9: give --folds 4 or fewer"),
    (["--folds", "2", "--verify", "--verifier-folds", "3"],
     "(each fold trains on as few as 2); the second stage's cross-fitting over 3 folds needs "
     "at least 3 groups of training subjects: give --verifier-folds 2 or fewer, or --folds 4"),
])
def test_an_option_spotting_would_ignore_is_refused(ramps, tmp_path, capsys, extra,
                                                    message) -> None:
    """Refused before any training, naming the option: never silently ignored."""
    _refused([*EVAL, "--train", _file(tmp_path / "s.npz", ramps), *extra], capsys, message)


def test_spotting_options_without_spotting_are_refused(ramps, tmp_path, capsys) -> None:
    path = _file(tmp_path / "s.npz", ramps)
    _refused(["eval", "--train", path, "--model", "gmm", "--verify", "--rate", "100"], capsys,
             "--rate, --verify: for --spotting")


def test_one_subject_is_said_before_any_training(ramps, tmp_path, capsys) -> None:
    """Not "an empty dataset" nor "give folds <= 0": how many subjects, and how many the
    cross-validation (or the second stage's cross-fitting) needs."""
    one = _file(tmp_path / "one.npz", ramps, range(4), subject=np.zeros(4, dtype=int))
    for extra in ([], ["--relabel"], ["--verify", "--verifier-folds", "2"]):
        _refused([*EVAL, "--train", one, *extra], capsys,
                 "the streams come from 1 subject; spotting's 3-fold cross-validation holds "
                 "out subjects, so it needs at least 3")
    test = _file(tmp_path / "test.npz", ramps, range(4, 8))
    for flag in ("--verify", "--relabel"):
        _refused([*EVAL, "--train", one, "--test", test, flag], capsys,
                 "the training streams come from 1 subject; the second stage's cross-fitting "
                 "over 2 folds needs at least 2 groups of training subjects")


def test_an_output_that_is_a_file_read_is_refused(ramps, tmp_path, capsys) -> None:
    train, test = _file(tmp_path / "a.npz", ramps, range(4)), _file(tmp_path / "b.npz", ramps,
                                                                    range(4, 8))
    (tmp_path / "link.npz").symlink_to(test)
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    for argv in ([*EVAL, "--train", train, "--test", test, "--json", test],
                 [*EVAL, "--train", train, "--test", test, "--csv", str(tmp_path / "link.npz")],
                 [*EVAL, "--train", str(tmp_path / "link.npz"), "--json",
                  str(tmp_path / "." / "b.npz")],
                 ["eval", "--train", train, "--test", test, "--model", "gmm", "--json", train]):
        _refused(argv, capsys, "is a file it reads, which the output would replace: write it "
                               "elsewhere")
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_outputs_that_would_be_lost_are_refused_before_the_work(ramps, tmp_path,
                                                                 capsys) -> None:
    """Two outputs naming one file (the CSV replaced the JSON), an output that is a folder or
    in a folder that does not exist (found only after the whole evaluation): refused first,
    one line, nothing written."""
    train, test = _file(tmp_path / "a.npz", ramps, range(4)), _file(tmp_path / "b.npz", ramps,
                                                                    range(4, 8))
    out = str(tmp_path / "out.txt")
    (tmp_path / "folder").mkdir()
    for argv, message in (
            ([*EVAL, "--train", train, "--test", test, "--json", out, "--csv", out],
             "is given for two outputs"),
            (["eval", "--train", train, "--test", test, "--model", "gmm", "--json", out,
              "--csv", str(tmp_path / "." / "out.txt")], "is given for two outputs"),
            ([*EVAL, "--train", train, "--test", test, "--json", str(tmp_path / "folder")],
             "is a folder: give a file's path"),
            (["eval", "--train", train, "--test", test, "--model", "gmm", "--csv",
              str(tmp_path / "missing" / "r.csv")], "does not exist")):
        _refused(argv, capsys, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz", "folder"]


def test_eval_spotting_csv_is_the_table_printed(ramps, tmp_path, capsys) -> None:
    import csv
    import json

    from gesturemap.cli import main

    out, table = tmp_path / "r.json", tmp_path / "r.csv"
    assert main([*EVAL, "--train", _file(tmp_path / "s.npz", ramps), "--folds", "2",
                 "--json", str(out), "--csv", str(table)]) == 0
    m = json.loads(out.read_text())["metrics"]
    rows = list(csv.DictReader(table.read_text().splitlines()))
    assert [r["gesture"] for r in rows] == [*m["per_class"], "micro"]
    for row in rows:
        v = m if row["gesture"] == "micro" else m["per_class"][row["gesture"]]
        assert int(row["events"]) == v["support" if row["gesture"] != "micro" else "events"]
        assert (int(row["found"]), int(row["false"])) == (v["true_positives"],
                                                          v["false_positives"])
        for key in ("precision", "recall", "f1"):
            assert float(row[key]) == pytest.approx(v[key], rel=1e-5)
