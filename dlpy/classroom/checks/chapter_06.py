"""Chapter 06 (convnets on small data): q1 2x2 max pooling (the teaching copy), q2 a convolution's parameters."""

from dlpy.classroom.checks import check


@check("q1")
def test_max_pool_small_example(max_pool_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    maps = np.arange(16.0).reshape(4, 4, 1)
    expect_close(max_pool_by_hand(maps), [[[5], [7]], [[13], [15]]], "max_pool_by_hand(arange(16).reshape(4, 4, 1))")


@check("q1", hidden=True)
def test_max_pool_matches_keras(max_pool_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    for shape in ((8, 8, 3), (7, 9, 2)):
        maps = np.random.default_rng(15).normal(size=shape).astype("float32")
        expect_close(max_pool_by_hand(maps), np.asarray(keras.layers.MaxPooling2D(2)(maps[None]))[0],
                     f"max_pool_by_hand(a random {shape} map)")


@check("q2")
def test_parameters_small_example(conv_parameters_by_hand):
    got = conv_parameters_by_hand(3, 3, 32)
    assert got == 896, \
        f"conv_parameters_by_hand(3, 3, 32) returned {got!r}; expected 3*3*3*32 weights + 32 biases = 896"


@check("q2", hidden=True)
def test_parameters_match_keras(conv_parameters_by_hand):
    from dlpy.classroom.checks import expect_keras_parameter_counts

    expect_keras_parameter_counts(conv_parameters_by_hand, "conv_parameters_by_hand", "Conv2D",
                                  ((3, 32, 64), (5, 1, 8), (1, 128, 16)))


WRONG_ANSWERS = {
    "q1": "def max_pool_by_hand(feature_map, size=2):\n"
          "    return feature_map[::size, ::size]  # keeps the top-left value, not the largest\n",
    "q2": "def conv_parameters_by_hand(kernel_size, in_channels, filters):\n"
          "    return kernel_size * kernel_size * in_channels * filters  # forgets the biases\n",
}
