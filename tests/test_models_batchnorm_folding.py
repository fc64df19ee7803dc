"""BatchNormalization folding (dlpy.models.batchnorm_folding, dlpy.models.introspection.inference_model):
the folded forward pass must equal Keras's own inference-mode forward pass, fold only what is safe, and
follow the weights."""

import keras
import numpy as np
import pytest
from keras import layers

from dlpy.models.batchnorm_folding import FoldedConvolution, foldable_pairs
from dlpy.models.introspection import feature_model, inference_model


def _randomize_batch_norms(model, rng):
    """Give every BatchNormalization non-trivial statistics and affine parameters."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            _randomize_batch_norms(layer, rng)
        elif isinstance(layer, layers.BatchNormalization):
            channels = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, channels).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.2, 3.0, channels).astype("float32"))
            if layer.scale:
                layer.gamma.assign(rng.uniform(0.5, 2.0, channels).astype("float32"))
            if layer.center:
                layer.beta.assign(rng.normal(0, 0.5, channels).astype("float32"))


def _folded_layers(model):
    found = []
    for layer in model.layers:
        if isinstance(layer, FoldedConvolution):
            found.append(layer.conv.name)
        elif isinstance(layer, keras.Model):
            found += _folded_layers(layer)
    return found


def _every_kind(name="every_kind"):
    inputs = keras.Input((17, 17, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="conv")(inputs)
    x = layers.BatchNormalization(name="conv_bn")(x)
    x = layers.ReLU(6.0, name="conv_relu")(x)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="valid", name="depthwise")(x)  # with a bias
    x = layers.BatchNormalization(name="depthwise_bn", epsilon=1e-3)(x)
    x = layers.ReLU(name="depthwise_relu")(x)
    x = layers.SeparableConv2D(6, 3, dilation_rate=2, padding="same", name="separable")(x)
    x = layers.BatchNormalization(center=False, name="separable_bn")(x)
    x = layers.Conv2D(5, 1, name="pointwise")(x)
    x = layers.BatchNormalization(scale=False, name="pointwise_bn")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(4, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


def test_folded_model_equals_keras_inference(rng):
    model = _every_kind()
    _randomize_batch_norms(model, rng)
    x = rng.uniform(-2, 2, (5, 17, 17, 3)).astype("float32")
    folded = inference_model(model)
    assert sorted(_folded_layers(folded)) == ["conv", "depthwise", "pointwise", "separable"]
    assert not any(isinstance(layer, layers.BatchNormalization) for layer in folded.layers)
    expected = np.asarray(model(x, training=False))
    np.testing.assert_allclose(np.asarray(folded(x)), expected, rtol=1e-5, atol=1e-6)


def test_fold_formula_against_numpy(rng):
    # A 1x1 convolution is a matmul over channels: BN(x W + b) written out in NumPy.
    inputs = keras.Input((4, 4, 3))
    x = layers.Conv2D(2, 1, name="conv")(inputs)
    outputs = layers.BatchNormalization(epsilon=0.01, name="bn")(x)
    model = keras.Model(inputs, outputs)
    _randomize_batch_norms(model, rng)
    conv, bn = model.get_layer("conv"), model.get_layer("bn")
    conv.bias.assign(rng.normal(size=2).astype("float32"))
    x = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    w, b = np.asarray(conv.kernel)[0, 0], np.asarray(conv.bias)
    mean, var = np.asarray(bn.moving_mean), np.asarray(bn.moving_variance)
    gamma, beta = np.asarray(bn.gamma), np.asarray(bn.beta)
    expected = gamma * (x @ w + b - mean) / np.sqrt(var + 0.01) + beta
    np.testing.assert_allclose(np.asarray(inference_model(model)(x)), expected, rtol=1e-5, atol=1e-5)


def test_only_safe_pairs_are_folded(rng):
    inputs = keras.Input((8, 8, 3))
    shared = layers.Conv2D(4, 3, padding="same", name="shared_conv")(inputs)  # also feeds the skip branch
    x = layers.BatchNormalization(name="shared_bn")(shared)
    x = layers.Add(name="add")([x, shared])
    x = layers.Conv2D(4, 3, activation="relu", name="activated_conv")(x)  # BN after a ReLU: not foldable
    x = layers.BatchNormalization(name="activated_bn")(x)
    x = layers.Dense(3, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)  # not after a convolution
    model = keras.Model(inputs, x)
    _randomize_batch_norms(model, rng)
    assert foldable_pairs(model) == {}
    x = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(inference_model(model)(x)), np.asarray(model(x, training=False)),
                               rtol=1e-5, atol=1e-6)


def test_nested_and_sequential_models_are_folded(rng):
    base = _every_kind("base")
    inputs = keras.Input((17, 17, 3))
    outer = keras.Model(inputs, layers.Dense(1, activation="sigmoid", name="head")(base(inputs)), name="outer")
    sequential = keras.Sequential([keras.Input((17, 17, 3)), layers.Conv2D(4, 3, name="seq_conv"),
                                   layers.BatchNormalization(name="seq_bn"), layers.Flatten()])
    for model in (outer, sequential):
        _randomize_batch_norms(model, rng)
        x = rng.uniform(-2, 2, (3, 17, 17, 3)).astype("float32")
        folded = inference_model(model)
        assert _folded_layers(folded)
        np.testing.assert_allclose(np.asarray(folded(x)), np.asarray(model(x, training=False)),
                                   rtol=1e-5, atol=1e-6)


def test_folded_model_follows_weight_updates(rng):
    model = _every_kind()
    folded = inference_model(model)
    x = rng.uniform(-2, 2, (2, 17, 17, 3)).astype("float32")
    before = np.asarray(folded(x))
    _randomize_batch_norms(model, rng)  # e.g. more training after the folded model was built
    after = np.asarray(folded(x))
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, np.asarray(model(x, training=False)), rtol=1e-5, atol=1e-6)


def test_feature_model_keeps_requested_layers_exact(rng):
    model = _every_kind()
    _randomize_batch_norms(model, rng)
    x = rng.uniform(-2, 2, (2, 17, 17, 3)).astype("float32")
    names = ["conv", "conv_bn", "depthwise_relu", "separable_bn"]
    plain = feature_model(model, names, include_output=True)(x)
    folded_model = feature_model(model, names, include_output=True, fold_batch_norm=True)
    assert "conv" not in _folded_layers(folded_model)  # its own (pre-BatchNorm) output was asked for
    assert "depthwise" in _folded_layers(folded_model)
    for a, b in zip(folded_model(x), plain):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
