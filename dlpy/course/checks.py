"""Checking a result against a reference, as the cs231n assignments do: the relative error
``max |x - y| / max(1e-8, |x| + |y|)``. Around 1e-7 or below, two float32 computations agree; around
1e-2, one of them is wrong. Chapters use it to show that a lesson's few lines (a teaching copy) give
what the package gives; tests use it against NumPy references."""

from __future__ import annotations

import numpy as np


def rel_error(x, y) -> float:
    """The largest elementwise relative error between ``x`` and ``y`` (arrays or tensors of one shape).
    Taught in chapter 12 (the attention in three lines)."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    if x.shape != y.shape:
        raise ValueError(f"rel_error compares arrays of one shape; got {x.shape} and {y.shape}.")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))
