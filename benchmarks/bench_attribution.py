"""Integrated Gradients (32 steps) and SmoothGrad (32 samples) on MobileNet (alpha=0.75), 4 photos at
224x224, measured in one run: dlpy's batched, compiled calls against a Python loop of eager gradient
calls (one path point or noisy copy of one image per call, as a first implementation would), and
against the ceiling: one compiled forward + backward pass over the same number of images.

    KERAS_HOME=... python benchmarks/bench_attribution.py [--images 4] [--steps 32] [--rounds 2]

Goals (chapter 10): dlpy >= 5x the eager loop, with the same maps (relative error printed), and close
to the forward + backward ceiling. Rounds are interleaved so that a shared machine slows every method
alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import dlpy  # first, before TensorFlow loads: it sets TensorFlow's environment (oneDNN, log level)


def seconds(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--steps", type=int, default=32, help="IG path steps and SmoothGrad samples")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    import tensorflow as tf

    from dlpy.viz.attribution import integrated_gradients, smoothgrad
    from dlpy.viz.saliency import class_score_function

    dlpy.seed_everything()
    backbone = dlpy.models.load_backbone("mobilenet", include_top=True)
    model, preprocess = backbone.model, backbone.preprocess
    photos = ["elephant", "cat", "tubingen", "starry_night"]
    images = np.stack([dlpy.data.load_image(photos[i % len(photos)], target_size=(224, 224))
                       for i in range(args.images)]).astype("float32")
    classes = np.argmax(model.predict(preprocess(images), verbose=0), axis=-1)
    scores, _ = class_score_function(model)
    steps = args.steps

    def eager_gradient(x, target):
        x = tf.constant(x[None])
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = scores(preprocess(x))[0, target]
        return tape.gradient(score, x).numpy()[0]

    def eager_integrated_gradients():
        alphas = np.linspace(0, 1, steps + 1, dtype="float32")
        weights = np.full(steps + 1, 1 / steps, dtype="float32")
        weights[[0, -1]] /= 2
        return np.stack([image * sum(w * eager_gradient(a * image, c) for a, w in zip(alphas, weights))
                         for image, c in zip(images, classes)])

    noise = np.random.default_rng(0).normal(size=(args.images, steps, *images.shape[1:])).astype("float32")

    def eager_smoothgrad():
        spread = (images.max(axis=(1, 2, 3)) - images.min(axis=(1, 2, 3))) * 0.15
        return np.stack([np.mean([eager_gradient(image + spread[i] * noise[i, k], classes[i]) for k in range(steps)],
                                 axis=0) for i, image in enumerate(images)])

    flat = tf.constant(np.repeat(images, steps + 1, axis=0))
    flat_targets = tf.constant(np.repeat(classes, steps + 1))

    @tf.function
    def forward_backward(x, targets):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(tf.gather(scores(preprocess(x)), targets, batch_dims=1))
        return tape.gradient(total, x)

    methods = {
        "ceiling: one compiled forward+backward": lambda: forward_backward(flat, flat_targets).numpy(),
        "dlpy integrated_gradients": lambda: integrated_gradients(model, images, classes, preprocess, steps=steps),
        "eager loop, integrated gradients": eager_integrated_gradients,
        "dlpy smoothgrad": lambda: smoothgrad(model, images, classes, preprocess, samples=steps),
        "eager loop, smoothgrad": eager_smoothgrad,
    }
    ours = methods["dlpy integrated_gradients"]()
    theirs = eager_integrated_gradients()
    print(f"Integrated Gradients, dlpy vs eager loop: relative error "
          f"{dlpy.rel_error(ours.sum(axis=(1, 2, 3)), theirs.sum(axis=(1, 2, 3))):.1e} (attribution sums), "
          f"map correlation {np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]:.4f}")
    forward_backward(flat, flat_targets)  # trace
    times = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, function in methods.items():
            times[name].append(seconds(function))
    median = {name: statistics.median(values) for name, values in times.items()}
    rows = args.images * (steps + 1)
    for name, value in median.items():
        print(f"{name:40s} {value:7.2f} s   {rows / value:7.1f} gradients/s")
    for method in ("integrated gradients", "smoothgrad"):
        ours, loop = median[f"dlpy {method.replace(' ', '_')}"], median[f"eager loop, {method}"]
        print(f"{method}: dlpy {loop / ours:.1f}x the eager loop (goal >= 5x), "
              f"{median['ceiling: one compiled forward+backward'] / ours:.2f}x the ceiling's speed")


if __name__ == "__main__":
    main()
