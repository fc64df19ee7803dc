"""Each chapter's teaching copy (a code cell tagged ``teaching-copy``: the lesson's core written out)
gives the same result as the ``dlpy`` code the rest of the course runs, on fixed inputs, with
cs231n's relative error. The cells are read from the notebooks themselves, so the two cannot drift."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlpy
from dlpy.data.multi_hot import multi_hot
from dlpy.generative import deepdream, quality, style_transfer, text_generation, vae
from dlpy.models.blocks import residual_block
from dlpy.practices.ensembles import log_loss, weighted_average
from dlpy.sequences import attention
from dlpy.training import kfold_indices
from dlpy.viz.gradcam import class_activation_maps
from dlpy.viz.neighbors import nearest_neighbors
from dlpy.workflow.metrics import RootMeanSquaredError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TAG = "teaching-copy"


def teaching_copies(slug: str) -> dict:
    """The names the notebook's teaching-copy cells define, executed on their own."""
    cells = json.loads((NOTEBOOKS / f"{slug}.ipynb").read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells if TAG in cell.get("metadata", {}).get("tags", [])]
    assert sources, f"{slug} has no cell tagged {TAG!r}"
    namespace = {"np": np, "keras": keras, "tf": tf, "layers": keras.layers}
    for source in sources:
        exec(compile(source, f"{slug}:teaching-copy", "exec"), namespace)  # noqa: S102 (the course's own cells)
    return namespace


def close(by_hand, package, tolerance=1e-5):
    error = dlpy.rel_error(np.asarray(by_hand, "float64"), np.asarray(package, "float64"))
    assert error < tolerance, f"relative error {error:.2e}"


def test_chapter_01_multi_hot():
    copy = teaching_copies("01_imdb")["multi_hot_by_hand"]
    sequences = [list(np.random.default_rng(i).integers(0, 50, size=i * 3)) for i in range(6)]
    np.testing.assert_array_equal(copy(sequences, 50), multi_hot(sequences, 50))


def test_chapter_03_kfold_indices():
    copy = teaching_copies("03_boston_housing")["kfold_indices_by_hand"]
    for n, k in ((404, 4), (10, 3), (7, 7)):
        for (a, b), (c, d) in zip(copy(n, k), kfold_indices(n, k), strict=True):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)


def test_chapter_02_one_hot_and_categorical_crossentropy():
    copies = teaching_copies("02_reuters")
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 46, 30)
    one_hot = copies["to_one_hot_by_hand"](labels)
    np.testing.assert_array_equal(one_hot, keras.utils.to_categorical(labels, 46))
    probabilities = rng.dirichlet(np.ones(46), size=30).astype("float32")
    close(copies["categorical_crossentropy_by_hand"](one_hot, probabilities),
          keras.losses.categorical_crossentropy(one_hot, probabilities))


def test_chapter_04_weight_decay_and_dropout():
    copies = teaching_copies("04_overfitting_and_regularization")
    rng = np.random.default_rng(13)
    kernel = rng.normal(size=(20, 8)).astype("float32")
    close(copies["l2_penalty_by_hand"](kernel, 0.002), keras.regularizers.L2(0.002)(kernel))
    outputs = rng.uniform(0.1, 1, size=(200, 16)).astype("float32")  # no zeros: a zero output means dropped
    dropped = np.asarray(keras.layers.Dropout(0.3, seed=1)(outputs, training=True))
    close(copies["dropout_by_hand"](outputs, 0.3, dropped != 0), dropped)
    assert 0.6 < (dropped != 0).mean() < 0.8


def test_chapter_05_convolution():
    copy = teaching_copies("05_first_convnet")["conv2d_by_hand"]
    layer = keras.layers.Conv2D(5, 3)
    image = np.random.default_rng(14).normal(size=(9, 11, 2)).astype("float32")
    expected = np.asarray(layer(image[None]))[0]  # builds the layer; no activation
    close(copy(image, *layer.get_weights()), expected)


def test_chapter_06_max_pooling():
    copy = teaching_copies("06_convnet_small_data")["max_pool_by_hand"]
    for shape in ((8, 8, 3), (7, 9, 2)):
        maps = np.random.default_rng(15).normal(size=shape).astype("float32")
        np.testing.assert_array_equal(copy(maps), np.asarray(keras.layers.MaxPooling2D(2)(maps[None]))[0])


