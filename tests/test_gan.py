"""Chapter 21: which weights each phase of the GAN step moves, the losses against NumPy, the
generator's range, label noise, the sample-grid callback and latent interpolation."""

import keras
import numpy as np
import pytest

from dlpy.generative import gan


def real_batch(count=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(count, 28, 28, 1)).astype("float32")


def snapshot(model):
    return [keras.ops.convert_to_numpy(w).copy() for w in model.weights]


def changed(before, model, trainable=None):
    """Per variable of ``model.weights`` (optionally only the trainable or only the other ones):
    did it change since ``before``?"""
    keep = [trainable is None or w.trainable == trainable for w in model.weights]
    return [not np.array_equal(b, keras.ops.convert_to_numpy(w))
            for b, w, k in zip(before, model.weights, keep) if k]


@pytest.fixture
def model():
    keras.utils.set_random_seed(0)
    dcgan = gan.build_gan(latent_dim=16, seed=0)
    dcgan.compile()
    return dcgan


def test_discriminator_phase_moves_only_the_discriminator(model):
    generator_before, discriminator_before = snapshot(model.generator), snapshot(model.discriminator)
    loss = float(model.discriminator_step(real_batch()))
    assert np.isfinite(loss)
    assert not any(changed(generator_before, model.generator, trainable=True))
    # the generator's only other variables are batch normalization's running averages
    assert all("moving" in w.path for w in model.generator.weights if not w.trainable)
    assert all(changed(discriminator_before, model.discriminator))
    assert int(model.d_optimizer.iterations) == 1 and int(model.g_optimizer.iterations) == 0


def test_generator_phase_moves_only_the_generator(model):
    generator_before, discriminator_before = snapshot(model.generator), snapshot(model.discriminator)
    loss = float(model.generator_step(8))
    assert np.isfinite(loss)
    assert all(changed(generator_before, model.generator, trainable=True))
    assert not any(changed(discriminator_before, model.discriminator))
    assert int(model.g_optimizer.iterations) == 1 and int(model.d_optimizer.iterations) == 0


def test_compiled_train_step_runs_both_phases_and_reports_finite_losses(model):
    logs = model.train_on_batch(real_batch(), return_dict=True)
    assert set(logs) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    assert int(model.d_optimizer.iterations) == 1 and int(model.g_optimizer.iterations) == 1
    # an untrained discriminator is near chance: each term near ln 2
    assert 0.3 < logs["d_loss"] < 1.5 and 0.3 < logs["g_loss"] < 1.5


def test_losses_match_numpy_binary_cross_entropy_with_logits():
    logits = np.array([[-3.0], [-0.2], [0.0], [1.5], [8.0]], "float32")
    targets = np.array([[0.0], [0.03], [1.0], [0.97], [1.0]], "float32")
    probabilities = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -np.mean(targets * np.log(probabilities) + (1 - targets) * np.log(1 - probabilities))
    assert np.isclose(float(gan._bce_with_logits(targets, logits)), expected, rtol=1e-5)
    # the generator's non-saturating loss: -mean log D(G(z)), large when D rejects the fakes
    non_saturating = float(gan._bce_with_logits(np.ones_like(logits), logits))
    assert np.isclose(non_saturating, -np.mean(np.log(probabilities)), rtol=1e-5)


def test_discriminator_targets_are_noisy_within_bounds():
    targets = keras.ops.convert_to_numpy(gan.discriminator_targets(500, 0.1, seed=1))[:, 0]
    real, fake = targets[:500], targets[500:]
    assert np.all((real >= 0.9) & (real <= 1.0)) and np.all((fake >= 0.0) & (fake <= 0.1))
    assert real.std() > 0.02 and fake.std() > 0.02  # uniform on a width of 0.1: std about 0.029
    exact = keras.ops.convert_to_numpy(gan.discriminator_targets(3, 0.0))[:, 0]
    assert np.array_equal(exact, [1, 1, 1, 0, 0, 0])


