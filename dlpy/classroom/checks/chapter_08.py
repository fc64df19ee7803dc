"""Chapter 08 (intermediate activations): q1 an activation model (the teaching copy), q2 per-channel sparsity."""

from dlpy.classroom.checks import check


@check("q1")
def test_activation_model_outputs(activation_model_by_hand):
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Conv2D(4, 3, name="first"),
                              keras.layers.ReLU(name="relu"), keras.layers.Conv2D(2, 3, name="second")])
    activations = activation_model_by_hand(model, ["relu", "second"])
    assert isinstance(activations, keras.Model), f"return a keras.Model, not {type(activations).__name__}"
    outputs = activations(np.zeros((1, 10, 10, 3), "float32"))
    shapes = [tuple(np.shape(o)) for o in outputs]
    assert shapes == [(1, 8, 8, 4), (1, 6, 6, 2)], \
        f"activation_model_by_hand(model, ['relu', 'second']): outputs of shapes {shapes}; expected one per layer " \
        "asked for: [(1, 8, 8, 4), (1, 6, 6, 2)]"


@check("q1", hidden=True)
def test_activation_model_matches_dlpy(activation_model_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.viz.activations import layer_activations

    model = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Conv2D(4, 3, name="first"),
                              keras.layers.ReLU(name="relu"), keras.layers.Conv2D(2, 3, name="second")])
    image = np.random.default_rng(17).normal(size=(10, 10, 3)).astype("float32")
    ours = activation_model_by_hand(model, ["relu", "second"])(image[None])
    theirs = layer_activations(model, image, ["relu", "second"])
    for mine, name in zip(ours, ["relu", "second"]):
        expect_close(np.asarray(mine).reshape(theirs[name].shape), theirs[name],
                     f"activation_model_by_hand(model, ...): the {name!r} activation", tolerance=1e-5)


@check("q2")
def test_sparsity_small_example(channel_sparsity_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    activations = np.array([[[[0.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 3.0]]]])  # (1, 2, 2, 2)
    expect_close(channel_sparsity_by_hand(activations), [0.75, 0.5],
                 "channel_sparsity_by_hand(a (1, 2, 2, 2) map): the fraction of zeros in each channel")


@check("q2", hidden=True)
def test_sparsity_random_maps(channel_sparsity_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    activations = np.maximum(np.random.default_rng(7).normal(size=(3, 9, 9, 16)) - 0.5, 0)
    expected = (activations == 0).reshape(-1, 16).mean(axis=0)
    expect_close(channel_sparsity_by_hand(activations), expected, "channel_sparsity_by_hand(random ReLU maps)")


WRONG_ANSWERS = {
    "q1": "def activation_model_by_hand(model, layer_names):\n"
          "    return keras.Model(model.inputs, model.outputs)  # the last layer only, not the ones asked for\n",
    "q2": "def channel_sparsity_by_hand(activations):\n"
          "    return np.mean(activations == 0)  # one number for all channels\n",
}
