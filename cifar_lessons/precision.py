"""Mixed precision: compute in 16-bit floats where the hardware has fast units for them.

Taught in chapter 4 (fine-tuning), where phase 2 spends most of the recipe's time. Keras's
mixed-precision policies keep every weight in float32 and compute in bfloat16 or float16;
the classifier's last layer stays float32 so the softmax and the loss keep full precision.
bfloat16 keeps float32's range (no loss scaling needed) and is fast on CPUs with AVX-512
BF16 or AMX; float16 is what GPUs are fast at. Every run record says which policy ran
(``compute.precision``, and ``environment.dtype_policy`` as Keras had it when the record was written).

The default stays float32, on a GPU too (``RunConfig.precision``, ``--precision mixed`` to change
it). The recipe is small: at 32x32 input a T4 should fine-tune it in under a minute in float32, so
float16 could save seconds, not minutes. It would cost comparability instead: every committed record
and every figure the book quotes was made in float32, and float16 rounds differently and needs loss
scaling, so a student's GPU run could no longer be set beside them as the same arithmetic.
"""

from __future__ import annotations

from pathlib import Path

#: What ``RunConfig.precision`` may say.
PRECISIONS = ("float32", "mixed")


def cpu_has_bfloat16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has bfloat16 arithmetic units (x86 ``avx512_bf16`` or ``amx_bf16``)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = set(cpuinfo.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def policy_name(precision: str, *, gpu: bool | None = None, cpuinfo: str | None = None) -> str:
    """The Keras dtype policy for ``precision``: ``float32``, or the mixed policy this machine
    is fast at (``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a CPU that has bfloat16).

    On a CPU without bfloat16 units, mixed precision would be emulated and slower, so
    ``"mixed"`` falls back to float32 there; the record says which policy actually ran.
    """
    if precision == "float32":
        return "float32"
    if precision != "mixed":
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if gpu is None:
        import tensorflow as tf

        gpu = bool(tf.config.list_physical_devices("GPU"))
    if gpu:
        return "mixed_float16"
    return "mixed_bfloat16" if cpu_has_bfloat16(cpuinfo) else "float32"


def set_precision(precision: str) -> str:
    """Set Keras's global dtype policy for the layers built next; return the policy's name."""
    import keras

    name = policy_name(precision)
    keras.mixed_precision.set_global_policy(name)
    return name
