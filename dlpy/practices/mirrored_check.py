"""Does training mirrored over several devices equal training on one? Trains the same small model
(same initial weights, same batches, plain SGD) once on the default device and once inside
``dlpy``'s strategy, and prints the largest relative difference of their weights. Each replica sees
half of every batch and the gradients are summed across replicas, so the two runs compute the same
update, and agree to float32 rounding.

TensorFlow splits its CPU into logical devices only before it starts, so run it as a fresh process::

    DLPY_LOGICAL_CPUS=2 python -m dlpy.practices.mirrored_check

Taught in chapter 16; the test suite runs the same check.
"""

from __future__ import annotations

import numpy as np

MARKER = "RELATIVE_ERROR"
REPLICAS = "REPLICAS"


def _build():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def mirrored_vs_single(epochs: int = 3) -> tuple[int, float]:
    """``(replicas, largest relative weight difference)`` after ``epochs`` of the same training on
    one device and under the process's strategy. Taught in chapter 16."""
    import dlpy

    cfg = dlpy.setup("99_strategy", profile="smoke", quiet=True)
    strategy = cfg.strategy
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    single = _build()
    single.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
    with strategy.scope():
        mirrored = _build()
    mirrored.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
    error = max(float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
                for a, b in zip(single.get_weights(), mirrored.get_weights()))
    return strategy.num_replicas_in_sync, error


def main() -> None:
    """Print the replicas and the largest relative difference, for :func:`run_in_fresh_process`.
    Taught in chapter 16."""
    replicas, error = mirrored_vs_single()
    print(f"{REPLICAS} {replicas}")
    print(f"{MARKER} {error:.3e}")


def run_in_fresh_process(logical_cpus: int = 2, timeout: float = 300) -> tuple[int, float]:
    """Run the check in a new Python process with the CPU split into ``logical_cpus`` devices (GPUs
    hidden) and return its ``(replicas, largest relative weight difference)``; a failed run raises
    ``RuntimeError`` with the end of its error output. Taught in chapter 16."""
    import os
    import subprocess
    import sys

    from dlpy.course.strategy import LOGICAL_CPUS

    env = dict(os.environ, **{LOGICAL_CPUS: str(logical_cpus)}, CUDA_VISIBLE_DEVICES="")
    result = subprocess.run([sys.executable, "-m", __name__], capture_output=True, text=True, env=env,
                            timeout=timeout)
    if result.returncode or MARKER not in result.stdout:
        raise RuntimeError(f"The mirrored-training check failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return int(result.stdout.split(REPLICAS)[1].split()[0]), float(result.stdout.split(MARKER)[1].split()[0])


if __name__ == "__main__":
    main()
