"""Training helpers: K-fold cross-validation for small data (chapter 03) and resumable training,
a ``fit`` that picks up where an interrupted run stopped (chapter 17); any chapter can use them.

**K-fold validation** (:func:`cross_validate`): features standardized with the statistics of each
run's own training folds (:func:`normalize`), one fresh model per fold, the folds' curves averaged
(:class:`KFoldResult`).

**Resumable training** (:func:`fit_resumable`): after every epoch, one checkpoint in the run's folder:

- ``epoch_003.keras``: the whole model, optimizer state included (``keras.models.load_model`` reads it);
- ``epoch_003.json``: the metrics of every epoch up to this one, and the number of epochs asked for.

Each file is written under a temporary name and renamed into place, the ``.keras`` file first: an
epoch counts once its ``.json`` exists, so a process killed at any moment leaves either a whole
checkpoint or none, never a half file under a final name. A new ``fit_resumable`` on the folder loads
the newest checkpoint that opens (weights, optimizer state and history from the same epoch; a damaged
one is reported and skipped, never deleted) and trains the remaining epochs; a finished run is loaded,
not retrained. Only ``fresh=True`` deletes anything. ``history.csv`` repeats the metrics for people.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from dlpy.course.arguments import integer_at_least

CHECKPOINT_NAME = "epoch_{epoch:03d}.keras"
HISTORY_FILE = "history.csv"


def checkpoint_dir(chapter: str | None = None, run: str | None = None) -> Path:
    """``build/checkpoints/<chapter>/<run>``: ``chapter`` defaults to the one given to
    :func:`dlpy.setup`, ``run`` to its profile (so a ``smoke`` run never resumes a ``quick`` one).
    Taught in chapter 17."""
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


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary path)`` beside ``path``, flush it to disk, then rename it to ``path``: a
    reader sees the old file or the whole new one, never a part. The temporary name keeps the
    suffix (Keras checks it) and starts with a dot. Taught in chapter 17."""
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(temporary)
        with open(temporary, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def remove_abandoned_partials(directory: Path) -> list[Path]:
    """Delete the temporary files that :func:`write_atomically` left in ``directory`` when its process
    was killed (their writer no longer runs); return them. They never held a finished file."""
    removed = []
    for partial in Path(directory).glob(".*.partial-*"):
        pid = partial.name.rsplit(".partial-", 1)[1].split(".")[0]
        if pid.isdigit() and not _process_runs(int(pid)):
            partial.unlink(missing_ok=True)
            removed.append(partial)
    return removed


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


def _epoch_of(path: Path) -> int | None:
    stem = path.name.split(".")[0]
    number = stem.removeprefix("epoch_")
    return int(number) if stem.startswith("epoch_") and number.isdigit() else None


def epoch_checkpoints(directory) -> list[Path]:
    """The finished epochs' model files in ``directory`` (each with its ``.json``), oldest first.
    Taught in chapter 17."""
    directory = Path(directory)
    found = [p for p in directory.glob("epoch_*.keras")
             if _epoch_of(p) is not None and p.with_suffix(".json").exists()]
    return sorted(found, key=_epoch_of)


def _read_record(checkpoint: Path) -> dict | None:
    """The ``.json`` beside a checkpoint, or ``None`` when it is unreadable."""
    try:
        record = json.loads(checkpoint.with_suffix(".json").read_text())
        if not isinstance(record.get("history"), dict) or record.get("epoch") != _epoch_of(checkpoint):
            return None
        return record
    except (OSError, ValueError):
        return None


def is_interrupted(directory) -> bool:
    """True when ``directory`` holds checkpoints of a run that stopped before its last epoch.
    Taught in chapter 17."""
    checkpoints = epoch_checkpoints(directory)
    if not checkpoints:
        return False
    record = _read_record(checkpoints[-1])
    return record is not None and record["epoch"] < record.get("epochs", 0)


def read_history(directory) -> dict[str, list[float]]:
    """The metrics of every finished epoch, from the newest readable checkpoint of ``directory``.
    Taught in chapter 17."""
    for checkpoint in reversed(epoch_checkpoints(directory)):
        record = _read_record(checkpoint)
        if record is not None:
            return {key: [float("nan") if v is None else float(v) for v in values]
                    for key, values in record["history"].items()}
    return {}


class EpochCheckpoint(keras.callbacks.Callback):
    """The callback of :func:`fit_resumable`: after each epoch, the model and the history so far, each
    written atomically (the model first; the ``.json`` makes the epoch count). With ``keep_all=False``
    only the newest checkpoint is kept. Taught in chapter 17."""

    def __init__(self, directory, epochs: int, history: dict | None = None, keep_all: bool = True):
        super().__init__()
        self.directory, self.epochs, self.keep_all = Path(directory), int(epochs), keep_all
        self.history = {key: list(values) for key, values in (history or {}).items()}

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        for key, value in (logs or {}).items():
            value = float(value)
            self.history.setdefault(key, []).append(value if np.isfinite(value) else None)
        checkpoint = self.directory / CHECKPOINT_NAME.format(epoch=done)
        write_atomically(checkpoint, lambda temporary: self.model.save(temporary))
        record = {"epoch": done, "epochs": self.epochs, "history": self.history}
        write_atomically(checkpoint.with_suffix(".json"), lambda temporary: temporary.write_text(json.dumps(record)))
        write_atomically(self.directory / HISTORY_FILE, self._write_csv)
        if not self.keep_all:
            for older in epoch_checkpoints(self.directory):
                if _epoch_of(older) < done:
                    older.with_suffix(".json").unlink(missing_ok=True)  # the epoch stops counting first
                    older.unlink(missing_ok=True)

    def _write_csv(self, path: Path) -> None:
        keys = list(self.history)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch", *keys])
            for index in range(max((len(v) for v in self.history.values()), default=0)):
                writer.writerow([index, *("" if self.history[k][index] is None else self.history[k][index]
                                          for k in keys)])


def _restore_newest(model, directory: Path, epochs: int) -> tuple[int, dict]:
    """Load the newest readable checkpoint of at most ``epochs`` epochs into ``model`` (weights and
    optimizer state); ``(its epoch, its history)``, or ``(0, {})`` when there is none."""
    candidates = [c for c in epoch_checkpoints(directory) if _epoch_of(c) <= epochs]
    if not candidates:
        return 0, {}
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)  # its variables must exist to receive the state
    variables = list(model.weights) + list(model.optimizer.variables)
    initial = [np.array(v) for v in variables]  # a load that fails half-way must not leave a mixture
    for checkpoint in reversed(candidates):
        record = _read_record(checkpoint)
        problem = "its .json is unreadable" if record is None else None
        if record is not None:
            try:
                model.load_weights(checkpoint)
            except Exception as error:  # a damaged zip, h5 or mismatched model: try the epoch before
                problem = f"it does not load ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
        if problem is None:
            return record["epoch"], record["history"]
        for variable, value in zip(variables, initial):
            variable.assign(value)
        warnings.warn(f"Skipping checkpoint {checkpoint}: {problem}. Resuming from the epoch before it; the "
                      "file is left in place (fit_resumable(..., fresh=True) starts over and deletes it).",
                      stacklevel=3)
    return 0, {}


