"""The sample-quality measures of chapters 20-21 against closed forms, SciPy, and hand-built models."""

import keras
import numpy as np
import pytest
from scipy import linalg

from dlpy.generative import quality


def test_frechet_distance_of_diagonal_gaussians_has_its_closed_form():
    mean_a, mean_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum(var_a + var_b - 2 * np.sqrt(var_a * var_b))  # 5 + 4 + 1 + 0
    assert expected == 10.0
    assert quality.frechet_distance(mean_a, np.diag(var_a), mean_b, np.diag(var_b)) == pytest.approx(10.0, rel=1e-12)


def test_frechet_distance_matches_scipy_sqrtm_on_full_covariances():
    rng = np.random.default_rng(0)
    for d in (2, 5, 20):
        a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
        cov_a, cov_b = a @ a.T + 0.1 * np.eye(d), b @ b.T + 0.1 * np.eye(d)
        mean_a, mean_b = rng.normal(size=d), rng.normal(size=d)
        reference = (np.sum((mean_a - mean_b) ** 2)
                     + np.trace(cov_a + cov_b - 2 * np.real(linalg.sqrtm(cov_a @ cov_b))))
        ours = quality.frechet_distance(mean_a, cov_a, mean_b, cov_b)
        assert abs(ours - reference) / max(abs(ours), abs(reference)) < 1e-8


def test_real_versus_real_is_near_zero_and_a_shift_scores_its_squared_length():
    rng = np.random.default_rng(1)
    d = 8
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    first = quality.FeatureStatistics.of(rng.normal(size=(20_000, d)) @ mixing)
    second = quality.FeatureStatistics.of(rng.normal(size=(20_000, d)) @ mixing)
    shift = np.full(d, 0.5)
    shifted = quality.FeatureStatistics.of(rng.normal(size=(20_000, d)) @ mixing + shift)
    assert first.distance(second) < 0.01
    assert first.distance(shifted) == pytest.approx(shift @ shift, rel=0.05)  # 2.0; covariances equal
    assert first.distance(first) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="covariances"):
        quality.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


def half_brightness_classifier():
    """features = (mean of the top half, mean of the bottom half); class 0 when the top is brighter,
    with a softmax sharp enough that a one-sided image is named with p > 0.99."""
    top = np.zeros((28, 28))
    top[:14] = 1 / 392
    kernel = np.stack([top.ravel(), top[::-1].ravel()], axis=1)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Flatten(),
        keras.layers.Dense(2, use_bias=False, kernel_initializer=keras.initializers.Constant(kernel), name="features"),
        keras.layers.Dense(2, activation="softmax", use_bias=False,
                           kernel_initializer=keras.initializers.Constant([[10.0, -10.0], [-10.0, 10.0]]))])
    return quality.FeatureClassifier(model, "mnist", 1.0)


def test_sample_quality_counts_confident_images_and_classes():
    judge = half_brightness_classifier()
    top = np.zeros((28, 28), "float32")
    top[:14] = 1.0
    nearly_even = np.where(top > 0, 0.55, 0.45).astype("float32")  # logits (1, -1): class 0 with p = 0.88 < 0.9
    images = np.stack([top] * 6 + [top[::-1]] * 2 + [nearly_even] * 2)
    np.testing.assert_allclose(judge.features(images[:1]), [[1.0, 0.0]], atol=1e-6)
    reference = judge.statistics(np.concatenate([images[:6], images[6:8]]))
    result = quality.sample_quality(judge, images, reference, confidence=0.9)
    assert result.confident_fraction == pytest.approx(0.8)  # all but the two nearly even images
    np.testing.assert_allclose(result.class_fractions, [0.8, 0.2])
    assert result.smallest_class_fraction == pytest.approx(0.2) and result.count == 10
    assert "FID" in str(result)
    collapsed = quality.sample_quality(judge, images[:6], reference)
    assert collapsed.smallest_class_fraction == 0.0 and collapsed.fid > result.fid
    with pytest.raises(ValueError, match="NaN or infinite"):
        quality.sample_quality(judge, np.full((2, 28, 28), np.nan, "float32"), reference)
    with pytest.raises(ValueError, match="from_tanh_range"):
        quality.sample_quality(judge, images * 2 - 1, reference)
    with pytest.raises(ValueError, match="shape"):
        judge.features(np.zeros((2, 32, 32)))


def test_feature_classifier_is_cached_verified_and_retrained_when_corrupt(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    images, labels = rng.integers(0, 256, (1_200, 28, 28), dtype=np.uint8), rng.integers(0, 10, 1_200)
    monkeypatch.setattr(quality, "_load_dataset", lambda dataset: ((images, labels), (images[:200], labels[:200])))
    monkeypatch.setattr(quality, "classifier_path", lambda *key: tmp_path / "judge.weights.h5")
    first = quality.feature_classifier("mnist", train_size=1_000, epochs=1)

    def no_training(dataset):
        raise AssertionError("the cached classifier should have been loaded, not trained again")

    with monkeypatch.context() as patched:
        patched.setattr(quality, "_load_dataset", no_training)
        again = quality.feature_classifier("mnist", train_size=1_000, epochs=1)
    np.testing.assert_array_equal(first.features(images[:5]), again.features(images[:5]))
    assert again.test_accuracy == first.test_accuracy
    (tmp_path / "judge.json").write_text("{ half a record")  # a corrupt record: trained again, no error
    quality.feature_classifier("mnist", train_size=1_000, epochs=1)
    (tmp_path / "judge.weights.h5").write_bytes(b"not the weights")
    retrained = quality.feature_classifier("mnist", train_size=1_000, epochs=1)  # the checksum fails: train again
    np.testing.assert_allclose(retrained.features(images[:5]), first.features(images[:5]), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="dataset must be one of"):
        quality.feature_classifier("cifar10")


def test_quality_per_epoch_scores_before_training_and_after_each_epoch():
    judge = half_brightness_classifier()
    top = np.zeros((28, 28, 1), "float32")
    top[:14] = 1.0
    reference = judge.statistics(np.stack([top, top[::-1], top, top[::-1]]))
    callback = quality.QualityPerEpoch(lambda count: np.stack([top] * count), judge, reference, count=4)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[callback])
    assert callback.epochs == [0, 1, 2] and all(score.count == 4 for score in callback.scores)
    quality.plot_quality_curve(callback, floor=0.1, ceiling=10.0)
    quality.plot_class_histogram(callback.scores[-1], class_names=["up", "down"])
