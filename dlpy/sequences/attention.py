"""Attention and the Transformer encoder for sequence classification (the book's 2nd edition, ch. 11).

:func:`scaled_dot_product_attention` is the whole mechanism in three lines: every position scores
every other one (``q k^T / sqrt(d)``), the scores become weights (softmax; padded positions get
none), and the output mixes the values with those weights. :class:`TransformerEncoder` wraps
``keras.layers.MultiHeadAttention`` (several such attentions over learned projections) with a dense
projection, residual connections and layer normalization; :class:`PositionalEmbedding` gives the
tokens their order, which attention alone does not see. Both layers pass Keras's padding mask on
and are serializable (``get_config``).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from dlpy.course.arguments import integer_at_least


def scaled_dot_product_attention(queries, keys, values, mask=None):
    """``softmax(q k^T / sqrt(d)) v`` for ``(batch, positions, d)`` tensors; ``mask`` (batch, positions)
    marks the key positions that may be attended to (``False``: padding, weight 0). Returns
    ``(outputs, weights)``. Taught in chapter 12 (text classification)."""
    scores = ops.matmul(queries, ops.transpose(keys, (0, 2, 1))) / ops.sqrt(ops.cast(ops.shape(keys)[-1], "float32"))
    if mask is not None:
        scores = ops.where(ops.expand_dims(ops.cast(mask, "bool"), 1), scores, ops.full_like(scores, -1e9))
    weights = ops.softmax(scores, axis=-1)
    return ops.matmul(weights, values), weights


@keras.saving.register_keras_serializable(package="dlpy")
class PositionalEmbedding(layers.Layer):
    """Token embeddings plus learned position embeddings, ``(batch, length)`` ids to ``(batch, length,
    dim)``; id 0 is padding and is masked for the layers after it. Taught in chapter 12."""

    def __init__(self, sequence_length: int, vocabulary_size: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("sequence_length", sequence_length), ("vocabulary_size", vocabulary_size),
                            ("dim", dim)):
            integer_at_least(name, value)
        self.sequence_length, self.vocabulary_size, self.dim = sequence_length, vocabulary_size, dim
        self.tokens = layers.Embedding(vocabulary_size, dim, name="tokens")
        self.positions = layers.Embedding(sequence_length, dim, name="positions")

    def build(self, input_shape):
        self.tokens.build(input_shape)
        self.positions.build((self.sequence_length,))
        self.built = True

    def call(self, ids):
        length = ops.shape(ids)[-1]
        return self.tokens(ids) + self.positions(ops.arange(0, length))

    def compute_mask(self, ids, mask=None):
        return ops.not_equal(ids, 0)

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "vocabulary_size": self.vocabulary_size, "dim": self.dim}


@keras.saving.register_keras_serializable(package="dlpy")
class TransformerEncoder(layers.Layer):
    """One Transformer encoder block: multi-head self-attention, then a two-layer dense projection,
    each added back to its input and layer-normalized. Inputs and outputs are ``(batch, length, dim)``;
    a Keras mask (from :class:`PositionalEmbedding` or ``Embedding(mask_zero=True)``) keeps padding
    out of the attention. Taught in chapter 12."""

    def __init__(self, dim: int, dense_dim: int, num_heads: int, **kwargs):
        super().__init__(**kwargs)
        if dim % num_heads:
            raise ValueError(f"dim ({dim}) must be a multiple of num_heads ({num_heads}): each head gets dim // "
                             "num_heads features.")
        self.dim, self.dense_dim, self.num_heads = dim, dense_dim, num_heads
        self.attention = layers.MultiHeadAttention(num_heads, key_dim=dim // num_heads, name="attention")
        self.projection = keras.Sequential([layers.Dense(dense_dim, activation="relu"), layers.Dense(dim)],
                                           name="projection")
        self.norm_1 = layers.LayerNormalization(name="norm_1")
        self.norm_2 = layers.LayerNormalization(name="norm_2")
        self.supports_masking = True

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)
        self.projection.build(input_shape)
        self.norm_1.build(input_shape)
        self.norm_2.build(input_shape)
        self.built = True

    def call(self, inputs, mask=None):
        attention_mask = None if mask is None else ops.expand_dims(mask, 1)  # (batch, 1, keys)
        attended = self.attention(inputs, inputs, attention_mask=attention_mask)
        x = self.norm_1(inputs + attended)
        return self.norm_2(x + self.projection(x))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "dense_dim": self.dense_dim, "num_heads": self.num_heads}
