"""Chapter 16 (dlpy.practices): ensemble weights chosen on validation data against a brute-force
search over the simplex, the log loss against scikit-learn; the mixed-precision helpers."""

import itertools

import numpy as np
import pytest

from dlpy.practices.ensembles import ensemble_weights, log_loss, weighted_average


def members(rng, n=400, classes=3):
    labels = rng.integers(0, classes, n)
    truth = np.eye(classes)[labels]
    noisy = [0.6 * truth + 0.4 * rng.dirichlet(np.ones(classes), n),  # good
             0.3 * truth + 0.7 * rng.dirichlet(np.ones(classes), n),  # weaker, different errors
             rng.dirichlet(np.ones(classes), n)]                      # useless
    return np.array(noisy), labels


def test_log_loss_matches_scikit_learn(rng):
    from sklearn.metrics import log_loss as sklearn_log_loss

    probabilities, labels = members(rng)
    assert log_loss(probabilities[0], labels) == pytest.approx(sklearn_log_loss(labels, probabilities[0]), rel=1e-9)
    binary = rng.random(50)
    binary_labels = rng.integers(0, 2, 50)
    assert log_loss(binary, binary_labels) == pytest.approx(sklearn_log_loss(binary_labels, binary), rel=1e-9)


def test_weights_match_a_brute_force_search_over_the_simplex(rng):
    probabilities, labels = members(rng)
    weights = ensemble_weights(probabilities, labels)
    grid = [w for w in itertools.product(np.linspace(0, 1, 101), repeat=2) if sum(w) <= 1 + 1e-9]
    candidates = [(a, b, 1 - a - b) for a, b in grid]
    brute = min(candidates, key=lambda w: log_loss(weighted_average(probabilities, w), labels))
    assert weights.sum() == pytest.approx(1.0) and (weights >= 0).all()
    assert np.abs(weights - brute).max() < 0.02
    assert log_loss(weighted_average(probabilities, weights), labels) <= \
        log_loss(weighted_average(probabilities, brute), labels) + 1e-6
    assert weights[2] < 0.05  # the useless member gets (almost) nothing


def test_bad_inputs_say_what_is_wrong(rng):
    probabilities, labels = members(rng)
    with pytest.raises(ValueError, match="one weight per member"):
        weighted_average(probabilities, [0.5, 0.5])
    with pytest.raises(ValueError, match="at least two members"):
        ensemble_weights(probabilities[:1], labels)


def test_mixed_precision_policy_follows_the_hardware():
    from dlpy.practices.precision import cpu_bfloat16_flags, recommended_policy

    amx = "processor : 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n"
    plain = "processor : 0\nflags\t\t: fpu sse2 avx2\n"
    assert cpu_bfloat16_flags(amx) == ["amx_bf16"] and cpu_bfloat16_flags(plain) == []
    assert recommended_policy([], amx)[0] == "mixed_bfloat16"
    policy, reason = recommended_policy([], plain)
    assert policy is None and "gains nothing" in reason
    assert recommended_policy([(8, 0), (9, 0)], plain)[0] == "mixed_float16"
    policy, reason = recommended_policy([(6, 1)], amx)
    assert policy is None and "below 7.0" in reason


def test_dtype_policy_applies_inside_and_restores_after():
    import keras

    from dlpy.practices.precision import dtype_policy

    before = keras.config.dtype_policy().name
    with dtype_policy("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
    assert keras.config.dtype_policy().name == before


def test_training_speed_is_measured_and_bad_steps_refused():
    import keras

    from dlpy.practices.precision import training_steps_per_second

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    before = model.get_weights()[0].copy()
    assert training_steps_per_second(model, x, y, steps=3) > 0
    assert not np.allclose(before, model.get_weights()[0])  # it trained
    with pytest.raises(ValueError, match="steps must be at least 1"):
        training_steps_per_second(model, x, y, steps=0)


def test_log_loss_refuses_mismatched_labels_and_reads_a_column_of_probabilities(rng):
    with pytest.raises(ValueError, match="one row of probabilities per label"):
        log_loss(np.full((3, 2), 0.5), [0, 1])
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 2\)"):
        log_loss(np.full((2, 2), 0.5), [0, 2])
    p = rng.uniform(0.1, 0.9, 5)
    labels = rng.integers(0, 2, 5)
    assert log_loss(p[:, None], labels) == pytest.approx(log_loss(p, labels))


def test_an_unknown_gpu_capability_is_not_called_old():
    from dlpy.practices.precision import recommended_policy

    policy, reason = recommended_policy([None], "")
    assert policy is None and "does not report" in reason
