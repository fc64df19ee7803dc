"""Resumable training (dlpy.training): an interrupted fit resumes at the right epoch and ends
with the same weights as a fit that was never interrupted."""

import keras
import numpy as np
import pytest

from dlpy import training

EPOCHS = 5


class StopAfterEpoch(keras.callbacks.Callback):
    """Simulates a crash: raises at the end of the given (1-based) epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt(f"interrupted after epoch {self.epoch}")


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 1)) + 0.1).astype("float32")
    return x, y


def make_model():
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    # RMSprop keeps per-weight state: resuming right needs it restored, not only the weights
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="mse")
    return model


def fit(model, directory, callbacks=None):
    x, y = make_data()
    return training.fit_resumable(model, x, y, directory=directory, epochs=EPOCHS, batch_size=16,
                                  shuffle=False, verbose=0, callbacks=callbacks)


def test_interrupted_fit_resumes_to_the_same_weights(tmp_path):
    reference = make_model()
    full = fit(reference, tmp_path / "uninterrupted")
    assert full.initial_epoch == 0 and len(full.history["loss"]) == EPOCHS

    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        fit(model, tmp_path / "run", callbacks=[StopAfterEpoch(2)])
    assert training.is_interrupted(tmp_path / "run")
    assert len(training.epoch_checkpoints(tmp_path / "run")) == 2

    resumed_model = make_model()  # a new process would rebuild the model from scratch
    resumed = fit(resumed_model, tmp_path / "run")
    assert resumed.initial_epoch == 2  # epochs 1 and 2 were not trained again
    assert not training.is_interrupted(tmp_path / "run")  # the last epoch's record says it is done
    assert len(training.epoch_checkpoints(tmp_path / "run")) == EPOCHS
    # the history covers the whole run and matches the uninterrupted one
    np.testing.assert_allclose(resumed.history["loss"], full.history["loss"], rtol=1e-5)
    for got, want in zip(resumed_model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # weights changed during the resumed epochs (the comparison above is not trivially true)
    after_two = keras.models.load_model(training.epoch_checkpoints(tmp_path / "run")[1])
    assert not np.allclose(after_two.get_weights()[0], resumed_model.get_weights()[0])


def test_a_finished_run_is_loaded_not_retrained(tmp_path, capsys):
    first_model = make_model()
    first = fit(first_model, tmp_path)
    files = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    model = make_model()
    again = fit(model, tmp_path)
    assert "finished run of 5 epochs: loaded" in capsys.readouterr().out
    assert again.initial_epoch == EPOCHS
    assert again.history["loss"] == first.history["loss"]  # the whole history, read back
    for got, want in zip(model.get_weights(), first_model.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == files  # nothing rewritten or deleted


def test_asking_for_more_epochs_continues_a_finished_run(tmp_path):
    x, y = make_data()
    training.fit_resumable(make_model(), x, y, directory=tmp_path, epochs=2, batch_size=16, shuffle=False, verbose=0)
    more = training.fit_resumable(make_model(), x, y, directory=tmp_path, epochs=3, batch_size=16, shuffle=False,
                                  verbose=0)
    assert more.initial_epoch == 2 and len(more.history["loss"]) == 3


def test_fresh_is_what_deletes(tmp_path):
    fit(make_model(), tmp_path)
    again = training.fit_resumable(make_model(), *make_data(), directory=tmp_path, epochs=2, fresh=True,
                                   batch_size=16, verbose=0)
    assert again.initial_epoch == 0
    assert [p.name for p in training.epoch_checkpoints(tmp_path)] == ["epoch_001.keras", "epoch_002.keras"]


def test_a_damaged_newest_checkpoint_is_skipped_and_kept(tmp_path):
    reference = make_model()
    fit(reference, tmp_path / "reference")
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        fit(model, tmp_path / "run", callbacks=[StopAfterEpoch(3)])
    damaged = tmp_path / "run" / "epoch_003.keras"
    damaged.write_bytes(damaged.read_bytes()[:100])  # the disk lost the end of it
    resumed_model = make_model()
    with pytest.warns(UserWarning, match=r"Skipping checkpoint .*epoch_003.keras: it does not load"):
        resumed = fit(resumed_model, tmp_path / "run")
    assert resumed.initial_epoch == 2
    for got, want in zip(resumed_model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_only_the_newest_checkpoint_when_asked(tmp_path):
    x, y = make_data()
    training.fit_resumable(make_model(), x, y, directory=tmp_path, epochs=3, keep_epoch_checkpoints=False,
                           batch_size=16, verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_003.json", "epoch_003.keras", "history.csv"]
    assert training.read_history(tmp_path)["loss"] == pytest.approx(
        [float(row.split(",")[1]) for row in (tmp_path / "history.csv").read_text().splitlines()[1:]])


KILLER = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import keras
from dlpy import training
from test_training import fit, make_model

mode, directory = sys.argv[1], sys.argv[2]
if mode == "while_writing_the_model":  # Keras has written half of epoch 3's file when the process dies
    real_save = keras.Model.save
    def save(self, path, *args, **kwargs):
        real_save(self, path, *args, **kwargs)
        if "epoch_003" in str(path):
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
    keras.Model.save = save
else:  # between epoch 3's model and its record
    real_replace = os.replace
    def replace(source, target):
        real_replace(source, target)
        if str(target).endswith("epoch_003.keras"):
            os.kill(os.getpid(), signal.SIGKILL)
    os.replace = replace
fit(make_model(), directory)
"""


