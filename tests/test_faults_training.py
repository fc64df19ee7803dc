"""Faults around long training runs: damaged or foreign checkpoints, leftovers of killed processes,
arguments that cannot work. (Killing a process while it writes a checkpoint is in test_training.py.)
Each case checks the message and that no work is lost."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from dlpy import training

EPOCHS = 3


def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, (x.sum(axis=1, keepdims=True) > 0).astype("float32")


def model(units=4):
    keras.utils.set_random_seed(3)
    built = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    built.compile(optimizer="adam", loss="binary_crossentropy")
    return built


def fit(trained, directory, epochs=EPOCHS, **kwargs):
    x, y = data()
    return training.fit_resumable(trained, x, y, directory=directory, epochs=epochs, batch_size=8, shuffle=False,
                                  verbose=0, **kwargs)


def interrupted_after(directory, epochs_done):
    x, y = data()
    training.fit_resumable(model(), x, y, directory=directory, epochs=epochs_done, batch_size=8, shuffle=False,
                           verbose=0)
    for record in directory.glob("epoch_*.json"):  # as if the run had been asked for EPOCHS epochs
        content = json.loads(record.read_text())
        record.write_text(json.dumps({**content, "epochs": EPOCHS}))


def test_an_unreadable_record_skips_that_epoch_with_a_warning(tmp_path):
    interrupted_after(tmp_path, 2)
    (tmp_path / "epoch_002.json").write_text("{not json")
    with pytest.warns(UserWarning, match=r"Skipping checkpoint .*epoch_002.keras: its .json is unreadable"):
        resumed = fit(model(), tmp_path)
    assert resumed.initial_epoch == 1 and len(resumed.history["loss"]) == EPOCHS


def test_a_checkpoint_of_another_model_is_not_loaded_into_this_one(tmp_path):
    interrupted_after(tmp_path, 2)
    with pytest.warns(UserWarning, match="it does not load"):
        resumed = fit(model(units=7), tmp_path)  # the notebook changed the model since
    assert resumed.initial_epoch == 0
    assert (tmp_path / "epoch_001.keras").exists()  # overwritten by the new run's epoch 1, never deleted first


def test_leftovers_of_a_killed_writer_are_removed_but_a_running_writers_are_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / f".epoch_002.partial-{dead.stdout.strip()}.keras"
    abandoned.write_bytes(b"half")
    in_progress = tmp_path / f".epoch_002.partial-{os.getpid()}.json"
    in_progress.write_text("{")
    assert training.remove_abandoned_partials(tmp_path) == [abandoned]
    assert not abandoned.exists() and in_progress.exists()


def test_write_atomically_leaves_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "epoch_001.json"
    target.write_text('{"old": true}')

    def broken(path):
        path.write_text('{"new": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        training.write_atomically(target, broken)
    assert target.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["epoch_001.json"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    ({"epochs": 2.5}, ValueError, "epochs must be a positive integer, got 2.5"),
    ({"epochs": True}, ValueError, "epochs must be a positive integer, got True"),
    ({"epochs": 2, "initial_epoch": 1}, TypeError, "finds the initial epoch itself; do not pass initial_epoch"),
])
def test_arguments_that_cannot_work_are_refused_before_training(tmp_path, kwargs, error, message):
    x, y = data()
    with pytest.raises(error, match=message):
        training.fit_resumable(model(), x, y, directory=tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())


def test_an_unbuilt_model_is_refused_with_the_fix(tmp_path):
    unbuilt = keras.Sequential([keras.layers.Dense(1)])
    unbuilt.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"Build the model \(give it an Input or call it on a batch\)"):
        training.fit_resumable(unbuilt, *data(), directory=tmp_path, epochs=1)


def test_checkpoint_dir_without_a_chapter_says_how(monkeypatch):
    from dlpy.course import settings

    monkeypatch.setattr(settings, "_current", None)
    with pytest.raises(ValueError, match=r"Pass chapter=\.\.\., or call dlpy.setup\(chapter\) first"):
        training.checkpoint_dir()


@pytest.mark.parametrize("k, samples, message", [
    (1, 10, "k must be an integer of at least 2, got 1"),
    (5, 3, "Cannot cut 3 samples into 5 folds: use k <= 3"),
])
def test_kfold_refuses_impossible_splits(k, samples, message):
    with pytest.raises(ValueError, match=message):
        training.kfold_indices(samples, k)
