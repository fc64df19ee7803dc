"""PixelCNN (van den Oord et al. 2016) on binarized images: masked convolutions that make each
pixel's prediction depend only on the pixels before it in raster order, and batched autoregressive
sampling in one compiled loop. Taught in chapter 21 (a closing section of the generative models).

A mask of type **A** (first layer) hides the center pixel and everything after it, so the network never
sees the pixel it predicts; type **B** (later layers) lets a position see its own earlier features,
which were themselves computed only from earlier pixels.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from dlpy.data.mnist import MNIST_SHAPE
from dlpy.images import check_image_tensor, to_unit_range


def causal_mask(kernel_size: int, mask_type: str) -> np.ndarray:
    """The ``(k, k)`` 0/1 mask: rows above the center, and the center row left of the center; the
    center itself only for type ``"B"``. Taught in chapter 21."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type is 'A' (first layer) or 'B' (later layers), got {mask_type!r}")
    if kernel_size % 2 == 0 or kernel_size < 1:
        raise ValueError(f"A masked convolution needs an odd kernel size (it has a center), got {kernel_size}")
    center = kernel_size // 2
    mask = np.zeros((kernel_size, kernel_size), "float32")
    mask[:center, :] = 1.0
    mask[center, :center] = 1.0
    if mask_type == "B":
        mask[center, center] = 1.0
    return mask


@keras.saving.register_keras_serializable(package="dlpy")
class MaskedConv2D(layers.Conv2D):
    """A ``Conv2D`` (stride 1, ``"same"`` padding) whose kernel is multiplied by :func:`causal_mask`
    on every call, so masked weights never act, whatever the optimizer does to them. Taught in chapter 21."""

    def __init__(self, mask_type: str, filters: int, kernel_size: int, **kwargs):
        kwargs.update(padding="same", strides=1)
        super().__init__(filters, kernel_size, **kwargs)
        self.mask_type = mask_type
        self.mask = causal_mask(self.kernel_size[0], mask_type)[:, :, None, None]
        if self.kernel_size[0] != self.kernel_size[1]:
            raise ValueError(f"Use a square kernel, got {self.kernel_size}")

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * keras.ops.convert_to_tensor(self.mask, kernel.dtype))

    def get_config(self):
        config = super().get_config()
        for key in ("padding", "strides"):
            config.pop(key, None)
        return {**config, "mask_type": self.mask_type}


