"""Plots every chapter uses: training curves and image grids. Taught in chapter 01 (curves) and 05 (grids)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dlpy.images import displayable


def smooth_curve(values, factor: float = 0.9) -> np.ndarray:
    """Exponential moving average of a noisy curve (chapter 03's smoothed MAE)."""
    if not 0 <= factor < 1:
        raise ValueError(f"factor must be in [0, 1), got {factor}")
    smoothed, previous = [], None
    for value in np.asarray(values, dtype="float64"):
        previous = value if previous is None else previous * factor + value * (1 - factor)
        smoothed.append(previous)
    return np.array(smoothed)


def history_dict(history) -> dict:
    """The metrics of a ``keras.callbacks.History`` (or an already plain dict) as a dict."""
    return history.history if hasattr(history, "history") else dict(history)


def plot_history(history, metrics=None, title: str | None = None, axes=None):
    """Training and validation curves from a ``keras.callbacks.History`` (or its ``.history`` dict).

    One panel per metric (default: every metric that has a ``val_`` twin, loss first); the best
    validation epoch is marked. Returns the matplotlib axes.
    """
    logs = history_dict(history)
    if not logs:
        raise ValueError("The history is empty: was the model trained?")
    if metrics is None:
        metrics = [m for m in logs if not m.startswith("val_")]
        metrics = sorted(metrics, key=lambda m: (m != "loss", m))
    elif isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in logs]
    if unknown:
        raise ValueError(f"No metric {unknown} in this history; it has: {sorted(logs)}")
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
        axes = axes[0]
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", ms=3, label=f"training {metric}")
        if f"val_{metric}" in logs:
            val = np.asarray(logs[f"val_{metric}"])
            ax.plot(epochs, val, "s-", ms=3, label=f"validation {metric}")
            best = int(np.argmin(val) if "loss" in metric or "error" in metric or "mae" in metric
                       else np.argmax(val))
            ax.axvline(epochs[best], color="gray", ls=":", lw=1)
            ax.annotate(f"best epoch {epochs[best]}", (epochs[best], val[best]), textcoords="offset points",
                        xytext=(4, 6), fontsize=8, color="gray")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    if title:
        plt.suptitle(title)
    plt.tight_layout()
    return axes


def compare_histories(histories: dict, metric: str = "val_loss", title: str | None = None, ax=None):
    """One curve per run, e.g. ``{"original": h1, "smaller": h2}`` on ``val_loss`` (chapter 04)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, history in histories.items():
        values = history_dict(history)[metric]
        ax.plot(np.arange(1, len(values) + 1), values, "o-", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def class_label(class_names, index) -> str:
    """The display name of class ``index``: ``class_names`` is a list of names, a callable
    index -> name (e.g. ``backbone.class_name``), or ``None`` ("class 3"). Taught in chapter 10."""
    if class_names is None:
        return f"class {index}"
    return class_names(index) if callable(class_names) else str(class_names[index])


def image_axes(ax, title: str | None = None):
    """Style a panel that shows an image: no ticks, no grid, an optional title. Returns ``ax``."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def show_images(images, titles=None, columns: int = 8, size: float = 1.6, cmap: str | None = None,
                suptitle: str | None = None):
    """A grid of images (HxW, HxWx1 or HxWx3; 0-255 or 0-1), with optional titles. Returns the figure.

    Args:
        images: a sequence of images.
        titles: one title per image (``None``: no titles).
        columns: the most images per row (fewer when there are fewer images).
        size: the width and height of each panel, in inches.
        cmap: the matplotlib colormap of single-channel images (``None``: gray).
        suptitle: a title over the whole figure (``None``: none).

    Example::

        show_images(x_train[:16], titles=y_train[:16], columns=8)
    """
    images = list(images)
    if not images:
        raise ValueError("No images to show.")
    titles = None if titles is None else list(titles)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"Got {len(titles)} titles for {len(images)} images.")
    columns = min(columns, len(images))
    rows = math.ceil(len(images) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + (0.3 if titles is not None else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        image = displayable(images[i])
        ax.imshow(image, cmap=cmap or ("gray" if image.ndim == 2 else None))
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
