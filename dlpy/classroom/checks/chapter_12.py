"""Chapter 12 (text classification): q1 scaled dot-product attention (the teaching copy), q2 sinusoidal
positional encodings."""

from dlpy.classroom.checks import check


@check("q1")
def test_attention_ignores_padding(numpy_attention):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    q, k = np.zeros((1, 2, 4)), np.zeros((1, 3, 4))  # equal scores: uniform weights over the real keys
    v = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]])
    result = numpy_attention(q, k, v, np.array([[True, True, False]]))
    assert isinstance(result, tuple) and len(result) == 2, "return (outputs, weights)"
    outputs, weights = result
    expect_close(weights, [[[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]],
                 "numpy_attention(...): the weights (the third key is padding)")
    expect_close(outputs, [[[2.0, 0.0], [2.0, 0.0]]], "numpy_attention(...): the outputs")


@check("q1", hidden=True)
def test_attention_matches_dlpy(numpy_attention):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.sequences import attention

    rng = np.random.default_rng(8)
    q, k, v = (rng.normal(size=(3, 6, 4)).astype("float32") for _ in range(3))
    mask = np.array([[1] * 6, [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0]], dtype=bool)
    ours, our_weights = numpy_attention(q, k, v, mask)
    theirs, their_weights = attention.scaled_dot_product_attention(q, k, v, mask)
    expect_close(ours, np.asarray(theirs), "numpy_attention(3 random masked sequences): the outputs", tolerance=1e-5)
    expect_close(our_weights, np.asarray(their_weights), "numpy_attention(3 random masked sequences): the weights",
                 tolerance=1e-5)


@check("q2")
def test_positional_encoding_first_rows(positional_encoding_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    encoding = positional_encoding_by_hand(3, 4)
    expected = [[0, 1, 0, 1], [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)],
                [np.sin(2), np.cos(2), np.sin(0.02), np.cos(0.02)]]
    expect_close(encoding, expected, "positional_encoding_by_hand(3, 4) (sin in even columns, cos in odd ones)",
                 tolerance=1e-5)


@check("q2", hidden=True)
def test_positional_encoding_long(positional_encoding_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    length, depth = 50, 16
    angles = np.outer(np.arange(length), 10_000.0 ** (-np.repeat(np.arange(depth // 2), 2) * 2 / depth))
    expected = np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))
    expect_close(positional_encoding_by_hand(length, depth), expected, "positional_encoding_by_hand(50, 16)",
                 tolerance=1e-5)


WRONG_ANSWERS = {
    "q1": "from scipy.special import softmax\n\n\n"
          "def numpy_attention(q, k, v, mask):\n"
          "    weights = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1]), axis=-1)  # attends to padding too\n"
          "    return weights @ v, weights\n",
    "q2": "def positional_encoding_by_hand(length, depth):\n"
          "    angles = np.outer(np.arange(length), 10_000.0 ** (-np.arange(depth) / depth))\n"
          "    return np.sin(angles)  # no cosines\n",
}
