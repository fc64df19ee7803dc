"""PixelCNN: masks against their definition, causality of the whole network (perturb a pixel,
nothing at or before it changes), the likelihood against NumPy, and the compiled sampler."""

import keras
import numpy as np
import pytest

from dlpy.generative import pixelcnn


def allowed(i, j, center, mask_type):
    """The definition: a position sees (i, j) of its kernel window when that pixel comes before it
    in raster order, or is itself for type B."""
    before = i < center or (i == center and j < center)
    return before or (mask_type == "B" and i == center and j == center)


@pytest.mark.parametrize("size", [1, 3, 5, 7])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masks_follow_the_definition(size, mask_type):
    mask = pixelcnn.causal_mask(size, mask_type)
    center = size // 2
    expected = [[1.0 if allowed(i, j, center, mask_type) else 0.0 for j in range(size)] for i in range(size)]
    assert np.array_equal(mask, expected)


def test_mask_of_a_3x3_written_out():
    assert np.array_equal(pixelcnn.causal_mask(3, "A"), [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    assert np.array_equal(pixelcnn.causal_mask(3, "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])


def test_bad_masks_are_refused():
    with pytest.raises(ValueError, match="odd kernel size"):
        pixelcnn.causal_mask(4, "A")
    with pytest.raises(ValueError, match="mask_type"):
        pixelcnn.causal_mask(3, "C")


def raster_before(shape, row, col):
    """Boolean map of positions at or before (row, col) in raster order."""
    index = np.arange(shape[0] * shape[1]).reshape(shape)
    return index <= row * shape[1] + col


@pytest.fixture(scope="module", params=[3, 5], ids=["blocks3x3", "blocks5x5"])
def network(request):
    keras.utils.set_random_seed(0)
    model = pixelcnn.build_pixelcnn(image_shape=(12, 12, 1), filters=16, residual_blocks=2,
                                    block_kernel_size=request.param)
    # random, non-zero biases so that no unit is silent and every dependency shows
    for weight in model.weights:
        if "bias" in weight.path:
            weight.assign(np.random.default_rng(1).normal(0, 0.1, weight.shape).astype("float32"))
    return model


@pytest.mark.parametrize("row, col", [(0, 0), (3, 7), (5, 0), (6, 11), (11, 10)])
def test_a_pixel_never_influences_its_own_or_earlier_outputs(network, row, col):
    image = (np.random.default_rng(row * 12 + col).uniform(size=(1, 12, 12, 1)) > 0.5).astype("float32")
    flipped = image.copy()
    flipped[0, row, col, 0] = 1.0 - flipped[0, row, col, 0]
    difference = np.abs(keras.ops.convert_to_numpy(network(flipped) - network(image)))[0, ..., 0]
    assert np.all(difference[raster_before((12, 12), row, col)] == 0.0)
    # ... and it does reach later pixels within the kernel's reach: the one below it, the next in its row
    for later in ((row + 1, col), (row, col + 1)):
        if later[0] < 12 and later[1] < 12:
            assert difference[later] > 0


def test_type_b_layer_sees_its_own_position_type_a_does_not():
    image = np.zeros((1, 5, 5, 1), "float32")
    poked = image.copy()
    poked[0, 2, 2, 0] = 1.0
    for mask_type, sees_itself in (("A", False), ("B", True)):
        layer = pixelcnn.MaskedConv2D(mask_type, 4, 3, kernel_initializer="ones")
        change = keras.ops.convert_to_numpy(layer(poked) - layer(image))[0, ..., 0]
        assert (change[2, 2] != 0) == sees_itself
        assert np.all(change[raster_before((5, 5), 2, 1)] == 0)  # earlier positions never see it


def test_negative_log_likelihood_matches_numpy_bernoulli(network):
    images = (np.random.default_rng(5).uniform(size=(3, 12, 12, 1)) > 0.5).astype("float32")
    logits = keras.ops.convert_to_numpy(network(images)).astype("float64")
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(images * np.log(p) + (1 - images) * np.log(1 - p), axis=(1, 2, 3)).mean() / np.log(2)
    assert np.isclose(pixelcnn.negative_log_likelihood_bits(network, images), expected, rtol=1e-4)


def test_compiled_sampler_draws_binary_reproducible_images(network):
    sample = pixelcnn.make_sampler(network)
    first = sample(3, seed=4)
    assert first.shape == (3, 12, 12, 1)
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert np.array_equal(first, sample(3, seed=4))
    assert not np.array_equal(first, sample(3, seed=5))


def test_sampling_on_a_band_of_rows_draws_what_the_whole_image_draws(network):
    # the blocks' kernels (3 or 5) give a reach of 3 + 2 * 1 or 3 + 2 * 2 rows: bands of 6 or 8 of 12 rows
    kernel = network.get_layer("block0_masked_b").kernel_size[0]
    assert pixelcnn.rows_above(network) == 3 + 2 * (kernel // 2)
    banded, whole = pixelcnn.make_sampler(network), pixelcnn.make_sampler(network, crop_rows=False)
    assert (banded.band_rows, whole.band_rows) == (pixelcnn.rows_above(network) + 1, 12)
    assert np.array_equal(banded(4, seed=7), whole(4, seed=7))


def test_rows_above_of_the_chapters_network_and_of_an_unknown_layer():
    chapter = pixelcnn.build_pixelcnn(filters=8, residual_blocks=4, block_kernel_size=5)
    assert pixelcnn.rows_above(chapter) == 11
    inputs = keras.Input((4, 4, 1))
    unknown = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2.0)(inputs))
    assert pixelcnn.rows_above(unknown) is None
    assert pixelcnn.make_sampler(unknown).band_rows == 4  # falls back to the whole image


def test_sampler_follows_a_model_that_always_says_on():
    inputs = keras.Input((4, 4, 1))
    certain = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 0.0 + 30.0)(inputs))  # sigmoid(30) ~ 1
    assert np.all(pixelcnn.make_sampler(certain)(2, seed=0) == 1.0)


def test_bad_input_is_refused(network):
    with pytest.raises(ValueError, match="one binary channel"):
        pixelcnn.build_pixelcnn(image_shape=(28, 28, 3))
    with pytest.raises(ValueError, match="built for 12x12 images, got 28x28"):
        pixelcnn.negative_log_likelihood_bits(network, np.zeros((2, 28, 28, 1)))


def test_binarize_thresholds_at_half_brightness():
    images = np.array([[[0, 127, 128, 255]]], np.uint8)
    assert np.array_equal(pixelcnn.binarize(images)[0, 0, :, 0], [0, 0, 1, 1])
