"""Images as the course passes them around: float32 RGB (or grayscale) arrays, one image
``(H, W, C)`` or a batch ``(N, H, W, C)``, pixel values 0-255 unless a chapter says otherwise.

One checker for every entry point that takes images (:func:`image_batch`, :func:`single_image`, and
:func:`check_image_tensor` inside compiled steps), the conversions to show them (:func:`to_uint8`,
:func:`displayable`, :func:`to_unit_range`) and one grid tiler (:func:`tile`).
Taught in chapters 05 (grids), 08 (checking a batch against a model) and 13 (resizing).
"""

from __future__ import annotations

import math

import numpy as np

RGB = (None, None, 3)  # expected_shape of an RGB image of any size


def input_image_shape(model) -> tuple:
    """``(height, width, channels)`` of ``model``'s first input (``None`` for a free size), or
    ``(None, None, None)`` when the model has no known input yet. Taught in chapter 08."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return (None, None, None)
    shape = tuple(inputs[0].shape[1:])
    if len(shape) != 3:
        raise ValueError(f"Model {model.name!r} takes inputs of shape {shape}, not images (height, width, channels).")
    return shape


def _shape_problem(shape, expected, name: str, owner: str, min_size: int) -> str | None:
    """What is wrong with images of ``shape`` (with a batch axis) for ``expected`` (H, W, C), or None."""
    if len(shape) != 4:
        no_channel_axis = len(shape) == 2 or (len(shape) == 3 and tuple(shape[1:]) == tuple(expected[:2]))
        hint = " For grayscale images add the channel axis: images[..., None]." if no_channel_axis else ""
        return (f"{name} must be one image (height, width, channels) or a batch of images "
                f"(n, height, width, channels); got an array of shape {shape}.{hint}")
    height, width, channels = shape[1:]
    want_height, want_width, want_channels = expected
    if want_channels is not None and channels is not None and channels != want_channels:
        return (f"{owner} was built for images with {want_channels} channel{'s' if want_channels != 1 else ''}, "
                f"got {channels} channels (shape {shape}): convert them first (e.g. to RGB, or "
                "keras.ops.image.rgb_to_grayscale).")
    if ((want_height is not None and height is not None and height != want_height)
            or (want_width is not None and width is not None and width != want_width)):
        return (f"{owner} was built for {want_height}x{want_width} images, got {height}x{width}: resize them first "
                f"(dlpy.data.load_image(name, target_size=({want_height}, {want_width})) or keras.ops.image.resize).")
    if height is not None and width is not None and min(height, width) < min_size:
        return f"{name} are too small ({height}x{width}): use at least {min_size}x{min_size} pixels."
    return None


def image_batch(images, expected_shape=None, *, name: str = "images", owner: str = "The model",
                min_size: int = 1) -> np.ndarray:
    """``images`` as a float32 batch ``(N, H, W, C)``: one image ``(H, W, C)`` gets a batch axis.

    ``expected_shape`` is ``(height, width, channels)`` with ``None`` for any size, or a Keras model
    whose input shape is used. A wrong rank, channel count or size (or one under ``min_size`` pixels)
    raises a ``ValueError`` that names the shape received, the one expected and the fix.
    Taught in chapter 08."""
    if hasattr(expected_shape, "inputs"):  # a Keras model
        owner = f"Model {expected_shape.name!r}"
        expected_shape = input_image_shape(expected_shape)
    expected = (None, None, None) if expected_shape is None else tuple(expected_shape)
    if len(expected) != 3:
        raise ValueError(f"expected_shape is (height, width, channels), got {expected_shape!r}.")
    batch = np.asarray(images, dtype="float32")
    if batch.ndim == 3:
        batch = batch[None]
    if batch.ndim == 4 and len(batch) == 0:
        raise ValueError(f"{name} is an empty batch (shape {batch.shape}): pass at least one image.")
    problem = _shape_problem(batch.shape, expected, name, owner, min_size)
    if problem:
        raise ValueError(problem)
    return batch


def single_image(image, expected_shape=None, *, name: str = "image", owner: str = "The model",
                 min_size: int = 1) -> np.ndarray:
    """One float32 image ``(H, W, C)``, checked as :func:`image_batch` does; a batch of one is
    unwrapped, a larger batch is an error. Taught in chapter 11."""
    batch = image_batch(image, expected_shape, name=name, owner=owner, min_size=min_size)
    if len(batch) != 1:
        raise ValueError(f"{name} must be one image (height, width, channels), got a batch of {len(batch)} "
                         f"(shape {batch.shape}): pass one of them, e.g. images[0].")
    return batch[0]


def check_image_tensor(images, image_shape, owner: str = "The model"):
    """Check a batch tensor inside a (traced) Keras or TensorFlow step against ``image_shape``
    ``(height, width, channels)`` and return it. Static dimensions are checked at once; where the
    graph leaves a dimension open, the check runs with the graph, as a control dependency of the
    returned tensor, so it fails before any layer sees the images. Taught in chapter 20."""
    shape = tuple(None if d is None else int(d) for d in images.shape)
    expected = tuple(int(d) for d in image_shape)
    problem = _shape_problem(shape, expected, "the images", owner, 1)
    if problem:
        raise ValueError(problem)
    if None in shape[1:] and hasattr(images, "op"):
        import tensorflow as tf

        check = tf.debugging.assert_equal(tf.shape(images)[1:], tf.constant(expected, dtype=tf.int32), message=(
            f"{owner} was built for images of shape {expected} (height, width, channels): resize or convert "
            "them, or build the model for this shape."))
        with tf.control_dependencies([check]):
            images = tf.identity(images)
    return images


def resize(image, size):
    """Bilinear resize of one ``(H, W, C)`` image to ``size=(height, width)``, as a float32 tensor.
    Taught in chapter 18."""
    import tensorflow as tf

    return tf.image.resize(single_image(image, name="image"), tuple(int(s) for s in size))


def to_uint8(image) -> np.ndarray:
    """A displayable ``uint8`` copy of an RGB 0-255 image. Taught in chapter 18."""
    return np.clip(np.asarray(image), 0, 255).round().astype("uint8")


def displayable(image) -> np.ndarray:
    """One image ready for ``imshow``: float32 in [0, 1], a single channel dropped. Values in 0-255
    are divided by 255; any other range is stretched to [0, 1]. Taught in chapter 05."""
    image = np.asarray(image, dtype="float32")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.max() > 1.0 + 1e-6 or image.min() < 0:
        low, high = image.min(), image.max()
        image = image / 255.0 if low >= 0 and high <= 255 and high > 1 else (image - low) / max(high - low, 1e-8)
    return np.clip(image, 0, 1)


def to_unit_range(images) -> np.ndarray:
    """uint8 images ``(N, H, W)`` or ``(N, H, W, C)`` as float32 in [0, 1] with a channel axis.
    Taught in chapter 20."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"Expected images of shape (N, H, W) or (N, H, W, C), got {images.shape}.")
    images = images.astype("float32")
    return images / 255.0 if images.max() > 1.0 else images


def tile(images, columns: int | None = None, gap: int = 0, fill: float = 0.0) -> np.ndarray:
    """One picture from a batch ``(N, H, W)`` or ``(N, H, W, C)``: ``columns`` images per row (default:
    a square), rows top to bottom, ``gap`` pixels of ``fill`` between them; a single channel is
    dropped. Taught in chapter 05 (and used for filters, channels and samples)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"tile needs a non-empty batch (N, H, W) or (N, H, W, C); got shape {images.shape}.")
    count, height, width, channels = images.shape
    columns = min(int(columns or math.ceil(math.sqrt(count))), count)
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}.")
    rows = math.ceil(count / columns)
    grid = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, channels), fill, images.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top:top + height, left:left + width] = images[index]
    return grid[..., 0] if channels == 1 else grid
