"""Training steps per second of one convnet in float32 and under the mixed-precision policy this
device gains from (``dlpy.practices.precision.recommended_policy``: ``mixed_bfloat16`` on a CPU with
AVX-512 BF16 or AMX, ``mixed_float16`` on a tensor-core GPU), same batches, measured in one run with
the rounds interleaved. The output layer stays float32 (``dtype="float32"``), as it must.

    python benchmarks/bench_mixed_precision.py [--size 96] [--batch 32] [--steps 20] [--rounds 3]

Goal (chapter 16): report the speedup where the policy applies; where none does, say so and stop.
"""

from __future__ import annotations

import argparse

import numpy as np

import dlpy  # first, before TensorFlow loads: it sets TensorFlow's environment (oneDNN, log level)


def build(size: int):
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 3))
    x = inputs
    for filters in (32, 64, 128, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32")(x)  # the output in float32
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from dlpy.practices.precision import policy_speeds, recommended_policy

    policy, reason = recommended_policy()
    print(f"device: {dlpy.course.settings.describe_device()}; policy: {policy or 'none'} ({reason})")
    if policy is None:
        return
    rng = np.random.default_rng(0)
    images = rng.random((args.batch, args.size, args.size, 3), dtype=np.float32)
    labels = rng.integers(0, 2, (args.batch, 1)).astype("float32")
    speeds = policy_speeds(lambda: build(args.size), ["float32", policy], images, labels, rounds=args.rounds,
                           steps=args.steps)
    for name, value in speeds.items():
        print(f"{name:15s} {value:7.2f} steps/s (median of {args.rounds} rounds of {args.steps})")
    speedup = speeds[policy] / speeds["float32"]
    print(f"speedup of {policy} over float32: {speedup:.2f}x")


if __name__ == "__main__":
    main()
