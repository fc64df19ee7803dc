"""dlpy.models.introspection: layer lookup by name and dotted path, and feature models through nested models."""

import keras
import numpy as np
import pytest

from dlpy.models.introspection import feature_model, find_layer, layer_paths, resolve_path


def small_base(name="base"):
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv_a")(inputs)
    x = keras.layers.Conv2D(5, 3, activation="relu", name="conv_b")(x)
    return keras.Model(inputs, x, name=name)


def functional_model():
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv_a")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="dense")(x), name="functional")


def sequential_model():
    return keras.Sequential([
        keras.Input((12, 12, 3)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv_a"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(3, name="dense"),
    ], name="sequential")


def nested_model():
    """A pretrained-style base (with a dot in its name, like "mobilenet_0.75_224") inside a classifier."""
    base = small_base("base_0.5_12")
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    x = base(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(x), name="classifier")


def nested_sequential_model():
    return keras.Sequential([keras.Input((12, 12, 3)), small_base("inner"),
                             keras.layers.GlobalAveragePooling2D(name="gap"),
                             keras.layers.Dense(2, name="head")], name="outer")


@pytest.mark.parametrize("build", [functional_model, sequential_model])
def test_find_layer_by_name(build):
    model = build()
    assert find_layer(model, "conv_a") is model.get_layer("conv_a")
    assert find_layer(model, "dense") is model.get_layer("dense")


def test_dotted_path_through_a_nested_model_with_dots_in_its_name():
    model = nested_model()
    base = model.get_layer("base_0.5_12")
    assert find_layer(model, "base_0.5_12.conv_b") is base.get_layer("conv_b")
    assert [layer.name for layer in resolve_path(model, "base_0.5_12.conv_a")] == ["base_0.5_12", "conv_a"]
    assert find_layer(model, "base_0.5_12") is base
    # A bare name that lives only in the nested model is found there (it is unique).
    assert find_layer(model, "conv_b") is base.get_layer("conv_b")


def test_dotted_path_in_nested_sequential():
    model = nested_sequential_model()
    assert find_layer(model, "inner.conv_a") is model.get_layer("inner").get_layer("conv_a")


def test_layer_paths_lists_nested_layers_in_order():
    paths = layer_paths(nested_model())
    assert paths.index("rescale") < paths.index("base_0.5_12") < paths.index("base_0.5_12.conv_a")
    assert "base_0.5_12.conv_a" in paths and "base_0.5_12.conv_b" in paths
    assert paths.index("base_0.5_12.conv_a") < paths.index("base_0.5_12.conv_b") < paths.index("gap")


def test_unknown_layer_error_lists_the_available_layers():
    model = nested_model()
    with pytest.raises(ValueError) as error:
        find_layer(model, "conv_z")
    message = str(error.value)
    assert "conv_z" in message
    for name in ("rescale", "gap", "head", "base_0.5_12.conv_a"):
        assert name in message
    with pytest.raises(ValueError, match="base_0.5_12.conv_b"):
        find_layer(model, "base_0.5_12.nope")


def test_ambiguous_bare_name_asks_for_a_path():
    base_1, base_2 = small_base("one"), small_base("two")
    inputs = keras.Input((12, 12, 3))
    model = keras.Model(inputs, [base_1(inputs), base_2(inputs)])
    with pytest.raises(ValueError, match="ambiguous"):
        find_layer(model, "conv_a")


def test_bad_address_type():
    with pytest.raises(TypeError):
        find_layer(functional_model(), 3)


def reference_nested_outputs(model, x):
    """The nested model's intermediate outputs computed by hand, layer by layer."""
    base = model.get_layer("base_0.5_12")
    h = model.get_layer("rescale")(x)
    a = base.get_layer("conv_a")(h)
    b = base.get_layer("conv_b")(a)
    out = model.get_layer("head")(model.get_layer("gap")(b))
    return [keras.ops.convert_to_numpy(t) for t in (a, b, out)]


def test_feature_model_matches_a_hand_built_reference_through_nesting():
    model = nested_model()
    x = np.random.default_rng(0).uniform(0, 255, (2, 12, 12, 3)).astype("float32")
    a, b, out = reference_nested_outputs(model, x)
    extractor = feature_model(model, ["base_0.5_12.conv_a", "base_0.5_12.conv_b"], include_output=True)
    got = [keras.ops.convert_to_numpy(t) for t in extractor(x)]
    np.testing.assert_allclose(got[0], a, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[2], out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[2], keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build", [functional_model, sequential_model])
def test_feature_model_single_layer_equals_the_layer_applied_by_hand(build):
    model = build()
    x = np.random.default_rng(1).normal(size=(3, 12, 12, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(model.get_layer("conv_a")(x))
    got = keras.ops.convert_to_numpy(feature_model(model, "conv_a")(x))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_feature_model_in_nested_sequential():
    model = nested_sequential_model()
    x = np.random.default_rng(2).normal(size=(2, 12, 12, 3)).astype("float32")
    inner = model.get_layer("inner")
    expected = keras.ops.convert_to_numpy(inner.get_layer("conv_a")(x))
    features, output = feature_model(model, "inner.conv_a", include_output=True)(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(features), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(output), keras.ops.convert_to_numpy(model(x)),
                               rtol=1e-5, atol=1e-5)


def test_feature_model_needs_a_layer():
    with pytest.raises(ValueError):
        feature_model(functional_model(), [])


def test_feature_model_of_a_nested_model_and_a_layer_inside_it():
    model = nested_model()
    x = np.random.default_rng(3).uniform(0, 255, (2, 12, 12, 3)).astype("float32")
    a, b, _ = reference_nested_outputs(model, x)
    got = feature_model(model, ["base_0.5_12.conv_a", "base_0.5_12"])(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got[0]), a, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got[1]), b, rtol=1e-5, atol=1e-5)
