"""Text as numbers for the sequence chapters (the book's 2nd edition, ch. 11): TF-IDF bags of words
with scikit-learn's smoothed IDF, computed once and handed to Keras's ``TextVectorization``; token-id
sequences cut to a fixed length (keeping a review's end, where its verdict usually is); ``tf.data``
pipelines that vectorize on the fly; and the book's rule of thumb for bags versus sequences. (The
nearest words of a learned embedding: :func:`dlpy.viz.neighbors.nearest_words`.)

``TextVectorization(output_mode="tf_idf")`` adapted on its own uses ``log(1 + N / (1 + df))``;
:func:`tf_idf_vectorizer` gives it the IDF most references use, ``ln((1 + N) / (1 + df)) + 1``
(scikit-learn's ``TfidfVectorizer`` with ``norm=None``), so the course's numbers can be checked
against scikit-learn's.
"""

from __future__ import annotations

import numpy as np

from dlpy.course.arguments import integer_at_least

_BATCH = 1024
KEEP = ("last", "first")
# The book's rule of thumb (2nd ed., 11.3): below this many samples per word of an average sample,
# a bag of bigrams beats a sequence model.
SEQUENCE_MODEL_RATIO = 1500


def smoothed_idf(document_frequencies, num_documents: int) -> np.ndarray:
    """``ln((1 + N) / (1 + df)) + 1`` for each term: a term in every document weighs 1, a rare one
    more; never zero, never a division by zero. Taught in chapter 12."""
    df = np.asarray(document_frequencies, dtype="float64")
    if num_documents < 1 or np.any(df < 0) or np.any(df > num_documents):
        raise ValueError(f"Document frequencies must lie in [0, {num_documents}] (the number of documents); "
                         f"got values from {df.min()} to {df.max()}.")
    return np.log((1.0 + num_documents) / (1.0 + df)) + 1.0


def tf_idf_vectorizer(texts, max_tokens: int | None = None, ngrams: int | None = None):
    """A ``keras.layers.TextVectorization`` that turns texts into TF-IDF vectors (term count times
    :func:`smoothed_idf`), its vocabulary and document frequencies taken from ``texts`` (the training
    texts only). ``ngrams=2`` counts single words and pairs (the book's bag of bigrams). Column 0 is
    the out-of-vocabulary bucket. Taught in chapter 12."""
    import keras

    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a non-empty list of strings (the training texts).")
    counter = keras.layers.TextVectorization(max_tokens=max_tokens, ngrams=ngrams, output_mode="multi_hot")
    counter.adapt(texts, batch_size=_BATCH)
    vocabulary = counter.get_vocabulary()[1:]  # without "[UNK]"
    document_frequencies = sum(np.asarray(counter(texts[start:start + _BATCH])).sum(axis=0)
                               for start in range(0, len(texts), _BATCH))[1:]  # batched: never all rows at once
    return keras.layers.TextVectorization(
        max_tokens=max_tokens, ngrams=ngrams, output_mode="tf_idf", vocabulary=vocabulary,
        idf_weights=smoothed_idf(document_frequencies, len(texts)),
    )


def token_ids(vectorizer, texts, length: int, keep: str = "last") -> np.ndarray:
    """``(len(texts), length)`` int32 token ids from an adapted ``TextVectorization(output_mode="int")``:
    each text's ids, padded with 0 **after** its words (Keras masks, and cuDNN kernels need right-padded
    masks), cut to ``length`` keeping its ``"last"`` words (default: a review's verdict is usually at its
    end) or its ``"first"``. Taught in chapter 12."""
    import tensorflow as tf

    length = integer_at_least("length", length)
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}: which end of a long text to keep; got {keep!r}.")
    texts = list(texts)
    out = np.zeros((len(texts), length), dtype="int32")
    for start in range(0, len(texts), _BATCH):
        ids = vectorizer(tf.constant(texts[start:start + _BATCH]))
        rows = ids.to_list() if isinstance(ids, tf.RaggedTensor) else [row[row != 0] for row in np.asarray(ids)]
        for offset, row in enumerate(rows):
            row = np.asarray(row, dtype="int32")
            row = row[-length:] if keep == "last" else row[:length]
            out[start + offset, :len(row)] = row
    return out


def text_dataset(texts, labels, vectorizer=None, *, batch_size: int = 32, shuffle: bool = False, seed: int = 0):
    """A ``tf.data`` dataset of ``(vectorized texts, labels)`` batches: the texts are vectorized batch
    by batch as the model trains (a bag of bigrams of every review at once would not fit in memory),
    in parallel with the training step.

    Args:
        texts: the texts (strings).
        labels: one label per text.
        vectorizer: an adapted ``TextVectorization`` (``None``: the batches hold the raw strings).
        batch_size: texts per batch.
        shuffle: shuffle the texts on every pass (training).
        seed: the shuffle's seed, so runs repeat.

    Example::

        train = text_dataset(train_texts, y_train, bigrams, shuffle=True, seed=cfg.seed)

    Taught in chapter 12."""
    import tensorflow as tf

    texts = list(texts)
    labels = np.asarray(labels, dtype="float32")
    if len(texts) != len(labels):
        raise ValueError(f"texts and labels differ in length: {len(texts)} texts, {len(labels)} labels.")
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels))
    if shuffle:
        dataset = dataset.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(integer_at_least("batch_size", batch_size))
    if vectorizer is not None:
        dataset = dataset.map(lambda batch, y: (vectorizer(batch), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def bag_or_sequence(num_samples: int, mean_words_per_sample: float) -> tuple[float, str]:
    """The book's rule of thumb for text classification: ``ratio = samples / mean words per sample``;
    below 1,500 a bag of bigrams (word order dropped) tends to beat a sequence model, above it a
    sequence model has enough examples to learn from order. Returns ``(ratio, "bag of bigrams" or
    "sequence model")``. Taught in chapter 12."""
    if num_samples < 1 or not mean_words_per_sample > 0:
        raise ValueError(f"Need at least one sample and a positive mean length; got {num_samples} samples of "
                         f"{mean_words_per_sample} words on average.")
    ratio = num_samples / mean_words_per_sample
    return ratio, "sequence model" if ratio >= SEQUENCE_MODEL_RATIO else "bag of bigrams"

