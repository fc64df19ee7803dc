"""Chapter 14 (dlpy.workflow, dlpy.data.two_digits): the custom metric against NumPy, the custom
train_step against fit, the TensorBoard reader against what was logged, the per-batch losses, the
shared base, the three ways to build one model, and the two-digit pairs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlpy import rel_error
from dlpy.data.two_digits import pair_indices, pairs_dataset
from dlpy.workflow.callbacks import BatchLossHistory
from dlpy.workflow.custom_step import CustomStepClassifier
from dlpy.workflow.metrics import RootMeanSquaredError
from dlpy.workflow.tensorboard import plot_scalars, read_scalars


def test_rmse_metric_matches_numpy_across_batches_and_resets(rng):
    metric = RootMeanSquaredError()
    y_true, y_pred = rng.normal(size=50), rng.normal(size=(50, 1))
    for start in range(0, 50, 16):
        metric.update_state(y_true[start:start + 16], y_pred[start:start + 16])
    want = np.sqrt(np.mean((y_true - y_pred[:, 0]) ** 2))
    assert rel_error(float(metric.result()), want) < 1e-6
    metric.reset_state()
    assert float(metric.result()) == 0.0


def small_classifier(cls, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return cls(inputs, keras.layers.Dense(3, activation="softmax")(hidden))


def test_custom_train_step_moves_the_weights_exactly_as_fit(rng):
    x, y = rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 3, 64)
    models = [small_classifier(keras.Model), small_classifier(CustomStepClassifier)]
    for model in models:
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=None if isinstance(model, CustomStepClassifier) else ["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    for ours, theirs in zip(models[1].get_weights(), models[0].get_weights()):
        assert rel_error(ours, theirs) < 1e-5
    assert set(history.history) == {"loss", "accuracy"}
    evaluation = models[1].evaluate(x, y, verbose=0, return_dict=True)
    want = models[0].evaluate(x, y, verbose=0, return_dict=True)
    assert rel_error(evaluation["loss"], want["loss"]) < 1e-5 and evaluation["accuracy"] == want["accuracy"]


def test_event_reader_returns_exactly_the_scalars_logged(tmp_path):
    logged = {"train": {"loss": [(0, 2.5), (1, 1.25), (2, 0.5)]}, "validation": {"loss": [(0, 3.0), (2, 1.0)]}}
    for run, tags in logged.items():
        with tf.summary.create_file_writer(str(tmp_path / run)).as_default():
            for tag, events in tags.items():
                for step, value in events:
                    tf.summary.scalar(tag, value, step=step)
    scalars = read_scalars(tmp_path)
    for run, tags in logged.items():
        steps, values = scalars[run]["loss"]
        assert steps.tolist() == [s for s, _ in tags["loss"]] and values.tolist() == [v for _, v in tags["loss"]]
    axes = plot_scalars(scalars, ["loss"])
    assert len(axes[0].lines) == 2
    with pytest.raises(ValueError, match="No run logged the tag 'accuracy'"):
        plot_scalars(scalars, ["accuracy"])
    with pytest.raises(FileNotFoundError, match="No TensorBoard event files"):
        read_scalars(tmp_path / "empty")


def test_keras_tensorboard_logs_are_read_back(tmp_path, rng):
    model = small_classifier(keras.Model)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 3, 32)
    history = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    scalars = read_scalars(tmp_path)
    assert rel_error(scalars["train"]["epoch_loss"][1], history.history["loss"]) < 1e-6
    assert rel_error(scalars["validation"]["epoch_loss"][1], history.history["val_loss"]) < 1e-6


def test_batch_loss_history_recovers_each_batchs_own_loss():
    callback = BatchLossHistory()
    callback.on_epoch_begin(0)
    own = [4.0, 2.0, 3.0]
    for batch in range(3):
        callback.on_train_batch_end(batch, {"loss": np.mean(own[:batch + 1])})  # Keras logs the running mean
    assert callback.losses == [pytest.approx(own)]


def test_a_shared_base_has_one_set_of_weights_and_learns_from_both_inputs(rng):
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    left, right = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([left, right], [base(left), base(right)])
    assert len(model.trainable_weights) == 2  # one kernel, one bias
    before = base.get_weights()[0].copy()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model([np.zeros((2, 4)), rng.normal(size=(2, 4))])[1])  # the right input only
    gradients = tape.gradient(loss, model.trainable_weights)
    keras.optimizers.SGD(0.1).apply(gradients, model.trainable_weights)
    after = base.get_weights()[0]
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(model.layers[-1].get_weights()[0], after)  # the same layer serves both


def test_sequential_functional_and_subclassed_builds_agree_given_the_same_weights(rng):
    sequential = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    inputs = keras.Input((5,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(4, activation="relu")(inputs)))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    subclassed = Subclassed()
    subclassed(np.zeros((1, 5)))
    for model in (functional, subclassed):
        model.set_weights(sequential.get_weights())
    x = rng.normal(size=(7, 5))
    want = np.asarray(sequential(x))
    for model in (functional, subclassed):
        assert model.count_params() == sequential.count_params() == 34
        np.testing.assert_allclose(np.asarray(model(x)), want, rtol=1e-6)


def test_pairs_are_seeded_disjoint_within_a_side_and_sum_their_labels():
    a, b = pair_indices(100, 40, seed=3)
    assert len(set(a)) == len(set(b)) == 40
    np.testing.assert_array_equal(pair_indices(100, 40, seed=3)[0], a)
    images = np.arange(100 * 28 * 28, dtype="uint32").reshape(100, 28, 28) % 256
    labels = np.arange(100) % 10
    x, y = next(iter(pairs_dataset(images.astype("uint8"), labels, 40, batch_size=40, seed=3)))
    np.testing.assert_allclose(np.asarray(x["left"])[..., 0], images[a] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(y["digit_sum"]), labels[a] + labels[b])
    assert x["right"].shape == (40, 28, 28, 1) and y["left_digit"].dtype == tf.int32
    with pytest.raises(ValueError, match="num_pairs must lie between 1 and 100"):
        pair_indices(100, 101, seed=0)
