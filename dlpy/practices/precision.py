"""Mixed precision: compute in 16-bit floats where the hardware does it faster, keep the variables
(and the model's output layer) in float32. ``mixed_float16`` suits NVIDIA GPUs of compute capability
7.0 and up (tensor cores) and needs loss scaling, which Keras applies by itself under that policy;
``mixed_bfloat16`` suits CPUs with bfloat16 instructions (AVX-512 BF16, AMX) and TPUs, and needs no
loss scaling (bfloat16 has float32's range). Taught in chapter 16.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_bfloat16_flags(cpuinfo: str | None = None) -> list[str]:
    """The bfloat16 instruction sets this CPU reports (``/proc/cpuinfo`` on Linux; ``[]`` where it
    cannot be read). Taught in chapter 16."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return [flag for flag in BF16_FLAGS if flag in flags]


def recommended_policy(gpu_compute_capabilities=None, cpuinfo: str | None = None) -> tuple[str | None, str]:
    """``(policy, reason)``: ``"mixed_float16"`` when every GPU has compute capability >= 7.0,
    ``"mixed_bfloat16"`` on a CPU with bfloat16 instructions, else ``None`` with the reason the device
    gains nothing. ``gpu_compute_capabilities``: ``[(major, minor), ...]`` (``None``: ask TensorFlow).
    Taught in chapter 16."""
    if gpu_compute_capabilities is None:
        import tensorflow as tf

        gpu_compute_capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability")
                                    for gpu in tf.config.list_physical_devices("GPU")]
    if gpu_compute_capabilities:
        if any(not capability for capability in gpu_compute_capabilities):
            return None, ("a GPU whose compute capability TensorFlow does not report: try mixed_float16 and "
                          "measure (chapter 16) before relying on it")
        if all(tuple(capability) >= (7, 0) for capability in gpu_compute_capabilities):
            return "mixed_float16", "NVIDIA GPU(s) with tensor cores (compute capability >= 7.0)"
        return None, (f"GPU compute capabilities {gpu_compute_capabilities}: below 7.0, float16 runs no faster; "
                      "keep float32")
    flags = cpu_bfloat16_flags(cpuinfo)
    if flags:
        return "mixed_bfloat16", f"a CPU with bfloat16 instructions ({', '.join(flags)})"
    return None, "a CPU without bfloat16 instructions (AVX-512 BF16 or AMX): mixed precision gains nothing here"


@contextmanager
def dtype_policy(policy: str | None):
    """Build layers under ``policy`` (``"mixed_bfloat16"``, ``"mixed_float16"``, ``"float32"``;
    ``None`` means float32) inside the ``with`` block, and restore the previous global policy after
    it. A layer keeps the policy it was built with. Taught in chapter 16."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy or "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def training_steps_per_second(model, inputs, targets, steps: int = 10) -> float:
    """Compiled training steps per second of a compiled ``model`` on one batch, after one step to
    trace and warm up (the last loss is read back, so queued work is counted). Taught in chapter 16."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    model.train_on_batch(inputs, targets)
    started = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(inputs, targets)
    float(np.asarray(loss))
    return steps / (time.perf_counter() - started)


def policy_speeds(build, policies, inputs, targets, *, rounds: int = 3, steps: int = 10) -> dict[str, float]:
    """Median training steps per second of ``build()`` built under each of ``policies``, on one
    batch, the rounds interleaved so that a shared machine's noise hits every policy alike.

    Args:
        build: a function of no arguments returning a compiled model whose output layer is float32.
        policies: dtype policy names, e.g. ``["float32", "mixed_bfloat16"]``.
        inputs: one batch of inputs.
        targets: its targets.
        rounds: measurements per policy (the median is kept).
        steps: training steps per measurement.

    Example::

        speeds = policy_speeds(build, ["float32", "mixed_bfloat16"], images, labels)

    Taught in chapter 16; ``benchmarks/bench_mixed_precision.py`` reports the same."""
    models = {}
    for policy in policies:
        with dtype_policy(policy):
            models[policy] = build()
    rates = {policy: [] for policy in models}
    for _ in range(rounds):
        for policy, model in models.items():
            rates[policy].append(training_steps_per_second(model, inputs, targets, steps))
    return {policy: float(np.median(values)) for policy, values in rates.items()}
