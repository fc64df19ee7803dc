"""Chapter 01 (IMDB): q1 the multi-hot encoding (the teaching copy), q2 binary cross-entropy."""

from dlpy.classroom.checks import check


@check("q1")
def test_multi_hot_small_example(multi_hot_by_hand):
    from dlpy.classroom.checks import expect_close

    expected = [[0, 0, 0, 1, 0, 1, 0, 0, 0, 1], [1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0] * 10]
    expect_close(multi_hot_by_hand([[3, 5, 5, 9], [0, 1], []], 10), expected,
                 "multi_hot_by_hand([[3, 5, 5, 9], [0, 1], []], 10)")


@check("q1", hidden=True)
def test_multi_hot_matches_dlpy(multi_hot_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.data.multi_hot import multi_hot

    rng = np.random.default_rng(1)
    sequences = [rng.integers(0, 50, size=rng.integers(0, 30)).tolist() for _ in range(20)]
    expect_close(multi_hot_by_hand(sequences, 50), multi_hot(sequences, 50), "multi_hot_by_hand(20 random reviews, 50)")


@check("q2")
def test_binary_crossentropy_known_value(binary_crossentropy_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    expected = -(np.log(0.9) + np.log(0.8)) / 2  # two confident, correct predictions
    expect_close(binary_crossentropy_by_hand(np.array([1.0, 0.0]), np.array([0.9, 0.2])), expected,
                 "binary_crossentropy_by_hand([1, 0], [0.9, 0.2])", tolerance=1e-5)


@check("q2", hidden=True)
def test_binary_crossentropy_matches_keras(binary_crossentropy_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(2)
    labels, probabilities = rng.integers(0, 2, 100).astype("float32"), rng.uniform(0.01, 0.99, 100).astype("float32")
    reference = float(keras.losses.binary_crossentropy(labels[:, None], probabilities[:, None]).numpy().mean())
    expect_close(binary_crossentropy_by_hand(labels, probabilities), reference,
                 "binary_crossentropy_by_hand(100 random labels and probabilities)", tolerance=1e-4)


WRONG_ANSWERS = {
    "q1": "def multi_hot_by_hand(sequences, num_words):\n"
          "    encoded = np.zeros((len(sequences), num_words))\n"
          "    for row, word_indices in enumerate(sequences):\n"
          "        for index in word_indices:\n"
          "            encoded[row, index] += 1  # counts, not presence\n"
          "    return encoded\n",
    "q2": "def binary_crossentropy_by_hand(y_true, y_pred):\n"
          "    return float(np.mean(-y_true * np.log(y_pred)))  # forgets the negative class\n",
}
