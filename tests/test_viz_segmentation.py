"""Chapter 11 (dlpy.viz.segmentation): GrabCut seeded from a rough map recovers the object of a
synthetic two-region image; bad thresholds say what to change."""

import numpy as np
import pytest

from dlpy.viz.overlay import resize_heatmap
from dlpy.viz.segmentation import grabcut_from_map


def disc_image(rng, size=64, radius=18):
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - 30) ** 2 + (xx - 34) ** 2 <= radius ** 2
    image = np.where(disc[..., None], [200, 60, 40], [30, 90, 160]) + rng.normal(0, 12, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8), disc


def test_a_rough_blob_inside_the_object_gives_the_object(rng):
    image, disc = disc_image(rng)
    yy, xx = np.mgrid[:8, :8]
    coarse = np.exp(-((yy - 3.7) ** 2 + (xx - 4.2) ** 2) / 3.0)     # an 8x8 map, peaked on the disc
    mask = grabcut_from_map(image, coarse / coarse.max(), foreground=0.6, background=0.05)
    intersection_over_union = np.sum(mask & disc) / np.sum(mask | disc)
    assert intersection_over_union > 0.9
    seed = resize_heatmap(coarse / coarse.max(), disc.shape) >= 0.6
    assert np.sum(seed & disc) < 0.6 * np.sum(disc)                  # GrabCut found edges the seed did not have


def test_thresholds_that_mark_nothing_say_what_to_change(rng):
    image, _ = disc_image(rng)
    flat = np.full((8, 8), 0.3)
    with pytest.raises(ValueError, match="lower foreground"):
        grabcut_from_map(image, flat, foreground=0.5, background=0.1)
    with pytest.raises(ValueError, match="background < foreground"):
        grabcut_from_map(image, flat, foreground=0.2, background=0.4)
    with pytest.raises(ValueError, match="image must be RGB"):
        grabcut_from_map(image[..., 0], flat)
