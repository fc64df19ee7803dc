"""Reuters newswires as multi-hot bags of words, 46 topics. Taught in chapter 02.

Built on ``keras.datasets.reuters.load_data(num_words=...)`` and ``get_word_index()``: the
word-index sequences are multi-hot encoded and decoded with the word index (offset 3).
"""

from __future__ import annotations

import numpy as np

from dlpy.course.arguments import integer_at_least
from dlpy.data.multi_hot import TextClassificationData, multi_hot, word_index_vocabulary
from dlpy.data.registry import fetch, show_to_keras

NUM_TOPICS = 46


def topic_names() -> list[str]:
    """The 46 topic names, index = label (``keras.datasets.reuters.get_label_names()``).
    Taught in chapter 02."""
    import keras

    return list(keras.datasets.reuters.get_label_names())


def load_reuters(num_words: int = 10_000, train_size: int | None = None, seed: int = 1337) -> TextClassificationData:
    """The Reuters newswires: ``x`` multi-hot (uint8, ``num_words`` columns), ``y`` integer topics
    (0-45, int64), 8,982 training and 2,246 test wires in Keras's split.

    ``train_size``: a seeded random subset of the training wires (topics keep their natural,
    unbalanced frequencies). Decode a wire with ``data.decode(i)``. Taught in chapter 02.
    """
    integer_at_least("num_words", num_words, minimum=4)
    show_to_keras("reuters")  # checked first, with the registry's clear error when missing
    word_index_path = fetch("reuters_word_index")
    import keras

    (train_seqs, y_train), (test_seqs, y_test) = keras.datasets.reuters.load_data(num_words=num_words)
    if train_size is not None:
        if not 1 <= train_size <= len(train_seqs):
            raise ValueError(f"train_size must be None or between 1 and {len(train_seqs)}, got {train_size}")
        keep = np.sort(np.random.default_rng(seed).choice(len(train_seqs), size=train_size, replace=False))
        train_seqs, y_train = train_seqs[keep], y_train[keep]
    return TextClassificationData(
        x_train=multi_hot(train_seqs, num_words), y_train=np.asarray(y_train, dtype=np.int64),
        x_test=multi_hot(test_seqs, num_words), y_test=np.asarray(y_test, dtype=np.int64),
        vocabulary=word_index_vocabulary(word_index_path, num_words), class_names=topic_names(),
        texts_train=list(train_seqs), texts_test=list(test_seqs), to_indices=np.asarray, source="keras",
    )
