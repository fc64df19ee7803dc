"""Filter visualization and class visualization by gradient ascent in input space.

Start from a gray image with a little noise and repeatedly move it along the gradient of a target:
the mean activation of one filter of a layer (what the filter responds to), or the pre-softmax
score of one class (what the network thinks the class looks like). Many targets are optimized
at once, one image each, in a compiled ``tf.function`` step. Regularizers (Yosinski et al. 2015;
cs231n) make the images more natural: L2 decay, jitter, Gaussian blur, clipping small pixels.
Taught in chapter 09.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from dlpy.models.introspection import check_class_indices, class_score_source, feature_model, find_layer

GRAY = 128.0  # the ascent works in RGB pixel units; this is the neutral value


@dataclass(frozen=True)
class Regularizers:
    """Switchable image priors applied at every ascent step (all off by default).

    ``l2``: decay the image towards gray by this fraction each step (an L2 penalty).
    ``jitter``: shift the image by up to this many pixels before the gradient step, then back.
    ``blur_sigma`` / ``blur_every``: Gaussian-blur the image (std in pixels) every n steps.
    ``clip_percentile``: set pixels whose color deviation from gray is in the lowest
    ``clip_percentile`` percent of the image back to gray.
    Taught in chapter 09.
    """

    l2: float = 0.0
    jitter: int = 0
    blur_sigma: float = 0.0
    blur_every: int = 4
    clip_percentile: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.l2 < 1.0:
            raise ValueError(f"l2 is a decay fraction in [0, 1); got {self.l2}.")
        if self.jitter < 0 or self.blur_sigma < 0 or self.blur_every < 1:
            raise ValueError("jitter and blur_sigma must be >= 0 and blur_every >= 1.")
        if not 0.0 <= self.clip_percentile < 100.0:
            raise ValueError(f"clip_percentile is in [0, 100); got {self.clip_percentile}.")


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalized 1-D Gaussian of standard deviation ``sigma`` pixels, radius ``ceil(3 sigma)``.
    Taught in chapter 09."""
    radius = max(1, int(np.ceil(3.0 * sigma)))
    x = np.arange(-radius, radius + 1, dtype="float32")
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(images, sigma: float):
    """Blur a batch (n, h, w, 3) with a separable Gaussian (reflected borders). Taught in chapter 09."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    channels = images.shape[-1]
    padded = tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    row = tf.constant(np.tile(kernel[None, :, None, None], (1, 1, channels, 1)))
    column = tf.constant(np.tile(kernel[:, None, None, None], (1, 1, channels, 1)))
    blurred = tf.nn.depthwise_conv2d(padded, row, strides=[1, 1, 1, 1], padding="VALID")
    return tf.nn.depthwise_conv2d(blurred, column, strides=[1, 1, 1, 1], padding="VALID")


class GradientAscent:
    """Gradient ascent of many images at once, each on its own unit of ``target`` (a function from a
    batch of model inputs to scores (n, units)). Build one with :meth:`for_filters` or
    :meth:`for_classes`; run it with :meth:`run`.

    Images live in RGB pixel units (gray is 128) and ``preprocess`` maps them to the model's input,
    so one step size suits every backbone. Each step moves every image by ``step_size`` pixels (root
    mean square) along its own normalized gradient. Taught in chapter 09.
    """

    def __init__(self, target, units: int, image_size=(128, 128), preprocess=None,
                 regularizers: Regularizers | None = None, step_size: float = 1.0):
        self.target, self.units = target, int(units)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.preprocess = preprocess
        self.regularizers = regularizers or Regularizers()
        if min(self.image_size) < 1:
            raise ValueError(f"image_size is (height, width) in pixels; got {image_size!r}.")
        sigma = self.regularizers.blur_sigma
        radius = len(gaussian_kernel(sigma)) // 2 if sigma else 0
        if radius >= min(self.image_size):
            largest = (min(self.image_size) - 1) / 3.0
            raise ValueError(f"Regularizers(blur_sigma={sigma}) blurs over {2 * radius + 1} pixels, more than the "
                             f"{self.image_size[0]}x{self.image_size[1]} image: use blur_sigma < {largest:.1f} or a "
                             "larger image_size.")
        self.step_size = float(step_size)
        self.step = tf.function(self.eager_step, reduce_retracing=True)

    @classmethod
    def for_filters(cls, model: keras.Model, layer: str, border: int = 2, **options) -> GradientAscent:
        """Ascent on the mean activation of filters of ``layer`` (a name or dotted path), leaving out
        ``border`` positions at each edge (they see the padding). Taught in chapter 09."""
        features = feature_model(model, layer, fold_batch_norm=True)
        shape = tuple(find_layer(model, layer).output.shape)
        if len(shape) != 4:
            raise ValueError(f"Filter visualization needs a convolutional layer (batch, h, w, filters); "
                             f"{layer!r} outputs shape {shape}.")

        def filter_means(x):
            activation = features(x, training=False)
            height, width = activation.shape[1], activation.shape[2]
            trim = border if height is not None and height > 2 * border and width > 2 * border else 0
            if trim:
                activation = activation[:, trim:-trim, trim:-trim, :]
            return tf.reduce_mean(activation, axis=(1, 2))

        return cls(filter_means, shape[-1], **options)

    @classmethod
    def for_classes(cls, model: keras.Model, **options) -> GradientAscent:
        """Ascent on class scores: the logits before a final softmax (cs231n's class visualization).
        Taught in chapter 09."""
        source = class_score_source(model)
        if source is None:
            def scores(x):
                return model(x, training=False)
        else:
            hidden_model = feature_model(model, source[0], fold_batch_norm=True)

            def scores(x):
                return source[1](hidden_model(x, training=False))

        def class_scores(x):
            out = scores(x)
            return tf.reshape(out, (tf.shape(out)[0], -1))

        if "image_size" not in options and model.inputs[0].shape[1] is not None:
            options["image_size"] = tuple(model.inputs[0].shape[1:3])
        return cls(class_scores, model.outputs[0].shape[-1], **options)

    def objective(self, images, units):
        """Each image's target score: ``(n,)`` for images (n, h, w, 3) in pixel units."""
        x = images if self.preprocess is None else self.preprocess(images)
        scores = self.target(x)
        return tf.gather(scores, units, batch_dims=1)

    def eager_step(self, images, units, blur):
        """One ascent step with the regularizers; ``blur`` (a bool tensor) says whether to blur now.
        Returns the new images and each image's objective before the step. ``self.step`` is this
        function compiled."""
        reg = self.regularizers
        if reg.jitter:
            shift = tf.random.uniform([2], -reg.jitter, reg.jitter + 1, dtype="int32")
            images = tf.roll(images, shift, axis=[1, 2])
        with tf.GradientTape() as tape:
            tape.watch(images)
            value = self.objective(images, units)
            total = tf.reduce_sum(value)  # images are independent: each gets its own gradient
        gradient = tape.gradient(total, images)
        rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=(1, 2, 3), keepdims=True))
        images = images + self.step_size * gradient / (rms + 1e-8)
        if reg.jitter:
            images = tf.roll(images, -shift, axis=[1, 2])
        centered = images - GRAY
        if reg.l2:
            centered = centered * (1.0 - reg.l2)
        if reg.blur_sigma:
            centered = tf.cond(blur, lambda: gaussian_blur(centered, reg.blur_sigma), lambda: centered)
        if reg.clip_percentile:
            norms = tf.norm(centered, axis=-1)
            flat = tf.reshape(norms, (tf.shape(norms)[0], -1))
            pixels = tf.cast(tf.shape(flat)[1], "float32")
            k = tf.maximum(1, tf.cast(tf.round(pixels * reg.clip_percentile / 100.0), "int32"))
            threshold = tf.reduce_max(-tf.math.top_k(-flat, k=k).values, axis=1)  # the k-th smallest norm
            keep = tf.cast(norms > threshold[:, None, None], images.dtype)[..., None]
            centered = centered * keep
        return centered + GRAY, value

    def initial_images(self, count: int, seed: int = 0, noise: float = 20.0) -> np.ndarray:
        """Gray images with uniform noise of +-``noise`` pixels: the ascent's start."""
        rng = np.random.default_rng(seed)
        shape = (count, *self.image_size, 3)
        return (GRAY + rng.uniform(-noise, noise, size=shape)).astype("float32")

    def run(self, units, steps: int = 30, seed: int = 0, compiled: bool = True):
        """Optimize one image per unit in ``units`` (filter or class indices) for ``steps`` steps.

        Returns ``(images, history)``: images (n, h, w, 3) in pixel units (not clipped) and the
        objective before each step, (steps, n). Taught in chapter 09.
        """
        units = np.atleast_1d(np.asarray(units))
        units = check_class_indices(units, len(units), self.units, name="unit", owner="the target",
                                    what="unit", per="step")[:, 0]
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}.")
        tf.random.set_seed(seed)
        step = self.step if compiled else self.eager_step
        images = tf.constant(self.initial_images(len(units), seed))
        targets = tf.constant(units, dtype="int32")
        history = []
        for i in range(steps):
            blur = tf.constant((i + 1) % self.regularizers.blur_every == 0)
            images, value = step(images, targets, blur)
            history.append(value)
        return images.numpy(), np.stack([keras.ops.convert_to_numpy(v) for v in history])


