"""Attribution methods beyond the vanilla gradient, and the checks that say whether a map means
anything (the attribution literature next to cs231n's *Visualizing and Understanding*):

* **SmoothGrad** (Smilkov et al. 2017): the input gradient averaged over copies of the image with
  Gaussian noise added, which removes much of the gradient's pixel-to-pixel noise;
* **Integrated Gradients** (Sundararajan et al. 2017): the gradient averaged along the straight path
  from a baseline image to the image, times the difference; its attributions add up to the change
  of the score from the baseline to the image (*completeness*);
* **deletion and insertion curves** (Petsiuk et al. 2018): remove the most important pixels first
  (the class probability should fall fast: low area under the curve is good), or add them to a
  blurred image (it should rise fast: high area is good);
* **sanity checks** (Adebayo et al. 2018): randomize the model's weights from the top layer down and
  see whether the map changes; a map that stays the same explains the image, not the model.

Every method takes the same arguments as :func:`dlpy.viz.saliency.input_gradients` (model, images,
one class per image, ``preprocess``) and computes all noise samples or path steps of all images in
compiled, batched calls. Taught in chapter 10.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from dlpy.course.arguments import integer_at_least
from dlpy.images import image_batch
from dlpy.models.introspection import find_layer
from dlpy.viz.overlay import resize_heatmap
from dlpy.viz.saliency import compiled_class_gradients, one_class_per_image


def _chunks(count: int, per_image: int, max_batch: int):
    """Slices of images such that each call holds at most ``max_batch`` rows (at least one image)."""
    images_per_call = max(1, max_batch // per_image)
    return [slice(start, min(start + images_per_call, count)) for start in range(0, count, images_per_call)]


def smoothgrad(model: keras.Model, images, classes, preprocess=None, *, samples: int = 32, noise: float = 0.15,
               seed: int = 0, max_batch: int = 256) -> np.ndarray:
    """SmoothGrad: the input gradient of each image's class score averaged over ``samples`` noisy
    copies, shape ``(n, h, w, channels)`` like :func:`~dlpy.viz.saliency.input_gradients`.

    Args:
        model: an image classifier (softmax, or one sigmoid unit).
        images: a batch ``(n, h, w, channels)`` in the units ``preprocess`` expects (e.g. RGB 0-255).
        classes: one class per image (an int for all, or ``(n,)``).
        preprocess: maps the images to the model's input (``None``: the model takes them as they are).
        samples: noisy copies per image.
        noise: the noise's standard deviation as a fraction of each image's value range (the paper's
            10-20%); 0 gives the plain gradient.
        seed: the noise's seed.
        max_batch: most copies differentiated in one call (all samples of several images at once).

    Example::

        maps = smoothgrad(model, images, classes, preprocess=backbone.preprocess, samples=32)

    Taught in chapter 10."""
    samples = integer_at_least("samples", samples)
    if noise < 0:
        raise ValueError(f"noise is a standard deviation (a fraction of the value range), got {noise}.")
    batch = image_batch(images, model)
    chosen = one_class_per_image(model, batch, classes)
    gradients = compiled_class_gradients(model, preprocess)
    spread = (batch.max(axis=(1, 2, 3)) - batch.min(axis=(1, 2, 3))).reshape(-1, 1, 1, 1, 1) * noise
    rng = np.random.default_rng(seed)
    result = np.zeros_like(batch, dtype="float32")
    for part in _chunks(len(batch), samples, max_batch):
        copies = np.repeat(batch[part, None], samples, axis=1)
        copies = copies + rng.normal(size=copies.shape).astype("float32") * spread[part]
        flat = copies.reshape(-1, *batch.shape[1:])
        _, grads = gradients(tf.constant(flat, "float32"), tf.constant(np.repeat(chosen[part], samples)))
        result[part] = grads.numpy().reshape(copies.shape).mean(axis=1)
    return result


def integrated_gradients(model: keras.Model, images, classes, preprocess=None, *, baseline=None, steps: int = 32,
                         max_batch: int = 256, return_completeness: bool = False):
    """Integrated Gradients: ``(x - baseline) * mean of the gradients along the path`` from
    ``baseline`` to ``x`` (the trapezoid rule over ``steps`` intervals), shape ``(n, h, w, channels)``.

    The baseline is an input that means "nothing": a black image (the default, zeros in the units you
    pass), a blurred copy, or the data's mean. Attributions explain the score's change from the
    baseline to the image, so they add up to ``f(x) - f(baseline)`` (completeness), up to the
    integration error, which falls as ``steps`` grows.

    Args:
        model: an image classifier (softmax, or one sigmoid unit).
        images: a batch ``(n, h, w, channels)`` in the units ``preprocess`` expects.
        classes: one class per image (an int for all, or ``(n,)``).
        preprocess: maps the images to the model's input (``None``: the model takes them as they are).
        baseline: one image, or one per image, in the same units (``None``: zeros).
        steps: intervals of the path (``steps + 1`` gradients per image).
        max_batch: most path points differentiated in one call.
        return_completeness: also return ``(attributions summed, f(x) - f(baseline))`` per image.

    Example::

        attributions = integrated_gradients(model, images, classes, preprocess=backbone.preprocess, steps=32)

    Taught in chapter 10."""
    steps = integer_at_least("steps", steps)
    batch = image_batch(images, model)
    chosen = one_class_per_image(model, batch, classes)
    start = np.zeros_like(batch) if baseline is None else np.broadcast_to(
        np.asarray(baseline, dtype="float32"), batch.shape).astype("float32")
    gradients = compiled_class_gradients(model, preprocess)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype="float32")
    weights = np.full(steps + 1, 1.0 / steps, dtype="float32")
    weights[[0, -1]] /= 2  # the trapezoid rule
    result = np.zeros_like(batch, dtype="float32")
    change = np.zeros(len(batch), dtype="float64")
    for part in _chunks(len(batch), steps + 1, max_batch):
        difference = batch[part] - start[part]
        path = start[part, None] + alphas.reshape(1, -1, 1, 1, 1) * difference[:, None]
        scores, grads = gradients(tf.constant(path.reshape(-1, *batch.shape[1:])),
                                  tf.constant(np.repeat(chosen[part], steps + 1)))
        grads = grads.numpy().reshape(path.shape)
        result[part] = difference * np.tensordot(weights, np.moveaxis(grads, 1, 0), axes=1)
        scores = scores.numpy().reshape(-1, steps + 1)
        change[part] = scores[:, -1] - scores[:, 0]
    if return_completeness:
        return result, (result.reshape(len(batch), -1).sum(axis=1), change)
    return result


# --- does a map mean anything? ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeletionInsertion:
    """Deletion and insertion curves of n maps (Petsiuk et al. 2018). ``fractions``: (steps + 1,)
    the share of pixels removed (deletion) or restored (insertion); ``deletion`` and ``insertion``:
    (n, steps + 1) the class probability at each step; ``deletion_auc`` and ``insertion_auc``: (n,)
    the areas under them (lower deletion and higher insertion mean a map that ranks pixels well).
    Taught in chapter 10."""

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: np.ndarray
    insertion_auc: np.ndarray


_COMPILED_PROBABILITIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _probability_function(model, preprocess):
    """A compiled ``(x, targets) -> probability of each row's target``, made once per model and preprocess."""
    per_model = _COMPILED_PROBABILITIES.setdefault(model, {})
    if preprocess not in per_model:
        units = int(np.prod(model.outputs[0].shape[1:]))

        @tf.function(reduce_retracing=True)
        def probabilities(x, targets):
            out = model(x if preprocess is None else preprocess(x), training=False)
            out = tf.reshape(out, (tf.shape(out)[0], units))
            if units == 1:
                out = tf.concat([1.0 - out, out], axis=-1)
            return tf.gather(out, targets, batch_dims=1)

        per_model[preprocess] = probabilities
    return per_model[preprocess]


