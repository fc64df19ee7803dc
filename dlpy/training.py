"""Resumable training: a ``fit`` that picks up where an interrupted run stopped.

Taught in chapter 12 (training a text model for many epochs); any chapter can use it.

:func:`fit_resumable` adds three callbacks to ``model.fit`` in one checkpoint folder:

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
from pathlib import Path

BACKUP_FOLDER = "backup"
HISTORY_FILE = "history.csv"
EPOCH_PATTERN = "epoch_{epoch:03d}.keras"


def checkpoint_dir(chapter: str | None = None, run: str | None = None) -> Path:
    """``build/checkpoints/<chapter>/<run>``: ``chapter`` defaults to the one given to
    :func:`dlpy.setup`, ``run`` to its profile (so a ``smoke`` run never resumes a ``quick`` one).
    Taught in chapter 12."""
    from dlpy.results import build_dir
    from dlpy.settings import current_settings

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
