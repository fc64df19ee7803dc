"""From a saliency map to a segmentation, as in cs231n's *Visualizing and Understanding*: the map says
roughly where the object is; OpenCV's GrabCut (Rother et al. 2004) finds its edges by fitting color
models to the foreground and background the map suggests and cutting the graph of pixels between
them. Taught in chapter 11.
"""

from __future__ import annotations

import cv2
import numpy as np

from dlpy.course.arguments import integer_at_least
from dlpy.viz.overlay import resize_heatmap


def grabcut_from_map(image, heatmap, *, foreground: float = 0.5, background: float = 0.1,
                     iterations: int = 5) -> np.ndarray:
    """A boolean object mask ``(h, w)`` for an RGB ``image`` (uint8 or 0-255 floats) from a
    ``heatmap`` in [0, 1] of any resolution (resized to the image): pixels with map >= ``foreground``
    start as probable foreground, pixels <= ``background`` as sure background, the rest as probable
    background; GrabCut then runs ``iterations`` rounds. Taught in chapter 11."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be RGB, shape (height, width, 3); got {image.shape}.")
    if not 0.0 <= background < foreground <= 1.0:
        raise ValueError(f"Need 0 <= background < foreground <= 1 (map thresholds); got background={background}, "
                         f"foreground={foreground}.")
    iterations = integer_at_least("iterations", iterations)
    heat = resize_heatmap(np.asarray(heatmap, dtype="float32"), image.shape[:2])
    mask = np.full(image.shape[:2], cv2.GC_PR_BGD, dtype=np.uint8)
    mask[heat >= foreground] = cv2.GC_PR_FGD
    mask[heat <= background] = cv2.GC_BGD
    for value, name, fix in ((cv2.GC_PR_FGD, "foreground", "lower foreground"),
                             (cv2.GC_BGD, "background", "raise background")):
        if not np.any(mask == value):
            raise ValueError(f"The map marks no pixel as {name} (map range {heat.min():.2f}-{heat.max():.2f}, "
                             f"foreground={foreground}, background={background}): {fix}.")
    bgr = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    background_model, foreground_model = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(bgr, mask, None, background_model, foreground_model, iterations, cv2.GC_INIT_WITH_MASK)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
