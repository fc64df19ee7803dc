"""Neural style transfer and its relatives (chapter 19): content, Gram-matrix style and
total-variation losses; style transfer, texture synthesis and feature inversion as one compiled
optimization over the pixels of an image.

Losses are normalized per element (means, Gram matrices divided by the number of positions), so
one set of weights works at any image size and a style image of another size (the *style scale*)
gives comparable Gram matrices. The book sums instead, which ties its weights to its image size.

Images are RGB 0-255 ``(H, W, 3)`` arrays; the backbone's ``preprocess`` runs inside the step.
Taught in chapter 19.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from dlpy.generative.progress import Display
from dlpy.images import RGB, resize, single_image
from dlpy.models.backbones import backbone_parts
from dlpy.models.introspection import feature_model

TV_EXPONENT = 1.25


# --------------------------------------------------------------------------------------------- losses

def gram_matrix(features) -> tf.Tensor:
    """Channel correlations of feature maps: ``F^T F / (H W)`` for ``F`` of shape ``(H W, C)``.

    ``(H, W, C)`` gives ``(C, C)``; a batch ``(B, H, W, C)`` gives ``(B, C, C)``. Dividing by the
    number of positions makes Gram matrices of images of different sizes comparable.
    Taught in chapter 19."""
    features = tf.convert_to_tensor(features, dtype=tf.float32)
    if features.shape.rank not in (3, 4):
        raise ValueError(f"gram_matrix needs (H, W, C) or (B, H, W, C) features, got shape {features.shape}")
    batched = features.shape.rank == 4
    if not batched:
        features = features[tf.newaxis]
    shape = tf.shape(features)
    flat = tf.reshape(features, (shape[0], shape[1] * shape[2], shape[3]))
    gram = tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], tf.float32)
    return gram if batched else gram[0]


def content_loss(target_features, features) -> tf.Tensor:
    """Mean squared difference between two layers' feature maps. Taught in chapter 19."""
    return tf.reduce_mean(tf.square(tf.cast(features, tf.float32) - tf.cast(target_features, tf.float32)))


def style_loss(target_gram, features) -> tf.Tensor:
    """Gatys et al.'s style loss of one layer, ``sum((G - A)^2) / (4 C^2)``, with ``G`` the Gram
    matrix of ``features`` ((H, W, C) or a batch, averaged) and ``A`` = ``target_gram`` (C, C).
    Taught in chapter 19."""
    gram = gram_matrix(features)
    target_shape = tuple(np.shape(target_gram))
    channels = gram.shape[-1]
    if len(target_shape) != 2 or target_shape != (channels, channels):
        raise ValueError(f"style_loss(target_gram, features): target_gram must be a Gram matrix ({channels}, "
                         f"{channels}) for features with {channels} channels; got shape {target_shape}. Pass "
                         "gram_matrix(target_features), not the features themselves.")
    return tf.reduce_mean(tf.square(gram - tf.cast(target_gram, tf.float32))) / 4.0


def total_variation_loss(image, exponent: float = TV_EXPONENT) -> tf.Tensor:
    """The book's total-variation loss, as a mean: ``mean((dx^2 + dy^2) ** 1.25)`` over pixels and
    channels, for one image (H, W, C) or a batch. It penalises noise and favors smooth regions.
    Taught in chapter 19."""
    image = tf.convert_to_tensor(image, dtype=tf.float32)
    if image.shape.rank == 3:
        image = image[tf.newaxis]
    if image.shape.rank != 4:
        raise ValueError(f"total_variation_loss needs (H, W, C) or (B, H, W, C), got shape {image.shape}")
    corner = image[:, :-1, :-1, :]
    down = tf.square(corner - image[:, 1:, :-1, :])
    right = tf.square(corner - image[:, :-1, 1:, :])
    return tf.reduce_mean(tf.pow(down + right, exponent))


# ------------------------------------------------------------------------------------ layers, weights

