"""PixelCNN sampling speed (chapter 21): the compiled sampler on a band of rows against the same
sampler on the whole image, and against the ceiling, measured in one run.

    python benchmarks/bench_pixelcnn_sampling.py [--counts 100 400] [--rounds 2]

The network is the chapter's PixelCNN (32 filters, four blocks with 5x5 mask-B convolutions),
freshly initialized (the speed does not depend on the weights), in the device's mixed-precision
policy as the chapter builds it (``--precision float32`` for the plain one). Printed, in images per second:

- the whole image: ``make_sampler(model, crop_rows=False)``, one 28x28 forward pass per pixel;
- the band: ``make_sampler(model)``, one forward pass on the ``rows_above(model) + 1`` = 12 rows that
  end at the pixel's row (the same draws, tested in ``tests/test_pixelcnn.py``);
- the ceiling: 784 bare forward passes of the band-shaped network in one compiled loop, with no
  slicing, drawing or writing of pixels; the band sampler's fraction of it is the loop's overhead.

Rounds alternate the three so a shared machine's load falls on each alike; the best round counts.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dlpy  # noqa: E402  (first: it sets TensorFlow's environment, oneDNN and log level, before TF loads)

# isort: split
import tensorflow as tf  # noqa: E402

from dlpy.generative import pixelcnn  # noqa: E402
from dlpy.practices.precision import dtype_policy, recommended_policy  # noqa: E402


def bare_passes(network, steps: int):
    """``steps`` forward passes of ``network`` on a zero batch in one ``tf.while_loop``: the ceiling."""
    @tf.function
    def run(count):
        shape = network.input_shape[1:]
        images = tf.zeros((count, *shape))
        total = tf.zeros(())
        for _ in tf.range(steps):
            total += network(images + total * 0.0, training=False)[0, 0, 0, 0]  # a dependency: no pass is skipped
        return total

    return lambda count: run(tf.constant(count)).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 400], help="images sampled at once")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--precision", choices=["recommended", "float32"], default="recommended",
                        help="the device's mixed-precision policy, as chapter 21 uses, or float32")
    args = parser.parse_args()

    dlpy.setup("bench_pixelcnn_sampling", quiet=True)
    policy = recommended_policy()[0] if args.precision == "recommended" else None
    with dtype_policy(policy):
        model = pixelcnn.build_pixelcnn(filters=32, residual_blocks=4, block_kernel_size=5)
    height, width = model.input_shape[1:3]
    band_sampler, whole_sampler = pixelcnn.make_sampler(model), pixelcnn.make_sampler(model, crop_rows=False)
    band = band_sampler.band_rows
    ceiling = bare_passes(pixelcnn.band_model(model, band), height * width)
    runs = {"whole image (28 rows a pixel)": lambda n: whole_sampler(n, seed=1),
            f"band ({band} rows a pixel)": lambda n: band_sampler(n, seed=1),
            f"ceiling: {height * width} bare passes on {band} rows": ceiling}
    print(f"device: {dlpy.course.settings.describe_device()} | PixelCNN {model.count_params():,} parameters, "
          f"rows_above = {pixelcnn.rows_above(model)}, precision {policy or 'float32'}\n")
    print(f"{'images':>6s}  {'run':40s} {'seconds':>8s} {'images/s':>9s}")
    for count in args.counts:
        for run in runs.values():
            run(2)  # trace and warm up
        best = {name: float("inf") for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                start = time.perf_counter()
                run(count)
                best[name] = min(best[name], time.perf_counter() - start)
        for name, seconds in best.items():
            print(f"{count:6d}  {name:40s} {seconds:8.1f} {count / seconds:9.1f}")
        names = list(runs)
        print(f"        band vs whole image: {best[names[0]] / best[names[1]]:.2f}x faster; band at "
              f"{best[names[2]] / best[names[1]]:.0%} of the ceiling\n")


if __name__ == "__main__":
    main()