def test_generator_output_stays_in_tanh_range_even_when_saturated():
    generator = gan.build_generator(latent_dim=8)
    z = np.random.default_rng(0).standard_normal((16, 8)).astype("float32") * 100.0
    images = keras.ops.convert_to_numpy(generator(z))
    assert images.shape == (16, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert np.abs(images).max() > 0.99  # huge inputs saturate tanh: the bound is reached, not just respected
    shown = gan.generate(generator, z[:2])
    assert shown.min() >= 0.0 and shown.max() <= 1.0


def test_tanh_range_round_trip():
    images = np.array([[[0, 255], [128, 64]]], np.uint8)
    scaled = gan.to_tanh_range(images)
    assert scaled.shape == (1, 2, 2, 1) and scaled.min() == -1.0 and scaled.max() == 1.0
    assert np.allclose(gan.from_tanh_range(scaled)[..., 0] * 255, images)


def test_wrong_image_shape_gives_a_clear_error(model):
    with pytest.raises(ValueError, match="built for 28x28 images, got 32x32"):
        model.train_on_batch(np.zeros((4, 32, 32, 1), "float32"))
    with pytest.raises(ValueError, match="1 channel"):
        model.discriminator_step(np.zeros((4, 28, 28, 3), "float32"))


def test_mismatched_networks_and_bad_settings_are_refused():
    with pytest.raises(ValueError, match="generator makes images of shape"):
        gan.GAN(gan.build_generator(8, (28, 28, 1)), gan.build_discriminator((32, 32, 1)))
    with pytest.raises(ValueError, match="label_noise"):
        gan.GAN(gan.build_generator(8), gan.build_discriminator(), label_noise=0.7)
    with pytest.raises(ValueError, match="latent points of shape"):
        gan.generate(gan.build_generator(8), np.zeros((2, 5)))


def test_sample_grid_callback_keeps_and_saves_a_grid_per_epoch(model, tmp_path):
    points = np.random.default_rng(3).standard_normal((16, 16)).astype("float32")
    untrained = gan.generate(model.generator, points)
    callback = gan.SampleGrid(points, directory=tmp_path, columns=8)
    history = model.fit(real_batch(16), batch_size=8, epochs=2, verbose=0, callbacks=[callback])
    assert callback.epochs == [0, 1, 2]
    assert [p.name for p in sorted(tmp_path.glob("*.png"))] == ["epoch_000.png", "epoch_001.png", "epoch_002.png"]
    assert callback.grids[0].shape == (56, 224)
    assert np.allclose(callback.grids[0][28:56, 28:56], untrained[9, ..., 0], atol=1e-6)
    assert not np.allclose(callback.grids[0], callback.grids[-1])
    assert len(history.history["d_loss"]) == len(history.history["g_loss"]) == 2


def test_spherical_interpolation_keeps_the_norm_and_hits_both_ends():
    a = np.array([3.0, 0.0, 0.0, 4.0])
    b = np.array([0.0, 5.0, 0.0, 0.0])
    path = gan.interpolate_latents(a, b, steps=5)
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.linalg.norm(path, axis=1), 5.0, atol=1e-5)
    linear = gan.interpolate_latents(a, b, steps=3, spherical=False)
    assert np.allclose(linear[1], (a + b) / 2)


def test_pixel_classifier_and_class_latent_means():
    # two "classes": dark and bright images; a fake generator whose brightness follows z[0]
    images = np.concatenate([np.zeros((20, 28, 28), np.uint8), np.full((20, 28, 28), 255, np.uint8)])
    labels = np.array([0] * 20 + [1] * 20)
    classify = gan.pixel_classifier(images, labels, neighbors=3)
    inputs = keras.Input((4,))
    brightness = keras.layers.Lambda(lambda z: keras.ops.tanh(10.0 * z[:, :1]))(inputs)
    outputs = keras.layers.Reshape((28, 28, 1))(keras.layers.RepeatVector(784)(brightness))
    fake_generator = keras.Model(inputs, outputs)
    means, counts = gan.class_latent_means(fake_generator, classify, count=400, seed=0)
    assert set(means) == {0, 1} and sum(counts.values()) == 400
    assert means[1][0] > 0.5 and means[0][0] < -0.5  # bright images come from positive z[0]
    assert abs(means[1][1]) < 0.3  # the other coordinates do not matter


def test_rescale_to_prior_norm_keeps_direction_and_sets_the_typical_norm():
    z = np.array([[0.3, 0.4, 0.0, 0.0], [0.0, 0.0, -2.0, 0.0]])
    scaled = gan.rescale_to_prior_norm(z)
    assert np.allclose(np.linalg.norm(scaled, axis=1), 2.0)  # sqrt(4)
    assert np.allclose(scaled[0] / np.linalg.norm(scaled[0]), [0.6, 0.8, 0, 0])


def test_gan_trains_under_mixed_bfloat16_with_float32_images_and_losses():
    from dlpy.generative.gan import build_gan
    from dlpy.practices.precision import dtype_policy

    with dtype_policy("mixed_bfloat16"):
        model = build_gan(latent_dim=8, seed=0, generator_filters=(8, 4), discriminator_filters=(4, 8))
    model.compile()
    history = model.fit(np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32"), batch_size=8,
                        epochs=1, verbose=0)
    assert model.generator.layers[1].compute_dtype == "bfloat16"
    assert model.generator.output.dtype == "float32" and model.discriminator.output.dtype == "float32"
    assert np.isfinite(history.history["d_loss"][0]) and np.isfinite(history.history["g_loss"][0])
