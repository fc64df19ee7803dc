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
    assert not training.is_interrupted(tmp_path / "run")  # the backup is gone once the fit completes
    assert len(training.epoch_checkpoints(tmp_path / "run")) == EPOCHS
    # the history covers the whole run and matches the uninterrupted one
    np.testing.assert_allclose(resumed.history["loss"], full.history["loss"], rtol=1e-5)
    for got, want in zip(resumed_model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # weights changed during the resumed epochs (the comparison above is not trivially true)
    after_two = keras.models.load_model(training.epoch_checkpoints(tmp_path / "run")[1])
    assert not np.allclose(after_two.get_weights()[0], resumed_model.get_weights()[0])


def test_a_finished_run_starts_fresh(tmp_path):
    fit(make_model(), tmp_path)
    again = fit(make_model(), tmp_path)
    assert again.initial_epoch == 0
    assert len(again.history["loss"]) == EPOCHS  # the old log was not appended to


def test_epoch_checkpoint_holds_that_epochs_weights(tmp_path):
    model = make_model()
    fit(model, tmp_path)
    last = keras.models.load_model(training.epoch_checkpoints(tmp_path)[-1])
    for got, want in zip(last.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_checkpoint_dir_uses_chapter_and_profile(tmp_path, monkeypatch):
    import dlpy

    monkeypatch.setenv("DLPY_BUILD_DIR", str(tmp_path))
    dlpy.setup("12_text_generation", profile="smoke", quiet=True)
    assert training.checkpoint_dir() == tmp_path / "checkpoints" / "12_text_generation" / "smoke"


def test_bad_arguments(tmp_path):
    x, y = make_data()
    with pytest.raises(TypeError, match="initial_epoch"):
        training.fit_resumable(make_model(), x, y, directory=tmp_path, epochs=2, initial_epoch=1)
    with pytest.raises(ValueError, match="epochs"):
        training.fit_resumable(make_model(), x, y, directory=tmp_path, epochs=0)
