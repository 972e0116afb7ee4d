"""The command line against careless input: nonsense numbers refused by the parser with one
line, outputs that would overwrite the project's own files refused, Ctrl-C without a
traceback, a quality report's CSV."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesturemap import cli
from gesturemap.cli import EXIT_INTERRUPTED, EXIT_USAGE, main
from gesturemap.project import Project


@pytest.fixture
def project_dir(tmp_path):
    folder = tmp_path / "p"
    project = Project.new(folder, inputs=2)
    rng = np.random.default_rng(0)
    for i in range(10):
        project.add_take(rng.normal(size=(20, 2)) + 3 * (i % 2), "ab"[i % 2])
    project.save(folder)
    return folder


@pytest.mark.parametrize("argv", [
    ["demo", "--delay", "-1"], ["demo", "--delay", "nan"],
    ["devices", "--lsl-wait", "-1"],
    ["new", "x", "--inputs", "999999999999"], ["new", "x", "--outputs", "-2"],
    ["train", "x", "--auto", "--budget", "inf"], ["train", "x", "--auto", "--budget", "0"],
    ["eval", "x", "--folds", "0"], ["eval", "x", "--seed", "-1"], ["eval", "x", "--jobs", "0"],
    # an empty stream name (a script's unset variable) would publish nothing and say nothing
    ["run", "x", "--lsl-out", ""], ["run", "x", "--lsl-out", "  "], ["run", "x", "--lsl-in", ""],
    # two ways of splitting at once: one of them was dropped, said only by the report's header
    ["eval", "--train", "x.npz", "--folds", "2", "--group-by", "subject"],
    ["eval", "--train", "x.npz", "--folds", "3", "--leave-one-out"],
    ["eval", "--project", "x", "--folds", "2", "--leave-one-take-out"],
    ["eval", "--train", "x.npz", "--leave-one-out", "--group-by", "subject"],
])
def test_nonsense_numbers_are_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error: argument" in err


def test_outputs_inside_the_project_are_refused_and_the_project_kept(project_dir, capsys):
    before = (project_dir / "project.json").read_bytes()
    for argv in (["export", str(project_dir), "--xmm-set", str(project_dir / "project.json")],
                 ["export", str(project_dir), "--arff", str(project_dir / "takes" / "x.arff")],
                 ["eval", str(project_dir), "--json", str(project_dir / "project.json")]):
        assert main(argv) == EXIT_USAGE
        assert "write it elsewhere" in capsys.readouterr().err
    assert (project_dir / "project.json").read_bytes() == before
    assert Project.load(project_dir).takes


def test_a_quality_report_writes_csv_and_an_unknown_model_is_one_line(project_dir, tmp_path,
                                                                         capsys):
    out, js = tmp_path / "takes.csv", tmp_path / "q.json"
    assert main(["eval", str(project_dir), "--folds", "2", "--csv", str(out),
                 "--json", str(js)]) == 0
    rows = out.read_text().splitlines()
    takes = json.loads(js.read_text())["takes"]
    assert rows[0] == "take,label,suspicion,likely_label,verdict" and len(rows) == 11
    assert [r.split(",")[0] for r in rows[1:]] == [t["id"] for t in takes]
    capsys.readouterr()
    assert main(["eval", str(project_dir), "--model", "foo"]) == EXIT_USAGE
    assert "one of" in capsys.readouterr().err


def test_ctrl_c_is_one_line_and_its_own_exit_code(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_dispatch", interrupted)
    assert main(["train", "x"]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err.strip() == "gesturemap train: interrupted"


def test_a_damaged_take_is_one_warning_line_not_pythons(tmp_path, capsys):
    folder = tmp_path / "p"
    project = Project.new(folder, inputs=2)
    project.add_take(np.zeros((30, 2)), label="a")
    project.add_take(np.ones((30, 2)), label="b")
    project.save(folder)
    (folder / "takes" / "take-000001.npz").write_bytes(b"garbage")
    assert not main(["export", str(folder), "--arff", str(tmp_path / "out.arff")])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("gesturemap export: warning: take-000001 was left out: ")
    assert "UserWarning" not in err[0] and ".py:" not in err[0] and ".." not in err[0]


def test_train_says_a_damaged_take_once(tmp_path, capsys):
    """`train` reads the project again to store its model onto it as it is now: the damaged
    take was warned of twice."""
    folder = tmp_path / "p"
    project = Project.new(folder, inputs=2)
    for label, level in (("a", 0.0), ("a", 1.0), ("b", 5.0), ("b", 6.0)):
        project.add_take(level + np.random.default_rng(1).normal(size=(30, 2)), label=label)
    project.save(folder)
    (folder / "takes" / "take-000001.npz").unlink()
    assert not main(["train", str(folder)])
    err = capsys.readouterr().err
    assert err.count("take-000001 was left out") == 1, err


def test_a_wekinator_project_without_its_examples_file_says_so(tmp_path, capsys):
    from .interop.wekinator.test_project import unpack

    source = unpack("eeg-hand", tmp_path)
    (source / "current" / "currentData.arff").rename(tmp_path / "elsewhere.arff")
    assert not main(["import", str(source), "--project", str(tmp_path / "gm")])
    err = capsys.readouterr().err
    assert "gesturemap import: warning: " in err and "currentData.arff is missing" in err
    assert "no examples imported" in err


@pytest.mark.parametrize("kind", ["gesturemap project", "other folder"])
def test_import_of_a_folder_that_is_no_wekinator_project_says_what_it_is(
        project_dir, tmp_path, capsys, kind):
    """A gesturemap project, or a session log, given to import: one line that it is a
    folder and what import takes, not "not a regular file (a device, a FIFO or a socket)";
    nothing is made."""
    source = project_dir if kind == "gesturemap project" else tmp_path / "session"
    source.mkdir(exist_ok=True)
    assert main(["import", str(source), "--project", str(tmp_path / "new")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err and ".wekproj" in err, err
    assert "device" not in err
    assert ("gesturemap project already" in err) == (kind == "gesturemap project")
    assert not (tmp_path / "new").exists()


def test_a_folder_where_a_file_is_read_is_said_to_be_a_folder(tmp_path):
    from gesturemap.errors import FormatError
    from gesturemap.utils.reading import read_regular_file

    with pytest.raises(FormatError, match=r"is a folder: give a file"):
        read_regular_file(tmp_path, max_bytes=1 << 20)


def test_the_review_of_a_regression_project_points_to_its_cross_validation(tmp_path, capsys):
    """Its takes share one label: the review said "needs takes of at least two classes; got
    1: record another gesture first", which a mapping of continuous outputs never needs."""
    folder = tmp_path / "reg"
    project = Project("reg", output_names=["cutoff"])
    rng = np.random.default_rng(0)
    for _ in range(3):
        project.add_take(rng.normal(size=(20, 2)), "move", outputs=np.full((20, 1), 0.5))
    project.save(folder)
    assert main(["eval", str(folder)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "continuous outputs" in err and "eval --project DIR" in err
    assert main(["eval", "--project", str(folder), "--folds", "3", "--quiet"]) == 0
