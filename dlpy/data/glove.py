"""Pretrained GloVe word vectors (Pennington et al. 2014), for a frozen ``Embedding`` (the book's
2nd edition ch. 11). :func:`load_glove` reads ``glove.6B.<dim>d.txt`` from the book's zip when it is
cached or can be downloaded; offline it falls back on the real prefix the course ships (the 2,717
most frequent words of the 100-dimensional file) and says so: with it, most of a review's words
have no vector. Taught in chapter 12.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlpy.data.registry import DataNotAvailableError, extract, fetch, get_entry, status

FULL, PREFIX = "glove_6b", "glove_6b_100d_prefix"
DIMENSIONS = (50, 100, 200, 300)


@dataclass
class GloveVectors:
    """``words`` and their ``vectors`` (words, dim) float32, from ``path`` (``source``: ``"full"`` or
    ``"prefix"``). Taught in chapter 12."""

    words: list[str]
    vectors: np.ndarray
    source: str
    path: Path

    def __post_init__(self):
        self.index = {word: i for i, word in enumerate(self.words)}

    def coverage(self, vocabulary) -> float:
        """The fraction of ``vocabulary``'s words (padding and ``[UNK]`` left out) that have a vector."""
        words = [w for w in vocabulary if w not in ("", "[UNK]")]
        return sum(w in self.index for w in words) / max(len(words), 1)

    def embedding_matrix(self, vocabulary) -> np.ndarray:
        """``(len(vocabulary), dim)``: row ``i`` is the vector of ``vocabulary[i]``, zeros where there is
        none (padding, ``[UNK]``, words GloVe lacks), for ``Embedding(..., trainable=False)``."""
        matrix = np.zeros((len(vocabulary), self.vectors.shape[1]), dtype="float32")
        for i, word in enumerate(vocabulary):
            j = self.index.get(word)
            if j is not None:
                matrix[i] = self.vectors[j]
        return matrix


def load_glove(dim: int = 100) -> GloveVectors:
    """GloVe 6B vectors of ``dim`` dimensions (see the module's docstring for which file). Taught in
    chapter 12."""
    if dim not in DIMENSIONS:
        raise ValueError(f"GloVe 6B comes in {', '.join(map(str, DIMENSIONS))} dimensions; got dim={dim!r}.")
    prefix_ready = dim == 100 and status(get_entry(PREFIX)) == "present"
    path, source = None, "full"
    if status(get_entry(FULL)) == "present" or not prefix_ready:
        try:
            path = extract(FULL) / f"glove.6B.{dim}d.txt"
        except DataNotAvailableError as missing:
            if not prefix_ready:
                extra = ("" if dim == 100 else " The offline prefix holds 100 dimensions only: use dim=100.")
                raise DataNotAvailableError(f"{missing}\n(No offline GloVe vectors of {dim} dimensions either.{extra})"
                                            ) from None
    if path is None:
        path, source = fetch(PREFIX), "prefix"
    words, vectors = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, *numbers = line.rstrip("\n").split(" ")
            words.append(word)
            vectors.append(numbers)
    return GloveVectors(words, np.array(vectors, dtype="float32"), source, path)
