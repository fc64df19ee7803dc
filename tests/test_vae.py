"""Chapter 20: the sampling layer, the two loss terms against NumPy references, one training step,
bad input, the latent-space helpers and the Fashion-MNIST loader."""

import gzip

import keras
import numpy as np
import pytest

from dlpy.data import DataNotAvailableError, fashion_mnist
from dlpy.generative import vae


def small_images(count=16, seed=0):
    """Binary blobs: a bright square at a random place on a dark 28x28 canvas."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 28, 28, 1), "float32")
    for image in images:
        row, col = rng.integers(0, 20, size=2)
        image[row:row + 8, col:col + 8] = 1.0
    return images


# --------------------------------------------------------------------------------------- sampling
def test_sampling_matches_mean_and_variance_over_many_draws():
    z_mean = np.array([[0.5, -2.0, 3.0], [0.0, 1.0, -0.5]], "float32")
    z_log_var = np.array([[0.0, np.log(4.0), np.log(0.01)], [np.log(9.0), -1.0, 2.0]], "float32")
    draws = 40_000
    layer = vae.Sampling(seed=7)
    z = keras.ops.convert_to_numpy(layer([np.repeat(z_mean, draws, 0), np.repeat(z_log_var, draws, 0)]))
    z = z.reshape(2, draws, 3)
    variance = np.exp(z_log_var)
    standard_error = np.sqrt(variance / draws)
    assert np.all(np.abs(z.mean(axis=1) - z_mean) < 5 * standard_error)
    # the sample variance of a Gaussian has relative standard error sqrt(2 / n), about 0.7% here
    assert np.allclose(z.var(axis=1), variance, rtol=0.05)


def test_sampling_is_reproducible_with_a_seed_and_random_across_calls():
    inputs = [np.zeros((4, 2), "float32"), np.zeros((4, 2), "float32")]
    a, b = vae.Sampling(seed=3), vae.Sampling(seed=3)
    first = keras.ops.convert_to_numpy(a(inputs))
    assert np.array_equal(first, keras.ops.convert_to_numpy(b(inputs)))
    assert not np.array_equal(first, keras.ops.convert_to_numpy(a(inputs)))


# --------------------------------------------------------------------------------------- the loss
def numpy_kl(mean, log_var):
    return 0.5 * np.sum(np.exp(log_var) + mean ** 2 - 1.0 - log_var, axis=-1)


def test_kl_matches_the_closed_form():
    rng = np.random.default_rng(1)
    mean = rng.normal(size=(5, 4)).astype("float32")
    log_var = rng.normal(size=(5, 4)).astype("float32")
    got = keras.ops.convert_to_numpy(vae.kl_divergence(mean, log_var))
    assert got.shape == (5,)
    assert np.allclose(got, numpy_kl(mean, log_var), rtol=1e-5)
    assert np.allclose(keras.ops.convert_to_numpy(vae.kl_divergence(np.zeros((2, 3)), np.zeros((2, 3)))), 0.0)


@pytest.mark.parametrize("mean, std", [(0.7, 0.5), (-1.5, 2.0), (0.0, 1.0)])
def test_closed_form_kl_agrees_with_numerical_integration(mean, std):
    """The reference itself: KL(q || p) = integral of q log(q / p) for one dimension."""
    x = np.linspace(mean - 12 * std, mean + 12 * std, 200_001)
    q = np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))
    log_q = -0.5 * ((x - mean) / std) ** 2 - np.log(std * np.sqrt(2 * np.pi))
    log_p = -0.5 * x ** 2 - 0.5 * np.log(2 * np.pi)
    integral = np.trapezoid(q * (log_q - log_p), x)
    assert np.isclose(numpy_kl(np.array([mean]), np.array([2 * np.log(std)])), integral, rtol=1e-6, atol=1e-9)


def test_reconstruction_loss_is_binary_cross_entropy_summed_over_pixels():
    rng = np.random.default_rng(2)
    images = rng.uniform(size=(3, 4, 4, 1)).astype("float32")
    probabilities = rng.uniform(0.05, 0.95, size=(3, 4, 4, 1)).astype("float32")
    expected = -np.sum(images * np.log(probabilities) + (1 - images) * np.log(1 - probabilities), axis=(1, 2, 3))
    got = keras.ops.convert_to_numpy(vae.reconstruction_loss(images, probabilities))
    assert np.allclose(got, expected, rtol=1e-5)


# --------------------------------------------------------------------------------------- the model
def fixed_noise_loss(model, images, epsilon):
    z_mean, z_log_var = model.encoder(images)
    reconstructions = model.decoder(z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon)
    return float(keras.ops.mean(vae.reconstruction_loss(images, reconstructions))
                 + keras.ops.mean(vae.kl_divergence(z_mean, z_log_var)))


def test_one_training_step_reduces_the_loss_and_reports_both_terms():
    keras.utils.set_random_seed(0)
    model = vae.build_vae(latent_dim=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    images = small_images(16)
    epsilon = np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    before = fixed_noise_loss(model, images, epsilon)
    logs = model.train_on_batch(images, return_dict=True)
    after = fixed_noise_loss(model, images, epsilon)
    assert after < before
    assert set(logs) >= {"loss", "reconstruction_loss", "kl_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    assert np.isclose(logs["loss"], logs["reconstruction_loss"] + logs["kl_loss"], rtol=1e-4)
    # a freshly initialized decoder outputs about 0.5 everywhere: reconstruction near 784 ln 2
    assert 0.8 * 784 * np.log(2) < logs["reconstruction_loss"] < 1.2 * 784 * np.log(2)


def test_model_shapes_and_latent_size():
    model = vae.build_vae(latent_dim=3)
    z_mean, z_log_var = model(small_images(5))
    assert z_mean.shape == (5, 3) and z_log_var.shape == (5, 3)
    assert model.reconstruct(small_images(5)).shape == (5, 28, 28, 1)
    assert model.latent_dim == 3 and model.image_shape == (28, 28, 1)


@pytest.mark.parametrize("shape, message", [
    ((2, 32, 32, 1), "built for 28x28 images, got 32x32"),
    ((2, 28, 28, 3), "1 channel"),
    ((2, 28, 28), "channel axis"),
])
def test_wrong_image_shape_gives_a_clear_error(shape, message):
    model = vae.build_vae()
    with pytest.raises(ValueError, match=message):
        model.predict(np.zeros(shape, "float32"), verbose=0)


def test_wrong_shape_is_caught_even_after_training_on_the_right_one():
    import tensorflow as tf

    model = vae.build_vae()
    model.compile(optimizer="adam")
    model.fit(small_images(8), epochs=1, verbose=0)
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="built for"):
        model.fit(np.zeros((8, 28, 28, 3), "float32"), epochs=1, verbose=0)


def test_decoder_rejects_sizes_it_cannot_reach():
    with pytest.raises(ValueError, match="upsamples by 4: image height and width must be multiples"):
        vae.build_decoder(2, (30, 30, 1))


# --------------------------------------------------------------------------------------- latent space
def test_latent_grid_points_are_normal_quantiles_top_row_first():
    from scipy.stats import norm

    points = vae.latent_grid_points(n=5, extent=0.9)
    assert points.shape == (25, 2)
    assert np.allclose(points[0], [norm.ppf(0.05), norm.ppf(0.95)], atol=1e-6)  # top left
    assert np.allclose(points[-1], [norm.ppf(0.95), norm.ppf(0.05)], atol=1e-6)  # bottom right
    assert np.allclose(points[12], [0.0, 0.0], atol=1e-6)


def test_latent_grid_is_the_tiled_decodings():
    model = vae.build_vae()
    grid = vae.latent_grid(model.decoder, n=3)
    decoded = model.decoder.predict(vae.latent_grid_points(3), verbose=0)
    assert grid.shape == (84, 84)
    assert np.allclose(grid[28:56, 56:84], decoded[5, ..., 0], atol=1e-6)


def test_concept_vector_is_the_difference_of_class_means():
    z = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 0.0], [20.0, 2.0]])
    labels = np.array([0, 0, 1, 1])
    assert np.allclose(vae.concept_vector(z, labels, towards=1, away_from=0), [13.0, -2.0])
    with pytest.raises(ValueError, match="No example of class 7"):
        vae.concept_vector(z, labels, towards=7, away_from=0)


def test_interpolation_ends_at_the_reconstructions_and_concepts_shift_codes():
    model = vae.build_vae()
    images = small_images(2)
    path = vae.interpolate(model.encoder, model.decoder, images[0], images[1], steps=5)
    assert path.shape == (5, 28, 28, 1)
    assert np.allclose(path[[0, -1]], model.reconstruct(images), atol=1e-5)
    shifted = vae.apply_concept(model.encoder, model.decoder, images, np.array([1.0, -1.0]), strengths=(0.0, 2.0))
    assert shifted.shape == (2, 2, 28, 28, 1)
    assert np.allclose(shifted[:, 0], model.reconstruct(images), atol=1e-5)
    z = vae.encode(model.encoder, images) + 2.0 * np.array([1.0, -1.0], "float32")
    assert np.allclose(shifted[:, 1], vae.decode(model.decoder, z), atol=1e-5)


# --------------------------------------------------------------------------------------- Fashion-MNIST
def write_idx(folder, train=5, test=3):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, count in (("train", train), ("t10k", test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images.tobytes())
        with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + labels.tobytes())
        arrays[split] = (images, labels)
    return arrays


def use_keras_home(monkeypatch, folder):
    """Point both the registry and Keras (which reads $KERAS_HOME once, at import) at ``folder``."""
    from keras.src.backend import config

    monkeypatch.setenv("KERAS_HOME", str(folder))
    monkeypatch.setattr(config, "_KERAS_DIR", str(folder))


def test_fashion_mnist_links_the_debian_copy_and_loads_it_with_keras(tmp_path, monkeypatch):
    use_keras_home(monkeypatch, tmp_path / "keras")
    debian = tmp_path / "debian"
    debian.mkdir()
    arrays = write_idx(debian)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_fashion_mnist(debian)
    assert np.array_equal(x_train, arrays["train"][0]) and np.array_equal(y_test, arrays["t10k"][1])
    cached = tmp_path / "keras" / "datasets" / "fashion-mnist" / "train-images-idx3-ubyte.gz"
    assert cached.is_symlink() and cached.resolve() == (debian / "train-images-idx3-ubyte.gz").resolve()


def test_fashion_mnist_without_files_names_them_the_urls_and_the_package(tmp_path, monkeypatch):
    from dlpy.data.registry import REGISTRY, missing_message

    use_keras_home(monkeypatch, tmp_path / "keras")

    def offline_fetch(name):  # what fetch raises without a network, without trying one
        raise DataNotAvailableError(missing_message(REGISTRY[name], "download failed (offline)"))

    monkeypatch.setattr(fashion_mnist, "fetch", offline_fetch)
    with pytest.raises(DataNotAvailableError) as error:
        fashion_mnist.load_fashion_mnist(tmp_path / "no-such-folder")
    text = str(error.value)
    for part in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        assert part in text
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/fashion-mnist/" in text
    assert "apt-get install dataset-fashion-mnist" in text