def test_chapter_07_feature_extraction():
    from types import SimpleNamespace

    from dlpy.models.convnets import extract_features

    copy = teaching_copies("07_pretrained_convnet")["extract_features_by_hand"]
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3)(inputs))  # folded by the package
    base = keras.Model(inputs, keras.layers.ReLU()(x))
    base.layers[2].set_weights([np.full(4, w, "float32") for w in (1.5, 0.2, 0.1, 2.0)])
    backbone = SimpleNamespace(model=base, preprocess=lambda images: images / 127.5 - 1.0)
    rng = np.random.default_rng(16)
    data = tf.data.Dataset.from_tensor_slices((rng.uniform(0, 255, (10, 12, 12, 3)).astype("float32"),
                                               rng.integers(0, 2, 10))).batch(4)
    (ours, our_labels), (theirs, their_labels) = copy(backbone, data), extract_features(backbone, data)
    # batch normalization folded into the convolution: equal up to float rounding of the largest value
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5 * np.abs(theirs).max())
    np.testing.assert_array_equal(our_labels, their_labels)


def test_chapter_08_activation_model():
    from dlpy.viz.activations import layer_activations

    copy = teaching_copies("08_intermediate_activations")["activation_model_by_hand"]
    model = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Conv2D(4, 3, name="first"),
                              keras.layers.ReLU(name="relu"), keras.layers.Conv2D(2, 3, name="second")])
    image = np.random.default_rng(17).normal(size=(10, 10, 3)).astype("float32")
    ours = copy(model, ["relu", "second"])(image[None])
    theirs = layer_activations(model, image, ["relu", "second"])
    for mine, name in zip(ours, ["relu", "second"]):
        close(np.asarray(mine).reshape(theirs[name].shape), theirs[name])


def test_chapter_09_gradient_ascent_step():
    from dlpy.viz.filters import GradientAscent

    copy = teaching_copies("09_filter_visualization")["ascent_step_by_hand"]
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(6, 3, activation="relu", name="conv")])
    ascent = GradientAscent.for_filters(model, "conv", image_size=(16, 16), step_size=2.0)
    start, units = tf.constant(ascent.initial_images(3, seed=1)), tf.constant([0, 2, 5])
    ours = copy(start, lambda images: ascent.objective(images, units), step_size=2.0)
    theirs, _ = ascent.eager_step(start, units, tf.constant(False))
    close(ours, theirs)


def test_chapter_13_common_sense_baseline():
    from dlpy.sequences.timeseries import common_sense_mae

    copy = teaching_copies("13_timeseries_forecasting")["common_sense_mae_by_hand"]
    rng = np.random.default_rng(18)
    windows, targets = rng.normal(size=(50, 6, 3)).astype("float32"), rng.normal(10, 3, 50).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((windows, targets)).batch(16)
    close(copy(windows, targets, 1, 9.5, 2.0), common_sense_mae(dataset, 1, 9.5, 2.0))


def test_chapter_10_grad_cam_weighting():
    copy = teaching_copies("10_grad_cam")["grad_cam_by_hand"]
    rng = np.random.default_rng(5)
    activations = rng.uniform(0, 2, size=(4, 7, 7, 32)).astype("float32")
    gradients = rng.normal(size=(4, 7, 7, 32)).astype("float32")
    gradients[3] = -np.abs(gradients[3]) * (activations[3] > 0)  # only negative evidence: an all-zero map
    by_hand = copy(activations, gradients)
    close(by_hand, class_activation_maps(activations, gradients)[0], 1e-4)  # float32 sums of 32 channels
    assert by_hand[:3].max(axis=(1, 2)).min() == pytest.approx(1.0) and by_hand[3].max() == 0.0


def test_chapter_18_dream_loss():
    copy = teaching_copies("18_deepdream")["dream_loss_by_hand"]
    rng = np.random.default_rng(6)
    activations = [rng.normal(size=(1, 11, 13, 5)).astype("float32"), rng.normal(size=(1, 8, 8, 3)).astype("float32")]
    close(copy(activations, [0.7, 1.9]), deepdream.dream_loss(activations, [0.7, 1.9]))


def test_chapter_11_nearest_neighbors():
    copy = teaching_copies("11_feature_space")["nearest_neighbors_by_hand"]
    vectors = np.random.default_rng(7).normal(size=(60, 12))
    expected, _ = nearest_neighbors(vectors, vectors, k=5, query_indices=np.arange(60))
    np.testing.assert_array_equal(copy(vectors, 5), expected)


def test_chapter_12_scaled_dot_product_attention():
    copy = teaching_copies("12_text_classification")["numpy_attention"]
    rng = np.random.default_rng(8)
    q, k, v = (rng.normal(size=(3, 6, 4)).astype("float32") for _ in range(3))
    mask = np.array([[1] * 6, [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0]], dtype=bool)
    ours, our_weights = copy(q, k, v, mask)
    theirs, their_weights = attention.scaled_dot_product_attention(q, k, v, mask)
    close(ours, theirs)
    close(our_weights, their_weights)