def standardize_for_display(images, border: int = 0) -> np.ndarray:
    """The book's display of an ascent result: each image standardized (mean 0.5, 0.15 per
    standard deviation), clipped to [0, 1], with ``border`` pixels cropped at each edge.
    Taught in chapter 09."""
    images = np.asarray(images, dtype="float32")
    single = images.ndim == 3
    images = images[None] if single else images
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    std = images.std(axis=(1, 2, 3), keepdims=True)
    shown = np.clip((images - mean) / (std + 1e-5) * 0.15 + 0.5, 0.0, 1.0)
    if border:
        shown = shown[:, border:-border, border:-border, :]
    return shown[0] if single else shown


def visualize_filters(model: keras.Model, layer: str, filters, steps: int = 30, image_size=(128, 128),
                      preprocess=None, regularizers: Regularizers | None = None, step_size: float = 1.0,
                      seed: int = 0) -> np.ndarray:
    """The inputs that maximally activate ``filters`` of ``layer``, ready to show: (n, h, w, 3) in
    [0, 1], border cropped.

    Args:
        model: a Keras model.
        layer: a convolutional layer of ``model`` (a name or dotted path).
        filters: the filter indices, one image each.
        steps: the number of gradient-ascent steps.
        image_size: ``(height, width)`` of the images, in pixels.
        preprocess: maps the images (RGB pixel units, gray 128) to the model's input (``None``: none).
        regularizers: the image priors of each step (:class:`Regularizers`; ``None``: none).
        step_size: how far each step moves an image, in pixels (root mean square).
        seed: the seed of the starting noise and of the jitter.

    Example::

        images = visualize_filters(backbone.model, "block3_conv1", range(16), preprocess=backbone.preprocess)

    Taught in chapter 09."""
    ascent = GradientAscent.for_filters(model, layer, image_size=image_size, preprocess=preprocess,
                                        regularizers=regularizers, step_size=step_size)
    images, _ = ascent.run(filters, steps=steps, seed=seed)
    return standardize_for_display(images, border=max(1, image_size[0] // 16))
