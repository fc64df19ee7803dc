"""Pairs of MNIST digits for a multi-input, multi-output model: two images in; each digit's class
and their sum out. Built from ``keras.datasets.mnist`` as a seeded ``tf.data`` pipeline: pair ``i``
of a split is image ``a[i]`` beside image ``b[i]`` for two seeded permutations of that split, so
train and test pairs never share an image. Taught in chapter 14.
"""

from __future__ import annotations

import numpy as np

from dlpy.course.arguments import integer_at_least
from dlpy.data.mnist import load_mnist

INPUTS = ("left", "right")


def pair_indices(num_images: int, num_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(a, b)`` of ``num_pairs`` pairs drawn from ``num_images`` images: two seeded
    permutations, so every image appears at most once on each side. Taught in chapter 14."""
    num_images = integer_at_least("num_images", num_images)
    if not 1 <= num_pairs <= num_images:
        raise ValueError(f"num_pairs must lie between 1 and {num_images} (the images of the split), got {num_pairs}.")
    rng = np.random.default_rng(seed)
    return rng.permutation(num_images)[:num_pairs], rng.permutation(num_images)[:num_pairs]


def pairs_dataset(images, labels, num_pairs: int, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0):
    """A ``tf.data`` dataset of ``({"left", "right"}, {"left_digit", "right_digit", "digit_sum"})``
    batches: images scaled to [0, 1] with a channel axis, labels as int32, the sum as float32.

    Args:
        images: one split's uint8 images, ``(N, 28, 28)``.
        labels: their integer labels, ``(N,)``.
        num_pairs: how many pairs to draw (at most ``N``).
        batch_size: pairs per batch.
        shuffle: shuffle the pairs on every pass (training).
        seed: the seed of the pairing and of the shuffle.

    Example::

        test = pairs_dataset(x_test, y_test, 5_000, seed=2)

    Taught in chapter 14."""
    import tensorflow as tf

    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"images are (N, height, width) with one label each; got {images.shape} and {labels.shape}.")
    a, b = pair_indices(len(images), num_pairs, seed)
    inputs = {"left": images[a][..., None], "right": images[b][..., None]}
    targets = {"left_digit": labels[a].astype("int32"), "right_digit": labels[b].astype("int32"),
               "digit_sum": (labels[a] + labels[b]).astype("float32")}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        dataset = dataset.shuffle(num_pairs, seed=seed, reshuffle_each_iteration=True)

    def scale(x, y):
        return {name: tf.cast(x[name], "float32") / 255.0 for name in INPUTS}, y

    return dataset.batch(integer_at_least("batch_size", batch_size)).map(scale, num_parallel_calls=tf.data.AUTOTUNE) \
        .prefetch(tf.data.AUTOTUNE)


def load_two_digits(train_pairs: int, test_pairs: int, *, validation_pairs: int = 0, batch_size: int = 64,
                    seed: int = 0) -> dict:
    """``{"train", "validation", "test"}`` datasets of :func:`pairs_dataset`: train and validation
    pairs from disjoint parts of MNIST's training images (validation from the last 10,000), test pairs
    from its test images; training pairs shuffled with ``seed``.

    Args:
        train_pairs: pairs to train on (at most 50,000).
        test_pairs: pairs to test on (at most 10,000).
        validation_pairs: pairs to validate on (at most 10,000; 0: no validation set).
        batch_size: pairs per batch.
        seed: the seed of the pairing and of the shuffle.

    Example::

        data = load_two_digits(train_pairs=20_000, test_pairs=5_000, validation_pairs=5_000)

    Taught in chapter 14.
    """
    (x_train, y_train), (x_test, y_test) = load_mnist()
    fit_images, fit_labels = x_train[:50_000], y_train[:50_000]
    splits = {
        "train": pairs_dataset(fit_images, fit_labels, train_pairs, batch_size=batch_size, shuffle=True, seed=seed),
        "test": pairs_dataset(x_test, y_test, test_pairs, batch_size=batch_size, seed=seed + 2),
    }
    if validation_pairs:
        splits["validation"] = pairs_dataset(x_train[50_000:], y_train[50_000:], validation_pairs,
                                             batch_size=batch_size, seed=seed + 1)
    return splits
