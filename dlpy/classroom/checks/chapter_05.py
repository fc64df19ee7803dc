"""Chapter 05 (first convnet): q1 a convolution by hand (the teaching copy), q2 a convolution's output size."""

from dlpy.classroom.checks import check


@check("q1")
def test_convolution_small_example(conv2d_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    image, kernel = np.ones((4, 5, 1)), np.ones((3, 3, 1, 1))
    expect_close(conv2d_by_hand(image, kernel, np.array([1.0])), np.full((2, 3, 1), 10.0),
                 "conv2d_by_hand(ones (4, 5, 1), ones (3, 3, 1, 1), bias [1]) (a 'valid' convolution)")


@check("q1", hidden=True)
def test_convolution_matches_keras(conv2d_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    layer = keras.layers.Conv2D(5, 3, kernel_initializer=keras.initializers.GlorotUniform(seed=14),
                                bias_initializer=keras.initializers.RandomNormal(seed=15))
    image = np.random.default_rng(14).normal(size=(9, 11, 2)).astype("float32")
    expected = np.asarray(layer(image[None]))[0]
    expect_close(conv2d_by_hand(image, *layer.get_weights()), expected, "conv2d_by_hand(random image, Keras weights)",
                 tolerance=1e-5)


@check("q2")
def test_output_size_small_example(conv_output_size):
    for arguments, expected in (((28, 3), 26), ((28, 3, 2, "same"), 14), ((5, 5), 1)):
        got = conv_output_size(*arguments)
        assert got == expected, f"conv_output_size{arguments} returned {got!r}; expected {expected}"


@check("q2", hidden=True)
def test_output_size_matches_keras(conv_output_size):
    import keras

    for size in (7, 28, 31):
        for kernel in (1, 3, 5):
            for strides in (1, 2, 3):
                for padding in ("valid", "same"):
                    layer = keras.layers.Conv2D(1, kernel, strides=strides, padding=padding)
                    expected = layer.compute_output_shape((None, size, size, 1))[1]
                    got = conv_output_size(size, kernel, strides, padding)
                    assert got == expected, (f"conv_output_size({size}, {kernel}, {strides}, {padding!r}) returned "
                                             f"{got!r}; Keras gives {expected}")


WRONG_ANSWERS = {
    "q1": "def conv2d_by_hand(image, kernel, bias):\n"
          "    rows, cols = image.shape[0] - 2, image.shape[1] - 2\n"
          "    output = np.empty((rows, cols, kernel.shape[-1]))\n"
          "    for row in range(rows):\n"
          "        for col in range(cols):\n"
          "            output[row, col] = np.tensordot(image[row:row + 3, col:col + 3], kernel, axes=3)  # no bias\n"
          "    return output\n",
    "q2": "def conv_output_size(size, kernel_size, strides=1, padding='valid'):\n"
          "    return size - kernel_size + 1 if padding == 'valid' else size  # ignores the strides\n",
}
