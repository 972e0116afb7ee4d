"""Loading models from files a user was given: clear FormatErrors, never raw
RecursionError / AttributeError / OverflowError, and parameters checked as fit checks them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.errors import FormatError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "damaged"),  # RecursionError before
        ("[1, 2]", "not an XMM model"),  # AttributeError before
        ('{"shared_parameters": {"dimension": 1e999}, "models": [{}]}', "XMM"),
        ('{"shared_parameters": {"dimension": ' + "9" * 5000 + '}, "models": [{}]}', "damaged"),
        ('{"shared_parameters": [], "models": [1]}', "XMM"),
        ("\xff\xfe", "not UTF-8"),
    ],
    ids=["deep", "list", "inf", "huge-int", "wrong-types", "not-utf8"],
)
def test_load_xmm_gives_a_format_error_on_hostile_json(tmp_path: Path, text, message) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(text.encode("utf-8") if not text.startswith("\xff") else b"\xff\xfe")
    with pytest.raises(FormatError, match=message):
        gm.load_xmm(path)


def test_load_xmm_reads_only_regular_files() -> None:
    with pytest.raises(FormatError, match="not a regular file"):
        gm.load_xmm("/dev/zero")


def test_load_xmm_still_reads_the_reference(reference_dir: Path) -> None:
    model = gm.load_xmm(reference_dir / "gmm" / "model.xmm.json")
    assert model.labels_


@pytest.fixture
def saved_gmm(tmp_path: Path) -> Path:
    ds = gm.Dataset()
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        for _ in range(2):
            ds.add(rng.normal(size=(30, 2)) + (label == "b") * 3, label=label)
    return gm.GMM(gaussians=2).fit(ds).save(tmp_path / "m")


@pytest.mark.parametrize("value", [-1, 0, "3", None, 2.5, True])
def test_load_checks_parameters_like_fit(saved_gmm: Path, value) -> None:
    meta = json.loads(saved_gmm.read_text())
    meta["params"]["gaussians"] = value
    saved_gmm.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="gaussians"):
        gm.load(saved_gmm)


def test_a_setting_this_version_does_not_know_says_a_newer_gesturemap_saved_it(
        saved_gmm: Path) -> None:
    """A model saved by a newer gesturemap with a setting this one lacks was "damaged or
    inconsistent (GMM.__init__() got an unexpected keyword argument ...)"; now the file names
    the setting and says it was saved by a newer gesturemap (or edited by hand)."""
    meta = json.loads(saved_gmm.read_text())
    meta["params"]["new_setting"] = 1
    saved_gmm.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match=r"m\.json: GMM has no parameter 'new_setting': the "
                                          "model was saved by a newer gesturemap") as caught:
        gm.load(saved_gmm)
    assert "__init__" not in str(caught.value)


def test_load_checks_class_params(saved_gmm: Path) -> None:
    meta = json.loads(saved_gmm.read_text())
    meta["params"]["class_params"] = [["a", {"no_such_parameter": 1}]]
    saved_gmm.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="class_params"):
        gm.load(saved_gmm)


def test_save_into_a_missing_folder_creates_it(saved_gmm: Path, tmp_path: Path) -> None:
    model = gm.load(saved_gmm)
    path = model.save(tmp_path / "new" / "deeper" / "m")
    assert path.exists() and path.with_suffix(".npz").exists()
    assert gm.load(path).labels_ == model.labels_


def test_save_where_a_folder_cannot_be_made_says_so(saved_gmm: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(gm.GesturemapError, match="cannot be created"):
        gm.load(saved_gmm).save(tmp_path / "file" / "m")


def test_a_models_arrays_are_never_read_through_a_link(saved_gmm: Path, tmp_path: Path) -> None:
    """The arrays a model's JSON names are its own regular file beside it: a link to a file
    elsewhere (a project folder given by someone else) is refused, as for a project's takes."""
    name = json.loads(saved_gmm.read_text())["arrays"]
    arrays = saved_gmm.with_name(name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = arrays.rename(elsewhere / name)
    arrays.symlink_to(moved)
    with pytest.raises(FormatError):
        gm.load(saved_gmm)
    arrays.unlink()
    moved.rename(arrays)
    assert gm.load(saved_gmm).labels_ == ["a", "b"]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["a", "a"], "twice"),
        ([True, False], "True/False"),
        ([1.0, 2.5], "non-empty str"),
        ([[1], {}], "non-empty str"),
        (["", "b"], "non-empty str"),
        (["a", 2], "mix"),
    ],
    ids=["duplicate", "bool", "float", "nested", "empty", "mixed"],
)
def test_load_checks_labels_like_a_dataset(saved_gmm: Path, labels, message) -> None:
    # each loaded before as a model whose classes no dataset could have given it
    meta = json.loads(saved_gmm.read_text())
    meta["labels"] = labels
    saved_gmm.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match=message):
        gm.load(saved_gmm)


