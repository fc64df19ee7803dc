"""Chapter 21 (DCGAN): q1 the Fréchet distance (the teaching copy), q2 the generator's loss."""

from dlpy.classroom.checks import check


@check("q1")
def test_frechet_distance_known_values(frechet_distance_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    features = np.random.default_rng(3).normal(size=(500, 4))
    expect_close(frechet_distance_by_hand(features, features), 0.0,
                 "frechet_distance_by_hand(A, A) (a set against itself)", tolerance=1e-4)
    shifted = features + np.array([3.0, 0.0, 0.0, 4.0])
    expect_close(frechet_distance_by_hand(features, shifted), 25.0,
                 "frechet_distance_by_hand(A, A + [3, 0, 0, 4]): a shift scores its squared length", tolerance=1e-4)


@check("q1", hidden=True)
def test_frechet_distance_matches_dlpy(frechet_distance_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.generative import quality

    rng = np.random.default_rng(4)
    a = rng.normal(size=(400, 6))
    b = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)) + 0.3
    expected = quality.FeatureStatistics.of(a).distance(quality.FeatureStatistics.of(b))
    expect_close(frechet_distance_by_hand(a, b), expected, "frechet_distance_by_hand(two random sets)", tolerance=1e-6)


@check("q2")
def test_generator_loss_known_value(generator_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    expect_close(generator_loss_by_hand(np.zeros(8)), np.log(2),
                 "generator_loss_by_hand(logits 0: the discriminator cannot tell) = log 2", tolerance=1e-5)


@check("q2", hidden=True)
def test_generator_loss_matches_keras(generator_loss_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    logits = np.random.default_rng(16).normal(0, 3, size=(64, 1)).astype("float32")
    reference = keras.losses.BinaryCrossentropy(from_logits=True)(np.ones_like(logits), logits)
    expect_close(generator_loss_by_hand(logits), float(reference),
                 "generator_loss_by_hand(64 random logits): the generator wants its fakes labelled real (1)",
                 tolerance=1e-4)


WRONG_ANSWERS = {
    "q1": "def frechet_distance_by_hand(features_a, features_b):\n"
          "    return np.sum((features_a.mean(axis=0) - features_b.mean(axis=0)) ** 2)  # the means only\n",
    "q2": "def generator_loss_by_hand(fake_logits):\n"
          "    return float(np.mean(np.log1p(np.exp(fake_logits))))  # label 0: D's loss\n",
}
