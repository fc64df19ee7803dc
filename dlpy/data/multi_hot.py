"""Bag-of-words data shared by the IMDB and Reuters loaders: multi-hot encoding, the word-index
vocabulary of ``keras.datasets`` and a container that can decode its samples back to words.
Taught in chapters 01 and 02.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np

PAD, START, UNK = "[PAD]", "[START]", "[UNK]"
INDEX_OFFSET = 3  # keras.datasets reserve 0 (padding), 1 (start of sequence) and 2 (out of vocabulary)


def multi_hot(sequences: Sequence[Sequence[int]], num_words: int, dtype="uint8") -> np.ndarray:
    """Encode lists of word indices as a ``(len(sequences), num_words)`` 0/1 matrix: entry ``[i, j]``
    is 1 when word ``j`` occurs in sequence ``i`` (order and counts are dropped).

    ``uint8`` keeps 25,000 IMDB reviews in 250 MB instead of 1 GB of float32; Keras converts each
    batch to float. Taught in chapter 01.
    """
    if num_words < 1:
        raise ValueError(f"num_words must be at least 1, got {num_words}")
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    out = np.zeros((len(sequences), num_words), dtype=dtype)
    if lengths.sum() == 0:
        return out
    columns = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences if len(s)])
    if columns.min() < 0 or columns.max() >= num_words:
        raise ValueError(
            f"Word indices must lie in [0, {num_words}); found {columns.min()}..{columns.max()}. "
            f"Load the data with num_words={num_words} or encode with a larger num_words."
        )
    rows = np.repeat(np.arange(len(sequences)), lengths)
    out[rows, columns] = 1
    return out


def word_index_vocabulary(word_index_path, num_words: int) -> list[str]:
    """The vocabulary of a ``keras.datasets`` word index: entry ``j`` is the word that index ``j``
    stands for in ``load_data()``'s sequences (rank ``j - 3``; 0, 1 and 2 are ``[PAD]``,
    ``[START]`` and ``[UNK]``). Taught in chapter 01."""
    with open(word_index_path) as f:
        word_index = json.load(f)
    vocabulary = [PAD, START, UNK] + [""] * max(0, num_words - INDEX_OFFSET)
    for word, rank in word_index.items():
        j = rank + INDEX_OFFSET
        if j < num_words:
            vocabulary[j] = word
    return vocabulary[:num_words]


class TextClassificationData:
    """A text classification data set as the chapter's model sees it.

    ``x_train``/``x_test``: multi-hot matrices (uint8); column ``j`` is ``vocabulary[j]``.
    ``y_train``/``y_test``: labels. ``texts_train``/``texts_test``: the samples before encoding (raw
    text or word-index sequences), which :meth:`decode` turns into the tokens the model reads.
    Taught in chapters 01 and 02.
    """

    def __init__(self, *, x_train, y_train, x_test, y_test, vocabulary, class_names, texts_train,
                 texts_test, to_indices: Callable, source: str):
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test
        self.vocabulary = list(vocabulary)
        self.class_names = list(class_names)
        self.texts_train, self.texts_test = texts_train, texts_test
        self.source = source
        self._to_indices = to_indices

    def _texts(self, split: str):
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return self.texts_train if split == "train" else self.texts_test

    def token_indices(self, index: int, split: str = "train") -> np.ndarray:
        """The sample as a sequence of vocabulary indices (out-of-vocabulary words map to ``[UNK]``)."""
        return np.asarray(self._to_indices(self._texts(split)[index]), dtype=np.int64)

    def decode(self, index: int, split: str = "train", max_words: int | None = None) -> str:
        """The sample's words in order, as the model's vocabulary sees them: words outside the
        vocabulary read ``[UNK]``. Taught in chapter 01."""
        indices = self.token_indices(index, split)
        if max_words is not None:
            indices = indices[:max_words]
        return " ".join(self.vocabulary[j] for j in indices)

    def encode(self, texts) -> np.ndarray:
        """Multi-hot rows for new samples (raw strings for the reviews route, word-index sequences
        for the ``keras.datasets`` route), encoded with this data set's vocabulary."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts; wrap a single text in a list")
        return multi_hot([self._to_indices(t) for t in texts], len(self.vocabulary))

    def words(self, row) -> list[str]:
        """The vocabulary words present in one multi-hot row (what the model actually receives:
        a set, without order or counts)."""
        return [self.vocabulary[j] for j in np.flatnonzero(np.asarray(row))]

    def label_name(self, label) -> str:
        return self.class_names[int(label)]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(source={self.source!r}, x_train={self.x_train.shape} "
                f"{self.x_train.dtype}, x_test={self.x_test.shape}, classes={len(self.class_names)}, "
                f"vocabulary={len(self.vocabulary)})")


def balanced_subset(labels, size: int | None, seed: int) -> np.ndarray:
    """Indices of a seeded subset with (as nearly as possible) the same number of samples per class,
    in shuffled order; ``size=None`` gives every index, shuffled. Taught in chapter 01 (the smaller
    profiles' IMDB subsets)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    if size is None:
        return rng.permutation(len(labels))
    if not 1 <= size <= len(labels):
        raise ValueError(f"subset size must be between 1 and {len(labels)}, got {size}")
    classes = np.unique(labels)
    quotas = np.full(len(classes), size // len(classes))
    quotas[: size % len(classes)] += 1
    chosen = []
    for cls, quota in zip(classes, quotas):
        members = np.flatnonzero(labels == cls)
        if quota > len(members):
            raise ValueError(f"class {cls!r} has only {len(members)} samples; cannot take {quota}")
        chosen.append(rng.choice(members, size=quota, replace=False))
    return rng.permutation(np.concatenate(chosen))
