"""Gradients of a class score with respect to the input pixels: vanilla saliency maps (Simonyan et
al. 2014) and guided backpropagation (Springenberg et al. 2015), as in cs231n's *Visualizing and
Understanding*. Shown next to Grad-CAM in chapter 10.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from dlpy.images import image_batch
from dlpy.models.introspection import check_class_indices, class_score_source, feature_model


def class_score_function(model: keras.Model):
    """``(scores, num_classes)``: ``scores`` maps images in the model's input space to class scores
    ``(n, classes)``, the logits where the model ends in a softmax or sigmoid (a single sigmoid unit
    gives two classes, ``-z`` and ``z``). What every gradient-based map differentiates. Taught in
    chapter 10."""
    source = class_score_source(model)
    hidden = None if source is None else feature_model(model, source[0])

    units = int(np.prod(model.outputs[0].shape[1:]))  # static: a compiled call keeps the class axis known

    def scores(x):
        out = model(x, training=False) if hidden is None else source[1](hidden(x, training=False))
        out = tf.reshape(out, (tf.shape(out)[0], units))
        return tf.concat([-out, out], axis=-1) if units == 1 else out

    return scores, 2 if units == 1 else units


_COMPILED_GRADIENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled_class_gradients(model: keras.Model, preprocess=None):
    """A compiled ``(x, targets) -> (scores of targets, d score / d x)`` for a batch ``x`` and one
    class index per row, made once per model and ``preprocess`` and reused (a model whose weights are
    assigned in place, as in a randomization check, needs no new trace). Taught in chapter 10."""
    per_model = _COMPILED_GRADIENTS.setdefault(model, {})
    if preprocess not in per_model:
        scores, _ = class_score_function(model)

        @tf.function(reduce_retracing=True)
        def gradients(x, targets):
            with tf.GradientTape() as tape:
                tape.watch(x)
                inputs = x if preprocess is None else preprocess(x)
                chosen = tf.gather(scores(inputs), targets, batch_dims=1)
                total = tf.reduce_sum(chosen)  # images are independent: d total / d x holds each one's gradient
            return chosen, tape.gradient(total, x)

        per_model[preprocess] = gradients
    return per_model[preprocess]


def one_class_per_image(model: keras.Model, batch, classes) -> np.ndarray:
    """``classes`` checked against ``model``'s classes as one int32 index per image of ``batch``
    (an int means the same class for all); a clear error otherwise. Taught in chapter 10."""
    units = int(np.prod(model.outputs[0].shape[1:]))
    chosen = check_class_indices(classes, len(batch), 2 if units == 1 else units, owner=f"Model {model.name!r}")
    if chosen.shape[1] != 1:
        raise ValueError(f"Give one class per image ({len(batch)}); got shape {np.shape(classes)}.")
    return chosen[:, 0]


def input_gradients(model: keras.Model, images, classes, preprocess=None) -> np.ndarray:
    """d(score of ``classes[i]``)/d(pixels of image i), shape (n, h, w, channels), through
    ``preprocess`` (so in the units of the images you pass). Taught in chapter 10."""
    batch = image_batch(images, model)
    chosen = one_class_per_image(model, batch, classes)
    _, gradients = compiled_class_gradients(model, preprocess)(tf.constant(batch), tf.constant(chosen))
    return gradients.numpy()


def magnitude_map(attributions) -> np.ndarray:
    """Per-pixel attributions ``(n, h, w, channels)`` as maps ``(n, h, w)``: the largest absolute
    value over the channels, each map scaled to [0, 1] (how saliency maps are shown). Taught in
    chapter 10."""
    magnitude = np.abs(np.asarray(attributions, dtype="float32")).max(axis=-1)
    return magnitude / np.maximum(magnitude.max(axis=(1, 2), keepdims=True), 1e-12)


def saliency_maps(model: keras.Model, images, classes, preprocess=None) -> np.ndarray:
    """Vanilla saliency: the largest absolute input gradient over the color channels, each map
    scaled to [0, 1]; shape (n, h, w). Taught in chapter 10."""
    return magnitude_map(input_gradients(model, images, classes, preprocess))


def _guided(function):
    """``function`` (a ReLU-like activation) whose gradient passes only where both the incoming
    gradient and the ReLU's own gradient are positive."""

    @tf.custom_gradient
    def guided(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = function(x)
        local = tape.gradient(y, x)

        def backward(upstream):
            return upstream * tf.cast(upstream > 0, upstream.dtype) * tf.cast(local > 0, upstream.dtype)

        return y, backward

    return guided


class _GuidedReLU(keras.layers.ReLU):
    def call(self, inputs):
        return _guided(super().call)(inputs)


def guided_model(model: keras.Model) -> keras.Model:
    """A copy of ``model`` (same weights) whose ReLUs backpropagate only positive gradients: what
    guided backpropagation differentiates. Nested models are copied too. Taught in chapter 10."""

    def clone(layer):
        if isinstance(layer, keras.Model):
            return layer  # clone_model(recursive=True) descends into it
        config = layer.get_config()
        if isinstance(layer, keras.layers.ReLU):
            return _GuidedReLU.from_config(config)
        copy = layer.__class__.from_config(config)
        if getattr(getattr(layer, "activation", None), "__name__", "") == "relu":
            copy.activation = _guided(keras.activations.relu)
        return copy

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def guided_backprop(model: keras.Model, images, classes, preprocess=None) -> np.ndarray:
    """Guided backpropagation: input gradients of the class scores through guided ReLUs,
    shape (n, h, w, channels). Show with :func:`to_displayable_gradient`. Taught in chapter 10."""
    return input_gradients(guided_model(model), images, classes, preprocess)


def to_displayable_gradient(gradient) -> np.ndarray:
    """An input gradient (h, w, 3) as an image in [0, 1]: standardized, 0.5 is zero, 0.15 per
    standard deviation (the book's display of gradient-ascent images). Taught in chapter 10."""
    gradient = np.asarray(gradient, dtype="float32")
    shown = (gradient - gradient.mean()) / (gradient.std() + 1e-8) * 0.15 + 0.5
    return np.clip(shown, 0.0, 1.0)
