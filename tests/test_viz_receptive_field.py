"""Receptive fields against a brute-force check: perturb one input pixel at a time and see which
units of the layer change. Weights and inputs are positive, so a large positive perturbation of any
pixel inside a unit's field changes that unit (through convolutions and max-pooling alike)."""

import keras
import numpy as np
import pytest

from dlpy.models.introspection import feature_model
from dlpy.viz.receptive_field import receptive_field, receptive_fields

POSITIVE = keras.initializers.RandomUniform(0.5, 1.0, seed=0)


def conv(filters, kernel, **kwargs):
    return keras.layers.Conv2D(filters, kernel, kernel_initializer=POSITIVE, bias_initializer="zeros", **kwargs)


def brute_force_boxes(model, layer, height, width, channels=1):
    """For every unit of ``layer``, the bounding box (top, left, bottom, right) of the input pixels
    whose perturbation changes it; ``None`` where no pixel does."""
    extractor = feature_model(model, layer)
    rng = np.random.default_rng(0)
    base = rng.uniform(1.0, 2.0, size=(1, height, width, channels)).astype("float32")
    perturbed = np.repeat(base, height * width, axis=0)
    rows, cols = np.divmod(np.arange(height * width), width)
    perturbed[np.arange(height * width), rows, cols, :] += 100.0
    reference = np.asarray(extractor(base))[0]
    outputs = np.asarray(extractor(perturbed))
    changed = np.abs(outputs - reference).max(axis=-1) > 1e-3  # (pixels, out_h, out_w)
    boxes = {}
    for i in range(changed.shape[1]):
        for j in range(changed.shape[2]):
            pixels = np.flatnonzero(changed[:, i, j])
            if pixels.size:
                r, c = rows[pixels], cols[pixels]
                boxes[i, j] = (r.min(), c.min(), r.max() + 1, c.max() + 1)
    return boxes, changed.shape[1:]


def assert_matches_brute_force(model, layer, height, width, channels=1, contiguous=True):
    rf = receptive_field(model, layer)
    boxes, out_shape = brute_force_boxes(model, layer, height, width, channels)
    assert rf.output_shape == tuple(out_shape)
    assert rf.input_shape == (height, width)
    for i in range(out_shape[0]):
        for j in range(out_shape[1]):
            assert boxes[i, j] == rf.clipped_box(i, j), (layer, i, j)
    return rf


def test_sequential_conv_pool_stack_valid_padding():
    model = keras.Sequential([
        keras.Input((16, 17, 1)), conv(2, 3, name="c1"), keras.layers.MaxPooling2D(2, name="p1"),
        conv(2, 3, name="c2"), keras.layers.MaxPooling2D(2, name="p2"),
    ])
    rf = assert_matches_brute_force(model, "c1", 16, 17)
    assert (rf.size, rf.stride, rf.start) == ((3, 3), (1, 1), (0, 0))
    rf = assert_matches_brute_force(model, "p1", 16, 17)
    assert (rf.size, rf.stride) == ((4, 4), (2, 2))
    rf = assert_matches_brute_force(model, "c2", 16, 17)
    assert (rf.size, rf.stride) == ((8, 8), (2, 2))
    rf = assert_matches_brute_force(model, "p2", 16, 17)
    assert (rf.size, rf.stride) == ((10, 10), (4, 4))


@pytest.mark.parametrize("height,width", [(13, 13), (14, 15)])
def test_same_padding_with_strides_even_kernels_and_odd_sizes(height, width):
    inputs = keras.Input((height, width, 1))
    x = conv(2, 4, strides=2, padding="same", name="even_kernel")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool_same")(x)
    x = conv(2, (3, 1), strides=(1, 2), padding="same", name="asymmetric")(x)
    model = keras.Model(inputs, x)
    for layer in ("even_kernel", "pool_same", "asymmetric"):
        assert_matches_brute_force(model, layer, height, width)
    rf = receptive_field(model, "even_kernel")
    assert rf.size == (4, 4) and rf.stride == (2, 2)


