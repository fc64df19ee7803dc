"""Filter-visualization ascent steps per second: the compiled ``tf.function`` step of
``dlpy.viz.filters.GradientAscent`` against the same step run eagerly, measured in one run.

    KERAS_HOME=... python benchmarks/bench_filter_ascent.py [--size 128] [--filters 8] [--steps 5]

Goal (chapter 09): compiled >= 10x eager. The ceiling column times the bare compiled forward pass and
input gradient of the same objective (no regularizers, no update): a compiled step near it leaves no
overhead to remove, and the ratio to eager is then set by how much slower eager arithmetic is.
Cases: the chapter's VGG layer and a MobileNet layer (batched: one image per filter, all in one
step), plus a small 4-layer convnet on 32x32 images, the least arithmetic per step. Rounds are
interleaved so that shared-machine load hits every column alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import dlpy  # first, before TensorFlow loads: it sets TensorFlow's environment (oneDNN, log level)


def steps_per_second(step, images, units, steps: int) -> float:
    import tensorflow as tf

    blur = tf.constant(False)
    started = time.perf_counter()
    for _ in range(steps):
        images, value = step(images, units, blur)
    value.numpy()  # wait for the last step
    return steps / (time.perf_counter() - started)


def bare_gradient_step(ascent):
    """The ceiling of one ascent step: the compiled forward pass and input gradient of the same
    objective, with no regularizer and no update (what any implementation must compute)."""
    import tensorflow as tf

    @tf.function
    def step(images, units, blur):
        with tf.GradientTape() as tape:
            tape.watch(images)
            value = ascent.objective(images, units)
            total = tf.reduce_sum(value)
        return tape.gradient(total, images), value

    return step


def small_convnet():
    import keras

    inputs = keras.Input((None, None, 3))
    x = inputs
    for i, filters in enumerate((16, 32, 32, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{i + 1}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{i + 1}")(x)
    return keras.Model(inputs, x, name="small")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--filters", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5, help="steps per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import tensorflow as tf

    from dlpy.viz.filters import GradientAscent, Regularizers

    dlpy.seed_everything()
    prior = Regularizers(l2=0.01, jitter=2, blur_sigma=0.6)
    vgg_name = dlpy.models.preferred_backbone(("vgg16", "vgg19"))
    vgg = dlpy.models.load_backbone(vgg_name)
    mobilenet = dlpy.models.load_backbone("mobilenet")
    cases = {
        f"{vgg_name} block3_conv1, {args.size}px": (vgg.model, "block3_conv1", vgg.preprocess, args.size),
        f"MobileNet conv_pw_5_relu, {args.size}px": (mobilenet.model, "conv_pw_5_relu", mobilenet.preprocess,
                                                     args.size),
        "small 4-layer convnet conv4, 32px": (small_convnet(), "conv4", None, 32),
    }
    print(f"{args.filters} filters per step (batched), regularizers {prior}; {dlpy.course.settings.describe_device()}")
    print(f"{'case':40s} {'compiled steps/s':>17s} {'eager steps/s':>14s} {'ratio':>7s} {'ceiling steps/s':>15s} "
          f"{'of ceiling':>10s}")
    for label, (model, layer, preprocess, size) in cases.items():
        ascent = GradientAscent.for_filters(model, layer, image_size=(size, size), preprocess=preprocess,
                                            regularizers=prior)
        images = tf.constant(ascent.initial_images(args.filters))
        units = tf.constant(np.arange(args.filters), dtype="int32")
        started = time.perf_counter()
        steps_per_second(ascent.step, images, units, 1)  # trace and compile
        trace_seconds = time.perf_counter() - started
        steps_per_second(ascent.eager_step, images, units, 1)
        ceiling_step = bare_gradient_step(ascent)
        steps_per_second(ceiling_step, images, units, 1)
        compiled, eager, ceiling = [], [], []
        for _ in range(args.rounds):
            compiled.append(steps_per_second(ascent.step, images, units, args.steps))
            eager.append(steps_per_second(ascent.eager_step, images, units, args.steps))
            ceiling.append(steps_per_second(ceiling_step, images, units, args.steps))
        c, e, g = statistics.median(compiled), statistics.median(eager), statistics.median(ceiling)
        print(f"{label:40s} {c:17.2f} {e:14.2f} {c / e:6.2f}x {g:15.2f} {c / g:10.2f}   "
              f"(first call with tracing: {trace_seconds:.1f} s)")


if __name__ == "__main__":
    main()
