"""A custom metric written as a ``keras.metrics.Metric`` subclass. Taught in chapter 14."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dlpy")
class RootMeanSquaredError(keras.metrics.Metric):
    """``sqrt(mean((y_true - y_pred)^2))`` over everything seen since the last reset: the state is
    a running sum of squared errors and a count (state variables, so it works inside a compiled
    step and across batches), the result is computed from them. Taught in chapter 14."""

    def __init__(self, name: str = "rmse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.squared_error = self.add_variable(shape=(), initializer="zeros", name="squared_error")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.cast(y_pred, "float32"), (-1,))
        y_true = ops.reshape(ops.cast(y_true, "float32"), (-1,))
        self.squared_error.assign_add(ops.sum(ops.square(y_true - y_pred)))
        self.count.assign_add(ops.cast(ops.shape(y_true)[0], "float32"))

    def result(self):
        return ops.sqrt(self.squared_error / ops.maximum(self.count, 1.0))

    def reset_state(self):
        self.squared_error.assign(0.0)
        self.count.assign(0.0)
