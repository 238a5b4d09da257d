"""The ONNX export behind the Try the classifier page (issue 27): cifar_lessons.export, its command
and scripts/build_demo.py's choices. A tiny model stands in for the trained one, so these run in
seconds; tests/test_classifier_page.py checks the real page's model in the browser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import minimal_record, write_class_tree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))


def tiny_classifier():
    """A few-parameter stand-in for the trained classifier: 32x32x3 in, ten probabilities out."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="tiny")


@pytest.mark.parametrize("backbone", ["efficientnet_lite0", "resnet50"])
def test_the_onnx_model_takes_pixels_and_gives_kerass_probabilities(backbone, tmp_path):
    """The backbone's preprocessing is in the graph: 0-255 RGB pixels in, Keras's probabilities out."""
    from cifar_lessons.export import INPUT_NAME, export_onnx, onnx_probabilities
    from cifar_lessons.models import get_backbone

    model = tiny_classifier()
    path = export_onnx(model, backbone, tmp_path / "model.onnx")
    pixels = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3)).astype(np.uint8)
    keras_probs = model.predict(get_backbone(backbone).preprocess(pixels.astype(np.float32)), verbose=0)
    onnx_probs = onnx_probabilities(path, pixels)
    assert np.abs(onnx_probs - keras_probs).max() < 1e-5
    import onnx

    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == [INPUT_NAME]


def write_run(folder: Path, data: Path) -> Path:
    """A run record folder as `python -m cifar_lessons run` leaves it, with the tiny model."""
    from cifar_lessons.records.store import save_record

    config = {"profile": "quick", "n": 12, "image_size": 32, "backbone": "efficientnet_lite0", "seed": 42,
              "data": str(data)}
    record = minimal_record(config=config, data={"n_train": 12, "n_test": 20, "path": str(data)})
    return save_record(folder, record=record, history={}, model=tiny_classifier(),
                       metrics={"accuracy": 0.25, "n_test": 20})


def test_the_command_exports_a_run_with_its_card_and_check_images(tmp_path):
    data = write_class_tree(tmp_path / "cifar", train_per_class=2, test_per_class=2)
    run = write_run(tmp_path / "run", data)
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "cifar_lessons", "export", str(run), "--out", str(out)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "exported run (build size, test accuracy 0.2500)" in result.stdout
    card = json.loads((out / "card.json").read_text())
    assert card["size"] == "build size" and card["test_accuracy"] == 0.25 and card["run"] == "run"
    assert card["config"]["data"] == "cifar", "the card names the data file, not this machine's path to it"
    assert card["onnx"]["bytes"] == (out / "model.onnx").stat().st_size
    assert len(card["class_names"]) == 10
    from cifar_lessons.export import onnx_probabilities

    with np.load(out / "keras_check.npz") as check:
        assert check["images"].shape == (20, 32, 32, 3) and check["images"].dtype == np.uint8
        assert sorted(set(check["labels"].tolist())) == list(range(10)), "spread over the classes"
        assert np.abs(onnx_probabilities(out / "model.onnx", check["images"]) - check["keras"]).max() < 1e-5


def test_the_command_says_in_one_line_when_there_is_no_model(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cifar_lessons", "export", str(tmp_path), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "holds no model.keras" in result.stderr


def test_the_page_offers_two_test_images_of_each_class_in_turn():
    from build_demo import sample_order

    labels = np.repeat(np.arange(10), 5)  # a class-folder copy: class by class
    order = sample_order(labels, 20)
    assert [int(labels[i]) for i in order] == list(range(10)) * 2
    assert len(set(order)) == 20


def test_the_committed_model_comes_first_else_the_builds_own(tmp_path, monkeypatch):
    import build_demo

    committed = tmp_path / "committed"
    committed.mkdir()
    (committed / "model.onnx").write_bytes(b"onnx")
    assert build_demo.choose_source(committed) == (committed, "committed")
    monkeypatch.setattr(build_demo, "build_run", lambda: tmp_path / "no-run")
    with pytest.raises(SystemExit, match="holds no model.keras"):
        build_demo.choose_source(tmp_path / "nothing-committed")
