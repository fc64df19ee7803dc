"""Chapter 14 (working with Keras): q1 a streaming RMSE metric (the teaching copy), q2 a dense stack's parameters."""

from dlpy.classroom.checks import check


@check("q1")
def test_rmse_one_batch(RmseByHand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    metric = RmseByHand()
    metric.update_state(np.array([[1.0], [2.0]]), np.array([[1.0], [4.0]]))
    expect_close(metric.result(), np.sqrt(2.0), "RmseByHand().result() after one batch (errors 0 and 2)",
                 tolerance=1e-6)
    metric.reset_state()
    metric.update_state(np.array([[3.0]]), np.array([[0.0]]))
    expect_close(metric.result(), 3.0, "RmseByHand().result() after reset_state() and one batch (error 3)",
                 tolerance=1e-6)


@check("q1", hidden=True)
def test_rmse_matches_dlpy_over_uneven_batches(RmseByHand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.workflow.metrics import RootMeanSquaredError

    by_hand, package = RmseByHand(), RootMeanSquaredError()
    rng = np.random.default_rng(9)
    for size in (7, 3, 12):  # the RMSE of all values, not a mean of batch RMSEs
        y_true, y_pred = rng.normal(size=(size, 1)), rng.normal(size=(size, 1))
        by_hand.update_state(y_true, y_pred)
        package.update_state(y_true, y_pred)
    expect_close(by_hand.result(), float(package.result()), "RmseByHand over batches of 7, 3 and 12",
                 tolerance=1e-5)


@check("q2")
def test_dense_parameters_small_example(dense_parameters_by_hand):
    got = dense_parameters_by_hand([784, 512, 10])
    assert got == 407_050, f"dense_parameters_by_hand([784, 512, 10]) returned {got!r}; expected " \
                           "784*512 + 512 + 512*10 + 10 = 407,050"


@check("q2", hidden=True)
def test_dense_parameters_match_keras(dense_parameters_by_hand):
    import keras

    for sizes in ([10, 1], [3, 64, 64, 5], [100, 16, 16, 16, 1]):
        model = keras.Sequential([keras.Input((sizes[0],))] + [keras.layers.Dense(units) for units in sizes[1:]])
        got = dense_parameters_by_hand(sizes)
        assert got == model.count_params(), f"dense_parameters_by_hand({sizes}) returned {got!r}; Keras counts " \
                                            f"{model.count_params()}"


WRONG_ANSWERS = {
    "q1": "class RmseByHand(keras.metrics.Metric):\n"
          "    def __init__(self, name='rmse_by_hand', **kwargs):\n"
          "        super().__init__(name=name, **kwargs)\n"
          "        self.total = self.add_variable(shape=(), initializer='zeros', name='total')\n"
          "        self.batches = self.add_variable(shape=(), initializer='zeros', name='batches')\n\n"
          "    def update_state(self, y_true, y_pred, sample_weight=None):  # a mean of per-batch RMSEs\n"
          "        error = keras.ops.cast(y_true, 'float32') - keras.ops.cast(y_pred, 'float32')\n"
          "        self.total.assign_add(keras.ops.sqrt(keras.ops.mean(keras.ops.square(error))))\n"
          "        self.batches.assign_add(1.0)\n\n"
          "    def result(self):\n"
          "        return self.total / keras.ops.maximum(self.batches, 1.0)\n\n"
          "    def reset_state(self):\n"
          "        self.total.assign(0.0)\n"
          "        self.batches.assign(0.0)\n",
    "q2": "def dense_parameters_by_hand(layer_sizes):\n"
          "    return sum(a * b for a, b in zip(layer_sizes, layer_sizes[1:]))  # forgets the biases\n",
}
