"""Occlusion sensitivity (Zeiler & Fergus 2014; cs231n "Visualizing and Understanding"): slide a
gray patch over the image and watch the class probability; where it drops, the model was looking.

All occluded copies are built on the fly inside one ``tf.function`` and classified in batches, so a
224x224 map with 16-px patches at stride 8 (729 forward passes) costs a few batched calls instead
of 729 single-image calls. Taught in chapter 11.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from dlpy.images import displayable, single_image
from dlpy.models.introspection import check_class_indices, inference_model


@dataclass(frozen=True)
class Occlusion:
    """An occlusion map. ``scores[i, j]`` is the class score (the probability, for a softmax or
    sigmoid classifier) with the patch's top-left corner at ``(tops[i], lefts[j])``;
    ``baseline`` is the score of the intact image. Taught in chapter 11."""

    scores: np.ndarray
    baseline: float
    class_index: int
    tops: np.ndarray
    lefts: np.ndarray
    patch_size: tuple[int, int]
    image_shape: tuple[int, int]

    @property
    def drop(self) -> np.ndarray:
        """``baseline - scores``: how much covering each position costs the class (positive: it mattered)."""
        return self.baseline - self.scores

    def heatmap(self) -> np.ndarray:
        """A per-pixel map (H, W): the mean :attr:`drop` over every patch position covering the pixel."""
        height, width = self.image_shape
        total = np.zeros((height, width))
        count = np.zeros((height, width))
        ph, pw = self.patch_size
        drop = self.drop
        for i, top in enumerate(self.tops):
            for j, left in enumerate(self.lefts):
                total[top:top + ph, left:left + pw] += drop[i, j]
                count[top:top + ph, left:left + pw] += 1
        return total / np.maximum(count, 1)

    def most_sensitive_box(self) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` of the patch whose occlusion lowers the score most."""
        i, j = np.unravel_index(np.argmax(self.drop), self.drop.shape)
        top, left = int(self.tops[i]), int(self.lefts[j])
        return top, left, top + self.patch_size[0], left + self.patch_size[1]


