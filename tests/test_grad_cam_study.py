"""The Grad-CAM chapter's helpers (measured figures, examples, the randomised head, the record) and its
committed full-size record."""

import json

import keras
import numpy as np
import pytest
from conftest import REPO

from cifar_lessons.errors import RecordError
from cifar_lessons.gradcam import study
from cifar_lessons.records.committed import COMMITTED_FILES


# --------------------------------------------------------------------------- the configuration
def test_the_chapters_model_is_96_pixels_a_frozen_base_and_three_head_epochs_in_every_profile():
    quick = study.study_config("quick", env={})
    seed = study.study_config("seed", env={})
    assert (quick.n, quick.image_size, quick.head_epochs, quick.fine_tune_epochs) == (2_000, 96, 3, 0)
    assert (seed.n, seed.image_size, seed.head_epochs, seed.fine_tune_epochs) == (10_000, 96, 3, 0)
    assert study.study_config(env={"CIFAR_LESSONS_PROFILE": "quick", "CIFAR_LESSONS_BACKBONE": "efficientnet_lite0"}) \
        .backbone == "efficientnet_lite0"
    assert not quick.augment  # so phase 1 runs on cached features


# --------------------------------------------------------------------------- the measured figures
def test_centre_share_of_uniform_central_border_and_empty_maps():
    maps = np.zeros((4, 32, 32))
    maps[0] = 1.0
    maps[1, 8:24, 8:24] = 0.7
    maps[2, :4] = 1.0
    share = study.centre_share(maps)
    assert share[0] == pytest.approx(0.25) == study.uniform_centre_share()
    assert share[1] == pytest.approx(1.0) and share[2] == 0.0
    assert np.isnan(share[3])  # no mass at all: no share, and no division by zero
    assert study.centre_share(maps[:1], margin=4)[0] == pytest.approx((24 / 32) ** 2)
    with pytest.raises(ValueError, match="margin"):
        study.centre_share(np.ones((1, 16, 16)))


def test_rank_correlation_is_spearmans_per_pair():
    rng = np.random.default_rng(0)
    a = rng.random((3, 8, 8))
    b = np.stack([a[0] ** 3, -a[1], np.full((8, 8), 0.5)])  # same order, reversed, constant
    r = study.rank_correlation(a, b)
    assert r[0] == pytest.approx(1.0) and r[1] == pytest.approx(-1.0) and np.isnan(r[2])
    from scipy.stats import spearmanr

    c = rng.random((1, 8, 8))
    c[0, :2] = 0.0  # ties, as a ReLU'd map has
    assert study.rank_correlation(a[:1], c)[0] == pytest.approx(spearmanr(a[0].ravel(), c[0].ravel()).statistic)
    with pytest.raises(ValueError, match="one shape"):
        study.rank_correlation(a, a[:2])


def test_correct_examples_are_the_first_right_images_of_each_class():
    y = np.array([0, 1, 0, 1, 2, 0])
    pred = np.array([1, 1, 0, 1, 0, 0])  # class 0 first right at 2, class 1 at 1, class 2 never
    probs = np.eye(3)[pred]
    np.testing.assert_array_equal(study.correct_examples(probs, y), [2, 1])
    np.testing.assert_array_equal(study.correct_examples(probs, y, per_class=2), [2, 5, 1, 3])


def test_titles_say_the_class_and_confidence_and_for_a_mistake_both_classes():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    names = ("cat", "dog")
    assert study.example_titles([0], probs, [0, 0], names) == ["cat 90%"]
    assert study.example_titles([1], probs, [0, 0], names, mistakes=True) == ["true: cat\npred: dog\n80%"]


