"""One registry of every data and weight file the course uses, and the one way to fetch them.

Files live in Keras's own cache (``$KERAS_HOME``, default ``~/.keras``) under the names Keras uses,
so the real Keras loaders (``keras.datasets...``, ``keras.applications...(weights="imagenet")``)
find them. :func:`fetch` checks the file's hash, downloads it atomically with
``keras.utils.get_file`` when it is missing, and without a network raises
:class:`DataNotAvailableError` naming the file, its URL, its hash and the folder to put it in.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
DOWNLOAD_TIMEOUT_S = 20


class DataNotAvailableError(FileNotFoundError):
    """A course file is not in the cache and could not be downloaded."""


class CorruptDataError(ValueError):
    """A cached file does not match its published hash."""


@dataclass(frozen=True)
class DataFile:
    """One file the course reads. ``file_hash`` is the hash Keras checks (sha256 or md5); ``None``
    where Keras checks none. ``sha256`` is the hash of the copy this course was tested with."""

    name: str
    fname: str
    origin: str | None
    cache_subdir: str
    description: str
    license: str
    file_hash: str | None = None
    sha256: str | None = None
    size: int | None = None
    archive: bool = False
    note: str = ""

    @property
    def path(self) -> Path:
        return keras_home() / self.cache_subdir / self.fname

    @property
    def extracted_path(self) -> Path:
        """Where an archive is unpacked: Keras's own convention, ``<stem>_extracted``."""
        stem = self.fname
        for ext in (".tar.gz", ".tgz", ".tar", ".zip"):
            if stem.endswith(ext):
                stem = stem[: -len(ext)]
        return keras_home() / self.cache_subdir / f"{stem}_extracted"


