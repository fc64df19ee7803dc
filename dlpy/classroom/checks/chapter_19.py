"""Chapter 19 (style transfer): q1 the Gram matrix and the three losses (the teaching copy), q2 undoing VGG19's
preprocessing."""

from dlpy.classroom.checks import check


@check("q1")
def test_gram_and_losses_small_example(gram_matrix_by_hand, content_loss_by_hand, style_loss_by_hand,
                                       total_variation_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    features = np.array([[[1.0, 0.0], [1.0, 2.0]]])  # 2 positions, 2 channels
    expect_close(gram_matrix_by_hand(features), [[1.0, 1.0], [1.0, 2.0]],
                 "gram_matrix_by_hand(a 1x2x2 map): channel products averaged over the 2 positions")
    expect_close(content_loss_by_hand(np.zeros((1, 2, 2)), features), 1.5, "content_loss_by_hand(zeros, that map)")
    expect_close(style_loss_by_hand(np.zeros((2, 2)), features), 7 / 16, "style_loss_by_hand(zero Gram, that map)")
    image = np.zeros((3, 3, 1))
    image[1, 1] = 1.0
    expect_close(total_variation_loss_by_hand(image, exponent=1.0), 1.0,
                 "total_variation_loss_by_hand(one bright pixel, exponent 1)")


@check("q1", hidden=True)
def test_gram_and_losses_match_dlpy(gram_matrix_by_hand, content_loss_by_hand, style_loss_by_hand,
                                    total_variation_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.generative import style_transfer

    rng = np.random.default_rng(1)
    features, target = rng.normal(size=(2, 9, 14, 6)).astype("float32")
    image = rng.uniform(0, 255, size=(9, 14, 3)).astype("float32")
    gram = gram_matrix_by_hand(target)
    expect_close(gram_matrix_by_hand(features), style_transfer.gram_matrix(features), "gram_matrix_by_hand", 1e-5)
    expect_close(content_loss_by_hand(target, features), style_transfer.content_loss(target, features),
                 "content_loss_by_hand", 1e-5)
    expect_close(style_loss_by_hand(gram, features), style_transfer.style_loss(gram, features),
                 "style_loss_by_hand", 1e-5)
    expect_close(total_variation_loss_by_hand(image), style_transfer.total_variation_loss(image),
                 "total_variation_loss_by_hand", 1e-4)


@check("q2")
def test_deprocess_one_pixel(deprocess_vgg19_by_hand):
    import numpy as np

    pixel = np.array([[[-103.939, -116.779, 131.32]]])  # BGR, mean removed: pure red
    got = deprocess_vgg19_by_hand(pixel)
    assert got is not None and np.asarray(got).tolist() == [[[255, 0, 0]]], (
        f"deprocess_vgg19_by_hand(the preprocessed red pixel) returned {got!r}; expected [[[255, 0, 0]]]: add the "
        "ImageNet mean back, flip BGR to RGB, clip to 0..255")
    assert np.asarray(got).dtype == np.uint8, f"return uint8 pixels, not {np.asarray(got).dtype}"


@check("q2", hidden=True)
def test_deprocess_inverts_keras_preprocessing(deprocess_vgg19_by_hand):
    import keras
    import numpy as np

    images = np.random.default_rng(14).integers(0, 256, (6, 5, 3)).astype("float32")
    restored = np.asarray(deprocess_vgg19_by_hand(keras.applications.vgg19.preprocess_input(images.copy())))
    assert np.array_equal(restored, images.astype("uint8")), "deprocess_vgg19_by_hand(preprocess_input(image)) " \
                                                              "does not give the image back"


WRONG_ANSWERS = {
    "q1": "def gram_matrix_by_hand(features):\n"
          "    flat = features.reshape(-1, features.shape[-1])\n"
          "    return flat @ flat.T / len(flat)  # positions x positions, not channels x channels\n\n\n"
          "def content_loss_by_hand(target_features, features):\n"
          "    return np.mean((features - target_features) ** 2)\n\n\n"
          "def style_loss_by_hand(target_gram, features):\n"
          "    return np.mean((gram_matrix_by_hand(features) - target_gram) ** 2) / 4\n\n\n"
          "def total_variation_loss_by_hand(image, exponent=1.25):\n"
          "    down = (image[:-1, :-1] - image[1:, :-1]) ** 2\n"
          "    right = (image[:-1, :-1] - image[:-1, 1:]) ** 2\n"
          "    return np.mean((down + right) ** exponent)\n",
    "q2": "def deprocess_vgg19_by_hand(x):\n"
          "    return np.clip(x + np.array([103.939, 116.779, 123.68]), 0, 255).astype('uint8')  # still BGR\n",
}
