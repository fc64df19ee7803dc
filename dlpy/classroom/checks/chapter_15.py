"""Chapter 15 (convnet architecture): q1 a residual block (the teaching copy), q2 a separable convolution's
parameters."""

from dlpy.classroom.checks import check


@check("q1")
def test_residual_block_shape(my_residual_block):
    import keras

    inputs = keras.Input((8, 8, 3))
    outputs = my_residual_block(inputs, 6)
    assert outputs is not None, "my_residual_block returned None: return the sum of the block and its shortcut"
    assert tuple(outputs.shape) == (None, 4, 4, 6), f"output shape {tuple(outputs.shape)}; expected (None, 4, 4, 6): " \
                                                    "pooled by 2, projected to 6 channels"
    model = keras.Model(inputs, outputs)
    assert any(isinstance(layer, keras.layers.Add) for layer in model.layers), \
        "my_residual_block(inputs, 6): no Add layer: where is the shortcut?"


@check("q1", hidden=True)
def test_residual_block_matches_dlpy(my_residual_block):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.models.blocks import residual_block

    inputs = keras.Input((8, 8, 3))
    mine = keras.Model(inputs, my_residual_block(inputs, 6))
    library = keras.Model(inputs, residual_block(inputs, 6, pooling=True, batch_norm=False))
    assert mine.count_params() == library.count_params(), \
        f"my_residual_block(inputs, 6): {mine.count_params()} parameters; dlpy's block has {library.count_params()}"
    by_shape = {tuple(layer.kernel.shape): layer for layer in mine.layers if hasattr(layer, "kernel")}
    for layer in library.layers:
        if hasattr(layer, "kernel"):
            layer.set_weights(by_shape[tuple(layer.kernel.shape)].get_weights())
    probe = np.random.default_rng(10).normal(size=(2, 8, 8, 3)).astype("float32")
    expect_close(mine(probe), library(probe), "my_residual_block's output with dlpy's weights", tolerance=1e-5)


@check("q2")
def test_separable_parameters_small_example(separable_parameters_by_hand):
    got = separable_parameters_by_hand(3, 64, 128)
    assert got == 8_896, f"separable_parameters_by_hand(3, 64, 128) returned {got!r}; expected 3*3*64 depthwise + " \
                         "64*128 pointwise + 128 biases = 8,896"


@check("q2", hidden=True)
def test_separable_parameters_match_keras(separable_parameters_by_hand):
    from dlpy.classroom.checks import expect_keras_parameter_counts

    expect_keras_parameter_counts(separable_parameters_by_hand, "separable_parameters_by_hand", "SeparableConv2D",
                                  ((3, 32, 64), (5, 3, 8), (7, 256, 256)))


WRONG_ANSWERS = {
    "q1": "def my_residual_block(x, filters):\n"
          "    x = layers.Conv2D(filters, 3, padding='same', activation='relu')(x)\n"
          "    x = layers.Conv2D(filters, 3, padding='same', activation='relu')(x)\n"
          "    return layers.MaxPooling2D(2, padding='same')(x)  # no shortcut: a plain block\n",
    "q2": "def separable_parameters_by_hand(kernel_size, in_channels, filters):\n"
          "    return kernel_size * kernel_size * in_channels * filters + filters  # counts a full convolution\n",
}
