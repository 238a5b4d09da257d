"""Convolutions that are matrix products, computed as matrix products: phase 2's speed-up at 32 pixels.

Taught in the chapter Fine-tuning (``book/04_fine_tuning``), in the notes on phase 2's cost.
At the project's 32x32 input, ResNet50's last stage works on 1x1 feature maps and the stage
before it on 2x2. There a 1x1 convolution is exactly a matrix product of the pixels' channels with
the kernel, and a 3x3 convolution with "same" padding on a 1x1 map is a matrix product with the
kernel's centre tap (the other eight taps only ever see the zero padding, so their gradients are
zero too). The arithmetic is the same; only the kernel that computes it differs. It matters
because oneDNN computes the *weight gradients* of these tiny convolutions slowly on this CPU:
9.3 ms for the 512x2048 1x1 convolution's 134 MFLOP in float32 (about 14 GFLOP/s), against a
large float32 matrix product's 204-302 GFLOP/s (the benchmark's runs, benchmarks/README.md "Speed").

:func:`use_matmul` swaps the computation of every such ``Conv2D`` of a built model for a matrix
product, in place: the layers, their names and weights stay as they are, so saving, loading,
freezing and BatchNorm handling are untouched, and a saved model loads as plain convolutions.
"""

from __future__ import annotations

import types

#: Which convolutions :func:`use_matmul` rewrites, by the side of their input map: 1x1 kernels on
#: maps up to this side, and "same"-padded odd kernels at stride 1 on 1x1 maps.
MAX_SIDE = 2


def _pointwise_op(layer, inputs, kernel):
    """``layer``'s convolution as a matrix product (see :func:`eligible` for when that is exact)."""
    from keras import ops

    kh, kw = layer.kernel_size
    sh, sw = layer.strides
    x = inputs[:, ::sh, ::sw, :] if (sh, sw) != (1, 1) else inputs
    centre = kernel[kh // 2, kw // 2]  # (in, out); the whole kernel when it is 1x1
    shape = ops.shape(x)
    flat = ops.reshape(x, (-1, shape[-1]))  # 2-D, so the gradient is one matrix product too
    return ops.reshape(ops.matmul(flat, centre), (shape[0], shape[1], shape[2], centre.shape[-1]))


def eligible(layer, max_side: int = MAX_SIDE) -> bool:
    """True when ``layer`` is a ``Conv2D`` whose output equals a matrix product with one kernel tap.

    Two cases, both exact: a 1x1 kernel ("valid" or "same" padding are the same for it; a stride
    only picks pixels) on a map no larger than ``max_side``; and an odd kernel with "same" padding
    and stride 1 on a 1x1 map, where only the centre tap meets a pixel.
    """
    import keras

    if type(layer) is not keras.layers.Conv2D or layer.data_format != "channels_last":
        return False
    if tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
        return False
    try:
        _, h, w, _ = layer.input.shape
    except (AttributeError, ValueError):  # not part of a built functional model
        return False
    if h is None or w is None:
        return False
    kh, kw = layer.kernel_size
    if (kh, kw) == (1, 1):
        return max(h, w) <= max_side
    return (
        (h, w) == (1, 1)
        and kh % 2 == 1
        and kw % 2 == 1
        and layer.padding == "same"
        and tuple(layer.strides) == (1, 1)
    )


def use_matmul(model, max_side: int = MAX_SIDE) -> list[str]:
    """Compute every :func:`eligible` convolution of ``model`` (nested models included) as a matrix product.

    In place, before the model is compiled or called in ``fit``; returns the names of the layers
    changed. Idempotent.
    """
    changed = []
    for layer in _layers(model):
        if eligible(layer, max_side):
            layer.convolution_op = types.MethodType(_pointwise_op, layer)
            changed.append(layer.name)
    return changed


def _layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)
