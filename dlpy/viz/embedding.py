"""2-D maps of a feature space (cs231n "Visualizing and Understanding"): project the features with
PCA or t-SNE (scikit-learn) and place each image's thumbnail at its coordinates, framed in its
class color. Images the network finds alike land together. Taught in chapter 11.
"""

from __future__ import annotations

import numpy as np

METHODS = ("pca", "tsne")


def embed_2d(features, method: str = "tsne", *, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """(N, 2) coordinates of the rows of ``features``: ``"pca"`` (the two directions of largest
    variance) or ``"tsne"`` (neighborhoods kept, distances not; perplexity capped below N/3,
    initialized from PCA). Taught in chapter 11."""
    features = np.asarray(features, dtype="float64")
    if features.ndim != 2:
        raise ValueError(f"Expected a feature matrix (N, D), got shape {features.shape}")
    if len(features) < 3:
        raise ValueError(f"Need at least 3 points to lay out, got {len(features)}")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(features)
    if method == "tsne":
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits

        perplexity = min(perplexity, (len(features) - 1) / 3)
        # One thread: for the few thousand points of a course map this is seconds, and OpenMP threads
        # spinning on a busy machine made it an order of magnitude slower.
        with threadpool_limits(limits=1):
            return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
    raise ValueError(f"method is one of {METHODS}, got {method!r}")


def plot_embedding(coordinates, images, labels=None, class_names=None, *, thumbnail_size: int = 28,
                   title: str | None = None, ax=None):
    """Thumbnails of ``images`` at their 2-D ``coordinates`` (from :func:`embed_2d`), each framed in
    its class color, over a scatter of the points; a legend names the classes. Returns the axes.

    Args:
        coordinates: the (N, 2) positions, one per image.
        images: the N images, in any range :func:`dlpy.images.displayable` accepts (0-255 or 0-1).
        labels: N integer class labels (``None``: all class 0).
        class_names: the class names, indexed by label, for the legend (``None``: the labels' numbers).
        thumbnail_size: the longer side of each thumbnail, in pixels.
        title: the title of the axes (``None``: none).
        ax: the matplotlib axes to draw in (``None``: a new 8x8-inch figure).

    Example::

        plot_embedding(embed_2d(features, "tsne"), images, labels, class_names=("cat", "dog"))

    Taught in chapter 11."""
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    from dlpy.images import displayable
    from dlpy.plots import image_axes

    coordinates = np.asarray(coordinates, dtype="float64")
    if coordinates.ndim != 2 or coordinates.shape[1] != 2 or len(coordinates) != len(images):
        raise ValueError(f"Expected (N, 2) coordinates for {len(images)} images, got shape {coordinates.shape}")
    labels = np.zeros(len(images), int) if labels is None else np.asarray(labels).ravel().astype(int)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8))
    colors = plt.get_cmap("tab10")
    for label in np.unique(labels):
        points = coordinates[labels == label]
        name = class_names[label] if class_names is not None else str(label)
        ax.scatter(points[:, 0], points[:, 1], s=8, color=colors(label % 10), label=name)
    for (x, y), image, label in zip(coordinates, images, labels):
        thumbnail = _thumbnail(displayable(image), thumbnail_size)
        box = AnnotationBbox(OffsetImage(thumbnail, zoom=1.0), (x, y), frameon=True, pad=0.1,
                             bboxprops={"edgecolor": colors(label % 10), "linewidth": 1.5})
        ax.add_artist(box)
    if class_names is not None or len(np.unique(labels)) > 1:
        ax.legend(loc="upper right", markerscale=3)
    return image_axes(ax, title)


def _thumbnail(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` (in [0, 1]) shrunk so that its longer side is ``size`` pixels."""
    from PIL import Image

    height, width = image.shape[:2]
    scale = size / max(height, width)
    pixels = (image * 255).astype("uint8")
    shrunk = Image.fromarray(pixels).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                            Image.BILINEAR)
    return np.asarray(shrunk)
