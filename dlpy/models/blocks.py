"""Building blocks of modern convnets (the book's 2nd edition, 9.3): residual blocks, with an
identity or a projection shortcut, convolutions followed by batch normalization before their
activation, and depthwise separable convolutions. Taught in chapter 15.
"""

from __future__ import annotations

import keras
from keras import layers

from dlpy.course.arguments import integer_at_least
from dlpy.models.convnets import data_augmentation


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
        name: prefix of the layers' names: ``name_1_conv``, ``name_1_bn``, ``name_1_relu`` (and ``_2_``)
            with batch normalization, ``name_conv_1`` and ``name_conv_2`` without; ``name_pool``,
            ``name_projection``, ``name_add``.

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
               stem_strides: int = 1, name: str | None = None) -> keras.Model:
    """A first 3x3 convolution, then ``depth`` 3x3 ReLU convolutions (no normalization) in pairs,
    with or without a shortcut around each pair, then global pooling and a softmax: the experiment
    that shows what residual connections do for a deep stack.

    Args:
        input_shape: one image's shape, e.g. ``(32, 32, 3)``.
        num_classes: outputs of the softmax.
        depth: convolutions after the first one (even: one block per pair).
        filters: channels of every convolution.
        residual: add a shortcut around each pair.
        stem_strides: the first convolution's strides (2 quarters the work of every later layer).
        name: the model's name (default ``residual_stack`` or ``plain_stack``).

    Example::

        plain, residual = (deep_stack((32, 32, 3), 10, residual=r) for r in (False, True))

    Taught in chapter 15."""
    depth = integer_at_least("depth", depth, minimum=2)
    filters = integer_at_least("filters", filters)
    stem_strides = integer_at_least("stem_strides", stem_strides)
    num_classes = integer_at_least("num_classes", num_classes, minimum=2)
    if depth % 2:
        raise ValueError(f"depth counts convolutions in pairs (one block each): use an even number, got {depth}.")
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(filters, 3, strides=stem_strides, padding="same", activation="relu")(inputs)
    for _ in range(depth // 2):
        if residual:
            x = residual_block(x, filters, batch_norm=False)
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs, name=name or ("residual_stack" if residual else "plain_stack"))


def mini_xception(input_shape=(180, 180, 3), widths=(32, 64, 128, 256, 512), *, augmentation: bool = True,
                  dropout: float = 0.5, batch_norm_momentum: float = 0.99, name: str = "mini_xception") -> keras.Model:
    """The book's mini-Xception for cats vs dogs (2nd edition, 9.3.5), uncompiled: [augmentation] ->
    Rescaling(1/255) -> a 5x5 convolution -> per width a residual block of two (BatchNormalization,
    ReLU, 3x3 ``SeparableConv2D``) and a 3x3 max pooling with stride 2, its shortcut a strided 1x1
    projection -> global average pooling -> Dropout -> Dense(1, sigmoid), the output kept in float32
    (so the model also trains under a mixed-precision policy, chapter 16).

    Args:
        input_shape: ``(height, width, channels)`` of RGB images in [0, 255].
        widths: the channels of each residual block (each halves the resolution).
        augmentation: start with chapter 06's random flip, rotation and zoom (training only).
        dropout: the Dropout rate before the classifier, in [0, 1).
        batch_norm_momentum: the moving averages' momentum of every BatchNormalization. Keras's 0.99
            needs a few hundred steps before inference statistics settle; with 32 steps an epoch
            (1,000 images), 0.9 lets the validation accuracy mean something from the first epochs.
        name: the model's name.

    Example::

        model = mini_xception((96, 96, 3), widths=(32, 64, 128, 256), batch_norm_momentum=0.9)

    Taught in chapter 15."""
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    if not widths:
        raise ValueError("widths must name at least one block's channels, e.g. (32, 64, 128).")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if not 0.0 <= batch_norm_momentum < 1.0:
        raise ValueError(f"batch_norm_momentum must be in [0, 1) (0.99 is Keras's default), got {batch_norm_momentum}")
    widths = [integer_at_least("widths", width) for width in widths]
    inputs = keras.Input(shape=input_shape, name="image")
    x = data_augmentation()(inputs) if augmentation else inputs
    x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
    x = layers.Conv2D(widths[0], 5, use_bias=False, name="stem")(x)
    for index, filters in enumerate(widths, start=1):
        shortcut = x
        for half in (1, 2):
            x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"block_{index}_bn_{half}")(x)
            x = layers.Activation("relu", name=f"block_{index}_relu_{half}")(x)
            x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False,
                                       name=f"block_{index}_separable_{half}")(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"block_{index}_pool")(x)
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False,
                                 name=f"block_{index}_projection")(shortcut)
        x = layers.Add(name=f"block_{index}_add")([x, shortcut])
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="prediction")(x)
    return keras.Model(inputs, outputs, name=name)
