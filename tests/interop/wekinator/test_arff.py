"""Wekinator training data (ARFF) into projects: the file layout Wekinator writes.

The files below follow Wekinator 2's ``DataManager``: a Weka ``Instances`` with the metadata
columns ``ID``, ``Time`` (date ``yyyy/MM/dd HH:mm:ss:SSS``) and ``'Training round'``, then the
inputs, then the outputs (classifier outputs nominal ``{0,1,...,N}``, continuous ones
numeric), saved by Weka's ``ArffSaver`` (names with spaces and dates in single quotes, ``?``
for an output an example was not recorded for).
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.evaluation import evaluate_project
from gesturemap.interop.wekinator import arff
from tests.paths import DATA_DIR

from ...stage_helpers import OscPeer, free_port, start_run, stop_run

HEADER = """@relation dataset

@attribute ID numeric
@attribute Time date 'yyyy/MM/dd HH:mm:ss:SSS'
@attribute 'Training round' numeric
"""


def wekinator_file(path, inputs, outputs, rows):
    """Write an ARFF as Wekinator saves it. ``rows``: (round, ms offset, inputs, outputs)."""
    lines = [HEADER.rstrip("\n")]
    lines += [f"@attribute {name} numeric" for name in inputs]
    lines += [f"@attribute {name} {kind}" for name, kind in outputs]
    lines += ["", "@data"]
    for i, (rnd, ms, x, y) in enumerate(rows, start=1):
        stamp = f"2016/03/01 14:02:{11 + ms // 1000:02d}:{ms % 1000:03d}"
        values = [str(i), f"'{stamp}'", str(rnd), *(f"{v:.6g}" for v in x), *map(str, y)]
        lines.append(",".join(values))
    path.write_text("\n".join(lines) + "\n")
    return path


def classification_rows(rng):
    """Three rounds: class 1, class 2, then class 1 and class 3 in one round, one unrecorded."""
    rows, ms = [], 0
    for rnd, label, n in ((1, 1, 5), (2, 2, 4), (3, 1, 3), (3, 3, 3)):
        for _ in range(n):
            rows.append((rnd, ms, rng.normal(size=3) + label, [label]))
            ms += 10  # 100 examples per second, as Wekinator records at its input rate
        ms += 2000
    rows.insert(7, (2, rows[6][1] + 5, rng.normal(size=3), ["?"]))  # not recorded for outputs-1
    return rows


def test_classification_export_becomes_takes(tmp_path):
    rng = np.random.default_rng(0)
    rows = classification_rows(rng)
    path = wekinator_file(
        tmp_path / "data.arff",
        ["inputs-1", "inputs-2", "inputs-3"],
        [("outputs-1", "{0,1,2,3}")],
        rows,
    )
    summary = arff.takes_from_arff(arff.read_arff(path))
    assert summary.task == "classification" and summary.metadata == list(arff.META_COLUMNS)
    assert summary.inputs == ["inputs-1", "inputs-2", "inputs-3"]
    assert summary.outputs == ["outputs-1"]
    assert [t.label for t in summary.takes] == [1, 2, 1, 3]  # int class numbers
    assert [len(t.inputs) for t in summary.takes] == [5, 4, 3, 3]
    assert summary.examples == 15 and summary.skipped == 1
    recorded = [r for r in rows if r[3] != ["?"]]
    assert np.allclose(
        np.vstack([t.inputs for t in summary.takes]), [r[2] for r in recorded], atol=1e-5
    )  # 6 significant digits in the file
    for take in summary.takes:  # frame times from the Time column, from the take's start
        assert np.allclose(take.times, 0.01 * np.arange(len(take.inputs)))

    project, _ = arff.import_arff(path, tmp_path / "proj", model="gmm")
    loaded = gm.Project.load(tmp_path / "proj")
    assert [t.label for t in loaded.takes] == [1, 2, 1, 3]
    assert loaded.input_names == ("inputs-1", "inputs-2", "inputs-3")
    assert loaded.model["kind"] == "gmm" and loaded.classes == [1, 2, 3]
    assert np.array_equal(loaded.takes[0].inputs, summary.takes[0].inputs)
    # the project trains and cross-validates like any other
    report = evaluate_project(loaded, params={"gaussians": 1}, early="none")
    assert len(report.predictions) == 4

    arff.import_arff(path, tmp_path / "proj")  # appends: new takes after the old ones
    again = gm.Project.load(tmp_path / "proj")
    assert [t.label for t in again.takes] == [1, 2, 1, 3] * 2
    assert [t.id for t in again.takes][4:] == [f"take-{i:06d}" for i in range(4, 8)]


def test_regression_exports(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for rnd, (a, b) in enumerate(((0.2, 0.9), (0.7, 0.1), (0.4, 0.4)), start=1):
        for k in range(6):  # the sliders stay put during a recording round
            rows.append((rnd, 3000 * rnd + 10 * k, rng.normal(size=2), [a, b]))
    full = wekinator_file(
        tmp_path / "all.arff", ["x", "y"], [("pitch", "numeric"), ("cutoff", "numeric")], rows
    )
    summary = arff.takes_from_arff(arff.read_arff(full), outputs=2)
    assert summary.task == "regression" and summary.outputs == ["pitch", "cutoff"]
    assert [t.label for t in summary.takes] == ["take"] * 3
    assert [t.outputs[0].tolist() for t in summary.takes] == [[0.2, 0.9], [0.7, 0.1], [0.4, 0.4]]
    project, _ = arff.import_arff(full, tmp_path / "reg", outputs=2, model="gmm")
    assert gm.Project.load(tmp_path / "reg").output_names == ("pitch", "cutoff")
    # one output of a full export: the other output is not taken for an input
    one = arff.takes_from_arff(arff.read_arff(full), outputs=2, output="cutoff")
    assert one.inputs == ["x", "y"] and one.outputs == ["cutoff"]
    assert one.takes[1].outputs[:, 0].tolist() == [0.1] * 6

    # a per-output export (one model's data: its inputs, its output last)
    per_output = wekinator_file(
        tmp_path / "pitch.arff",
        ["x"],
        [("pitch", "numeric")],
        [(r, ms, x[:1], y[:1]) for r, ms, x, y in rows],
    )
    summary = arff.takes_from_arff(arff.read_arff(per_output))
    assert summary.inputs == ["x"] and summary.outputs == ["pitch"] and len(summary.takes) == 3


def test_plain_arff_without_wekinator_metadata(tmp_path):
    text = """% exported by hand
