"""Fast feed-forward style transfer (Johnson et al. 2016; Ulyanov et al.'s instance normalization):
train a small image-transformation network once against the style-transfer losses of
:mod:`dlpy.generative.style_transfer`, then stylize any photo in one forward pass. Taught in chapter 19.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dlpy.course.arguments import integer_at_least
from dlpy.generative.progress import Display
from dlpy.generative.style_transfer import LossWeights, StyleTransfer, content_loss, style_loss, total_variation_loss
from dlpy.images import RGB, single_image

DOWNSAMPLING = 4  # two stride-2 convolutions: sizes are padded to a multiple of this


def instance_norm(name: str) -> keras.layers.Layer:
    """Instance normalization: each image's channels normalized over its own pixels, with a learned
    scale and shift (``GroupNormalization`` with one group per channel). Taught in chapter 19."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def _conv_block(x, filters, kernel, strides, name, activation=True):
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = instance_norm(f"{name}_in")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if activation else x


def transform_net(filters=(16, 32, 64), residual_blocks: int = 3, add_input: bool = True,
                  name: str = "transform_net") -> keras.Model:
    """The image-transformation network: RGB 0-255 in, RGB 0-255 out, same size (a multiple of 4).

    A 9x9 convolution, two stride-2 convolutions, ``residual_blocks`` residual blocks, two
    upsample-then-convolve blocks (no checkerboard artefacts), a 9x9 convolution to RGB; instance
    normalization after every hidden convolution. Johnson et al. use ``(32, 64, 128)`` and 5 blocks.
    ``add_input=True`` adds the photo to the output (clipped to 0-255), so the untrained network is
    close to the identity and a short training only has to learn the style; ``False`` is Johnson's.
    Taught in chapter 19.
    """
    small, medium, large = filters
    inputs = keras.Input((None, None, 3), name="photo")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="to_unit")(inputs)
    x = _conv_block(x, small, 9, 1, "down0")
    x = _conv_block(x, medium, 3, 2, "down1")
    x = _conv_block(x, large, 3, 2, "down2")
    for i in range(residual_blocks):
        shortcut = x
        x = _conv_block(x, large, 3, 1, f"res{i}a")
        x = _conv_block(x, large, 3, 1, f"res{i}b", activation=False)
        x = keras.layers.Add(name=f"res{i}_add")([shortcut, x])
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name="up1_resize")(x)
    x = _conv_block(x, medium, 3, 1, "up1")
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name="up0_resize")(x)
    x = _conv_block(x, small, 3, 1, "up0")
    x = keras.layers.Conv2D(3, 9, padding="same", activation="tanh", name="to_rgb")(x)
    if not add_input:
        return keras.Model(inputs, keras.layers.Rescaling(127.5, offset=127.5, name="to_pixels")(x), name=name)
    x = keras.layers.Rescaling(127.5, name="to_pixel_change")(x)
    x = keras.layers.Add(name="add_photo")([inputs, x])
    outputs = keras.layers.ReLU(max_value=255.0, name="clip_0_255")(x)
    return keras.Model(inputs, outputs, name=name)


