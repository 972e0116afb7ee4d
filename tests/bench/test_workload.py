"""The reference workload of ``gesturemap bench``: inside the package, and XMM's own frames."""

from __future__ import annotations

import numpy as np
import pytest

from gesturemap.bench import workload as wl
from gesturemap.errors import GesturemapError


def _same(a, b) -> None:
    for mine, theirs in ((a.unimodal, b.unimodal), (a.bimodal, b.bimodal)):
        x, y = mine.concatenated(), theirs.concatenated()
        np.testing.assert_array_equal(x.inputs, y.inputs)
        np.testing.assert_array_equal(x.lengths, y.lengths)
        assert x.labels == y.labels
        assert mine.input_names == theirs.input_names
        assert mine.output_names == theirs.output_names
    np.testing.assert_array_equal(a.bimodal.concatenated().outputs,
                                  b.bimodal.concatenated().outputs)
    np.testing.assert_array_equal(a.test_frames, b.test_frames)


def test_the_packaged_workload_is_xmms_reference_data(reference_dir, monkeypatch):
    monkeypatch.delenv(wl.ENVIRONMENT, raising=False)
    packaged = wl.load_workload()
    assert packaged.source.startswith("the workload inside the package")
    assert len(packaged.unimodal) == 25 and packaged.unimodal.labels == [f"g{k}" for k in range(5)]
    assert sum(r.length for r in packaged.unimodal) == 5132
    assert packaged.test_frames.shape == (953, 6) and packaged.test_frames.dtype == np.float64
    # the same datasets, frame for frame, as XMM's own training-set files give
    _same(packaged, wl.load_workload(reference_dir))


def test_another_copy_by_argument_or_environment(reference_dir, monkeypatch):
    monkeypatch.setenv(wl.ENVIRONMENT, str(reference_dir))
    assert wl.load_workload().source == str(reference_dir)
    monkeypatch.setenv(wl.ENVIRONMENT, "")
    assert wl.load_workload().source.startswith("the workload inside the package")


def test_a_missing_workload_says_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(GesturemapError, match="not a copy of XMM's reference data"):
        wl.load_workload(tmp_path)
    monkeypatch.delenv(wl.ENVIRONMENT, raising=False)
    monkeypatch.setattr(wl, "PACKAGED", tmp_path / "xmm_workload.npz")
    with pytest.raises(GesturemapError, match="reinstall gesturemap"):
        wl.load_workload()
