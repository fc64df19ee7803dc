"""Adversarial examples (Szegedy et al. 2014; Goodfellow et al. 2015; cs231n "Visualizing and
Understanding"): a perturbation too small to see changes a classifier's answer.

The fast gradient sign method moves every pixel by ``epsilon`` in the direction that raises the
loss; the iterative version takes small such steps and keeps the image within ``epsilon`` of the
original (and within 0-255). Images are RGB in [0, 255]; ``preprocess`` maps them to the model's
input inside the gradient. Taught in chapter 11.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from dlpy.images import single_image
from dlpy.models.introspection import check_class_indices


@dataclass(frozen=True)
class Adversarial:
    """An attack's result: ``image`` (the adversarial image, float32 0-255), ``perturbation``
    (``image`` minus the original), and the predicted class and its probability before and after.
    Taught in chapter 11."""

    image: np.ndarray
    perturbation: np.ndarray
    original_class: int
    original_probability: float
    new_class: int
    new_probability: float
    target: int | None

    @property
    def fooled(self) -> bool:
        """Whether the prediction changed (to ``target``, for a targeted attack)."""
        if self.target is not None:
            return self.new_class == self.target
        return self.new_class != self.original_class


def _probabilities(model, preprocess, x):
    outputs = model(preprocess(x) if preprocess is not None else x, training=False)
    outputs = tf.reshape(outputs, (tf.shape(outputs)[0], -1))
    if outputs.shape[-1] == 1:  # one sigmoid unit: p(class 0), p(class 1)
        outputs = tf.concat([1.0 - outputs, outputs], axis=-1)
    return outputs


def _attack(model, image, *, class_index, target, epsilon, step_size, steps, preprocess) -> Adversarial:
    image = single_image(image, model)
    if epsilon <= 0 or step_size <= 0 or steps < 1:
        raise ValueError(f"epsilon and step_size must be positive and steps at least 1; got {epsilon}, {step_size}, "
                         f"{steps}")
    intact = _probabilities(model, preprocess, tf.constant(image[None])).numpy()[0]
    n_classes = len(intact)
    original = int(np.argmax(intact))
    label = original if class_index is None else int(class_index)
    for name, value in (("class_index", label), ("target", target)):
        if value is not None:
            check_class_indices(value, 1, n_classes, name=name, owner=f"Model {model.name!r}")
    targeted = target is not None
    goal = tf.constant(int(target) if targeted else label, dtype="int32")

    @tf.function(reduce_retracing=True)
    def run(start, goal, epsilon, step_size, steps):
        x = tf.identity(start)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(x)
                probabilities = _probabilities(model, preprocess, x)
                log_p = tf.math.log(tf.gather(probabilities, goal, axis=1) + 1e-12)
            gradient = tape.gradient(log_p, x)
            step = step_size * tf.sign(gradient)
            x = x + step if targeted else x - step  # targeted: raise log p(target); else lower log p(label)
            x = tf.clip_by_value(tf.clip_by_value(x, start - epsilon, start + epsilon), 0.0, 255.0)
        return x

    adversarial = run(tf.constant(image[None]), goal, tf.constant(float(epsilon)), tf.constant(float(step_size)),
                      tf.constant(int(steps)))
    after = _probabilities(model, preprocess, adversarial).numpy()[0]
    adversarial = adversarial.numpy()[0]
    new = int(np.argmax(after))
    return Adversarial(adversarial, adversarial - image, original, float(intact[original]), new, float(after[new]),
                       None if target is None else int(target))


def fast_gradient_sign(model: keras.Model, image, epsilon: float = 1.0, *, class_index: int | None = None,
                       target: int | None = None, preprocess=None) -> Adversarial:
    """One step of size ``epsilon`` (in 0-255 pixel units) along the sign of the loss gradient: away
    from ``class_index`` (default: the predicted class), or towards ``target``.

    Args:
        model: a Keras image classifier (softmax outputs, or one sigmoid unit).
        image: one RGB image (H, W, 3), values 0-255.
        epsilon: the change of every pixel, in 0-255 pixel units (the result is then clipped to [0, 255]).
        class_index: the class to move away from (``None``: the predicted class).
        target: a class to move towards instead (a targeted attack; ``None``: untargeted).
        preprocess: maps the 0-255 images to the model's input, e.g. ``backbone.preprocess`` (``None``: none).

    Returns an :class:`Adversarial`.

    Example::

        result = fast_gradient_sign(model, photo, epsilon=1.0, preprocess=backbone.preprocess)

    Taught in chapter 11."""
    return _attack(model, image, class_index=class_index, target=target, epsilon=epsilon, step_size=epsilon,
                   steps=1, preprocess=preprocess)


def iterative_attack(model: keras.Model, image, epsilon: float = 2.0, *, step_size: float = 0.25, steps: int = 10,
                     class_index: int | None = None, target: int | None = None, preprocess=None) -> Adversarial:
    """``steps`` fast-gradient-sign steps of ``step_size``, each followed by clipping to within
    ``epsilon`` of the original and to [0, 255] (the basic iterative method of Kurakin et al.); one
    ``tf.function``.

    Args:
        model: a Keras image classifier (softmax outputs, or one sigmoid unit).
        image: one RGB image (H, W, 3), values 0-255.
        epsilon: the largest change of any pixel from the original, in 0-255 pixel units.
        step_size: the change of every pixel at each step, in 0-255 pixel units.
        steps: the number of steps.
        class_index: the class to move away from (``None``: the predicted class).
        target: a class to move towards instead (a targeted attack; ``None``: untargeted).
        preprocess: maps the 0-255 images to the model's input, e.g. ``backbone.preprocess`` (``None``: none).

    Returns an :class:`Adversarial`.

    Example::

        result = iterative_attack(model, photo, epsilon=2.0, target=1, preprocess=backbone.preprocess)

    Taught in chapter 11."""
    return _attack(model, image, class_index=class_index, target=target, epsilon=epsilon, step_size=step_size,
                   steps=steps, preprocess=preprocess)


def plot_adversarial(original, result: Adversarial, class_names=None, magnify: float | None = None):
    """The original with its prediction, the perturbation magnified to be visible, and the adversarial
    image with its new prediction. ``class_names``: a list, or a callable index -> name. Returns the figure.
    Taught in chapter 11."""
    import matplotlib.pyplot as plt

    def name(index):
        if class_names is None:
            return f"class {index}"
        return class_names(index) if callable(class_names) else str(class_names[index])

    largest = float(np.abs(result.perturbation).max())
    magnify = magnify or (127.0 / max(largest, 1e-6))
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    axes[0].imshow(np.clip(np.asarray(original), 0, 255).astype("uint8"))
    axes[0].set_title(f"{name(result.original_class)}: {result.original_probability:.2f}", fontsize=9)
    axes[1].imshow(np.clip(127.5 + magnify * result.perturbation, 0, 255).astype("uint8"))
    axes[1].set_title(f"perturbation x {magnify:.0f} (max {largest:.2g} of 255)", fontsize=9)
    axes[2].imshow(np.clip(result.image, 0, 255).astype("uint8"))
    axes[2].set_title(f"{name(result.new_class)}: {result.new_probability:.2f}", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig
