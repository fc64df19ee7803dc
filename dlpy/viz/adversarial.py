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


@dataclass(frozen=True)
class FoolingImages:
    """Targeted fooling images for a batch (cs231n's "fooling images"). Arrays have one entry per
    image: ``images`` (the fooled images, float32 0-255; where the attack failed, its last try at the
    largest budget), ``perturbations`` (``images`` minus the originals), ``targets``,
    ``original_classes`` and ``new_classes``, ``target_probabilities`` (after the attack),
    ``epsilons`` (the smallest budget on the ladder that sufficed, in 0-255 pixel units; NaN where
    none did) and ``steps`` (the steps that budget took). Taught in chapter 11."""

    images: np.ndarray
    perturbations: np.ndarray
    targets: np.ndarray
    original_classes: np.ndarray
    new_classes: np.ndarray
    target_probabilities: np.ndarray
    epsilons: np.ndarray
    steps: np.ndarray

    @property
    def fooled(self) -> np.ndarray:
        """Whether each image is now classified as its target."""
        return self.new_classes == self.targets

    @property
    def success_rate(self) -> float:
        """The fraction of images classified as their target."""
        return float(self.fooled.mean())

    @property
    def median_epsilon(self) -> float:
        """The median budget that sufficed (0-255 pixel units), over the fooled images; NaN if none."""
        return float(np.median(self.epsilons[self.fooled])) if self.fooled.any() else float("nan")


def _targeted_rounds(model, preprocess):
    """One compiled targeted attack over a batch: sign steps towards each image's target, each image
    frozen once its prediction is the target; stops when all are or after ``steps``."""

    @tf.function(reduce_retracing=True)
    def run(start, targets, epsilon, step_size, steps):
        def step(i, x, done, used):
            with tf.GradientTape() as tape:
                tape.watch(x)
                probabilities = _probabilities(model, preprocess, x)
                log_p = tf.math.log(tf.gather(probabilities, targets, axis=1, batch_dims=1) + 1e-12)
            gradient = tape.gradient(log_p, x)  # each image's log p(target) depends on that image only
            done = done | (tf.argmax(probabilities, axis=1, output_type="int32") == targets)
            moved = x + step_size * tf.sign(gradient)
            moved = tf.clip_by_value(tf.clip_by_value(moved, start - epsilon, start + epsilon), 0.0, 255.0)
            x = tf.where(done[:, None, None, None], x, moved)
            return i + 1, x, done, used + tf.cast(~done, "int32")

        def going(i, x, done, used):
            return (i < steps) & ~tf.reduce_all(done)

        count = tf.shape(start)[0]
        _, x, _, used = tf.while_loop(going, step, (tf.constant(0), start, tf.zeros((count,), bool),
                                                    tf.zeros((count,), "int32")))
        return x, used

    return run