def tiny_classifier():
    """build_classifier's layer names and order on a tiny conv base: base, pool, two Dense, softmax."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Conv2D(4, 8, strides=8, activation="relu", name="last")(inputs)
    base = keras.Model(inputs, x, name="tiny_base")
    image = keras.Input(shape=(32, 32, 3))
    y = keras.layers.GlobalAveragePooling2D(name="pool")(base(image, training=False))
    y = keras.layers.Dense(8, activation="relu", name="dense_1")(y)
    y = keras.layers.Dropout(0.3, name="dropout_1")(y)
    y = keras.layers.Dense(4, activation="relu", name="dense_2")(y)
    return keras.Model(image, keras.layers.Dense(3, activation="softmax", name="classes")(y))


def test_randomised_head_changes_only_the_head_and_gives_the_trained_weights_back():
    model = tiny_classifier()
    before = [w.copy() for w in model.get_weights()]
    base_weights = [w.copy() for w in model.get_layer("tiny_base").get_weights()]
    x = np.random.default_rng(1).normal(size=(4, 32, 32, 3)).astype(np.float32)
    p_before = model.predict(x, verbose=0)
    assert [layer.name for layer in study.head_layers(model)] == ["dense_1", "dense_2", "classes"]
    with study.randomised_head(model, seed=3):
        changed = [not np.array_equal(a, b) for a, b in zip(model.get_weights(), before)]
        assert sum(changed) == 3  # three kernels; the biases were zero already
        for a, b in zip(model.get_layer("tiny_base").get_weights(), base_weights):
            np.testing.assert_array_equal(a, b)  # the frozen base is untouched
        assert not np.allclose(model.predict(x, verbose=0), p_before)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(model.predict(x, verbose=0), p_before)
    with pytest.raises(RuntimeError):  # restored on an error inside the with too
        with study.randomised_head(model):
            raise RuntimeError
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_measure_maps_explains_the_same_classes_with_both_heads():
    model = tiny_classifier()
    x = np.random.default_rng(2).normal(size=(5, 32, 32, 3)).astype(np.float32)
    classes = np.array([0, 1, 2, 0, 1])
    m = study.measure_maps(model, x, classes, seed=0)
    assert m["trained"].shape == m["random"].shape == (5, 32, 32)
    from cifar_lessons.gradcam.method import grad_cam

    np.testing.assert_array_equal(m["trained"], grad_cam(model, x, class_index=classes))
    assert not np.allclose(m["trained"], m["random"])
    s = study.summary(m, np.array([True, True, False, True, False]))
    assert s["images"] == 5 and s["uniform_centre_share"] == 0.25
    assert s["centre_share_trained"] == pytest.approx(np.nanmean(study.centre_share(m["trained"])), abs=1e-4)
    table = study.summary_table(s)
    assert list(table["value"])[-1] == f"{s['rank_correlation_trained_vs_random_head']:.2f}"


def test_grad_cam_rows_puts_each_map_row_under_its_image():
    from cifar_lessons.display.plots import feature_map_grids
    from cifar_lessons.gradcam.figures import grad_cam_rows
    from cifar_lessons.gradcam.method import overlay

    images = np.full((3, 32, 32, 3), 90, np.uint8)
    a, b = np.zeros((3, 32, 32)), np.ones((3, 32, 32))
    fig = grad_cam_rows(images, {"first": a, "second": b}, ["x", "y", "z"])
    assert len(fig.axes) == 9
    assert [fig.axes[i].get_ylabel() for i in (0, 3, 6)] == ["image", "first", "second"]
    np.testing.assert_array_equal(fig.axes[4].images[0].get_array(), overlay(images[1], a[1], alpha=0.45))
    np.testing.assert_array_equal(fig.axes[7].images[0].get_array(), overlay(images[1], b[1], alpha=0.45))
    with pytest.raises(ValueError, match="one heatmap per image"):
        grad_cam_rows(images, {"first": a[:2]})
    grid = feature_map_grids(images[0], {32: 1, 96: 3})
    assert [len(ax.lines) for ax in grid.axes] == [0, 4]  # 3x3 cells: two horizontal and two vertical lines


# --------------------------------------------------------------------------- the record
def fake_record(folder, **changes):
    """A small record folder as save_study writes it (synthetic numbers)."""
    folder.mkdir(parents=True)
    record = {"producer": "cifar_lessons", "stage": "full",
              "config": {**study.study_config("seed", env={}).to_dict()},
              "data": {"n_train": 9000, "n_val": 1000, "n_test": 4}, "weights": {"pretrained": True},
              "timing": {"head_seconds": 1.0, "run_seconds": 2.0},
              "made_by": {"commit": "abc", "command": "python scripts/measure_grad_cam.py"},
              "grad_cam": {"images": 4}}
    record.update(changes)
    (folder / "record.json").write_text(json.dumps(record))
    (folder / "history.json").write_text(json.dumps({"history": {"val_accuracy": [0.5] * study.HEAD_EPOCHS}}))
    (folder / "metrics.json").write_text(json.dumps({"accuracy": 0.5, "confusion_matrix": [[2, 0], [1, 1]]}))
    for name in study.FIGURES:
        (folder / name).write_bytes(b"\x89PNG")
    return folder


def test_check_study_accepts_a_whole_record_and_names_what_is_wrong(tmp_path):
    assert study.check_study(fake_record(tmp_path / "ok")).metrics["accuracy"] == 0.5
    with pytest.raises(RecordError, match="which commit and command"):
        study.check_study(fake_record(tmp_path / "a", made_by={"commit": "abc", "command": "python -m cifar_lessons run"}))
    with pytest.raises(RecordError, match="not the chapter's model"):
        study.check_study(fake_record(tmp_path / "b", config={**study.study_config("seed", env={}).to_dict(),
                                                               "image_size": 32}))
    tuned = {**study.study_config("seed", env={}, **study.TUNED_OVERRIDES).to_dict()}
    with pytest.raises(RecordError, match="history that is not as long"):  # 3 + 3 epochs, a history of 10
        study.check_study(fake_record(tmp_path / ("t" + study.TUNED), config=tuned))
    with pytest.raises(RecordError, match="not the chapter's model"):  # a -tuned record that was not fine-tuned
        study.check_study(fake_record(tmp_path / ("u" + study.TUNED)))
    with pytest.raises(RecordError, match="no test metrics"):
        study.check_study(fake_record(tmp_path / "c", data={"n_test": 5}))
    with pytest.raises(RecordError, match="no measured maps"):
        study.check_study(fake_record(tmp_path / "d", grad_cam={}))
    (fake_record(tmp_path / "e") / "mistakes.png").unlink()
    with pytest.raises(RecordError, match="lacks mistakes.png"):
        study.check_study(tmp_path / "e")
    (fake_record(tmp_path / "f") / "model.keras").write_bytes(b"x")
    with pytest.raises(RecordError, match="holds a model"):
        study.check_study(tmp_path / "f")


def test_record_line_gives_the_records_own_figures_in_two_short_lines(tmp_path):
    g = {"images": 1000, "uniform_centre_share": 0.25, "centre_share_trained": 0.31, "centre_share_random_head": 0.27,
         "rank_correlation_trained_vs_random_head": 0.04}
    record = study.check_study(fake_record(tmp_path / "r", grad_cam=g))
    lines = study.record_line(record).splitlines()
    assert lines == ["r: test accuracy 50.0% on 4 test images (9,000 + 1,000 to train)",
                     "first 1,000 test images: centre share 31% (random head 27%, uniform 25%); rank correlation 0.04"]
    assert max(map(len, lines)) <= 100  # printed on a slide, which does not wrap


def test_records_table_and_figures_say_plainly_what_is_not_measured(tmp_path):
    g = {"images": 1000, "centre_share_trained": 0.31, "centre_share_random_head": 0.27,
         "rank_correlation_trained_vs_random_head": 0.04}
    record = study.check_study(fake_record(tmp_path / study.RECORD, grad_cam=g))
    table = study.records_table({study.RECORD: record, study.TUNED: None})
    assert table.iloc[0].to_dict() == {"record": study.RECORD, "model": "frozen base, head 3 epochs",
                                       "test accuracy": "50.0%", "centre share": "31%", "with a random head": "27%",
                                       "rank correlation": "0.04", "wall time": "0.0 min"}
    assert table.iloc[1]["test accuracy"] == "not measured yet" and table.iloc[1]["centre share"] == ""
    assert set(study.RECORDS_ON_SLIDES) <= set(table.columns)
    assert study.record_figure(record, "correct.png").filename == str(record.path / "correct.png")
    assert "Not in this checkout" in study.record_figure(None, "mistakes.png").data


def test_committed_study_is_none_when_not_measured_and_an_error_when_broken(tmp_path):
    assert study.committed_study(tmp_path) is None
    fake_record(tmp_path / study.RECORD)
    assert study.committed_study(tmp_path).path.name == study.RECORD
    (tmp_path / study.RECORD / "correct.png").unlink()
    with pytest.raises(RecordError):
        study.committed_study(tmp_path)


@pytest.mark.parametrize("name", [study.RECORD, study.TUNED])
def test_the_committed_records_are_the_full_size_runs_the_chapter_says_they_are(name):
    path = REPO / "results" / name
    if not path.is_dir():
        pytest.skip(f"results/{name} is not committed yet")
    record = study.check_study(path)
    c, d, r = record.config, record.data, record.record
    assert sorted(p.name for p in path.iterdir()) == sorted(COMMITTED_FILES + study.FIGURES)
    assert (c["n"], d["n_train"], d["n_val"], d["n_test"]) == (10_000, 9_000, 1_000, 10_000)
    expected = study.study_config("seed", env={}, **(study.TUNED_OVERRIDES if name == study.TUNED else {}))
    assert (c["backbone"], c["image_size"], c["head_epochs"], c["fine_tune_epochs"], c["fine_tune_learning_rate"],
            c["fine_tune_schedule"], c["augment"]) == ("efficientnet_lite0", 96, expected.head_epochs,
                                                       expected.fine_tune_epochs, expected.fine_tune_learning_rate,
                                                       expected.fine_tune_schedule, False)
    assert record.weights["pretrained"] and record.weights["weights"] == "imagenet"
    assert "+changes" not in r["made_by"]["commit"]
    assert r["made_by"]["command"] == "python scripts/measure_grad_cam.py" + (" --fine-tune" if name == study.TUNED else "")
    assert sum(map(sum, record.metrics["confusion_matrix"])) == 10_000
    g = r["grad_cam"]
    assert g["images"] == 1_000 and g["feature_map"] == [3, 3]
    # What the chapter says in words: the maps depend on the trained head (a rank correlation near 0
    # with the random head's), and they are not concentrated in the centre (at most a few points above
    # a uniform map's 25%).
    assert abs(g["rank_correlation_trained_vs_random_head"]) < 0.2
    assert g["centre_share_trained"] < 0.3
    assert r["timing"]["run_seconds"] < 12 * 60  # designed to take at most about 12 minutes on 2 cores
    for figure in study.FIGURES:
        data = (path / figure).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) < 400_000


def test_fine_tuning_made_the_better_classifier():
    frozen, tuned = (REPO / "results" / n for n in (study.RECORD, study.TUNED))
    if not (frozen.is_dir() and tuned.is_dir()):
        pytest.skip("the full-size records are not committed yet")
    assert study.check_study(tuned).metrics["accuracy"] > study.check_study(frozen).metrics["accuracy"] + 0.05
