"""Tests of gesturemap.data: Recording, Dataset, and their files (own format, XMM, .npz)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gesturemap.data import Dataset, Recording, class_numbers
from gesturemap.errors import FormatError, GesturemapError
from gesturemap.utils import storage as _io


def _frames(t: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(t, d))


@pytest.fixture
def gestures() -> Dataset:
    ds = Dataset()
    ds.add(_frames(10, 3, 1), "swipe")
    ds.add(_frames(12, 3, 2), "circle")
    ds.add(_frames(8, 3, 3), "swipe")
    return ds


# ---- Recording ----------------------------------------------------------------------------------


def test_recording_copies_and_freezes_its_data() -> None:
    inputs = _frames(5, 2)
    outputs = np.arange(5, dtype=np.int32)
    recording = Recording(inputs, "a", outputs)
    inputs[0, 0] = 99.0
    assert recording.inputs[0, 0] != 99.0
    assert recording.inputs.dtype == np.float64 and recording.outputs is not None
    assert recording.outputs.shape == (5, 1) and recording.outputs.dtype == np.float64
    assert not recording.inputs.flags.writeable and not recording.outputs.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        recording.inputs[0, 0] = 1.0
    assert recording.length == 5 == len(recording)
    assert recording.is_bimodal
    assert repr(recording) == "Recording(label='a', length=5, inputs=2, outputs=1)"


def test_recording_one_dimensional_inputs_are_one_column() -> None:
    recording = Recording([1.0, 2.0, 3.0], 7)
    assert recording.inputs.shape == (3, 1)
    assert recording.label == 7 and not recording.is_bimodal and recording.outputs is None


def test_recording_label_normalised() -> None:
    assert type(Recording([1.0], np.int64(3)).label) is int
    assert type(Recording([1.0], np.str_("g0")).label) is str


# ---- Dataset: adding and validation -------------------------------------------------------------


def test_add_and_properties(gestures: Dataset) -> None:
    assert len(gestures) == 3
    assert gestures.labels == ["circle", "swipe"]
    assert gestures.input_dim == 3 and gestures.output_dim == 0 and not gestures.is_bimodal
    assert gestures.input_names == ("in1", "in2", "in3") and gestures.output_names == ()
    assert gestures.n_frames == 30
    assert [r.length for r in gestures.by_label("swipe")] == [10, 8]
    assert gestures.by_label("nothing") == []
    assert gestures[-1].length == 8 and gestures[1].label == "circle"
    assert [r.label for r in gestures] == ["swipe", "circle", "swipe"]
    assert repr(gestures) == "Dataset(3 recordings, 2 labels, 30 frames, 3 inputs)"


def test_add_copies_the_data() -> None:
    ds = Dataset()
    inputs = _frames(4, 2)
    recording = ds.add(inputs, "a")
    inputs[:] = 0.0
    assert ds[0] is recording and np.abs(recording.inputs).sum() > 0


def test_empty_dataset() -> None:
    ds = Dataset()
    assert len(ds) == 0 and ds.labels == [] and ds.n_frames == 0
    assert ds.input_dim == 0 and ds.output_dim == 0 and not ds.is_bimodal
    stacked = ds.concatenated()
    assert stacked.inputs.shape == (0, 0) and stacked.lengths.shape == (0,)


def _refused(ds: Dataset, *args, match: str) -> None:
    """Check that add() refuses the data with this message and leaves the dataset as it was."""
    before = (len(ds), ds.n_frames, ds.labels, ds.input_dim, ds.output_dim)
    with pytest.raises(GesturemapError, match=match):
        ds.add(*args)
    assert (len(ds), ds.n_frames, ds.labels, ds.input_dim, ds.output_dim) == before


def test_add_refuses_non_finite_values_naming_recording_frame_and_column(
    gestures: Dataset,
) -> None:
    bad = _frames(6, 3)
    bad[4, 2] = np.nan
    bad[5, 0] = np.inf
    _refused(
        gestures,
        bad,
        "wave",
        match=r"^recording 3 \(label 'wave'\): inputs: got nan at frame 4, column 2; "
        r"expected finite numbers",
    )
    outputs = np.zeros((6, 1))
    outputs[2, 0] = -np.inf
    ds = Dataset()
    _refused(ds, _frames(6, 3), "a", outputs, match=r"outputs: got -inf at frame 2, column 0")


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        (np.zeros((0, 3)), r"at least one frame"),
        (np.zeros((4, 0)), r"at least one frame \(row\) and one column"),
        (np.zeros((4, 3, 1)), r"expected a \(T, D\) array"),
        (np.zeros((4, 2)), r"got an array of shape \(4, 2\).*expected 3 columns like the earlier"),
        (np.array([["a", "b", "c"]]), r"expected real numbers"),
        ([[1.0, 2.0, 3.0], [1.0]], r"ragged"),
    ],
)
def test_add_refuses_bad_inputs(gestures: Dataset, inputs: object, match: str) -> None:
    _refused(gestures, inputs, "swipe", match=match)


@pytest.mark.parametrize(
    ("label", "match"),
    [
        (True, r"label: got True; expected a str .* or an int"),
        (1, r"label: got 1; expected a str like the other labels \('swipe'\)"),
        ("", r"expected a non-empty str"),
        (1.5, r"expected a non-empty str"),
        (None, r"expected a non-empty str"),
    ],
)
def test_add_refuses_bad_labels(gestures: Dataset, label: object, match: str) -> None:
    _refused(gestures, _frames(4, 3), label, match=match)


def test_int_labels() -> None:
    ds = Dataset()
    ds.add(_frames(3, 2), 2)
    ds.add(_frames(3, 2), np.int32(0))
    assert ds.labels == [0, 2]
    assert len(ds.by_label(0)) == 1 and ds.by_label("0") == []
    _refused(ds, _frames(3, 2), "a", match="expected a int like the other labels")


@pytest.mark.parametrize(
    ("labels", "numbers"),
    [
        ([3, 1, 7], [3.0, 1.0, 7.0]),  # Wekinator's own class numbers stay as they are
        (["circle", "swipe", "wave"], [1.0, 2.0, 3.0]),  # names: their place, from 1
        ([np.int64(4), np.int32(2)], [4.0, 2.0]),
        ([0, -2], [0.0, -2.0]),
        ([], []),
    ],
)
def test_class_numbers_are_wekinators(labels: list, numbers: list) -> None:
    got = class_numbers(labels)
    assert got == numbers and all(type(n) is float for n in got)


def test_bimodal_dataset_rules() -> None:
    ds = Dataset()
    ds.add(_frames(5, 3), "a", _frames(5, 2))
    assert ds.is_bimodal and ds.output_dim == 2 and ds.output_names == ("y0", "y1")
    _refused(ds, _frames(5, 3), "a", match=r"outputs: got None; expected a \(T, 2\) array")
    _refused(ds, _frames(5, 3), "a", _frames(5, 1), match="expected 2 columns like the earlier")
    _refused(ds, _frames(5, 3), "a", _frames(4, 2), match=r"one row per input frame \(5 rows\)")
    unimodal = Dataset()
    unimodal.add(_frames(5, 3), "a")
    _refused(unimodal, _frames(5, 3), "a", _frames(5, 2), match="have no outputs")


def test_names_fix_dimensions() -> None:
    ds = Dataset(input_names=["ax", "ay"], output_names=["pitch"])
    assert ds.input_dim == 2 and ds.output_dim == 1 and ds.is_bimodal
    _refused(ds, _frames(4, 3), "a", _frames(4, 1), match="expected 2 columns like input_names")
    _refused(ds, _frames(4, 2), "a", match="recordings have outputs")
    _refused(ds, _frames(4, 2), "a", _frames(4, 2), match="expected 1 columns like output_names")
    ds.add(_frames(4, 2), "a", _frames(4, 1))
    assert ds.input_names == ("ax", "ay") and ds.output_names == ("pitch",)
    no_outputs = Dataset(output_names=[])
    _refused(no_outputs, _frames(4, 2), "a", _frames(4, 1), match="have no outputs")


@pytest.mark.parametrize(
    ("names", "match"),
    [("ax", "not a single str"), (["a", "a"], "all different"), (["a", ""], "non-empty str")],
)
def test_bad_names(names: object, match: str) -> None:
    with pytest.raises(GesturemapError, match=match):
        Dataset(input_names=names)  # type: ignore[arg-type]
    with pytest.raises(GesturemapError, match="at least one name"):
        Dataset(input_names=[])


# ---- Dataset: editing ---------------------------------------------------------------------------


def test_remove(gestures: Dataset) -> None:
    removed = gestures.remove(1)
    assert removed.label == "circle" and len(gestures) == 2 and gestures.labels == ["swipe"]
    assert gestures.remove(-1).length == 8
    with pytest.raises(IndexError, match="out of range: the dataset has 1"):
        gestures.remove(5)
    gestures.remove(0)
    assert gestures.input_dim == 0
    gestures.add(_frames(3, 5), 4)  # an emptied dataset takes any shape and label kind again
    assert gestures.input_dim == 5 and gestures.labels == [4]


def test_relabel(gestures: Dataset) -> None:
    old = gestures[0]
    updated = gestures.relabel(0, "wave")
    assert updated.label == "wave" and gestures[0] is updated
    assert old.label == "swipe"  # recordings are immutable: the old one is untouched
    np.testing.assert_array_equal(updated.inputs, old.inputs)
    assert gestures.labels == ["circle", "swipe", "wave"]
    with pytest.raises(GesturemapError, match="recording 1: label: got 3; expected a str"):
        gestures.relabel(1, 3)
    assert gestures[1].label == "circle"
    single = Dataset()
    single.add(_frames(3, 2), "a")
    assert single.relabel(0, 1).label == 1  # the only recording may change label kind


def test_copy_is_independent(gestures: Dataset) -> None:
    copied = gestures.copy()
    copied.remove(0)
    copied.add(_frames(2, 3), "new")
    assert len(gestures) == 3 and "new" not in gestures.labels
    assert copied[0] is gestures[1]


def test_concatenated(gestures: Dataset) -> None:
    stacked = gestures.concatenated()
    assert stacked.inputs.shape == (30, 3) and stacked.outputs is None
    assert stacked.lengths.tolist() == [10, 12, 8] and stacked.labels == [
        "swipe",
        "circle",
        "swipe",
    ]
    np.testing.assert_array_equal(stacked.inputs[22:], gestures[2].inputs)
    swipes = gestures.concatenated("swipe")
    assert swipes.lengths.tolist() == [10, 8] and swipes.inputs.shape == (18, 3)
    np.testing.assert_array_equal(swipes.inputs[10:], gestures[2].inputs)
    with pytest.raises(GesturemapError, match=r"label: got 'swip'; expected one of the dataset"):
        gestures.concatenated("swip")


# ---- XMM import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bimodal", [False, True])
def test_from_xmm_reproduces_the_reference_arrays(reference_dir: Path, bimodal: bool) -> None:
    data = reference_dir / "data"
    kind = "bimodal" if bimodal else "unimodal"
    ds = Dataset.from_xmm(data / f"trainingset_{kind}.xmm.json")
    stacked = ds.concatenated()
    x_train = np.load(data / "X_train.npy")
    assert x_train.dtype == np.float32
    np.testing.assert_array_equal(stacked.inputs, x_train.astype(np.float64))
    assert np.array_equal(stacked.inputs.astype(np.float32), x_train)
    np.testing.assert_array_equal(stacked.lengths, np.load(data / "phrase_lengths.npy"))
    assert stacked.labels == [f"g{k}" for k in np.load(data / "phrase_class.npy")]
    assert ds.labels == ["g0", "g1", "g2", "g3", "g4"]
    assert ds.input_names == ("x0", "x1", "x2", "x3", "x4", "x5")
    assert ds.is_bimodal == bimodal
    if bimodal:
        assert stacked.outputs is not None
        np.testing.assert_array_equal(stacked.outputs, np.load(data / "Y_train.npy"))
        assert ds.output_names == ("y0", "y1")
    else:
        assert stacked.outputs is None and ds.output_dim == 0


def _xmm_phrase(index: int, label: str, data: list[float], length: int) -> dict:
    return {"index": index, "label": label, "length": length, "dimension": 2, "data": data}


def _write_xmm(path: Path, phrases: list[dict], **top: object) -> Path:
    document = {"bimodal": False, "dimension": 2, "dimension_input": 0, "phrases": phrases}
    document.update(top)
    path.write_text(json.dumps(document))
    return path


def test_from_xmm_orders_phrases_by_index_and_skips_empty_ones(tmp_path: Path) -> None:
    path = _write_xmm(
        tmp_path / "t.json",
        [
            _xmm_phrase(2, "b", [5.0, 6.0], 1),
            _xmm_phrase(0, "a", [1.0, 2.0, 3.0, 4.0], 2),
            _xmm_phrase(1, "a", [], 0),
        ],
        column_names=["ax", "ay"],
    )
    with pytest.warns(UserWarning, match=r"phrase 1 \(label 'a'\) is empty"):
        ds = Dataset.from_xmm(path)
    assert [r.label for r in ds] == ["a", "b"]
    np.testing.assert_array_equal(ds[0].inputs, [[1.0, 2.0], [3.0, 4.0]])
    assert ds.input_names == ("ax", "ay")


@pytest.mark.parametrize(
    ("phrases", "top", "match"),
    [
        ([_xmm_phrase(0, "a", [1.0, 2.0, 3.0], 2)], {}, r"'data' has 3 values; expected length 2"),
        ([_xmm_phrase(0, "a", [1.0, "x"], 1)], {}, "not a list of numbers"),
        ([_xmm_phrase(0, "a", [1.0, float("nan")], 1)], {}, "got nan at frame 0, column 1"),
        ([{"index": 0, "length": 1, "data": [1.0, 2.0]}], {}, "'label' is None"),
        ([], {"dimension": "2"}, "'dimension' is '2'"),
        ([], {"bimodal": True, "dimension_input": 2}, "dimensions do not fit"),
    ],
)
def test_from_xmm_bad_content(tmp_path: Path, phrases: list, top: dict, match: str) -> None:
    path = _write_xmm(tmp_path / "t.json", phrases, **top)
    with pytest.raises(FormatError, match=match):
        Dataset.from_xmm(path)


def test_from_xmm_bad_files(tmp_path: Path, reference_dir: Path) -> None:
    with pytest.raises(FormatError, match="does not exist"):
        Dataset.from_xmm(tmp_path / "missing.json")
    truncated = tmp_path / "truncated.json"
    source = reference_dir / "data" / "trainingset_unimodal.xmm.json"
    truncated.write_bytes(source.read_bytes()[:5000])
    with pytest.raises(FormatError, match="damaged or truncated"):
        Dataset.from_xmm(truncated)
    other = tmp_path / "other.json"
    other.write_text('{"format": "gesturemap.dataset"}')
    with pytest.raises(FormatError, match="not an XMM training set"):
        Dataset.from_xmm(other)


# ---- own format ---------------------------------------------------------------------------------


def _assert_same(a: Dataset, b: Dataset) -> None:
    assert len(a) == len(b)
    assert a.input_names == b.input_names and a.output_names == b.output_names
    assert a.is_bimodal == b.is_bimodal
    for ra, rb in zip(a, b, strict=True):
        assert ra.label == rb.label and type(ra.label) is type(rb.label)
        np.testing.assert_array_equal(ra.inputs, rb.inputs)
        if ra.outputs is None:
            assert rb.outputs is None
        else:
            np.testing.assert_array_equal(ra.outputs, rb.outputs)


def test_save_load_round_trip_xmm_bimodal(tmp_path: Path, reference_dir: Path) -> None:
    ds = Dataset.from_xmm(reference_dir / "data" / "trainingset_bimodal.xmm.json")
    ds.save(tmp_path / "set.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.json", "set.npz"]
    document = json.loads((tmp_path / "set.json").read_text())
    assert document["format"] == "gesturemap.dataset" and document["version"] == 1
    assert document["lengths"][:3] == [187, 205, 217] and document["labels"][0] == "g0"
    _assert_same(ds, Dataset.load(tmp_path / "set.json"))


@pytest.mark.parametrize("case", ["int labels", "named", "empty", "empty named"])
def test_save_load_round_trip(tmp_path: Path, case: str) -> None:
    if case == "int labels":
        ds = Dataset()
        ds.add(_frames(3, 2, 1), 3)
        ds.add(_frames(1, 2, 2), 1)
    elif case == "named":
        ds = Dataset(["ax", "ay"], ["cutoff"])
        ds.add(_frames(4, 2), "a", _frames(4, 1))
    elif case == "empty":
        ds = Dataset()
    else:
        ds = Dataset(["ax"], [])
    ds.save(tmp_path / "set.json")
    loaded = Dataset.load(tmp_path / "set.json")
    _assert_same(ds, loaded)
    assert loaded.input_dim == ds.input_dim and loaded.output_dim == ds.output_dim


def test_save_needs_a_json_name(tmp_path: Path, gestures: Dataset) -> None:
    with pytest.raises(GesturemapError, match="ending in .json"):
        gestures.save(tmp_path / "set.npz")
    assert list(tmp_path.iterdir()) == []


def test_load_refuses_a_mismatched_pair(tmp_path: Path, gestures: Dataset) -> None:
    gestures.save(tmp_path / "a.json")
    other = gestures.copy()
    other.relabel(0, "wave")
    other.add(_frames(2, 3), "wave")
    other.save(tmp_path / "b.json")
    (tmp_path / "b.npz").replace(tmp_path / "a.npz")
    with pytest.raises(FormatError, match="checksum differs"):
        Dataset.load(tmp_path / "a.json")


def test_load_refuses_damaged_or_newer_files(tmp_path: Path, gestures: Dataset) -> None:
    path = tmp_path / "a.json"
    gestures.save(path)
    document = json.loads(path.read_text())

    (tmp_path / "a.npz").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match="checksum differs"):
        Dataset.load(path)

    # Even with a matching checksum (a crafted file), the contents are checked.
    bad = np.concatenate([r.inputs for r in gestures])
    bad[3, 1] = np.nan
    document["arrays_sha256"] = _io.save_npz(
        tmp_path / "a.npz", inputs=bad, lengths=np.array([10, 12, 8])
    )
    path.write_text(json.dumps(document))
    with pytest.raises(FormatError, match="damaged: recording 0 .*nan at frame 3, column 1"):
        Dataset.load(path)

    document["arrays_sha256"] = _io.save_npz(
        tmp_path / "a.npz", inputs=bad[:20], lengths=np.array([10, 12, 8])
    )
    path.write_text(json.dumps(document))
    with pytest.raises(FormatError, match=r"'inputs' has shape \(20, 3\); expected \(30, any\)"):
        Dataset.load(path)

    path.write_text(json.dumps({**document, "lengths": [10, 12]}))
    with pytest.raises(FormatError, match="'labels' has 3 entries and 'lengths' 2"):
        Dataset.load(path)
    path.write_text(json.dumps({**document, "lengths": [10, 0, 20]}))
    with pytest.raises(FormatError, match="'lengths' gives recording 1 0 frames"):
        Dataset.load(path)

    path.write_text(json.dumps({**document, "version": 3}))
    with pytest.raises(FormatError, match="newer gesturemap"):
        Dataset.load(path)

    path.write_text(json.dumps({**document, "format": "gesturemap.model"}))
    with pytest.raises(FormatError, match="not a gesturemap.dataset file"):
        Dataset.load(path)


def test_rehearsals_round_trip_and_a_damaged_table_is_refused(tmp_path: Path,
                                                              gestures: Dataset) -> None:
    ds = gestures.copy()
    labels = np.array(["null"] * 6 + ["circle"] * 4 + ["null"] * 5)
    ds.add_rehearsal(_frames(15, 3, 1), labels, group="ana")
    ds.add_rehearsal(_frames(7, 3, 2), ["circle"] * 7)
    ds.add_rehearsal(_frames(5, 3, 3), ["null"] * 5, group=np.int64(10))
    with pytest.raises(GesturemapError, match="rehearsal 3: group"):
        ds.add_rehearsal(_frames(5, 3, 3), ["null"] * 5, group=True)
    assert len(ds) == len(gestures) and len(ds.rehearsals) == 3  # rehearsals are not takes
    path = tmp_path / "a.json"
    ds.save(path)
    document = json.loads(path.read_text())
    assert document["version"] == 2
    assert document["rehearsals"]["groups"] == ["ana", "rehearsal 1", 10]
    back = Dataset.load(path)
    _assert_same(ds, back)
    assert [r.group for r in back.rehearsals] == ["ana", "rehearsal 1", 10]
    for a, b in zip(ds.rehearsals, back.rehearsals, strict=True):
        assert np.array_equal(a.inputs, b.inputs)
        assert a.frame_labels.tolist() == b.frame_labels.tolist()
    assert not back.rehearsals[0].frame_labels.flags.writeable
    # a dataset without rehearsals is still written as version 1
    gestures.save(tmp_path / "plain.json")
    assert json.loads((tmp_path / "plain.json").read_text())["version"] == 1

    document["rehearsals"]["labels"] = ["circle"]  # a frame's number past the table
    path.write_text(json.dumps(document))
    with pytest.raises(FormatError, match="damaged: a rehearsal's frame label"):
        Dataset.load(path)
    document["rehearsals"]["lengths"] = [15, 7]
    path.write_text(json.dumps(document))
    with pytest.raises(FormatError, match="'rehearsals' are not as gesturemap writes them"):
        Dataset.load(path)


def test_load_refuses_pickled_arrays(tmp_path: Path, gestures: Dataset) -> None:
    path = tmp_path / "a.json"
    gestures.save(path)
    document = json.loads(path.read_text())
    evil = tmp_path / "a.npz"
    np.savez(evil, inputs=np.array([object()] * 30), lengths=np.array([10, 12, 8]))
    import hashlib

    document["arrays_sha256"] = hashlib.sha256(evil.read_bytes()).hexdigest()
    path.write_text(json.dumps(document))
    with pytest.raises(FormatError, match="damaged or not an .npz file"):
        Dataset.load(path)


# ---- .npz import --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["JapaneseVowels", "ShoulderExerciseWatch"])
def test_from_npz_shared_datasets(datasets_dir: Path, name: str) -> None:
    path = datasets_dir / name / f"{name}_train.npz"
    ds = Dataset.from_npz(path)
    with np.load(path, allow_pickle=False) as z:
        frames, lengths, y = z["X_concat"], z["lengths"], z["y"]
        channels = z["channels"] if "channels" in z.files else None
    stacked = ds.concatenated()
    np.testing.assert_array_equal(stacked.inputs, frames)
    np.testing.assert_array_equal(stacked.lengths, lengths)
    assert stacked.labels == [str(v) for v in y]
    assert all(type(label) is str for label in stacked.labels)
    if channels is not None:
        assert ds.input_names == tuple(str(c) for c in channels)
    else:
        assert ds.input_names[0] == "in1"


def test_from_npz_int_labels_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X_concat=_frames(5, 2), lengths=np.array([2, 3]), y=np.array([1, 0]))
    ds = Dataset.from_npz(path)
    assert ds.labels == [0, 1] and [r.length for r in ds] == [2, 3]

    np.savez(path, X_concat=_frames(5, 2), lengths=np.array([2, 2]), y=np.array([1, 0]))
    with pytest.raises(FormatError, match="adding up to the 5 rows"):
        Dataset.from_npz(path)
    np.savez(path, X_concat=_frames(5, 2), lengths=np.array([5]), y=np.array([1, 0]))
    with pytest.raises(FormatError, match="'y' has 2 labels for 1 recordings"):
        Dataset.from_npz(path)
    np.savez(path, X_concat=_frames(5, 2), lengths=np.array([5]), y=np.array([0.5]))
    with pytest.raises(FormatError, match="expected strings or integers"):
        Dataset.from_npz(path)
    np.savez(path, X_concat=_frames(5, 2), y=np.array([0]))
    with pytest.raises(FormatError, match="lacks the array 'lengths'"):
        Dataset.from_npz(path)
