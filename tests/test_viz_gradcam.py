"""Grad-CAM on hand-built models with known answers, against a NumPy reference, and bad input."""

import keras
import numpy as np
import pytest

from dlpy.models.introspection import class_score_source
from dlpy.viz.gradcam import GradCam

SIZE = 16
HALF = SIZE // 2
QUADRANTS = [(slice(0, HALF), slice(0, HALF)), (slice(0, HALF), slice(HALF, SIZE)),
             (slice(HALF, SIZE), slice(0, HALF)), (slice(HALF, SIZE), slice(HALF, SIZE))]
COLORS = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5]], dtype="float32")


def quadrant_scores(features):
    """Class q scores 0.5 * sum of squared features over quadrant q only (4 classes)."""
    energy = 0.5 * keras.ops.sum(keras.ops.square(features), axis=-1)
    return keras.ops.stack([keras.ops.sum(energy[:, r, c], axis=(1, 2)) for r, c in QUADRANTS], axis=-1)


def quadrant_model(softmax=False):
    """Features = the image itself (a fixed identity 1x1 convolution named "features"); class q's
    score depends only on quadrant q."""
    inputs = keras.Input((SIZE, SIZE, 3))
    conv = keras.layers.Conv2D(3, 1, activation="relu", name="features")
    features = conv(inputs)
    conv.set_weights([np.eye(3, dtype="float32")[None, None], np.zeros(3, "float32")])
    scores = keras.layers.Lambda(quadrant_scores, name="scores")(features)
    if softmax:
        scores = keras.layers.Activation("softmax", name="probabilities")(scores)
    return keras.Model(inputs, scores, name="quadrants")


def quadrant_image(seed=0):
    """Each quadrant its own color (red, green, blue, gray), its brightness varying at random."""
    image = np.zeros((SIZE, SIZE, 3), dtype="float32")
    for (rows, columns), color in zip(QUADRANTS, COLORS):
        image[rows, columns] = color
    brightness = np.random.default_rng(seed).uniform(0.8, 1.0, (SIZE, SIZE, 1)).astype("float32")
    return image * brightness


def numpy_grad_cam(image, quadrant):
    """Grad-CAM by hand: for this model d(score_q)/dA_k = A_k inside quadrant q, 0 elsewhere."""
    activations = np.maximum(image, 0.0)
    gradient = np.zeros_like(activations)
    rows, columns = QUADRANTS[quadrant]
    gradient[rows, columns] = activations[rows, columns]
    weights = gradient.mean(axis=(0, 1))
    cam = np.maximum((activations * weights).sum(-1), 0.0)
    return cam / cam.max()


def numpy_grad_cam_plus_plus(image, quadrant):
    activations = np.maximum(image, 0.0)
    gradient = np.zeros_like(activations)
    rows, columns = QUADRANTS[quadrant]
    gradient[rows, columns] = activations[rows, columns]
    g2, g3 = gradient ** 2, gradient ** 3
    denominator = 2 * g2 + activations.sum(axis=(0, 1)) * g3
    alpha = np.divide(g2, denominator, out=np.zeros_like(g2), where=denominator != 0)
    weights = (alpha * np.maximum(gradient, 0)).sum(axis=(0, 1))
    cam = np.maximum((activations * weights).sum(-1), 0.0)
    return cam / cam.max()


def peak_quadrant(cam):
    return int(np.argmax([cam[r, c].mean() for r, c in QUADRANTS]))


@pytest.fixture(scope="module")
def cam():
    return GradCam(quadrant_model(), "features")


@pytest.mark.parametrize("quadrant", range(4))
def test_map_peaks_in_the_quadrant_the_class_depends_on(cam, quadrant):
    maps = cam(quadrant_image(), classes=quadrant)
    assert maps.grad_cam.shape == (1, 1, SIZE, SIZE)
    assert peak_quadrant(maps.grad_cam[0, 0]) == quadrant
    assert peak_quadrant(maps.grad_cam_plus_plus[0, 0]) == quadrant


