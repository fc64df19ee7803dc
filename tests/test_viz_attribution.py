"""Chapter 10 (dlpy.viz.attribution): Integrated Gradients of a linear model against its exact
answer, completeness on a nonlinear model, SmoothGrad without noise against the plain gradient,
batching that changes nothing; deletion and insertion curves of a known map on a known model against
NumPy; the cascading randomization's order and its known answer on a linear model."""

import keras
import numpy as np
import pytest

from dlpy import rel_error
from dlpy.viz.attribution import (
    cascading_randomization,
    deletion_insertion,
    integrated_gradients,
    rank_correlation,
    smoothgrad,
    weight_layers_top_down,
)
from dlpy.viz.saliency import input_gradients


def linear_model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((3, 3, 2))
    outputs = keras.layers.Dense(4, name="scores")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def small_convnet():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(8, activation="tanh")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs)


def test_integrated_gradients_of_a_linear_model_is_the_difference_times_the_weights(rng):
    model = linear_model()
    images = rng.normal(size=(3, 3, 3, 2)).astype("float32")
    baseline = rng.normal(size=(3, 3, 2)).astype("float32")
    classes = np.array([0, 3, 1])
    weights = model.get_layer("scores").kernel.numpy()                       # (18, 4)
    expected = (images - baseline) * weights[:, classes].T.reshape(3, 3, 3, 2)
    attributions = integrated_gradients(model, images, classes, baseline=baseline, steps=4)
    assert rel_error(attributions, expected) < 1e-5


def test_integrated_gradients_add_up_to_the_change_of_the_score(rng):
    model = small_convnet()
    images = rng.uniform(0, 1, size=(4, 6, 6, 3)).astype("float32")
    attributions, (totals, change) = integrated_gradients(model, images, 1, steps=64, return_completeness=True)
    np.testing.assert_allclose(attributions.reshape(4, -1).sum(axis=1), totals, rtol=1e-5)
    assert np.max(np.abs(totals - change)) < 0.01 * np.max(np.abs(change)) + 1e-6
    logits = keras.Model(model.inputs, model.get_layer("out").input)     # the score is the class logit
    kernel, bias = (v.numpy() for v in model.get_layer("out").weights)
    def logit(x):
        return (logits(x).numpy() @ kernel + bias)[:, 1]

    score = logit(images) - logit(np.zeros_like(images))
    assert rel_error(change, score) < 1e-4


def test_smoothgrad_without_noise_is_the_gradient(rng):
    model = small_convnet()
    images = rng.uniform(0, 255, size=(3, 6, 6, 3)).astype("float32")
    classes = np.array([2, 0, 1])
    assert rel_error(smoothgrad(model, images, classes, samples=3, noise=0.0),
                     input_gradients(model, images, classes)) < 1e-3


def test_batching_changes_nothing(rng):
    model = small_convnet()
    images = rng.uniform(0, 1, size=(5, 6, 6, 3)).astype("float32")
    together = smoothgrad(model, images, 0, samples=4, max_batch=1000, seed=7)
    one_at_a_time = smoothgrad(model, images, 0, samples=4, max_batch=4, seed=7)
    assert rel_error(together, one_at_a_time) < 1e-3
    assert not np.allclose(together, smoothgrad(model, images, 0, samples=4, seed=8))  # the noise is real
    assert rel_error(integrated_gradients(model, images, 2, steps=8, max_batch=1000),
                     integrated_gradients(model, images, 2, steps=8, max_batch=9)) < 1e-3


