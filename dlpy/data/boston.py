"""Boston housing prices: 13 numeric features per suburb, median price in k$. Taught in chapter 03."""

from __future__ import annotations

from dlpy.data.registry import show_to_keras

FEATURE_NAMES = ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT")


def load_boston_housing():
    """``(x_train, y_train), (x_test, y_test)`` from ``keras.datasets.boston_housing`` (404 + 102
    samples, float64; targets in thousands of dollars). Features are not normalized: see
    :func:`dlpy.training.normalize`. Taught in chapter 03."""
    show_to_keras("boston_housing")  # checked first, with the registry's clear error when missing
    import keras

    return keras.datasets.boston_housing.load_data()
