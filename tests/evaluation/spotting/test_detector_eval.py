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
    base = ["eval", "--spotting", "--train", str(streams), "--model", "gmm", "--param",
            "gaussians=1", "--folds", "2", "--quiet"]
    silent = [*base, "--spot", "relative_threshold=1000"]

    def report(args: list[str], name: str) -> dict:
        out = tmp_path / f"{name}.json"
        assert main([*args, "--json", str(out)]) == 0
        return json.loads(out.read_text())

    alone = report(silent, "silent")["metrics"]
    assert alone["true_positives"] == alone["false_positives"] == 0
    found = report([*silent, "--detector"], "found")
    m = found["metrics"]
    assert found["detector"] is True and m["events"] == 48
    # held-out subjects' transitions found, few false (5 of 48 with 1 false when written)
    assert m["true_positives"] >= 3 and m["precision"] >= 0.75, m
    # a one-Gaussian spotter at its defaults fires everywhere (579 false events when
    # written); the detector holds back those it sees nothing of (42 left)
    noisy = report(base, "noisy")["metrics"]
    held = report([*base, "--detector"], "held")["metrics"]
    assert held["false_positives"] * 5 < noisy["false_positives"], (held, noisy)
    assert held["recall"] >= 0.5, held
    assert "window detector: trained on the training subjects'" in capsys.readouterr().out


def test_detector_needs_spotting(tmp_path, datasets_dir, capsys) -> None:
    from gesturemap.cli import main

    streams = datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz"
    assert main(["eval", str(streams), "--detector"]) == 2
    assert "--detector: for --spotting" in capsys.readouterr().err


def test_train_detector_stores_it_in_the_project(tmp_path, datasets_dir, capsys) -> None:
    """`gesturemap train DIR --detector REHEARSALS.npz`: the detector is stored in the
    project's spotting settings; the reloaded project spots with it, live as in one call,
    and differently from without it."""
    import numpy as np

    import gesturemap as gm
    from gesturemap.cli import main
    from gesturemap.evaluation.spotting.streams import load_streams, make_dataset
    from gesturemap.project import Project

    path = datasets_dir / "HAPTTransitions" / "HAPT_train_streams.npz"
    st = load_streams(str(path))
    project = Project("p", model={"kind": "gmm", "params": {"gaussians": 1, "deltas": False},
                                  "spotting": {}})
    for r in make_dataset(st, range(4), lambda a: a, null_every=1000):
        project.add_take(r.inputs, r.label)
    project.train()
    folder = tmp_path / "proj"
    project.save(folder)
    # the rehearsals: subjects 1, 3 and 5, their gestures named (other labels are null)
    rehearsal = str(tmp_path / "rehearsal.npz")
    np.savez(rehearsal, X_concat=np.vstack(st.sessions[:6]),
             labels_concat=np.concatenate(st.labels[:6]),
             lengths=[len(x) for x in st.sessions[:6]], subject=st.subject[:6],
             gesture_labels=list(st.gestures))
    assert main(["train", str(folder), "--detector", rehearsal]) == 0
    out = capsys.readouterr().out
    # chosen by its cross-fit over the rehearsals' performers: a one-Gaussian spotter fires
    # everywhere, and the detector holds most of that back
    assert "detector chosen: cross-fit F1" in out and "stored a window detector" in out, out
    f1 = [float(w) for w in out.split("cross-fit F1 ")[1].split(" without")[0].split(
        " with, ")]
    assert f1[0] > f1[1] + 0.1, out
    loaded = Project.load(folder)
    spotting = loaded.model["spotting"]
    assert set(spotting["detector"]["classes"]) == {str(g) for g in st.gestures}
    x = np.asarray(st.sessions[6][:4000], dtype=np.float64)
    got = gm.spot(loaded.trained, x, **spotting)
    stream = gm.Spotter(loaded.trained, **spotting).stream()
    assert [r.event for r in (stream.step(f) for f in x) if r.event is not None] == got
    assert got != gm.spot(loaded.trained, x)
    # a retraining with a gesture the detector never saw removes it, and says so
    grown = Project.load(folder)
    grown.add_take(np.random.default_rng(0).normal(size=(60, 6)), "13")
    grown.save(folder)
    capsys.readouterr()
    assert main(["train", str(folder)]) == 0
    assert "note: the window detector was removed: " in capsys.readouterr().out
    assert "detector" not in Project.load(folder).model["spotting"]


def test_train_detector_stores_nothing_when_it_does_not_help(tmp_path, capsys) -> None:
    """A spotter that already finds every gesture of the rehearsals, and nothing else: no
    detector can raise its cross-fit F1, so none is stored and the project is left as it
    was, byte for byte."""
    import numpy as np

    import gesturemap as gm
    from gesturemap.cli import main
    from gesturemap.project import Project

    rng = np.random.default_rng(0)

    def bump(channel: int) -> np.ndarray:  # 1.5 s of one channel rising and falling
        x = rng.normal(0, 0.05, (75, 6))
        x[:, channel] += 4 * np.sin(np.linspace(0, np.pi, 75))
        return x

    project = Project("p", model={"kind": "gmm", "params": {"gaussians": 1, "deltas": False},
                                  "spotting": {}})
    for _ in range(4):
        project.add_take(bump(0), "1")
        project.add_take(bump(1), "2")
        project.add_take(rng.normal(0, 0.05, (100, 6)), gm.NULL)
    project.train()
    folder = tmp_path / "proj"
    project.save(folder)
    saved = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    # four performers, each making both gestures four times between 8 s rests
    frames, labels = [], []
    for _ in range(4):
        for k in range(8):
            frames += [rng.normal(0, 0.05, (400, 6)), bump(k % 2)]
            labels += [np.zeros(400, int), np.full(75, 1 + k % 2)]
        frames.append(rng.normal(0, 0.05, (400, 6)))
        labels.append(np.zeros(400, int))
    session = 8 * 475 + 400
    rehearsal = str(tmp_path / "rehearsal.npz")
    np.savez(rehearsal, X_concat=np.vstack(frames), labels_concat=np.concatenate(labels),
             lengths=[session] * 4, subject=[1, 2, 3, 4], gesture_labels=[1, 2])
    assert main(["train", str(folder), "--detector", rehearsal]) == 0
    out = capsys.readouterr().out
    assert "detector not chosen: cross-fit F1 1.000 with, 1.000 without" in out, out
    assert "nothing stored" in out and "stored a window detector" not in out, out
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == saved
    assert "detector" not in Project.load(folder).model["spotting"]