def test_bad_arguments_say_what_to_do(rng):
    model = small_convnet()
    images = rng.uniform(0, 1, size=(2, 6, 6, 3)).astype("float32")
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        smoothgrad(model, images, 0, samples=0)
    with pytest.raises(ValueError, match="noise is a standard deviation"):
        smoothgrad(model, images, 0, noise=-0.1)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        integrated_gradients(model, images, 0, steps=0)
    with pytest.raises(ValueError, match="one class per image"):
        integrated_gradients(model, images, np.array([[0, 1], [1, 2]]))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_deletion_and_insertion_of_a_known_map_on_a_known_model():
    weights = np.array([3.0, -1.0, 2.0, 0.5], dtype="float32")
    inputs = keras.Input((2, 2, 1))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="unit")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.get_layer("unit").set_weights([weights[:, None], np.zeros(1, "float32")])
    images = np.ones((1, 2, 2, 1), "float32")
    curves = deletion_insertion(model, images, 1, weights.reshape(1, 2, 2), steps=4, insertion_from="zeros")
    order = np.argsort(-weights)                                  # 3, 2, 0.5, -1
    remaining = [weights.sum() - weights[order[:k]].sum() for k in range(5)]
    inserted = [weights[order[:k]].sum() for k in range(5)]
    np.testing.assert_allclose(curves.fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(curves.deletion[0], sigmoid(np.array(remaining)), rtol=1e-5)
    np.testing.assert_allclose(curves.insertion[0], sigmoid(np.array(inserted)), rtol=1e-5)
    expected_auc = np.trapezoid(sigmoid(np.array(remaining)), dx=0.25)
    assert rel_error(curves.deletion_auc, np.array([expected_auc])) < 1e-5
    worst_first = deletion_insertion(model, images, 1, -weights.reshape(1, 2, 2), steps=4, insertion_from="zeros")
    assert worst_first.deletion_auc[0] > curves.deletion_auc[0]     # a good map deletes the evidence first
    assert worst_first.insertion_auc[0] < curves.insertion_auc[0]


def test_coarse_maps_are_resized_and_mismatches_refused(rng):
    model = small_convnet()
    images = rng.uniform(0, 1, size=(2, 6, 6, 3)).astype("float32")
    curves = deletion_insertion(model, images, 0, rng.random((2, 3, 3)), steps=3)
    assert curves.deletion.shape == curves.insertion.shape == (2, 4)
    assert np.allclose(curves.deletion[:, 0], curves.insertion[:, -1])   # nothing deleted = everything inserted
    with pytest.raises(ValueError, match="one map per image"):
        deletion_insertion(model, images, 0, rng.random((3, 6, 6)))
    with pytest.raises(ValueError, match="insertion_from is 'blur' or 'zeros'"):
        deletion_insertion(model, images, 0, rng.random((2, 6, 6)), insertion_from="noise")


def test_cascading_randomization_goes_top_down_and_leaves_the_model_alone():
    model = small_convnet()
    assert weight_layers_top_down(model) == ["out", model.layers[-2].name, model.layers[1].name]  # dense, conv
    before = [w.copy() for w in model.get_weights()]
    names = [name for name, _ in cascading_randomization(model, depth=2)]
    assert names == weight_layers_top_down(model)[:2]
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_randomized_linear_model_has_an_unrelated_gradient(rng):
    keras.utils.set_random_seed(4)
    inputs = keras.Input((16, 16, 1))
    model = keras.Model(inputs, keras.layers.Dense(2, name="scores")(keras.layers.Flatten()(inputs)))
    images = rng.normal(size=(1, 16, 16, 1)).astype("float32")
    trained = input_gradients(model, images, 0)[..., 0]      # the gradient of a linear model is its weights
    assert rank_correlation(trained, trained)[0] == pytest.approx(1.0)
    (_, randomized), = list(cascading_randomization(model))
    correlation = rank_correlation(trained, input_gradients(randomized, images, 0)[..., 0])[0]
    assert abs(correlation) < 0.25                          # independent weights: about 0 (sd 1/sqrt(255))


def test_frozen_layers_are_randomized_too():
    model = small_convnet()
    model.trainable = False
    assert len(weight_layers_top_down(model)) == 3
    (_, randomized), = list(cascading_randomization(model, depth=1))
    assert not np.allclose(randomized.get_layer("out").kernel.numpy(), model.get_layer("out").kernel.numpy())


def test_one_sigmoid_unit_scores_both_classes_in_compiled_calls(rng):
    keras.utils.set_random_seed(5)
    inputs = keras.Input((4, 4, 1))
    unit = keras.layers.Dense(1, activation="sigmoid", name="unit")
    model = keras.Model(inputs, unit(keras.layers.Flatten()(inputs)))
    images = rng.normal(size=(2, 4, 4, 1)).astype("float32")
    weights = model.get_layer("unit").kernel.numpy()[:, 0].reshape(4, 4, 1)
    for target, sign in ((1, 1.0), (0, -1.0)):                     # class 1 scores z, class 0 scores -z
        expected = sign * (images - 0.0) * weights
        assert rel_error(integrated_gradients(model, images, target, steps=2), expected) < 1e-5
        assert rel_error(input_gradients(model, images, target), np.broadcast_to(sign * weights, images.shape)) < 1e-5
