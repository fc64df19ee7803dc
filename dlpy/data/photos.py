"""The course's sample photos (the elephant, the cat, Starry Night, Tuebingen), scikit-image samples and
files by path, loaded as RGB arrays. Taught in chapters 08-19."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlpy.data.registry import REGISTRY, fetch, writable_cache

SAMPLE_PHOTOS = ("elephant", "cat", "starry_night", "tubingen")


def photo_path(name) -> Path:
    """Path of a sample photo: a registered name (``"elephant"``, ``"cat"``, ``"starry_night"``,
    ``"tubingen"``), a scikit-image sample (``"skimage:astronaut"``) saved once to the cache, or a file
    path (a string or a ``pathlib.Path``). Taught in chapter 08."""
    if isinstance(name, Path):
        name = str(name)
    if not isinstance(name, str) or not name:
        raise TypeError(f"A photo is a sample name ({', '.join(SAMPLE_PHOTOS)}), 'skimage:<sample>' or a file path; "
                        f"got {name!r}.")
    if name in REGISTRY and REGISTRY[name].cache_subdir == "images":
        return fetch(name)
    if name.startswith("skimage:"):
        sample = name.split(":", 1)[1]
        target = writable_cache() / "images" / f"skimage_{sample}.png"
        if not target.exists():
            import skimage.data
            from PIL import Image

            if not hasattr(skimage.data, sample):
                raise ValueError(f"scikit-image has no sample image {sample!r}: see skimage.data "
                                 "(e.g. 'skimage:astronaut').")
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(getattr(skimage.data, sample)()).convert("RGB").save(target)
        return target
    path = Path(name).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"No image {name!r}: not a file, and not one of the sample photos {', '.join(SAMPLE_PHOTOS)} "
            "(or 'skimage:<sample>')."
        )
    return path


def load_image(name, target_size: int | tuple[int, int] | None = None) -> np.ndarray:
    """An RGB photo as a float32 array in [0, 255], shape (H, W, 3); resized to ``target_size``
    (an int resizes the shorter side keeping the aspect ratio; a pair ``(height, width)`` gives the
    exact size). ``name`` is what :func:`photo_path` takes. Taught in chapter 08."""
    if target_size is not None:
        one = isinstance(target_size, (int, np.integer))
        sizes = (target_size,) if one else tuple(target_size) if isinstance(target_size, (tuple, list)) else ()
        valid = [not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= 8 for v in sizes]
        if len(sizes) != (1 if one else 2) or not all(valid):
            raise ValueError(f"target_size is a size in pixels (at least 8: the shorter side) or a pair (height, "
                             f"width) of them, or None for the original size; got {target_size!r}.")
    path = photo_path(name)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path} is not an image that can be read ({type(error).__name__}): pass a JPEG or PNG "
                         "file, or one of the sample photos.") from None
    if isinstance(target_size, (int, np.integer)):
        width, height = image.size
        scale = target_size / min(width, height)
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    elif target_size is not None:
        image = image.resize((target_size[1], target_size[0]))
    return np.asarray(image, dtype="float32")
