"""Nearest neighbors in feature space versus pixel space (cs231n "Visualizing and Understanding").

Two images whose pixels are close need not show the same thing; two images whose last-layer
features are close usually do. :func:`layer_features` reads any layer of any Keras 3 model (names or
dotted paths through nested models), :func:`nearest_neighbors` finds the k closest rows, and
:func:`neighbor_class_agreement` turns the comparison into one number. Taught in chapter 11.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dlpy.course.arguments import integer_at_least
from dlpy.images import displayable
from dlpy.models.introspection import feature_model, inference_model


def sample_per_class(labels, per_class: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``per_class`` random examples of every class in ``labels`` (a balanced
    subset, e.g. from a test split stored class by class). Taught in chapter 11."""
    labels = np.asarray(labels).ravel()
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(f"Class {label} has only {len(members)} examples; asked for {per_class}.")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def pixel_features(images) -> np.ndarray:
    """Raw pixels as feature vectors: (N, H*W*C) float32. Taught in chapter 11."""
    images = np.asarray(images, dtype="float32")
    if images.ndim < 2:
        raise ValueError(f"Expected a batch of images, got shape {images.shape}")
    return images.reshape(len(images), -1)


def layer_features(model: keras.Model, images, layer: str | None = None, *, preprocess=None, pool: str | None = None,
                   batch_size: int = 32) -> np.ndarray:
    """One feature vector per image: the output of ``layer`` (a name or dotted path; ``None``: the
    model's output), flattened, or averaged (``pool="avg"``) / maximized (``pool="max"``) over
    its spatial positions. ``preprocess`` maps the images to the model's input.

    Args:
        model: a Keras model.
        images: a batch of images (N, height, width, channels).
        layer: a layer name or dotted path (``None``: the model's output).
        preprocess: maps the images to the model's input (``None``: they go in unchanged).
        pool: ``None`` (flatten), ``"avg"`` or ``"max"`` over the positions of a spatial layer.
        batch_size: images per forward pass.

    Returns an (N, features) float32 array.

    Example::

        features = layer_features(backbone.model, images, pool="avg", preprocess=backbone.preprocess)

    Taught in chapter 11.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(f"Expected a batch of images (N, height, width, channels), got shape {images.shape}")
    if pool not in (None, "avg", "max"):
        raise ValueError(f"pool is None, 'avg' or 'max', got {pool!r}")
    extractor = inference_model(model) if layer is None else feature_model(model, layer, fold_batch_norm=True)

    @tf.function(reduce_retracing=True)
    def features(batch):
        x = preprocess(batch) if preprocess is not None else batch
        out = extractor(x, training=False)
        if pool is not None:
            if len(out.shape) != 4:
                raise ValueError(f"pool={pool!r} needs a spatial layer; {layer!r} outputs shape {out.shape}")
            out = tf.reduce_mean(out, axis=(1, 2)) if pool == "avg" else tf.reduce_max(out, axis=(1, 2))
        return tf.reshape(out, (tf.shape(out)[0], -1))

    return np.concatenate([features(tf.constant(images[i:i + batch_size])).numpy()
                           for i in range(0, len(images), batch_size)])


def pairwise_distances(queries, database, metric: str = "euclidean") -> np.ndarray:
    """(n_queries, n_database) distances: ``"euclidean"`` or ``"cosine"`` (1 - cosine similarity).
    Taught in chapter 11."""
    queries = np.asarray(queries, dtype="float64")
    database = np.asarray(database, dtype="float64")
    if queries.ndim != 2 or database.ndim != 2 or queries.shape[1] != database.shape[1]:
        raise ValueError(f"Expected two feature matrices with the same number of columns, got shapes "
                         f"{queries.shape} and {database.shape}")
    if metric == "euclidean":
        squared = (queries ** 2).sum(1)[:, None] + (database ** 2).sum(1)[None, :] - 2.0 * queries @ database.T
        return np.sqrt(np.maximum(squared, 0.0))
    if metric == "cosine":
        q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        d = database / np.maximum(np.linalg.norm(database, axis=1, keepdims=True), 1e-12)
        return 1.0 - q @ d.T
    raise ValueError(f"metric is 'euclidean' or 'cosine', got {metric!r}")


def nearest_neighbors(queries, database, k: int = 5, *, metric: str = "euclidean",
                       query_indices=None) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, distances)``, each (n_queries, k): the ``k`` rows of ``database`` closest to each
    query, nearest first. When the queries are rows of the database, pass their row numbers as
    ``query_indices`` so that a query is not its own neighbor. Taught in chapter 11."""
    distances = pairwise_distances(queries, database, metric)
    if query_indices is not None:
        query_indices = np.asarray(query_indices).ravel()
        if len(query_indices) != len(distances):
            raise ValueError(f"query_indices has {len(query_indices)} entries for {len(distances)} queries.")
        distances[np.arange(len(distances)), query_indices] = np.inf
    available = distances.shape[1] - (0 if query_indices is None else 1)
    if not 1 <= k <= available:
        raise ValueError(f"k must be between 1 and {available} (the database size), got {k}")
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(distances, order, axis=1)



