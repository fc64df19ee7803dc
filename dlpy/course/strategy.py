"""One owner of the ``tf.distribute`` strategy for the whole process: created on first use and
reused, because a second ``MirroredStrategy`` in one process breaks ``fit`` (collective ops with
mismatched shapes). With several GPUs it mirrors the model on all of them; with
``DLPY_LOGICAL_CPUS=N`` (read by :func:`dlpy.setup` before TensorFlow initializes) the CPU is split
into N logical devices and mirrored on those, which is how the tests check multi-device training on
a machine without GPUs; otherwise it is TensorFlow's default strategy (one device, a no-op scope).
Build a model inside ``with cfg.strategy.scope():`` and ``fit`` uses every device. Multi-worker
training (several machines) is not supported by Keras 3's ``fit`` on TensorFlow
(keras-team/keras#20585). Taught in chapter 16.
"""

from __future__ import annotations

import os

LOGICAL_CPUS = "DLPY_LOGICAL_CPUS"
_strategy = None


def split_cpu_if_asked() -> int:
    """Split the first CPU into ``$DLPY_LOGICAL_CPUS`` logical devices (at least 2) when that is set
    and no GPU is visible; returns the number of logical CPUs (1: not split). Must run before
    TensorFlow executes anything; :func:`dlpy.setup` calls it first. Taught in chapter 16."""
    asked = os.environ.get(LOGICAL_CPUS, "").strip()
    if not asked:
        return 1
    if not asked.isdigit() or int(asked) < 2:
        raise ValueError(f"{LOGICAL_CPUS} must be an integer of at least 2 (logical CPU devices), got {asked!r}: "
                         f"unset it to use the CPU as one device.")
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return 1
    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(int(asked))]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError as error:  # TensorFlow already running: only a fresh process can split
        if len(tf.config.list_logical_devices("CPU")) != int(asked):
            raise RuntimeError(f"{LOGICAL_CPUS}={asked} must be set before TensorFlow starts (before the first "
                               "`import dlpy; dlpy.setup(...)` of the process).") from error
    return len(tf.config.list_logical_devices("CPU"))


def distribution_strategy():
    """The process's strategy (created once): ``MirroredStrategy`` over every GPU when there are
    several, over the logical CPUs when the CPU was split, else the default one-device strategy.
    Taught in chapter 16."""
    global _strategy
    if _strategy is None:
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        cpus = tf.config.list_logical_devices("CPU")
        if len(gpus) > 1:
            _strategy = tf.distribute.MirroredStrategy([device.name for device in gpus])
        elif not gpus and len(cpus) > 1:
            _strategy = tf.distribute.MirroredStrategy([device.name for device in cpus])
        else:
            _strategy = tf.distribute.get_strategy()
    return _strategy
