"""Pretrained ImageNet backbones by name, each with its own preprocessing.

``load_backbone("mobilenet")`` returns the Keras application with ImageNet weights from the Keras
cache, plus the matching ``preprocess`` (RGB 0-255 -> model input), its inverse ``deprocess``
and ``decode_predictions``. Chapters 07-19 swap backbones by changing one name. Taught in chapter 07.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from dlpy.data.registry import (
    CorruptDataError,
    DataNotAvailableError,
    corrupt_message,
    fetch,
    get_entry,
    is_writable,
    show_to_keras,
    status,
)

CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype="float32")


def _preprocess_tf(x):
    """Inception/MobileNet style: 0-255 -> [-1, 1]."""
    return keras.ops.cast(x, "float32") / 127.5 - 1.0


def _deprocess_tf(x):
    return (keras.ops.convert_to_numpy(x) + 1.0) * 127.5


def _preprocess_caffe(x):
    """VGG style: RGB -> BGR, minus the ImageNet channel means (no scaling)."""
    x = keras.ops.cast(x, "float32")
    return keras.ops.flip(x, axis=-1) - CAFFE_MEAN_BGR


def _deprocess_caffe(x):
    return (keras.ops.convert_to_numpy(x) + CAFFE_MEAN_BGR)[..., ::-1]


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    build: Callable
    preprocess: Callable
    deprocess: Callable
    input_size: int
    weights_top: tuple[str, ...]  # registry names tried in order, with the classifier
    weights_notop: tuple[str, ...]  # without it
    book: str


def _mobilenet(**kwargs):
    return keras.applications.MobileNet(alpha=0.75, **kwargs)


BACKBONES: dict[str, BackboneSpec] = {
    "mobilenet": BackboneSpec("mobilenet", _mobilenet, _preprocess_tf, _deprocess_tf, 224,
                              ("mobilenet_0.75_224",), ("mobilenet_0.75_224_notop",),
                              "MobileNet v1 alpha=0.75: small and fast on a CPU; its weights ship offline here"),
    "vgg16": BackboneSpec("vgg16", keras.applications.VGG16, _preprocess_caffe, _deprocess_caffe, 224,
                          ("vgg16",), ("vgg16_notop",), "the book's choice for chapters 07-10"),
    "vgg19": BackboneSpec("vgg19", keras.applications.VGG19, _preprocess_caffe, _deprocess_caffe, 224,
                          (), ("vgg19_notop", "vgg19_notop_uint8"), "the book's choice for style transfer"),
    "inception_v3": BackboneSpec("inception_v3", keras.applications.InceptionV3, _preprocess_tf, _deprocess_tf,
                                 299, (), ("inception_v3_notop",), "the book's DeepDream model"),
    "xception": BackboneSpec("xception", keras.applications.Xception, _preprocess_tf, _deprocess_tf, 299,
                             ("xception",), (), "the book's Grad-CAM model (2nd edition)"),
}


@dataclass(frozen=True)
class Backbone:
    """A pretrained network and what belongs with it."""

    name: str
    model: keras.Model
    preprocess: Callable  # RGB in [0, 255] -> model input
    deprocess: Callable  # model input -> RGB float in [0, 255] (NumPy)
    input_size: int
    weights: str  # where the weights came from

    def decode_predictions(self, predictions, top: int = 5):
        """ImageNet class names for a batch of 1000-way predictions: ``[[(wnid, name, p), ...], ...]``."""
        show_to_keras("imagenet_class_index")  # Keras's own function reads the file (a read-only cache too)
        return keras.applications.imagenet_utils.decode_predictions(np.asarray(predictions), top=top)

    def class_name(self, index: int) -> str:
        """The ImageNet name of class ``index`` (0-999), e.g. ``386`` -> ``"African_elephant"``: pass it as
        ``class_names=backbone.class_name`` to the plotting functions. Taught in chapter 10."""
        index = int(index)
        if not 0 <= index < 1000:
            raise ValueError(f"ImageNet class indices run from 0 to 999, got {index}.")
        return self.decode_predictions(np.eye(1000)[[index]], top=1)[0][0][1]


def backbone_parts(backbone, preprocess=None):
    """``(model, preprocess, name)`` from a :class:`Backbone` or a plain Keras model (whose inputs
    then go in unchanged unless ``preprocess`` is given). Taught in chapter 18."""
    if isinstance(backbone, keras.Model):
        return backbone, preprocess or (lambda x: x), backbone.name
    if hasattr(backbone, "model") and hasattr(backbone, "preprocess"):
        return backbone.model, preprocess or backbone.preprocess, backbone.name
    raise TypeError(f"Expected a dlpy Backbone (dlpy.models.load_backbone) or a keras.Model, got {type(backbone)}")


def _spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"Unknown backbone {name!r}. Choose one of: {', '.join(BACKBONES)}") from None


def _weights_files(spec: BackboneSpec, include_top: bool) -> tuple[str, ...]:
    files = spec.weights_top if include_top else spec.weights_notop
    if not files:
        raise ValueError(f"No ImageNet weights are registered for {spec.name} with include_top={include_top}.")
    return files


def weights_available(name: str, include_top: bool = False) -> bool:
    """Whether the backbone's ImageNet weights are already in the cache (no download)."""
    try:
        return any(status(get_entry(f)) == "present" for f in _weights_files(_spec(name), include_top))
    except ValueError:
        return False