def _pixel_order(maps, height: int, width: int) -> np.ndarray:
    """Each map resized to the image (bilinear) and its pixels ranked, most important first: (n, h*w)."""
    maps = np.asarray(maps, dtype="float32")
    if maps.ndim != 3:
        raise ValueError(f"maps must be (n, height, width), one per image; got shape {maps.shape}.")
    if maps.shape[1:] != (height, width):
        maps = np.stack([resize_heatmap(m, (height, width)) for m in maps])
    return np.argsort(-maps.reshape(len(maps), -1), axis=1, kind="stable")


def deletion_insertion(model: keras.Model, images, classes, maps, preprocess=None, *, steps: int = 16,
                       insertion_from: str = "blur", blur_sigma: float | None = None,
                       max_batch: int = 256) -> DeletionInsertion:
    """Deletion and insertion curves of ``maps`` for ``model``'s class probabilities.

    Deletion sets the most important pixels to zero (black, in the units you pass), a growing share at
    each step; insertion starts from a blurred copy (or zeros) and puts the original pixels back in
    the same order. A map of any resolution is resized to the image. All steps of several images are
    computed in one compiled call.

    Args:
        model: an image classifier (softmax, or one sigmoid unit).
        images: a batch ``(n, h, w, channels)`` in the units ``preprocess`` expects.
        classes: one class per image (an int for all, or ``(n,)``).
        maps: ``(n, map_h, map_w)`` importance, higher first; e.g. random numbers for the baseline.
        preprocess: maps the images to the model's input (``None``: the model takes them as they are).
        steps: steps from no pixel to every pixel.
        insertion_from: ``"blur"`` (the paper's) or ``"zeros"``.
        blur_sigma: the Gaussian blur's standard deviation in pixels (``None``: a tenth of the image's
            shorter side).
        max_batch: most images (all steps, both curves) evaluated in one call.

    Example::

        curves = deletion_insertion(model, images, classes, cams, preprocess=backbone.preprocess)

    Taught in chapter 10."""
    steps = integer_at_least("steps", steps)
    if insertion_from not in ("blur", "zeros"):
        raise ValueError(f"insertion_from is 'blur' or 'zeros', got {insertion_from!r}.")
    batch = image_batch(images, model)
    chosen = one_class_per_image(model, batch, classes)
    n, height, width, channels = batch.shape
    order = _pixel_order(maps, height, width)
    if len(order) != n:
        raise ValueError(f"Give one map per image: {len(order)} maps for {n} images.")
    if insertion_from == "blur":
        from scipy.ndimage import gaussian_filter

        sigma = min(height, width) / 10 if blur_sigma is None else blur_sigma
        start = np.stack([gaussian_filter(image, sigma=(sigma, sigma, 0)) for image in batch]).astype("float32")
    else:
        start = np.zeros_like(batch)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * height * width).astype(int)
    # ranks[i, p]: the position of pixel p in image i's order; pixel p is "in" at step k when rank < counts[k]
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(height * width)[None].repeat(n, 0), axis=1)
    probabilities = _probability_function(model, preprocess)
    curves = {"deletion": np.zeros((n, steps + 1)), "insertion": np.zeros((n, steps + 1))}
    for part in _chunks(n, 2 * (steps + 1), max_batch):
        chosen_pixels = (ranks[part, None, :] < counts[None, :, None]).reshape(-1, steps + 1, height, width, 1)
        original = batch[part, None]
        deleted = np.where(chosen_pixels, 0.0, original)
        inserted = np.where(chosen_pixels, original, start[part, None])
        both = np.concatenate([deleted, inserted], axis=1).reshape(-1, height, width, channels).astype("float32")
        targets = np.repeat(chosen[part], 2 * (steps + 1))
        values = probabilities(tf.constant(both), tf.constant(targets)).numpy().reshape(-1, 2, steps + 1)
        curves["deletion"][part], curves["insertion"][part] = values[:, 0], values[:, 1]

    def area(curve):
        return (curve[:, 1:] + curve[:, :-1]).sum(axis=1) / (2 * steps)  # the trapezoid rule over [0, 1]

    return DeletionInsertion(fractions, curves["deletion"], curves["insertion"], area(curves["deletion"]),
                             area(curves["insertion"]))


