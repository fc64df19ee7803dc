"""Chapter 10 (Grad-CAM): q1 the Grad-CAM weighting (the teaching copy), q2 the top-k classes of a prediction."""

from dlpy.classroom.checks import check


@check("q1")
def test_grad_cam_small_example(grad_cam_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    activations = np.zeros((1, 2, 2, 2))
    activations[0, 0, 0, 0], activations[0, 1, 1, 1] = 1.0, 3.0
    gradients = np.zeros((1, 2, 2, 2))
    gradients[..., 0], gradients[..., 1] = 1.0, -1.0  # channel 0 is evidence for the class, channel 1 against
    expect_close(grad_cam_by_hand(activations, gradients), [[[1.0, 0.0], [0.0, 0.0]]],
                 "grad_cam_by_hand(a 2x2 example): mean gradients as channel weights, ReLU, scaled to a maximum of 1")


@check("q1", hidden=True)
def test_grad_cam_matches_dlpy(grad_cam_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.viz.gradcam import class_activation_maps

    rng = np.random.default_rng(5)
    activations = rng.uniform(0, 2, size=(4, 7, 7, 32)).astype("float32")
    gradients = rng.normal(size=(4, 7, 7, 32)).astype("float32")
    gradients[3] = -np.abs(gradients[3]) * (activations[3] > 0)  # only negative evidence: an all-zero map
    expect_close(grad_cam_by_hand(activations, gradients), class_activation_maps(activations, gradients)[0],
                 "grad_cam_by_hand(4 random maps, one with only negative evidence)", tolerance=1e-4)


@check("q2")
def test_top_k_small_example(top_k_classes_by_hand):
    import numpy as np

    got = top_k_classes_by_hand(np.array([[0.1, 0.5, 0.15, 0.25], [0.7, 0.1, 0.05, 0.15]]), 2)
    assert got is not None and np.asarray(got).tolist() == [[1, 3], [0, 3]], (
        f"top_k_classes_by_hand(2 predictions, k=2) returned {got!r}; expected [[1, 3], [0, 3]] "
        "(most probable first, one row per image)")


@check("q2", hidden=True)
def test_top_k_matches_tensorflow(top_k_classes_by_hand):
    import numpy as np
    import tensorflow as tf

    probabilities = np.random.default_rng(10).dirichlet(np.ones(1000), size=8).astype("float32")
    expected = tf.math.top_k(probabilities, k=5).indices.numpy()
    got = np.asarray(top_k_classes_by_hand(probabilities, 5))
    assert np.array_equal(got, expected), f"top_k_classes_by_hand(8 ImageNet predictions, 5): {got[0]} vs {expected[0]}"


WRONG_ANSWERS = {
    "q1": "def grad_cam_by_hand(activations, gradients):\n"
          "    weights = gradients.mean(axis=(1, 2), keepdims=True)\n"
          "    cam = np.abs((weights * activations).sum(axis=-1))  # abs keeps the evidence against the class\n"
          "    return cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)\n",
    "q2": "def top_k_classes_by_hand(probabilities, k):\n"
          "    return np.argsort(probabilities, axis=-1)[:, :k]  # the k LEAST probable\n",
}