def _pair(value, what: str) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or any(int(v) != v or v < 1 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def patch_positions(length: int, patch: int, stride: int) -> np.ndarray:
    """Top (or left) coordinates of a patch sliding along an axis of ``length`` pixels; the last
    position is added when the stride does not end flush with the border, so every pixel is covered.
    Taught in chapter 11."""
    positions = list(range(0, length - patch + 1, stride))
    if positions[-1] != length - patch:
        positions.append(length - patch)
    return np.array(positions)


_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _occluded_scores_function(model: keras.Model, preprocess):
    """One traced function per (model, preprocess): occlude a batch of positions and score them."""
    cache = _FUNCTIONS.setdefault(model, {})
    if preprocess not in cache:
        forward = inference_model(model)  # BatchNormalization folded: the same scores, faster

        @tf.function(reduce_retracing=True)
        def occluded_scores(image, tops, lefts, patch_size, fill, class_index):
            height, width = tf.shape(image)[0], tf.shape(image)[1]
            rows = tf.range(height)[None, :]
            cols = tf.range(width)[None, :]
            in_rows = (rows >= tops[:, None]) & (rows < tops[:, None] + patch_size[0])  # (B, H)
            in_cols = (cols >= lefts[:, None]) & (cols < lefts[:, None] + patch_size[1])  # (B, W)
            mask = (in_rows[:, :, None] & in_cols[:, None, :])[..., None]  # (B, H, W, 1)
            occluded = tf.where(mask, fill, image[None])
            inputs = preprocess(occluded) if preprocess is not None else occluded
            outputs = forward(inputs, training=False)
            return tf.gather(tf.reshape(outputs, (tf.shape(outputs)[0], -1)), class_index, axis=1)
        cache[preprocess] = occluded_scores
    return cache[preprocess]


def occlusion_map(model: keras.Model, image, class_index: int | None = None, *, patch_size=16, stride=8,
                  fill=127.5, preprocess=None, batch_size: int = 16) -> Occlusion:
    """Slide a ``patch_size`` square of color ``fill`` over ``image`` with ``stride`` and record
    ``model``'s score for ``class_index`` (default: the class it predicts for the intact image) at
    every position.

    ``image`` is (H, W, C) in the space ``fill`` is given in (0-255 RGB for the course's photos;
    127.5 is mid-gray); ``preprocess`` (e.g. ``backbone.preprocess``) turns it into the model's input.
    Every occluded copy is made and scored inside one ``tf.function``, ``batch_size`` at a time (on a
    2-core CPU 16 was faster than 64: a batch's activations stay in cache).

    Args:
        model: a Keras classifier (softmax outputs, or one sigmoid unit).
        image: one image (H, W, C).
        class_index: the class whose score is recorded (``None``: the class predicted for the intact image).
        patch_size: the side of the patch in pixels, or ``(height, width)``.
        stride: the pixels between patch positions, or ``(vertical, horizontal)``.
        fill: the color of the patch: one value, or one per channel.
        preprocess: maps the image to the model's input (``None``: it goes in unchanged).
        batch_size: occluded copies scored per call.

    Returns an :class:`Occlusion`.

    Example::

        occlusion = occlusion_map(model, photo, patch_size=16, stride=8)

    Taught in chapter 11.
    """
    image = single_image(image, model)
    height, width, channels = image.shape
    ph, pw = _pair(patch_size, "patch_size")
    sh, sw = _pair(stride, "stride")
    if ph > height or pw > width:
        raise ValueError(f"The patch ({ph}x{pw}) is larger than the image ({height}x{width}): use a smaller "
                         "patch_size.")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    fill = np.broadcast_to(np.asarray(fill, dtype="float32"), (channels,)).copy()
    inputs = image[None] if preprocess is None else preprocess(image[None])
    intact = np.asarray(keras.ops.convert_to_numpy(model(inputs, training=False))).reshape(1, -1)
    binary = intact.shape[1] == 1
    if class_index is None:
        class_index = int(intact[0, 0] > 0.5) if binary else int(np.argmax(intact[0]))
    n_classes = 2 if binary else intact.shape[1]
    owner = f"Model {model.name!r}"
    class_index = int(check_class_indices(class_index, 1, n_classes, name="class_index", owner=owner)[0, 0])

    def to_score(raw):
        return (raw if class_index == 1 else 1.0 - raw) if binary else raw

    tops, lefts = patch_positions(height, ph, sh), patch_positions(width, pw, sw)
    grid_tops, grid_lefts = (a.ravel().astype("int32") for a in np.meshgrid(tops, lefts, indexing="ij"))
    count = grid_tops.size
    batch = -(-count // -(-count // int(batch_size)))  # equal batches of at most batch_size, least padding
    padded = -(-count // batch) * batch  # pad the last batch so that every call has the same shape
    grid_tops = np.pad(grid_tops, (0, padded - count), mode="edge")
    grid_lefts = np.pad(grid_lefts, (0, padded - count), mode="edge")
    function = _occluded_scores_function(model, preprocess)
    image_tensor = tf.constant(image)
    size = tf.constant([ph, pw], dtype="int32")
    fill_tensor = tf.constant(fill)
    unit = tf.constant(0 if binary else int(class_index), dtype="int32")
    raw = [
        function(image_tensor, tf.constant(grid_tops[i:i + batch]), tf.constant(grid_lefts[i:i + batch]),
                 size, fill_tensor, unit).numpy()
        for i in range(0, padded, batch)
    ]
    scores = to_score(np.concatenate(raw)[:count].astype("float64")).reshape(len(tops), len(lefts))
    baseline = float(to_score(intact[0, 0 if binary else int(class_index)]))
    return Occlusion(scores, baseline, int(class_index), tops, lefts, (ph, pw), (height, width))


def map_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Pearson correlation of two saliency maps after resizing the second to the first's shape
    (e.g. an occlusion heatmap against a Grad-CAM map). Taught in chapter 11."""
    first = np.asarray(first, dtype="float64")
    second = np.asarray(second, dtype="float64")
    if first.ndim != 2 or second.ndim != 2:
        raise ValueError(f"Expected two 2-D maps, got shapes {first.shape} and {second.shape}")
    if second.shape != first.shape:
        second = tf.image.resize(second[..., None], first.shape, method="bilinear").numpy()[..., 0]
    if first.std() == 0 or second.std() == 0:
        raise ValueError("A constant map has no correlation with anything.")
    return float(np.corrcoef(first.ravel(), second.ravel())[0, 1])


def plot_occlusion(image, occlusion: Occlusion, other_maps: dict | None = None, title: str | None = None,
                   alpha: float = 0.5):
    """The image, the class score for every patch position, and the per-pixel drop over the image;
    ``other_maps`` (e.g. ``{"Grad-CAM": heatmap}``) are drawn over the image beside it. Taught in chapter 11."""
    import matplotlib.pyplot as plt


    other_maps = other_maps or {}
    shown = displayable(image)
    panels = 3 + len(other_maps)
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.4))
    height, width = occlusion.image_shape
    axes[0].imshow(shown)
    top, left, bottom, right = occlusion.most_sensitive_box()
    axes[0].add_patch(plt.Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False,
                                    edgecolor="red", lw=2))
    axes[0].set_title(f"class {occlusion.class_index}: p = {occlusion.baseline:.3f}", fontsize=9)
    ph, pw = occlusion.patch_size
    extent = (occlusion.lefts[0] + pw / 2 - 0.5, occlusion.lefts[-1] + pw / 2 - 0.5,
              occlusion.tops[-1] + ph / 2 - 0.5, occlusion.tops[0] + ph / 2 - 0.5)
    im = axes[1].imshow(occlusion.scores, cmap="magma", extent=extent, vmin=0,
                        vmax=max(occlusion.baseline, occlusion.scores.max()))
    axes[1].set_xlim(-0.5, width - 0.5)
    axes[1].set_ylim(height - 0.5, -0.5)
    axes[1].set_title("score with the patch here", fontsize=9)
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    maps = {"occlusion (drop)": occlusion.heatmap(), **other_maps}
    for ax, (name, heat) in zip(axes[2:], maps.items()):
        ax.imshow(shown)
        ax.imshow(np.asarray(heat), cmap="jet", alpha=alpha, extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        ax.set_title(name, fontsize=9)
    for ax in axes:
        ax.axis("off")
        ax.grid(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
