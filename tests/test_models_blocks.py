"""Chapter 15 (dlpy.models.blocks, dlpy.models.cost): a residual block with a projection shortcut
against a NumPy forward pass; parameter and multiply-add counts against hand counts and Keras; the
mini-Xception's structure and its parameter count by hand."""

import keras
import numpy as np
import pytest

from dlpy import rel_error
from dlpy.models.blocks import deep_stack, mini_xception, residual_block
from dlpy.models.cost import model_costs


def numpy_conv_same(x, kernel, bias=None, stride=1):
    """Cross-correlation with 'same' zero padding, NHWC, the way Keras's Conv2D computes it."""
    k = kernel.shape[0]
    pad = (k - 1) // 2, k // 2
    padded = np.pad(x, ((0, 0), pad, pad, (0, 0)))
    height, width = x.shape[1], x.shape[2]
    out = np.zeros((x.shape[0], height, width, kernel.shape[-1]))
    for i in range(height):
        for j in range(width):
            out[:, i, j] = np.einsum("nhwc,hwcf->nf", padded[:, i:i + k, j:j + k], kernel)
    if bias is not None:
        out += bias
    return out[:, ::stride, ::stride]


def test_residual_block_with_projection_matches_numpy(rng):
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, residual_block(inputs, 4, pooling=True, batch_norm=False, name="block"))
    for layer in model.layers:
        layer.set_weights([rng.normal(size=w.shape) * 0.5 for w in layer.get_weights()])
    x = rng.normal(size=(2, 6, 6, 3))

    def weights(name):
        return model.get_layer(name).get_weights()

    y = np.maximum(numpy_conv_same(x, *weights("block_conv_1")), 0)
    y = np.maximum(numpy_conv_same(y, *weights("block_conv_2")), 0)
    y = y.reshape(2, 3, 2, 3, 2, 4).max(axis=(2, 4))  # 2x2 max pooling
    shortcut = numpy_conv_same(x, *weights("block_projection"), stride=2)
    assert rel_error(np.asarray(model(x)), y + shortcut) < 1e-5


def test_identity_shortcut_adds_the_input_itself(rng):
    inputs = keras.Input((5, 5, 8))
    model = keras.Model(inputs, residual_block(inputs, 8, batch_norm=False, name="block"))
    assert "block_projection" not in [layer.name for layer in model.layers]
    for name in ("block_conv_1", "block_conv_2"):
        layer = model.get_layer(name)
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    x = rng.normal(size=(1, 5, 5, 8))
    np.testing.assert_allclose(np.asarray(model(x)), x, rtol=1e-6)  # zero branch: the output is the input


def test_costs_match_hand_counts_and_keras():
    inputs = keras.Input((32, 32, 16))
    x = keras.layers.Conv2D(32, 3, padding="same", name="conv")(inputs)
    x = keras.layers.SeparableConv2D(64, 3, padding="same", name="separable")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="dense")(x))
    costs = {row.name: row for row in model_costs(model)}
    assert costs["conv"].parameters == 3 * 3 * 16 * 32 + 32
    assert costs["conv"].multiply_adds == 32 * 32 * 32 * (3 * 3 * 16)
    assert costs["separable"].parameters == 3 * 3 * 32 + 32 * 64 + 64
    assert costs["separable"].multiply_adds == 32 * 32 * 32 * 9 + 32 * 32 * 64 * 32
    assert costs["bn"].parameters == 4 * 64 and costs["bn"].multiply_adds == 0
    assert costs["dense"].multiply_adds == 64 * 10
    assert sum(row.parameters for row in costs.values()) == model.count_params()


def test_nested_models_are_opened():
    inner = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="hidden")], name="inner")
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(inner(inputs)))
    assert [(row.name, row.multiply_adds) for row in model_costs(model)] == [("inner.hidden", 32), ("out", 8)]


def test_deep_stacks_have_the_depth_asked_and_residuals_only_add_shortcuts():
    plain = deep_stack((16, 16, 3), 2, depth=12, residual=False)
    residual = deep_stack((16, 16, 3), 2, depth=12, residual=True)
    count = sum(isinstance(layer, keras.layers.Conv2D) for layer in plain.layers)
    assert count == 13 == sum(isinstance(layer, keras.layers.Conv2D) for layer in residual.layers)
    assert residual.count_params() == plain.count_params()  # identity shortcuts cost nothing
    with pytest.raises(ValueError, match="even number"):
        deep_stack((16, 16, 3), 2, depth=5)


def test_mini_xception_parameters_by_hand():
    model = mini_xception((16, 16, 3), widths=(4,), augmentation=False, dropout=0.0)
    stem = 5 * 5 * 3 * 4                      # no bias: normalization follows
    separable = 3 * 3 * 4 + 4 * 4             # depthwise 3x3 per channel, then pointwise 4 -> 4
    normalization = 4 * 4                     # gamma, beta, moving mean, moving variance
    projection = 4 * 4                        # 1x1, strided, no bias
    dense = 4 + 1
    assert model.count_params() == stem + 2 * (normalization + separable) + projection + dense == 457
    assert sum(row.parameters for row in model_costs(model)) == model.count_params()


def test_mini_xception_is_residual_separable_and_halves_per_block():
    model = mini_xception((64, 64, 3), widths=(8, 16, 32), batch_norm_momentum=0.9)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("SeparableConv2D") == 6 and kinds.count("Add") == 3
    assert {layer.momentum for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)} == {0.9}
    assert model.get_layer("block_3_add").output.shape[1:] == (8, 8, 32)   # 60 -> 30 -> 15 -> 8
    assert model.get_layer("prediction").dtype_policy.compute_dtype == "float32"
    assert model.layers[1].name == "data_augmentation"


def test_mini_xception_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="at least one block"):
        mini_xception((32, 32, 3), widths=())
    with pytest.raises(ValueError, match="dropout must be in"):
        mini_xception((32, 32, 3), dropout=1.0)


def test_a_strided_stem_quarters_the_feature_maps():
    model = deep_stack((28, 28, 1), 10, depth=2, filters=4, stem_strides=2)
    assert model.layers[1].output.shape[1:3] == (14, 14)
