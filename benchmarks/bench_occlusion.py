"""Occlusion map of one 224x224 image, 16-px gray patches at stride 8 (27 x 27 = 729 positions), with
MobileNet (alpha 0.75): dlpy's batched map against a loop that classifies one occluded image per call.

    KERAS_HOME=... python benchmarks/bench_occlusion.py [--batch-size 16] [--predict] [--loop-positions N]

Prints each time and the ratio, measured in this one run. ``--predict`` also times the loop written
with ``model.predict`` (the way tutorials often do it), which adds Keras's per-call set-up.
``--loop-positions N`` times the loops on the first N positions only and scales their time to all
729 (said so in the output); by default they run in full and the two maps are compared.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import dlpy  # noqa: E402
from dlpy.models import load_backbone  # noqa: E402
from dlpy.viz.occlusion import occlusion_map, patch_positions  # noqa: E402

PATCH, STRIDE, FILL = 16, 8, 127.5


def loop_map(model, preprocess, image, class_index, call, limit=None):
    """The plain version: build each occluded copy with NumPy and classify it alone
    (the first ``limit`` positions only, when given)."""
    tops = patch_positions(image.shape[0], PATCH, STRIDE)
    lefts = patch_positions(image.shape[1], PATCH, STRIDE)
    positions = [(i, j) for i in range(len(tops)) for j in range(len(lefts))][:limit]
    scores = np.full((len(tops), len(lefts)), np.nan)
    for i, j in positions:
        occluded = image.copy()
        occluded[tops[i]:tops[i] + PATCH, lefts[j]:lefts[j] + PATCH] = FILL
        scores[i, j] = np.asarray(call(preprocess(occluded[None])))[0, class_index]
    return scores


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--predict", action="store_true", help="also time a loop of model.predict calls")
    parser.add_argument("--loop-positions", type=int, default=None,
                        help="time the loops on this many positions and scale to all of them")
    args = parser.parse_args()
    dlpy.seed_everything()
    backbone = load_backbone("mobilenet", include_top=True)
    model, preprocess = backbone.model, backbone.preprocess
    image = dlpy.data.load_image("elephant", target_size=(224, 224))
    device = dlpy.course.settings.describe_device()
    print(f"{device}; MobileNet alpha 0.75; 224x224 image; patch {PATCH}, stride {STRIDE}: "
          f"{len(patch_positions(224, PATCH, STRIDE)) ** 2} occluded images")

    # Warm-up: trace the tf.function and run each path once on a few images.
    occlusion_map(model, image, patch_size=PATCH, stride=STRIDE, preprocess=preprocess, batch_size=args.batch_size)
    model(preprocess(image[None]), training=False)

    result, batched_s = timed(lambda: occlusion_map(model, image, patch_size=PATCH, stride=STRIDE,
                                                    preprocess=preprocess, batch_size=args.batch_size))
    print(f"dlpy occlusion_map (batches of {args.batch_size}): {batched_s:8.2f} s")
    total = result.scores.size
    limit = args.loop_positions if args.loop_positions and args.loop_positions < total else None
    scale = total / limit if limit else 1.0
    note = f" (timed on {limit} of {total} positions, scaled)" if limit else ""
    expected, loop_s = timed(lambda: loop_map(model, preprocess, image, result.class_index,
                                              lambda x: model(x, training=False), limit))
    loop_s *= scale
    print(f"loop, one model(x) call per image:        {loop_s:8.2f} s   ratio {loop_s / batched_s:6.1f}x{note}")
    difference = np.nanmax(np.abs(expected - result.scores))
    print(f"largest difference between the two maps: {difference:.2e}")
    if args.predict:
        model.predict(preprocess(image[None]), verbose=0)
        _, predict_s = timed(lambda: loop_map(model, preprocess, image, result.class_index,
                                              lambda x: model.predict(x, verbose=0), limit))
        predict_s *= scale
        ratio = predict_s / batched_s
        print(f"loop, one model.predict call per image:   {predict_s:8.2f} s   ratio {ratio:6.1f}x{note}")

if __name__ == "__main__":
    main()
