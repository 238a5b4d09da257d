"""Transfer or from scratch, measured: the from-scratch network, the head-only run, their records, the
committed full-size records and the figure drawn from them (``cifar_lessons.scratch``)."""

import json
import math

import numpy as np
import pytest
from conftest import REPO, heavy_imports, label_of

from cifar_lessons.errors import RecordError
from cifar_lessons.records.committed import COMMITTED_FILES
from cifar_lessons.scratch import figures, study

RESULTS = REPO / "results"


# --------------------------------------------------------------------------- the runs
def test_the_runs_are_the_comparison_the_issue_asks_for():
    names = [spec.name for spec in study.RUNS]
    assert len(set(names)) == len(names)
    full = {(s.method, s.image_size, s.augment) for s in study.RUNS if s.n == study.FULL_N}
    assert full == {("scratch", 32, False), ("scratch", 32, True), ("head", 32, False), ("head", 128, False)}
    curve = {(s.method, s.image_size, s.n) for s in study.RUNS if s.augment or s.method == "head"}
    for n in study.SIZES:
        assert ("scratch", 32, n) in curve and ("head", 32, n) in curve and ("head", 128, n) in curve


def test_a_smaller_training_set_gets_as_many_optimiser_steps_not_as_many_epochs():
    assert study.equal_steps_epochs(10_000, 15, 128) == 15
    # 9,000 images fit in 71 batches of 128; 900 in 8, 2,250 in 18: 71 * 15 = 1,065 steps each
    assert study.equal_steps_epochs(1_000, 15, 128) == round(71 * 15 / 8) == 133
    assert study.equal_steps_epochs(2_500, 15, 128) == round(71 * 15 / 18)
    spec = study.spec_named("head-lite0-32-n1000")
    config = study.transfer_config(spec, None, weights="none")
    # the head's batches of 64: 141 steps an epoch on 9,000 images, 15 on 900
    assert (config.n, config.head_epochs, config.fine_tune_epochs, config.image_size) == (1_000, 94, 0, 32)


def test_an_unknown_run_is_named_with_the_known_ones():
    with pytest.raises(Exception, match="scratch-cnn-32-flips"):
        study.spec_named("scratch-cnn-64")


# --------------------------------------------------------------------------- the network
def test_the_small_cnn_starts_from_random_weights_and_takes_raw_32_pixel_images():
    from cifar_lessons.scratch.model import small_cnn

    a, b = small_cnn(seed=1), small_cnn(seed=2)
    assert tuple(a.input_shape[1:]) == (32, 32, 3) and tuple(a.output_shape[1:]) == (10,)
    assert 200_000 < a.count_params() < 400_000
    assert a.get_layer("scale").scale == pytest.approx(1 / 255)  # uint8 pixels scaled inside the model
    kernels = [w for w in a.get_weights() if w.ndim == 4]
    assert not np.allclose(kernels[0], [w for w in b.get_weights() if w.ndim == 4][0])


def test_flips_and_crops_change_training_batches_only(png_tree):
    config = study.ScratchConfig(n=60, epochs=1, batch_size=60, augment=True, data=str(png_tree))
    data = study.load(config)
    train, val = study.scratch_datasets(data, config)
    (x_fit, y_fit), (x_val, _) = study.split_validation(data.x_train, data.y_train, 0.1)
    x, y = next(iter(train))
    x = x.numpy()
    assert x.shape == (54, 32, 32, 3)
    assert sorted(y.numpy()) == sorted(y_fit)  # the same images, shuffled
    # crops shift the image within a zero border; the class stays in its pixels
    assert (x == 0).all(axis=-1).any() and not np.isin(x_fit, [0]).all(axis=-1).any()
    assert [label_of(img[8:24, 8:24]) for img in x] == list(y.numpy())
    np.testing.assert_array_equal(next(iter(val))[0].numpy(), x_val)


# --------------------------------------------------------------------------- training and records
def tiny_run(png_tree, tmp_path, name="scratch-cnn-32-flips"):
    spec = study.spec_named(name)
    config = study.scratch_config(spec, str(png_tree), n=60, epochs=2, batch_size=16)
    data = study.load(config)
    conditions = study.Conditions(study.load_average())
    model, run = study.train_scratch(config, data, verbose=0)
    study.evaluate_scratch(model, data, run)
    path = study.save_study_run(
        tmp_path / name,
        spec,
        config,
        data,
        run,
        conditions.finish(),
        made_by={"commit": "abc", "command": f"python scripts/{study.SCRIPT}"},
        run_seconds=1.0,
    )
    return path, run


def test_the_cnn_trains_from_scratch_end_to_end_and_its_record_checks(png_tree, tmp_path):
    path, run = tiny_run(png_tree, tmp_path)
    assert sorted(p.name for p in path.iterdir()) == sorted(COMMITTED_FILES)
    rec = study.check_record(path)
    r = rec["record"]
    assert (r["kind"], r["model"], r["epochs"], r["config"]["augment"]) == (
        study.KIND,
        study.MODELS["scratch"],
        2,
        True,
    )
    assert (r["data"]["n_train"], r["data"]["n_val"], r["data"]["n_test"]) == (54, 6, 20)
    assert len(rec["history"]["history"]["val_accuracy"]) == 2 == len(rec["history"]["epoch_seconds"])
    assert len(r["load_average"]["start"]) == 3 and len(r["load_average"]["end"]) == 3
    assert r["timing"]["cpu_seconds"] > 0 and r["run"]["name"] == "scratch-cnn-32-flips"
    assert sum(map(sum, rec["metrics"]["confusion_matrix"])) == 20
    assert 0 <= rec["metrics"]["accuracy"] <= 1 and math.isfinite(run.history["loss"][-1])


