"""Iterations per second of the style-transfer and DeepDream steps (chapters 18-19): the compiled
``tf.function`` step, the same with XLA (``jit_compile=True``), and the same Python function run
eagerly, all in one run; plus the achieved GFLOP/s against a plain ``tf.matmul`` measured alongside.

The FLOPs of one step are counted by TensorFlow's profiler (``float_operation``) on the step's graph
traced at the benchmark's fixed image size: forward convolutions, their two backward convolutions,
matmuls (the Gram matrices) and element-wise ops that register a FLOP count.

    KERAS_HOME=... python benchmarks/bench_dream_style.py [--size 160] [--backbone mobilenet]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dlpy  # noqa: E402  (first: it sets TensorFlow's environment, oneDNN and log level, before TF loads)

# isort: split
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dlpy.generative.deepdream import DREAM_LAYERS, DeepDream  # noqa: E402
from dlpy.generative.style_transfer import StyleTransfer  # noqa: E402


def time_calls(call, iterations: int, warmup: int = 2) -> float:
    """Seconds per call: the fastest of ``iterations`` calls after ``warmup`` untimed ones (the CPU
    may be shared; the fastest call is the least disturbed)."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.min(times))


def graph_flops(function, *args) -> float:
    """Float operations of one call, counted by the TF profiler on a fixed-shape trace."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    concrete = tf.function(function).get_concrete_function(*args)
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    verbosity = tf.get_logger().level
    tf.get_logger().setLevel("ERROR")  # the profiler's TF1 helpers print deprecation notices
    try:
        return float(model_analyzer.profile(concrete.graph, options=options).total_float_ops)
    finally:
        tf.get_logger().setLevel(verbosity)


def matmul_gflops(n: int = 1024, iterations: int = 10) -> float:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda: tf.matmul(a, b))
    seconds = time_calls(lambda: matmul().numpy(), iterations)
    return 2 * n ** 3 / seconds / 1e9


def bench(name, make_step, args, flops, iterations, eager_iterations):
    """Rows for one algorithm: eager, compiled, compiled + XLA."""
    rows = {}
    for mode, step in [("eager", make_step(compiled=False)), ("tf.function", make_step(compiled=True)),
                       ("tf.function + XLA", make_step(compiled=True, jit_compile=True))]:
        n = eager_iterations if mode == "eager" else iterations
        def call(step=step):
            return [t.numpy() for t in tf.nest.flatten(step(*args))]

        try:
            seconds = time_calls(call, n)
        except Exception as error:  # XLA may be unavailable for an op on some builds
            print(f"{name:15s} {mode:18s} failed: {type(error).__name__}: {str(error)[:120]}")
            continue
        rows[mode] = seconds
    eager = rows.get("eager")
    for mode, seconds in rows.items():
        speedup = f"{eager / seconds:5.1f}x eager" if eager else ""
        print(f"{name:15s} {mode:18s} {1 / seconds:7.2f} it/s  {seconds * 1e3:8.1f} ms/it  "
              f"{flops / seconds / 1e9:6.1f} GFLOP/s  {speedup}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="mobilenet")
    parser.add_argument("--size", type=int, default=160, help="image side in pixels")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--eager-iterations", type=int, default=5)
    args = parser.parse_args()
    dlpy.setup("bench_dream_style", quiet=True)

    backbone = dlpy.models.load_backbone(args.backbone)
    rng = np.random.default_rng(0)
    image = tf.constant(rng.uniform(0, 255, (args.size, args.size, 3)).astype("float32"))
    style_image = tf.constant(rng.uniform(0, 255, (args.size, args.size, 3)).astype("float32"))
    print(f"{dlpy.course.settings.describe_device()} | TensorFlow {tf.__version__} | {args.backbone} | "
          f"{args.size}x{args.size} image")

    peak = matmul_gflops()
    print(f"plain tf.matmul 1024x1024 (compiled): {peak:.1f} GFLOP/s")
    print("(it/s: fastest of the timed calls; GFLOP/s = profiler FLOPs of one step / its time)")

    transfer = StyleTransfer(backbone)
    style_args = (image, tf.zeros_like(image), tf.zeros_like(image), tf.constant(1.0),
                  transfer.content_target(image), transfer.style_target(style_image),
                  transfer.default_weights.as_tensor(), tf.constant(8.0))
    style_flops = graph_flops(transfer._step, *style_args)
    print(f"style-transfer step: {style_flops / 1e9:.2f} GFLOP (TF profiler, fixed-shape trace)")
    style = bench("style transfer", transfer.make_step, style_args, style_flops, args.iterations,
                  args.eager_iterations)

    dreamer = DeepDream(backbone, DREAM_LAYERS[args.backbone])
    dream_args = (image, tf.constant([3, -5], tf.int32), tf.constant(2.0))
    dream_flops = graph_flops(dreamer._step, *dream_args)
    print(f"DeepDream step: {dream_flops / 1e9:.2f} GFLOP (TF profiler, fixed-shape trace)")
    dream = bench("DeepDream", dreamer.make_step, dream_args, dream_flops, args.iterations, args.eager_iterations)

    peak = max(peak, matmul_gflops())  # measured again after the steps: the CPU may be shared
    print(f"\nsummary (goal: compiled >= 5x eager; tf.matmul best of two measurements: {peak:.1f} GFLOP/s)")
    for name, rows, flops in [("style transfer", style, style_flops), ("DeepDream", dream, dream_flops)]:
        best = min((s, m) for m, s in rows.items() if m != "eager")
        print(f"  {name:15s} best {best[1]}: {rows['eager'] / best[0]:.1f}x eager "
              f"({1 / rows['eager']:.2f} -> {1 / best[0]:.2f} it/s), {flops / best[0] / 1e9:.1f} GFLOP/s "
              f"= {100 * flops / best[0] / 1e9 / peak:.0f}% of tf.matmul's {peak:.1f}")


if __name__ == "__main__":
    main()