def test_load_keeps_int_labels_as_ints(tmp_path: Path) -> None:
    ds = gm.Dataset()
    rng = np.random.default_rng(0)
    for label in (3, 7):
        ds.add(rng.normal(size=(20, 2)) + label, label=label)
    path = gm.GMM(gaussians=1).fit(ds).save(tmp_path / "m")
    assert gm.load(path).labels_ == [3, 7]


def _edited_xmm(reference_dir: Path, tmp_path: Path, kind: str, edit) -> Path:
    doc = json.loads((reference_dir / kind / "model.xmm.json").read_text())
    edit(doc)
    path = tmp_path / "model.xmm.json"
    path.write_text(json.dumps(doc))
    return path


def _all_weights(value: float):
    def edit(doc: dict) -> None:
        for cls in doc["models"]:
            for part in cls.get("states", [cls]):
                part["mixture_coeffs"] = [value] * len(part["mixture_coeffs"])
    return edit


@pytest.mark.parametrize(
    ("kind", "edit", "message"),
    [
        # all 0: a GMR's first frame divided by zero, an HMR's output was a silent [0, 0]
        ("gmr", _all_weights(0.0), "weights are all 0"),
        ("hmr", _all_weights(0.0), "weights are all 0"),
        ("gmm", _all_weights(-0.5), "outside \\[0, 1\\]"),
        # a negative prior gave outputs near 1e126
        ("hmr", lambda d: d.__setitem__("prior", [-1.0] * 5), "top_prior"),
        ("hhmm", lambda d: d["models"][0].__setitem__("exitProbabilities", [3.0] * 10),
         "exit_probabilities"),
        ("hhmm", lambda d: d["models"][0].__setitem__(
            "transition", [-x for x in d["models"][0]["transition"]]), "transition"),
        # loaded, then every stream() raised
        ("gmm", lambda d: d["shared_parameters"].__setitem__("likelihood_window", 0),
         "likelihood_window"),
        ("hhmm", lambda d: d["configuration"]["default_parameters"].__setitem__(
            "relative_regularization", -1), "relative_regularization"),
        ("gmm", lambda d: [m.__setitem__("label", "g0") for m in d["models"]], "twice"),
        # a bimodal model with no input columns: frames of 0 values
        ("gmr", lambda d: d["shared_parameters"].__setitem__("dimension_input", 0),
         "input_dim"),
    ],
    ids=["gmr-zero-weights", "hmr-zero-weights", "negative-weights", "negative-prior",
         "exit-above-1", "negative-transition", "window-0", "negative-regularization",
         "duplicate-labels", "no-inputs"],
)
def test_load_xmm_checks_the_model_as_load_does(reference_dir: Path, tmp_path: Path, kind,
                                                edit, message) -> None:
    path = _edited_xmm(reference_dir, tmp_path, kind, edit)
    with pytest.raises(FormatError, match=message):
        gm.load_xmm(path)


def test_an_imported_xmm_model_saves_and_loads_unchanged(reference_dir: Path,
                                                         tmp_path: Path) -> None:
    model = gm.load_xmm(reference_dir / "hmr" / "model.xmm.json")
    again = gm.load(model.save(tmp_path / "m"))
    frames = np.random.default_rng(0).normal(size=(40, model.input_dim_))
    a, b = model.stream(), again.stream()
    for frame in frames:
        ra, rb = a.step(frame), b.step(frame)
        np.testing.assert_array_equal(ra.log_likelihoods, rb.log_likelihoods)
        np.testing.assert_array_equal(ra.output, rb.output)
