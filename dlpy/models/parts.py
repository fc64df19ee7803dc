"""Pieces shared by models built from sub-models (the VAE's encoder and decoder, the GAN's generator
and discriminator): the feature map an upsampling stack starts from, and the sub-models kept in the
whole model's config so that a ``.keras`` file holds them. Taught in chapter 20 (and used in 21)."""

from __future__ import annotations

import keras


def upsampling_start(image_shape, stages: int, model_name: str) -> tuple[int, int]:
    """``(height, width)`` of the feature map that ``stages`` stride-2 upsamplings turn into an image of
    ``image_shape``; a clear error when the image size is not a multiple of ``2 ** stages``.
    Taught in chapter 20 (the decoder) and used by chapter 21's generator."""
    height, width = image_shape[:2]
    scale = 2**stages
    if height % scale or width % scale:
        raise ValueError(f"The {model_name} upsamples by {scale}: image height and width must be multiples of it, "
                         f"got {height}x{width}.")
    return height // scale, width // scale


def serialize_parts(**models) -> dict:
    """The config entries of a model built from named sub-models, so that ``.keras`` files hold them.
    Taught in chapter 20."""
    return {name: keras.saving.serialize_keras_object(model) for name, model in models.items()}


def deserialize_parts(config: dict, *names: str) -> tuple[list, dict]:
    """``([sub-models named names], rest of config)``: the inverse of :func:`serialize_parts`."""
    rest = dict(config)
    return [keras.saving.deserialize_keras_object(rest.pop(name)) for name in names], rest
