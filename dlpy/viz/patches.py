"""Maximally activating patches (cs231n "Visualizing and Understanding", after Girshick et al. 2014):
for each channel of a layer, run a whole dataset through the network, keep the k units with the
largest activation, and crop from their images exactly the pixels each unit sees (its receptive
field, from :mod:`dlpy.viz.receptive_field`). What a channel responds to becomes visible as a grid
of real image crops. Taught in chapter 11.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import keras
import numpy as np
import tensorflow as tf

from dlpy.models.introspection import feature_model, resolve_path
from dlpy.viz.receptive_field import ReceptiveField, receptive_field
from dlpy.viz.saliency import guided_model


@dataclass(frozen=True)
class TopPatches:
    """The ``k`` strongest units of each chosen channel over a dataset. Arrays are (channels, k, ...),
    strongest first: ``activations``, ``image_indices`` (into the images passed), ``positions``
    (row, col of the unit in the layer's output) and ``boxes`` (top, left, bottom, right of the
    input pixels the unit sees); ``crops[c][i]`` is that part of the image. After
    :func:`patch_gradients`, ``crops`` hold the units' input gradients scaled for display and
    ``raw_crops`` the gradients themselves. Taught in chapter 11."""

    layer: str
    channels: np.ndarray
    activations: np.ndarray
    image_indices: np.ndarray
    positions: np.ndarray
    boxes: np.ndarray
    crops: list
    receptive_field: ReceptiveField
    raw_crops: list | None = None

    def strongest(self, count: int) -> TopPatches:
        """The ``count`` channels whose k-th best activation is highest (consistently strong
        channels, not ones lit by a single image), strongest first."""
        order = np.argsort(-self.activations[:, -1], kind="stable")[:count]
        return TopPatches(self.layer, self.channels[order], self.activations[order], self.image_indices[order],
                          self.positions[order], self.boxes[order], [self.crops[i] for i in order],
                          self.receptive_field, None if self.raw_crops is None else [self.raw_crops[i] for i in order])


def _channels(channels, available: int) -> np.ndarray:
    if channels is None:
        channels = min(8, available)
    if np.isscalar(channels):
        chosen = np.arange(int(channels))
    else:
        chosen = np.asarray(channels, dtype=int).ravel()
    if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= available:
        raise ValueError(f"Channels must lie in 0..{available - 1} (the layer has {available}); got {channels!r}")
    return chosen


def top_activating_patches(model: keras.Model, layer: str, images, channels=None, k: int = 8, *,
                           preprocess=None, batch_size: int = 32, one_per_image: bool = True) -> TopPatches:
    """For each of ``channels`` of ``layer`` (a name or dotted path; ``channels`` is a list of
    indices, or a count n for channels 0..n-1; default 8), the ``k`` largest activations over
    ``images`` and the receptive-field crops that produced them. ``one_per_image`` keeps at most one
    unit per image and channel (otherwise overlapping crops of one image tend to fill the row).

    Args:
        model: a Keras model.
        layer: a spatial layer of ``model`` (a name or dotted path).
        images: a batch of images (N, height, width, channels), as ``preprocess`` expects them.
        channels: a list of channel indices, or a count n for channels 0..n-1 (``None``: 8, or all if fewer).
        k: how many activations to keep per channel (at most N with ``one_per_image``).
        preprocess: maps the images to the model's input (``None``: they go in unchanged).
        batch_size: images per forward pass.
        one_per_image: at most one unit per image and channel, as above.

    Example::

        patches = top_activating_patches(model, "conv2d_3", images, channels=8, k=6)

    Taught in chapter 11.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"Expected a batch of images (N, height, width, channels), got shape {images.shape}")
    path = ".".join(item.name for item in resolve_path(model, layer))
    field = receptive_field(model, path, input_shape=images.shape[1:3])  # also rejects non-spatial layers
    extractor = feature_model(model, path, fold_batch_norm=True)
    depth = int(extractor.outputs[0].shape[-1])
    chosen = _channels(channels, depth)
    k = int(k)
    limit = len(images) if one_per_image else len(images) * field.output_shape[0] * field.output_shape[1]
    if not 1 <= k <= limit:
        raise ValueError(f"k must be between 1 and {limit} ({'one unit per image' if one_per_image else 'units'}), "
                         f"got {k}")
    selected = tf.constant(chosen, dtype="int32")

    @tf.function(reduce_retracing=True)
    def strongest(batch):
        x = preprocess(batch) if preprocess is not None else batch
        activations = tf.gather(extractor(x, training=False), selected, axis=-1)  # (B, h, w, C)
        n, width = tf.shape(activations)[0], tf.shape(activations)[2]
        flat = tf.transpose(tf.reshape(activations, (n, -1, len(chosen))), (2, 0, 1))  # (C, B, h*w)
        if one_per_image:
            values, where = tf.reduce_max(flat, axis=2), tf.argmax(flat, axis=2, output_type="int32")
            images_in_batch = tf.broadcast_to(tf.range(n)[None, :], tf.shape(values))
        else:
            count = tf.minimum(k, tf.shape(flat)[1] * tf.shape(flat)[2])
            values, flat_index = tf.math.top_k(tf.reshape(flat, (len(chosen), -1)), k=count)
            images_in_batch, where = flat_index // tf.shape(flat)[2], flat_index % tf.shape(flat)[2]
        return values, images_in_batch, where // width, where % width

    best_values = np.full((len(chosen), 0), -np.inf, dtype="float32")
    best_images = np.zeros((len(chosen), 0), dtype=int)
    best_rows = np.zeros((len(chosen), 0), dtype=int)
    best_cols = np.zeros((len(chosen), 0), dtype=int)
    for start in range(0, len(images), batch_size):
        values, image_index, rows, cols = (t.numpy() for t in strongest(
            tf.constant(images[start:start + batch_size], dtype="float32")))
        best_values = np.concatenate([best_values, values], axis=1)
        best_images = np.concatenate([best_images, image_index + start], axis=1)
        best_rows = np.concatenate([best_rows, rows], axis=1)
        best_cols = np.concatenate([best_cols, cols], axis=1)
        keep = np.argsort(-best_values, axis=1, kind="stable")[:, :k]
        best_values, best_images, best_rows, best_cols = (np.take_along_axis(a, keep, axis=1) for a in (
            best_values, best_images, best_rows, best_cols))
    boxes = np.array([[field.clipped_box(r, c) for r, c in zip(rows, cols)]
                      for rows, cols in zip(best_rows, best_cols)])
    crops = [[images[i, top:bottom, left:right] for i, (top, left, bottom, right) in zip(indices, channel_boxes)]
             for indices, channel_boxes in zip(best_images, boxes)]
    return TopPatches(path, chosen, best_values, best_images, np.stack([best_rows, best_cols], axis=-1), boxes,
                      crops, field)


