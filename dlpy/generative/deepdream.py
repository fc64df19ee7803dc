"""DeepDream (chapter 18): gradient ascent on a photo to amplify what chosen layers respond to,
with random jitter per step and octaves with detail reinjection.

Images are RGB 0-255 ``(H, W, 3)`` arrays; the backbone's ``preprocess`` runs inside the compiled
step, so the step size is in pixel units for every backbone. Taught in chapter 18.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from dlpy.course.arguments import integer_at_least
from dlpy.generative.progress import Display, Progress
from dlpy.images import RGB, resize, single_image
from dlpy.models.backbones import backbone_parts
from dlpy.models.introspection import feature_model

#: Layers and their weights in the loss. InceptionV3's are the book's; the others follow the same
#: idea (a few mid-to-deep blocks, deeper ones weighted more).
DREAM_LAYERS = {
    "inception_v3": {"mixed4": 1.0, "mixed5": 1.5, "mixed6": 2.0, "mixed7": 2.5},
    "mobilenet": {"conv_pw_6_relu": 1.0, "conv_pw_8_relu": 1.5, "conv_pw_10_relu": 2.0},
    "vgg19": {"block3_conv4": 1.0, "block4_conv4": 1.5, "block5_conv2": 2.0},
    "vgg16": {"block3_conv3": 1.0, "block4_conv3": 1.5, "block5_conv2": 2.0},
}

#: Shallow and deep choices for the comparison figure.
SHALLOW_DEEP_LAYERS = {
    "inception_v3": ({"mixed2": 1.0}, {"mixed8": 1.0}),
    "mobilenet": ({"conv_pw_3_relu": 1.0}, {"conv_pw_11_relu": 1.0}),
    "vgg19": ({"block2_conv2": 1.0}, {"block5_conv4": 1.0}),
    "vgg16": ({"block2_conv2": 1.0}, {"block5_conv3": 1.0}),
}

BORDER = 2  # pixels of each activation map left out of the loss (border artefacts), as in the book


def dream_loss(activations, weights) -> tf.Tensor:
    """The DeepDream objective: ``sum_l w_l * mean(a_l^2)`` over each layer's activations, without a
    ``BORDER``-pixel frame. ``activations``: list of (B, H, W, C) tensors; ``weights``: one per layer.
    Taught in chapter 18."""
    if len(activations) != len(weights):
        raise ValueError(f"One weight per layer: {len(activations)} activations, {len(weights)} weights")
    loss = tf.constant(0.0)
    for activation, weight in zip(activations, weights):
        activation = tf.cast(activation, tf.float32)
        height, width = tf.shape(activation)[1], tf.shape(activation)[2]
        trim = tf.minimum(BORDER, tf.maximum((tf.minimum(height, width) - 1) // 2, 0))  # keep >= 1 position
        inner = activation[:, trim:height - trim, trim:width - trim, :]
        loss += float(weight) * tf.reduce_mean(tf.square(inner))
    return loss


def octave_shapes(shape, num_octaves: int = 3, octave_scale: float = 1.4) -> list[tuple[int, int]]:
    """Image sizes of the octaves, smallest first and the original last: ``shape / scale**i`` for
    ``i = num_octaves-1 ... 0`` (rounded down, as in the book). Taught in chapter 18."""
    if num_octaves < 1:
        raise ValueError(f"num_octaves must be >= 1, got {num_octaves}")
    if octave_scale <= 1:
        raise ValueError(f"octave_scale must be > 1 (each octave is larger than the last), got {octave_scale}")
    height, width = (int(s) for s in shape[:2])
    shapes = [(int(height / octave_scale ** i), int(width / octave_scale ** i)) for i in range(num_octaves)]
    if min(shapes[-1]) < 8:
        raise ValueError(f"The smallest octave {shapes[-1]} is under 8 pixels: use fewer octaves or a larger image.")
    return shapes[::-1]


@dataclass(frozen=True)
class DreamOptions:
    """The settings of :meth:`DeepDream.dream` (the book's values by default): ``num_octaves``
    image sizes, each ``octave_scale`` times the previous one, ``steps_per_octave`` gradient-ascent
    steps of ``learning_rate`` (pixel units) on each, images rolled by up to ``jitter`` pixels per
    step, an octave stopped once the loss passes ``max_loss``, and the ``seed`` of the rolls.
    Taught in chapter 18."""

    num_octaves: int = 3
    octave_scale: float = 1.4
    steps_per_octave: int = 20
    learning_rate: float = 1.5
    jitter: int = 16
    max_loss: float | None = None
    seed: int = 0

    def __post_init__(self):
        for name in ("num_octaves", "steps_per_octave"):
            integer_at_least(name, getattr(self, name))
        if not self.octave_scale > 1:
            raise ValueError(f"octave_scale must be greater than 1 (each octave larger), got {self.octave_scale!r}.")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}.")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, int) or self.jitter < 0:
            raise ValueError(f"jitter is a number of pixels (0 or more), got {self.jitter!r}.")


class DeepDream:
    """DeepDream on a backbone (a :class:`dlpy.models.Backbone` or a Keras model) and weighted layers.

    ``DeepDream(load_backbone("mobilenet"), {"conv_pw_8_relu": 1.0}).dream(photo)``. Layers are named
    as in :func:`dlpy.models.introspection.feature_model`; unknown names raise an error listing the layers.
    Taught in chapter 18.
    """

    def __init__(self, backbone, layers=None, *, preprocess=None, jit_compile: bool = False):
        self.model, self.preprocess, name = backbone_parts(backbone, preprocess)
        if layers is None:
            if name not in DREAM_LAYERS:
                raise ValueError(f"No default DeepDream layers for {name!r}: pass layers={{name: weight}}.")
            layers = DREAM_LAYERS[name]
        if isinstance(layers, str):
            layers = {layers: 1.0}
        if not isinstance(layers, dict) or not layers:
            raise ValueError(f"layers is a dict {{layer name: weight}} (or one layer name), e.g. "
                             f"{{'conv_pw_8_relu': 1.0}}; got {layers!r}.")
        for layer, weight in layers.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating, np.integer)) \
                    or not np.isfinite(weight):
                raise ValueError(f"The weight of layer {layer!r} must be a number (how much it counts in the "
                                 f"loss), e.g. {{{layer!r}: 1.0}}; got {weight!r}.")
        self.layers = {layer: float(weight) for layer, weight in layers.items()}
        # BatchNormalization folded (inference only, faster); unknown names -> ValueError
        self.extractor = feature_model(self.model, list(self.layers), fold_batch_norm=True)
        self.weights = list(self.layers.values())
        self.jit_compile = jit_compile
        self.step = self.make_step(compiled=True, jit_compile=jit_compile)

    def loss(self, image) -> tf.Tensor:
        """The dream loss of a batch of RGB 0-255 images."""
        outputs = self.extractor(self.preprocess(image))
        return dream_loss(outputs if isinstance(outputs, (list, tuple)) else [outputs], self.weights)

    def _step(self, image, shift, learning_rate):
        """Roll the image by ``shift`` (jitter), one normalized gradient-ascent step, roll back."""
        image = tf.roll(image, shift, axis=[0, 1])
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = self.loss(image[tf.newaxis])
        grad = tape.gradient(loss, image)
        grad /= tf.maximum(tf.reduce_mean(tf.abs(grad)), 1e-8)  # step size independent of the loss scale
        image = tf.clip_by_value(image + learning_rate * grad, 0.0, 255.0)
        return tf.roll(image, -shift, axis=[0, 1]), loss

    def make_step(self, compiled: bool = True, jit_compile: bool = False):
        """``(image (H, W, 3), shift (2,) int32, learning_rate) -> (image, loss before the step)``:
        a ``tf.function`` with an ``input_signature`` (any size, no retracing), or the eager function."""
        if not compiled:
            return self._step
        signature = [tf.TensorSpec((None, None, 3), tf.float32), tf.TensorSpec((2,), tf.int32),
                     tf.TensorSpec((), tf.float32)]
        return tf.function(self._step, input_signature=signature, jit_compile=jit_compile)

    def ascend(self, image, steps: int = 20, learning_rate: float = 1.5, jitter: int = 16,
               max_loss: float | None = None, rng=None, progress: Progress | None = None):
        """``steps`` gradient-ascent steps on one image, each with a random roll of up to ``jitter``
        pixels; stops early once the loss exceeds ``max_loss``. Returns ``(image, losses)``.

        Args:
            image: one RGB image (H, W, 3), values 0-255.
            steps: the number of gradient-ascent steps.
            learning_rate: the step size, in pixel units (the gradient is divided by its mean absolute value).
            jitter: the largest random roll along each axis, in pixels (0: no roll).
            max_loss: stop after the first step whose loss exceeds it (``None``: run all ``steps``).
            rng: the NumPy ``Generator`` of the rolls (``None``: ``np.random.default_rng(0)``).
            progress: a :class:`Progress` updated after every step (``None``: nothing is shown).

        Example::

            image, losses = DeepDream(load_backbone("mobilenet")).ascend(photo, steps=10, learning_rate=1.5)
        """
        image = single_image(image, RGB, min_size=8)
        rng = rng if rng is not None else np.random.default_rng(0)
        lr = tf.constant(learning_rate, tf.float32)
        losses = []
        for _ in range(steps):
            shift = rng.integers(-jitter, jitter + 1, size=2).astype("int32") if jitter else np.zeros(2, "int32")
            image, loss = self.step(image, tf.constant(shift), lr)
            losses.append(float(loss))
            if progress is not None:
                progress.update(len(progress.history.get("loss", [])) + 1, image, loss=losses[-1])
            if max_loss is not None and losses[-1] > max_loss:
                break
        return image, losses

    def dream(self, image, options: DreamOptions | None = None, display: Display | None = None):
        """The book's DeepDream loop: from the smallest octave up, ascend, upscale, and reinject the
        detail lost by downscaling (the photo at this size minus its upscaled smaller copy).

        Args:
            image: one RGB photo (H, W, 3), values 0-255.
            options: the octaves, steps, step size, jitter and seed (:class:`DreamOptions`).
            display: how progress is shown (:class:`dlpy.generative.progress.Display`); by default
                a progress bar and, in Jupyter, the image as it changes.

        Returns ``(dream image, progress)``; ``progress.snapshots`` holds the end of each octave.

        Example::

            dream, progress = DeepDream(backbone, {"conv_pw_8_relu": 1.0}).dream(photo, DreamOptions(num_octaves=4))

        Taught in chapter 18."""
        options = options or DreamOptions()
        display = display or Display()
        original = single_image(image, RGB, min_size=8)
        shapes = octave_shapes(original.shape, options.num_octaves, options.octave_scale)
        rng = np.random.default_rng(options.seed)
        steps = options.steps_per_octave
        progress = display.progress(options.num_octaves * steps, every=steps, snapshot_every=steps)
        shrunk_original = resize(original, shapes[0])
        dreamed = shrunk_original
        for shape in shapes:
            dreamed = resize(dreamed, shape)
            dreamed, _ = self.ascend(dreamed, steps, options.learning_rate, options.jitter, options.max_loss, rng,
                                     progress)
            lost_detail = resize(original, shape) - resize(shrunk_original, shape)
            dreamed = tf.clip_by_value(dreamed + lost_detail, 0.0, 255.0)
            shrunk_original = resize(original, shape)
        return dreamed.numpy(), progress
