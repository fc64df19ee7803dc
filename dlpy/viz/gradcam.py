"""Grad-CAM and Grad-CAM++: which regions of an image drove a class score, for any Keras 3 image
classifier (Functional, Sequential, or a pretrained base nested inside a classifier).

Grad-CAM (Selvaraju et al. 2017) weighs each channel of a convolutional layer's output by the
spatial mean of the class score's gradient and keeps the positive part of the weighted sum.
Grad-CAM++ (Chattopadhay et al. 2018) weighs the positive gradients pixel by pixel instead.
One compiled call handles a batch of images and several classes per image. Taught in chapter 10.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from dlpy.images import image_batch
from dlpy.models.introspection import check_class_indices, class_score_source, feature_model, find_layer
from dlpy.viz.activations import spatial_layers


@dataclass(frozen=True)
class ClassActivationMaps:
    """What :class:`GradCam` returns for n images and k classes each.

    ``grad_cam`` and ``grad_cam_plus_plus``: (n, k, h, w) maps at the layer's resolution, each
    scaled to [0, 1]; ``classes``: (n, k) class indices; ``outputs``: (n, k) the model's output for
    those classes (probabilities for a softmax classifier). Taught in chapter 10.
    """

    grad_cam: np.ndarray
    grad_cam_plus_plus: np.ndarray
    classes: np.ndarray
    outputs: np.ndarray

    def select(self, images=slice(None), classes=slice(None)) -> ClassActivationMaps:
        """Some of the images and classes: ``maps.select(classes=slice(0, 1))`` keeps each image's top class."""
        images = slice(images, images + 1) if isinstance(images, int) else images
        classes = slice(classes, classes + 1) if isinstance(classes, int) else classes
        return ClassActivationMaps(self.grad_cam[images, classes], self.grad_cam_plus_plus[images, classes],
                                   self.classes[images, classes], self.outputs[images, classes])


def class_activation_maps(activations, gradients):
    """Grad-CAM and Grad-CAM++ maps (n, h, w), each scaled to [0, 1], from a layer's output and the
    gradient of one score per image with respect to it (both (n, h, w, c)): the weighting step of
    :class:`GradCam`, which chapter 10 writes out by hand. Taught in chapter 10."""
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))
    # Grad-CAM++ with the exponential score, whose higher derivatives are powers of the gradient.
    g2, g3 = tf.square(gradients), tf.pow(gradients, 3)
    denominator = 2.0 * g2 + tf.reduce_sum(activations, axis=(1, 2), keepdims=True) * g3
    alpha = tf.math.divide_no_nan(g2, denominator)
    weights_pp = tf.reduce_sum(alpha * tf.nn.relu(gradients), axis=(1, 2), keepdims=True)
    cam_pp = tf.nn.relu(tf.reduce_sum(weights_pp * activations, axis=-1))

    def unit(maps):
        return tf.math.divide_no_nan(maps, tf.reduce_max(maps, axis=(1, 2), keepdims=True))

    return unit(cam), unit(cam_pp)


