"""IMDB movie reviews as multi-hot bags of words, for binary sentiment classification.
Taught in chapters 01 (classification) and 04 (overfitting and regularization).

Two routes give the same kind of data (``x``: reviews x 10,000 words, uint8 0/1):

- ``source="reviews"`` (default): the raw Large Movie Review Dataset (registry entry ``aclImdb``),
  read with ``keras.utils.text_dataset_from_directory`` and encoded by a
  ``keras.layers.TextVectorization`` layer adapted on the training reviews only (the book's 2nd
  edition). The encoded matrices are cached once (compactly) under ``$KERAS_HOME/datasets/dlpy_cache``
  (``~/.cache/dlpy`` when the Keras cache is read-only).
- ``source="keras"``: ``keras.datasets.imdb.load_data(num_words=...)`` (needs ``imdb.npz``), whose
  word-index sequences are multi-hot encoded and decoded with the word index (offset 3).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from dlpy.data.multi_hot import TextClassificationData, balanced_subset, multi_hot, word_index_vocabulary
from dlpy.data.registry import extract, fetch, show_to_keras, writable_cache

SOURCES = ("reviews", "keras")
CLASS_NAMES = ("neg", "pos")  # the folders read; an original archive's train/unsup is ignored
NUM_REVIEWS = 25_000  # per split
CACHE_VERSION = 2
_BATCH = 1024


def load_imdb(num_words: int = 10_000, source: str = "reviews", train_size: int | None = None,
              test_size: int | None = None, seed: int = 1337, cache: bool = True) -> TextClassificationData:
    """IMDB reviews, labels (0 = negative, 1 = positive, float32) and a vocabulary to decode them.

    ``train_size``/``test_size``: a balanced, seeded subset (``None``: all 25,000 per split, in a
    seeded shuffled order, so any slice of ``x_train`` is a fair validation set). ``source``:
    ``"reviews"`` (raw text, default) or ``"keras"`` (``keras.datasets.imdb``, needs ``imdb.npz``).

    Args:
        num_words: the vocabulary size, at least 4: the most frequent words are kept, one column of ``x`` each.
        source: ``"reviews"`` or ``"keras"``, as above.
        train_size: training reviews to keep, from 2 to 25,000 (``None``: all 25,000).
        test_size: test reviews to keep, from 2 to 25,000 (``None``: all 25,000).
        seed: the seed of the subsets and of the shuffled order (the test split uses ``seed + 1``).
        cache: with ``source="reviews"``, reuse (or write) the encoded matrices cached under
            ``$KERAS_HOME/datasets/dlpy_cache`` instead of reading and encoding the raw reviews again.

    Example::

        data = load_imdb(num_words=10_000, train_size=5_000, test_size=5_000)

    Taught in chapter 01.
    """
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}. Choose one of: {', '.join(map(repr, SOURCES))}.")
    if not isinstance(num_words, (int, np.integer)) or num_words < 4:
        raise ValueError(f"num_words must be an integer of at least 4, got {num_words!r}")
    for name, size in (("train_size", train_size), ("test_size", test_size)):
        if size is not None and not 2 <= size <= NUM_REVIEWS:
            raise ValueError(f"{name} must be None or between 2 and {NUM_REVIEWS}, got {size}")
    if source == "keras":
        return _load_from_keras(num_words, train_size, test_size, seed)
    return _load_from_reviews(num_words, train_size, test_size, seed, cache)


# --- the raw-review route -----------------------------------------------------------------------

def clean_review(text: str) -> str:
    """The reviews contain HTML line breaks (``<br />``); replace them by spaces before tokenizing.
    Taught in chapter 01."""
    return text.replace("<br />", " ")


def make_vectorizer(num_words: int, output_mode: str = "multi_hot", vocabulary=None):
    """The ``TextVectorization`` layer of chapter 01: lowercase, strip punctuation, split on spaces,
    keep the ``num_words`` most frequent words (index 0 of a multi-hot vector is ``[UNK]``).
    Taught in chapter 01."""
    import keras

    return keras.layers.TextVectorization(max_tokens=num_words, output_mode=output_mode, vocabulary=vocabulary)


def vectorize_texts(train_texts, other_texts=(), num_words: int = 10_000, batch_size: int = _BATCH):
    """Adapt a multi-hot ``TextVectorization`` on ``train_texts`` only, then encode ``train_texts``
    and each list in ``other_texts``. Returns ``(x_train, [x_other...], vocabulary)``, uint8.
    Taught in chapter 01."""
    import tensorflow as tf

    if len(train_texts) == 0:
        raise ValueError("No training texts to build a vocabulary from.")
    vectorizer = make_vectorizer(num_words)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(train_texts)).batch(batch_size))
    vocabulary = [str(w) for w in vectorizer.get_vocabulary()]

    def encode(texts):
        out = np.zeros((len(texts), len(vocabulary)), dtype=np.uint8)
        for start in range(0, len(texts), batch_size):
            chunk = tf.constant(list(texts[start:start + batch_size]))
            out[start:start + len(chunk)] = vectorizer(chunk).numpy()
        return out

    return encode(train_texts), [encode(texts) for texts in other_texts], vocabulary


def _read_split(folder: Path, size: int | None, seed: int):
    """Texts and labels of one split, read with ``text_dataset_from_directory`` in a seeded shuffled
    order; for a subset, reading stops as soon as each class has its share (balanced)."""
    import keras

    dataset = keras.utils.text_dataset_from_directory(
        folder, class_names=list(CLASS_NAMES), batch_size=None, shuffle=True, seed=seed, verbose=False
    )
    quota = None if size is None else np.array([size // 2 + size % 2, size // 2])
    counts = np.zeros(2, dtype=int)
    texts, labels = [], []
    for batch_texts, batch_labels in dataset.batch(256):
        for text, label in zip(batch_texts.numpy(), batch_labels.numpy()):
            if quota is not None and counts[label] >= quota[label]:
                continue
            counts[label] += 1
            texts.append(clean_review(text.decode("utf-8")))
            labels.append(label)
        if quota is not None and (counts >= quota).all():
            break
    return texts, np.asarray(labels, dtype="float32")


def _cache_file(num_words, train_size, test_size, seed) -> Path:
    key = f"v{CACHE_VERSION}-{num_words}-{train_size}-{test_size}-{seed}"
    return writable_cache() / "datasets" / "dlpy_cache" / f"imdb_reviews_multi_hot_{key}.npz"


def _pack_texts(texts) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.cumsum([0] + [len(e) for e in encoded])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _unpack_texts(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    data = blob.tobytes()
    return [data[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]


def _sparse_columns(name: str, x: np.ndarray) -> dict:
    """A multi-hot matrix stored compactly: the column of each 1 (row by row) and the count per row.
    Rebuilding it is a single scatter, much faster than unpacking bits."""
    rows, columns = np.nonzero(x)
    return {f"{name}_columns": columns.astype(np.uint16 if x.shape[1] <= 65536 else np.int32),
            f"{name}_counts": np.bincount(rows, minlength=len(x)).astype(np.int32)}


def _dense_from_columns(stored, name: str, width: int) -> np.ndarray:
    counts = stored[f"{name}_counts"]
    out = np.zeros((len(counts), width), dtype=np.uint8)
    out[np.repeat(np.arange(len(counts)), counts), stored[f"{name}_columns"]] = 1
    return out


def _save_cache(path: Path, x_train, y_train, x_test, y_test, vocabulary, texts_train, texts_test):
    path.parent.mkdir(parents=True, exist_ok=True)
    train_blob, train_offsets = _pack_texts(texts_train)
    test_blob, test_offsets = _pack_texts(texts_test)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **_sparse_columns("x_train", x_train), **_sparse_columns("x_test", x_test),
                     y_train=y_train, y_test=y_test, vocabulary=np.array(vocabulary),
                     train_blob=train_blob, train_offsets=train_offsets,
                     test_blob=test_blob, test_offsets=test_offsets)
        os.replace(tmp, path)  # atomic: a parallel notebook never sees half a file
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _load_from_reviews(num_words, train_size, test_size, seed, cache) -> TextClassificationData:
    root = extract("aclImdb") / "aclImdb"  # the registry's clear error when the archive is missing
    cache_path = _cache_file(num_words, train_size, test_size, seed)
    if cache and cache_path.exists():
        with np.load(cache_path) as stored:
            vocabulary = [str(w) for w in stored["vocabulary"]]
            x_train = _dense_from_columns(stored, "x_train", len(vocabulary))
            x_test = _dense_from_columns(stored, "x_test", len(vocabulary))
            y_train, y_test = stored["y_train"], stored["y_test"]
            texts_train = _unpack_texts(stored["train_blob"], stored["train_offsets"])
            texts_test = _unpack_texts(stored["test_blob"], stored["test_offsets"])
    else:
        for split in ("train", "test"):
            if not (root / split / "pos").is_dir() or not (root / split / "neg").is_dir():
                raise FileNotFoundError(f"{root / split} lacks pos/ and neg/ folders: the aclImdb archive is "
                                        "incomplete. Delete the folder and extract the archive again.")
        texts_train, y_train = _read_split(root / "train", train_size, seed)
        texts_test, y_test = _read_split(root / "test", test_size, seed + 1)
        x_train, (x_test,), vocabulary = vectorize_texts(texts_train, [texts_test], num_words)
        if cache:
            _save_cache(cache_path, x_train, y_train, x_test, y_test, vocabulary, texts_train, texts_test)

    return _reviews_data(x_train, y_train, x_test, y_test, vocabulary, texts_train, texts_test)


def reviews_from_texts(texts_train, y_train, texts_test, y_test, num_words: int = 10_000) -> TextClassificationData:
    """Encode your own reviews the way :func:`load_imdb` does (vocabulary from ``texts_train`` only).
    Taught in chapter 01."""
    x_train, (x_test,), vocabulary = vectorize_texts(texts_train, [texts_test], num_words)
    return _reviews_data(x_train, np.asarray(y_train, "float32"), x_test, np.asarray(y_test, "float32"),
                         vocabulary, list(texts_train), list(texts_test))


def _reviews_data(x_train, y_train, x_test, y_test, vocabulary, texts_train, texts_test) -> TextClassificationData:
    indexer = {}

    def to_indices(text):
        if "layer" not in indexer:  # int-mode twin of the multi-hot layer: its index j + 1 is column j
            indexer["layer"] = make_vectorizer(None, output_mode="int", vocabulary=vocabulary[1:])
        import tensorflow as tf

        return indexer["layer"](tf.constant([text])).numpy()[0] - 1

    return TextClassificationData(
        x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, vocabulary=vocabulary,
        class_names=CLASS_NAMES, texts_train=texts_train, texts_test=texts_test, to_indices=to_indices,
        source="reviews",
    )


# --- the keras.datasets route -------------------------------------------------------------------

def _load_from_keras(num_words, train_size, test_size, seed) -> TextClassificationData:
    show_to_keras("imdb")  # checked first, with the registry's clear error when imdb.npz is missing
    word_index_path = fetch("imdb_word_index")
    import keras

    (train_seqs, train_labels), (test_seqs, test_labels) = keras.datasets.imdb.load_data(num_words=num_words)
    train_order = balanced_subset(train_labels, train_size, seed)
    test_order = balanced_subset(test_labels, test_size, seed + 1)
    train_seqs, test_seqs = [train_seqs[i] for i in train_order], [test_seqs[i] for i in test_order]
    return TextClassificationData(
        x_train=multi_hot(train_seqs, num_words), y_train=np.asarray(train_labels)[train_order].astype("float32"),
        x_test=multi_hot(test_seqs, num_words), y_test=np.asarray(test_labels)[test_order].astype("float32"),
        vocabulary=word_index_vocabulary(word_index_path, num_words), class_names=CLASS_NAMES,
        texts_train=train_seqs, texts_test=test_seqs, to_indices=np.asarray, source="keras",
    )

