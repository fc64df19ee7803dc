"""A reusable ``tf.data`` pipeline for folders of images, one subfolder per class.

``image_folder_dataset(directory)`` checks the folder layout (a clear error names a missing folder or
an empty class folder), reads the images once with ``keras.utils.image_dataset_from_directory``,
keeps them decoded and resized in memory as uint8 (a quarter of float32's memory), then reshuffles
them every epoch with a seed, batches them as float32 in [0, 255] and prefetches the next batch
while the model trains on this one. Taught in chapter 06.
"""

from __future__ import annotations

from pathlib import Path

from dlpy.course.settings import DEFAULT_SEED

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def _count_images(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file())


def class_folders(directory, class_names=None) -> dict[str, int]:
    """Check an image folder laid out as ``directory/<class>/<images>`` and return
    ``{class name: image count}`` in label order (alphabetical unless ``class_names`` is given).

    Raises ``ValueError`` naming the path when the folder is missing, has no class subfolders,
    a requested class folder is missing, or a class folder holds no images. Taught in chapter 06.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(
            f"Image folder {directory} does not exist (or is not a folder). Expected "
            f"{directory}/<class name>/<image files>; check the path, or build the data first."
        )
    found = sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    if class_names is None:
        if not found:
            raise ValueError(f"Image folder {directory} has no class subfolders: "
                             f"expected {directory}/<class>/<images>.")
        class_names = found
    else:
        missing = [name for name in class_names if name not in found]
        if missing:
            raise ValueError(f"Class folder(s) {[str(directory / m) for m in missing]} missing; {directory} holds "
                             f"{found or 'no subfolders'}.")
    counts = {}
    for name in class_names:
        counts[name] = _count_images(directory / name)
        if counts[name] == 0:
            raise ValueError(
                f"Class folder {directory / name} holds no images ({', '.join(IMAGE_EXTENSIONS)}): "
                "every class needs at least one image."
            )
    return counts


def optimize_dataset(dataset, batch_size: int | None = 32, *, shuffle: bool = True, seed: int = DEFAULT_SEED,
                     cache: bool = True, prefetch: bool = True, shuffle_buffer: int | None = None,
                     reshuffle_each_iteration: bool = True):
    """Turn an unbatched dataset of (image, label) into a training-ready one: cache (in memory) ->
    seeded shuffle, new order each epoch -> batch -> images as float32 -> prefetch.

    ``shuffle_buffer`` defaults to the whole dataset (a perfect shuffle) when its size is known.
    ``reshuffle_each_iteration=False`` shuffles once: the same mixed order every pass (for evaluation
    sets, so that the first batches hold every class).

    Args:
        dataset: an unbatched ``tf.data.Dataset`` of ``(image, label)`` pairs.
        batch_size: examples per batch (``None``: the examples stay unbatched).
        shuffle: shuffle the examples; ``False`` keeps the dataset's order.
        seed: the seed of the shuffle (default: the course's ``DEFAULT_SEED``).
        cache: cache the examples in memory after the first pass (before the shuffle).
        prefetch: prepare the next batch while the model trains on this one.
        shuffle_buffer: how many examples the shuffle draws from (``None``: the whole dataset, or 1,024
            when its size is unknown).
        reshuffle_each_iteration: a new order every epoch; ``False``: one fixed mixed order.

    Example::

        train_ds = optimize_dataset(tf.data.Dataset.from_tensor_slices((images, labels)), batch_size=64)

    Taught in chapter 06.
    """
    import tensorflow as tf

    if cache:
        dataset = dataset.cache()
    if shuffle:
        if shuffle_buffer is None:
            size = int(dataset.cardinality())
            shuffle_buffer = size if size > 0 else 1024
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=reshuffle_each_iteration)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda x, y: (tf.cast(x, "float32"), y), num_parallel_calls=tf.data.AUTOTUNE)
    if prefetch:
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset


def image_folder_dataset(directory, image_size=(180, 180), batch_size: int | None = 32, *, shuffle: bool = True,
                         seed: int = DEFAULT_SEED, cache: bool = True, prefetch: bool = True,
                         class_names=None, crop_to_aspect_ratio: bool = False,
                         reshuffle_each_iteration: bool = True):
    """A ``tf.data.Dataset`` of ``(images, labels)`` from ``directory/<class>/<images>``: images float32
    in [0, 255] of shape ``(batch, *image_size, 3)``, labels int32 class indices (alphabetical class order).

    The decoded, resized images are cached in memory as uint8 after the first pass, so later epochs
    cost no JPEG decoding; the order is reshuffled every epoch from ``seed`` (``shuffle=False`` keeps
    the files' sorted order; ``reshuffle_each_iteration=False`` one fixed mixed order, for evaluation).

    Args:
        directory: a folder laid out as ``directory/<class>/<images>``.
        image_size: ``(height, width)`` in pixels that every image is resized to.
        batch_size: images per batch (``None``: single, unbatched examples).
        shuffle: shuffle the images; ``False`` keeps the files' sorted order.
        seed: the seed of the shuffle (default: the course's ``DEFAULT_SEED``).
        cache: keep the decoded, resized images in memory (as uint8) after the first pass.
        prefetch: prepare the next batch while the model trains on this one.
        class_names: the class folders to read, in label order (``None``: every subfolder, alphabetical).
        crop_to_aspect_ratio: crop each image to the aspect ratio of ``image_size`` before resizing it,
            instead of stretching it.
        reshuffle_each_iteration: a new order every epoch; ``False``: one fixed mixed order.

    Example::

        train_ds = image_folder_dataset("cats_and_dogs_small/train", image_size=(180, 180), batch_size=32)

    Taught in chapter 06.
    """
    import keras
    import tensorflow as tf

    if len(tuple(image_size)) != 2:
        raise ValueError(f"image_size must be (height, width), got {image_size!r}")
    counts = class_folders(directory, class_names)
    dataset = keras.utils.image_dataset_from_directory(
        str(directory), labels="inferred", label_mode="int", class_names=list(counts),
        image_size=tuple(image_size), batch_size=None, shuffle=False,
        crop_to_aspect_ratio=crop_to_aspect_ratio, verbose=False,
    )
    dataset = dataset.map(lambda x, y: (tf.saturate_cast(tf.round(x), tf.uint8), y),
                          num_parallel_calls=tf.data.AUTOTUNE)
    dataset = optimize_dataset(dataset, batch_size, shuffle=shuffle, seed=seed, cache=cache, prefetch=prefetch,
                               reshuffle_each_iteration=reshuffle_each_iteration)
    dataset.class_names = list(counts)
    dataset.class_counts = counts
    return dataset


def dataset_to_arrays(dataset, limit: int | None = None):
    """``(images, labels)`` of a (finite) dataset of batches as two NumPy arrays, in the dataset's
    order, stopping after ``limit`` examples when given. Taught in chapter 06 (the in-memory
    baseline of the input-pipeline benchmark) and used in chapter 11."""
    import numpy as np

    images, labels, total = [], [], 0
    for x, y in dataset:
        images.append(np.asarray(x))
        labels.append(np.asarray(y))
        total += len(images[-1])
        if limit is not None and total >= limit:
            break
    if not images:
        raise ValueError("The dataset is empty: there are no examples to collect.")
    return np.concatenate(images)[:limit], np.concatenate(labels)[:limit]