def fit_resumable(model, x=None, y=None, *, directory, epochs: int, callbacks=None,
                  fresh: bool = False, keep_epoch_checkpoints: bool = True, **fit_kwargs):
    """``model.fit(x, y, epochs=epochs, ...)`` that checkpoints every epoch and picks up where an
    earlier fit on ``directory`` stopped (see the module's docstring).

    A run that was interrupted resumes after its newest intact checkpoint; a run that already
    finished ``epochs`` epochs is loaded and returned without training (one line says so); asking
    for more epochs than a finished run had continues it. The model must be built and compiled as
    in the earlier run.

    Args:
        model: a built, compiled Keras model.
        x, y: the training data, as for ``model.fit``.
        directory: the run's checkpoint folder (:func:`checkpoint_dir` gives the chapter's).
        epochs: the total number of epochs of the run, not of this call.
        callbacks: more Keras callbacks for this call's ``fit``.
        fresh: delete what ``directory`` holds and start over: the only way anything is deleted.
        keep_epoch_checkpoints: keep every epoch's checkpoint (``False``: only the newest).
        **fit_kwargs: anything else ``model.fit`` takes (``batch_size``, ``validation_data``, ``verbose``).

    Returns the Keras ``History``: ``history`` covers every epoch of the run, ``initial_epoch`` says
    where this call started (``epochs`` when nothing was left to train).

    Example::

        history = fit_resumable(model, x, y, directory=checkpoint_dir(), epochs=20, batch_size=128)

    Taught in chapter 17.
    """
    if "initial_epoch" in fit_kwargs:
        raise TypeError("fit_resumable() finds the initial epoch itself; do not pass initial_epoch.")
    integer_at_least("epochs", epochs)
    if not model.built:
        raise ValueError("Build the model (give it an Input or call it on a batch) before fit_resumable().")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("Compile the model (model.compile(optimizer=..., loss=...)) before fit_resumable().")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"The checkpoint folder {directory} is a file: pass a folder (training.checkpoint_dir()).")
    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    remove_abandoned_partials(directory)
    done, history = _restore_newest(model, directory, epochs)
    if done == epochs:
        print(f"fit_resumable: {directory} holds a finished run of {epochs} epochs: loaded its weights, "
              "not retrained (fresh=True trains again).")
        result = keras.callbacks.History()
        result.set_model(model)
        result.params = {"epochs": epochs}
    else:
        if done:
            print(f"fit_resumable: resuming {directory} after epoch {done} of {epochs}.")
        checkpoint = EpochCheckpoint(directory, epochs, history, keep_all=keep_epoch_checkpoints)
        result = model.fit(x, y, epochs=epochs, initial_epoch=done, callbacks=[checkpoint, *(callbacks or [])],
                           **fit_kwargs)
        history = checkpoint.history
    result.history = {key: [float("nan") if v is None else v for v in values] for key, values in history.items()}
    result.epoch = list(range(len(next(iter(result.history.values()), []))))
    result.initial_epoch = done
    return result


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
    training folds (the validation fold is never looked at).

    Args:
        build_model: a function of no arguments that returns a fresh compiled model.
        x, y: the features (samples, features) and targets (samples,).
        k: the number of folds (at least 2).
        epochs, batch_size: of each fold's ``fit``.
        normalize_features: standardize with each run's training statistics first.
        seed: shuffle the samples with this seed before cutting the folds (``None``: keep their order);
            fold ``i`` reshuffles its batches with seed ``i``.
        verbose: Keras's ``verbose`` for each ``fit`` (``cfg.verbose`` in a notebook); a line per fold with its
            final validation metrics is printed in any case.

    Returns a :class:`KFoldResult` with each fold's history.

    Example::

        result = cross_validate(build_model, x_train, y_train, k=4, epochs=100)
        result.mean_curve("val_mae")

    Taught in chapter 03.
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
        last = {name: values[-1] for name, values in history.history.items() if name.startswith("val_")}
        print(f"fold {fold + 1}/{k}: {epochs} epochs; " + ", ".join(f"{n} {v:.3f}" for n, v in last.items()),
              flush=True)  # a line per fold: minutes of training are never a silent wait
    return result
