"""Fashion-MNIST through Keras's own loader, fed offline from Debian's ``dataset-fashion-mnist`` package.

``keras.datasets.fashion_mnist.load_data()`` reads four ``.gz`` files from
``$KERAS_HOME/datasets/fashion-mnist``. When they are missing and the Debian package is installed
(``apt-get install dataset-fashion-mnist`` puts the same four files in
``/usr/share/datasets/fashion-mnist``), :func:`load_fashion_mnist` links them into the cache first.
Taught in chapter 20 (and used again in chapter 21).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from dlpy.data.registry import (
    REGISTRY,
    CorruptDataError,
    DataNotAvailableError,
    corrupt_message,
    fetch,
    is_writable,
    keras_home,
    link_into_cache,
    show_to_keras,
)

DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
PARTS = ("train-labels-idx1-ubyte", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "t10k-images-idx3-ubyte")
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _entries():
    return [REGISTRY[f"fashion_mnist_{part}"] for part in PARTS]


def link_debian_copy(folder: Path | str = DEBIAN_FOLDER) -> list[Path]:
    """Link the Debian package's files into the Keras cache where the cache lacks them; return the links
    made. Taught in chapter 20."""
    folder = Path(folder)
    made = []
    for entry in _entries():
        source = folder / entry.fname
        if entry.path.exists() or not source.is_file():
            continue
        made.append(link_into_cache(entry, source))
    return made


def load_fashion_mnist(debian_folder: Path | str = DEBIAN_FOLDER):
    """``(x_train, y_train), (x_test, y_test)`` from ``keras.datasets.fashion_mnist`` (uint8 28x28,
    labels 0-9 named by :data:`CLASS_NAMES`).

    Missing cache files are linked from ``debian_folder`` when it has them, else fetched; without them
    and without a network, :class:`~dlpy.data.DataNotAvailableError` names every missing file, its URL
    and the Debian package. Taught in chapter 20.
    """
    if is_writable(keras_home()):
        link_debian_copy(debian_folder)
    problems, paths = [], []
    for entry in _entries():
        debian_copy = Path(debian_folder) / entry.fname
        if not entry.path.exists() and debian_copy.is_file():  # a read-only cache: use the Debian copy
            paths.append(debian_copy)
            continue
        try:
            paths.append(fetch(entry.name))
        except DataNotAvailableError as error:
            problems.append(str(error))
    if problems:
        raise DataNotAvailableError(
            "Fashion-MNIST is not available offline. Install Debian's package, which puts the files in "
            f"{DEBIAN_FOLDER} (`apt-get install {DEBIAN_PACKAGE}`), or download them:\n" + "\n".join(problems)
        )
    import keras

    if not is_writable(keras_home()):
        for entry, path in zip(_entries(), paths):
            show_to_keras(entry.name, path)
    try:
        return keras.datasets.fashion_mnist.load_data()
    except (OSError, EOFError, ValueError, zlib.error) as error:  # gzip and NumPy name no file
        damaged = next((p for p in paths if not _reads(p)), paths[0])
        raise CorruptDataError(corrupt_message(_entries()[paths.index(damaged)], damaged,
                                               f"it does not read ({type(error).__name__}: {error})")) from error


def _reads(path: Path) -> bool:
    """Whether a ``.gz`` file decompresses to the end."""
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
        return True
    except (OSError, EOFError, zlib.error):
        return False


__all__ = ["CLASS_NAMES", "DEBIAN_FOLDER", "DEBIAN_PACKAGE", "link_debian_copy", "load_fashion_mnist"]
