"""Is the input pipeline the bottleneck? (chapter 06)

Trains the chapter-06 convnet for one epoch on the cats vs dogs training set fed three ways and
prints steps/s: (1) the cached ``tf.data`` pipeline of ``dlpy.data.pipelines`` (decode once, seeded
shuffle, batch, prefetch), (2) the same images as in-memory NumPy arrays (the reference: no input
cost beyond slicing), (3) the pipeline without the cache (every JPEG decoded and resized every
epoch). It also prints how many batches/s the pipeline alone can deliver. The pipeline is not the
bottleneck when (1) is about as fast as (2) and the pipeline alone is much faster than training.

    KERAS_HOME=... python benchmarks/bench_input_pipeline.py [--size 96] [--epochs 2]
"""

from __future__ import annotations

import argparse
import time

import dlpy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--filters", default="16,32,64,128,128", help="the quick profile's convnet")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per feed (after a warm-up epoch)")
    args = parser.parse_args()

    cfg = dlpy.setup("bench_input_pipeline", quiet=True)
    from dlpy.data.cats_dogs import load_cats_and_dogs
    from dlpy.data.pipelines import dataset_to_arrays
    from dlpy.models.convnets import small_convnet

    image_size = (args.size, args.size)
    filters = tuple(int(f) for f in args.filters.split(","))
    cached, _, _ = load_cats_and_dogs(image_size=image_size, batch_size=args.batch_size)
    uncached, _, _ = load_cats_and_dogs(image_size=image_size, batch_size=args.batch_size, cache=False)
    x, y = dataset_to_arrays(cached)  # also fills the cache
    steps = -(-len(x) // args.batch_size)

    def pipeline_alone(ds):
        start = time.perf_counter()
        for _ in ds:
            pass
        return steps / (time.perf_counter() - start)

    def train(**data):
        model = small_convnet((*image_size, 3), filters=filters)
        model.fit(**data, epochs=1, verbose=0)  # warm-up: tracing
        start = time.perf_counter()
        model.fit(**data, epochs=args.epochs, verbose=0)
        return steps * args.epochs / (time.perf_counter() - start)

    results = {
        "tf.data, cached (dlpy pipeline)": train(x=cached),
        "NumPy arrays in memory": train(x=x, y=y, batch_size=args.batch_size, shuffle=True),
        "tf.data, no cache (decode each epoch)": train(x=uncached),
    }
    alone = {"cached": pipeline_alone(cached), "no cache": pipeline_alone(uncached)}
    reference = results["NumPy arrays in memory"]
    print(f"device: {cfg.device}; {len(x)} images {image_size}, batches of {args.batch_size}, filters {filters}")
    for label, rate in results.items():
        print(f"training from {label:38s} {rate:7.2f} steps/s   ({rate / reference:.2f}x NumPy)")
    training_rate = results["tf.data, cached (dlpy pipeline)"]
    for label, rate in alone.items():
        print(f"pipeline alone, {label:10s} {rate:8.1f} batches/s ({rate / training_rate:.0f}x the training rate)")


if __name__ == "__main__":
    main()
