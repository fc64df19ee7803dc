"""Chapter 07 (pretrained convnet): q1 feature extraction (the teaching copy), q2 VGG16's preprocessing."""

from dlpy.classroom.checks import check


@check("q1")
def test_feature_extraction_shapes_and_labels(extract_features_by_hand):
    from types import SimpleNamespace

    import keras
    import numpy as np
    import tensorflow as tf

    base = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Conv2D(2, 3)])
    backbone = SimpleNamespace(model=base, preprocess=lambda images: images / 255.0)
    data = tf.data.Dataset.from_tensor_slices((np.zeros((5, 6, 6, 3), "float32"), np.arange(5))).batch(2)
    result = extract_features_by_hand(backbone, data)
    assert isinstance(result, tuple) and len(result) == 2, "return (features, labels)"
    features, labels = result
    assert np.shape(features) == (5, 4, 4, 2), f"features have shape {np.shape(features)}; expected (5, 4, 4, 2): " \
                                               "one feature map per image, all batches concatenated"
    assert np.asarray(labels).tolist() == [0, 1, 2, 3, 4], f"labels {labels}: keep them in the dataset's order"


@check("q1", hidden=True)
def test_feature_extraction_matches_dlpy(extract_features_by_hand):
    from types import SimpleNamespace

    import keras
    import numpy as np
    import tensorflow as tf

    from dlpy.models.convnets import extract_features

    inputs = keras.Input((12, 12, 3))
    x = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3)(inputs))
    base = keras.Model(inputs, keras.layers.ReLU()(x))
    base.layers[2].set_weights([np.full(4, w, "float32") for w in (1.5, 0.2, 0.1, 2.0)])
    backbone = SimpleNamespace(model=base, preprocess=lambda images: images / 127.5 - 1.0)
    rng = np.random.default_rng(16)
    data = tf.data.Dataset.from_tensor_slices((rng.uniform(0, 255, (10, 12, 12, 3)).astype("float32"),
                                               rng.integers(0, 2, 10))).batch(4)
    ours, our_labels = extract_features_by_hand(backbone, data)
    theirs, their_labels = extract_features(backbone, data)
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-5 * np.abs(theirs).max()), \
        "extract_features_by_hand(backbone, dataset): the features differ from dlpy's extract_features " \
        "(did you apply backbone.preprocess first?)"
    assert np.array_equal(our_labels, their_labels), \
        "extract_features_by_hand: the labels are not the dataset's, in order"


@check("q2")
def test_vgg_preprocessing_one_pixel(vgg16_preprocess_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    pixel = np.array([[[[255.0, 0.0, 0.0]]]])  # pure red, RGB
    expect_close(vgg16_preprocess_by_hand(pixel), [[[[-103.939, -116.779, 131.32]]]],
                 "vgg16_preprocess_by_hand(one red pixel): channels flipped to BGR, then the ImageNet mean subtracted",
                 tolerance=1e-4)


@check("q2", hidden=True)
def test_vgg_preprocessing_matches_keras(vgg16_preprocess_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    images = np.random.default_rng(6).uniform(0, 255, (3, 5, 5, 3)).astype("float32")
    expect_close(vgg16_preprocess_by_hand(images.copy()), keras.applications.vgg16.preprocess_input(images.copy()),
                 "vgg16_preprocess_by_hand(3 random images)", tolerance=1e-5)


WRONG_ANSWERS = {
    "q1": "def extract_features_by_hand(backbone, dataset):\n"
          "    features, labels = [], []\n"
          "    for images, batch_labels in dataset:\n"
          "        features.append(backbone.model.predict(images, verbose=0))  # skips the preprocessing\n"
          "        labels.append(np.asarray(batch_labels))\n"
          "    return np.concatenate(features), np.concatenate(labels)\n",
    "q2": "def vgg16_preprocess_by_hand(images):\n"
          "    return images - np.array([103.939, 116.779, 123.68])  # RGB kept: means on the wrong channels\n",
}
