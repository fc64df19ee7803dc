"""A model that writes its own training step: what ``fit`` does for one batch, spelled out, while
``fit`` itself (epochs, callbacks, validation, progress) keeps working. Taught in chapter 14."""

from __future__ import annotations

import keras
import tensorflow as tf


class CustomStepClassifier(keras.Model):
    """A classifier (build it like a functional model: ``CustomStepClassifier(inputs, outputs)``)
    whose ``train_step`` computes the loss under a ``tf.GradientTape``, applies the optimizer, and
    updates two ``keras.metrics`` trackers, the mean loss and the accuracy; ``test_step`` does the
    same without the gradient. Compile it with the loss as usual: ``compute_loss`` uses it (with any
    weight regularization). Taught in chapter 14."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]  # listed here, so fit resets them every epoch

    def train_step(self, data):
        inputs, targets = data
        with tf.GradientTape() as tape:
            predictions = self(inputs, training=True)
            loss = self.compute_loss(x=inputs, y=targets, y_pred=predictions)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(targets, predictions)
        return {metric.name: metric.result() for metric in self.metrics}

    def test_step(self, data):
        inputs, targets = data
        predictions = self(inputs, training=False)
        self.loss_tracker.update_state(self.compute_loss(x=inputs, y=targets, y_pred=predictions))
        self.accuracy_tracker.update_state(targets, predictions)
        return {metric.name: metric.result() for metric in self.metrics}
