"""The course's convnets: chapter 05's MNIST convnet and its dense baseline, chapter 06's cats vs dogs
convnet trained from scratch (with optional augmentation and dropout), and chapter 07's pieces for a
pretrained backbone (feature extraction, a frozen base inside a model, fine-tuning its top layers).

Builders return compiled models (the book's optimizer and loss), ready for ``fit``.
"""

from __future__ import annotations

import weakref

import keras
from keras import layers

from dlpy.course.settings import DEFAULT_SEED

BOOK_FILTERS = (32, 64, 128, 256, 256)


def mnist_dense(input_shape=(28, 28, 1), num_classes: int = 10) -> keras.Model:
    """The densely connected baseline of chapter 05 (chapter 02's network: Dense(512) -> softmax) on
    raw 0-255 digit images (a Rescaling layer inside). Taught in chapter 05."""
    inputs = keras.Input(shape=input_shape, name="digit")
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name="mnist_dense")
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def mnist_convnet(input_shape=(28, 28, 1), num_classes: int = 10) -> keras.Model:
    """The book's first convnet: Conv2D(32) -> MaxPooling -> Conv2D(64) -> MaxPooling -> Conv2D(128)
    -> Flatten -> softmax, on raw 0-255 images (Rescaling inside). Taught in chapter 05."""
    inputs = keras.Input(shape=input_shape, name="digit")
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    x = layers.Conv2D(32, 3, activation="relu", name="conv2d_1")(x)
    x = layers.MaxPooling2D(2, name="max_pooling2d_1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2d_2")(x)
    x = layers.MaxPooling2D(2, name="max_pooling2d_2")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv2d_3")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name="mnist_convnet")
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data_augmentation(flip: str = "horizontal", rotation: float = 0.1, zoom: float = 0.2,
                      seed: int | None = DEFAULT_SEED) -> keras.Sequential:
    """The book's augmentation stage: random horizontal flip, rotation (fraction of a full turn) and
    zoom. Active only in training; the identity at inference. Taught in chapter 06."""
    return keras.Sequential(
        [
            layers.RandomFlip(flip, seed=seed),
            layers.RandomRotation(rotation, seed=seed),
            layers.RandomZoom(zoom, seed=seed),
        ],
        name="data_augmentation",
    )


def _conv_output_size(size: int, blocks: int) -> int:
    for block in range(blocks):
        size -= 2  # 3x3 "valid" convolution
        if block < blocks - 1:
            size //= 2  # 2x2 max pooling between blocks
    return size


