"""The cats vs dogs small split (1,000 train / 500 validation / 500 test JPEGs, half cats, half dogs).

``load_cats_and_dogs()`` returns the three ``tf.data`` datasets; the images come from the registry
entry ``cats_and_dogs_small`` (an offline archive). Online users without that archive build the same
layout from Microsoft's PetImages zip (registry entry ``kagglecatsanddogs``) with
:func:`make_cats_and_dogs_small`. Taught in chapter 06 (and reused in chapters 07, 08, 10 and 11).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from dlpy.course.settings import DEFAULT_SEED
from dlpy.data.pipelines import image_folder_dataset
from dlpy.data.registry import REGISTRY, extract

CLASS_NAMES = ("cats", "dogs")  # label 0 = cat, label 1 = dog
SPLIT_SIZES = {"train": 1000, "validation": 500, "test": 500}
# The archive's split of Kaggle ids per class: (first id, images per class), as in the book's script.
SPLIT_IDS = {"train": (0, 500), "validation": (1000, 250), "test": (1500, 250)}
SOURCE_CLASSES = {"cats": ("Cat", "cat"), "dogs": ("Dog", "dog")}  # PetImages folder, file prefix
SHORT_SIDE = 180  # the archive's images are resized so that their shorter side is 180 px
FOLDER = "cats_and_dogs_small"


def cats_and_dogs_dir() -> Path:
    """The folder holding ``train/``, ``validation/`` and ``test/`` (each with ``cats/`` and ``dogs/``),
    unpacked once from the registry's archive. Taught in chapter 06."""
    return extract("cats_and_dogs_small") / FOLDER


def load_cats_and_dogs(image_size=(180, 180), batch_size: int = 32, seed: int = DEFAULT_SEED, *,
                       directory=None, cache: bool = True, prefetch: bool = True,
                       crop_to_aspect_ratio: bool = False):
    """``(train_ds, validation_ds, test_ds)``: batches of ``(images, labels)``, images float32 in
    [0, 255] of shape ``(batch, *image_size, 3)``, labels int32 (0 = cat, 1 = dog).

    The training set is reshuffled every epoch from ``seed``; validation and test are shuffled once,
    into one fixed order that mixes the classes (so ``test_ds.take(2)`` holds cats and dogs).
    ``directory`` overrides the registry folder (it must hold ``train``, ``validation`` and ``test``).

    Args:
        image_size: ``(height, width)`` in pixels that every image is resized to.
        batch_size: images per batch.
        seed: the seed of the shuffles (default: the course's ``DEFAULT_SEED``).
        directory: a folder with ``train/``, ``validation/`` and ``test/``, each holding ``cats/`` and ``dogs/``
            (``None``: the registry's ``cats_and_dogs_small``, unpacked on first use).
        cache: keep the decoded, resized images in memory (as uint8) after the first pass.
        prefetch: prepare the next batch while the model trains on this one.
        crop_to_aspect_ratio: crop each image to the aspect ratio of ``image_size`` before resizing it,
            instead of stretching it.

    Example::

        train_ds, validation_ds, test_ds = load_cats_and_dogs(image_size=(180, 180), batch_size=32)

    Taught in chapter 06.
    """
    root = Path(directory) if directory is not None else cats_and_dogs_dir()
    datasets = []
    for split in SPLIT_SIZES:
        datasets.append(image_folder_dataset(
            root / split, image_size, batch_size, shuffle=True, seed=seed, cache=cache, prefetch=prefetch,
            class_names=CLASS_NAMES, crop_to_aspect_ratio=crop_to_aspect_ratio,
            reshuffle_each_iteration=(split == "train"),
        ))
    return tuple(datasets)


def _resized_rgb(path: Path, short_side: int):
    """The image at ``path`` as RGB with its shorter side ``short_side``, or ``None`` if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()  # decode fully: truncated files fail here, not later in training
            image = image.convert("RGB")
    except (OSError, ValueError, SyntaxError):
        return None
    width, height = image.size
    if min(width, height) < 1:
        return None
    scale = short_side / min(width, height)
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.LANCZOS)


def make_cats_and_dogs_small(source=None, target=None, *, split_ids=None, short_side: int = SHORT_SIDE,
                             overwrite: bool = False) -> Path:
    """Build the ``cats_and_dogs_small`` layout from Microsoft's PetImages (``Cat/<id>.jpg``,
    ``Dog/<id>.jpg``) and return the folder holding ``train``/``validation``/``test``.

    ``source`` is a PetImages folder (default: the registry's ``kagglecatsanddogs`` zip, downloaded
    and unpacked). ``target`` is where ``cats_and_dogs_small/`` is written (default: where
    :func:`load_cats_and_dogs` looks, so the next call finds it). For each split and class the images
    are taken in id order from the split's first id (``split_ids``, default 0/1000/1500 for
    train/validation/test, 500/250/250 per class), skipping unreadable JPEGs (PetImages has a few),
    resized so the shorter side is ``short_side`` and saved as ``cat.<id>.jpg``. Written atomically.
    Taught in chapter 06.
    """
    split_ids = dict(SPLIT_IDS if split_ids is None else split_ids)
    if source is None:
        source = extract("kagglecatsanddogs") / "PetImages"
    source = Path(source)
    if not source.is_dir():
        raise ValueError(f"PetImages folder {source} does not exist: expected {source}/Cat and {source}/Dog.")
    out_root = Path(target) if target is not None else REGISTRY["cats_and_dogs_small"].extracted_path
    final = out_root / FOLDER
    if final.exists():
        if not overwrite:
            return final
        shutil.rmtree(final)
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_root, prefix=".build-"))
    try:
        for class_name, (source_folder, prefix) in SOURCE_CLASSES.items():
            folder = source / source_folder
            if not folder.is_dir():
                raise ValueError(f"Class folder {folder} does not exist: {source} should hold Cat/ and Dog/.")
            ids = sorted(int(p.stem) for p in folder.iterdir() if p.suffix.lower() == ".jpg" and p.stem.isdigit())
            used: set[int] = set()
            starts = sorted(start for start, _ in split_ids.values())
            for split, (start, count) in split_ids.items():
                following = [s for s in starts if s > start]
                limit = following[0] if following else float("inf")  # never borrow ids of the next split
                out = tmp / FOLDER / split / class_name
                out.mkdir(parents=True)
                taken = 0
                for image_id in ids:
                    if taken == count:
                        break
                    if image_id < start or image_id in used:
                        continue
                    if image_id >= limit:
                        break
                    image = _resized_rgb(folder / f"{image_id}.jpg", short_side)
                    if image is None:
                        continue
                    image.save(out / f"{prefix}.{image_id}.jpg", quality=85)
                    used.add(image_id)
                    taken += 1
                if taken < count:
                    raise ValueError(
                        f"Only {taken} readable images from id {start} in {folder} for {split}/{class_name}; "
                        f"{count} are needed. Is the PetImages folder complete?"
                    )
        os.replace(tmp / FOLDER, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