def test_chapter_14_streaming_rmse_metric():
    by_hand, package = teaching_copies("14_working_with_keras")["RmseByHand"](), RootMeanSquaredError()
    rng = np.random.default_rng(9)
    for size in (7, 3, 12):  # uneven batches: the RMSE of all values, not a mean of batch RMSEs
        y_true, y_pred = rng.normal(size=(size, 1)), rng.normal(size=(size, 1))
        by_hand.update_state(y_true, y_pred)
        package.update_state(y_true, y_pred)
    close(float(by_hand.result()), float(package.result()))


def test_chapter_15_residual_block():
    copy = teaching_copies("15_convnet_architecture")["my_residual_block"]
    inputs = keras.Input((8, 8, 3))
    mine = keras.Model(inputs, copy(inputs, 6))
    library = keras.Model(inputs, residual_block(inputs, 6, pooling=True, batch_norm=False))
    assert mine.count_params() == library.count_params()
    by_shape = {tuple(layer.kernel.shape): layer for layer in mine.layers if hasattr(layer, "kernel")}
    for layer in library.layers:
        if hasattr(layer, "kernel"):
            layer.set_weights(by_shape[tuple(layer.kernel.shape)].get_weights())
    probe = np.random.default_rng(10).normal(size=(2, 8, 8, 3)).astype("float32")
    close(mine(probe), library(probe))


def test_chapter_16_ensemble_average_and_log_loss():
    copies = teaching_copies("16_best_practices")
    rng = np.random.default_rng(11)
    members = rng.dirichlet(np.ones(10), size=(3, 40))
    weights, labels = np.array([0.2, 0.5, 0.3]), rng.integers(0, 10, 40)
    average = copies["weighted_average_by_hand"](members, weights)
    close(average, weighted_average(members, weights))
    close(copies["log_loss_by_hand"](average, labels), log_loss(average, labels))


@pytest.mark.parametrize("temperature", [0.2, 0.5, 1.0, 1.7])
def test_chapter_17_temperature_reweighting(temperature):
    copy = teaching_copies("17_text_generation")["reweight_by_hand"]
    probabilities = np.random.default_rng(0).dirichlet(np.ones(57))
    close(copy(probabilities, temperature), text_generation.reweight_distribution(probabilities, temperature))


def test_chapter_19_gram_matrix_and_the_three_losses():
    copies = teaching_copies("19_style_transfer")
    rng = np.random.default_rng(1)
    features, target = rng.normal(size=(2, 9, 14, 6)).astype("float32")
    image = rng.uniform(0, 255, size=(9, 14, 3)).astype("float32")
    gram = copies["gram_matrix_by_hand"](target)
    close(copies["gram_matrix_by_hand"](features), style_transfer.gram_matrix(features))
    close(copies["content_loss_by_hand"](target, features), style_transfer.content_loss(target, features))
    close(copies["style_loss_by_hand"](gram, features), style_transfer.style_loss(gram, features))
    close(copies["total_variation_loss_by_hand"](image), style_transfer.total_variation_loss(image), 1e-4)


def test_chapter_20_reparameterization_and_kl_term():
    copies = teaching_copies("20_vae")
    rng = np.random.default_rng(2)
    z_mean, z_log_var = rng.normal(size=(2, 5, 3)).astype("float32")
    close(copies["kl_divergence_by_hand"](z_mean, z_log_var), vae.kl_divergence(z_mean, z_log_var))
    # the same noise through both: a fresh seed generator draws what vae.Sampling(seed=3) draws first
    noise = keras.ops.convert_to_numpy(keras.random.normal(z_mean.shape, seed=keras.random.SeedGenerator(3)))

    class Replay:
        def standard_normal(self, shape):
            assert shape == noise.shape
            return noise

    drawn = keras.ops.convert_to_numpy(vae.Sampling(seed=3)([z_mean, z_log_var]))
    close(copies["sample_by_hand"](z_mean, z_log_var, Replay()), drawn)


def test_chapter_21_frechet_distance():
    copy = teaching_copies("21_dcgan")["frechet_distance_by_hand"]
    rng = np.random.default_rng(4)
    a = rng.normal(size=(400, 6))
    b = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)) + 0.3
    close(copy(a, b), quality.FeatureStatistics.of(a).distance(quality.FeatureStatistics.of(b)), 1e-6)


@pytest.mark.parametrize("notebook", sorted(path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
def test_every_chapter_has_a_teaching_copy_checked_here(notebook):
    defined = [name for name, value in teaching_copies(notebook).items() if callable(value) and name not in (
        "np", "keras", "tf", "layers")]
    assert defined, f"{notebook}'s teaching-copy cells define nothing"
    checked = [name for name in globals() if name.startswith(f"test_chapter_{notebook[:2]}_")]
    assert checked, f"no test_chapter_{notebook[:2]}_... compares {notebook}'s teaching copy with dlpy"