@RELATION allFeatures
@ATTRIBUTE feature0 NUMERIC
@ATTRIBUTE 'feature \\'1\\'' REAL
@ATTRIBUTE output NUMERIC
@DATA
0.1,0.2,1
0.1,0.3,1
{0 0.5, 2 2}
0.6,?,2
0.7,0.8,2
"""
    path = tmp_path / "plain.arff"
    # saved by a Windows editor: a byte-order mark and CRLF line ends
    path.write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    data = arff.read_arff(path)
    assert [a.name for a in data.attributes] == ["feature0", "feature '1'", "output"]
    assert data.rows[2] == ["0.5", "0", "2"]  # sparse row: absent values are 0
    summary = arff.takes_from_arff(data)
    assert summary.metadata == [] and summary.task == "regression"
    # no rounds: a new take starts where the output values change
    assert [len(t.inputs) for t in summary.takes] == [2, 2] and summary.skipped == 1
    assert all(t.times is None for t in summary.takes)


def test_several_outputs_become_one_model_per_output(tmp_path):
    """A Wekinator project with a classifier output and a continuous one."""
    rng = np.random.default_rng(2)
    rows = []
    for rnd, (drum, level) in enumerate(((1, 0.2), (2, 0.8), (1, 0.5), (2, 0.1)), start=1):
        for k in range(8):
            x = rng.normal(size=2) + [3.0 * drum, 0.0]
            rows.append((rnd, 4000 * rnd + 10 * k, [x[0], x[1] + level], [drum, level]))
    path = wekinator_file(
        tmp_path / "two.arff", ["a", "b"], [("drum", "{0,1,2}"), ("level", "numeric")], rows
    )
    with pytest.raises(gm.GesturemapError, match="cannot be told from its inputs.*--outputs N"):
        arff.takes_from_arff(arff.read_arff(path))  # by default only the last column is out
    summary = arff.takes_from_arff(arff.read_arff(path), outputs=2)
    assert summary.task == "outputs" and summary.output_types == ["classifier", "regressor"]
    assert [t.outputs[0].tolist() for t in summary.takes] == [
        [1, 0.2],
        [2, 0.8],
        [1, 0.5],
        [2, 0.1],
    ]
    project, _ = arff.import_arff(path, tmp_path / "proj", outputs=2, model="knn")
    loaded = gm.Project.load(tmp_path / "proj")
    assert loaded.output_names == ("drum", "level")
    assert loaded.model == {
        "kind": "per_output",
        "params": {
            "outputs": [
                {"kind": "knn", "target": "drum", "type": "classifier"},
                {"kind": "knn", "target": "level", "type": "regressor"},
            ]
        },
    }
    model = loaded.train()
    result = model.stream().step(summary.takes[1].inputs[0])
    assert result.output.shape == (2,) and result.output[0] == 2  # drum class 2
    # or only one of them, as a plain classification project
    one = arff.takes_from_arff(arff.read_arff(path), outputs=2, output="drum")
    assert one.task == "classification" and one.inputs == ["a", "b"]
    assert [t.label for t in one.takes] == [1, 2, 1, 2]


def test_bad_files(tmp_path):
    (tmp_path / "notes.arff").write_text("hello\n")
    with pytest.raises(gm.FormatError, match="line 1.*ARFF"):
        arff.read_arff(tmp_path / "notes.arff")
    (tmp_path / "short.arff").write_text(HEADER + "@attribute a numeric\n@data\n1,'x',1\n")
    with pytest.raises(gm.FormatError, match="line 8: 3 values for 4 attributes"):
        arff.read_arff(tmp_path / "short.arff")
    (tmp_path / "rel.arff").write_text("@relation r\n@attribute b relational\n@data\n")
    with pytest.raises(gm.FormatError, match="relational"):
        arff.read_arff(tmp_path / "rel.arff")
    with pytest.raises(gm.FormatError, match="missing.arff"):
        arff.read_arff(tmp_path / "missing.arff")
    (tmp_path / "text.arff").write_text(
        HEADER + "@attribute name string\n@attribute out {1,2}\n@data\n1,'x',1,'abc',1\n"
    )
    with pytest.raises(gm.GesturemapError, match="'name' is string, not numeric"):
        arff.takes_from_arff(arff.read_arff(tmp_path / "text.arff"))


def cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "gesturemap.cli", "import", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_import_command(tmp_path):
    rng = np.random.default_rng(3)
    wekinator_file(
        tmp_path / "data.arff",
        ["inputs-1", "inputs-2", "inputs-3"],
        [("outputs-1", "{0,1,2,3}")],
        classification_rows(rng),
    )
    out = cli("data.arff", "--project", "proj", "--model", "gmm", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "4 takes, 15 examples, 1 skipped" in out.stdout and "3 classes (1, 2, 3)" in out.stdout
    assert len(gm.Project.load(tmp_path / "proj").takes) == 4
    wekinator_file(tmp_path / "other.arff", ["a", "b"], [("o", "{0,1}")], [(1, 0, [0.0, 1.0], [1])])
    out = cli("other.arff", "--project", "proj", cwd=tmp_path)
    assert out.returncode == 2 and "3 inputs" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert len(gm.Project.load(tmp_path / "proj").takes) == 4  # unchanged
    out = cli("missing.arff", "--project", "p2", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("gesturemap import: ")
    assert not (tmp_path / "p2").exists()


def test_a_gzipped_arff_imports_as_the_plain_one(tmp_path):
    """Weka writes and reads .arff.gz: gesturemap import takes it without unpacking."""
    rng = np.random.default_rng(3)
    plain = wekinator_file(tmp_path / "data.arff", ["inputs-1", "inputs-2", "inputs-3"],
                           [("outputs-1", "{0,1,2,3}")], classification_rows(rng))
    (tmp_path / "data.arff.gz").write_bytes(gzip.compress(plain.read_bytes()))
    out = cli("data.arff.gz", "--project", "proj", "--model", "gmm", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "4 takes, 15 examples, 1 skipped" in out.stdout
    zipped, unzipped = gm.Project.load(tmp_path / "proj"), arff.read_arff(plain)
    assert len(zipped.takes) == 4
    assert arff.read_arff(tmp_path / "data.arff.gz") == unzipped
    tracemalloc.start()  # unpacked for its size, not for the 2 GiB bound
    try:
        arff.read_arff(tmp_path / "data.arff.gz")
        assert tracemalloc.get_traced_memory()[1] < 1 << 24
    finally:
        tracemalloc.stop()
    (tmp_path / "cut.arff.gz").write_bytes((tmp_path / "data.arff.gz").read_bytes()[:-20])
    with pytest.raises(gm.FormatError, match="cut.arff.gz: cannot read it"):
        arff.read_arff(tmp_path / "cut.arff.gz")


def test_takes_of_another_kind_are_refused_and_the_project_kept(tmp_path):
    """Continuous outputs appended to a project of classes became a class named 'take' with
    outputs it could not train on; now refused, the project as it was."""
    rng = np.random.default_rng(4)
    numeric = wekinator_file(tmp_path / "reg.arff", ["a", "b"], [("c", "numeric")],
                             [(1, 10 * i, rng.normal(size=2), [0.5]) for i in range(5)])
    classes = arff.import_arff(
        wekinator_file(tmp_path / "cls.arff", ["a", "b"], [("outputs-1", "{1,2}")],
                       [(1, 10 * i, rng.normal(size=2), [1 + i % 2]) for i in range(6)]),
        tmp_path / "classes", model="gmm")[0]
    before = [t.label for t in classes.takes]
    with pytest.raises(gm.GesturemapError, match="recognises classes; .* continuous outputs"):
        arff.import_arff(numeric, tmp_path / "classes", outputs=1)
    assert [t.label for t in gm.Project.load(tmp_path / "classes").takes] == before
    arff.import_arff(numeric, tmp_path / "mapping", outputs=1)
    with pytest.raises(gm.GesturemapError, match="maps to continuous outputs"):
        arff.import_arff(tmp_path / "cls.arff", tmp_path / "mapping")
    two = wekinator_file(tmp_path / "two.arff", ["a", "b"], [("c", "numeric"), ("d", "numeric")],
                         [(1, 10 * i, rng.normal(size=2), [0.5, 0.1]) for i in range(5)])
    with pytest.raises(gm.GesturemapError, match="has 1 outputs"):
        arff.import_arff(two, tmp_path / "mapping", outputs=2)
    assert len(gm.Project.load(tmp_path / "mapping").takes) == 1


def test_nan_is_a_missing_value_and_other_non_numbers_name_their_column(tmp_path):
    """A researcher's own ARFF: Weka reads NaN as its missing value, so the row is skipped like
    one with ?; inf or an empty field is refused with the file, line and column (before, a NaN
    or inf failed later naming neither, and an empty field named no column)."""
    head = "@relation r\n@attribute 'in 1' numeric\n@attribute b numeric\n@attribute c {x,y}\n"
    rows = "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(8))
    (tmp_path / "nan.arff").write_text(head + "@data\n" + rows + "NaN,1,x\n")
    summary = arff.takes_from_arff(arff.read_arff(tmp_path / "nan.arff"))
    assert summary.examples == 8 and summary.skipped == 1
    for bad, column in (("inf,1,x", "column 1 \\(in 1\\): 'inf'"), ("1,,x", "column 2 \\(b\\): ''")):
        (tmp_path / "bad.arff").write_text(head + "@data\n" + rows + bad + "\n")
        out = cli("bad.arff", "--project", "p", cwd=tmp_path)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert re.search(f"bad.arff, line 14, {column} is not a finite number", out.stderr)
        assert not (tmp_path / "p").exists()


def test_a_missing_value_in_a_sparse_row_is_missing(tmp_path):
    """Weka's sparse rows write a missing value as ``{0 ?}``: the example is skipped and counted
    as a dense row's ``?`` is (it was refused as a value that is not a number)."""
    (tmp_path / "sparse.arff").write_text(
        "@relation r\n@attribute a numeric\n@attribute b numeric\n@attribute c {x,y}\n@data\n"
        "{0 1, 2 x}\n{0 ?, 1 2, 2 x}\n{1 3, 2 y}\n{1 3.5, 2 y}\n")
    data = arff.read_arff(tmp_path / "sparse.arff")
    assert data.rows[1] == [None, "2", "x"]
    summary = arff.takes_from_arff(data)
    assert summary.examples == 3 and summary.skipped == 1


