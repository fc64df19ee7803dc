"""Building blocks of modern convnets (the book's 2nd edition, 9.3): residual blocks, with an
identity or a projection shortcut, convolutions followed by batch normalization before their
activation, and depthwise separable convolutions. Taught in chapter 15.
"""

from __future__ import annotations

import keras
from keras import layers

from dlpy.course.arguments import integer_at_least


def conv_bn_relu(x, filters: int, kernel_size: int = 3, *, separable: bool = False, name: str | None = None):
    """A convolution without bias (the normalization's shift replaces it), then
    ``BatchNormalization``, then ReLU: the book's placement, normalization before the activation.
    ``separable=True`` uses a ``SeparableConv2D``. Taught in chapter 15."""
    convolution = layers.SeparableConv2D if separable else layers.Conv2D
    prefix = f"{name}_" if name else ""
    x = convolution(filters, kernel_size, padding="same", use_bias=False, name=f"{prefix}conv" if name else None)(x)
    x = layers.BatchNormalization(name=f"{prefix}bn" if name else None)(x)
    return layers.Activation("relu", name=f"{prefix}relu" if name else None)(x)


def residual_block(x, filters: int, *, pooling: bool = False, batch_norm: bool = True, separable: bool = False,
                   name: str | None = None):
    """Two 3x3 convolutions, optionally max-pooled by 2, added to the block's input. The shortcut is
    the identity when shapes match, else a **projection**: a 1x1 convolution to ``filters`` channels,
    with stride 2 when the block pools.

    Args:
        x: the block's input tensor, ``(batch, height, width, channels)``.
        filters: channels of both convolutions (and of the output).
        pooling: halve the resolution with 2x2 max pooling (the shortcut then strides by 2).
        batch_norm: convolution without bias, batch normalization, then ReLU (the book's placement);
            ``False``: plain ReLU convolutions with bias.
        separable: depthwise separable convolutions instead of regular ones.
        name: prefix of the layers' names (``name_conv_1``, ``name_projection``, ...).

    Example::

        x = residual_block(x, 64, pooling=True, name="block_1")

    Taught in chapter 15."""
    filters = integer_at_least("filters", filters)
    shortcut = x
    prefix = f"{name}_" if name else ""
    for index in (1, 2):
        if batch_norm:
            x = conv_bn_relu(x, filters, separable=separable, name=f"{prefix}{index}" if name else None)
        else:
            convolution = layers.SeparableConv2D if separable else layers.Conv2D
            x = convolution(filters, 3, padding="same", activation="relu",
                            name=f"{prefix}conv_{index}" if name else None)(x)
    if pooling:
        x = layers.MaxPooling2D(2, padding="same", name=f"{prefix}pool" if name else None)(x)
    if pooling or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=2 if pooling else 1, name=f"{prefix}projection" if name else None
                                 )(shortcut)
    return layers.Add(name=f"{prefix}add" if name else None)([x, shortcut])


def deep_stack(input_shape, num_classes: int, *, depth: int = 12, filters: int = 32, residual: bool = True,
               name: str | None = None) -> keras.Model:
    """A first 3x3 convolution, then ``depth`` 3x3 ReLU convolutions (no normalization) in pairs,
    with or without a shortcut around each pair, then global pooling and a softmax: the experiment
    that shows what residual connections do for a deep stack.

    Args:
        input_shape: one image's shape, e.g. ``(32, 32, 3)``.
        num_classes: outputs of the softmax.
        depth: convolutions after the first one (even: one block per pair).
        filters: channels of every convolution.
        residual: add a shortcut around each pair.
        name: the model's name (default ``residual_stack`` or ``plain_stack``).

    Example::

        plain, residual = (deep_stack((32, 32, 3), 10, residual=r) for r in (False, True))

    Taught in chapter 15."""
    depth = integer_at_least("depth", depth, minimum=2)
    if depth % 2:
        raise ValueError(f"depth counts convolutions in pairs (one block each): use an even number, got {depth}.")
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(inputs)
    for _ in range(depth // 2):
        if residual:
            x = residual_block(x, filters, batch_norm=False)
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs, name=name or ("residual_stack" if residual else "plain_stack"))