def stylize(net: keras.Model, image) -> np.ndarray:
    """One forward pass of a trained network over one photo of any size (reflect-padded to a multiple
    of 4, then cropped back). Returns RGB 0-255 (H, W, 3). Taught in chapter 19."""
    image = single_image(image, RGB, min_size=8)
    height, width = image.shape[:2]
    pad_h, pad_w = -height % DOWNSAMPLING, -width % DOWNSAMPLING
    padded = tf.pad(image, [[0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")
    return net(padded[tf.newaxis], training=False)[0, :height, :width].numpy()


class FastStyleTrainer:
    """Trains a :func:`transform_net` so that ``net(photo)`` keeps the photo's content features and
    takes the style image's Gram matrices, with the losses of :class:`dlpy.generative.style_transfer.StyleTransfer`.

    ``trainer = FastStyleTrainer(net, transfer, transfer.style_target(style))``;
    ``trainer.fit(batches, steps=300)``. Taught in chapter 19.
    """

    def __init__(self, net: keras.Model, transfer: StyleTransfer, style_targets, weights: LossWeights | None = None,
                 learning_rate: float = 1e-3):
        self.net = net
        self.transfer = transfer
        self.style_targets = tuple(tf.convert_to_tensor(t, tf.float32) for t in style_targets)
        if len(self.style_targets) != len(transfer.style_layers):
            raise ValueError(f"Expected {len(transfer.style_layers)} style targets, got {len(self.style_targets)}")
        self.weights = (weights or transfer.default_weights).as_tensor()
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(net.trainable_variables)
        batch = tf.TensorSpec((None, None, None, 3), tf.float32)
        self.train_step = tf.function(self._train_step, input_signature=[batch])

    def losses(self, photos, training: bool = False) -> tf.Tensor:
        """``[total, content, style, tv]`` (weighted) of the network's output on a batch of photos."""
        stylized = self.net(photos, training=training)
        target_content, _ = self.transfer.features(photos)
        content_features, style_features = self.transfer.features(stylized)
        content = content_loss(target_content, content_features)
        style = tf.constant(0.0)
        for target, features in zip(self.style_targets, style_features):
            style += style_loss(target, features) / len(style_features)
        weighted = tf.stack([content, style, total_variation_loss(stylized)]) * self.weights
        return tf.concat([[tf.reduce_sum(weighted)], weighted], axis=0)

    def _train_step(self, photos):
        with tf.GradientTape() as tape:
            losses = self.losses(photos, training=True)
            total = losses[0]
        grads = tape.gradient(total, self.net.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.net.trainable_variables))
        return losses

    def fit(self, batches, steps: int, display: Display | None = None):
        """``steps`` training steps over ``batches`` (an iterable of (B, H, W, 3) RGB 0-255 batches,
        repeated as needed), progress shown as ``display`` says (no images: there is none to show).
        Returns a :class:`dlpy.generative.progress.Progress` with the losses per step. Taught in chapter 19."""
        integer_at_least("steps", steps)
        progress = (display or Display()).progress(steps)
        step = 0
        while step < steps:
            seen = False
            for batch in batches:
                seen = True
                losses = self.train_step(tf.convert_to_tensor(batch, tf.float32)).numpy()
                step += 1
                progress.update(step, loss=losses[0], content=losses[1], style=losses[2], tv=losses[3])
                if step >= steps:
                    break
            if not seen:
                raise ValueError("batches is empty: give at least one batch of photos.")
        return progress


def load_photos(count: int, size: int, source: str = "cats_and_dogs_small", seed: int = 0) -> np.ndarray:
    """``count`` training photos, center-cropped and resized to ``size`` x ``size``, RGB 0-255:
    the cats-vs-dogs training images, or ``source="skimage"`` for scikit-image's samples.
    Taught in chapter 19."""
    from dlpy.data import extract, load_image

    if source == "skimage":
        names = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry"]
        paths = [f"skimage:{n}" for n in names]
    elif source == "cats_and_dogs_small":
        root = extract("cats_and_dogs_small")
        paths = sorted(str(p) for p in root.rglob("train/*/*.jpg"))
        if not paths:
            raise FileNotFoundError(f"No training JPEGs under {root}/**/train/: is the archive complete?")
    else:
        raise ValueError(f"Unknown photo source {source!r}: use 'cats_and_dogs_small' or 'skimage'.")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(paths))
    chosen = [paths[order[i % len(paths)]] for i in range(count)]  # repeats only if count > len(paths)
    photos = []
    for path in chosen:
        image = load_image(path, size)  # shorter side = size
        top = (image.shape[0] - size) // 2
        left = (image.shape[1] - size) // 2
        photos.append(image[top:top + size, left:left + size])
    return np.stack(photos)
