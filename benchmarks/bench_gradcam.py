"""Grad-CAM throughput on MobileNet (alpha=0.75), batch 16, 224x224, measured in one run:
dlpy's compiled GradCam against tf-keras-vis's ``Gradcam`` and against a bare forward pass.

    KERAS_HOME=... python benchmarks/bench_gradcam.py [--rounds 5] [--batch 16]

Goals (chapter 10): dlpy >= 5x tf-keras-vis and >= 0.8x the forward pass. dlpy's GradCam runs the
model with BatchNormalization folded into the convolutions (``dlpy.models.introspection.inference_model``); the
folded forward pass is timed too, as the ceiling for that model. Every method sees the same
preprocessed batch and the same class per image; rounds are interleaved so that a machine shared
with other work slows every method alike. Prints images/s (best and median round) and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
import traceback

import numpy as np

import dlpy  # first, before TensorFlow loads: it sets TensorFlow's environment (oneDNN, log level)


def images_per_second(function, batch_size: int, repeats: int) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return batch_size * repeats / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per method")
    parser.add_argument("--repeats", type=int, default=2, help="calls per method and round")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from dlpy.viz.gradcam import GradCam

    dlpy.seed_everything()
    backbone = dlpy.models.load_backbone("mobilenet", include_top=True)
    model, layer = backbone.model, "conv_pw_13_relu"
    photos = ["elephant", "cat", "tubingen", "starry_night"]
    raw = np.stack([dlpy.data.load_image(photos[i % len(photos)], target_size=(224, 224))
                    for i in range(args.batch)])
    x = keras.ops.convert_to_numpy(backbone.preprocess(raw))
    x_tensor = tf.constant(x)
    classes = np.argmax(model.predict(x, verbose=0), axis=-1)

    methods = {}
    forward = tf.function(lambda batch: model(batch, training=False))
    methods["forward pass (compiled tf.function)"] = lambda: forward(x_tensor).numpy()
    methods["forward pass (model.predict_on_batch)"] = lambda: model.predict_on_batch(x)
    folded_model = dlpy.models.introspection.inference_model(model)
    folded_forward = tf.function(lambda batch: folded_model(batch, training=False))
    methods["forward pass, BatchNorm folded (compiled)"] = lambda: folded_forward(x_tensor).numpy()
    cam = GradCam(model, layer)
    methods["dlpy GradCam (Grad-CAM + Grad-CAM++)"] = lambda: cam(x, classes=classes)

    tkv_error = None
    try:
        from tf_keras_vis.gradcam import Gradcam
        from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
        from tf_keras_vis.utils.scores import CategoricalScore

        gradcam = Gradcam(model, model_modifier=ReplaceToLinear(), clone=True)
        score = CategoricalScore(list(classes))
        methods["tf-keras-vis Gradcam (7x7 maps)"] = lambda: gradcam(
            score, x, penultimate_layer=layer, seek_penultimate_conv_layer=False, expand_cam=False)
        methods["tf-keras-vis Gradcam (default: maps upsampled)"] = lambda: gradcam(
            score, x, penultimate_layer=layer, seek_penultimate_conv_layer=False)
        # Same answer? (tf-keras-vis normalizes min-max, dlpy divides by the max of the ReLU map.)
        theirs = np.asarray(methods["tf-keras-vis Gradcam (7x7 maps)"]())
        ours = cam(x, classes=classes).grad_cam[:, 0]
        agreement = np.mean([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(theirs, ours)])
        print(f"tf-keras-vis vs dlpy Grad-CAM maps: mean correlation {agreement:.4f}")
    except Exception as error:  # report exactly why it does not run with Keras 3
        tkv_error = "".join(traceback.format_exception_only(type(error), error)).strip()
        print("tf-keras-vis Gradcam did not run:", tkv_error)
        traceback.print_exc()

    for function in methods.values():  # warm up: trace, compile, allocate
        function()
    measured = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, function in methods.items():
            measured[name].append(images_per_second(function, args.batch, args.repeats))

    print(f"\nMobileNet alpha=0.75, batch {args.batch}, 224x224, layer {layer}; "
          f"{args.rounds} interleaved rounds of {args.repeats} calls; {dlpy.course.settings.describe_device()}")
    print(f"{'method':50s} {'best img/s':>10s} {'median img/s':>13s}")
    for name, values in measured.items():
        print(f"{name:50s} {max(values):10.1f} {statistics.median(values):13.1f}")

    ours = measured["dlpy GradCam (Grad-CAM + Grad-CAM++)"]
    print("\nratios (median; best in parentheses):")
    for name, values in measured.items():
        if name.startswith("dlpy"):
            continue
        print(f"  dlpy / {name:48s} {statistics.median(ours) / statistics.median(values):6.2f}x "
              f"({max(ours) / max(values):.2f}x)")
    if tkv_error:
        print("  tf-keras-vis: not measured:", tkv_error)


if __name__ == "__main__":
    main()