def test_matches_numpy_reference_for_a_batch_and_several_classes(cam):
    images = np.stack([quadrant_image(seed) for seed in range(3)])
    classes = np.array([[0, 3], [1, 2], [3, 0]])
    maps = cam(images, classes=classes)
    assert maps.grad_cam.shape == (3, 2, SIZE, SIZE)
    np.testing.assert_array_equal(maps.classes, classes)
    for i in range(3):
        for j in range(2):
            np.testing.assert_allclose(maps.grad_cam[i, j], numpy_grad_cam(images[i], classes[i, j]),
                                       rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(maps.grad_cam_plus_plus[i, j],
                                       numpy_grad_cam_plus_plus(images[i], classes[i, j]), rtol=1e-4, atol=1e-5)


def test_top_k_uses_the_models_ranking():
    model = quadrant_model(softmax=True)
    cam = GradCam(model, "features")
    image = quadrant_image()
    image[QUADRANTS[2]] *= 1.3  # make the blue quadrant the strongest
    maps = cam(image, top=2)
    probabilities = keras.ops.convert_to_numpy(model(image[None]))[0]
    np.testing.assert_array_equal(maps.classes[0], np.argsort(-probabilities)[:2])
    np.testing.assert_allclose(maps.outputs[0], np.sort(probabilities)[::-1][:2], rtol=1e-5)
    # The score is the logit before the softmax, so the maps equal the logit model's maps.
    np.testing.assert_allclose(maps.grad_cam[0, 0], numpy_grad_cam(image, 2), rtol=1e-4, atol=1e-5)


def test_nested_model_by_dotted_path_equals_the_base_alone():
    base = quadrant_model()
    base.name = "quad_0.5"
    inputs = keras.Input((SIZE, SIZE, 3))
    outer = keras.Model(inputs, keras.layers.Activation("softmax", name="probabilities")(base(inputs)))
    images = np.stack([quadrant_image(seed) for seed in range(2)])
    nested = GradCam(outer, "quad_0.5.features")(images, classes=[1, 3])
    alone = GradCam(base, "features")(images, classes=[1, 3])
    np.testing.assert_allclose(nested.grad_cam, alone.grad_cam, rtol=1e-5, atol=1e-6)
    assert peak_quadrant(nested.grad_cam[0, 0]) == 1 and peak_quadrant(nested.grad_cam[1, 0]) == 3


def test_sequential_model_with_dense_softmax_uses_logits():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              keras.layers.GlobalAveragePooling2D(name="gap"),
                              keras.layers.Dense(3, activation="softmax", name="dense")])
    path, to_logits = class_score_source(model)
    assert path == "gap"
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    hidden = model.get_layer("gap")(model.get_layer("conv")(x))
    logits = keras.ops.convert_to_numpy(to_logits(hidden))
    probabilities = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True), probabilities, rtol=1e-5)
    maps = GradCam(model, "conv")(x, top=3)
    assert maps.grad_cam.shape == (2, 3, 6, 6)
    assert np.all((maps.grad_cam >= 0) & (maps.grad_cam <= 1))


def test_binary_sigmoid_classifier_has_two_classes():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid")])
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    maps = GradCam(model, "conv")(x, classes=[[0, 1], [1, 0]])
    p = keras.ops.convert_to_numpy(model(x))[:, 0]
    np.testing.assert_allclose(maps.outputs, np.stack([[1 - p[0], p[0]], [p[1], 1 - p[1]]]), rtol=1e-5)


def test_bad_input_gives_clear_errors(cam):
    image = quadrant_image()
    with pytest.raises(ValueError, match="channels"):
        cam(image[..., :2], classes=0)
    with pytest.raises(ValueError, match="one image"):
        cam(image[..., 0], classes=0)
    with pytest.raises(ValueError, match="size"):
        cam(np.zeros((SIZE + 2, SIZE, 3), "float32"), classes=0)
    with pytest.raises(ValueError, match="out of range"):
        cam(image, classes=4)
    with pytest.raises(ValueError, match="out of range"):
        cam(image, classes=-1)
    with pytest.raises(TypeError, match="integer"):
        cam(image, classes=1.5)
    with pytest.raises(ValueError, match="top"):
        cam(image, top=5)


def test_non_spatial_layer_is_refused():
    model = quadrant_model()
    with pytest.raises(ValueError, match="spatial"):
        GradCam(model, "scores")
    with pytest.raises(ValueError, match="features"):
        GradCam(model, "no_such_layer")


def test_select_keeps_the_two_axes(cam):
    images = np.stack([quadrant_image(seed) for seed in range(3)])
    maps = cam(images, classes=np.array([[0, 1], [2, 3], [1, 0]]))
    first = maps.select(classes=0)
    assert first.grad_cam.shape == (3, 1, SIZE, SIZE)
    np.testing.assert_array_equal(first.classes[:, 0], [0, 2, 1])
    one = maps.select(images=1)
    assert one.grad_cam_plus_plus.shape == (1, 2, SIZE, SIZE) and one.outputs.shape == (1, 2)
    np.testing.assert_array_equal(one.classes, [[2, 3]])