def test_the_head_only_run_trains_the_recipes_head_on_a_frozen_base_and_skips_fine_tuning(png_tree, tmp_path):
    spec = study.spec_named("head-lite0-32")
    config = study.transfer_config(spec, str(png_tree), weights="none", n=60, head_epochs=2, batch_size=16)
    data = study.load(config)
    conditions = study.Conditions(study.load_average())
    run = study.train_head_only(config, data, verbose=0)
    assert run.epochs == 2 and len(run.history["val_accuracy"]) == 2 and "evaluate_seconds" in run.timing
    path = study.save_study_run(
        tmp_path / spec.name,
        spec,
        config,
        data,
        run,
        conditions.finish(),
        made_by={"commit": "abc", "command": f"python scripts/{study.SCRIPT}"},
        run_seconds=1.0,
    )
    r = study.check_record(path)["record"]
    assert r["model"] == study.MODELS["head"] and r["config"]["fine_tune_epochs"] == 0
    assert r["weights"]["backbone"] == "efficientnet_lite0"


def test_a_record_without_the_machines_load_or_its_maker_is_refused(png_tree, tmp_path):
    path, _ = tiny_run(png_tree, tmp_path)
    record = json.loads((path / "record.json").read_text())
    (path / "record.json").write_text(json.dumps({**record, "load_average": {"start": [1, 1, 1]}}))
    with pytest.raises(RecordError, match="how loaded the machine was"):
        study.check_record(path)
    (path / "record.json").write_text(
        json.dumps({**record, "made_by": {"commit": "abc", "command": "python x.py"}})
    )
    with pytest.raises(RecordError, match="which commit and command"):
        study.check_record(path)


# --------------------------------------------------------------------------- the committed records
@pytest.mark.parametrize("spec", study.RUNS, ids=lambda s: s.name)
def test_each_committed_record_is_the_full_size_run_it_names(spec):
    rec = study.check_record(RESULTS / spec.name)
    r, c = rec["record"], rec["record"]["config"]
    assert sorted(p.name for p in (RESULTS / spec.name).iterdir()) == sorted(COMMITTED_FILES)
    assert r["run"] == {**vars(spec)}
    assert c["n"] == spec.n and r["data"]["n_test"] == 10_000 == sum(
        map(sum, rec["metrics"]["confusion_matrix"])
    )
    assert r["data"]["sha256"] == "d877bdec11f54282b92da36e9f045bd305d663b1223e3822baff39ca9ff6690a"
    assert r["data"]["n_train"] + r["data"]["n_val"] == spec.n
    assert "+changes" not in r["made_by"]["commit"] and "--n-scale" not in r["made_by"]["command"]
    if spec.method == "scratch":
        expected = study.equal_steps_epochs(spec.n, study.SCRATCH_EPOCHS, c["batch_size"])
        assert (c["augment"], c["image_size"], r["epochs"]) == (spec.augment, 32, expected)
    else:
        expected = study.equal_steps_epochs(spec.n, study.HEAD_EPOCHS, study.HEAD_BATCH)
        assert (c["image_size"], c["head_epochs"], c["fine_tune_epochs"]) == (spec.image_size, expected, 0)
        assert r["weights"]["pretrained"] and c["backbone"] == "efficientnet_lite0"


# --------------------------------------------------------------------------- the figure
def test_standard_error_is_that_of_a_proportion():
    assert figures.standard_error(0.5, 10_000) == pytest.approx(0.005)
    assert figures.standard_error(0.9, 10_000) == pytest.approx(0.003)


def test_the_figure_is_drawn_from_every_committed_record_with_its_error_bar():
    fig = figures.scratch_transfer_figure()
    cost, size = fig.axes
    pts = figures.points()
    assert {p.name for p in pts} == {*figures.RECIPE, *(s.name for s in study.RUNS)}
    labels = [t.get_text() for t in cost.texts]
    for p in pts:
        if p.n == study.FULL_N:
            assert any(f"{p.accuracy:.1%} ± {p.se:.1%}" in t for t in labels), p.name
    accuracy = {p.name: p.accuracy for p in pts}
    assert (
        accuracy["lite0-32-seed"]
        == json.loads((RESULTS / "lite0-32-seed" / "metrics.json").read_text())["accuracy"]
    )
    assert len(size.get_legend().get_texts()) == 3  # scratch, head only at 32 and at 128 px
    assert "± 1 standard error" in cost.get_ylabel()


def test_the_figure_module_imports_no_tensorflow():
    assert heavy_imports("import cifar_lessons.scratch.figures, cifar_lessons.scratch.study") == []
