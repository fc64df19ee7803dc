"""Vanilla saliency and guided backprop against NumPy on a two-layer network."""

import keras
import numpy as np
import pytest

from dlpy.viz.saliency import guided_backprop, guided_model, input_gradients, saliency_maps


def two_layer(relu_layer: bool):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((2, 2, 3))
    x = keras.layers.Flatten()(inputs)
    if relu_layer:
        x = keras.layers.ReLU(max_value=6.0, name="relu6")(keras.layers.Dense(8, name="hidden")(x))
    else:
        x = keras.layers.Dense(8, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs)


def numpy_gradients(model, images, classes, guided, max_value=np.inf):
    w1, b1 = (v.numpy() for v in model.get_layer("hidden").weights)
    w2 = model.get_layer("out").kernel.numpy()
    flat = images.reshape(len(images), -1)
    pre = flat @ w1 + b1
    local = ((pre > 0) & (pre < max_value)).astype("float32")
    upstream = w2[:, classes].T  # d logit / d hidden, per image
    through = upstream * local * ((upstream > 0) if guided else 1.0)
    return (through @ w1.T).reshape(images.shape)


@pytest.mark.parametrize("relu_layer", [False, True])
def test_gradients_match_numpy(relu_layer):
    model = two_layer(relu_layer)
    images = np.random.default_rng(0).normal(size=(4, 2, 2, 3)).astype("float32") * 3
    classes = np.array([0, 1, 2, 1])
    max_value = 6.0 if relu_layer else np.inf
    np.testing.assert_allclose(input_gradients(model, images, classes),
                               numpy_gradients(model, images, classes, False, max_value), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(guided_backprop(model, images, classes),
                               numpy_gradients(model, images, classes, True, max_value), rtol=1e-4, atol=1e-6)
    maps = saliency_maps(model, images, classes)
    expected = np.abs(numpy_gradients(model, images, classes, False, max_value)).max(-1)
    np.testing.assert_allclose(maps, expected / expected.max(axis=(1, 2), keepdims=True), rtol=1e-4, atol=1e-6)


def test_guided_model_keeps_the_forward_pass_and_the_weights():
    model = two_layer(True)
    images = np.random.default_rng(1).normal(size=(2, 2, 2, 3)).astype("float32")
    copy = guided_model(model)
    np.testing.assert_allclose(copy(images).numpy(), model(images).numpy(), rtol=1e-5)
    assert copy.get_layer("relu6").__class__.__name__ == "_GuidedReLU"
    assert model.get_layer("relu6").__class__.__name__ == "ReLU"


def test_bad_classes():
    model = two_layer(False)
    images = np.zeros((2, 2, 2, 3), "float32")
    with pytest.raises(ValueError, match="out of range"):
        input_gradients(model, images, [0, 3])
    with pytest.raises(ValueError, match="one class per image"):
        input_gradients(model, images, [0, 1, 2])
    with pytest.raises(TypeError):
        input_gradients(model, images, 0.5)
