"""Chapter 11 (feature space): q1 nearest neighbors (the teaching copy), q2 cosine similarity."""

from dlpy.classroom.checks import check


@check("q1")
def test_neighbors_on_a_line(nearest_neighbors_by_hand):
    import numpy as np

    got = nearest_neighbors_by_hand(np.array([[0.0], [1.0], [3.0], [7.0]]), 1)
    assert got is not None and np.asarray(got).tolist() == [[1], [0], [1], [2]], (
        f"nearest_neighbors_by_hand(points 0, 1, 3, 7 on a line, k=1) returned {got!r}; expected [[1], [0], [1], [2]] "
        "(a point is not its own neighbor)")


@check("q1", hidden=True)
def test_neighbors_match_dlpy(nearest_neighbors_by_hand):
    import numpy as np

    from dlpy.viz.neighbors import nearest_neighbors

    vectors = np.random.default_rng(7).normal(size=(60, 12))
    expected, _ = nearest_neighbors(vectors, vectors, k=5, query_indices=np.arange(60))
    assert np.array_equal(nearest_neighbors_by_hand(vectors, 5), expected), \
        "neighbors of 60 random vectors differ from dlpy's"


@check("q2")
def test_cosine_small_example(cosine_similarity_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    a, b = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    expected = [[1, 0, -1], [2 ** -0.5, 2 ** -0.5, -(2 ** -0.5)]]
    expect_close(cosine_similarity_by_hand(a, b), expected, "cosine_similarity_by_hand(2 rows, 3 rows)", tolerance=1e-6)


@check("q2", hidden=True)
def test_cosine_matches_scikit_learn(cosine_similarity_by_hand):
    import numpy as np
    from sklearn.metrics.pairwise import cosine_similarity

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(7, 32)), rng.normal(size=(9, 32))
    expect_close(cosine_similarity_by_hand(a, b), cosine_similarity(a, b), "cosine_similarity_by_hand(7x32, 9x32)")


WRONG_ANSWERS = {
    "q1": "def nearest_neighbors_by_hand(vectors, k):\n"
          "    distances = ((vectors[:, None] - vectors[None]) ** 2).sum(-1)\n"
          "    return np.argsort(distances, axis=1)[:, :k]  # every point finds itself first\n",
    "q2": "def cosine_similarity_by_hand(a, b):\n"
          "    return a @ b.T  # a dot product, not normalized by the lengths\n",
}