def _learned_weights(layer) -> list:
    """A layer's learned variables, frozen or not: every weight but BatchNormalization's moving statistics."""
    return [v for v in layer.weights if not v.path.endswith(("moving_mean", "moving_variance"))]


def weight_layers_top_down(model: keras.Model) -> list[str]:
    """Names of the layers with learned weights (trainable or frozen), from the output back to the
    input (nested models opened, as dotted paths): the order of a cascading randomization. Taught in
    chapter 10."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += [f"{layer.name}.{inner}" for inner in reversed(weight_layers_top_down(layer))]
        elif _learned_weights(layer):
            names.append(layer.name)
    return names[::-1]


def cascading_randomization(model: keras.Model, depth: int | None = None, seed: int = 0):
    """Yield ``(layer name, model)`` with the weights of the top 1, 2, ... ``depth`` weight layers
    replaced by random ones (Adebayo et al. 2018's sanity check; ``None``: every layer; frozen layers
    too, BatchNormalization's moving statistics kept). Each random
    tensor is Gaussian with the scale of the weights it replaces (biases and BatchNormalization's
    shift become 0, its scale 1). One copy of ``model`` is randomized further at each step: use each
    yielded model before asking for the next. ``model`` itself is not changed. Taught in chapter 10."""
    names = weight_layers_top_down(model)
    depth = len(names) if depth is None else min(integer_at_least("depth", depth), len(names))
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    rng = np.random.default_rng(seed)
    for name in names[:depth]:
        layer = find_layer(copy, name)
        for variable in _learned_weights(layer):
            value = variable.numpy()
            path = variable.path
            if path.endswith("gamma"):
                new = np.ones_like(value)
            elif value.ndim <= 1 or path.endswith(("bias", "beta")):
                new = np.zeros_like(value)
            else:
                new = rng.normal(0.0, float(value.std()) or 0.05, size=value.shape).astype(value.dtype)
            variable.assign(new)
        yield name, copy


def rank_correlation(maps_a, maps_b) -> np.ndarray:
    """Spearman's rank correlation of each pair of maps (absolute values, as the sanity-check paper
    compares them), one per image: (n,). 1 means the same ranking of pixels. Taught in chapter 10."""
    from scipy.stats import spearmanr

    a, b = np.abs(np.asarray(maps_a, "float64")), np.abs(np.asarray(maps_b, "float64"))
    if a.shape != b.shape:
        raise ValueError(f"Compare maps of one shape: {a.shape} vs {b.shape}.")
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return np.array([spearmanr(x, y).statistic if x.std() and y.std() else 0.0 for x, y in zip(a, b)])