def _magnitude(gradient) -> np.ndarray:
    magnitude = np.abs(gradient).max(axis=-1)
    return np.clip(magnitude / max(float(np.quantile(magnitude, 0.99)), 1e-12), 0.0, 1.0)


def patch_gradients(model: keras.Model, top: TopPatches, images, *, guided: bool = True, preprocess=None,
                    batch_size: int = 32) -> TopPatches:
    """The input gradient of each unit in ``top`` (one channel's activation at one position), by
    guided backpropagation (cs231n "Visualizing and Understanding": intermediate features via guided
    backprop, after Springenberg et al. 2015) or plain backpropagation (``guided=False``): which pixels
    of its patch the unit responds to, and with what sign. Returns ``top`` with each crop replaced by
    the gradient's magnitude over the same receptive field (largest absolute value over the color
    channels, divided by its 99th percentile and clipped to [0, 1]: one display scale per crop);
    ``raw_crops`` keeps the signed gradients. :func:`plot_top_patches` draws either. All units go
    through one compiled gradient call per batch. Outside the receptive field the gradient is zero.

    Args:
        model: the model ``top`` was computed on.
        top: maximally activating patches from :func:`top_activating_patches` (or ``.strongest(n)``).
        images: the same images that were passed to :func:`top_activating_patches`.
        guided: guided backpropagation (only positive gradients pass each ReLU) or plain gradients.
        preprocess: the same ``preprocess`` as for :func:`top_activating_patches`.
        batch_size: units per gradient call.

    Example::

        top = top_activating_patches(model, "conv2d_3", images, channels=8).strongest(4)
        plot_top_patches(patch_gradients(model, top, images))

    Taught in chapter 11."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:3] != tuple(top.receptive_field.input_shape):
        raise ValueError(f"images must be the batch the patches were found in ({top.receptive_field.input_shape} "
                         f"pixels); got shape {images.shape}")
    if top.image_indices.max() >= len(images):
        raise ValueError(f"The patches refer to image {int(top.image_indices.max())}, but only {len(images)} images "
                         f"were given: pass the images given to top_activating_patches")
    source = guided_model(model) if guided else model
    extractor = feature_model(source, top.layer, fold_batch_norm=True)

    @tf.function(reduce_retracing=True)
    def unit_gradients(batch, units):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            x = preprocess(batch) if preprocess is not None else batch
            activations = extractor(x, training=False)
            chosen = tf.gather_nd(activations, tf.concat([tf.range(tf.shape(units)[0])[:, None], units], axis=1))
            total = tf.reduce_sum(chosen)  # each unit depends on its own image only
        return tape.gradient(total, batch)

    channels, k = top.activations.shape
    units = np.concatenate([top.positions.reshape(-1, 2), np.repeat(top.channels, k)[:, None]], axis=1)
    which = top.image_indices.reshape(-1)
    raw = []
    for start in range(0, len(which), batch_size):
        batch = tf.constant(images[which[start:start + batch_size]], dtype="float32")
        raw.extend(unit_gradients(batch, tf.constant(units[start:start + batch_size], dtype="int32")).numpy())
    boxes = top.boxes.reshape(-1, 4)
    crops = [gradient[t:b, left:right] for gradient, (t, left, b, right) in zip(raw, boxes)]
    shown = [[_magnitude(crops[c * k + j]) for j in range(k)] for c in range(channels)]
    return replace(top, crops=shown, raw_crops=[[crops[c * k + j] for j in range(k)] for c in range(channels)])


def plot_top_patches(result: TopPatches, size: float = 1.0, title: str | None = None,
                     gradients: TopPatches | None = None):
    """One row per channel, its strongest crops left to right, each titled with its activation.
    Each crop is drawn where it lies in the unit's full field: at the border part of the field is padding
    and stays blank. With ``gradients`` (from :func:`patch_gradients` on ``result``), each channel's
    row of crops is followed by a row of the units' gradients. Returns the figure.
    Taught in chapter 11."""
    import matplotlib.pyplot as plt

    from dlpy.images import displayable

    channels, k = result.activations.shape
    same_units = gradients is None or (gradients.activations.shape == result.activations.shape and all(
        np.array_equal(getattr(gradients, name), getattr(result, name))
        for name in ("channels", "image_indices", "positions")))
    if not same_units:
        raise ValueError(f"gradients must come from patch_gradients on these very patches ({channels} channels x "
                         f"{k}, the same channels, images and positions); call patch_gradients(model, result, images)")
    shown = [(c, result, f"ch {result.channels[c]}") for c in range(channels)]
    if gradients is not None:
        shown = [row for c in range(channels) for row in (shown[c], (c, gradients, "gradient"))]
    fig, axes = plt.subplots(len(shown), k, figsize=(size * k + 0.8, size * len(shown) + 0.5), squeeze=False)
    field = result.receptive_field
    for r, (c, source, label) in enumerate(shown):
        for j in range(k):
            ax = axes[r, j]
            crop = displayable(source.crops[c][j])
            # Draw the crop where it lies inside the unit's full field; the blank rest is padding.
            top, left, _, _ = field.box(*result.positions[c, j])
            dy, dx = result.boxes[c, j, 0] - top, result.boxes[c, j, 1] - left
            ax.imshow(crop, cmap="gray" if crop.ndim == 2 else None, vmin=0, vmax=1,
                      extent=(dx, dx + crop.shape[1], dy + crop.shape[0], dy))
            ax.set_xlim(0, field.size[1])
            ax.set_ylim(field.size[0], 0)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if source is result:
                ax.set_title(f"{result.activations[c, j]:.3g}", fontsize=6, pad=1)
        axes[r, 0].set_ylabel(label, fontsize=7)
    fig.suptitle(title or f"{result.layer}: top {k} patches per channel (receptive field {field.size[0]}x"
                 f"{field.size[1]}, stride {field.stride[0]})", fontsize=9)
    fig.tight_layout()
    return fig
