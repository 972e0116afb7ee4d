"""The vocabulary guide (gm.distinctness, gm.vocabulary_guide, ``gesturemap guide``): a
distinct take raises no warning, a take copied from another class does and names that class,
a partial take is judged, bad input gets a clear error. Tiny synthetic gestures: fast."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gesturemap as gm
from gesturemap.cli import main
from gesturemap.evaluation.vocabulary import choose_threshold, uncalibrated_guide
from gesturemap.project import Project

T = np.linspace(0, 2 * np.pi, 50)
SHAPES = {"circle": np.c_[np.cos(T), np.sin(T)], "swipe": np.c_[T / 6, -T / 6],
          "rise": np.c_[T / 6, T / 6]}


def take(kind: str, rng: np.random.Generator) -> np.ndarray:
    return SHAPES[kind] + 0.05 * rng.normal(size=(len(T), 2))


def dataset(rng: np.random.Generator, slip: bool = False) -> gm.Dataset:
    ds = gm.Dataset()
    for _ in range(4):
        for kind in SHAPES:
            ds.add(take(kind, rng), label=kind)
    if slip:  # a swipe recorded as a circle: it blurs circle into swipe
        ds.add(take("swipe", rng), label="circle")
    return ds


@pytest.fixture(scope="module")
def model() -> gm.GMM:
    return gm.GMM(gaussians=2).fit(dataset(np.random.default_rng(0)))


def test_a_distinct_take_raises_no_warning(model):
    d = gm.distinctness(model, take("circle", np.random.default_rng(1)), "circle")
    assert not d.collides and d.margin > 0 and d.score > 0.9
    assert d.nearest in ("swipe", "rise") and d.frames == len(T)
    assert d.reason.startswith("distinct")


def test_a_take_copied_from_another_class_collides_and_names_it(model):
    copied = take("swipe", np.random.default_rng(2))
    d = gm.distinctness(model, copied, "rise")
    assert d.collides and d.margin < 0 and d.score < 0.1
    assert d.nearest == "swipe" and "swipe" in d.reason
    # without a label, the likeliest class is its own and the runner-up the nearest
    free = gm.distinctness(model, copied)
    assert free.label == "swipe" and not free.collides


def test_a_partial_take_is_judged(model):
    rng = np.random.default_rng(3)
    first = gm.distinctness(model, take("circle", rng)[:12], "circle")
    assert first.frames == 12 and not first.collides
    assert gm.distinctness(model, take("swipe", rng)[:12], "rise").nearest == "swipe"


def test_ordinary_movement_like_the_take_collides(model):
    rng = np.random.default_rng(4)
    gesture = take("circle", rng)
    plain = gm.distinctness(model, gesture, "circle")
    still = 0.1 * rng.normal(size=(300, 2))  # resting: far from every gesture
    rested = gm.distinctness(model, gesture, "circle", rehearsal=still)
    assert rested.nearest == plain.nearest and rested.margin == plain.margin
    # a performer whose ordinary movement is circling: the gesture is hardly apart from it
    circling = np.vstack([take("circle", rng) for _ in range(4)])
    d = gm.distinctness(model, gesture, "circle", rehearsal=[still, circling],
                        threshold=plain.margin / 4)
    assert d.nearest == "ordinary movement" and d.collides and d.margin < plain.margin / 4
    assert "ordinary movement" in d.reason


@pytest.mark.parametrize("bad, words", [
    (np.zeros(10), "(T, D)"), (np.zeros((2, 2)), "at least 3"),
    (np.full((10, 2), np.nan), "NaN"), ("circle", "(T, D)")])
def test_bad_takes_get_a_clear_error(model, bad, words):
    with pytest.raises(gm.GesturemapError, match="take") as info:
        gm.distinctness(model, bad, "circle")
    assert words in str(info.value)


def test_bad_model_label_and_dataset_get_a_clear_error(model):
    x = take("circle", np.random.default_rng(5))
    with pytest.raises(gm.GesturemapError, match="not a class of the model"):
        gm.distinctness(model, x, "wave")
    with pytest.raises(gm.GesturemapError, match="fit it first"):
        gm.distinctness(gm.GMM(), x, "circle")
    one = gm.Dataset()
    one.add(x, label="circle")
    one.add(x, label="circle")
    with pytest.raises(gm.GesturemapError, match="two gestures or more"):
        gm.vocabulary_guide(gm.GMM(), one)
    with pytest.raises(gm.GesturemapError, match="scale"):
        gm.distinctness(model, x, "circle", scale=0)


def test_a_bad_rehearsal_or_threshold_is_said_of_itself(model):
    """Ordinary movement of another width was blamed on the take (\"sequence has shape (50,
    2): expected (T, 3)\"), and after the guide's whole cross-validation; a NaN threshold
    never warned (every comparison with it is False)."""
    rng = np.random.default_rng(6)
    x = take("circle", rng)
    wide = rng.normal(size=(300, 3))
    with pytest.raises(gm.GesturemapError, match="rehearsal recording 0: frames of 3 values"):
        gm.distinctness(model, x, "circle", rehearsal=wide)
    with pytest.raises(gm.GesturemapError, match=r"rehearsal: shape \(300,\)"):
        gm.distinctness(model, x, "circle", rehearsal=wide[:, 0])
    with pytest.raises(gm.GesturemapError, match="rehearsal recording 0: frames of 3 values"):
        gm.vocabulary_guide(gm.GMM(gaussians=2), dataset(rng), rehearsal=wide)
    for bad in (float("nan"), float("inf"), "x"):
        with pytest.raises(gm.GesturemapError, match="threshold"):
            gm.distinctness(model, take("swipe", rng), "rise", threshold=bad)


def test_the_guide_finds_the_take_that_blurs_its_class():
    ds = dataset(np.random.default_rng(6), slip=True)
    guide = gm.vocabulary_guide(gm.GMM(gaussians=2), ds)
    slip = len(ds) - 1
    assert guide.misrecognised[slip] and sum(guide.misrecognised) == 1
    assert [(b.index, b.into) for b in guide.blurring("circle")] == [(slip, "swipe")]
    assert guide.blurring("swipe") == [] and "swipe" in guide.text()
    assert set(guide.thresholds) == {0.5, 0.75, 1.0} and guide.folds == 10
    rng = np.random.default_rng(7)
    assert guide.check(take("swipe", rng)[:30], "rise").collides
    assert not guide.check(take("rise", rng), "rise").collides
    assert guide.takes[0].to_dict()["label"] == str(ds[0].label)


def test_the_uncalibrated_guide_checks_as_distinctness_does_at_threshold_0():
    """The window's meter before the review (one training, no cross-validation): its check is
    the model's own verdict at the default threshold."""
    rng = np.random.default_rng(3)
    ds = dataset(rng)
    guide = uncalibrated_guide(gm.GMM(gaussians=2), ds)
    fitted = gm.GMM(gaussians=2).fit(ds)
    copied = take("swipe", rng)[:30]
    d = guide.check(copied, "rise")
    assert d.collides and d.nearest == "swipe" and d.threshold == 0.0
    assert d.margin == pytest.approx(gm.distinctness(fitted, copied, "rise").margin)
    assert not guide.check(take("rise", rng), "rise").collides
    one = gm.Dataset()
    one.add(take("rise", rng), label="rise")
    with pytest.raises(gm.GesturemapError, match="two gestures or more"):
        uncalibrated_guide(gm.GMM(gaussians=2), one)


