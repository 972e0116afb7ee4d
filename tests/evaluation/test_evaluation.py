"""Evaluation: folds, metrics, reports, plots, and ``gesturemap eval`` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

import gesturemap as gm
from gesturemap import cli
from gesturemap import evaluation as ev
from gesturemap.features import Pipeline
from gesturemap.features.stages import Standardize

LABELS = ("circle", "swipe", "zigzag")
GMM = {"gaussians": 1}


def gesture(label: str, rng: np.random.Generator, length: int | None = None) -> np.ndarray:
    """A 2-D take: each class has its own centre and its own drift over the take."""
    c = LABELS.index(label)
    n = int(length or rng.integers(15, 30))
    t = np.linspace(0.0, 1.0, n)[:, None]
    centre = np.array([3.0 * c, -2.0 * c])
    drift = np.array([np.cos(c), np.sin(c)])
    return centre + t * drift + 0.4 * rng.normal(size=(n, 2))


def dataset(per_class: int, seed: int, confusing: bool = False) -> gm.Dataset:
    rng = np.random.default_rng(seed)
    ds = gm.Dataset()
    for i in range(per_class):
        for label in LABELS:
            x = gesture(label, rng)
            if confusing and label == "zigzag" and i % 2 == 0:
                x = gesture("swipe", rng)  # a mislabelled take: not every answer is right
            ds.add(x, label=label)
    return ds


def share_right(predicted, truth) -> float:
    return float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))


def write_npz(path, ds: gm.Dataset, **extra) -> None:
    stacked = ds.concatenated()
    arrays = {"X_concat": stacked.inputs, "lengths": stacked.lengths, "y": np.array(stacked.labels)}
    if stacked.outputs is not None:
        arrays["Y_concat"] = stacked.outputs
    np.savez(path, **arrays, **extra)


# ---- folds --------------------------------------------------------------------------------------


def test_stratified_kfold_partitions_and_stratifies():
    labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 7
    folds = ev.stratified_kfold(labels, 5, seed=3)
    assert len(folds) == 5
    everything = np.concatenate(folds)
    assert sorted(everything.tolist()) == list(range(len(labels)))  # each item tested once
    for test in folds:
        counts = Counter(labels[i] for i in test)
        assert counts["a"] == 2 and counts["b"] == 1 and counts["c"] in (1, 2)
    again = ev.stratified_kfold(labels, 5, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(folds, again, strict=True))
    other = ev.stratified_kfold(labels, 5, seed=4)
    assert any(not np.array_equal(a, b) for a, b in zip(folds, other, strict=True))
    with pytest.raises(gm.GesturemapError, match="folds"):
        ev.stratified_kfold(labels, 1)
    with pytest.raises(gm.GesturemapError, match="folds"):
        ev.stratified_kfold(labels[:3], 4)
    # 4 takes per class, 5 folds: what to do, not scikit-learn's "n_splits=5 cannot be
    # greater than the number of members in each class"
    with pytest.raises(gm.GesturemapError, match="largest class \\(4\\).*--folds 4"):
        ev.stratified_kfold(["a"] * 4 + ["b"] * 4, 5)
    # one take a class: no "--folds 1 or fewer", which folds >= 2 then refuses
    with pytest.raises(gm.GesturemapError, match="record a second take") as caught:
        ev.stratified_kfold(["a", "b", "c"], 2)
    assert "--folds 1" not in str(caught.value)


def test_leave_one_group_out_leaves_each_group_out_once():
    groups = ["s1", "s2", "s1", "s3", "s2", "s3", "s3"]
    folds = ev.leave_one_group_out(groups)
    assert [sorted({groups[i] for i in f}) for f in folds] == [["s1"], ["s2"], ["s3"]]
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(groups)))
    with pytest.raises(gm.GesturemapError, match="two groups"):
        ev.leave_one_group_out(["only"] * 3)


def test_checkpoints_read_the_label_at_each_share_of_the_gesture():
    assert ev.checkpoints(10) == list(range(10))
    assert ev.checkpoints(7, (0.1, 0.5, 1.0)) == [0, 3, 6]
    assert ev.checkpoints(100, (0.25, 1.0)) == [24, 99]


# ---- metrics ------------------------------------------------------------------------------------


def test_classification_metrics_by_hand():
    truth = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "c"]
    m = ev.classification_metrics(["a", "b", "c"], truth, predicted)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion"].tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    a, b, c = m["per_class"]
    assert (a["precision"], a["recall"], a["support"]) == (1.0, pytest.approx(2 / 3), 3)
    assert b["precision"] == 0.5 and b["recall"] == 0.5 and b["f1"] == 0.5
    assert c["f1"] == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert m["macro_f1"] == pytest.approx(np.mean([0.8, 0.5, 2 / 3]))


def test_macro_f1_counts_a_class_only_ever_predicted_wrongly_as_scikit_learn_does():
    from sklearn.metrics import f1_score

    # "c" is never true (a held-out test set without it) but predicted once: its F1 is 0
    truth, predicted = ["a", "a", "b", "b"], ["a", "c", "b", "b"]
    m = ev.classification_metrics(["a", "b", "c"], truth, predicted)
    assert m["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    assert m["macro_f1"] == pytest.approx(np.mean([2 / 3, 1.0, 0.0]))
    # a class neither true nor predicted stays out, as in scikit-learn
    m = ev.classification_metrics(["a", "b", "c", "d"], truth, predicted)
    assert m["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))


def test_regression_metrics_by_hand():
    truth = np.array([[0.0, 1.0], [0.0, 1.0]])
    estimate = np.array([[1.0, 1.0], [-3.0, 1.0]])
    m = ev.regression_metrics(truth, estimate)
    assert m["rmse"] == pytest.approx([np.sqrt(5.0), 0.0])
    assert m["mae"] == pytest.approx([2.0, 0.0])


# ---- protocols ----------------------------------------------------------------------------------


def test_holdout_matches_an_independent_computation(tmp_path):
    train, test = dataset(4, seed=1), dataset(3, seed=2, confusing=True)
    report = ev.holdout("gmm", train, test, params=GMM)
    model = gm.GMM(**GMM).fit(train)
    truth = [r.label for r in test]
    predicted = model.predict([r.inputs for r in test])
    assert report.accuracy == pytest.approx(share_right(predicted, truth))
    assert report.accuracy < 1.0  # the mislabelled takes are counted wrong
    assert [p["predicted"] for p in report.predictions] == predicted
    assert report.confusion.sum() == len(test)
    assert report.params["gaussians"] == 1 and "relative_regularization" in report.params
    # the early curve streams each recording: at 100 % it is the stream's label at the last frame
    stream = model.stream()
    last = []
    for r in test:
        stream.reset()
        last.append([stream.step(f) for f in r.inputs][-1].label)
    assert report.early["method"] == "stream" and len(report.early["accuracy"]) == 10
    assert report.early["accuracy"][-1] == pytest.approx(share_right(last, truth))
    prefix = ev.holdout("gmm", train, test, params=GMM, early="prefix")
    first = [model.predict([r.inputs[: ev.checkpoints(r.length)[0] + 1]])[0] for r in test]
    assert prefix.early["accuracy"][0] == pytest.approx(share_right(first, truth))
    assert prefix.early["accuracy"][-1] == pytest.approx(report.accuracy)
    both = ev.holdout("gmm", train, test, params=GMM, early="both")
    assert both.early["accuracy"] == report.early["accuracy"]
    assert both.early["prefix_accuracy"] == prefix.early["accuracy"]


def test_holdout_standardizes_with_training_statistics_only():
    train, test = dataset(3, seed=5), dataset(2, seed=6)
    scaled_train, scaled_test = ev.standardized(train, test)
    frames = train.concatenated().inputs
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    assert np.allclose(scaled_test[0].inputs, (test[0].inputs - mean) / std)
    assert np.allclose(scaled_train.concatenated().inputs.mean(axis=0), 0.0)
    report = ev.holdout("gmm", train, test, params=GMM, standardize=True, early="none")
    expected = gm.GMM(**GMM).fit(scaled_train).predict([r.inputs for r in scaled_test])
    assert [p["predicted"] for p in report.predictions] == expected
    assert report.early is None


def test_cross_validation_tests_every_recording_once():
    ds = dataset(5, seed=7, confusing=True)
    report = ev.cross_validate("gmm", ds, folds=5, params=GMM, seed=1)
    assert len(report.folds) == 5
    assert sorted(p["recording"] for p in report.predictions) == list(range(len(ds)))
    assert sum(f["n_test"] for f in report.folds) == len(ds)
    assert all(f["n_train"] + f["n_test"] == len(ds) for f in report.folds)
    # pooled accuracy = hits over all recordings, recomputed from the per-recording list
    hits = [p["label"] == p["predicted"] for p in report.predictions]
    assert report.accuracy == pytest.approx(np.mean(hits))
    assert [p["label"] for p in sorted(report.predictions, key=lambda p: p["recording"])] == [
        r.label for r in ds
    ]
    again = ev.cross_validate("gmm", ds, folds=5, params=GMM, seed=1)
    assert again.predictions == report.predictions


def test_leave_one_group_out_and_parallel_folds_agree():
    ds = dataset(4, seed=8, confusing=True)
    groups = [i % 4 for i in range(len(ds))]
    serial = ev.cross_validate("gmm", ds, groups=groups, params=GMM, early="none")
    assert len(serial.folds) == 4 and serial.protocol["name"] == "leave-one-group-out"
    for k, fold in enumerate(serial.folds):
        tested = [p for p in serial.predictions if p["fold"] == k]
        # one group per fold, all of it
        assert [p["recording"] for p in tested] == [i for i, g in enumerate(groups) if g == k]
        assert {p["group"] for p in tested} == {k} and len(tested) == fold["n_test"]
    parallel = ev.cross_validate("gmm", ds, groups=groups, params=GMM, early="none", n_jobs=2)
    assert parallel.predictions == serial.predictions


def test_project_leave_one_take_out_fits_the_pipeline_per_fold():
    rng = np.random.default_rng(9)
    project = gm.Project(model={"kind": "gmm", "params": GMM}, pipeline=Pipeline([Standardize()]))
    for _ in range(3):
        for label in LABELS:
            project.add_take(100.0 + 10.0 * gesture(label, rng), label)  # raw units: scaled
    report = ev.evaluate_project(project, early="none")
    ids = [t.id for t in project.takes]
    assert report.protocol["name"] == "leave-one-take-out" and len(report.folds) == len(ids)
    # every take is left out exactly once, alone
    assert [p["recording"] for p in report.predictions] == ids
    assert all(f["n_test"] == 1 and f["n_train"] == len(ids) - 1 for f in report.folds)
    assert not project.pipeline.fitted  # the project's own pipeline is untouched
    # fold 0 by hand: fit the pipeline on the other takes, train, predict the first take
    rest = Pipeline([Standardize()]).fit([t.inputs for t in project.takes[1:]])
    train = gm.Dataset()
    for t in project.takes[1:]:
        train.add(rest.transform_sequence(t.inputs), t.label)
    first = rest.transform_sequence(project.takes[0].inputs)
    assert report.predictions[0]["predicted"] == gm.GMM(**GMM).fit(train).predict([first])[0]
    kfold = ev.evaluate_project(project, folds=3, early="none")
    assert len(kfold.folds) == 3 and sorted(p["recording"] for p in kfold.predictions) == sorted(
        ids
    )


def test_regression_report_compares_streamed_outputs(tmp_path):
    rng = np.random.default_rng(10)
    train, test = gm.Dataset(output_names=["pitch"]), gm.Dataset(output_names=["pitch"])
    for ds, n in ((train, 4), (test, 2)):
        for _ in range(n):
            x = rng.uniform(-1, 1, size=(40, 1))
            ds.add(x, label="take", outputs=2.0 * x + 0.05 * rng.normal(size=(40, 1)))
    write_npz(tmp_path / "train.npz", train)  # with Y_concat: a bimodal dataset file
    loaded, _ = ev.load_npz_dataset(tmp_path / "train.npz")
    assert loaded.is_bimodal and np.array_equal(loaded[3].outputs, train[3].outputs)
    report = ev.holdout("gmm", loaded, test, params={"gaussians": 2})
    assert report.task == "regression" and report.accuracy is None
    model = gm.GMM(gaussians=2).fit(train)
    estimate, truth = [], []
    for r in test:
        stream = model.stream()
        estimate += [stream.step(f).output for f in r.inputs]
        truth.append(r.outputs)
    error = np.vstack(estimate) - np.vstack(truth)
    assert report.regression["outputs"] == ["pitch"]
    assert report.regression["rmse"] == pytest.approx([np.sqrt(np.mean(error**2))])
    assert report.regression["mae"] == pytest.approx([np.mean(np.abs(error))])
    assert report.regression["rmse"][0] < 0.5  # it did learn y = 2x
    assert "rmse" in report.to_csv() and "regression" in report.to_dict()


def test_one_model_per_output_is_compared_output_by_output():
    """Outputs are matched by name; a column of class numbers also gets its frame accuracy."""
    rng = np.random.default_rng(20)
    train, test = (
        gm.Dataset(["a", "c"], ["pitch", "part"]),
        gm.Dataset(["a", "c"], ["pitch", "part"]),
    )
    for ds, takes in ((train, 4), (test, 2)):
        for _ in range(takes):
            a = rng.uniform(-1, 1, 40)
            half = np.arange(40) < 20
            c = np.where(half, -1.0, 1.0) + 0.8 * rng.standard_normal(40)  # overlapping parts
            ds.add(np.c_[a, c], label="take", outputs=np.c_[2 * a + 1, np.where(half, 1, 2)])
    specs = [
        {"kind": "tree", "inputs": ["c"], "target": "part", "type": "classifier"},
        {"kind": "linear", "inputs": ["a"], "target": "pitch"},
    ]
    report = ev.holdout("per_output", train, test, params={"outputs": specs})
    assert report.regression["outputs"] == ["part", "pitch"]  # the model's order, by name
    model = gm.PerOutput(specs).fit(train)
    estimate = np.vstack([model.predict_outputs(r.inputs) for r in test])
    truth = np.vstack([r.outputs for r in test])
    right = np.mean(estimate[:, 0] == truth[:, 1])
    assert report.regression["frame_accuracy"] == [pytest.approx(right), None]
    assert 0.5 < right < 1.0
    assert report.regression["rmse"][1] < 1e-9  # pitch = 2 a + 1 exactly
    assert "right class in" in report.summary() and "frame_accuracy" in report.to_csv()
    only_label = {"outputs": [{"kind": "knn", "target": "label"}]}  # no recorded counterpart
    with pytest.raises(gm.GesturemapError, match="nothing to compare"):
        ev.holdout("per_output", train, test, params=only_label)


def test_report_files(tmp_path):
    report = ev.holdout("gmm", dataset(3, seed=11), dataset(2, seed=12, confusing=True), params=GMM)
    report.to_json(tmp_path / "r.json")
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["accuracy"] == pytest.approx(report.accuracy)
    assert ev.Report.from_dict(saved).to_dict() == report.to_dict()  # a saved report reloads
    assert saved["confusion"] == report.confusion.tolist()
    assert saved["labels"] == list(LABELS)
    rows = report.to_csv(tmp_path / "r.csv").splitlines()
    assert rows[0] == "label,precision,recall,f1,support" and rows[1].startswith("circle,")
    assert rows[4].startswith("accuracy,") and float(rows[4].split(",")[3]) == pytest.approx(
        report.accuracy, abs=1e-5
    )
    paths = report.save_plots(tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["confusion.png", "early.png", "f1.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2000
    (tmp_path / "a-file").write_text("x")  # --plots naming a file: one clear error, file kept
    with pytest.raises(gm.GesturemapError, match="plots folder.*It is a file"):
        report.save_plots(tmp_path / "a-file")
    assert (tmp_path / "a-file").read_text() == "x"


def test_bad_model_and_parameters_fail_before_any_fold():
    ds = dataset(2, seed=13)
    with pytest.raises(gm.GesturemapError, match="nope"):
        ev.holdout("nope", ds, ds)
    with pytest.raises(gm.GesturemapError, match="gaussianz"):
        ev.holdout("gmm", ds, ds, params={"gaussianz": 2})
    with pytest.raises(gm.GesturemapError, match="early"):
        ev.holdout("gmm", ds, ds, early="sometimes")


# ---- the command line ---------------------------------------------------------------------------


def run_cli(args: str | list[str], cwd):
    """``gesturemap eval ARGS`` in a new process, in folder ``cwd``."""
    argv = args.split() if isinstance(args, str) else args
    command = [sys.executable, "-m", "gesturemap.cli", "eval", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_cli_holdout_writes_reports_with_top_level_accuracy(tmp_path):
    train, test = dataset(4, seed=14), dataset(3, seed=15, confusing=True)
    write_npz(tmp_path / "A.npz", train)
    write_npz(tmp_path / "B.npz", test)
    out = run_cli(
        "--train A.npz --test B.npz --model gmm --param gaussians=1 --json r.json --csv r.csv "
        "--plots plots --quiet",
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    saved = json.loads((tmp_path / "r.json").read_text())
    expected = (
        gm.GMM(gaussians=1)
        .fit(gm.Dataset.from_npz(tmp_path / "A.npz"))
        .predict([r.inputs for r in gm.Dataset.from_npz(tmp_path / "B.npz")])
    )
    truth = [r.label for r in test]
    assert saved["accuracy"] == pytest.approx(share_right(expected, truth))
    assert 0 < saved["accuracy"] < 1
    assert f"accuracy {saved['accuracy']:.4f}" in out.stdout
    assert (tmp_path / "r.csv").read_text().startswith("label,")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "confusion.png",
        "early.png",
        "f1.png",
    ]


def test_cli_cross_validation_on_one_file(tmp_path, capsys):
    ds = dataset(4, seed=16, confusing=True)
    write_npz(tmp_path / "A.npz", ds, subject=np.arange(len(ds)) % 3)
    out = run_cli(
        "--train A.npz --folds 4 --model gmm --param gaussians=1 --json k.json --early none",
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    saved = json.loads((tmp_path / "k.json").read_text())
    assert saved["protocol"]["folds"] == 4 and len(saved["folds"]) == 4
    assert sorted(p["recording"] for p in saved["predictions"]) == list(range(len(ds)))
    assert "eval gmm [" in out.stderr  # the progress bar
    # in this process: the code path of the command, without starting Python again
    json_path = tmp_path / "g.json"
    argv = f"eval --train {tmp_path / 'A.npz'} --group-by subject --model gmm --json {json_path}"
    assert cli.main([*argv.split(), "--quiet", "--early", "none"]) == 0
    saved = json.loads(json_path.read_text())
    assert len(saved["folds"]) == 3 and capsys.readouterr().err == ""
    assert {p["group"] for p in saved["predictions"] if p["fold"] == 1} == {1}


def test_cli_project_leave_one_take_out(tmp_path):
    rng = np.random.default_rng(17)
    project = gm.Project.new(tmp_path / "proj", model={"kind": "gmm", "params": GMM})
    for _ in range(2):
        for label in LABELS:
            project.add_take(gesture(label, rng), label)
    project.save(tmp_path / "proj")
    out = run_cli(
        "--project proj --leave-one-take-out --json p.json --quiet --early none", tmp_path
    )
    assert out.returncode == 0, out.stderr
    saved = json.loads((tmp_path / "p.json").read_text())
    assert [p["recording"] for p in saved["predictions"]] == [t.id for t in project.takes]
    assert saved["model"] == "gmm" and saved["protocol"]["name"] == "leave-one-take-out"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "no_such_model"], "no_such_model"),
        (["--model", "gmm", "--param", "gaussianz=2"], "gaussianz"),
        (["--model", "gmm", "--train", "MISSING.npz", "--folds", "2"], "MISSING.npz"),
        (["--model", "gmm", "--train", "BAD.npz", "--folds", "2"], "BAD.npz"),
        (["--model", "gmm", "--project", "."], "project"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "BAD.npz").write_bytes(b"not a zip file")
    write_npz(tmp_path / "A.npz", dataset(2, seed=18))
    full = (
        args
        if "--train" in args or "--project" in args
        else ["--train", "A.npz", "--test", "A.npz", *args]
    )
    out = run_cli(full, tmp_path)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr and out.stderr.startswith("gesturemap eval: ")


def test_eval_dir_reviews_a_projects_takes(tmp_path):
    """``gesturemap eval DIR``: the quality report of a project's takes, printed and plotted;
    a take recorded under the wrong class is named."""
    rng = np.random.default_rng(11)
    project = gm.Project(model={"kind": "gmm", "params": GMM}, pipeline=Pipeline([Standardize()]))
    for _ in range(4):
        for label in LABELS:
            project.add_take(100.0 + 10.0 * gesture(label, rng), label)
    wrong = project.add_take(100.0 + 10.0 * gesture(LABELS[0], rng), LABELS[1])
    project.save(tmp_path / "proj")
    plots = tmp_path / "plots"
    done = run_cli([str(tmp_path / "proj"), "--plots", str(plots), "--json",
                    str(tmp_path / "q.json")], tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{wrong.id} ({LABELS[1]}): probably mislabelled (looks like {LABELS[0]})" in done.stdout
    assert "confusion" in done.stdout
    assert (plots / "quality_confusion.png").stat().st_size > 1000
    report = json.loads((tmp_path / "q.json").read_text())
    worst = max(report["takes"], key=lambda t: t["suspicion"])
    assert worst["id"] == wrong.id and worst["likely_label"] == str(LABELS[0])
    assert report["folds"] == 10 and sum(map(sum, report["confusion"])) == len(project.takes)


def test_cli_reads_class_numbers_and_lengths_stored_as_floats(tmp_path):
    """A file saved from MATLAB or pandas holds class numbers and lengths as floats (3.0): they
    are read as the integers they are, as a stream file's are (the file was refused)."""
    ds = gm.Dataset()
    rng = np.random.default_rng(5)
    for c in (1, 2, 3):
        for _ in range(3):
            ds.add(rng.normal(c, 0.2, (12, 2)), label=c)
    stacked = ds.concatenated()
    np.savez(tmp_path / "my takes.npz", X_concat=stacked.inputs,
             lengths=stacked.lengths.astype(float), y=np.array(stacked.labels, dtype=float))
    out = run_cli(["--train", "my takes.npz", "--folds", "3", "--model", "knn", "--json",
                   "r.json", "--quiet", "--early", "none"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "r.json").read_text())["labels"] == [1, 2, 3]
    np.savez(tmp_path / "half.npz", X_concat=stacked.inputs, lengths=stacked.lengths,
             y=np.array(stacked.labels, dtype=float) + 0.5)
    out = run_cli("--train half.npz --folds 3 --model knn --quiet", tmp_path)
    assert out.returncode == 2 and "'y' has dtype float64" in out.stderr