def keras_home() -> Path:
    """Keras's cache folder: ``$KERAS_HOME`` or ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


_FILES = [
    # --- datasets (keras.datasets loaders; hashes as in Keras's source) ---
    DataFile("mnist", "mnist.npz", KERAS_DATASETS + "mnist.npz", "datasets",
             "MNIST handwritten digits, 60,000 + 10,000 28x28 images", "CC BY-SA 3.0 (LeCun, Cortes, Burges)",
             file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
             sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", size=11490434),
    DataFile("reuters", "reuters.npz", KERAS_DATASETS + "reuters.npz", "datasets",
             "Reuters-21578 newswires, 46 topics", "Reuters-21578 Distribution 1.0, research use",
             file_hash="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
             sha256="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916", size=2110848),
    DataFile("reuters_word_index", "reuters_word_index.json", KERAS_DATASETS + "reuters_word_index.json",
             "datasets", "Word index of the Reuters newswires", "as reuters",
             file_hash="4d44cc38712099c9e383dc6e5f11a921",
             sha256="9b56000edc4b34a32e89fd5a23b2605594682c74efcf7d8f4e2a5514b771e633", size=550378),
    DataFile("imdb", "imdb.npz", KERAS_DATASETS + "imdb.npz", "datasets",
             "IMDB reviews as word-index sequences (keras.datasets.imdb)", "Maas et al. 2011",
             file_hash="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f", size=17464789,
             note="optional: the course reads the raw reviews (aclImdb) instead"),
    DataFile("imdb_word_index", "imdb_word_index.json", KERAS_DATASETS + "imdb_word_index.json", "datasets",
             "Word index of keras.datasets.imdb", "Maas et al. 2011",
             file_hash="bfafd718b763782e994055a2d397834f",
             sha256="027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6", size=1641221),
    DataFile("aclImdb", "aclImdb.tar.gz", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
             "datasets", "Large Movie Review Dataset: 25,000 + 25,000 raw reviews", "Maas et al., ACL 2011",
             sha256="9ee557b78db5bec5b66c31cccdc21032dd77ee423a10315927402ea4332cfe5a", size=28178546, archive=True,
             note="the original archive also holds train/unsup, which the loaders ignore"),
    DataFile("boston_housing", "boston_housing.npz", KERAS_DATASETS + "boston_housing.npz", "datasets",
             "Boston housing prices, 404 + 102 samples, 13 features", "Harrison & Rubinfeld 1978, StatLib",
             file_hash="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
             sha256="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5", size=57026),
    DataFile("nietzsche", "nietzsche.txt", "https://s3.amazonaws.com/text-datasets/nietzsche.txt", "datasets",
             "Nietzsche, Beyond Good and Evil (tr. Zimmern), 600,893 characters", "public domain",
             sha256="23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647", size=600901),
    DataFile("cats_and_dogs_small", "cats_and_dogs_small.tar.gz", None, "datasets",
             "Cats vs dogs small split: 1,000 train / 500 validation / 500 test JPEGs",
             "Kaggle Dogs vs. Cats (Asirra), research and non-commercial use",
             sha256="69617d2e8d5b8180589f23dc96305e5486df311ee31ae5ad0d4b224e3da41df7", size=21612705, archive=True,
             note="no public URL: build it from 'kagglecatsanddogs' with "
                  "dlpy.data.cats_dogs.make_cats_and_dogs_small()"),
    DataFile("kagglecatsanddogs", "kagglecatsanddogs_5340.zip",
             "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
             "kagglecatsanddogs_5340.zip", "datasets",
             "Microsoft's copy of the Kaggle Dogs vs. Cats images (PetImages/Cat, PetImages/Dog)",
             "Kaggle Dogs vs. Cats (Asirra), research and non-commercial use", size=824887076, archive=True,
             note="optional: the source of cats_and_dogs_small for online users"),
    *[
        DataFile(f"fashion_mnist_{part}", f"{part}.gz", KERAS_DATASETS + f"fashion-mnist/{part}.gz",
                 "datasets/fashion-mnist", f"Fashion-MNIST {part}", "MIT (Zalando Research)",
                 note="also in Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist)")
        for part in ("train-labels-idx1-ubyte", "train-images-idx3-ubyte",
                     "t10k-labels-idx1-ubyte", "t10k-images-idx3-ubyte")
    ],
    # --- ImageNet weights (keras.applications) ---
    DataFile("imagenet_class_index", "imagenet_class_index.json",
             "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json", "models",
             "ImageNet class names for decode_predictions", "ILSVRC-2012",
             file_hash="c2c37ea517e94d9795004a39431a14cb",
             sha256="a1e7a966a1f601d39e4b43e119b3e7dd4a2ad3ea08cf69847cbaf021013767bc", size=35363),
    DataFile("mobilenet_0.75_224", "mobilenet_7_5_224_tf.h5",
             KERAS_APPLICATIONS + "mobilenet/mobilenet_7_5_224_tf.h5", "models",
             "MobileNet v1 alpha=0.75 ImageNet weights, with the classifier", "Apache-2.0",
             sha256="c80c6d56bf40cd8fd8c6927a3c4a03da0732323cbbf173e06c8409ebaf8fdd88", size=10628720),
    DataFile("mobilenet_0.75_224_notop", "mobilenet_7_5_224_tf_no_top.h5",
             KERAS_APPLICATIONS + "mobilenet/mobilenet_7_5_224_tf_no_top.h5", "models",
             "MobileNet v1 alpha=0.75 ImageNet weights, convolutional base", "Apache-2.0",
             sha256="353ac9865c5ad9ff35a4ef9e21e734fb9a01f9bb0d69fcac600a12de95b30e54", size=7547536),
    DataFile("vgg16_notop", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
             KERAS_APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "models",
             "VGG16 ImageNet weights, convolutional base", "CC BY 4.0",
             file_hash="6d6bbae143d832006294945121d1f1fc", size=58889256),
    DataFile("vgg19_notop", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
             KERAS_APPLICATIONS + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "models",
             "VGG19 ImageNet weights, convolutional base", "CC BY 4.0",
             file_hash="253f8cb515780f3b799900260a226db6", size=80134624),
    DataFile("vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
             KERAS_APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5", "models",
             "VGG16 ImageNet weights, with the classifier", "CC BY 4.0",
             file_hash="64373286793e3c8b2b4e3219cbf3544b", size=553467096),
    DataFile("xception", "xception_weights_tf_dim_ordering_tf_kernels.h5",
             KERAS_APPLICATIONS + "xception/xception_weights_tf_dim_ordering_tf_kernels.h5", "models",
             "Xception ImageNet weights, with the classifier", "MIT (Keras applications)",
             file_hash="0a58e3b7378bc2990ea3b43d5981f1f6", size=91884032),
    DataFile("inception_v3_notop", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
             KERAS_APPLICATIONS + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "models",
             "InceptionV3 ImageNet weights, convolutional base (the book's DeepDream model)", "Apache-2.0",
             file_hash="bcbd6486424b2319ff4ef7d526e38f63",
             note="optional: chapter 13 uses it where present, else MobileNet"),
    DataFile("vgg19_notop_uint8", "vgg19_notop_imagenet_from_tfjs_uint8.h5", None, "models",
             "VGG19 ImageNet conv weights converted from an 8-bit TF.js export (stand-in for vgg19_notop)",
             "CC BY 4.0",
             sha256="b3e87deacc746944391064569ffa08dfd1a03635aedaef97444c98d796497bfa", size=36274526,
             note="offline stand-in, loaded with weights=<path>; Keras's own file is preferred when present"),
    # --- sample photos (read by path; Keras does not use them) ---
    DataFile("elephant", "creative_commons_elephant.jpg", "https://img-datasets.s3.amazonaws.com/elephant.jpg",
             "images", "Two African elephants (the book's Grad-CAM photo)", "Creative Commons",
             sha256="920dd73adff4627f5d4ef59a6f114fd88553931846730366a541feb1d1231038", size=55490),
    DataFile("cat", "cat.1700.jpg", "https://img-datasets.s3.amazonaws.com/cat.jpg", "images",
             "A cat from the Dogs vs. Cats test split (the book's activation photo)", "Kaggle Dogs vs. Cats",
             sha256="63f85d029dde2b5531f22dc5c05544f12dfb56bee09c9094932cc03eba9a93c1", size=20066),
    DataFile("starry_night", "starry_night.jpg", "https://img-datasets.s3.amazonaws.com/starry_night.jpg",
             "images", "Van Gogh, The Starry Night (1889): style reference", "public domain",
             sha256="d1fe297af920912956361c1627eca88526be2789d2cc170faf43b2f82f9f4847", size=67203),
    DataFile("tubingen", "tubingen.jpg",
             "https://upload.wikimedia.org/wikipedia/commons/0/00/Tuebingen_Neckarfront.jpg", "images",
             "The Neckarfront in Tuebingen: content and DeepDream photo", "CC BY 3.0 (A. Praefcke)",
             sha256="6fcee36edeb6ee3f700fe9c46699b948d89a96af1a8f6adfa45296c885fd85cf", size=121562),
]

REGISTRY: dict[str, DataFile] = {f.name: f for f in _FILES}


def get_entry(name: str) -> DataFile:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"No data file named {name!r}. Registered files: {', '.join(sorted(REGISTRY))}") from None


def _hash_matches(path: Path, expected: str) -> bool:
    algorithm = hashlib.sha256() if len(expected) == 64 else hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            algorithm.update(block)
    return algorithm.hexdigest() == expected


def status(entry: DataFile) -> str:
    """``present``, ``missing`` or ``corrupt`` (Keras's hash check fails)."""
    if not entry.path.exists():
        return "missing"
    if entry.file_hash and not _hash_matches(entry.path, entry.file_hash):
        return "corrupt"
    return "present"


def missing_message(entry: DataFile, reason: str = "") -> str:
    lines = [f"Data file {entry.fname!r} ({entry.description}) is not available{': ' + reason if reason else '.'}"]
    if entry.origin:
        lines.append(f"  download it from: {entry.origin}")
    if entry.note:
        lines.append(f"  note: {entry.note}")
    if entry.file_hash:
        lines.append(f"  expected hash (Keras checks it): {entry.file_hash}")
    elif entry.sha256:
        lines.append(f"  sha256 of the copy the course was tested with: {entry.sha256}")
    lines.append(f"  and put it at: {entry.path}")
    lines.append(f"  (the cache is $KERAS_HOME, now {keras_home()}; `dlpy data` lists every file, and "
                 "`dlpy data --link DIR` links an offline copy into the cache)")
    return "\n".join(lines)


def fetch(name: str) -> Path:
    """Path of a registered file in the Keras cache, downloading it first when missing.

    The download goes through ``keras.utils.get_file`` (which checks ``file_hash``) into a temporary
    folder beside the cache and is moved into place only when complete, so a half file is never left.
    """
    entry = get_entry(name)
    path = entry.path
    if path.exists():
        if entry.file_hash and not _hash_matches(path, entry.file_hash):
            raise CorruptDataError(
                f"{path} does not match its published hash {entry.file_hash}: the file is damaged or a "
                f"different version. Delete it and fetch it again.\n" + missing_message(entry)
            )
        return path
    if entry.origin is None:
        raise DataNotAvailableError(missing_message(entry, "it has no public download URL"))
    import keras

    path.parent.mkdir(parents=True, exist_ok=True)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".download-") as tmp:
            downloaded = keras.utils.get_file(
                entry.fname, entry.origin, file_hash=entry.file_hash, cache_dir=tmp, cache_subdir="."
            )
            os.replace(downloaded, path)
    except Exception as error:  # no network, HTTP error, hash mismatch after download
        raise DataNotAvailableError(missing_message(entry, f"download failed ({type(error).__name__}: {error})")) \
            from error
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return path


def extract(name: str) -> Path:
    """Fetch an archive and unpack it once into ``<cache>/<stem>_extracted`` (atomically); return that folder."""
    entry = get_entry(name)
    if not entry.archive:
        raise ValueError(f"{name!r} is not an archive")
    target = entry.extracted_path
    if target.is_dir():
        return target
    archive = fetch(name)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():  # another process finished the same extraction first: fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def link_cache(source: Path) -> list[Path]:
    """Link every registered file found under ``source`` (a folder laid out like the Keras cache,
    e.g. an offline copy) into the writable ``$KERAS_HOME``. Returns the links made."""
    source = Path(source).resolve()
    made = []
    for entry in REGISTRY.values():
        src = source / entry.cache_subdir / entry.fname
        if not src.exists() or entry.path.exists():
            continue
        entry.path.parent.mkdir(parents=True, exist_ok=True)
        entry.path.symlink_to(src)
        made.append(entry.path)
    return made
