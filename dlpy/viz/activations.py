"""What each layer of a convnet outputs for one image: channel grids, sparsity with depth, and the
first layer's filters as RGB tiles. Works on Functional, Sequential and nested Keras 3 models.
Taught in chapter 08.
"""

from __future__ import annotations

import keras
import numpy as np

from dlpy.images import image_batch, tile
from dlpy.models.introspection import feature_model, find_layer, layer_paths
from dlpy.plots import image_axes


def spatial_layers(model: keras.Model, kinds=("Conv2D", "DepthwiseConv2D", "SeparableConv2D",
                                              "MaxPooling2D", "ReLU", "Activation")) -> list[str]:
    """Addresses (dotted through nested models) of the layers whose output is a feature map
    (batch, height, width, channels), restricted to the given layer classes.

    Taught in chapter 08.
    """
    paths = []
    for path in layer_paths(model):
        layer = find_layer(model, path)
        if isinstance(layer, keras.Model) or type(layer).__name__ not in kinds:
            continue
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):  # a layer never called in a graph
            continue
        if len(shape) == 4:
            paths.append(path)
    return paths


def layer_activations(model: keras.Model, images, layers, preprocess=None) -> dict[str, np.ndarray]:
    """The outputs of ``layers`` (names or dotted paths) for ``images``, from one forward pass:
    ``{path: array (n, h, w, channels)}``. ``preprocess`` maps the images to the model's input first.

    Taught in chapter 08.
    """
    paths = [layers] if isinstance(layers, str) else list(layers)
    batch = image_batch(images, model)
    if preprocess is not None:
        batch = keras.ops.convert_to_numpy(preprocess(batch))
    extractor = feature_model(model, paths)
    outputs = extractor(batch, training=False)
    outputs = [outputs] if len(paths) == 1 else outputs
    return {path: keras.ops.convert_to_numpy(out) for path, out in zip(paths, outputs)}


def channel_grid(activation, columns: int = 16, gap: int = 1) -> np.ndarray:
    """Every channel of one feature map (h, w, channels), or of the first image of a batch, as one
    grid image in [0, 1] of shape (rows * (h + gap) - gap, columns * (w + gap) - gap).

    Each channel is standardized on its own (the book's display: mean 0.5, 0.25 per standard
    deviation, clipped); a channel that is constant (a dead unit) shows as black.
    Taught in chapter 08.
    """
    activation = np.asarray(activation, dtype="float32")
    if activation.ndim == 4:
        activation = activation[0]
    if activation.ndim != 3:
        raise ValueError(f"channel_grid needs a feature map (height, width, channels); got shape {activation.shape}.")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}.")
    channels = np.moveaxis(activation, -1, 0)  # (channels, h, w)
    mean = channels.mean(axis=(1, 2), keepdims=True)
    std = channels.std(axis=(1, 2), keepdims=True)
    shown = np.where(std > 1e-8, np.clip((channels - mean) / np.maximum(std, 1e-8) * 0.25 + 0.5, 0.0, 1.0), 0.0)
    return tile(shown.astype("float32"), columns=columns, gap=gap, fill=0.0)


def plot_channel_grid(activation, title: str | None = None, columns: int = 16, size: float = 0.7,
                      cmap: str = "viridis", ax=None):
    """Show :func:`channel_grid` of a feature map; returns the axes.

    Args:
        activation: a feature map (h, w, channels), or a batch of them (the first one is shown).
        title: the title of the axes (``None``: none).
        columns: channels per row of the grid.
        size: the width and height of one channel's tile, in inches (for a new figure).
        cmap: the matplotlib colormap.
        ax: the matplotlib axes to draw in (``None``: a new figure).

    Example::

        plot_channel_grid(layer_activations(model, photo, "conv2d_1")["conv2d_1"], title="conv2d_1")

    Taught in chapter 08."""
    import matplotlib.pyplot as plt

    grid = channel_grid(activation, columns=columns)
    if ax is None:
        rows = grid.shape[0] / max(grid.shape[1], 1) * columns
        _, ax = plt.subplots(figsize=(size * columns, max(size * rows, 1.0) + 0.4))
    ax.imshow(grid, cmap=cmap, aspect="equal", interpolation="nearest")
    return image_axes(ax, title)


def activation_sparsity(activations: dict) -> dict[str, float]:
    """The fraction of exactly-zero values in each layer's output: ``{path: fraction}``.

    After a ReLU a zero means "this filter found nothing here"; the fraction grows with depth.
    Taught in chapter 08.
    """
    return {path: float(np.mean(np.asarray(value) == 0.0)) for path, value in activations.items()}


def first_conv_layer(model: keras.Model) -> str:
    """The address of the first Conv2D layer that reads the RGB image. Taught in chapter 08."""
    for path in layer_paths(model):
        layer = find_layer(model, path)
        if type(layer).__name__ == "Conv2D" and layer.kernel.shape[2] == 3:
            return path
    raise ValueError(f"Model {model.name!r} has no Conv2D layer with 3 input channels; "
                     f"its layers are: {', '.join(layer_paths(model))}")


def rgb_filter_tiles(kernel) -> np.ndarray:
    """A first-layer convolution kernel (kh, kw, 3, filters) as ``filters`` RGB tiles
    (filters, kh, kw, 3) in [0, 1]: each filter scaled so that 0.5 is a zero weight and its
    largest absolute weight reaches 0 or 1.

    Taught in chapter 08.
    """
    kernel = np.asarray(kernel, dtype="float32")
    if kernel.ndim != 4 or kernel.shape[2] != 3:
        raise ValueError(f"Expected a kernel (height, width, 3, filters) that reads RGB; got shape {kernel.shape}.")
    tiles = np.moveaxis(kernel, -1, 0)
    scale = np.abs(tiles).max(axis=(1, 2, 3), keepdims=True)
    return 0.5 + 0.5 * tiles / np.maximum(scale, 1e-12)