@dataclass(frozen=True)
class StyleLayers:
    """Which layers carry content and style for a backbone. Taught in chapter 19."""

    content: str
    style: tuple[str, ...]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the three losses. Taught in chapter 19."""

    content: float
    style: float
    tv: float

    def as_tensor(self) -> tf.Tensor:
        return tf.constant([self.content, self.style, self.tv], tf.float32)


STYLE_LAYERS = {
    # the book's layers (Gatys et al.): first conv of every block for style, block5_conv2 for content
    "vgg19": StyleLayers("block5_conv2", ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1",
                                          "block5_conv1")),
    "vgg16": StyleLayers("block5_conv2", ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1",
                                          "block5_conv1")),
    # the same idea on MobileNet: pointwise activations from stride 2 to stride 16
    "mobilenet": StyleLayers("conv_pw_9_relu", ("conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_5_relu",
                                                "conv_pw_7_relu", "conv_pw_11_relu")),
}

DEFAULT_WEIGHTS = {
    "vgg19": LossWeights(content=1.0, style=3e-3, tv=3e-4),
    "vgg16": LossWeights(content=1.0, style=3e-3, tv=3e-4),
    "mobilenet": LossWeights(content=1.0, style=100.0, tv=1e-5),
}


# ----------------------------------------------------------------------------------- the optimizer

def adam_update(x, grad, m, v, step, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """One Adam step on a tensor: ``(new_x, new_m, new_v)`` (``step`` counts from 1). Written out
    because the optimized image changes size from call to call.

    Args:
        x: the tensor being optimized (the step lowers the loss).
        grad: the gradient of the loss with respect to ``x``.
        m: Adam's running mean of the gradient, shaped like ``x`` (zeros at the start).
        v: Adam's running mean of the squared gradient, shaped like ``x`` (zeros at the start).
        step: the step number, from 1, for the bias correction.
        learning_rate: the step size, in the units of ``x``.
        beta_1: the decay rate of ``m`` (Keras's default).
        beta_2: the decay rate of ``v`` (Keras's default).
        epsilon: added to the denominator for numerical stability.

    Example::

        x, m, v = adam_update(x, tape.gradient(loss, x), m, v, step=1.0, learning_rate=8.0)

    Taught in chapter 19."""
    m = beta_1 * m + (1.0 - beta_1) * grad
    v = beta_2 * v + (1.0 - beta_2) * tf.square(grad)
    m_hat = m / (1.0 - tf.pow(beta_1, step))
    v_hat = v / (1.0 - tf.pow(beta_2, step))
    return x - learning_rate * m_hat / (tf.sqrt(v_hat) + epsilon), m, v


class StyleTransfer:
    """Optimize the pixels of an image against content, style and total-variation losses.

    One object per backbone and choice of layers; its compiled step takes any image size and any
    loss weights without retracing. Style transfer, texture synthesis (``content`` weight 0) and
    feature inversion (no style layers) are all this one loop::

        st = StyleTransfer(dlpy.models.load_backbone("mobilenet"))
        image, progress = st.transfer(content_image, style_image, steps=300)

    Taught in chapter 19.
    """

    def __init__(self, backbone, content_layer: str | None = None, style_layers=None, *,
                 preprocess=None, jit_compile: bool = False):
        self.model, self.preprocess, name = backbone_parts(backbone, preprocess)
        defaults = STYLE_LAYERS.get(name)
        if content_layer is None or style_layers is None:
            if defaults is None:
                raise ValueError(f"No default style layers for {name!r}: pass content_layer= and style_layers=. "
                                 f"Defaults exist for {', '.join(STYLE_LAYERS)}.")
            content_layer = content_layer or defaults.content
            style_layers = defaults.style if style_layers is None else style_layers
        if isinstance(style_layers, str):
            raise TypeError(f"style_layers is a list of layer names; got the string {style_layers!r}: pass "
                            f"[{style_layers!r}] for one layer.")
        if not isinstance(content_layer, str):
            raise TypeError(f"content_layer is one layer name, got {content_layer!r}.")
        self.content_layer = content_layer
        self.style_layers = tuple(style_layers)
        self.default_weights = DEFAULT_WEIGHTS.get(name, LossWeights(1.0, 1.0, 1e-5))
        # BatchNormalization folded (inference only, faster); unknown names -> ValueError
        extractor = feature_model(self.model, [content_layer, *self.style_layers], fold_batch_norm=True)
        self.extractor = extractor
        self._style_channels = [int(t.shape[-1]) for t in extractor.outputs[1:]] if self.style_layers else []
        self._content_channels = int(extractor.outputs[0].shape[-1]) if self.style_layers else \
            int(extractor.output.shape[-1])
        self.jit_compile = jit_compile
        self.step = self.make_step(compiled=True, jit_compile=jit_compile)

    # -- features and targets
    def features(self, images):
        """``(content_features, [style_features, ...])`` of a batch of RGB 0-255 images."""
        outputs = self.extractor(self.preprocess(images))
        if not self.style_layers:
            return outputs, []
        return outputs[0], list(outputs[1:])

    def content_target(self, image) -> tf.Tensor:
        """The content layer's features of one image, ``(1, h, w, C)``."""
        return self.features(single_image(image, RGB, min_size=8)[tf.newaxis])[0]

    def style_target(self, image, scale: float = 1.0) -> tuple[tf.Tensor, ...]:
        """The Gram matrices of one style image at every style layer. ``scale`` resizes the style image
        first: a smaller style image gives larger brush strokes relative to the output."""
        image = single_image(image, RGB, min_size=8, name="style image")
        if scale != 1.0:
            height, width = image.shape[:2]
            image = resize(image, (max(8, round(height * scale)), max(8, round(width * scale))))
        _, style_features = self.features(image[tf.newaxis])
        return tuple(gram_matrix(f)[0] for f in style_features)

    @staticmethod
    def blend(targets, weights) -> tuple[tf.Tensor, ...]:
        """Mix several styles' Gram matrices: ``sum_i w_i G_i`` per layer (weights normalized to 1).
        Matching the mix minimizes the weighted sum of the separate style losses."""
        weights = np.asarray(weights, dtype="float32")
        if len(weights) != len(targets) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(f"Give one non-negative weight per style ({len(targets)}), not all zero; got {weights}")
        weights = weights / weights.sum()
        return tuple(sum(float(w) * t[i] for w, t in zip(weights, targets)) for i in range(len(targets[0])))

    # -- the losses and the compiled step
    def losses(self, image, content_target, style_targets, weights) -> tf.Tensor:
        """``[total, content, style, tv]`` (weighted) for a batch of images."""
        content_features, style_features = self.features(image)
        content = content_loss(content_target, content_features)
        style = tf.constant(0.0)
        for target, features in zip(style_targets, style_features):
            style += style_loss(target, features) / len(style_features)
        tv = total_variation_loss(image)
        weighted = tf.stack([content, style, tv]) * weights
        return tf.concat([[tf.reduce_sum(weighted)], weighted], axis=0)

    def _step(self, image, m, v, step, content_target, style_targets, weights, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(image)
            losses = self.losses(image[tf.newaxis], content_target, style_targets, weights)
            total = losses[0]
        grad = tape.gradient(total, image)
        image, m, v = adam_update(image, grad, m, v, step, learning_rate)
        return tf.clip_by_value(image, 0.0, 255.0), m, v, losses

    def make_step(self, compiled: bool = True, jit_compile: bool = False):
        """The optimization step ``(image, m, v, step, content_target, style_targets, weights, lr) ->
        (image, m, v, losses)``: a ``tf.function`` with an ``input_signature`` (any image size, any
        weights, no retracing), or the plain Python function when ``compiled=False`` (eager mode)."""
        if not compiled:
            return self._step
        signature = [
            tf.TensorSpec((None, None, 3), tf.float32),  # image
            tf.TensorSpec((None, None, 3), tf.float32),  # Adam m
            tf.TensorSpec((None, None, 3), tf.float32),  # Adam v
            tf.TensorSpec((), tf.float32),  # step number, from 1
            tf.TensorSpec((1, None, None, self._content_channels), tf.float32),  # content target
            tuple(tf.TensorSpec((c, c), tf.float32) for c in self._style_channels),  # style Grams
            tf.TensorSpec((3,), tf.float32),  # loss weights
            tf.TensorSpec((), tf.float32),  # learning rate
        ]
        return tf.function(self._step, input_signature=signature, jit_compile=jit_compile)

    # -- the loop
    def run(self, init, content_target=None, style_targets=(), weights: LossWeights | None = None,
            steps: int = 300, learning_rate: float = 8.0, display: Display | None = None):
        """Optimize the pixels of ``init`` for ``steps`` Adam steps against the weighted losses.

        Args:
            init: the starting image, RGB 0-255 (H, W, 3): the content photo, or noise.
            content_target: the content layer's features to match (:meth:`content_target`), or
                ``None`` for no content term (texture synthesis).
            style_targets: one Gram matrix per style layer (:meth:`style_target`, :meth:`blend`).
            weights: the content, style and total-variation weights (default: the backbone's).
            steps: Adam steps; learning_rate: their size, in pixel units.
            display: how progress is shown (:class:`dlpy.generative.progress.Display`).

        Returns ``(image, progress)``: the losses per step and a few snapshots are in ``progress``.

        Example::

            image, progress = transfer.run(photo, transfer.content_target(photo), transfer.style_target(style))

        Taught in chapter 19."""
        image = single_image(init, RGB, min_size=8, name="initial image")
        weights = weights or self.default_weights
        if len(style_targets) != len(self.style_layers):
            raise ValueError(f"Expected {len(self.style_layers)} style targets (one per style layer), "
                             f"got {len(style_targets)}.")
        if content_target is None:
            content_target = tf.zeros_like(self.content_target(image))
            weights = LossWeights(0.0, weights.style, weights.tv)
        weight_tensor = weights.as_tensor()
        m = tf.zeros_like(image)
        v = tf.zeros_like(image)
        style_targets = tuple(tf.convert_to_tensor(t, tf.float32) for t in style_targets)
        lr = tf.constant(learning_rate, tf.float32)
        progress = (display or Display()).progress(steps)
        for step in range(1, steps + 1):
            image, m, v, losses = self.step(image, m, v, tf.constant(step, tf.float32), content_target,
                                            style_targets, weight_tensor, lr)
            due = step % progress.every == 0 or step % progress.snapshot_every == 0 or step == steps
            values = losses.numpy()
            progress.update(step, image if due else None, loss=values[0], content=values[1], style=values[2],
                            tv=values[3])
        return image.numpy(), progress

    def transfer(self, content_image, style_image, *, weights: LossWeights | None = None, style_scale: float = 1.0,
                 steps: int = 300, learning_rate: float = 8.0, display: Display | None = None):
        """Style transfer: start from the content photo, match its content features and the style
        image's Gram matrices (the style image resized by ``style_scale`` first). The other arguments
        are :meth:`run`'s.

        Args:
            content_image: the photo to repaint, RGB 0-255 (H, W, 3); also the starting image.
            style_image: the image whose style is copied, RGB 0-255, of any size.
            weights: the content, style and total-variation weights (default: the backbone's).
            style_scale: the factor the style image is resized by: below 1, larger brush strokes.
            steps: Adam steps.
            learning_rate: the size of the steps, in pixel units.
            display: how progress is shown (:class:`dlpy.generative.progress.Display`).

        Returns ``(image, progress)``.

        Example::

            image, progress = StyleTransfer(load_backbone("vgg19")).transfer(photo, painting, steps=300)

        Taught in chapter 19."""
        content_image = single_image(content_image, RGB, min_size=8, name="content image")
        return self.run(content_image, self.content_target(content_image),
                        self.style_target(style_image, style_scale), weights, steps, learning_rate, display)


def noise_image(size, seed: int = 0, mean: float = 127.5, spread: float = 20.0) -> np.ndarray:
    """A gray image with a little uniform noise, the start of texture synthesis and feature
    inversion. Taught in chapter 19."""
    height, width = (size, size) if isinstance(size, int) else size
    rng = np.random.default_rng(seed)
    return (mean + rng.uniform(-spread, spread, (height, width, 3))).astype("float32")


def synthesize_texture(backbone, style_image, size=128, *, steps: int = 300, learning_rate: float = 8.0,
                       seed: int = 0, transfer: StyleTransfer | None = None, weights: LossWeights | None = None,
                       display: Display | None = None):
    """Texture synthesis (Gatys et al. 2015): from noise of ``size`` (seeded by ``seed``), match only
    the style image's Gram matrices.

    Args:
        backbone: a :class:`dlpy.models.Backbone` or Keras model (unused when ``transfer`` is given).
        style_image: the texture to imitate, RGB 0-255 (H, W, 3).
        size: the output's size, an int (square) or (height, width).
        steps, learning_rate, weights, display: as in :meth:`StyleTransfer.run`.
        seed: of the starting noise.
        transfer: an existing :class:`StyleTransfer` to reuse (its compiled step too); make one with
            ``StyleTransfer(backbone, style_layers=[...])`` to choose the style layers.

    Returns ``(image, progress)``. Example: ``texture, _ = synthesize_texture(vgg, starry_night, 128)``.
    Taught in chapter 19."""
    transfer = transfer or StyleTransfer(backbone)
    return transfer.run(noise_image(size, seed), None, transfer.style_target(style_image),
                        weights or transfer.default_weights, steps, learning_rate, display)


def invert_features(backbone, image, layer: str, *, steps: int = 200, learning_rate: float = 8.0,
                    tv_weight: float = 3e-5, seed: int = 0, display: Display | None = None):
    """Feature inversion (Mahendran & Vedaldi 2015): from noise, find an image whose features at
    ``layer`` match those of ``image``, with a total-variation prior. The feature loss is divided by
    the mean square of the target features, so ``tv_weight`` means the same at every layer.
    ``steps``, ``learning_rate`` and ``display`` are :meth:`StyleTransfer.run`'s; ``seed`` seeds the
    starting noise.

    Args:
        backbone: a :class:`dlpy.models.Backbone` or Keras model.
        image: the photo whose features are inverted, RGB 0-255 (H, W, 3); the result has its size.
        layer: the layer whose features are matched (a name or dotted path).
        steps: Adam steps.
        learning_rate: the size of the steps, in pixel units.
        tv_weight: the weight of the total-variation prior, relative to the normalized feature loss.
        seed: the seed of the starting noise.
        display: how progress is shown (:class:`dlpy.generative.progress.Display`).

    Returns ``(image, progress)``.

    Example::

        image, _ = invert_features(vgg, photo, "block3_conv1")

    Taught in chapter 19."""
    transfer = StyleTransfer(backbone, content_layer=layer, style_layers=())
    image = single_image(image, RGB, min_size=8)
    target = transfer.content_target(image)
    relative = 1.0 / max(float(tf.reduce_mean(tf.square(target))), 1e-12)
    return transfer.run(noise_image(image.shape[:2], seed), target, (),
                        LossWeights(relative, 0.0, tv_weight), steps, learning_rate, display)
