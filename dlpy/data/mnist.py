"""MNIST handwritten digits through ``keras.datasets.mnist``. Taught in chapter 05 (and used in 15-16)."""

from __future__ import annotations

from dlpy.data.registry import fetch


def load_mnist():
    """``(x_train, y_train), (x_test, y_test)`` from ``keras.datasets.mnist`` (uint8 28x28, int labels)."""
    import keras

    fetch("mnist")  # hash-checked, with a clear error when missing
    return keras.datasets.mnist.load_data()
