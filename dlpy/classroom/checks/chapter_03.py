"""Chapter 03 (Boston housing): q1 K-fold indices (the teaching copy), q2 feature-wise standardization."""

from dlpy.classroom.checks import check


@check("q1")
def test_kfold_small_example(kfold_indices_by_hand):
    import numpy as np

    folds = kfold_indices_by_hand(10, 3)
    assert folds is not None and len(folds) == 3, f"kfold_indices_by_hand(10, 3) should give 3 folds, got {folds!r}"
    validation = [np.asarray(v).tolist() for _, v in folds]
    assert validation == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]], (
        f"validation folds of kfold_indices_by_hand(10, 3): {validation}; expected consecutive folds "
        "[[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]] (np.array_split)")
    for (train, val), fold in zip(folds, range(3)):
        assert sorted(np.concatenate([train, val]).tolist()) == list(range(10)), (
            f"fold {fold}: training and validation indices together must be 0..9 exactly once")


@check("q1", hidden=True)
def test_kfold_matches_dlpy(kfold_indices_by_hand):
    import numpy as np

    from dlpy.training import kfold_indices

    for n, k in ((404, 4), (10, 3), (7, 7)):
        for fold, ((a, b), (c, d)) in enumerate(zip(kfold_indices_by_hand(n, k), kfold_indices(n, k), strict=True)):
            assert np.array_equal(a, c) and np.array_equal(b, d), \
                f"kfold_indices_by_hand({n}, {k}): fold {fold} differs"


@check("q2")
def test_standardize_small_example(standardize_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    result = standardize_by_hand(np.array([[0.0, 10.0], [2.0, 30.0]]), np.array([[4.0, 20.0]]))
    assert isinstance(result, tuple) and len(result) == 2, "return two arrays: (train, test), both standardized"
    expect_close(result[0], [[-1, -1], [1, 1]], "standardize_by_hand(train, test)[0] (the training data)")
    expect_close(result[1], [[3, 0]], "standardize_by_hand(train, test)[1]: the test data, scaled with the "
                 "TRAINING mean and standard deviation")


@check("q2", hidden=True)
def test_standardize_matches_scikit_learn(standardize_by_hand):
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(4)
    train, test = rng.normal(5, 3, size=(50, 13)), rng.normal(6, 2, size=(20, 13))
    scaler = StandardScaler().fit(train)
    ours_train, ours_test = standardize_by_hand(train, test)
    expect_close(ours_train, scaler.transform(train), "standardize_by_hand(random train, test)[0]")
    expect_close(ours_test, scaler.transform(test), "standardize_by_hand(random train, test)[1]")


WRONG_ANSWERS = {
    "q1": "def kfold_indices_by_hand(num_samples, k):\n"
          "    indices = np.arange(num_samples)\n"
          "    return [(indices[i::k], indices[i::k]) for i in range(k)]  # validation leaks into training\n",
    "q2": "def standardize_by_hand(train, test):\n"
          "    scale = lambda x: (x - x.mean(axis=0)) / x.std(axis=0)\n"
          "    return scale(train), scale(test)  # the test set uses its own statistics\n",
}
