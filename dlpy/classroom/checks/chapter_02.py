"""Chapter 02 (Reuters): q1 one-hot labels and categorical cross-entropy (the teaching copy), q2 top-k accuracy."""

from dlpy.classroom.checks import check


@check("q1")
def test_one_hot_and_crossentropy_small_example(to_one_hot_by_hand, categorical_crossentropy_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    expect_close(to_one_hot_by_hand(np.array([0, 2]), dimension=3), [[1, 0, 0], [0, 0, 1]],
                 "to_one_hot_by_hand([0, 2], dimension=3)")
    expect_close(categorical_crossentropy_by_hand(np.array([[0.0, 1.0]]), np.array([[0.75, 0.25]])), [np.log(4)],
                 "categorical_crossentropy_by_hand([[0, 1]], [[0.75, 0.25]]) (one value per sample)", tolerance=1e-5)


@check("q1", hidden=True)
def test_one_hot_and_crossentropy_match_keras(to_one_hot_by_hand, categorical_crossentropy_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(12)
    labels = rng.integers(0, 46, 30)
    one_hot = to_one_hot_by_hand(labels)
    expect_close(one_hot, keras.utils.to_categorical(labels, 46), "to_one_hot_by_hand(30 random labels)")
    probabilities = rng.dirichlet(np.ones(46), size=30).astype("float32")
    expect_close(categorical_crossentropy_by_hand(np.asarray(one_hot), probabilities),
                 keras.losses.categorical_crossentropy(keras.utils.to_categorical(labels, 46), probabilities),
                 "categorical_crossentropy_by_hand(30 random samples)", tolerance=1e-5)


@check("q2")
def test_top_k_accuracy_small_example(top_k_accuracy_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    probabilities = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]])
    labels = np.array([2, 1, 0])  # second choice, third choice, third choice
    expect_close(top_k_accuracy_by_hand(probabilities, labels, 1), 0.0, "top_k_accuracy_by_hand(..., k=1)")
    expect_close(top_k_accuracy_by_hand(probabilities, labels, 2), 1 / 3, "top_k_accuracy_by_hand(..., k=2)")


@check("q2", hidden=True)
def test_top_k_accuracy_matches_keras(top_k_accuracy_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(3)
    probabilities, labels = rng.dirichlet(np.ones(46), size=200).astype("float32"), rng.integers(0, 46, 200)
    for k in (1, 3, 5):
        reference = np.mean(keras.metrics.sparse_top_k_categorical_accuracy(labels, probabilities, k=k))
        expect_close(top_k_accuracy_by_hand(probabilities, labels, k), reference,
                     f"top_k_accuracy_by_hand(200 random samples, k={k})", tolerance=1e-6)


WRONG_ANSWERS = {
    "q1": "def to_one_hot_by_hand(labels, dimension=46):\n"
          "    return np.eye(dimension)[labels]\n\n\n"
          "def categorical_crossentropy_by_hand(one_hot_labels, probabilities):\n"
          "    return -np.mean(one_hot_labels * np.log(probabilities), axis=-1)  # a mean over classes, not a sum\n",
    "q2": "def top_k_accuracy_by_hand(probabilities, labels, k):\n"
          "    return float(np.mean(np.argmax(probabilities, axis=-1) == labels))  # ignores k\n",
}
