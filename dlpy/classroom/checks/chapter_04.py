"""Chapter 04 (overfitting): q1 the L2 penalty and inverted dropout (the teaching copy), q2 the L1 penalty."""

from dlpy.classroom.checks import check


@check("q1")
def test_l2_and_dropout_small_example(l2_penalty_by_hand, dropout_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    expect_close(l2_penalty_by_hand(np.array([[1.0, -2.0], [0.0, 3.0]]), 0.01), 0.14,
                 "l2_penalty_by_hand([[1, -2], [0, 3]], 0.01)")
    outputs, keep = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 1, 0])
    expect_close(dropout_by_hand(outputs, 0.5, keep), [2, 0, 6, 0],
                 "dropout_by_hand([1, 2, 3, 4], rate=0.5, keep=[1, 0, 1, 0]) "
                 "(kept values are scaled by 1 / (1 - rate))")


@check("q1", hidden=True)
def test_l2_and_dropout_match_keras(l2_penalty_by_hand, dropout_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(13)
    kernel = rng.normal(size=(20, 8)).astype("float32")
    expect_close(l2_penalty_by_hand(kernel, 0.002), keras.regularizers.L2(0.002)(kernel),
                 "l2_penalty_by_hand(a random 20x8 kernel, 0.002)", tolerance=1e-5)
    outputs = rng.uniform(0.1, 1, size=(200, 16)).astype("float32")
    dropped = np.asarray(keras.layers.Dropout(0.3, seed=1)(outputs, training=True))
    expect_close(dropout_by_hand(outputs, 0.3, dropped != 0), dropped, "dropout_by_hand(random outputs, 0.3, keep)",
                 tolerance=1e-5)


@check("q2")
def test_l1_small_example(l1_penalty_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    expect_close(l1_penalty_by_hand(np.array([[1.0, -2.0], [0.0, 3.0]]), 0.1), 0.6,
                 "l1_penalty_by_hand([[1, -2], [0, 3]], 0.1)")


@check("q2", hidden=True)
def test_l1_matches_keras(l1_penalty_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    kernel = np.random.default_rng(5).normal(size=(30, 7)).astype("float32")
    expect_close(l1_penalty_by_hand(kernel, 0.003), keras.regularizers.L1(0.003)(kernel),
                 "l1_penalty_by_hand(a random 30x7 kernel, 0.003)", tolerance=1e-5)


WRONG_ANSWERS = {
    "q1": "def l2_penalty_by_hand(kernel, factor=0.002):\n"
          "    return factor * np.sum(kernel ** 2)\n\n\n"
          "def dropout_by_hand(outputs, rate, keep):\n"
          "    return np.where(keep, outputs, 0.0)  # forgets to scale the kept outputs by 1 / (1 - rate)\n",
    "q2": "def l1_penalty_by_hand(kernel, factor):\n"
          "    return factor * np.sum(kernel)  # negative weights cancel positive ones\n",
}
