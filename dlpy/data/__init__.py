"""The course's data: one registry of files (:mod:`dlpy.data.registry`) and loaders built on
Keras's own loaders and cache. Loaders are imported on first use."""

from dlpy import lazy_submodules
from dlpy.data.mnist import load_mnist
from dlpy.data.photos import load_image, photo_path
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


__getattr__ = lazy_submodules(__name__)
