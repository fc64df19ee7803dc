"""What many test files share: tiny Keras models with known layer names, and a seeded NumPy generator."""

import keras
import numpy as np
import pytest


def tiny_convnet(convolutions, name: str, seed: int = 0) -> keras.Model:
    """A fully convolutional model on RGB 0-255 images of any size: Rescaling to [-1, 1], then one
    3x3 ReLU convolution per ``(layer name, filters, stride)`` in ``convolutions``."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    for layer_name, filters, stride in convolutions:
        x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu", name=layer_name)(x)
    return keras.Model(inputs, x, name=name)


@pytest.fixture(scope="session")
def make_tiny_convnet():
    """:func:`tiny_convnet`, for fixtures of any scope: ``make_tiny_convnet([("c1", 8, 1)], name="tiny")``."""
    return tiny_convnet


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache of the test's own (with its ``datasets/`` folder): ``$KERAS_HOME`` points at it."""
    home = tmp_path / "keras_home"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def rng():
    """A NumPy generator seeded the same way in every test."""
    return np.random.default_rng(0)
