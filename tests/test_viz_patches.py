"""Maximally activating patches against a brute-force NumPy search and a model with a known answer."""

import keras
import numpy as np
import pytest

from dlpy.models.introspection import feature_model
from dlpy.viz.patches import plot_top_patches, top_activating_patches
from dlpy.viz.receptive_field import receptive_field


def dot_detector():
    """Channel 0 sums a 3x3 window; max-pooling then keeps the brightest window: a single bright
    dot of intensity v gives activation v, seen by the units whose field holds the dot."""
    model = keras.Sequential([
        keras.Input((12, 12, 1)),
        keras.layers.Conv2D(1, 3, kernel_initializer="ones", bias_initializer="zeros", name="conv"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
    ])
    return model


def test_dots_are_found_brightest_first_and_the_crops_contain_them():
    rng = np.random.default_rng(0)
    n = 10
    images = np.zeros((n, 12, 12, 1), "float32")
    spots = rng.integers(0, 12, size=(n, 2))
    brightness = rng.permutation(np.arange(1, n + 1)).astype("float32")
    images[np.arange(n), spots[:, 0], spots[:, 1], 0] = brightness
    result = top_activating_patches(dot_detector(), "pool", images, channels=[0], k=4)
    np.testing.assert_allclose(result.activations[0], [10, 9, 8, 7])
    np.testing.assert_array_equal(result.image_indices[0], np.argsort(-brightness)[:4])
    assert result.receptive_field.size == (4, 4)
    for index, crop, (top, left, bottom, right) in zip(result.image_indices[0], result.crops[0], result.boxes[0]):
        assert crop.max() == brightness[index]  # the dot is inside the unit's field
        assert top <= spots[index, 0] < bottom and left <= spots[index, 1] < right
        assert crop.shape[:2] == (bottom - top, right - left)


def brute_force(activations, k, one_per_image):
    """Top-k (value, image, row, col) per channel by plain loops."""
    n, h, w, c = activations.shape
    answer = []
    for channel in range(c):
        candidates = []
        for i in range(n):
            units = [(activations[i, r, q, channel], i, r, q) for r in range(h) for q in range(w)]
            candidates += [max(units, key=lambda u: u[0])] if one_per_image else units
        candidates.sort(key=lambda u: -u[0])
        answer.append(candidates[:k])
    return answer


@pytest.mark.parametrize("one_per_image", [True, False])
def test_random_convnet_matches_brute_force(one_per_image):
    keras.utils.set_random_seed(1)
    inner = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(5, 3, strides=2, padding="same",
                                                                                  name="conv")], name="base")
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.GlobalMaxPooling2D()(inner(inputs)))
    images = np.random.default_rng(2).uniform(0, 255, (11, 15, 13, 3)).astype("float32")

    def preprocess(x):
        return x / 255.0

    result = top_activating_patches(model, "base.conv", images, channels=[4, 1, 2], k=5, preprocess=preprocess,
                                    batch_size=4, one_per_image=one_per_image)
    activations = np.asarray(feature_model(model, "base.conv")(images / 255.0))[..., [4, 1, 2]]
    expected = brute_force(activations, 5, one_per_image)
    field = receptive_field(model, "base.conv", input_shape=(15, 13))
    for c, units in enumerate(expected):
        np.testing.assert_allclose(result.activations[c], [u[0] for u in units], rtol=1e-5)
        np.testing.assert_array_equal(result.image_indices[c], [u[1] for u in units])
        np.testing.assert_array_equal(result.positions[c], [(u[2], u[3]) for u in units])
        for (_, i, r, q), crop in zip(units, result.crops[c]):
            top, left, bottom, right = field.clipped_box(r, q)
            np.testing.assert_array_equal(crop, images[i, top:bottom, left:right])
    assert result.layer == "base.conv" and list(result.channels) == [4, 1, 2]
    best = result.strongest(2)
    order = np.argsort(-result.activations[:, -1])[:2]
    assert list(best.channels) == list(result.channels[order])
    np.testing.assert_array_equal(best.activations, result.activations[order])
    assert best.crops[0] is result.crops[order[0]]
    plot_top_patches(result)


def test_bad_input_is_a_clear_error():
    model = dot_detector()
    images = np.zeros((3, 12, 12, 1), "float32")
    with pytest.raises(ValueError, match="not spatial"):
        top_activating_patches(model, "gap", images)
    with pytest.raises(ValueError, match="k must be"):
        top_activating_patches(model, "pool", images, k=4)
    with pytest.raises(ValueError, match="Channels"):
        top_activating_patches(model, "pool", images, channels=[3])
    with pytest.raises(ValueError, match="batch of images"):
        top_activating_patches(model, "pool", images[0])


def test_patch_gradients_of_a_linear_unit_are_its_kernel_over_its_receptive_field():
    from dlpy.viz.patches import patch_gradients

    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    model = keras.Sequential([keras.Input((9, 9, 3)), keras.layers.Conv2D(
        4, 3, strides=2, kernel_initializer=keras.initializers.Constant(kernel), name="conv")])
    images = rng.uniform(0, 1, size=(6, 9, 9, 3)).astype("float32")
    top = top_activating_patches(model, "conv", images, channels=[1, 3], k=3)
    plain = patch_gradients(model, top, images, guided=False)
    for c, channel in enumerate(top.channels):
        for j in range(3):
            # d(sum_ij w_ij x_ij)/dx = w over the 3x3 window, zero elsewhere (outside the crop)
            np.testing.assert_allclose(plain.raw_crops[c][j], kernel[..., channel], rtol=1e-6)
            assert plain.crops[c][j].min() >= 0 and plain.crops[c][j].max() <= 1
    assert plain.activations is top.activations and len(plain.strongest(1).raw_crops) == 1
    plot_top_patches(top, gradients=plain)
    with pytest.raises(ValueError, match="the images given to top_activating_patches"):
        patch_gradients(model, top, images[:2])


def test_guided_patch_gradients_pass_only_positive_gradients_through_relus():
    from dlpy.viz.patches import patch_gradients

    # unit = 3 * relu(x) - 1 * relu(x) = 2 relu(x), through two ReLU branches. Plain backprop: 3 - 1 = 2
    # where x > 0. Guided backprop drops the branch whose incoming gradient (-1) is negative: 3.
    inputs = keras.Input((4, 4, 1))
    both = keras.layers.Concatenate()([keras.layers.ReLU()(inputs), keras.layers.ReLU()(inputs)])
    unit = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer=keras.initializers.Constant(
        np.array([3.0, -1.0]).reshape(1, 1, 2, 1)), name="unit")(both)
    model = keras.Model(inputs, unit)
    images = np.random.default_rng(4).normal(size=(5, 4, 4, 1)).astype("float32")
    top = top_activating_patches(model, "unit", images, channels=[0], k=3)
    pixels = [images[i, r, c, 0] for i, (r, c) in zip(top.image_indices[0], top.positions[0])]
    assert min(pixels) > 0  # the strongest units sit on positive pixels, where the two methods differ
    plain = patch_gradients(model, top, images, guided=False)
    guided = patch_gradients(model, top, images, guided=True)
    for j in range(3):
        assert plain.raw_crops[0][j].item() == pytest.approx(2.0)
        assert guided.raw_crops[0][j].item() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="these very patches"):
        plot_top_patches(top, gradients=patch_gradients(model, top_activating_patches(
            model, "unit", images[::-1], channels=[0], k=3), images[::-1]))
