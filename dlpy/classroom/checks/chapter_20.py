"""Chapter 20 (VAE): q1 the reparameterization trick and the KL term (the teaching copy), q2 the reconstruction loss."""

from dlpy.classroom.checks import check


@check("q1")
def test_sampling_and_kl_known_values(sample_by_hand, kl_divergence_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    class FixedNoise:
        def standard_normal(self, size=None, dtype=None):
            return np.ones(size)

    z_mean, z_log_var = np.array([[1.0, -1.0]]), np.array([[0.0, np.log(4.0)]])
    expect_close(sample_by_hand(z_mean, z_log_var, FixedNoise()), [[2.0, 1.0]],
                 "sample_by_hand(mean [1, -1], variance [1, 4], noise 1): mean + standard deviation * noise")
    expect_close(kl_divergence_by_hand(np.zeros((1, 3)), np.zeros((1, 3))), [0.0],
                 "kl_divergence_by_hand for the prior itself (one value per image)")
    expect_close(kl_divergence_by_hand(np.array([[2.0]]), np.array([[0.0]])), [2.0],
                 "kl_divergence_by_hand(mean 2, variance 1): mean ** 2 / 2")


@check("q1", hidden=True)
def test_sampling_and_kl_match_dlpy(sample_by_hand, kl_divergence_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close
    from dlpy.generative import vae

    rng = np.random.default_rng(2)
    z_mean, z_log_var = rng.normal(size=(2, 5, 3)).astype("float32")
    expect_close(kl_divergence_by_hand(z_mean, z_log_var), vae.kl_divergence(z_mean, z_log_var),
                 "kl_divergence_by_hand(5 random codes)", tolerance=1e-5)
    noise = keras.ops.convert_to_numpy(keras.random.normal(z_mean.shape, seed=keras.random.SeedGenerator(3)))

    class Replay:
        def standard_normal(self, size=None, dtype=None):
            return noise

    drawn = keras.ops.convert_to_numpy(vae.Sampling(seed=3)([z_mean, z_log_var]))
    expect_close(sample_by_hand(z_mean, z_log_var, Replay()), drawn, "sample_by_hand with dlpy's noise", tolerance=1e-5)


@check("q2")
def test_reconstruction_small_example(reconstruction_loss_by_hand):
    import numpy as np

    from dlpy.classroom.checks import expect_close

    images, reconstructions = np.array([[[1.0, 0.0]]]), np.array([[[0.5, 0.5]]])  # one 1x2 image
    expect_close(reconstruction_loss_by_hand(images, reconstructions), 2 * np.log(2),
                 "reconstruction_loss_by_hand(one 1x2 image, 0.5 everywhere): summed over pixels, averaged over images",
                 tolerance=1e-5)


@check("q2", hidden=True)
def test_reconstruction_matches_keras(reconstruction_loss_by_hand):
    import keras
    import numpy as np

    from dlpy.classroom.checks import expect_close

    rng = np.random.default_rng(15)
    images = (rng.uniform(size=(4, 28, 28)) > 0.5).astype("float32")
    reconstructions = rng.uniform(0.05, 0.95, size=(4, 28, 28)).astype("float32")
    per_pixel = keras.losses.binary_crossentropy(images[..., None], reconstructions[..., None])
    reference = float(np.mean(np.sum(np.asarray(per_pixel), axis=(1, 2))))
    expect_close(reconstruction_loss_by_hand(images, reconstructions), reference,
                 "reconstruction_loss_by_hand(4 random 28x28 images)", tolerance=1e-4)


WRONG_ANSWERS = {
    "q1": "def sample_by_hand(z_mean, z_log_var, rng):\n"
          "    return z_mean + z_log_var * rng.standard_normal(z_mean.shape)  # log variance, not std\n\n\n"
          "def kl_divergence_by_hand(z_mean, z_log_var):\n"
          "    return -0.5 * np.sum(1 + z_log_var - z_mean ** 2 - np.exp(z_log_var), axis=-1)\n",
    "q2": "def reconstruction_loss_by_hand(images, reconstructions):\n"
          "    return float(np.mean((images - reconstructions) ** 2))  # squared error, and a mean over pixels\n",
}
