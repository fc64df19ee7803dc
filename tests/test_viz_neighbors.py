"""Nearest neighbors against a brute-force NumPy loop; features through nested models."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlpy.data.pipelines import dataset_to_arrays
from dlpy.viz.neighbors import (
    layer_features,
    nearest_neighbors,
    neighbor_class_agreement,
    pixel_features,
    sample_per_class,
)


def brute_force(queries, database, k, metric, skip=None):
    result = []
    for q, query in enumerate(queries):
        distances = []
        for i, row in enumerate(database):
            if skip is not None and skip[q] == i:
                continue
            if metric == "euclidean":
                d = np.sqrt(np.sum((query - row) ** 2))
            else:
                d = 1 - np.dot(query, row) / (np.linalg.norm(query) * np.linalg.norm(row))
            distances.append((d, i))
        distances.sort()
        result.append([i for _, i in distances[:k]])
    return np.array(result)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_neighbors_match_a_brute_force_loop(metric):
    rng = np.random.default_rng(0)
    database = rng.normal(size=(60, 7))
    queries = rng.normal(size=(9, 7))
    indices, distances = nearest_neighbors(queries, database, k=4, metric=metric)
    np.testing.assert_array_equal(indices, brute_force(queries, database, 4, metric))
    assert np.all(np.diff(distances, axis=1) >= 0)
    if metric == "euclidean":
        np.testing.assert_allclose(distances[:, 0], np.linalg.norm(database[indices[:, 0]] - queries, axis=1))


def test_queries_taken_from_the_database_are_not_their_own_neighbors():
    rng = np.random.default_rng(1)
    database = rng.normal(size=(30, 5))
    picks = np.array([3, 17, 29])
    indices, _ = nearest_neighbors(database[picks], database, k=5, query_indices=picks)
    assert not np.any(indices == picks[:, None])
    np.testing.assert_array_equal(indices, brute_force(database[picks], database, 5, "euclidean", skip=picks))
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbors(database[picks], database, k=30, query_indices=picks)
    with pytest.raises(ValueError, match="same number of columns"):
        nearest_neighbors(database[:, :3], database)
    with pytest.raises(ValueError, match="metric"):
        nearest_neighbors(database, database, metric="manhattan")


def test_class_agreement_counts_neighbors_of_the_same_class():
    labels = np.array([0, 0, 1, 1, 1])
    indices = np.array([[1, 2], [2, 3]])  # query 0 (class 0): one of two; query 1 (class 1): two of two
    assert neighbor_class_agreement(indices, labels, [0, 1]) == pytest.approx(0.75)
    # Two well separated clusters: every neighbor shares the class.
    rng = np.random.default_rng(2)
    points = np.concatenate([rng.normal(0, 1, (20, 3)), rng.normal(50, 1, (20, 3))])
    classes = np.repeat([0, 1], 20)
    found, _ = nearest_neighbors(points, points, k=5, query_indices=np.arange(40))
    assert neighbor_class_agreement(found, classes, classes) == 1.0


def test_layer_features_through_a_nested_model_with_pooling_and_preprocessing():
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv")], name="base")
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(inner(inputs)))
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(3).uniform(0, 255, (5, 8, 8, 3)).astype("float32")

    def scale(x):
        return x / 255.0

    conv = layer_features(model, images, "base.conv", preprocess=scale, batch_size=2)
    expected = np.asarray(inner(images / 255.0))
    np.testing.assert_allclose(conv, expected.reshape(5, -1), rtol=1e-5, atol=1e-5)
    pooled = layer_features(model, images, "base.conv", preprocess=scale, pool="avg")
    np.testing.assert_allclose(pooled, expected.mean(axis=(1, 2)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer_features(model, images, preprocess=scale), np.asarray(model(images / 255.0)),
                               rtol=1e-5, atol=1e-5)
    assert pixel_features(images).shape == (5, 192)
    with pytest.raises(ValueError, match="batch of images"):
        layer_features(model, images[0])
    with pytest.raises(ValueError, match="No layer"):
        layer_features(model, images, "nope")


def test_dataset_to_arrays_with_a_limit_and_sample_per_class():
    images = np.arange(10 * 2 * 2 * 1, dtype="float32").reshape(10, 2, 2, 1)
    labels = np.array([0] * 6 + [1] * 4)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(3)
    got_images, got_labels = dataset_to_arrays(dataset, limit=7)
    np.testing.assert_array_equal(got_images, images[:7])
    np.testing.assert_array_equal(got_labels, labels[:7])
    chosen = sample_per_class(labels, 3, seed=1)
    assert len(chosen) == 6 and np.bincount(labels[chosen]).tolist() == [3, 3]
    with pytest.raises(ValueError, match="only 4"):
        sample_per_class(labels, 5)
