"""Heatmaps laid over photos with an OpenCV colormap (Grad-CAM, saliency, occlusion). Taught in chapter 10."""

from __future__ import annotations

import cv2
import numpy as np

COLORMAPS = {
    "jet": cv2.COLORMAP_JET,
    "turbo": cv2.COLORMAP_TURBO,
    "inferno": cv2.COLORMAP_INFERNO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "hot": cv2.COLORMAP_HOT,
}


def resize_heatmap(heatmap, size: tuple[int, int]) -> np.ndarray:
    """A 2-D heatmap resized (bilinear) to ``size = (height, width)``, as float32.

    Taught in chapter 10.
    """
    heatmap = np.asarray(heatmap, dtype="float32")
    if heatmap.ndim != 2:
        raise ValueError(f"A heatmap is 2-D (height, width); got shape {heatmap.shape}.")
    height, width = int(size[0]), int(size[1])
    return cv2.resize(heatmap, (width, height), interpolation=cv2.INTER_LINEAR)


def colorize(heatmap, cmap: str = "jet") -> np.ndarray:
    """A heatmap in [0, 1] as an RGB uint8 image through an OpenCV colormap. Taught in chapter 10."""
    if cmap not in COLORMAPS:
        raise ValueError(f"Unknown cmap {cmap!r}; choose one of {', '.join(COLORMAPS)}.")
    heatmap = np.asarray(heatmap, dtype="float32")
    if heatmap.ndim != 2:
        raise ValueError(f"A heatmap is 2-D (height, width); got shape {heatmap.shape}.")
    scaled = np.uint8(np.clip(heatmap, 0.0, 1.0) * 255)
    bgr = cv2.applyColorMap(scaled, COLORMAPS[cmap])
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def overlay_heatmap(image, heatmap, alpha: float = 0.4, cmap: str = "jet") -> np.ndarray:
    """``image`` (H, W, 3; 0-255) with ``heatmap`` (any 2-D size, values in [0, 1]) resized onto it
    and blended: ``(1 - alpha) * image + alpha * cmap(heatmap)``. Returns uint8 RGB.

    Taught in chapter 10.
    """
    image = np.asarray(image, dtype="float32")
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"overlay_heatmap needs one RGB image (H, W, 3); got shape {image.shape}.")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha is a blending weight in [0, 1]; got {alpha}.")
    colored = colorize(resize_heatmap(heatmap, image.shape[:2]), cmap).astype("float32")
    return np.uint8(np.clip((1.0 - alpha) * image + alpha * colored, 0, 255))