def available_backbones(include_top: bool = False) -> list[str]:
    """Backbones whose weights are cached now."""
    return [name for name in BACKBONES if weights_available(name, include_top)]


def preferred_backbone(candidates=("vgg16", "mobilenet"), include_top: bool = False) -> str:
    """The first of ``candidates`` whose weights are cached (the book's choice first), else the last one."""
    for name in candidates:
        if weights_available(name, include_top):
            return name
    return candidates[-1]


def load_backbone(name: str = "mobilenet", *, include_top: bool = False, input_shape=None,
                  trainable: bool = False) -> Backbone:
    """Build an ImageNet backbone by name with its weights from the Keras cache.

    ``input_shape=None`` accepts any image size (convolutional base only). Raises
    :class:`~dlpy.data.registry.DataNotAvailableError` naming the file and its URL when the weights
    cannot be had.
    """
    spec = _spec(name)
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) != 3 or shape[-1] != 3 or any(d is not None and (not isinstance(d, int) or d < 32)
                                                     for d in shape[:2]):
            raise ValueError(f"input_shape is (height, width, 3) with sides of at least 32 pixels (or None for any "
                             f"size); got {input_shape!r}.")
        fixed = (spec.input_size, spec.input_size, 3)
        if include_top and shape != fixed:
            raise ValueError(f"{name} with include_top=True takes {fixed[0]}x{fixed[1]} images only (its classifier "
                             f"is sized for them); got input_shape={shape}. Pass include_top=False for another size, "
                             f"or resize the images to {fixed[0]}x{fixed[1]}.")
    files = _weights_files(spec, include_top)
    errors = []
    weights = None
    cached_first = sorted(files, key=lambda f: status(get_entry(f)) != "present")
    for registered in cached_first:
        entry = get_entry(registered)
        try:
            path = fetch(registered)
        except DataNotAvailableError as error:
            errors.append(str(error))
            continue
        # Keras's own file (it passes the hash check) loads with weights="imagenet"; a converted
        # stand-in must be loaded by path, or Keras would reject and delete it.
        # A read-only cache is read by path too: Keras would look for "imagenet" files in /tmp/.keras.
        keras_file = entry.origin and entry.origin.endswith(entry.fname) and is_writable(path.parent)
        weights = "imagenet" if keras_file else str(path)
        break
    if weights is None:
        raise DataNotAvailableError(f"No ImageNet weights for {name!r}:\n" + "\n".join(errors))
    kwargs = {"include_top": include_top, "weights": weights}
    if include_top:
        input_shape = (spec.input_size, spec.input_size, 3)
    if input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*input_shape.*")  # MobileNet: any size uses the 224 weights
        try:
            model = spec.build(**kwargs)
        except (OSError, ValueError) as error:  # h5py and Keras name neither the file nor the fix
            if isinstance(error, ValueError) and "weight" not in str(error).lower():
                raise
            raise CorruptDataError(corrupt_message(entry, path, f"its weights do not load ({type(error).__name__}: "
                                                                f"{str(error).splitlines()[0][:200]})")) from error
    model.trainable = trainable
    source = "Keras cache (imagenet)" if weights == "imagenet" else weights
    return Backbone(name, model, spec.preprocess, spec.deprocess, spec.input_size, source)
