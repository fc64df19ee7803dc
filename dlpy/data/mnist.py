"""MNIST handwritten digits through ``keras.datasets.mnist``. Taught in chapter 05 (and used in 20-21)."""

from __future__ import annotations

from dlpy.data.registry import show_to_keras

MNIST_SHAPE = (28, 28, 1)  # height, width, channels of one digit (and of a Fashion-MNIST garment)


def load_mnist():
    """``(x_train, y_train), (x_test, y_test)`` from ``keras.datasets.mnist`` (uint8 28x28, int labels)."""
    show_to_keras("mnist")  # checked first, before Keras loads: a missing file is reported within seconds
    import keras

    return keras.datasets.mnist.load_data()
