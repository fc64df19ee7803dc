"""Activations: per-layer outputs through nested models, channel grids, sparsity, filter tiles."""

import keras
import numpy as np
import pytest

from dlpy.images import image_batch
from dlpy.viz.activations import (
    activation_sparsity,
    channel_grid,
    first_conv_layer,
    layer_activations,
    rgb_filter_tiles,
    spatial_layers,
)


def nested_classifier():
    keras.utils.set_random_seed(0)
    base_in = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv_a")(base_in)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    base = keras.Model(base_in, keras.layers.Conv2D(6, 3, activation="relu", name="conv_b")(x), name="base_1.0")
    inputs = keras.Input((10, 10, 3))
    y = keras.layers.GlobalAveragePooling2D(name="gap")(base(keras.layers.Rescaling(1 / 255, name="rescale")(inputs)))
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(y), name="classifier")


def test_layer_activations_match_the_layers_applied_by_hand():
    model = nested_classifier()
    images = np.random.default_rng(0).uniform(0, 255, (2, 10, 10, 3)).astype("float32")
    got = layer_activations(model, images, ["base_1.0.conv_a", "base_1.0.conv_b"])
    base = model.get_layer("base_1.0")
    a = base.get_layer("conv_a")(images / 255)
    b = base.get_layer("conv_b")(base.get_layer("pool")(a))
    np.testing.assert_allclose(got["base_1.0.conv_a"], keras.ops.convert_to_numpy(a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["base_1.0.conv_b"], keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)
    single = layer_activations(model, images[0] * 2, "base_1.0.conv_a", preprocess=lambda x: x / 2)
    np.testing.assert_allclose(single["base_1.0.conv_a"], got["base_1.0.conv_a"][:1], rtol=1e-5, atol=1e-6)


def test_spatial_layers_lists_feature_maps_through_nesting():
    assert spatial_layers(nested_classifier()) == ["base_1.0.conv_a", "base_1.0.pool", "base_1.0.conv_b"]


def test_channel_grid_layout_and_standardization():
    rng = np.random.default_rng(1)
    activation = rng.normal(size=(1, 5, 4, 10)).astype("float32")
    activation[..., 3] = 2.0  # a dead (constant) channel
    grid = channel_grid(activation, columns=4, gap=1)
    assert grid.shape == (3 * 6 - 1, 4 * 5 - 1)
    first = grid[0:5, 0:4]
    expected = np.clip((activation[0, ..., 0] - activation[0, ..., 0].mean()) / activation[0, ..., 0].std()
                       * 0.25 + 0.5, 0, 1)
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(grid[0:5, 15:19], 0.0)  # channel 3: row 0, column 3
    np.testing.assert_array_equal(grid[5, :], 0.0)  # the gap row
    assert channel_grid(activation[0], columns=32).shape == (5, 10 * 5 - 1)


def test_sparsity_counts_exact_zeros():
    values = {"a": np.array([[0.0, 1.0], [0.0, 0.0]]), "b": np.ones((3, 3))}
    assert activation_sparsity(values) == {"a": 0.75, "b": 0.0}


def test_first_conv_layer_and_filter_tiles():
    model = nested_classifier()
    assert first_conv_layer(model) == "base_1.0.conv_a"
    kernel = np.random.default_rng(2).normal(size=(3, 3, 3, 4)).astype("float32")
    tiles = rgb_filter_tiles(kernel)
    assert tiles.shape == (4, 3, 3, 3)
    np.testing.assert_allclose(tiles[1], 0.5 + 0.5 * kernel[..., 1] / np.abs(kernel[..., 1]).max(), rtol=1e-6)
    assert np.isclose(np.abs(tiles - 0.5).max(axis=(1, 2, 3)), 0.5).all()
    with pytest.raises(ValueError, match="RGB"):
        rgb_filter_tiles(np.zeros((3, 3, 4, 2)))


def test_bad_images_are_refused_clearly():
    model = nested_classifier()
    with pytest.raises(ValueError, match="channels"):
        image_batch(np.zeros((10, 10, 1)), model)
    with pytest.raises(ValueError, match="one image"):
        image_batch(np.zeros((10, 10)), model)
    with pytest.raises(ValueError, match="built for 10x10 images, got 12x10"):
        image_batch(np.zeros((2, 12, 10, 3)), model)
    assert image_batch(np.zeros((10, 10, 3)), model).shape == (1, 10, 10, 3)
    with pytest.raises(ValueError, match="feature map"):
        channel_grid(np.zeros((4, 4)))
