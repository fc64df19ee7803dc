"""Boston housing loader and K-fold validation (chapter 03): exact partitions, normalization with
training statistics only, fold averaging, and the missing-file error."""

import numpy as np
import pytest

from dlpy.data import REGISTRY, DataNotAvailableError, keras_home
from dlpy.data.boston import FEATURE_NAMES, load_boston_housing
from dlpy.plots import smooth_curve
from dlpy.training import KFoldResult, cross_validate, kfold_indices, normalize


@pytest.mark.parametrize("n, k, seed", [(404, 4, None), (10, 3, None), (13, 5, 7), (6, 6, 1)])
def test_kfold_partitions_the_data_exactly(n, k, seed):
    splits = kfold_indices(n, k, seed)
    assert len(splits) == k
    validated = np.concatenate([val for _, val in splits])
    assert sorted(validated) == list(range(n))  # every sample validated exactly once: folds disjoint
    sizes = [len(val) for _, val in splits]
    assert max(sizes) - min(sizes) <= 1
    for train, val in splits:
        assert not set(train) & set(val)
        assert sorted(np.concatenate([train, val])) == list(range(n))


def test_kfold_without_seed_uses_consecutive_folds_like_the_book():
    splits = kfold_indices(8, 4)
    assert [list(val) for _, val in splits] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert list(splits[1][0]) == [0, 1, 4, 5, 6, 7]


@pytest.mark.parametrize("n, k", [(10, 1), (3, 4), (10, 2.5)])
def test_kfold_bad_arguments(n, k):
    with pytest.raises(ValueError, match="k"):
        kfold_indices(n, k)


def test_normalize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    x_train = rng.normal(5, 3, size=(50, 4))
    x_train[:, 2] = 7.0  # a constant feature: centered, not divided by zero
    x_test = rng.normal(-2, 10, size=(20, 4))
    train_n, test_n = normalize(x_train, x_test)
    mean, std = x_train.mean(0), x_train.std(0)
    std[2] = 1.0
    np.testing.assert_allclose(train_n, (x_train - mean) / std)
    np.testing.assert_allclose(test_n, (x_test - mean) / std)
    # changing the test data changes nothing in the training statistics
    train_again, _ = normalize(x_train, x_test * 100 + 3)
    np.testing.assert_allclose(train_again, train_n)
    with pytest.raises(ValueError, match="4 features"):
        normalize(x_train, x_test[:, :3])


class RecordingModel:
    """A stand-in model that records the data ``fit`` receives and returns a known history."""

    def __init__(self, log):
        self.log = log

    def fit(self, train, validation_data, epochs, **kwargs):
        x_train = np.concatenate([x for x, _ in train.as_numpy_iterator()])
        y_train = np.concatenate([y for _, y in train.as_numpy_iterator()])
        x_val = np.concatenate([x for x, _ in validation_data.as_numpy_iterator()])
        self.log.append((x_train, y_train, x_val))
        fold = len(self.log)

        class History:
            history = {"val_mae": [10.0 * fold + e for e in range(epochs)], "mae": [1.0] * epochs}

        return History()


def test_cross_validate_normalizes_each_fold_with_its_own_training_folds():
    rng = np.random.default_rng(1)
    x = rng.normal(3, 2, size=(30, 3))
    y = np.arange(30, dtype="float64")
    log = []
    result = cross_validate(lambda: RecordingModel(log), x, y, k=3, epochs=4, batch_size=7)
    assert len(log) == 3
    for (x_train, y_train, x_val), (train_idx, val_idx) in zip(log, kfold_indices(30, 3)):
        raw_train = x[train_idx]
        assert sorted(y_train) == sorted(y[train_idx])  # the training folds, shuffled
        np.testing.assert_allclose(x_val, (x[val_idx] - raw_train.mean(0)) / raw_train.std(0), rtol=1e-5)
        np.testing.assert_allclose(x_train.mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(x_train.std(0), 1, rtol=1e-4)
    np.testing.assert_allclose(result.mean_curve("val_mae"), [20, 21, 22, 23])
    np.testing.assert_allclose(result.final_scores("val_mae"), [13, 23, 33])


def test_kfold_result_best_epoch():
    curves = [[5.0, 3.0, 2.0, 2.5, 2.2], [4.0, 3.5, 2.0, 1.5, 3.0]]
    result = KFoldResult([{"val_mae": c} for c in curves])
    mean = np.mean(curves, axis=0)
    assert result.best_epoch() == int(np.argmin(mean)) + 1
    assert result.best_epoch(smoothing=0.5) == int(np.argmin(smooth_curve(mean, 0.5))) + 1
    with pytest.raises(ValueError, match="val_loss"):
        result.mean_curve("val_loss")


def test_cross_validate_trains_real_keras_models():
    import keras

    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 3

    def build():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
        return model

    result = cross_validate(build, x, y, k=2, epochs=30, batch_size=8)
    curve = result.mean_curve("val_mae")
    assert curve.shape == (30,) and curve[-1] < 0.2 * curve[0]  # a linear target is learned


needs_boston = pytest.mark.skipif(not (keras_home() / "datasets" / "boston_housing.npz").exists(),
                                  reason="boston_housing.npz is not in the Keras cache")


@needs_boston
def test_boston_real_data():
    (x_train, y_train), (x_test, y_test) = load_boston_housing()
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13) and len(FEATURE_NAMES) == 13
    np.testing.assert_allclose(y_train[:5], [15.2, 42.3, 50.0, 21.1, 17.7])


def test_boston_missing_file(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataNotAvailableError) as error:
        load_boston_housing()
    assert "boston_housing.npz" in str(error.value) and REGISTRY["boston_housing"].origin in str(error.value)
