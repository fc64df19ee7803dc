"""Text as numbers for the sequence chapters (the book's 2nd edition, ch. 11): TF-IDF bags of words
with scikit-learn's smoothed IDF, computed once and handed to Keras's ``TextVectorization``.

``TextVectorization(output_mode="tf_idf")`` adapted on its own uses ``log(1 + N / (1 + df))``;
:func:`tf_idf_vectorizer` gives it the IDF most references use, ``ln((1 + N) / (1 + df)) + 1``
(scikit-learn's ``TfidfVectorizer`` with ``norm=None``), so the course's numbers can be checked
against scikit-learn's.
"""

from __future__ import annotations

import numpy as np


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
    counter.adapt(texts)
    vocabulary = counter.get_vocabulary()[1:]  # without "[UNK]"
    document_frequencies = np.asarray(counter(texts)).sum(axis=0)[1:]
    return keras.layers.TextVectorization(
        max_tokens=max_tokens, ngrams=ngrams, output_mode="tf_idf", vocabulary=vocabulary,
        idf_weights=smoothed_idf(document_frequencies, len(texts)),
    )
