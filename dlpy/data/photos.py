"""The course's sample photos (the elephant, the cat, Starry Night, Tuebingen), scikit-image samples and
files by path, loaded as RGB arrays. Taught in chapters 08-14."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlpy.data.registry import REGISTRY, fetch

SAMPLE_PHOTOS = ("elephant", "cat", "starry_night", "tubingen")


def photo_path(name: str) -> Path:
    """Path of a sample photo: a registered name (``"elephant"``, ``"cat"``, ``"starry_night"``,
    ``"tubingen"``), a scikit-image sample (``"skimage:astronaut"``) saved once to the cache, or a file path."""
    if name in REGISTRY and REGISTRY[name].cache_subdir == "images":
        return fetch(name)
    if name.startswith("skimage:"):
        from dlpy.data.registry import keras_home

        sample = name.split(":", 1)[1]
        target = keras_home() / "images" / f"skimage_{sample}.png"
        if not target.exists():
            import skimage.data
            from PIL import Image

            if not hasattr(skimage.data, sample):
                raise ValueError(f"scikit-image has no sample image {sample!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(getattr(skimage.data, sample)()).convert("RGB").save(target)
        return target
    path = Path(name).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"No image {name!r}: not a file, and not one of the sample photos {', '.join(SAMPLE_PHOTOS)}."
        )
    return path


def load_image(name: str, target_size: int | tuple[int, int] | None = None) -> np.ndarray:
    """An RGB photo as a float32 array in [0, 255], shape (H, W, 3); resized to ``target_size``
    (an int resizes the shorter side keeping the aspect ratio; a pair gives the exact size)."""
    import keras

    image = keras.utils.load_img(photo_path(name))
    if isinstance(target_size, int):
        width, height = image.size
        scale = target_size / min(width, height)
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    elif target_size is not None:
        image = image.resize((target_size[1], target_size[0]))
    return keras.utils.img_to_array(image).astype("float32")
