"""Chapter 09 (filter visualization): q1 one normalized gradient-ascent step (the teaching copy), q2 the
display transform of an ascent result."""

from dlpy.classroom.checks import check


@check("q1")
def test_ascent_step_linear_objective(ascent_step_by_hand):
    import numpy as np
    import tensorflow as tf

    from dlpy.classroom.checks import expect_close

    weights = np.random.default_rng(8).normal(size=(1, 4, 4, 3)).astype("float32")
    objective = lambda images: tf.reduce_sum(images * weights, axis=(1, 2, 3))  # its gradient is `weights`
    start = tf.zeros((1, 4, 4, 3))
    expected = 0.5 * weights / np.sqrt(np.mean(weights ** 2))
    expect_close(ascent_step_by_hand(start, objective, step_size=0.5), expected,
                 "ascent_step_by_hand(zeros, a linear objective, step_size=0.5): the gradient divided by its RMS",
                 tolerance=1e-4)


@check("q1", hidden=True)
def test_ascent_step_matches_dlpy(ascent_step_by_hand):
    import keras
    import tensorflow as tf

    from dlpy.classroom.checks import expect_close
    from dlpy.viz.filters import GradientAscent

    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(6, 3, activation="relu", name="conv")])
    ascent = GradientAscent.for_filters(model, "conv", image_size=(16, 16), step_size=2.0)
    start, units = tf.constant(ascent.initial_images(3, seed=1)), tf.constant([0, 2, 5])
    ours = ascent_step_by_hand(start, lambda images: ascent.objective(images, units), step_size=2.0)
    theirs, _ = ascent.eager_step(start, units, tf.constant(False))
    expect_close(ours, theirs, "ascent_step_by_hand(3 images, 3 filters)", tolerance=1e-5)


@check("q2")
def test_display_small_example(for_display_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    image = np.array([[[-1.0], [1.0]], [[-1.0], [1.0]]])  # mean 0, standard deviation 1
    expect_close(for_display_by_hand(image), [[[0.35], [0.65]], [[0.35], [0.65]]],
                 "for_display_by_hand(an image of mean 0 and std 1): 0.5 + 0.15 * standardized value", tolerance=1e-4)


@check("q2", hidden=True)
def test_display_matches_dlpy(for_display_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.viz.filters import standardize_for_display

    image = np.random.default_rng(9).normal(3, 20, size=(12, 12, 3)).astype("float32")
    expect_close(for_display_by_hand(image), standardize_for_display(image), "for_display_by_hand(a random image)",
                 tolerance=1e-4)


WRONG_ANSWERS = {
    "q1": "def ascent_step_by_hand(images, objective, step_size=1.0):\n"
          "    with tf.GradientTape() as tape:\n"
          "        tape.watch(images)\n"
          "        total = tf.reduce_sum(objective(images))\n"
          "    return images + step_size * tape.gradient(total, images)  # not normalized\n",
    "q2": "def for_display_by_hand(image):\n"
          "    return (image - image.min()) / (image.max() - image.min())  # min-max, not the book's standardization\n",
}
