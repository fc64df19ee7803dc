"""Model evaluation on small data: feature normalization with training statistics and K-fold
cross-validation. Taught in chapter 03.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


def normalize(x_train, *others):
    """Standardize features with the **training** mean and standard deviation only, and apply the
    same shift and scale to ``others`` (validation or test data, never used for the statistics).

    Returns ``(x_train_normalized, *others_normalized)``. A constant feature is centred, not scaled.
    Taught in chapter 03.
    """
    x_train = np.asarray(x_train, dtype="float64")
    if x_train.ndim != 2 or len(x_train) < 2:
        raise ValueError(f"x_train must be a 2-D array with at least 2 samples, got shape {x_train.shape}")
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    out = [(x_train - mean) / std]
    for x in others:
        x = np.asarray(x, dtype="float64")
        if x.ndim != 2 or x.shape[1] != x_train.shape[1]:
            raise ValueError(f"Expected arrays with {x_train.shape[1]} features, got shape {x.shape}")
        out.append((x - mean) / std)
    return tuple(out) if others else out[0]


def kfold_indices(num_samples: int, k: int, seed: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` pairs ``(train_indices, validation_indices)``: the samples cut into ``k`` consecutive
    folds (sizes differ by at most one; shuffled first when ``seed`` is given). Each sample is in
    exactly one validation fold. Taught in chapter 03."""
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer of at least 2, got {k!r}")
    if num_samples < k:
        raise ValueError(f"Cannot cut {num_samples} samples into {k} folds: use k <= {num_samples}")
    order = np.arange(num_samples) if seed is None else np.random.default_rng(seed).permutation(num_samples)
    folds = np.array_split(order, k)
    return [(np.concatenate(folds[:i] + folds[i + 1:]), fold) for i, fold in enumerate(folds)]


@dataclass
class KFoldResult:
    """Histories of the ``k`` runs of :func:`cross_validate`; ``histories[i]`` is fold ``i``'s
    ``History.history`` dict. Taught in chapter 03."""

    histories: list[dict] = field(default_factory=list)

    def mean_curve(self, metric: str = "val_mae") -> np.ndarray:
        """Per-epoch average of ``metric`` over the folds."""
        missing = [i for i, h in enumerate(self.histories) if metric not in h]
        if not self.histories or missing:
            raise ValueError(f"No {metric!r} in the fold histories; they have: "
                             f"{sorted(self.histories[0]) if self.histories else []}")
        return np.mean([h[metric] for h in self.histories], axis=0)

    def final_scores(self, metric: str = "val_mae") -> np.ndarray:
        """Each fold's ``metric`` after the last epoch."""
        return np.array([h[metric][-1] for h in self.histories])

    def best_epoch(self, metric: str = "val_mae", smoothing: float | None = None) -> int:
        """The epoch (1-based) where the fold-averaged ``metric`` is lowest, optionally after
        exponential smoothing (see :func:`dlpy.plots.smooth_curve`)."""
        curve = self.mean_curve(metric)
        if smoothing:
            from dlpy.plots import smooth_curve

            curve = smooth_curve(curve, smoothing)
        return int(np.argmin(curve)) + 1


def as_dataset(x, y, batch_size: int, shuffle_seed: int | None = None):
    """A cached in-memory ``tf.data`` pipeline of float32 batches (reshuffled each epoch when
    ``shuffle_seed`` is given). On small arrays such as Boston housing, ``fit`` runs its epochs
    several times faster than with NumPy arrays. Pass ``shuffle=False`` to ``fit`` with it.
    Taught in chapter 03."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((np.asarray(x, "float32"), np.asarray(y, "float32"))).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(2)


def cross_validate(build_model: Callable, x, y, k: int = 4, epochs: int = 100, batch_size: int = 16,
                   normalize_features: bool = True, seed: int | None = None, verbose: int = 0) -> KFoldResult:
    """K-fold cross-validation: for each fold, build a fresh model with ``build_model()``, train it
    on the other ``k - 1`` folds and record its validation curves on this fold.

    With ``normalize_features`` the features are standardized with the statistics of each run's own
    training folds (the validation fold is never looked at). Taught in chapter 03.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
    result = KFoldResult()
    for fold, (train_idx, val_idx) in enumerate(kfold_indices(len(x), k, seed)):
        x_train, x_val = x[train_idx], x[val_idx]
        if normalize_features:
            x_train, x_val = normalize(x_train, x_val)
        model = build_model()
        history = model.fit(as_dataset(x_train, y[train_idx], batch_size, shuffle_seed=fold),
                            validation_data=as_dataset(x_val, y[val_idx], batch_size), epochs=epochs,
                            shuffle=False, verbose=verbose)
        result.histories.append(history.history)
        if verbose:
            print(f"fold {fold + 1}/{k} done")
    return result
