"""`gesturemap eval --spotting --detector`: each fold trains a window detector on its training
subjects' recordings and merges its events with the spotter's, on real HAPT sessions."""

from __future__ import annotations

import json


def test_eval_spotting_detector_finds_what_the_spotter_misses(tmp_path, datasets_dir,
                                                              capsys) -> None:
    from gesturemap.cli import main

    streams = datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz"
    # a spotter that never fires (no match reaches a thousand times its typical score): every
    # event comes from the detector, trained on the other two subjects of each fold
    out = tmp_path / "report.json"
    args = ["eval", "--spotting", "--train", str(streams), "--model", "gmm", "--param",
            "gaussians=1", "--folds", "2", "--spot", "relative_threshold=1000", "--quiet"]
    assert main([*args, "--json", str(tmp_path / "alone.json")]) == 0
    alone = json.loads((tmp_path / "alone.json").read_text())
    assert alone["metrics"]["true_positives"] == alone["metrics"]["false_positives"] == 0
    assert main([*args, "--detector", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    m = report["metrics"]
    assert report["detector"] is True and m["events"] == 48
    # held-out subjects' transitions found, few false: 21 of 48 with 2 false when written
    assert m["true_positives"] >= 15 and m["precision"] >= 0.8, m
    assert "window detector: trained on the training subjects'" in capsys.readouterr().out


def test_detector_needs_spotting(tmp_path, datasets_dir, capsys) -> None:
    from gesturemap.cli import main

    streams = datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz"
    assert main(["eval", str(streams), "--detector"]) == 2
    assert "--detector: for --spotting" in capsys.readouterr().err
