"""Label smoothing, a knob of the recipe search: off by default, with everything as it was.

Off (0), a configuration is the one it was before the field existed: its dictionary, its key (the
folder the chapters share their stages in) and the records made before it all stay the same, and
the recipe compiles Keras's plain sparse cross-entropy. On, both phases train on smoothed labels.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from cifar_lessons.config import RunConfig, make_config
from cifar_lessons.errors import ConfigError

RESULTS = Path(__file__).resolve().parent.parent / "results"


def test_off_by_default_a_configuration_is_the_one_it_was():
    # The keys main computed before the field existed (commit edd90c2).
    assert RunConfig().key == "seed-resnet50-imagenet-54912dfca6"
    assert make_config("better", env={}).key == "better-resnet50-imagenet-f5118a2bd8"
    assert "label_smoothing" not in RunConfig().to_dict()
    committed = json.loads((RESULTS / "lite0-32-seed" / "record.json").read_text())["config"]
    config = RunConfig.from_dict(committed)
    assert config.label_smoothing == 0.0 and config.to_dict() == committed


def test_on_it_is_written_and_names_another_run():
    config = make_config("seed", env={}, label_smoothing=0.1)
    assert config.to_dict()["label_smoothing"] == 0.1
    assert config.key != RunConfig().key
    assert RunConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("value", [1.0, -0.1, True, "0.1"])
def test_a_value_outside_zero_to_one_is_refused_in_one_line(value):
    with pytest.raises(ConfigError, match="label smoothing must be in"):
        make_config("seed", env={}, label_smoothing=value)


def test_the_command_line_sets_it_and_the_heads_rate():
    from cifar_lessons.cli import build_parser, config_from_args

    c = config_from_args(build_parser().parse_args(["run", "--label-smoothing", "0.1", "--head-lr", "3e-3"]))
    assert (c.label_smoothing, c.head_learning_rate) == (0.1, 3e-3)


def test_the_smoothed_loss_is_cross_entropy_against_smoothed_one_hot_labels():
    import keras

    from cifar_lessons.models import smoothed_crossentropy

    assert smoothed_crossentropy(0.0) is None  # compile_classifier's plain sparse cross-entropy
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)
    labels = np.array([0, 2])
    target = np.full((2, 3), 0.1 / 3) + 0.9 * np.eye(3)[labels]
    expected = float(np.mean(-(target * np.log(probs)).sum(axis=1)))
    got = float(keras.ops.convert_to_numpy(smoothed_crossentropy(0.1)(labels, probs)))
    assert got == pytest.approx(expected, rel=1e-5)
    plain = float(keras.ops.convert_to_numpy(keras.losses.SparseCategoricalCrossentropy()(labels, probs)))
    assert got > plain  # confident right answers cost more once the labels are smoothed


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_both_phases_of_the_recipe_train_on_the_configured_loss(png_tree, monkeypatch, smoothing):
    import keras

    from cifar_lessons import training
    from cifar_lessons.data import load_cifar10
    from cifar_lessons.models import SmoothedSparseCrossentropy
    from cifar_lessons.recipe import fine_tune_phase, head_phase, new_model, split_data

    compiled = []

    def spy(model, learning_rate, **kwargs):
        result = compile_classifier(model, learning_rate, **kwargs)
        compiled.append(model.loss)
        return result

    compile_classifier = training.compile_classifier
    monkeypatch.setattr(training, "compile_classifier", spy)
    config = make_config("quick", env={}, data=str(png_tree), weights="none", n=20, batch_size=8, head=(32, 16),
                         backbone="efficientnet_lite0", head_epochs=1, fine_tune_epochs=0, label_smoothing=smoothing)
    data = load_cifar10(config.data, n=config.n, seed=config.seed)
    split = split_data(config, data)
    model = new_model(config)
    fine_tune_phase(config, model, split, head_phase(config, model, split, verbose=0), verbose=0)
    assert len(compiled) == 2, "the head phase and fine-tuning each compile once"
    for loss in compiled:
        if smoothing:
            assert isinstance(loss, SmoothedSparseCrossentropy) and loss.label_smoothing == smoothing
        else:
            assert type(loss) is keras.losses.SparseCategoricalCrossentropy
