"""A custom callback: the loss of every training batch, plotted at the end of each epoch.
Taught in chapter 14."""

from __future__ import annotations

import keras


class BatchLossHistory(keras.callbacks.Callback):
    """Keeps the training loss after every batch (``losses``, one list per epoch) and, with
    ``plot=True``, draws the curve of the epoch that just ended. Keras reports the running mean of
    the epoch so far; the per-batch value is recovered from two consecutive means. Taught in chapter 14."""

    def __init__(self, plot: bool = False):
        super().__init__()
        self.plot = plot
        self.losses: list[list[float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.losses.append([])
        self._previous_mean = 0.0

    def on_train_batch_end(self, batch, logs=None):
        mean = float(logs["loss"])
        self.losses[-1].append((batch + 1) * mean - batch * self._previous_mean)  # this batch's own loss
        self._previous_mean = mean

    def on_epoch_end(self, epoch, logs=None):
        if self.plot:
            import matplotlib.pyplot as plt

            figure, axis = plt.subplots(figsize=(6, 2.5))
            axis.plot(self.losses[-1], linewidth=0.8)
            axis.set(xlabel="batch", ylabel="training loss", title=f"Epoch {epoch + 1}: loss of each batch")
            plt.show()
