"""Export a trained classifier to ONNX for the book's "Try the classifier" page (issue 27).

Why ONNX: a browser cannot run a ``.keras`` file, but ONNX Runtime Web (from npm, served by the
site) runs an ONNX graph in WebAssembly, with no server and no network. Keras 3 writes the graph
itself (``model.export(path, format="onnx")``, through the maintained tf2onnx converter).

Why the preprocessing goes into the graph: the page then hands the model what a reader sees, the
32x32 RGB pixels as numbers 0-255, and no JavaScript has to repeat the backbone's preprocessing
(``(x - 127) / 128`` for EfficientNet-Lite0, Caffe's BGR and mean for ResNet50), which could drift
from the package's. The resize to the run's image size is already a layer of the model
(:func:`cifar_lessons.models.classifier_on`).

An export folder holds:

- ``model.onnx``: input ``pixels``, float32 ``[N, 32, 32, 3]`` RGB 0-255; output the ten
  probabilities;
- ``card.json``: which model it is (the run's configuration, data, weights, commit, test
  accuracy), so the page can say so;
- ``keras_check.npz``: :data:`CHECK_IMAGES` test images spread evenly over the test set (their
  indices), their labels and Keras's own probabilities for them, which the browser test compares
  with the page's; the page offers :data:`SAMPLE_IMAGES` of them, two of each class.

    python -m cifar_lessons export runs/lite0-128-better-seed1 --out demo/lite0-128-better-seed1
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

#: Test images whose Keras probabilities an export keeps, for the browser test's comparison.
CHECK_IMAGES = 500
#: Test images the page offers to pick (two of each class, from the check images).
SAMPLE_IMAGES = 20
#: The ONNX model's input name.
INPUT_NAME = "pixels"
#: What the card keeps of a run's record (its full record.json stays with the run).
CARD_FIELDS = ("producer", "kind", "stage", "config", "weights", "made_by", "written")


def pixels_model(model: Any, backbone: str) -> Any:
    """``model`` behind its backbone's preprocessing: a Keras model that takes 0-255 RGB pixels.

    The preprocessing is the package's own function (:func:`cifar_lessons.models.get_backbone`), in
    a Lambda layer; this model is only exported, never saved as ``.keras`` (which would refuse to
    load a lambda in safe mode)."""
    import keras

    from .models import get_backbone

    pixels = keras.Input(shape=(32, 32, 3), dtype="float32", name=INPUT_NAME)
    x = keras.layers.Lambda(get_backbone(backbone).preprocess, name="preprocess")(pixels)
    wrapped = keras.Model(pixels, model(x), name=f"{model.name}_pixels")
    wrapped(np.zeros((1, 32, 32, 3), "float32"))  # Keras exports only a model that has been called
    return wrapped


def export_onnx(model: Any, backbone: str, path: str | os.PathLike) -> Path:
    """Write ``model`` with its preprocessing as ONNX to ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels_model(model, backbone).export(str(path), format="onnx", verbose=False)
    return path


def card(record: dict, metrics: dict | None, onnx_path: Path, source: str, class_names: list[str]) -> dict:
    """The run card the page shows: a subset of the run's record, its test accuracy, and the export."""
    config = record.get("config", {})
    data = {k: v for k, v in record.get("data", {}).items() if k != "path"}  # no local paths
    out = {k: record[k] for k in CARD_FIELDS if k in record}
    if isinstance(config.get("data"), str):  # the file's name, not this machine's path to it
        out["config"] = {**config, "data": Path(config["data"]).name}
    out["data"] = data
    out["run"] = source
    out["size"] = "build size" if config.get("profile") == "quick" else "full size"
    if metrics:
        out["test_accuracy"] = metrics.get("accuracy")
        out["n_test"] = metrics.get("n_test")
    out["class_names"] = list(class_names)
    out["onnx"] = {
        "file": onnx_path.name,
        "bytes": onnx_path.stat().st_size,
        "input": f"{INPUT_NAME}: float32 [N, 32, 32, 3], RGB 0-255 (preprocessing and resize in the graph)",
        "exported_by": "keras.Model.export(format='onnx') (tf2onnx)",
    }
    return out


def export_run(
    run_dir: str | os.PathLike,
    out: str | os.PathLike,
    data: str | os.PathLike | None = None,
    check: int = CHECK_IMAGES,
) -> dict:
    """Export the run record in ``run_dir`` (its ``model.keras``) into ``out``; return its card.

    The test images come from ``data``, else the run's own data path, else ``CIFAR_LESSONS_DATA``
    (or Keras's download)."""
    from .data import load_cifar10
    from .evaluate import predict_probabilities
    from .records.store import load_record

    run_dir, out = Path(run_dir), Path(out)
    record = load_record(run_dir)
    backbone = record.config["backbone"]
    model = record.load_model()
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = export_onnx(model, backbone, out / "model.onnx")

    source = data or (record.data.get("path") if Path(str(record.data.get("path", ""))).exists() else None)
    cifar = load_cifar10(source, n=1, seed=record.config.get("seed", 42))
    # Evenly spread over the test set: a class-folder copy lists its test images class by class.
    check = min(check, len(cifar.x_test))
    indices = np.linspace(0, len(cifar.x_test), check, endpoint=False).astype(np.int64)
    images, labels = cifar.x_test[indices], np.asarray(cifar.y_test).reshape(-1)[indices]
    keras_probs = predict_probabilities(model, images, backbone=backbone, verbose=0)
    np.savez_compressed(
        out / "keras_check.npz",
        indices=indices,
        images=images.astype(np.uint8),
        labels=labels.astype(np.int64),
        keras=keras_probs.astype(np.float32),
    )
    result = card(record.record, record.metrics, onnx_path, run_dir.name, list(cifar.class_names))
    (out / "card.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def onnx_probabilities(onnx_path: str | os.PathLike, images: np.ndarray, batch: int = 250) -> np.ndarray:
    """The ONNX model's probabilities for uint8 or float 0-255 images, with ONNX Runtime on the CPU."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    batches = (images[i : i + batch].astype(np.float32) for i in range(0, len(images), batch))
    return np.concatenate([session.run(None, {name: x})[0] for x in batches])


def quantize_dynamic_int8(onnx_path: str | os.PathLike, out_path: str | os.PathLike) -> Path:
    """Dynamic int8 quantisation of the weights (ONNX Runtime's ``quantize_dynamic``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(onnx_path), str(out_path), weight_type=QuantType.QUInt8)
    return Path(out_path)
