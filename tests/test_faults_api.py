"""Misuse of the package's functions, as students make it: the error comes at the call, before any
traced TensorFlow step, and names the value received, what was expected and the fix."""

import json

import keras
import numpy as np
import pytest

import dlpy
from dlpy.course import results, settings
from dlpy.generative.deepdream import DeepDream, DreamOptions
from dlpy.generative.style_transfer import StyleTransfer, gram_matrix, style_loss
from dlpy.images import image_batch, single_image, tile
from dlpy.models.introspection import check_class_indices
from dlpy.viz.filters import GradientAscent, Regularizers
from dlpy.viz.gradcam import GradCam


@pytest.fixture(scope="module")
def convnet(make_tiny_convnet):
    return make_tiny_convnet([("conv_a", 4, 1), ("conv_b", 4, 2)], name="tiny", seed=0)


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probabilities")(x), name="cls")


def test_grad_cam_of_an_empty_batch(classifier):
    with pytest.raises(ValueError, match=r"images is an empty batch \(shape \(0, 32, 32, 3\)\): pass at least one"):
        GradCam(classifier, "conv")(np.zeros((0, 32, 32, 3)))


def test_grad_cam_of_the_wrong_size_suggests_the_exact_size(classifier):
    with pytest.raises(ValueError, match=r"built for 32x32 images, got 40x32: .*target_size=\(32, 32\)"):
        GradCam(classifier, "conv")(np.zeros((1, 40, 32, 3)))


@pytest.mark.parametrize("classes, message", [
    (7, r"classes 7 is out of range: Model 'cls' has 3 classes \(0 to 2\)"),
    ([0, 1, 2], r"Give one class per image \(2,\), one for all, or an array \(2, k\)"),
    (1.5, "classes are integer indices; got 1.5"),
])
def test_grad_cam_of_classes_that_do_not_exist(classifier, classes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        GradCam(classifier, "conv")(np.zeros((2, 32, 32, 3)), classes=classes)


@pytest.mark.parametrize("layers, message", [
    ({"conv_b": "high"}, r"The weight of layer 'conv_b' must be a number .* got 'high'"),
    ({"conv_b": float("nan")}, r"The weight of layer 'conv_b' must be a number"),
    (["conv_b"], r"layers is a dict \{layer name: weight\} \(or one layer name\)"),
    ({}, r"layers is a dict"),
])
def test_deepdream_layers_that_cannot_weigh_a_loss(convnet, layers, message):
    with pytest.raises(ValueError, match=message):
        DeepDream(convnet, layers)


@pytest.mark.parametrize("options, message", [
    ({"num_octaves": 0}, "num_octaves must be a positive integer, got 0"),
    ({"steps_per_octave": 2.5}, "steps_per_octave must be a positive integer"),
    ({"octave_scale": 1.0}, "octave_scale must be greater than 1"),
    ({"learning_rate": -1.0}, "learning_rate must be positive"),
    ({"jitter": -2}, "jitter is a number of pixels"),
])
def test_dream_options_are_checked_when_made(options, message):
    with pytest.raises(ValueError, match=message):
        DreamOptions(**options)


def test_style_layers_given_as_one_string(convnet):
    with pytest.raises(TypeError, match=r"got the string 'conv_a': pass \['conv_a'\] for one layer"):
        StyleTransfer(convnet, content_layer="conv_b", style_layers="conv_a")


def test_style_loss_given_features_instead_of_a_gram_matrix():
    features = np.random.default_rng(0).normal(size=(8, 8, 4)).astype("float32")
    with pytest.raises(ValueError, match=r"target_gram must be a Gram matrix \(4, 4\) .* got shape \(8, 8, 4\). "
                                         r"Pass gram_matrix\(target_features\)"):
        style_loss(features, features)
    assert float(style_loss(gram_matrix(features), features)) == pytest.approx(0.0, abs=1e-6)


def test_a_blur_wider_than_the_image(convnet):
    with pytest.raises(ValueError, match=r"Regularizers\(blur_sigma=50\) blurs over 301 pixels, more than the 32x32 "
                                         r"image: use blur_sigma < 10.3 or a larger image_size"):
        GradientAscent.for_filters(convnet, "conv_a", image_size=(32, 32), regularizers=Regularizers(blur_sigma=50))


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 32, 32, 1)), r"was built for images with 3 channels, got 1 channels .*convert them first"),
    (np.zeros((32, 32)), r"add the channel axis: images\[\.\.\., None\]"),
    (np.zeros((2, 2, 32, 32, 3)), r"must be one image \(height, width, channels\) or a batch of images"),
])
def test_image_batches_the_model_cannot_take(classifier, images, message):
    with pytest.raises(ValueError, match=message):
        image_batch(images, classifier)


def test_one_image_expected_a_batch_given():
    with pytest.raises(ValueError, match=r"got a batch of 2 .* pass one of them, e.g. images\[0\]"):
        single_image(np.zeros((2, 16, 16, 3)))


def test_tile_of_nothing():
    with pytest.raises(ValueError, match="tile needs a non-empty batch"):
        tile(np.zeros((0, 4, 4)))


def test_class_index_check_names_the_range():
    with pytest.raises(ValueError, match=r"class_index -1 is out of range: the model has 10 classes \(0 to 9\)"):
        check_class_indices(-1, 1, 10, name="class_index")


# --- the results table ----------------------------------------------------------------------------

@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPY_BUILD_DIR", str(tmp_path))
    monkeypatch.setattr(settings, "_current", settings.Settings("99_test", "smoke", 1, "CPU"))
    return tmp_path


def test_a_diverged_run_records_null_not_nan(build, capsys):
    dlpy.record("final_loss", float("nan"))
    text = (build / "results.json").read_text()
    row = json.loads(text)[0]  # strict JSON: no bare NaN
    assert "NaN" not in text and row["value"] is None and row["note"].startswith("nan (not finite)")
    assert "stored as null" in capsys.readouterr().out
    assert "n/a" in results.format_table(results.load_results())


@pytest.mark.parametrize("damage", ['[{"chapter": "01_imdb"', '{"rows": []}', '[{"chapter": "01"}]'])
def test_a_damaged_table_is_set_aside_and_recording_goes_on(build, damage, capsys):
    (build / "results.json").write_text(damage)
    dlpy.record("test_accuracy", 0.9)
    out = capsys.readouterr().out
    assert "is damaged" in out and "It was kept as" in out
    kept = list(build.glob("results.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text() == damage  # nothing lost
    assert [r["metric"] for r in results.load_results()] == ["test_accuracy"]


@pytest.mark.parametrize("metric, value, error, message", [
    ("test_accuracy", "high", TypeError, r"needs a number as value \(and book\), got 'high'"),
    ("", 0.5, TypeError, "metric is a non-empty name such as 'test_accuracy'"),
    (None, 0.5, TypeError, "metric is a non-empty name"),
])
def test_record_needs_a_name_and_a_number(build, metric, value, error, message):
    with pytest.raises(error, match=message):
        dlpy.record(metric, value)
    assert not (build / "results.json").exists()
