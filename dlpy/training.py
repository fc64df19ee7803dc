"""Training helpers: K-fold cross-validation for small data (chapter 03) and resumable training,
a ``fit`` that picks up where an interrupted run stopped (chapter 12); any chapter can use them.

**K-fold validation** (:func:`cross_validate`): features standardized with the statistics of each
run's own training folds (:func:`normalize`), one fresh model per fold, the folds' curves averaged
(:class:`KFoldResult`).

**Resumable training** (:func:`fit_resumable`) adds three callbacks to ``model.fit`` in one
checkpoint folder:

- ``keras.callbacks.BackupAndRestore`` (``backup/``): after every epoch the weights, optimizer
  state and epoch number; a new ``fit`` on the same folder restores them and continues at the
  next epoch. Keras deletes the backup when a fit completes.
- ``keras.callbacks.ModelCheckpoint`` (``epoch_001.keras`` ...): the whole model after each
  epoch, to load any epoch later with ``keras.models.load_model``.
- ``keras.callbacks.CSVLogger`` (``history.csv``): the metrics of every epoch, appended across
  interruptions, so the returned history covers the whole run, not only the resumed part.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BACKUP_FOLDER = "backup"
HISTORY_FILE = "history.csv"
EPOCH_PATTERN = "epoch_{epoch:03d}.keras"


def checkpoint_dir(chapter: str | None = None, run: str | None = None) -> Path:
    """``build/checkpoints/<chapter>/<run>``: ``chapter`` defaults to the one given to
    :func:`dlpy.setup`, ``run`` to its profile (so a ``smoke`` run never resumes a ``quick`` one).
    Taught in chapter 12."""
    from dlpy.course.results import build_dir
    from dlpy.course.settings import current_settings

    settings = current_settings()
    if chapter is None:
        if settings is None:
            raise ValueError("Pass chapter=..., or call dlpy.setup(chapter) first.")
        chapter = settings.chapter
    if run is None:
        run = settings.profile if settings is not None else "default"
    return build_dir() / "checkpoints" / chapter / run


def is_interrupted(directory) -> bool:
    """True when ``directory`` holds the backup of a fit that did not finish. Taught in chapter 12."""
    return (Path(directory) / BACKUP_FOLDER / "training_metadata.json").exists()


def epoch_checkpoints(directory) -> list[Path]:
    """The per-epoch model files in ``directory``, oldest first. Taught in chapter 12."""
    return sorted(Path(directory).glob("epoch_*.keras"))


def read_history(directory) -> dict[str, list[float]]:
    """The metrics of every epoch logged in ``directory/history.csv``. Taught in chapter 12."""
    path = Path(directory) / HISTORY_FILE
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    history: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key != "epoch":
                history.setdefault(key, []).append(float("nan") if value in ("", "NA") else float(value))
    # CSVLogger writes a val_ column of "NA" when the fit has no validation data: drop it
    return {key: values for key, values in history.items() if not all(v != v for v in values)}


def fit_resumable(model, x=None, y=None, *, directory, epochs: int, callbacks=None,
                  fresh: bool = False, keep_epoch_checkpoints: bool = True, **fit_kwargs):
    """``model.fit(x, y, epochs=epochs, ...)`` that saves a checkpoint after every epoch and,
    when an earlier fit on ``directory`` was interrupted, resumes after its last finished epoch.

    The model must be built and compiled the same way as in the interrupted run.
    ``fresh=True`` deletes what ``directory`` holds and starts over. Returns the Keras
    ``History``; its ``history`` covers every epoch of the run (read back from ``history.csv``),
    and ``history.initial_epoch`` says where this call started (0 for a fresh run).
    Taught in chapter 12.
    """
    import keras

    if "initial_epoch" in fit_kwargs:
        raise TypeError("fit_resumable() finds the initial epoch itself; do not pass initial_epoch.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not model.built:
        raise ValueError("Build the model (give it an Input or call it on a batch) before fit_resumable().")
    directory = Path(directory)
    if fresh and directory.exists():
        shutil.rmtree(directory)
    resuming = is_interrupted(directory)
    if not resuming:  # a new run: old per-epoch files and logs belong to a finished run
        for old in epoch_checkpoints(directory):
            old.unlink()
        (directory / HISTORY_FILE).unlink(missing_ok=True)
    directory.mkdir(parents=True, exist_ok=True)
    ours = [
        keras.callbacks.BackupAndRestore(str(directory / BACKUP_FOLDER)),
        keras.callbacks.CSVLogger(str(directory / HISTORY_FILE), append=resuming),
    ]
    if keep_epoch_checkpoints:
        ours.append(keras.callbacks.ModelCheckpoint(str(directory / EPOCH_PATTERN)))
    history = model.fit(x, y, epochs=epochs, callbacks=ours + list(callbacks or []), **fit_kwargs)
    history.initial_epoch = history.epoch[0] if history.epoch else epochs
    logged = read_history(directory)
    if logged:
        history.history = logged
        history.epoch = list(range(len(next(iter(logged.values())))))
    return history


# --- K-fold cross-validation (chapter 03) ----------------------------------------------------------


def normalize(x_train, *others):
    """Standardize features with the **training** mean and standard deviation only, and apply the
    same shift and scale to ``others`` (validation or test data, never used for the statistics).

    Returns ``(x_train_normalized, *others_normalized)``. A constant feature is centered, not scaled.
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
