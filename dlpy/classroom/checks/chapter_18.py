"""Chapter 18 (DeepDream): q1 the DeepDream loss (the teaching copy), q2 the octave sizes."""

from dlpy.classroom.checks import check


@check("q1")
def test_dream_loss_known_value(dream_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    activation = np.zeros((1, 6, 6, 1))
    activation[0, 2:4, 2:4, 0] = 2.0  # the inner 2x2 of 6x6, border 2 removed: mean of 4 squares = 4
    activation[0, 0, 0, 0] = 100.0    # on the border: ignored
    expect_close(dream_loss_by_hand([activation], [0.5]), 2.0,
                 "dream_loss_by_hand(one 6x6 map, weight 0.5): weight * mean of the squared inner activations")


@check("q1", hidden=True)
def test_dream_loss_matches_dlpy(dream_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.generative.deepdream import dream_loss

    rng = np.random.default_rng(6)
    activations = [rng.normal(size=(1, 11, 13, 5)).astype("float32"), rng.normal(size=(1, 8, 8, 3)).astype("float32")]
    expect_close(dream_loss_by_hand(activations, [0.7, 1.9]), dream_loss(activations, [0.7, 1.9]),
                 "dream_loss_by_hand(two random layers)", tolerance=1e-5)


@check("q2")
def test_octaves_small_example(octave_shapes_by_hand):
    got = octave_shapes_by_hand((100, 200), 3, 2.0)
    assert got is not None and [tuple(s) for s in got] == [(25, 50), (50, 100), (100, 200)], (
        f"octave_shapes_by_hand((100, 200), 3, 2.0) returned {got!r}; expected [(25, 50), (50, 100), (100, 200)] "
        "(smallest first, the original size last)")


@check("q2", hidden=True)
def test_octaves_match_dlpy(octave_shapes_by_hand):
    from dlpy.generative.deepdream import octave_shapes

    for shape, octaves, scale in (((350, 525), 3, 1.4), ((224, 224), 4, 1.3), ((97, 61), 2, 1.5)):
        got = [tuple(s) for s in octave_shapes_by_hand(shape, octaves, scale)]
        expected = octave_shapes(shape, octaves, scale)
        assert got == expected, \
            f"octave_shapes_by_hand({shape}, {octaves}, {scale}) returned {got}; expected {expected}"


WRONG_ANSWERS = {
    "q1": "def dream_loss_by_hand(activations, weights, border=2):\n"
          "    return sum(w * np.mean(a ** 2) for a, w in zip(activations, weights))  # keeps the border\n",
    "q2": "def octave_shapes_by_hand(shape, octaves, scale):\n"
          "    return [(int(shape[0] / scale ** i), int(shape[1] / scale ** i)) for i in range(octaves)]  # reversed\n",
}
