"""Convnet builders (dlpy.models.convnets) and the backbones' preprocessing, checked against the book's
parameter counts, Keras's own preprocess_input, and hand-built models with known answers."""

import keras
import numpy as np
import pytest

from dlpy.models import Backbone, load_backbone
from dlpy.models.backbones import BACKBONES
from dlpy.models.convnets import (
    BOOK_FILTERS,
    data_augmentation,
    extract_features,
    feature_classifier,
    mnist_convnet,
    mnist_dense,
    pretrained_classifier,
    small_convnet,
    unfreeze_top,
)


def test_book_parameter_counts():
    # The book's model.summary() totals: chapter 05's first convnet and chapter 06's from-scratch model.
    assert mnist_convnet().count_params() == 104_202
    assert mnist_dense().count_params() == 28 * 28 * 512 + 512 + 512 * 10 + 10
    assert small_convnet().count_params() == 991_041
    assert small_convnet(augmentation=True, dropout=0.5).count_params() == 991_041
    assert feature_classifier((5, 5, 512)).count_params() == 5 * 5 * 512 * 256 + 256 + 257


def test_small_convnet_shapes_and_bad_input():
    model = small_convnet((96, 96, 3), filters=(8, 8, 8, 8, 8))
    # 3x3 valid convs and 2x2 pools: 96 -> 94 -> 47 -> 45 -> 22 -> 20 -> 10 -> 8 -> 4 -> 2
    assert model.get_layer("conv2d_5").output.shape == (None, 2, 2, 8)
    assert model.output.shape == (None, 1)
    with pytest.raises(ValueError, match="too small"):
        small_convnet((60, 60, 3))
    with pytest.raises(ValueError, match="dropout"):
        small_convnet(dropout=1.5)