@pytest.mark.parametrize("moment", ["while_writing_the_model", "between_the_model_and_its_record"])
def test_a_process_killed_while_checkpointing_loses_nothing(tmp_path, moment):
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "killer.py"
    script.write_text(KILLER.format(tests=str(Path(__file__).parent)))
    run = tmp_path / "run"
    killed = subprocess.run([sys.executable, str(script), moment, str(run)], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    # no damaged file under a final name: every checkpoint that counts loads
    assert [p.name for p in training.epoch_checkpoints(run)] == ["epoch_001.keras", "epoch_002.keras"]
    for checkpoint in run.glob("epoch_*.keras"):
        keras.models.load_model(checkpoint)
    reference = make_model()
    fit(reference, tmp_path / "reference")
    model = make_model()
    resumed = fit(model, run)
    assert resumed.initial_epoch == 2  # epoch 3 is trained once, from epoch 2's weights and optimizer state
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert not list(run.glob(".*partial*"))  # the resumed run's own temporary files are gone


def test_epoch_checkpoint_holds_that_epochs_weights(tmp_path):
    model = make_model()
    fit(model, tmp_path)
    last = keras.models.load_model(training.epoch_checkpoints(tmp_path)[-1])
    for got, want in zip(last.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_checkpoint_dir_uses_chapter_and_profile(tmp_path, monkeypatch):
    import dlpy

    monkeypatch.setenv("DLPY_BUILD_DIR", str(tmp_path))
    dlpy.setup("17_text_generation", profile="smoke", quiet=True)
    assert training.checkpoint_dir() == tmp_path / "checkpoints" / "17_text_generation" / "smoke"


def test_bad_arguments(tmp_path):
    x, y = make_data()
    with pytest.raises(TypeError, match="initial_epoch"):
        training.fit_resumable(make_model(), x, y, directory=tmp_path, epochs=2, initial_epoch=1)
    with pytest.raises(ValueError, match="epochs"):
        training.fit_resumable(make_model(), x, y, directory=tmp_path, epochs=0)
    uncompiled = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"Compile the model"):
        training.fit_resumable(uncompiled, x, y, directory=tmp_path, epochs=1)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ValueError, match="is a file: pass a folder"):
        training.fit_resumable(make_model(), x, y, directory=a_file, epochs=1)