class GradCam:
    """Grad-CAM and Grad-CAM++ of ``model`` at a convolutional ``layer`` (a name or a dotted path
    through nested models, e.g. ``"mobilenet_0.75_224.conv_pw_13_relu"``).

    ``preprocess`` maps the images you pass (e.g. RGB 0-255) to the model's input; ``None`` if the
    model preprocesses itself. Call it with a batch and either ``classes`` (one int, or an (n, k)
    array) or ``top=k`` (the k most probable classes of each image)::

        cam = GradCam(backbone.model, "conv_pw_13_relu", preprocess=backbone.preprocess)
        maps = cam(images, top=3)          # maps.grad_cam: (n, 3, 7, 7)

    Taught in chapter 10.
    """

    def __init__(self, model: keras.Model, layer: str, preprocess=None):
        target = find_layer(model, layer)
        shape = getattr(target, "output", None)
        shape = None if shape is None else tuple(shape.shape)
        if isinstance(target, keras.Model) or shape is None or len(shape) != 4:
            candidates = spatial_layers(model)
            raise ValueError(
                f"Grad-CAM needs a layer with a spatial output (batch, height, width, channels); "
                f"{layer!r} outputs shape {shape}. Spatial layers of {model.name!r} include: "
                f"{', '.join(candidates[-8:])}"
            )
        self.model, self.layer, self.preprocess = model, layer, preprocess
        source = class_score_source(model)
        if source is None:
            self._features = feature_model(model, layer, include_output=True, fold_batch_norm=True)
            self._to_logits = None
        else:
            self._features = feature_model(model, [layer, source[0]], include_output=True, fold_batch_norm=True)
            self._to_logits = source[1]
        units = model.outputs[0].shape[-1]
        self.binary = units == 1
        self.num_classes = 2 if self.binary else int(units)
        self._compiled = tf.function(self._maps, reduce_retracing=True)

    def _forward(self, x):
        outputs = self._features(x, training=False)
        if self._to_logits is None:
            activations, probabilities = outputs
            logits = probabilities
        else:
            activations, hidden, probabilities = outputs
            logits = self._to_logits(hidden)
        logits = keras.ops.reshape(logits, (keras.ops.shape(logits)[0], -1))
        probabilities = keras.ops.reshape(probabilities, (keras.ops.shape(probabilities)[0], -1))
        if self.binary:  # one sigmoid unit: class 1 scores z, class 0 scores -z
            logits = keras.ops.concatenate([-logits, logits], axis=-1)
            probabilities = keras.ops.concatenate([1.0 - probabilities, probabilities], axis=-1)
        return activations, logits, probabilities

    def _maps(self, images, classes, count: int):
        """Maps for ``classes`` (n, count), or for the top ``count`` classes when ``classes`` is None."""
        x = images if self.preprocess is None else self.preprocess(images)
        with tf.GradientTape(persistent=count > 1) as tape:
            tape.watch(x)
            activations, logits, probabilities = self._forward(x)
            if classes is None:
                classes = tf.math.top_k(probabilities, k=count).indices
            selected = tf.gather(logits, classes, batch_dims=1)
            totals = [tf.reduce_sum(selected[:, k]) for k in range(count)]
        cams, cams_pp = [], []
        for total in totals:  # images are independent: d(sum over the batch)/dA gives each image's gradient
            cam, cam_pp = class_activation_maps(activations, tape.gradient(total, activations))
            cams.append(cam)
            cams_pp.append(cam_pp)
        del tape
        outputs = tf.gather(probabilities, classes, batch_dims=1)
        return tf.stack(cams, axis=1), tf.stack(cams_pp, axis=1), classes, outputs

    def __call__(self, images, classes=None, top: int = 1) -> ClassActivationMaps:
        batch = image_batch(images, self.model)
        n = batch.shape[0]
        if classes is None:
            if not 1 <= top <= self.num_classes:
                raise ValueError(f"top must be between 1 and the {self.num_classes} classes; got {top}.")
            result = self._compiled(tf.constant(batch), None, int(top))
        else:
            chosen = check_class_indices(classes, n, self.num_classes, owner=f"Model {self.model.name!r}")
            result = self._compiled(tf.constant(batch), tf.constant(chosen, dtype="int32"), int(chosen.shape[1]))
        cam, cam_pp, chosen, outputs = (keras.ops.convert_to_numpy(r) for r in result)
        return ClassActivationMaps(cam, cam_pp, chosen, outputs)


def plot_class_activation_maps(images, maps: ClassActivationMaps, class_names=None, alpha: float = 0.45,
                               cmap: str = "jet", size: float = 2.4, plus_plus: bool = True):
    """One row per image: the photo, then each class's Grad-CAM overlay (and Grad-CAM++ beside it).

    ``class_names``: a list indexed by class (or a callable index -> name); titles show the name and
    the model's output. Returns the figure.

    Args:
        images: the photos the maps were computed for, RGB 0-255: one (H, W, 3) or a batch (n, H, W, 3).
        maps: their :class:`ClassActivationMaps`.
        class_names: class names, as above (``None``: ``"class <index>"``).
        alpha: the weight of the heatmap in each overlay, in [0, 1].
        cmap: the matplotlib colormap of the heatmaps.
        size: the width and height of each panel, in inches.
        plus_plus: also show each class's Grad-CAM++ overlay.

    Example::

        plot_class_activation_maps(photos, GradCam(model, "block14_sepconv2_act")(photos, top=2), class_names)

    Taught in chapter 10.
    """
    import matplotlib.pyplot as plt

    from dlpy.viz.overlay import overlay_heatmap

    images = np.asarray(images, dtype="float32")
    images = images[None] if images.ndim == 3 else images
    n, k = maps.classes.shape
    methods = [("Grad-CAM", maps.grad_cam)] + ([("Grad-CAM++", maps.grad_cam_plus_plus)] if plus_plus else [])
    columns = 1 + k * len(methods)
    fig, axes = plt.subplots(n, columns, figsize=(size * columns, size * n + 0.3), squeeze=False)

    from dlpy.plots import class_label

    def name(index):
        return class_label(class_names, index)

    for i in range(n):
        axes[i, 0].imshow(np.clip(images[i] / 255.0, 0, 1))
        axes[i, 0].set_title("input", fontsize=8)
        column = 1
        for j in range(k):
            for method, heatmaps in methods:
                ax = axes[i, column]
                ax.imshow(overlay_heatmap(images[i], heatmaps[i, j], alpha=alpha, cmap=cmap))
                ax.set_title(f"{method}: {name(int(maps.classes[i, j]))}\n({maps.outputs[i, j]:.2f})", fontsize=8)
                column += 1
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig
