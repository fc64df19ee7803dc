"""The course's data: one registry of files (:mod:`dlpy.data.registry`) and loaders built on
Keras's own loaders and cache. Loaders are imported on first use."""

import importlib

from dlpy.data.images import load_image, load_mnist, photo_path
from dlpy.data.registry import (
    REGISTRY,
    CorruptDataError,
    DataFile,
    DataNotAvailableError,
    extract,
    fetch,
    keras_home,
    link_cache,
    status,
)

__all__ = [
    "REGISTRY", "CorruptDataError", "DataFile", "DataNotAvailableError", "extract", "fetch", "keras_home",
    "link_cache", "status", "load_image", "load_mnist", "photo_path",
]


def __getattr__(name):
    try:
        return importlib.import_module(f"dlpy.data.{name}")
    except ModuleNotFoundError as error:
        if error.name == f"dlpy.data.{name}":
            raise AttributeError(f"module 'dlpy.data' has no attribute {name!r}") from None
        raise
