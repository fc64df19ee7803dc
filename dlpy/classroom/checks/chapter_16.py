"""Chapter 16 (best practices): q1 the ensemble average and log loss (the teaching copy), q2 a confusion matrix."""

from dlpy.classroom.checks import check


@check("q1")
def test_ensemble_small_example(weighted_average_by_hand, log_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    members = np.array([[[0.8, 0.2]], [[0.4, 0.6]]])  # two models, one sample, two classes
    average = weighted_average_by_hand(members, np.array([0.75, 0.25]))
    expect_close(average, [[0.7, 0.3]], "weighted_average_by_hand(two members, weights [0.75, 0.25])")
    expect_close(log_loss_by_hand(np.asarray(average), np.array([0])), -np.log(0.7),
                 "log_loss_by_hand([[0.7, 0.3]], labels [0]): minus the log probability of the true class",
                 tolerance=1e-5)


@check("q1", hidden=True)
def test_ensemble_matches_dlpy(weighted_average_by_hand, log_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.practices.ensembles import log_loss, weighted_average

    rng = np.random.default_rng(11)
    members = rng.dirichlet(np.ones(10), size=(3, 40))
    weights, labels = np.array([0.2, 0.5, 0.3]), rng.integers(0, 10, 40)
    average = weighted_average_by_hand(members, weights)
    expect_close(average, weighted_average(members, weights), "weighted_average_by_hand(3 random members)")
    expect_close(log_loss_by_hand(np.asarray(average), labels), log_loss(np.asarray(average), labels),
                 "log_loss_by_hand(40 random samples)", tolerance=1e-5)


@check("q2")
def test_confusion_small_example(confusion_matrix_by_hand):
    import numpy as np

    got = confusion_matrix_by_hand(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert got is not None and np.asarray(got).tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]], (
        f"confusion_matrix_by_hand(labels [0, 0, 1, 2], predictions [0, 1, 1, 1], 3) returned {got!r}; expected "
        "[[1, 1, 0], [0, 1, 0], [0, 1, 0]] (rows: true class, columns: predicted class)")


@check("q2", hidden=True)
def test_confusion_matches_scikit_learn(confusion_matrix_by_hand):
    import numpy as np
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(12)
    labels, predictions = rng.integers(0, 10, 300), rng.integers(0, 10, 300)
    expected = confusion_matrix(labels, predictions, labels=np.arange(10))
    assert np.array_equal(np.asarray(confusion_matrix_by_hand(labels, predictions, 10)), expected), (
        "confusion_matrix_by_hand(300 random labels and predictions, 10) differs from scikit-learn's")


WRONG_ANSWERS = {
    "q1": "def weighted_average_by_hand(member_probabilities, weights):\n"
          "    return np.mean(member_probabilities, axis=0)  # ignores the weights\n\n\n"
          "def log_loss_by_hand(probabilities, labels):\n"
          "    return -np.mean(np.log(probabilities[np.arange(len(labels)), labels]))\n",
    "q2": "def confusion_matrix_by_hand(labels, predictions, num_classes):\n"
          "    matrix = np.zeros((num_classes, num_classes), dtype=int)\n"
          "    for label, prediction in zip(labels, predictions):\n"
          "        matrix[prediction, label] += 1  # transposed: rows should be the true classes\n"
          "    return matrix\n",
}