def _toy_images(n=64, size=16, seed=0):
    """Class 1 has a bright top-left quarter, class 0 a bright bottom-right one."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 60, (n, size, size, 3)).astype("float32")
    y = np.arange(n) % 2
    half = size // 2
    x[y == 1, :half, :half] += 180
    x[y == 0, half:, half:] += 180
    return x, y


def test_tiny_convnet_loss_drops():
    keras.utils.set_random_seed(0)
    x, y = _toy_images()
    model = small_convnet((16, 16, 3), filters=(4, 8), dropout=0.0)
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    after, accuracy = model.evaluate(x, y, verbose=0)
    assert after < 0.7 * before
    assert accuracy > 0.9


def test_augmentation_is_identity_at_inference_only():
    x = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    augment = data_augmentation(seed=3)
    np.testing.assert_allclose(np.asarray(augment(x, training=False)), x)
    assert not np.allclose(np.asarray(augment(x, training=True)), x)


@pytest.mark.parametrize(
    "name, reference",
    [
        ("mobilenet", keras.applications.mobilenet.preprocess_input),
        ("vgg16", keras.applications.vgg16.preprocess_input),
        ("vgg19", keras.applications.vgg19.preprocess_input),
        ("xception", keras.applications.xception.preprocess_input),
    ],
)
def test_backbone_preprocessing_matches_keras(name, reference):
    x = np.random.default_rng(2).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    ours = np.asarray(BACKBONES[name].preprocess(x))
    theirs = np.asarray(reference(x.copy()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(BACKBONES[name].deprocess(ours), x, rtol=1e-5, atol=1e-3)


def test_loaded_mobilenet_applies_its_preprocessing():
    backbone = load_backbone("mobilenet")
    x = np.random.default_rng(3).uniform(0, 255, (1, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(backbone.preprocess(x)),
                               keras.applications.mobilenet.preprocess_input(x.copy()), atol=1e-5)


def _tiny_backbone():
    """A small stand-in for a pretrained base, with a BatchNormalization layer."""
    inputs = keras.Input(shape=(None, None, 3))
    x = keras.layers.Conv2D(4, 3, name="conv_a")(inputs)
    x = keras.layers.BatchNormalization(name="bn_a")(x)
    x = keras.layers.Conv2D(3, 3, strides=2, name="conv_b")(x)
    x = keras.layers.BatchNormalization(name="bn_b")(x)
    x = keras.layers.ReLU(name="relu_b")(x)
    model = keras.Model(inputs, x, name="tiny_base")
    model.trainable = False
    spec = BACKBONES["mobilenet"]
    return Backbone("tiny", model, spec.preprocess, spec.deprocess, 16, "random")


def _batches(x, y, batch_size=5):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


def test_extract_features_matches_the_model_on_preprocessed_images():
    keras.utils.set_random_seed(4)
    backbone = _tiny_backbone()
    x, y = _toy_images(n=12, size=12)
    features, labels = extract_features(backbone, _batches(x, y))
    expected = backbone.model.predict(x / 127.5 - 1.0, verbose=0)
    assert features.shape == (12, 4, 4, 3)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(labels, y)
    bare, _ = extract_features(backbone.model, _batches(x, y))  # a bare model: no preprocessing
    np.testing.assert_allclose(bare, backbone.model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_frozen_base_stays_fixed_and_head_learns():
    keras.utils.set_random_seed(5)
    backbone = _tiny_backbone()
    base_before = [w.copy() for w in backbone.model.get_weights()]
    model = pretrained_classifier(backbone, input_shape=(16, 16, 3), augmentation=True, units=8)
    head_before = model.get_layer("dense").get_weights()[0].copy()
    x, y = _toy_images(n=20)
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    for before, after in zip(base_before, backbone.model.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(head_before, model.get_layer("dense").get_weights()[0])


def test_unfreeze_top_trains_only_the_top_and_keeps_batchnorm_statistics():
    keras.utils.set_random_seed(6)
    backbone = _tiny_backbone()
    model = pretrained_classifier(backbone, input_shape=(16, 16, 3), augmentation=False, units=8)
    assert unfreeze_top(backbone, 3) == ["conv_b"]  # conv_b, bn_b (kept frozen), relu_b (no weights)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="binary_crossentropy")
    conv_a, conv_b = (backbone.model.get_layer(n).get_weights()[0].copy() for n in ("conv_a", "conv_b"))
    bn_b = [w.copy() for w in backbone.model.get_layer("bn_b").get_weights()]
    x, y = _toy_images(n=20)
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    np.testing.assert_array_equal(conv_a, backbone.model.get_layer("conv_a").get_weights()[0])
    assert not np.allclose(conv_b, backbone.model.get_layer("conv_b").get_weights()[0])
    for before, after in zip(bn_b, backbone.model.get_layer("bn_b").get_weights()):
        np.testing.assert_array_equal(before, after)  # BN in inference mode: moving statistics unchanged
    with pytest.raises(ValueError, match="n_layers"):
        unfreeze_top(backbone, 0)


def test_batch_norm_option_structure_and_counts():
    model = small_convnet(batch_norm=True)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == len(BOOK_FILTERS)
    assert not any(model.get_layer(f"conv2d_{i + 1}").use_bias for i in range(len(BOOK_FILTERS)))
    # The book's 991,041 without the convolutions' biases, plus gamma, beta, mean, variance per channel.
    assert model.count_params() == 991_041 - sum(BOOK_FILTERS) + 4 * sum(BOOK_FILTERS)


def test_weight_averaging_ends_with_the_moving_average():
    keras.utils.set_random_seed(0)
    x, y = _toy_images(n=48)
    model = small_convnet((16, 16, 3), filters=(4, 8), batch_norm=True, weight_averaging=True)
    seen = []

    class RecordWeights(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append([np.array(w) for w in self.model.trainable_weights])

    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[RecordWeights()])
    average = seen[0]  # Keras starts the average at the weights after the first step
    for weights in seen[1:]:
        average = [0.99 * a + 0.01 * w for a, w in zip(average, weights)]
    final = [np.asarray(w) for w in model.trainable_weights]
    assert any(np.abs(f - w).max() > 1e-4 for f, w in zip(final, seen[-1]))  # not the last step's weights
    for f, a in zip(final, average):
        np.testing.assert_allclose(f, a, rtol=1e-4, atol=1e-6)
