"""Occlusion maps against hand-built models with known answers and a one-image-at-a-time NumPy loop."""

import keras
import numpy as np
import pytest

from dlpy.viz.occlusion import map_correlation, occlusion_map, patch_positions


def quadrant_model(size=32, channels=1):
    """Class 0's logit is 8 x the mean of the top-right quadrant; class 1's is 4: the score
    depends on that quadrant only."""
    inputs = keras.Input((size, size, channels))
    half = size // 2
    quadrant = keras.layers.Cropping2D(((0, half), (half, 0)))(inputs)
    mean = keras.layers.GlobalAveragePooling2D()(quadrant)
    logits = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant([[8.0 / channels, 0.0]] * channels),
                                bias_initializer=keras.initializers.Constant([0.0, 4.0]))(mean)
    return keras.Model(inputs, keras.layers.Softmax()(logits))


def test_the_map_drops_only_where_the_patch_covers_the_quadrant_the_class_depends_on():
    model = quadrant_model()
    image = np.ones((32, 32, 1), "float32")
    result = occlusion_map(model, image, patch_size=8, stride=4, fill=0.0, batch_size=5)
    assert result.class_index == 0
    np.testing.assert_allclose(result.baseline, 1 / (1 + np.exp(-4.0)), rtol=1e-5)
    assert result.scores.shape == (7, 7)
    overlaps = (result.tops[:, None] < 16) & (result.lefts[None, :] + 8 > 16)  # patch meets the quadrant
    assert np.all(result.drop[overlaps] > 0.01)
    np.testing.assert_allclose(result.drop[~overlaps], 0.0, atol=1e-6)
    heat = result.heatmap()
    assert heat.shape == (32, 32)
    top, left = np.unravel_index(np.argmax(heat), heat.shape)
    assert top < 16 and left >= 16
    # no patch that reaches rows >= 20 or columns < 12 touches the quadrant
    assert heat[20:, :].max() == pytest.approx(0.0, abs=1e-6) and heat[:, :12].max() == pytest.approx(0.0, abs=1e-6)
    # A patch entirely inside the quadrant removes 64/256 of its mean: a known probability.
    expected = 1 / (1 + np.exp(-(8 * (1 - 64 / 256) - 4)))
    i, j = list(result.tops).index(4), list(result.lefts).index(20)
    np.testing.assert_allclose(result.scores[i, j], expected, rtol=1e-5)


def occlusion_reference(model, image, class_index, patch, stride, fill, preprocess=None):
    """One occluded image per model call, built with NumPy: the plain loop the batched version replaces."""
    height, width, _ = image.shape
    tops, lefts = patch_positions(height, patch, stride), patch_positions(width, patch, stride)
    scores = np.zeros((len(tops), len(lefts)))
    for i, top in enumerate(tops):
        for j, left in enumerate(lefts):
            occluded = image.copy()
            occluded[top:top + patch, left:left + patch] = fill
            x = occluded[None] if preprocess is None else preprocess(occluded[None])
            scores[i, j] = np.asarray(model(x))[0, class_index]
    return scores


def test_batched_map_equals_the_one_image_per_call_loop_on_a_random_convnet():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((23, 21, 3)), keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    image = np.random.default_rng(1).uniform(0, 255, (23, 21, 3)).astype("float32")

    def preprocess(x):
        return x / 127.5 - 1.0

    fill = np.array([10.0, 120.0, 250.0], "float32")
    result = occlusion_map(model, image, class_index=2, patch_size=6, stride=5, fill=fill, preprocess=preprocess,
                           batch_size=4)
    assert list(result.tops) == [0, 5, 10, 15, 17] and list(result.lefts) == [0, 5, 10, 15]
    expected = occlusion_reference(model, image, 2, 6, 5, fill, preprocess)
    np.testing.assert_allclose(result.scores, expected, rtol=1e-5, atol=1e-6)


def test_a_nested_model_and_a_binary_sigmoid_classifier():
    inner = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Cropping2D(((8, 0), (0, 8))),
                              keras.layers.GlobalAveragePooling2D()], name="inner")
    inputs = keras.Input((16, 16, 1))
    outputs = keras.layers.Dense(1, activation="sigmoid", kernel_initializer=keras.initializers.Constant(6.0),
                                 bias_initializer=keras.initializers.Constant(-3.0))(inner(inputs))
    model = keras.Model(inputs, outputs)  # p(class 1) depends on the bottom-left quadrant
    image = np.ones((16, 16, 1), "float32")
    dog = occlusion_map(model, image, patch_size=4, stride=4, fill=0.0)
    assert dog.class_index == 1 and dog.baseline == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-5)
    assert np.all(dog.drop[2:, :2] > 0) and np.allclose(dog.drop[:2, :], 0, atol=1e-6)
    cat = occlusion_map(model, image, class_index=0, patch_size=4, stride=4, fill=0.0)
    np.testing.assert_allclose(cat.scores, 1 - dog.scores, atol=1e-6)


def test_bad_input_is_a_clear_error():
    model = quadrant_model(channels=3)
    with pytest.raises(ValueError, match="height, width, channels"):
        occlusion_map(model, np.zeros((32, 32)))
    with pytest.raises(ValueError, match="3 channels"):
        occlusion_map(model, np.zeros((32, 32, 1)))
    with pytest.raises(ValueError, match="larger than the image"):
        occlusion_map(model, np.zeros((32, 32, 3)), patch_size=40)
    with pytest.raises(ValueError, match="built for 32x32 images, got 30x32"):
        occlusion_map(model, np.zeros((30, 32, 3)))
    with pytest.raises(ValueError, match="stride"):
        occlusion_map(model, np.zeros((32, 32, 3)), stride=0)
    with pytest.raises(ValueError, match="out of range"):
        occlusion_map(model, np.zeros((32, 32, 3)), class_index=5)


def test_map_correlation_resizes_and_matches_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    assert map_correlation(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    coarse = np.array([[0.0, 1.0], [0.0, 0.0]])
    fine = np.zeros((8, 8))
    fine[:4, 4:] = 1.0
    assert map_correlation(fine, coarse) > 0.8
    with pytest.raises(ValueError, match="constant"):
        map_correlation(np.ones((4, 4)), a)
