"""2-D maps: PCA against NumPy's SVD, t-SNE on clusters with a known answer, the thumbnail plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlpy.viz.embedding import embed_2d, plot_embedding  # noqa: E402
from dlpy.viz.neighbors import nearest_neighbors, neighbor_class_agreement  # noqa: E402


def test_pca_matches_the_projection_on_the_top_two_singular_vectors():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 6)) @ np.diag([5, 3, 1, 0.5, 0.2, 0.1])
    centered = features - features.mean(0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    expected = centered @ vt[:2].T
    got = embed_2d(features, "pca")
    for axis in range(2):  # each component is defined up to its sign
        sign = np.sign(np.dot(got[:, axis], expected[:, axis]))
        np.testing.assert_allclose(sign * got[:, axis], expected[:, axis], rtol=1e-6, atol=1e-8)


def test_tsne_keeps_separated_clusters_apart():
    rng = np.random.default_rng(1)
    centers = rng.normal(0, 20, size=(3, 10))
    labels = np.repeat(np.arange(3), 15)
    features = centers[labels] + rng.normal(size=(45, 10))
    coords = embed_2d(features, "tsne", seed=0)
    assert coords.shape == (45, 2)
    neighbors, _ = nearest_neighbors(coords, coords, k=5, query_indices=np.arange(45))
    assert neighbor_class_agreement(neighbors, labels, labels) == 1.0


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="method"):
        embed_2d(np.zeros((5, 2)), "umap")
    with pytest.raises(ValueError, match="feature matrix"):
        embed_2d(np.zeros(5))
    with pytest.raises(ValueError, match="coordinates"):
        plot_embedding(np.zeros((3, 3)), np.zeros((3, 8, 8, 3)))


def test_plot_embedding_places_one_thumbnail_per_image():
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 255, size=(6, 20, 30, 3))
    ax = plot_embedding(rng.normal(size=(6, 2)), images, labels=[0, 1, 0, 1, 0, 1], class_names=["cat", "dog"],
                        thumbnail_size=16)
    from matplotlib.offsetbox import AnnotationBbox

    boxes = [a for a in ax.artists if isinstance(a, AnnotationBbox)]
    assert len(boxes) == 6
    assert boxes[0].offsetbox.get_data().shape == (11, 16, 3)  # longer side shrunk to 16 pixels
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cat", "dog"]