def nearest_words(embeddings, vocabulary, probes, k: int = 8) -> dict[str, list[tuple[str, float]]]:
    """For each probe word, the ``k`` other words whose embedding rows are closest by cosine
    similarity (:func:`nearest_neighbors`), with that similarity: ``{probe: [(word, similarity), ...]}``.
    ``embeddings`` is ``(len(vocabulary), dim)`` (an ``Embedding`` layer's weights); padding (``""``)
    and ``[UNK]`` are never neighbors. Taught in chapter 12."""
    embeddings = np.asarray(embeddings, dtype="float64")
    vocabulary = list(vocabulary)
    if embeddings.ndim != 2 or len(embeddings) != len(vocabulary):
        raise ValueError(f"embeddings must have one row per vocabulary word: shape {embeddings.shape} for "
                         f"{len(vocabulary)} words.")
    words = [i for i, word in enumerate(vocabulary) if word not in ("", "[UNK]")]
    row_of = {vocabulary[i]: row for row, i in enumerate(words)}
    missing = [probe for probe in probes if probe not in row_of]
    if missing:
        raise ValueError(f"Not in the vocabulary: {missing}. Probe with words it holds, e.g. {vocabulary[2:7]}.")
    rows = [row_of[probe] for probe in probes]
    database = embeddings[words]
    indices, distances = nearest_neighbors(database[rows], database, integer_at_least("k", k), metric="cosine",
                                           query_indices=rows)
    return {probe: [(vocabulary[words[j]], float(1.0 - d)) for j, d in zip(neighbor_rows, neighbor_distances)]
            for probe, neighbor_rows, neighbor_distances in zip(probes, indices, distances)}

def neighbor_class_agreement(indices, database_labels, query_labels) -> float:
    """The fraction of the k nearest neighbors that share their query's class, over all queries.
    Taught in chapter 11."""
    indices = np.asarray(indices)
    database_labels = np.asarray(database_labels).ravel()
    query_labels = np.asarray(query_labels).ravel()
    if len(query_labels) != len(indices):
        raise ValueError(f"{len(query_labels)} query labels for {len(indices)} queries.")
    return float((database_labels[indices] == query_labels[:, None]).mean())


def plot_neighbors(query_images, database_images, neighbors: dict, database_labels=None, query_labels=None,
                    class_names=None, size: float = 1.3):
    """One row per query: the query, then its neighbors in each space side by side
    (``neighbors = {"pixels": indices, "features": indices}``). With labels, each neighbor's frame
    is green when it shares the query's class and red otherwise. Returns the figure.

    Args:
        query_images: the query images, one row each.
        database_images: the images the neighbors' indices point into.
        neighbors: ``{space name: indices (n_queries, k)}``, e.g. from :func:`nearest_neighbors`.
        database_labels: the class of each database image (frames need both label arrays).
        query_labels: the class of each query, also shown above it (``None``: no labels, no frames).
        class_names: the class names, indexed by label (``None``: the labels themselves).
        size: the width and height of each panel, in inches.

    Example::

        plot_neighbors(images[:5], images, {"pixels": pixel_indices, "features": feature_indices}, labels, labels[:5])

    Taught in chapter 11.
    """
    import matplotlib.pyplot as plt


    spaces = list(neighbors)
    n_queries = len(query_images)
    k = np.asarray(neighbors[spaces[0]]).shape[1]
    columns = 1 + len(spaces) * (k + 1) - 1
    fig, axes = plt.subplots(n_queries, columns, figsize=(size * columns, size * n_queries + 0.4), squeeze=False)

    def name(label):
        return str(class_names[int(label)]) if class_names is not None else str(label)

    for row in range(n_queries):
        for ax in axes[row]:
            ax.axis("off")
        axes[row, 0].imshow(displayable(query_images[row]))
        if query_labels is not None:
            axes[row, 0].set_title(f"query: {name(query_labels[row])}", fontsize=7)
        for s, space in enumerate(spaces):
            for j, index in enumerate(np.asarray(neighbors[space])[row]):
                ax = axes[row, 1 + s * (k + 1) + j]
                ax.imshow(displayable(database_images[index]))
                if database_labels is not None and query_labels is not None:
                    same = database_labels[index] == query_labels[row]
                    ax.axis("on")
                    ax.set_xticks([])
                    ax.set_yticks([])
                    ax.grid(False)
                    for spine in ax.spines.values():
                        spine.set_visible(True)
                        spine.set_color("tab:green" if same else "tab:red")
                        spine.set_linewidth(2.5)
                if row == 0 and j == 0:
                    ax.set_title(f"{space} space: nearest {k}", fontsize=8, loc="left")
    fig.tight_layout()
    return fig