def test_dilation_depthwise_separable_zero_padding_cropping_and_average_pooling():
    inputs = keras.Input((20, 19, 2))
    x = keras.layers.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(inputs)
    x = keras.layers.DepthwiseConv2D(3, strides=2, depthwise_initializer=POSITIVE, name="depthwise")(x)
    x = conv(2, 3, dilation_rate=2, padding="same", name="dilated")(x)
    x = keras.layers.AveragePooling2D(2, padding="same", name="avg")(x)
    x = keras.layers.SeparableConv2D(2, 3, depthwise_initializer=POSITIVE, pointwise_initializer=POSITIVE,
                                      padding="same", name="separable")(x)
    x = keras.layers.Cropping2D(((1, 0), (0, 1)), name="crop")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, x)
    for layer in ("depthwise", "dilated", "avg", "separable", "crop", "bn"):
        assert_matches_brute_force(model, layer, 20, 19, channels=2)
    rf = receptive_field(model, "dilated")
    assert rf.size == (3 + 2 * 2 * 2, 3 + 2 * 2 * 2)  # dilation 2 at jump 2 adds 2*2 per tap


def test_branches_merge_by_the_union_of_their_fields():
    inputs = keras.Input((15, 15, 1))
    short = conv(2, 1, strides=2, name="shortcut")(inputs)
    long = conv(2, 3, strides=2, padding="same", name="long_a")(inputs)
    long = conv(2, 3, padding="same", name="long_b")(long)
    added = keras.layers.Add(name="add")([short, long])
    joined = keras.layers.Concatenate(name="concat")([short, added])
    model = keras.Model(inputs, joined)
    for layer in ("shortcut", "long_b", "add", "concat"):
        assert_matches_brute_force(model, layer, 15, 15)
    assert receptive_field(model, "add").size == (7, 7)


def test_nested_model_by_dotted_path():
    inner = keras.Sequential([keras.Input((None, None, 1)), conv(2, 3, name="inner_conv"),
                              keras.layers.MaxPooling2D(2, name="inner_pool")], name="base")
    inputs = keras.Input((18, 18, 1))
    x = conv(1, 3, strides=2, padding="same", name="stem")(inputs)
    x = inner(x)
    x = conv(2, 3, name="head")(x)
    model = keras.Model(inputs, x)
    rf = assert_matches_brute_force(model, "base.inner_pool", 18, 18)
    assert rf.layer == "base.inner_pool"
    assert_matches_brute_force(model, "head", 18, 18)
    assert receptive_field(model, "inner_pool") == rf  # a unique bare name is found too
    assert "base.inner_conv" in receptive_fields(model)


def test_box_and_center_arithmetic():
    model = keras.Sequential([keras.Input((32, 32, 3)), conv(1, 5, strides=2, padding="same", name="c")])
    rf = receptive_field(model, "c")
    assert rf.start == (-1, -1)  # pad total 3, 1 before: unit 0 sees rows -1..3
    assert rf.box(0, 0) == (-1, -1, 4, 4) and rf.clipped_box(0, 0) == (0, 0, 4, 4)
    assert rf.box(2, 3) == (3, 5, 8, 10)
    assert rf.center(2, 3) == (5.0, 7.0)
    with pytest.raises(ValueError, match="outside"):
        rf.box(16, 0)


def test_layer_that_is_not_spatial_is_a_clear_error():
    model = keras.Sequential([keras.Input((8, 8, 1)), conv(2, 3, name="c"),
                              keras.layers.GlobalAveragePooling2D(name="gap"), keras.layers.Dense(2, name="fc")])
    with pytest.raises(ValueError, match="not spatial"):
        receptive_field(model, "gap")
    with pytest.raises(ValueError, match="not spatial"):
        receptive_field(model, "fc")
    with pytest.raises(ValueError, match="No layer"):
        receptive_field(model, "conv_typo")


def test_any_size_model_needs_input_shape_and_unknown_layers_are_named():
    model = keras.Sequential([keras.Input((None, None, 1)), conv(2, 3, strides=2, padding="same", name="c")])
    with pytest.raises(ValueError, match="input_shape"):
        receptive_field(model, "c")
    assert receptive_field(model, "c", input_shape=(9, 9)).output_shape == (5, 5)
    upsampled = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.UpSampling2D(name="up"), conv(1, 3, name="c")])
    with pytest.raises(ValueError, match="UpSampling2D"):
        receptive_field(upsampled, "c")
