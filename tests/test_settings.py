import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlpy.course.settings import Settings, resolve_profile, seed_everything


def test_pick_returns_the_value_of_the_current_profile():
    for profile, expected in [("smoke", 1), ("quick", 4), ("full", 20)]:
        settings = Settings(chapter="x", profile=profile, seed=0, device="CPU")
        assert settings.pick(smoke=1, quick=4, full=20) == expected


def test_profile_comes_from_argument_then_environment_then_device(monkeypatch):
    monkeypatch.setenv("DLPY_PROFILE", "smoke")
    assert resolve_profile("full") == "full"
    assert resolve_profile() == "smoke"
    monkeypatch.delenv("DLPY_PROFILE")
    assert resolve_profile(gpu_available=True) == "full"
    assert resolve_profile(gpu_available=False) == "quick"


def test_unknown_profile_names_the_choices():
    with pytest.raises(ValueError, match="smoke, quick, full"):
        resolve_profile("fast")


def _draws():
    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    return (random.random(), np.random.rand(), float(tf.random.uniform(())),
            layer.kernel.numpy().ravel().tolist())


def test_one_seed_call_makes_python_numpy_tensorflow_and_keras_repeat():
    seed_everything(7)
    first = _draws()
    seed_everything(7)
    assert _draws() == first
    seed_everything(8)
    assert _draws() != first
