"""Chapter 13 (timeseries): q1 the common-sense baseline's MAE (the teaching copy), q2 windows and targets."""

from dlpy.classroom.checks import check


@check("q1")
def test_common_sense_small_example(common_sense_mae_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    windows = np.array([[[0.0, 1.0], [0.0, 2.0]], [[0.0, -1.0], [0.0, 0.0]]])  # column 1: last values 2 and 0
    # guesses: 2 * 5 + 10 = 20 and 0 * 5 + 10 = 10 degrees; errors 1 and 3
    expect_close(common_sense_mae_by_hand(windows, np.array([21.0, 7.0]), 1, 10.0, 5.0), 2.0,
                 "common_sense_mae_by_hand(2 windows, targets [21, 7], column 1, mean 10, std 5)")


@check("q1", hidden=True)
def test_common_sense_matches_dlpy(common_sense_mae_by_hand):
    import numpy as np
    import tensorflow as tf

    from dlpy.classroom.checks import expect_close
    from dlpy.sequences.timeseries import common_sense_mae

    rng = np.random.default_rng(18)
    windows, targets = rng.normal(size=(50, 6, 3)).astype("float32"), rng.normal(10, 3, 50).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((windows, targets)).batch(16)
    expect_close(common_sense_mae_by_hand(windows, targets, 1, 9.5, 2.0), common_sense_mae(dataset, 1, 9.5, 2.0),
                 "common_sense_mae_by_hand(50 random windows)", tolerance=1e-5)


@check("q2")
def test_windows_small_example(windows_by_hand):
    import numpy as np

    result = windows_by_hand(np.arange(10.0), 3, 2)
    assert isinstance(result, tuple) and len(result) == 2, "return (inputs, targets)"
    inputs, targets = (np.asarray(part) for part in result)
    assert inputs.shape == (6, 3), f"inputs have shape {inputs.shape}; 10 values, windows of 3, a target 2 steps " \
                                   "after each window's last value: expected 6 windows, shape (6, 3)"
    assert inputs[0].tolist() == [0, 1, 2] and targets.tolist() == [4, 5, 6, 7, 8, 9], (
        f"first window {inputs[0].tolist()}, targets {targets.tolist()}; expected [0, 1, 2] and [4, 5, 6, 7, 8, 9]")


@check("q2", hidden=True)
def test_windows_match_keras(windows_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    series, length, horizon = np.random.default_rng(12).normal(size=200), 24, 6
    dataset = keras.utils.timeseries_dataset_from_array(series[:-horizon], targets=series[length - 1 + horizon:],
                                                        sequence_length=length, batch_size=1000)
    expected_inputs, expected_targets = next(iter(dataset))
    inputs, targets = windows_by_hand(series, length, horizon)
    expect_close(inputs, expected_inputs.numpy(), "windows_by_hand(200 values, 24, 6)[0]")
    expect_close(targets, expected_targets.numpy(), "windows_by_hand(200 values, 24, 6)[1]")


WRONG_ANSWERS = {
    "q1": "def common_sense_mae_by_hand(windows, targets, column, mean, std):\n"
          "    return np.mean(np.abs(windows[:, -1, column] - targets))  # the guess is still normalized\n",
    "q2": "def windows_by_hand(series, sequence_length, horizon):\n"
          "    count = len(series) - sequence_length - horizon + 1\n"
          "    inputs = np.stack([series[i:i + sequence_length] for i in range(count)])\n"
          "    return inputs, series[sequence_length:sequence_length + count]  # the next value, not `horizon` on\n",
}