def small_convnet(input_shape=(180, 180, 3), augmentation: bool = False, dropout: float = 0.0,
                  filters=BOOK_FILTERS, learning_rate: float = 1e-3, batch_norm: bool = False,
                  weight_averaging: bool = False) -> keras.Model:
    """The book's cats vs dogs convnet trained from scratch: [augmentation] -> Rescaling(1/255) ->
    Conv2D(32..256, 3x3) blocks with 2x2 max pooling between them -> Flatten -> [Dropout] ->
    Dense(1, sigmoid); compiled with RMSprop and binary cross-entropy.

    Inputs are RGB images in [0, 255]. ``filters`` gives one 3x3 convolution per entry (default the
    book's 32, 64, 128, 256, 256). Two options help a narrow network learn in few epochs (the CPU
    profiles of chapter 06 use them; the book's model has neither):

    * ``batch_norm``: each convolution is followed by BatchNormalization before its ReLU (the book
      introduces it in its chapter 9): the training signal reaches every layer at a steady scale.
    * ``weight_averaging``: the optimizer keeps an exponential moving average of the weights
      (momentum 0.99, about the last 100 steps) and ``fit`` ends by loading it, which smooths out
      the step-to-step noise at the end of training (Polyak averaging).

    Args:
        input_shape: ``(height, width, channels)`` of the input images.
        augmentation: start with :func:`data_augmentation` (random flip, rotation and zoom, in training only).
        dropout: the Dropout rate before the classifier, in [0, 1) (0: no Dropout layer).
        filters: the filters of each 3x3 convolution, one block per entry.
        learning_rate: RMSprop's learning rate.
        batch_norm: BatchNormalization after each convolution, as above.
        weight_averaging: train with a moving average of the weights and end on it, as above.

    Example::

        model = small_convnet(augmentation=True, dropout=0.5)

    Taught in chapter 06; its layers are visualized in chapter 08.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    smallest = _conv_output_size(min(input_shape[:2]), len(filters))
    if smallest < 1:
        raise ValueError(f"Images of {input_shape[:2]} are too small for {len(filters)} conv blocks "
                         "(the last feature map would be empty): use larger images or fewer filters.")
    inputs = keras.Input(shape=input_shape, name="image")
    x = data_augmentation()(inputs) if augmentation else inputs
    x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
    for i, count in enumerate(filters):
        if batch_norm:  # the normalization's shift replaces the convolution's bias
            x = layers.Conv2D(count, 3, use_bias=False, name=f"conv2d_{i + 1}")(x)
            x = layers.BatchNormalization(name=f"batch_normalization_{i + 1}")(x)
            x = layers.ReLU(name=f"relu_{i + 1}")(x)
        else:
            x = layers.Conv2D(count, 3, activation="relu", name=f"conv2d_{i + 1}")(x)
        if i < len(filters) - 1:
            x = layers.MaxPooling2D(2, name=f"max_pooling2d_{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="prediction")(x)
    name = "convnet_from_scratch" + ("_augmented" if augmentation else "")
    model = keras.Model(inputs, outputs, name=name)
    averaging = {"use_ema": True, "ema_momentum": 0.99} if weight_averaging else {}
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate, **averaging), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


# --- chapter 07: a pretrained convolutional base ---------------------------------------------------


_FORWARD_PASSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled_forward(model: keras.Model, preprocess):
    """One compiled inference pass per (model, preprocess), kept for later calls (no retracing)."""
    import tensorflow as tf

    from dlpy.models.introspection import inference_model

    cache = _FORWARD_PASSES.setdefault(model, {})
    if preprocess not in cache:
        folded = inference_model(model)  # BatchNormalization folded into the convolutions: faster

        @tf.function(reduce_retracing=True)
        def forward(images):
            return folded(preprocess(images) if preprocess is not None else images, training=False)

        cache[preprocess] = forward
    return cache[preprocess]


def extract_features(backbone, dataset):
    """Run a pretrained base once over a dataset of ``(images in [0, 255], labels)`` and return
    ``(features, labels)`` as NumPy arrays: the "fast feature extraction" of chapter 07.

    ``backbone`` is a :class:`dlpy.models.Backbone` (its own ``preprocess`` is applied) or a bare
    Keras model (then images go in unchanged). The forward pass is one ``tf.function`` (traced once
    per model, with BatchNormalization folded into the convolutions); the next batch is prepared by
    the dataset's prefetch while this one runs. Taught in chapter 07.
    """
    import numpy as np

    forward = _compiled_forward(getattr(backbone, "model", backbone), getattr(backbone, "preprocess", None))
    features, labels = [], []
    for images, batch_labels in dataset:
        features.append(forward(images).numpy())
        labels.append(np.asarray(batch_labels))
    if not features:
        raise ValueError("The dataset is empty: no features to extract.")
    return np.concatenate(features), np.concatenate(labels)


def _dense_head(x, units: int, dropout: float):
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(units, activation="relu", name="dense")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return layers.Dense(1, activation="sigmoid", name="prediction")(x)


def feature_classifier(feature_shape, units: int = 256, dropout: float = 0.5,
                       learning_rate: float = 1e-3) -> keras.Model:
    """The small densely connected classifier trained on precomputed features: Flatten ->
    Dense(256, relu) -> Dropout(0.5) -> Dense(1, sigmoid); RMSprop, binary cross-entropy.
    Taught in chapter 07."""
    inputs = keras.Input(shape=tuple(feature_shape), name="features")
    model = keras.Model(inputs, _dense_head(inputs, units, dropout), name="feature_classifier")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def pretrained_classifier(backbone, input_shape=(180, 180, 3), augmentation: bool = True, units: int = 256,
                          dropout: float = 0.5, learning_rate: float = 1e-3) -> keras.Model:
    """An end-to-end classifier around a pretrained base: [augmentation] -> the backbone's own
    preprocessing -> the base (always in inference mode, so its BatchNormalization statistics stay
    those of ImageNet even when fine-tuned) -> Flatten -> Dense(256) -> Dropout -> Dense(1, sigmoid).

    The base keeps its ``trainable`` setting (frozen as :func:`dlpy.models.load_backbone` returns
    it). Inputs are RGB images in [0, 255].

    Args:
        backbone: a :class:`dlpy.models.Backbone` (its ``model``, ``preprocess`` and ``name`` are used).
        input_shape: ``(height, width, channels)`` of the input images.
        augmentation: start with :func:`data_augmentation` (random flip, rotation and zoom, in training only).
        units: the units of the head's hidden Dense layer.
        dropout: the Dropout rate of the head, in [0, 1) (0: no Dropout layer).
        learning_rate: RMSprop's learning rate.

    Example::

        model = pretrained_classifier(load_backbone("vgg16"), augmentation=True)

    Taught in chapter 07.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = data_augmentation()(inputs) if augmentation else inputs
    x = backbone.preprocess(x)
    x = backbone.model(x, training=False)
    model = keras.Model(inputs, _dense_head(x, units, dropout), name=f"{backbone.name}_classifier")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def unfreeze_top(base: keras.Model, n_layers: int, *, keep_batchnorm_frozen: bool = True) -> list[str]:
    """Make the last ``n_layers`` layers of a pretrained base trainable (all others frozen) and return
    their names. BatchNormalization layers stay frozen by default. Recompile the model afterwards
    (with a low learning rate) for the change to take effect. Taught in chapter 07."""
    base = getattr(base, "model", base)
    weighted = list(base.layers)
    if not 0 < n_layers <= len(weighted):
        raise ValueError(f"n_layers must be between 1 and {len(weighted)} (the base's layer count), got {n_layers}")
    base.trainable = True
    unfrozen = []
    for i, layer in enumerate(weighted):
        in_top = i >= len(weighted) - n_layers
        frozen_bn = keep_batchnorm_frozen and isinstance(layer, layers.BatchNormalization)
        layer.trainable = in_top and not frozen_bn
        if layer.trainable and layer.weights:
            unfrozen.append(layer.name)
    return unfrozen