def test_an_arff_saved_as_windows_unicode_text_imports(tmp_path):
    """An ARFF re-saved by a Windows editor as "Unicode" (UTF-16 with its byte-order mark,
    CRLF) imports as the UTF-8 file (it was refused as not ARFF, its first line read as
    bytes)."""
    head = "@relation 'my data'\n@attribute 'in 1' numeric\n@attribute b numeric\n"
    rows = "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(8))
    text = head + "@attribute c {x,y}\n@data\n" + rows
    (tmp_path / "u16.arff").write_bytes(text.replace("\n", "\r\n").encode("utf-16"))
    out = cli("u16.arff", "--project", "p", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "8 takes, 8 examples; 2 classes (x, y); inputs in 1, b" in out.stdout


def test_a_binary_file_given_as_data_is_named_as_such(tmp_path):
    """A .npz dataset (a zip) given to gesturemap import is said to be binary, not ARFF (the
    message showed its first bytes as text)."""
    np.savez(tmp_path / "takes.npz", X_concat=np.zeros((4, 2)), lengths=[2, 2], y=["a", "b"])
    out = cli("takes.npz", "--project", "p", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "takes.npz is not an ARFF file: it holds binary data, not text" in out.stderr
    assert "\\x" not in out.stderr and not (tmp_path / "p").exists()


def gesturemap_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gesturemap.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def test_named_classes_come_back_from_gesturemaps_own_export(tmp_path):
    """export --arff writes named classes as numbers, naming them in '% class N: NAME'
    comments; import read the numbers alone, so a round trip gave classes 1, 2, 3. Now the
    names come back, with the numbers /wek/outputs sends for them, and only that exact
    comment form counts."""
    rng = np.random.default_rng(5)
    names = ["swipe", "circle left", " pad ", "it's", "tap\nhold"]  # spaces, quote, line break
    project = gm.Project("named", model="knn", input_names=["x", "y"])
    for k, name in enumerate(names * 2):
        project.add_take(rng.normal(size=(6, 2)) + k % len(names), name)
    project.save(tmp_path / "proj")
    out = gesturemap_cli("export", "proj", "--arff", "out.arff", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "% class 2: circle left\n" in (tmp_path / "out.arff").read_text()
    out = gesturemap_cli("import", "out.arff", "--project", "back", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    back = gm.Project.load(tmp_path / "back")
    assert [t.label for t in back.takes] == [t.label for t in project.takes]
    assert np.array_equal(np.vstack([t.inputs for t in back.takes]),
                          np.vstack([t.inputs for t in project.takes]))
    assert back.outputs["class_numbers"] == arff_class_numbers_of(project)
    gesturemap_cli("export", "back", "--arff", "again.arff", cwd=tmp_path)
    assert (tmp_path / "again.arff").read_text() == (tmp_path / "out.arff").read_text()

    # any other comment is a comment: another wording, after @data, or in a plain ARFF
    text = (tmp_path / "out.arff").read_text()
    head, data = text.split("@data\n")
    body = "".join(ln + "\n" for ln in head.splitlines() if not ln.startswith("% class"))
    for note in ("% Class 1: swipe", "%class 1: swipe", "% class 1 is swipe",
                 "% class one: swipe", "% the class 1: swipe"):
        (tmp_path / "other.arff").write_text(note + "\n" + body + "@data\n% class 2: x\n" + data)
        summary = arff.takes_from_arff(arff.read_arff(tmp_path / "other.arff"))
        assert {t.label for t in summary.takes} == {1, 2, 3, 4, 5}, note
    # one number named twice: which class the rows mean would be a guess
    (tmp_path / "twice.arff").write_text("% class 1: swipe\n% class 1: tap\n" + body + "@data\n"
                                         + data)
    out = gesturemap_cli("import", "twice.arff", "--project", "p2", cwd=tmp_path)
    assert out.returncode == 2 and "twice.arff, line 2: '% class 1: tap'" in out.stderr
    assert not (tmp_path / "p2").exists()


def test_text_classes_that_look_like_numbers_keep_their_numbers(tmp_path):
    """A project of classes "1", "2" and "b" sends them as 1, 2, 3; its export names only
    3 (the others are written as themselves), and the import kept "1" and "2" as text but
    numbered them after the named class: 4 and 5, so a patch listening for class 1 heard
    another number after the round trip. Now they keep 1 and 2."""
    rng = np.random.default_rng(7)
    project = gm.Project("digits", model="knn", input_names=["x", "y"])
    for k, name in enumerate(["1", "2", "b"] * 2):
        project.add_take(rng.normal(size=(5, 2)) + k % 3, name)
    project.save(tmp_path / "proj")
    out = gesturemap_cli("export", "proj", "--arff", "out.arff", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    out = gesturemap_cli("import", "out.arff", "--project", "back", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    back = gm.Project.load(tmp_path / "back")
    assert [t.label for t in back.takes] == [t.label for t in project.takes]
    assert arff_class_numbers_of(back) == arff_class_numbers_of(project) == \
        {"1": 1, "2": 2, "b": 3}


def arff_class_numbers_of(project):
    from gesturemap.interop.wekinator.examples import arff_class_numbers

    return {str(lb): n for lb, n in arff_class_numbers(project).items()}


def test_rows_read_as_weka_reads_them(tmp_path):
    """Weka's reader takes whitespace as well as commas between values and ignores a % comment
    at the end of a line; gesturemap refused such rows ('1 values for 4 attributes'). Now they
    read as the comma-separated file does, quoted values keeping their spaces, commas and %."""
    head = ("@relation r\n@attribute 'in 1' numeric\n@attribute b numeric % the second input\n"
            "@attribute n numeric\n@attribute c {left, 'circle left', '50% x'}  % classes\n"
            "@data\n")
    plain = ["1.5,0,0,left", "2,0.25,3,'circle left'", "-1,7,0,'50% x'", "0,0,4,left",
             "3,1,2,'circle left'", "1e-3,2,0,'50% x'"]
    weka = ["1.5 0 0 left", "2\t0.25  3   'circle left'  % a comment",
            "-1, 7 ,0,'50% x'%another", "{2 4, 3 left}", "{0 3 1 1 2 2 3 'circle left'} % here",
            "{0 1e-3,1 2,3 \"50% x\"},"]
    (tmp_path / "plain.arff").write_text(head + "\n".join(plain) + "\n")
    (tmp_path / "weka.arff").write_text(head + "% a note\n" + "\n".join(weka) + "\n")
    expected = arff.read_arff(tmp_path / "plain.arff")
    assert arff.read_arff(tmp_path / "weka.arff").rows == expected.rows
    assert expected.attributes[3].values == ("left", "circle left", "50% x")
    out = cli("weka.arff", "--project", "p", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "6 takes, 6 examples; 3 classes (50% x, circle left, left); inputs in 1, b, n" \
        in out.stdout
    # a missing value is an unquoted ?; an empty field between commas is named as before
    (tmp_path / "gaps.arff").write_text(head + "1 ? 0 left\n2 1 0 '?'\n")
    assert arff.read_arff(tmp_path / "gaps.arff").rows == [["1", None, "0", "left"],
                                                            ["2", "1", "0", "?"]]
    # what Weka's rows can hold and gesturemap cannot: said, with the line, nothing imported
    for row, said in (("1 2 3 left {0.5}", "line 8: the row ends with an instance weight "
                                           "\\{0.5\\}"),
                      ("{0 1, 9 2}", "line 8: bad sparse entry 9 '2' \\(the index must be a "
                                     "column number, 0 to 3\\)"),
                      ("1 2 'left", "line 8: a quote is not closed")):
        (tmp_path / "bad.arff").write_text(head + plain[0] + "\n" + row + "\n")
        out = cli("bad.arff", "--project", "q", cwd=tmp_path)
        assert out.returncode == 2 and re.search(f"bad.arff, {said}", out.stderr), out.stderr
        assert not (tmp_path / "q").exists()


def test_exported_class_numbers_are_the_ones_gesturemap_run_sends(tmp_path):
    """export --arff numbered named classes in the project's display order ('1 swipe'), while
    /wek/outputs numbers them in the model's (swipe sent as 3): a patch or a Wekinator project
    built from the export read another class. Now the export writes and prints the numbers
    the project sends."""
    rng = np.random.default_rng(6)
    project = gm.Project("named", model="knn", input_names=["x", "y"])
    for name, centre in (("swipe", 0.0), ("circle", 5.0), ("shake", 10.0)):  # not alphabetical
        for _ in range(2):
            project.add_take(rng.normal(size=(20, 2)) * 0.1 + centre, name)
    project.train()
    project.save(tmp_path / "proj")
    out = gesturemap_cli("export", "proj", "--arff", "out.arff", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    said = dict(re.findall(r"(\d+) (\w+)", out.stdout.split("classes as numbers: ")[1]))
    written = {int(row.rsplit(",", 1)[1]) for row in
               (tmp_path / "out.arff").read_text().split("@data\n")[1].splitlines()[:20]}
    peer = OscPeer(free_port())
    run, _ = start_run(tmp_path / "proj", "--osc-in", f"127.0.0.1:{peer.port_in}",
                       "--osc-out", f"127.0.0.1:{peer.port_out}")
    try:
        got: list = []
        for _ in range(60):  # a frame every half second, 30 s at most on a loaded machine
            if got:
                break
            peer.send("/wek/inputs", 0.0, 0.0)  # a swipe
            got = [m for m in peer.replies(lambda g: len(g) > 0, timeout=0.5)
                   if m.address == "/wek/outputs"]
    finally:
        stop_run(run)
    assert got, "gesturemap run sent nothing on /wek/outputs"
    sent = int(got[0].params[0])
    assert said[str(sent)] == "swipe" and written == {sent}


def test_a_mapping_project_comes_back_from_its_own_export(tmp_path):
    """export --arff of a project with named continuous outputs wrote a file gesturemap import
    refused ('a Wekinator export whose outputs cannot be told from its inputs'); the export
    now says how many trailing columns are outputs ('% outputs: 2') and the import reads it."""
    rng = np.random.default_rng(8)
    project = gm.Project("mapping", model="mlp", input_names=["x", "y"],
                         output_names=["cutoff", "gain"])
    for _ in range(3):
        project.add_take(rng.normal(size=(10, 2)), "take", outputs=rng.uniform(size=(10, 2)))
    project.save(tmp_path / "proj")
    assert gesturemap_cli("export", "proj", "--arff", "out.arff", cwd=tmp_path).returncode == 0
    out = gesturemap_cli("import", "out.arff", "--project", "back", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "3 takes, 30 examples; outputs cutoff (regressor), gain (regressor)" in out.stdout
    back = gm.Project.load(tmp_path / "back")
    assert back.output_names == project.output_names
    for a, b in zip(back.takes, project.takes, strict=True):
        assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.outputs, b.outputs)
    # another wording is a comment, and the file is refused as before
    text = (tmp_path / "out.arff").read_text().replace("% outputs: 2", "% outputs: the last 2")
    (tmp_path / "other.arff").write_text(text)
    out = gesturemap_cli("import", "other.arff", "--project", "p2", cwd=tmp_path)
    assert out.returncode == 2 and "cannot be told from its inputs" in out.stderr


def _named_project(folder, names, rng):
    project = gm.Project("named", model="knn", input_names=["inputs-1", "inputs-2"])
    for name in names:
        project.add_take(rng.normal(size=(6, 2)), name)
    project.save(folder)
    return project


def _state(folder):
    """What an import may change: the takes' labels and data, the classes and their numbers."""
    project = gm.Project.load(folder)
    return ([(t.label, t.inputs.tobytes()) for t in project.takes], project.classes,
            (project.outputs or {}).get("class_numbers"))


def test_an_import_into_a_project_matches_its_classes_by_name_else_by_number(tmp_path):
    """A Wekinator file's classes 1, 2 into a project whose classes are named were refused
    ("label: got 1; expected a str"), a named class into a project of numbers too, and a new
    named class could change the number an old class is sent as on /wek/outputs. Now classes
    match by name, else by the number the project sends them as; the summary says where they
    went and which are new; old classes keep their numbers."""
    rng = np.random.default_rng(7)
    rows = [(1, 10 * i, rng.normal(size=2), [1]) for i in range(4)]
    rows += [(2, 2000 + 10 * i, rng.normal(size=2), [2]) for i in range(3)]
    wekinator_file(tmp_path / "wek.arff", ["inputs-1", "inputs-2"],
                   [("outputs-1", "{0,1,2,3}")], rows)
    _named_project(tmp_path / "named", ["circle", "swipe"], rng)  # sent as 1 and 2
    out = cli("wek.arff", "--project", "named", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "by number: 1 as circle, 2 as swipe; new classes: none" in out.stdout
    project = gm.Project.load(tmp_path / "named")
    assert [t.label for t in project.takes] == ["circle", "swipe", "circle", "swipe"]
    assert project.classes == ["circle", "swipe"] and project.outputs is None

    # a number the project sends for none of its classes: a new class, sent as that number
    rows3 = [(1, 10 * i, rng.normal(size=2), [3]) for i in range(3)]
    wekinator_file(tmp_path / "three.arff", ["inputs-1", "inputs-2"],
                   [("outputs-1", "{0,1,2,3}")], rows3)
    out = cli("three.arff", "--project", "named", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "new class: 3" in out.stdout
    project = gm.Project.load(tmp_path / "named")
    assert project.classes == ["circle", "swipe", "3"]
    assert project.outputs["class_numbers"] == {"circle": 1, "swipe": 2, "3": 3}

    # named classes (gesturemap's export) into another named project: by name; a new name
    # that sorts first does not move the old classes' numbers
    other = _named_project(tmp_path / "other", ["apple", "swipe"], rng)
    assert gesturemap_cli("export", "other", "--arff", "other.arff",
                          cwd=tmp_path).returncode == 0
    _named_project(tmp_path / "two", ["circle", "swipe"], rng)
    out = cli("other.arff", "--project", "two", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "into the project's swipe; new class: apple (sent as 3)" in out.stdout
    project = gm.Project.load(tmp_path / "two")
    assert [t.label for t in project.takes[2:]] == [t.label for t in other.takes]
    assert project.outputs["class_numbers"] == {"circle": 1, "swipe": 2, "apple": 3}

    # the same export into a project of Wekinator's numbers: by the numbers the file gives
    assert cli("wek.arff", "--project", "numbers", cwd=tmp_path).returncode == 0
    out = cli("other.arff", "--project", "numbers", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "by number: apple as 1, swipe as 2; new classes: none" in out.stdout
    assert gm.Project.load(tmp_path / "numbers").classes == [1, 2]


def test_classes_that_cannot_be_matched_are_refused_and_nothing_changes(tmp_path):
    """Names without numbers into a project of Wekinator's numbers, or another input width:
    one line saying why, the project as it was."""
    rng = np.random.default_rng(8)
    wekinator_file(tmp_path / "wek.arff", ["inputs-1", "inputs-2"],
                   [("outputs-1", "{0,1,2}")],
                   [(1 + i // 3, 10 * i, rng.normal(size=2), [1 + i // 3]) for i in range(6)])
    assert cli("wek.arff", "--project", "numbers", cwd=tmp_path).returncode == 0
    (tmp_path / "names.arff").write_text(
        "@relation weka\n@attribute a numeric\n@attribute b numeric\n"
        "@attribute class {apple,swipe}\n@data\n0.1,0.2,apple\n0.4,0.1,swipe\n")
    before = _state(tmp_path / "numbers")
    out = cli("names.arff", "--project", "numbers", cwd=tmp_path)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert ("names.arff names its classes (apple, swipe) without the numbers Wekinator sends "
            "for them; the classes of numbers are numbers (1, 2)") in out.stderr
    assert _state(tmp_path / "numbers") == before

    _named_project(tmp_path / "named", ["circle", "swipe"], rng)
    wekinator_file(tmp_path / "wide.arff", ["inputs-1", "inputs-2", "inputs-3"],
                   [("outputs-1", "{0,1,2}")], [(1, 0, rng.normal(size=3), [1])])
    before = _state(tmp_path / "named")
    out = cli("wide.arff", "--project", "named", cwd=tmp_path)
    assert out.returncode == 2 and "named has 2 inputs; wide.arff has 3" in out.stderr
    assert _state(tmp_path / "named") == before


#: Where the classes of :func:`_imported_with_gaps` are, and their numbers in the file.
CENTRES = {"circle": (0.0, 0.0), "swipe": (10.0, 0.0), "wave": (0.0, 10.0)}
NUMBERS = {"circle": 1, "swipe": 2, "wave": 5}


def _imported_with_gaps(tmp_path, rng):
    """A Wekinator file whose classes gesturemap's export named (circle 1, swipe 2, wave 5),
    imported into a new project: the project."""
    rows = [(k, 100 * k + i, rng.normal(size=2) * 0.1 + CENTRES[name], [k])
            for name, k in NUMBERS.items() for i in range(6)]
    path = wekinator_file(tmp_path / "wek.arff", ["inputs-1", "inputs-2"],
                          [("outputs-1", "{0,1,2,3,4,5}")], rows)
    path.write_text("".join(f"% class {k}: {name}\n" for name, k in NUMBERS.items())
                    + path.read_text())
    out = cli("wek.arff", "--project", "proj", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    project = gm.Project.load(tmp_path / "proj")
    assert project.outputs["class_numbers"] == NUMBERS
    return project


def _numbers_sent(folder, where):
    """The class number `gesturemap run FOLDER` sends on /wek/outputs for frames at each
    point of ``where`` ({name: (x, y)}), in turn."""
    peer = OscPeer(free_port())
    run, _ = start_run(folder, "--osc-in", f"127.0.0.1:{peer.port_in}",
                       "--osc-out", f"127.0.0.1:{peer.port_out}")
    sent: dict = {}
    try:
        for name, centre in where.items():
            # a frame every half second, 30 s at most on a loaded machine, until the answer
            # is another class's than before (replies to earlier frames may still come)
            before = set(sent.values())
            for _ in range(60):
                peer.send("/wek/inputs", *centre)
                got = [int(m.params[0]) for m in peer.replies(lambda g: len(g) > 0, 0.5)
                       if m.address == "/wek/outputs"]
                if got:
                    sent[name] = got[-1]
                    if got[-1] not in before:
                        break
    finally:
        stop_run(run)
    return sent


def test_a_class_recorded_after_an_import_gets_a_number_of_its_own(tmp_path):
    """A Wekinator file's classes keep their numbers (circle 1, swipe 2, wave 5); a class
    recorded later was sent as its place among the sorted classes: 'arrow' as 1, the number
    circle goes out as, 'zebra' as 5, wave's. Now a new class comes after the highest number
    kept (arrow 6, zebra 7), on /wek/outputs and in every place that numbers classes."""
    rng = np.random.default_rng(11)
    project = _imported_with_gaps(tmp_path, rng)
    news = {"arrow": (-10.0, 0.0), "zebra": (0.0, -10.0)}  # sort first and last
    for name, centre in news.items():
        for _ in range(2):
            project.add_take(rng.normal(size=(6, 2)) * 0.1 + centre, name)
    project.train()
    project.save(tmp_path / "proj")
    assert arff_class_numbers_of(project) == {"arrow": 6, "circle": 1, "swipe": 2, "wave": 5,
                                              "zebra": 7}
    from gesturemap.data import label_for_number

    assert label_for_number(7, project.trained.labels_,
                            project.outputs["class_numbers"]) == "zebra"
    assert _numbers_sent(tmp_path / "proj", news) == {"arrow": 6, "zebra": 7}


def test_a_renamed_class_is_sent_as_the_number_it_had(tmp_path):
    """Renaming an imported class ('wave', Wekinator's 5) gave the new name no number: it
    was sent as its place among the classes, or after the highest number kept, and a patch
    listening for 5 heard it no more. Now the name takes the number with it, in the project
    and in its scenes; a new class of the old name gets a number of its own."""
    rng = np.random.default_rng(12)
    project = _imported_with_gaps(tmp_path, rng)
    project.train()
    project.save_scene("main")
    project.rename_class("wave", "waves")
    project.rename_class("swipe", "slide")
    project.add_class("swipe")  # a new class of the old name: a number of its own
    project.train()
    project.save(tmp_path / "proj")
    project = gm.Project.load(tmp_path / "proj")
    kept = {"circle": 1, "slide": 2, "waves": 5, "swipe": 6}
    assert project.outputs["class_numbers"] == kept
    assert project.scene("main").outputs["class_numbers"] == kept
    assert arff_class_numbers_of(project) == kept
    assert _numbers_sent(tmp_path / "proj", {"waves": CENTRES["wave"],
                                             "slide": CENTRES["swipe"]}) == {"waves": 5,
                                                                             "slide": 2}


def test_an_import_never_gives_a_new_class_the_number_kept_for_a_deleted_one(tmp_path):
    """Swipe (Wekinator's 2) deleted, its number kept for it; an import of a new class
    'apple' gave apple the lowest free number, 2, and dropped swipe's: swipe brought back
    was sent as another number, and a patch listening for 2 heard apple. Now apple comes
    after the highest number in use (6), as a class recorded in the window does, and swipe
    comes back as 2."""
    rng = np.random.default_rng(13)
    project = _imported_with_gaps(tmp_path, rng)
    project.remove_class("swipe", remove_takes=True)
    project.save(tmp_path / "proj")
    apple = (-10.0, 0.0)
    rows = [(1, 10 * i, rng.normal(size=2) * 0.1 + apple, [1]) for i in range(6)]
    path = wekinator_file(tmp_path / "apple.arff", ["inputs-1", "inputs-2"],
                          [("outputs-1", "{0,1}")], rows)
    path.write_text("% class 1: apple\n" + path.read_text())
    out = cli("apple.arff", "--project", "proj", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "new class: apple (sent as 6)" in out.stdout
    project = gm.Project.load(tmp_path / "proj")
    assert project.outputs["class_numbers"] == {**NUMBERS, "apple": 6}
    for _ in range(2):  # swipe recorded again
        project.add_take(rng.normal(size=(6, 2)) * 0.1 + CENTRES["swipe"], "swipe")
    project.train()
    project.save(tmp_path / "proj")
    assert _numbers_sent(tmp_path / "proj", {"apple": apple, "swipe": CENTRES["swipe"]}) == {
        "apple": 6, "swipe": 2}


def test_the_number_of_a_class_recorded_later_stays_when_another_comes(tmp_path):
    """'arrow', recorded after an import (circle 1, swipe 2, wave 5), was sent as 6; once
    'ant' was recorded too, ant took 6 and arrow went out as 7. Now a new class's number is
    written into the project when the class is added, and stays."""
    rng = np.random.default_rng(14)
    project = _imported_with_gaps(tmp_path, rng)
    news = {"arrow": (-10.0, 0.0), "ant": (0.0, -10.0)}
    for name, centre in news.items():  # arrow first, then ant, which sorts before it
        for _ in range(2):
            project.add_take(rng.normal(size=(6, 2)) * 0.1 + centre, name)
    project.train()
    project.save(tmp_path / "proj")
    assert gm.Project.load(tmp_path / "proj").outputs["class_numbers"] == {
        **NUMBERS, "arrow": 6, "ant": 7}
    assert _numbers_sent(tmp_path / "proj", news) == {"arrow": 6, "ant": 7}


def test_a_csv_table_is_named_with_the_header_that_makes_it_an_arff(tmp_path, capsys):
    from gesturemap.cli import main

    # Wekinator's examples saved as a CSV (vowel-recognition's saved/training01 copy.csv)
    from tests.paths import DATA_DIR

    table = DATA_DIR / "wekinator" / "vowel-training01-copy.csv"
    assert main(["import", str(table), "--project", str(tmp_path / "gm")]) == 2
    err = capsys.readouterr().err
    assert "this is a table (CSV), not an ARFF file" in err
    assert "'@attribute NAME numeric' per column" in err and "--outputs N" in err
    assert not (tmp_path / "gm").exists()


def _time_column(path):
    """The Time of each row of an ARFF Wekinator wrote (or gesturemap exported)."""
    return re.findall(r"^\d+,'(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d:\d{3})'", path.read_text(),
                      flags=re.M)


def test_exported_times_are_when_each_example_was_recorded(tmp_path):
    # Wekinator stamps each example with the local date and time it was recorded: a
    # project's takes are written as they were recorded, each frame at its own time
    import datetime as dt

    from gesturemap.interop.wekinator.examples import export_arff

    rng = np.random.default_rng(3)
    project = gm.Project("p", model="knn", input_names=["a", "b"])
    project.add_take(rng.random((5, 2)), "up", times=np.arange(5) * 0.25,
                     created=dt.datetime(2024, 5, 17, 20, 15, 3, 500_000))
    project.add_take(rng.random((3, 2)), "down")  # now, 10 ms a frame (no times)
    export_arff(project, tmp_path / "p.arff")
    stamps = [dt.datetime.strptime(t, "%Y/%m/%d %H:%M:%S:%f")
              for t in _time_column(tmp_path / "p.arff")]
    # the take ended at 20:15:03.500 (when it was added), its frames 0.25 s apart before it
    assert [s.strftime("%H:%M:%S.%f")[:-3] for s in stamps[:5]] == [
        "20:15:02.500", "20:15:02.750", "20:15:03.000", "20:15:03.250", "20:15:03.500"]
    assert stamps[0].date() == dt.date(2024, 5, 17)
    recorded = dt.datetime.fromisoformat(project.takes[1].created).astimezone().replace(
        tzinfo=None)
    assert abs((stamps[-1] - recorded).total_seconds()) < 0.002
    assert [(b - a).total_seconds() for a, b in zip(stamps[5:], stamps[6:], strict=False)] == [0.01, 0.01]


def test_a_wekinator_files_times_come_back_from_its_export(tmp_path):
    # a real Wekinator project (Puck, recorded 2018/02/18): imported then exported, every
    # example keeps the time Wekinator wrote for it (before: 2000/01/01 and a made-up clock)
    source = DATA_DIR / "wekinator" / "pong-puck" / "current" / "currentData.arff"
    assert gesturemap_cli("import", str(source), "--project", "gm", cwd=tmp_path).returncode == 0
    assert gesturemap_cli("export", "gm", "--arff", "out.arff", cwd=tmp_path).returncode == 0
    written = _time_column(tmp_path / "out.arff")
    assert len(written) == 1286 and written == _time_column(source)
    assert written[0] == "2018/02/18 17:43:39:244"
