"""Adversarial examples on a linear softmax classifier, whose loss gradient has a closed form."""

import keras
import numpy as np
import pytest

from dlpy.viz.adversarial import fast_gradient_sign, iterative_attack, plot_adversarial


def linear_classifier(weights):
    """softmax(W . flatten(x) / 255) for 4x4x3 images."""
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax", use_bias=False,
                                                 kernel_initializer=keras.initializers.Constant(weights))])
    return model


def test_fgsm_step_is_epsilon_times_the_sign_of_the_closed_form_gradient():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(48, 3))
    model = linear_classifier(weights)
    image = rng.uniform(20, 235, size=(4, 4, 3)).astype("float32")
    z = image.reshape(-1) @ weights / 255.0
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    label = int(np.argmax(p))
    # d(-log p_label)/dx = W (p - onehot) / 255: FGSM adds epsilon * its sign.
    gradient = (weights @ (p - np.eye(3)[label])).reshape(4, 4, 3)
    result = fast_gradient_sign(model, image, epsilon=3.0)
    np.testing.assert_allclose(result.perturbation, 3.0 * np.sign(gradient), atol=1e-4)
    assert result.original_class == label and result.original_probability == pytest.approx(p[label], rel=1e-5)
    # Towards a target, the step follows the gradient of log p_target.
    target = (label + 1) % 3
    towards = (weights @ (np.eye(3)[target] - p)).reshape(4, 4, 3)
    result = fast_gradient_sign(model, image, epsilon=3.0, target=target)
    np.testing.assert_allclose(result.perturbation, 3.0 * np.sign(towards), atol=1e-4)


def test_iterative_attack_stays_within_epsilon_and_the_pixel_range_and_flips_the_class():
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(48, 3)) * 4
    model = linear_classifier(weights)
    image = rng.uniform(0, 255, size=(4, 4, 3)).astype("float32")
    image[0, 0] = [0.0, 255.0, 0.0]  # pixels at the ends of the range must stay inside it
    result = iterative_attack(model, image, epsilon=40.0, step_size=5.0, steps=20)
    assert np.abs(result.perturbation).max() <= 40.0 + 1e-3
    assert result.image.min() >= 0 and result.image.max() <= 255
    assert result.fooled and result.new_class != result.original_class
    target = [c for c in range(3) if c != result.original_class][0]
    targeted = iterative_attack(model, image, epsilon=60.0, step_size=5.0, steps=30, target=target)
    assert targeted.fooled and targeted.new_class == target
    plot_adversarial(image, targeted, class_names=["a", "b", "c"])


def test_bad_input_is_a_clear_error():
    model = linear_classifier(np.zeros((48, 3)))
    image = np.zeros((4, 4, 3), "float32")
    with pytest.raises(ValueError, match="channels"):
        fast_gradient_sign(model, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="epsilon"):
        fast_gradient_sign(model, image, epsilon=0)
    with pytest.raises(ValueError, match="target 7 is out of range"):
        iterative_attack(model, image, target=7)


def mean_pixel_classifier(threshold):
    """Class 1 when the mean pixel exceeds ``threshold``, else class 0: logits (0, mean(x) - threshold)."""
    kernel = np.zeros((12, 2), "float32")
    kernel[:, 1] = 1 / 12
    return keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(),
                             keras.layers.Dense(2, activation="softmax", kernel_initializer=keras.initializers.Constant(
                                 kernel), bias_initializer=keras.initializers.Constant([0.0, -threshold]))])


def test_fooling_images_find_the_smallest_budget_on_the_ladder_that_reaches_each_target():
    from dlpy.viz.adversarial import fooling_images, plot_fooling_images

    model = mean_pixel_classifier(100.0)
    # Every pixel must rise by more than 0.3, 1.3 and 5.0: budgets 0.5 and 2.0 suffice, the third fails at 2.0.
    images = np.stack([np.full((2, 2, 3), value, "float32") for value in (99.7, 98.7, 95.0)])
    fooled = fooling_images(model, images, [1, 1, 1], epsilons=(2.0, 0.25, 0.5, 1.0), steps=100, step_fraction=0.125)
    np.testing.assert_array_equal(fooled.original_classes, [0, 0, 0])
    np.testing.assert_array_equal(fooled.new_classes, [1, 1, 0])
    np.testing.assert_array_equal(fooled.epsilons[:2], [0.5, 2.0])
    assert np.isnan(fooled.epsilons[2])
    # Sign steps of budget/8 move every pixel alike: 0.0625 x 5 > 0.3, 0.25 x 6 > 1.3 (and 5 x 0.25 is not).
    np.testing.assert_array_equal(fooled.steps[:2], [5, 6])
    np.testing.assert_allclose(fooled.perturbations[0], 0.3125, atol=1e-4)
    assert np.abs(fooled.perturbations).max() <= 2.0 + 1e-4
    assert fooled.success_rate == 2 / 3 and fooled.median_epsilon == 1.25
    assert fooled.target_probabilities[0] > 0.5 > fooled.target_probabilities[2]
    plot_fooling_images(images, fooled, class_names=["low", "high"])


def test_fooling_images_reject_targets_already_predicted_and_bad_budgets():
    from dlpy.viz.adversarial import fooling_images

    model = mean_pixel_classifier(100.0)
    images = np.stack([np.full((2, 2, 3), 99.0, "float32"), np.full((2, 2, 3), 101.0, "float32")])
    with pytest.raises(ValueError, match=r"images \[1\] are already predicted"):
        fooling_images(model, images, [1, 1])
    with pytest.raises(ValueError, match="out of range"):
        fooling_images(model, images, [1, 5])
    with pytest.raises(ValueError, match="epsilons must be positive"):
        fooling_images(model, images, [1, 0], epsilons=(0.0, 1.0))
    with pytest.raises(ValueError, match="image\\[None\\]"):
        fooling_images(model, images[0], [1])
