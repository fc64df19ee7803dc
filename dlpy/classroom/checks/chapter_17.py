"""Chapter 17 (text generation): q1 temperature reweighting (the teaching copy), q2 perplexity."""

from dlpy.classroom.checks import check


@check("q1")
def test_reweight_known_values(reweight_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    probabilities = np.array([0.5, 0.25, 0.25])
    expect_close(reweight_by_hand(probabilities, 1.0), probabilities, "reweight_by_hand(p, temperature=1)")
    expect_close(reweight_by_hand(probabilities, 0.5), [2 / 3, 1 / 6, 1 / 6],
                 "reweight_by_hand([0.5, 0.25, 0.25], temperature=0.5): p ** 2, renormalized")


@check("q1", hidden=True)
def test_reweight_matches_dlpy(reweight_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.generative.text_generation import reweight_distribution

    probabilities = np.random.default_rng(0).dirichlet(np.ones(57))
    for temperature in (0.2, 0.5, 1.0, 1.7):
        expect_close(reweight_by_hand(probabilities, temperature), reweight_distribution(probabilities, temperature),
                     f"reweight_by_hand(57 characters, temperature={temperature})", tolerance=1e-5)


@check("q2")
def test_perplexity_uniform(perplexity_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    expect_close(perplexity_by_hand(np.full((5, 4), 0.25), np.array([0, 1, 2, 3, 0])), 4.0,
                 "perplexity_by_hand(uniform over 4 characters, 5 targets): a uniform guess has perplexity 4",
                 tolerance=1e-6)


@check("q2", hidden=True)
def test_perplexity_matches_keras_crossentropy(perplexity_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(13)
    probabilities, targets = rng.dirichlet(np.ones(57), size=100).astype("float32"), rng.integers(0, 57, 100)
    reference = np.exp(np.mean(keras.losses.sparse_categorical_crossentropy(targets, probabilities)))
    expect_close(perplexity_by_hand(probabilities, targets), reference, "perplexity_by_hand(100 random predictions)",
                 tolerance=1e-4)


WRONG_ANSWERS = {
    "q1": "def reweight_by_hand(probabilities, temperature):\n"
          "    weights = probabilities * temperature  # scales, but every p is scaled alike: nothing changes shape\n"
          "    return weights / weights.sum()\n",
    "q2": "def perplexity_by_hand(probabilities, targets):\n"
          "    return float(np.mean(-np.log(probabilities[np.arange(len(targets)), targets])))  # not exp\n",
}