def fooling_images(model: keras.Model, images, targets, *, epsilons=(0.25, 0.5, 1.0, 2.0), steps: int = 100,
                   step_fraction: float = 0.125, preprocess=None) -> FoolingImages:
    """Targeted fooling images (cs231n "Visualizing and Understanding"; the iterative method of
    Kurakin et al.): change each image as little as the ladder of L-infinity budgets ``epsilons``
    allows until the model predicts its ``target``. Every image is tried at the smallest budget
    first; the ones not fooled within ``steps`` sign steps of ``step_fraction * epsilon`` try the
    next budget. Each round is one ``tf.function`` over all remaining images, which stops as soon as
    every one of them is fooled.

    Args:
        model: a Keras image classifier (softmax outputs, or one sigmoid unit).
        images: RGB images (N, H, W, 3), values 0-255.
        targets: one target class per image (N,), each different from the image's predicted class.
        epsilons: the budgets to try, in 0-255 pixel units (2.0 is 2/255 of the range).
        steps: the most sign steps per budget.
        step_fraction: each step's size as a fraction of the budget.
        preprocess: maps the 0-255 images to the model's input, e.g. ``backbone.preprocess`` (``None``: none).

    Returns a :class:`FoolingImages`.

    Example::

        predicted = model.predict(preprocess(images)).argmax(axis=1)
        targets = (predicted + np.random.default_rng(0).integers(1, 1000, len(images))) % 1000
        fooled = fooling_images(model, images, targets, preprocess=preprocess)
        fooled.success_rate, fooled.median_epsilon

    Taught in chapter 11."""
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be a batch of RGB images (N, height, width, 3) in 0-255; got shape "
                         f"{images.shape}. For one image, pass image[None].")
    ladder = np.sort(np.asarray(epsilons, dtype="float32").ravel())
    if ladder.size == 0 or ladder[0] <= 0:
        raise ValueError(f"epsilons must be positive budgets in 0-255 pixel units, e.g. (0.5, 1.0, 2.0); got "
                         f"{epsilons!r}")
    if int(steps) < 1 or not 0 < step_fraction <= 1:
        raise ValueError(f"steps must be at least 1 and step_fraction in (0, 1]; got steps={steps}, "
                         f"step_fraction={step_fraction}")
    intact = np.concatenate([_probabilities(model, preprocess, tf.constant(images[i:i + 32])).numpy()
                             for i in range(0, len(images), 32)])
    original = intact.argmax(axis=1).astype("int32")
    targets = check_class_indices(targets, len(images), intact.shape[1], name="targets",
                                  owner=f"Model {model.name!r}")[:, 0]
    same = np.flatnonzero(targets == original)
    if same.size:
        raise ValueError(f"targets must differ from the predicted class, but images {same.tolist()} are already "
                         f"predicted as their target. Draw targets as (predicted + rng.integers(1, "
                         f"{intact.shape[1]}, n)) % {intact.shape[1]}.")
    run = _targeted_rounds(model, preprocess)
    result = images.copy()
    chosen = np.full(len(images), np.nan, dtype="float32")
    used = np.zeros(len(images), dtype=int)
    new_classes, target_probabilities = original.copy(), intact[np.arange(len(images)), targets]
    remaining = np.arange(len(images))
    for epsilon in ladder:  # all remaining images in one batch: memory grows with their number and size
        x, steps_taken = run(tf.constant(images[remaining]), tf.constant(targets[remaining]),
                             tf.constant(float(epsilon)), tf.constant(float(epsilon * step_fraction)),
                             tf.constant(int(steps)))
        after = _probabilities(model, preprocess, x).numpy()
        result[remaining], used[remaining] = x.numpy(), steps_taken.numpy()
        # success, classes and probabilities all from this one pass, so they cannot disagree
        new_classes[remaining] = after.argmax(axis=1)
        target_probabilities[remaining] = after[np.arange(len(remaining)), targets[remaining]]
        fooled = new_classes[remaining] == targets[remaining]
        chosen[remaining[fooled]] = epsilon
        remaining = remaining[~fooled]
        if remaining.size == 0:
            break
    return FoolingImages(result, result - images, targets, original, new_classes, target_probabilities, chosen, used)


def _magnification(perturbations, magnify):
    """The largest change, and the factor that shows it at half the gray range (unless given)."""
    largest = float(np.abs(perturbations).max())
    return largest, magnify or (127.0 / max(largest, 1e-6))


def plot_fooling_images(originals, fooled: FoolingImages, class_names=None, magnify: float | None = None):
    """One row per image: the original and its prediction, the change magnified to be visible, and the
    fooled image with the target's probability and the budget used. ``class_names``: a list, or a
    callable index -> name. Returns the figure. Taught in chapter 11."""
    import matplotlib.pyplot as plt

    from dlpy.plots import class_label

    def name(index):
        return class_label(class_names, index)

    _, magnify = _magnification(fooled.perturbations, magnify)
    count = len(fooled.targets)
    fig, axes = plt.subplots(count, 3, figsize=(7.5, 2.5 * count), squeeze=False)
    for i in range(count):
        budget = "not fooled" if np.isnan(fooled.epsilons[i]) else f"eps {fooled.epsilons[i]:g}/255"
        panels = [(originals[i], f"{name(fooled.original_classes[i])} -> target {name(fooled.targets[i])}"),
                  (127.5 + magnify * fooled.perturbations[i], f"change x {magnify:.0f}"),
                  (fooled.images[i], f"{name(fooled.new_classes[i])}: p(target) "
                                     f"{fooled.target_probabilities[i]:.2f}\n{budget}, {fooled.steps[i]} steps")]
        for ax, (picture, title) in zip(axes[i], panels):
            ax.imshow(np.clip(np.asarray(picture), 0, 255).astype("uint8"))
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig


def plot_adversarial(original, result: Adversarial, class_names=None, magnify: float | None = None):
    """The original with its prediction, the perturbation magnified to be visible, and the adversarial
    image with its new prediction. ``class_names``: a list, or a callable index -> name. Returns the figure.
    Taught in chapter 11."""
    import matplotlib.pyplot as plt

    from dlpy.plots import class_label

    def name(index):
        return class_label(class_names, index)

    largest, magnify = _magnification(result.perturbation, magnify)
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