def test_cli_names_the_file_of_a_missing_output_value(tmp_path):
    """A NaN in a dataset file's outputs (Y_concat) is refused naming the file, the recording,
    frame and column, as a NaN input is (the file was not named)."""
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (60, 2))
    y = x[:, :1].copy()
    y[25] = np.nan
    np.savez(tmp_path / "my outputs.npz", X_concat=x, lengths=[20, 20, 20], y=["a", "b", "a"],
             Y_concat=y)
    out = run_cli(["--train", "my outputs.npz", "--folds", "2", "--model", "gmm"], tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "my outputs.npz: Y_concat: recording 1 (label 'b'): outputs: got nan at frame 5" \
        in out.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc: a folder no file goes in")
def test_cli_names_the_report_it_cannot_write(tmp_path):
    """A report that cannot be written into its folder is named as given, not by the hidden
    temporary file the atomic write uses (which the user never named)."""
    write_npz(tmp_path / "A.npz", dataset(3, seed=17))
    out = run_cli("--train A.npz --folds 3 --model knn --quiet --early none --json /proc/r.json",
                  tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == "gesturemap eval: /proc/r.json: No such file or directory"


def test_a_test_class_the_model_never_trained_on_is_named(tmp_path):
    """A held-out set with a class absent from the training set gave the usual figures and no
    word of it: now the report and the terminal name the class, its recordings and frames,
    and give the accuracy without it; the evaluation still succeeds."""
    train, test = gm.Dataset(), dataset(2, seed=21)
    for r in dataset(3, seed=20):
        if r.label != "zigzag":
            train.add(r.inputs, label=r.label)
    write_npz(tmp_path / "A.npz", train)
    write_npz(tmp_path / "B.npz", test)
    out = run_cli("--train A.npz --test B.npz --model knn --json r.json --quiet", tmp_path)
    assert out.returncode == 0, out.stderr
    frames = sum(r.length for r in test if r.label == "zigzag")
    assert (f"warning: class 'zigzag' was tested (2 recordings, {frames} frames) but the model "
            "never trained on it") in out.stdout
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["unseen_classes"] == [{"label": "zigzag", "recordings": 2, "frames": frames}]
    seen = [p for p in saved["predictions"] if p["label"] != "zigzag"]
    right = sum(p["label"] == p["predicted"] for p in seen) / len(seen)
    assert f"without them: accuracy {right:.4f} on 4 recordings" in out.stdout
    assert ev.Report.from_dict(saved).unseen == saved["unseen_classes"]
    # cross-validation: a class whose only take is in the fold tested
    one = dataset(3, seed=22)
    lonely = gm.Dataset()
    for r in one:
        lonely.add(r.inputs, label=r.label)
    lonely.add(gesture("zigzag", np.random.default_rng(1)), label="wave")
    report = ev.cross_validate("knn", lonely, folds=3, seed=0)
    assert [(u["label"], u["recordings"]) for u in report.unseen] == [("wave", 1)]
    assert "class 'wave' was tested (1 recording," in report.summary()
    # every class trained on: no warning
    assert ev.holdout("knn", dataset(3, seed=23), dataset(2, seed=24)).unseen == []
