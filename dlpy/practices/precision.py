"""Mixed precision: compute in 16-bit floats where the hardware does it faster, keep the variables
(and the model's output layer) in float32. ``mixed_float16`` suits NVIDIA GPUs of compute capability
7.0 and up (tensor cores) and needs loss scaling, which Keras applies by itself under that policy;
``mixed_bfloat16`` suits CPUs with bfloat16 instructions (AVX-512 BF16, AMX) and TPUs, and needs no
loss scaling (bfloat16 has float32's range). Taught in chapter 16.
"""

from __future__ import annotations

from pathlib import Path

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
        if all(capability and tuple(capability) >= (7, 0) for capability in gpu_compute_capabilities):
            return "mixed_float16", "NVIDIA GPU(s) with tensor cores (compute capability >= 7.0)"
        return None, (f"GPU compute capabilities {gpu_compute_capabilities}: below 7.0, float16 runs no faster; "
                      "keep float32")
    flags = cpu_bfloat16_flags(cpuinfo)
    if flags:
        return "mixed_bfloat16", f"a CPU with bfloat16 instructions ({', '.join(flags)})"
    return None, "a CPU without bfloat16 instructions (AVX-512 BF16 or AMX): mixed precision gains nothing here"
