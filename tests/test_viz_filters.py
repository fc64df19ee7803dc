"""Gradient ascent (filter and class visualization): monotone ascent, regularizers, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlpy.viz.filters import (
    GRAY,
    GradientAscent,
    Regularizers,
    gaussian_blur,
    gaussian_kernel,
    standardize_for_display,
    visualize_filters,
)


def small_convnet():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="small")


def scaled(images):
    return images / 127.5 - 1.0


@pytest.fixture(scope="module")
def model():
    return small_convnet()


def mean_activation(model, images, unit):
    features = keras.Model(model.inputs[0], model.get_layer("conv2").output)
    out = keras.ops.convert_to_numpy(features(scaled(images)))
    return out[..., 2:-2, 2:-2, unit].mean(axis=(1, 2))


def test_ascent_raises_the_target_activation_monotonically(model):
    ascent = GradientAscent.for_filters(model, "conv2", image_size=(24, 24), preprocess=scaled, step_size=0.5)
    filters = np.array([0, 3, 5, 7])
    images, history = ascent.run(filters, steps=15)
    assert history.shape == (15, 4)
    assert np.all(np.diff(history, axis=0) > 0), history
    # The recorded objective is the filter's mean activation (borders trimmed), computed independently.
    start = ascent.initial_images(4)
    for i, unit in enumerate(filters):
        np.testing.assert_allclose(history[0, i], mean_activation(model, start[i:i + 1], unit)[0], rtol=1e-4)
        assert mean_activation(model, images[i:i + 1], unit)[0] > history[-1, i]


def test_compiled_and_eager_steps_agree(model):
    ascent = GradientAscent.for_filters(model, "conv1", image_size=(16, 16), preprocess=scaled)
    compiled, history_c = ascent.run([1, 2], steps=3, compiled=True)
    eager, history_e = ascent.run([1, 2], steps=3, compiled=False)
    np.testing.assert_allclose(compiled, eager, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(history_c, history_e, rtol=1e-4)


def test_each_step_moves_each_image_by_step_size_rms(model):
    ascent = GradientAscent.for_filters(model, "conv1", image_size=(16, 16), preprocess=scaled, step_size=2.0)
    start = tf.constant(ascent.initial_images(3))
    moved, _ = ascent.step(start, tf.constant([0, 1, 2]), tf.constant(False))
    rms = np.sqrt(np.mean(np.square(moved.numpy() - start.numpy()), axis=(1, 2, 3)))
    np.testing.assert_allclose(rms, 2.0, rtol=1e-3)


def test_class_ascent_raises_the_logit_not_the_probability(model):
    ascent = GradientAscent.for_classes(model, image_size=(20, 20), preprocess=scaled, step_size=0.5)
    assert ascent.units == 5
    images, history = ascent.run([4], steps=8)
    assert np.all(np.diff(history[:, 0]) > 0)
    hidden = keras.Model(model.inputs[0], model.get_layer("classes").input)
    dense = model.get_layer("classes")
    start = ascent.initial_images(1)
    logits = keras.ops.convert_to_numpy(hidden(scaled(start))) @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(history[0, 0], logits[0, 4], rtol=1e-4)


def test_l2_decay_pulls_towards_gray():
    ascent = GradientAscent(lambda x: tf.zeros((tf.shape(x)[0], 1)) + 0.0 * tf.reduce_sum(x, axis=(1, 2)),
                            units=1, image_size=(8, 8), regularizers=Regularizers(l2=0.5), step_size=0.0)
    start = ascent.initial_images(1)
    moved, _ = ascent.step(tf.constant(start), tf.constant([0]), tf.constant(False))
    np.testing.assert_allclose(moved.numpy() - GRAY, 0.5 * (start - GRAY), rtol=1e-5, atol=1e-4)


def test_clip_percentile_resets_the_weakest_pixels():
    reg = Regularizers(clip_percentile=50.0)
    ascent = GradientAscent(lambda x: 0.0 * tf.reduce_sum(x, axis=(1, 2)), units=3, image_size=(4, 4),
                            regularizers=reg, step_size=0.0)
    start = ascent.initial_images(1, noise=30.0)
    moved, _ = ascent.step(tf.constant(start), tf.constant([0]), tf.constant(False))
    norms = np.linalg.norm(start[0] - GRAY, axis=-1).ravel()
    kept = np.linalg.norm(moved.numpy()[0] - GRAY, axis=-1).ravel() > 0
    assert kept.sum() == 8
    assert norms[kept].min() > norms[~kept].max()


def test_gaussian_blur_matches_a_separable_numpy_convolution():
    kernel = gaussian_kernel(1.0)
    assert abs(kernel.sum() - 1) < 1e-6 and len(kernel) == 7
    image = np.random.default_rng(0).normal(size=(1, 12, 10, 3)).astype("float32")
    r = len(kernel) // 2
    padded = np.pad(image, ((0, 0), (r, r), (r, r), (0, 0)), mode="reflect")
    rows = sum(kernel[i] * padded[:, :, i:i + 10 + 0, :] for i in range(len(kernel)))
    expected = sum(kernel[i] * rows[:, i:i + 12, :, :] for i in range(len(kernel)))
    np.testing.assert_allclose(gaussian_blur(tf.constant(image), 1.0).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_regularized_ascent_still_raises_the_activation(model):
    reg = Regularizers(l2=0.01, jitter=2, blur_sigma=0.5, blur_every=3, clip_percentile=10)
    ascent = GradientAscent.for_filters(model, "conv2", image_size=(24, 24), preprocess=scaled, regularizers=reg)
    _, history = ascent.run([1, 2], steps=12)
    assert np.all(history[-1] > history[0])


def test_display_helpers(model):
    shown = visualize_filters(model, "conv1", [0, 1, 2], steps=2, image_size=(32, 32), preprocess=scaled)
    assert shown.shape == (3, 28, 28, 3) and shown.min() >= 0 and shown.max() <= 1
    assert standardize_for_display(np.full((8, 8, 3), 7.0)).shape == (8, 8, 3)


def test_bad_input(model):
    ascent = GradientAscent.for_filters(model, "conv1", image_size=(16, 16))
    with pytest.raises(ValueError, match="out of range"):
        ascent.run([6])
    with pytest.raises(TypeError, match="integer"):
        ascent.run([0.5])
    with pytest.raises(ValueError, match="steps"):
        ascent.run([0], steps=0)
    with pytest.raises(ValueError, match="convolutional"):
        GradientAscent.for_filters(model, "classes")
    with pytest.raises(ValueError, match="conv1"):
        GradientAscent.for_filters(model, "conv9")
    with pytest.raises(ValueError):
        Regularizers(l2=1.5)
    with pytest.raises(ValueError):
        Regularizers(clip_percentile=100)