def test_the_threshold_is_the_one_that_best_predicts_misrecognitions():
    margins = np.array([-2.0, -1.0, 0.5, 0.8, 3.0, 4.0])
    wrong = np.array([True, True, True, False, False, False])
    assert 0.5 < choose_threshold(margins, wrong) < 0.8  # catches the third, not the fourth
    assert choose_threshold(margins, np.zeros(6, dtype=bool)) == 0.0


def test_a_project_reads_raw_frames_through_its_pipeline():
    rng = np.random.default_rng(9)
    project = Project("p", classes=list(SHAPES), model="gmm")
    with pytest.raises(gm.GesturemapError, match="train it first"):
        gm.distinctness(project, take("circle", rng), "circle")
    for _ in range(3):
        for kind in SHAPES:
            project.add_take(take(kind, rng), kind)
    project.train()
    assert not gm.distinctness(project, take("circle", rng), "circle").collides
    d = gm.distinctness(project, take("swipe", rng)[:30], "rise")
    assert d.collides and d.nearest == "swipe"
    with pytest.raises(gm.GesturemapError, match="frames of 2 values"):
        gm.distinctness(project, np.zeros((20, 3)), "rise")


def test_gesturemap_guide_prints_each_take_and_writes_nothing_else(tmp_path, capsys):
    rng = np.random.default_rng(8)
    project = Project("g", classes=list(SHAPES), model="gmm")
    for _ in range(3):
        for kind in SHAPES:
            project.add_take(take(kind, rng), kind)
    slip = project.add_take(take("swipe", rng), "circle")
    folder = tmp_path / "proj"
    project.save(folder)
    before = sorted(p.name for p in folder.rglob("*"))
    out = tmp_path / "guide.json"
    assert main(["guide", str(folder), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    line = next(row for row in text.splitlines() if row.startswith(slip.id))
    assert "COLLIDES" in line and "swipe" in line
    assert f"circle is blurred into swipe by {slip.id}" in text
    assert sorted(p.name for p in folder.rglob("*")) == before
    data = json.loads(out.read_text())
    assert data["blurs"] == [{"take": slip.id, "label": "circle", "into": "swipe"}]
    assert main(["guide", str(folder), slip.id]) == 0
    assert len([r for r in capsys.readouterr().out.splitlines() if r.startswith("take-")]) == 1
    assert main(["guide", str(folder), "take-999999"]) == 2
    assert "not in" in capsys.readouterr().err


def test_the_only_take_of_a_class_is_said_not_judged(tmp_path, capsys):
    """A class with one take: no model trained without it knows the class, so the guide says
    so instead of calling the take 100% distinct from itself."""
    rng = np.random.default_rng(4)
    project = Project("g", classes=list(SHAPES), model="gmm")
    for _ in range(3):
        for kind in ("circle", "swipe"):
            project.add_take(take(kind, rng), kind)
    alone = project.add_take(take("rise", rng), "rise")
    folder = tmp_path / "proj"
    project.save(folder)
    out = tmp_path / "guide.json"
    assert main(["guide", str(folder), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    line = next(row for row in text.splitlines() if row.startswith(alone.id))
    assert "not judged: only take of rise" in line and "100%" not in line
    judged = [row for row in text.splitlines() if row.startswith("take-") and row != line]
    assert len(judged) == 6 and all("%" in row for row in judged)
    rows = {t["id"]: t for t in json.loads(out.read_text())["takes"]}
    assert rows[alone.id]["judged"] is False and rows[alone.id]["margin"] is None
    assert sum(t["judged"] for t in rows.values()) == 6

    # every class with a single take: nothing is judged, and the footnote says why
    single = Project("s", classes=["circle", "swipe"], model="gmm")
    for kind in ("circle", "swipe"):
        single.add_take(take(kind, rng), kind)
    single.save(tmp_path / "single")
    assert main(["guide", str(tmp_path / "single")]) == 0
    text = capsys.readouterr().out
    assert "no take could be judged: every class has a single take" in text
    assert "0 trainings" not in text and "100%" not in text


def test_renaming_the_classes_changes_no_figure_of_the_guide():
    """The guide's cross-validation dealt takes into folds by the classes' sorted names."""
    rng = np.random.default_rng(5)
    takes = [(kind, take(kind, rng) + rng.normal(0.0, 0.4, size=(len(T), 2)))
             for _ in range(6) for kind in SHAPES]
    guides = []
    for rename in ({k: k for k in SHAPES}, {k: f"{9 - i}" for i, k in enumerate(SHAPES)}):
        ds = gm.Dataset()
        for kind, x in takes:
            ds.add(x, label=rename[kind])
        guides.append(gm.vocabulary_guide(gm.GMM(gaussians=1), ds, folds=4))
    a, b = guides
    assert a.threshold == pytest.approx(b.threshold)
    assert [d.margin for d in a.takes] == pytest.approx([d.margin for d in b.takes])
    assert [d.score for d in a.takes] == pytest.approx([d.score for d in b.takes])
