"""Feature-extraction throughput (chapter 07) against its ceiling.

``dlpy.models.convnets.extract_features`` reads batches from the cached ``tf.data`` pipeline, applies
the backbone's preprocessing and runs the frozen base in one ``tf.function``. Its ceiling is the bare
forward pass of the same compiled function on one batch already in memory, repeated as many times:
no input pipeline, no copies. The goal is >= 0.9x the ceiling. ``extract_features`` runs the base with
BatchNormalization folded into the convolutions (``dlpy.models.introspection.inference_model``), so the same
forward pass with folding is printed too: the ceiling for that model.

    KERAS_HOME=... python benchmarks/bench_feature_extraction.py [--backbone mobilenet] [--batches 12]
"""

from __future__ import annotations

import argparse
import time

import dlpy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=None, help="default: preferred_backbone(('vgg16', 'mobilenet'))")
    parser.add_argument("--size", type=int, default=180)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings")
    args = parser.parse_args()

    cfg = dlpy.setup("bench_feature_extraction", quiet=True)
    import tensorflow as tf

    from dlpy.data.cats_dogs import load_cats_and_dogs
    from dlpy.models import load_backbone, preferred_backbone
    from dlpy.models.convnets import extract_features

    name = args.backbone or preferred_backbone(("vgg16", "mobilenet"))
    backbone = load_backbone(name)
    train_ds, _, _ = load_cats_and_dogs(image_size=(args.size, args.size), batch_size=args.batch_size)
    data = train_ds.take(args.batches)
    for _ in data:  # fill the in-memory cache: decoding JPEGs is not what is measured
        pass
    images = args.batches * args.batch_size
    batch = next(iter(data))[0]

    from dlpy.models.introspection import inference_model

    folded_model = inference_model(backbone.model)

    @tf.function(reduce_retracing=True)
    def forward(x):
        return backbone.model(backbone.preprocess(x), training=False)

    @tf.function(reduce_retracing=True)
    def folded_forward(x):
        return folded_model(backbone.preprocess(x), training=False)

    def ceiling(function=forward):
        for _ in range(args.batches):
            function(batch).numpy()

    def pipeline():
        extract_features(backbone, data)

    def best_time(run):
        run()  # warm-up: tracing
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    bare = best_time(ceiling)
    folded = best_time(lambda: ceiling(folded_forward))
    extracted = best_time(pipeline)
    print(f"device: {cfg.device}; backbone {name}, {args.size}x{args.size}, batches of {args.batch_size}, "
          f"{images} images, best of {args.repeats}")
    print(f"bare forward pass (ceiling):       {images / bare:8.1f} images/s  ({bare:.2f} s)")
    print(f"forward pass, BatchNorm folded:    {images / folded:8.1f} images/s  ({folded:.2f} s)")
    print(f"extract_features from tf.data:     {images / extracted:8.1f} images/s  ({extracted:.2f} s)")
    print(f"ratio extract_features / ceiling:  {bare / extracted:8.3f}  (goal >= 0.9)")
    print(f"ratio extract_features / folded:   {folded / extracted:8.3f}")


if __name__ == "__main__":
    main()