def build_pixelcnn(image_shape=MNIST_SHAPE, filters: int = 64, residual_blocks: int = 4,
                   block_kernel_size: int = 3) -> keras.Model:
    """Mask-A 7x7 convolution, residual blocks (1x1, mask-B ``block_kernel_size`` square, 1x1), two
    mask-B 1x1 layers and one logit per pixel: the probability that the pixel is on. Each block
    widens the field above a pixel by ``block_kernel_size // 2`` rows. Taught in chapter 21."""
    if image_shape[-1] != 1:
        raise ValueError(f"This PixelCNN models one binary channel; got images with {image_shape[-1]} channels.")
    inputs = keras.Input(shape=image_shape, name="binary_image")
    x = MaskedConv2D("A", filters, 7, activation="relu", name="masked_a")(inputs)
    for i in range(residual_blocks):
        y = layers.Conv2D(filters // 2, 1, activation="relu", name=f"block{i}_reduce")(x)
        y = MaskedConv2D("B", filters // 2, block_kernel_size, activation="relu", name=f"block{i}_masked_b")(y)
        y = layers.Conv2D(filters, 1, activation="relu", name=f"block{i}_expand")(y)
        x = layers.Add(name=f"block{i}_add")([x, y])
    for i in range(2):
        x = MaskedConv2D("B", filters, 1, activation="relu", name=f"head{i}_masked_b")(x)
    logits = layers.Conv2D(1, 1, name="logits", dtype="float32")(x)  # float32 under a mixed policy too
    return keras.Model(inputs, logits, name="pixelcnn")


def binarize(images, threshold: float = 0.5) -> np.ndarray:
    """Images as 0/1 float32 with a channel axis (a pixel is on when above ``threshold`` of full
    brightness). Taught in chapter 21."""
    return (to_unit_range(images) > threshold).astype("float32")


def negative_log_likelihood_bits(model, images, batch_size: int = 256) -> float:
    """Mean negative log-likelihood of binary images in bits per image (exact: a PixelCNN's
    likelihood is a product of per-pixel Bernoullis). Taught in chapter 21."""
    images = np.asarray(images, "float32")
    check_image_tensor(images, model.input_shape[1:], "This PixelCNN")
    logits = model.predict(images, batch_size=batch_size, verbose=0)
    nats = np.maximum(logits, 0) - logits * images + np.log1p(np.exp(-np.abs(logits)))
    return float(nats.reshape(len(images), -1).sum(axis=1).mean() / np.log(2))


def rows_above(model) -> int | None:
    """How many rows above a pixel can change the model's output at that pixel: the sum over its
    convolutions of ``(kernel_height // 2) * dilation`` (every path through the network passes at
    most all of them), or ``None`` when the model holds a layer other than stride-1 ``"same"``
    convolutions (or 1x1 ones), additions and activations, whose reach this does not know. For the chapter's
    PixelCNN (a 7x7 mask-A layer, four blocks with 5x5 mask-B layers) it is 3 + 4 * 2 = 11.
    Taught in chapter 21."""
    reach = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            if tuple(layer.strides) != (1, 1) or (layer.padding != "same" and tuple(layer.kernel_size) != (1, 1)):
                return None
            reach += (layer.kernel_size[0] // 2) * layer.dilation_rate[0]
        elif not isinstance(layer, (layers.InputLayer, layers.Add, layers.Activation, layers.ReLU)):
            return None
    return reach


def band_model(model, rows: int) -> keras.Model:
    """The same layers (shared weights) on an input of ``rows`` rows of the model's width: what
    :func:`make_sampler` runs each step on. Taught in chapter 21."""
    width, channels = model.input_shape[2:]
    return keras.models.clone_model(model, input_tensors=keras.Input((rows, width, channels)),
                                    clone_function=lambda layer: layer)


def make_sampler(model, crop_rows: bool = True):
    """A compiled sampler ``sample(count, seed) -> images``: every pixel in raster order, each drawn
    from the model's prediction given the pixels already drawn, for a whole batch at once. The loop
    over pixels is a ``tf.while_loop`` inside one ``tf.function``.

    With ``crop_rows`` (the default) each step runs the network on only the band of
    ``rows_above(model) + 1`` rows that ends at the pixel's row, not the whole image: rows below a pixel
    never reach it (the masks), nor do rows beyond the network's reach above it, so the prediction is
    the same (tested) for 12 of 28 rows' work with the chapter's PixelCNN. ``crop_rows=False``, or a
    model whose reach :func:`rows_above` cannot tell, runs on the whole image. Taught in chapter 21."""
    import tensorflow as tf

    height, width, channels = model.input_shape[1:]
    reach = rows_above(model) if crop_rows else None
    band = height if reach is None else min(height, reach + 1)
    network = band_model(model, band) if band < height else model

    @tf.function(reduce_retracing=True)
    def run(count, seed):
        images = tf.zeros((count, height, width, channels))
        for index in tf.range(height * width):  # autograph: a tf.while_loop
            row, col = index // width, index % width
            top = tf.clip_by_value(row - band + 1, 0, height - band)  # the band's first row
            rows = tf.slice(images, tf.stack([0, top, 0, 0]), [-1, band, -1, -1])
            logits = network(rows, training=False)[:, row - top, col, 0]
            uniform = tf.random.stateless_uniform((count,), seed=tf.stack([seed, index]))
            pixel = tf.cast(uniform < tf.sigmoid(logits), images.dtype)
            here = tf.reshape(tf.one_hot(index, height * width, dtype=images.dtype), (1, height, width, 1))
            images = images + here * pixel[:, None, None, None]
        return images

    def sample(count: int, seed: int = 0) -> np.ndarray:
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        return run(tf.constant(count, tf.int32), tf.constant(seed, tf.int32)).numpy()

    sample.band_rows = band
    return sample
