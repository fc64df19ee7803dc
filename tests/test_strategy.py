"""Chapter 16 (dlpy.course.strategy): one strategy per process; training mirrored on two logical
CPU devices matches training on one device. TensorFlow can split its CPU only before it starts, so
the check runs in a fresh process."""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import numpy as np
    import dlpy

    cfg = dlpy.setup("99_strategy", profile="smoke", quiet=True)
    import keras
    import tensorflow as tf

    strategy = cfg.strategy
    assert strategy is cfg.strategy, "one strategy per process"
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        return model

    single = build()
    single.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    with strategy.scope():
        mirrored = build()
    mirrored.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    error = max(float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
                for a, b in zip(single.get_weights(), mirrored.get_weights()))
    print("RELATIVE_ERROR", error)
""")


def run(env_value):
    env = dict(os.environ, DLPY_LOGICAL_CPUS=env_value, CUDA_VISIBLE_DEVICES="")
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)


def test_mirrored_training_on_two_logical_cpus_matches_one_device():
    result = run("2")
    assert result.returncode == 0, result.stderr[-3000:]
    error = float(result.stdout.split("RELATIVE_ERROR")[1])
    assert error < 1e-5


def test_a_bad_device_count_says_what_to_do(monkeypatch):
    from dlpy.course import strategy

    monkeypatch.setenv(strategy.LOGICAL_CPUS, "one")
    with pytest.raises(ValueError, match="DLPY_LOGICAL_CPUS must be an integer of at least 2"):
        strategy.split_cpu_if_asked()
