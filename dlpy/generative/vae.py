"""Variational autoencoders: the reparameterization trick, the two-part loss and what a latent space
can be used for (grids, interpolation, concept vectors). Taught in chapter 20.

The encoder maps an image to the mean and log-variance of a Gaussian over the latent space; the
:class:`Sampling` layer draws ``z = z_mean + exp(z_log_var / 2) * eps`` so that gradients flow through
the draw; the decoder maps ``z`` back to pixel probabilities. The loss is the negative evidence lower
bound (ELBO): a reconstruction term (binary cross-entropy summed over pixels) plus the KL divergence
of the encoder's Gaussian from the standard normal prior, both in nats per image.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from dlpy.course.settings import default_jit_compile
from dlpy.data.mnist import MNIST_SHAPE
from dlpy.images import check_image_tensor, tile, to_unit_range
from dlpy.models.parts import deserialize_parts, serialize_parts, upsampling_start


# --------------------------------------------------------------------------------------- the pieces
@keras.saving.register_keras_serializable(package="dlpy")
class Sampling(layers.Layer):
    """Draw ``z = z_mean + exp(z_log_var / 2) * eps`` with ``eps ~ N(0, I)`` (the reparameterization
    trick). Call it on ``[z_mean, z_log_var]``. Taught in chapter 20."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(z_mean, z_log_var):
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per example, summed over latent dimensions, in nats:
    ``-1/2 * sum(1 + log var - mean^2 - var)``. Taught in chapter 20."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def reconstruction_loss(images, reconstructions):
    """Binary cross-entropy of pixel probabilities, summed over pixels and channels, per example
    (nats). Taught in chapter 20."""
    probabilities = ops.clip(reconstructions, 1e-7, 1.0 - 1e-7)
    cross_entropy = -(images * ops.log(probabilities) + (1.0 - images) * ops.log(1.0 - probabilities))
    return ops.sum(ops.reshape(cross_entropy, (ops.shape(images)[0], -1)), axis=-1)


def build_encoder(latent_dim: int = 2, image_shape=MNIST_SHAPE, filters=(32, 64), dense_units: int = 64):
    """Strided convolutions to ``[z_mean, z_log_var]`` (the book's encoder, with 64 dense units
    instead of 16: with 16, one of two latent dimensions often collapses in short runs). Taught in
    chapter 20."""
    inputs = keras.Input(shape=image_shape, name="image")
    x = inputs
    for f in filters:
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def build_decoder(latent_dim: int = 2, image_shape=MNIST_SHAPE, filters=(64, 32)):
    """Dense to a small feature map, then Conv2DTranspose up to the image size, sigmoid pixel
    probabilities. Taught in chapter 20."""
    channels = image_shape[2]
    start_height, start_width = upsampling_start(image_shape, len(filters), "decoder")
    inputs = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(start_height * start_width * filters[0], activation="relu")(inputs)
    x = layers.Reshape((start_height, start_width, filters[0]))(x)
    for f in filters:
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="pixel_probabilities")(x)
    return keras.Model(inputs, outputs, name="decoder")


@keras.saving.register_keras_serializable(package="dlpy")
class VAE(keras.Model):
    """Encoder + sampler + decoder, trained with ``fit()`` on images alone.

    ``compute_loss`` returns the negative ELBO (reconstruction + KL, nats per image); the two terms are
    tracked as ``reconstruction_loss`` and ``kl_loss``, so ``evaluate()`` reports all three.
    Calling the model returns ``[z_mean, z_log_var]``. Taught in chapter 20.
    """

    def __init__(self, encoder, decoder, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.sampler = Sampling(seed=seed, name="sampling")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def image_shape(self):
        return tuple(self.encoder.input_shape[1:])

    @property
    def latent_dim(self) -> int:
        return int(self.decoder.input_shape[-1])

    def build(self, input_shape=None):
        self.built = True  # encoder and decoder are built functional models

    def compile(self, optimizer="adam", **kwargs):
        kwargs.setdefault("jit_compile", default_jit_compile())
        super().compile(optimizer=optimizer, **kwargs)

    def call(self, images, training=False):
        images = check_image_tensor(images, self.image_shape, "This VAE")
        return self.encoder(images, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z_mean, z_log_var = y_pred
        reconstructions = self.decoder(self.sampler([z_mean, z_log_var]), training=training)
        reconstruction = ops.mean(reconstruction_loss(ops.cast(x, reconstructions.dtype), reconstructions))
        kl = ops.mean(kl_divergence(z_mean, z_log_var))
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.kl_loss_tracker.update_state(kl)
        return reconstruction + kl

    def reconstruct(self, images, batch_size: int = 256) -> np.ndarray:
        """Decode the latent mean of each image (no sampling noise)."""
        return self.decoder.predict(encode(self.encoder, images, batch_size), batch_size=batch_size, verbose=0)

    def get_config(self):
        return {**super().get_config(), **serialize_parts(encoder=self.encoder, decoder=self.decoder),
                "seed": self.sampler.seed}

    @classmethod
    def from_config(cls, config):
        parts, rest = deserialize_parts(config, "encoder", "decoder")
        return cls(*parts, **rest)


def build_vae(latent_dim: int = 2, image_shape=MNIST_SHAPE, seed=None) -> VAE:
    """The book's convolutional VAE, ready to ``compile(optimizer=...)`` and ``fit(images)``. Taught in
    chapter 20."""
    return VAE(build_encoder(latent_dim, image_shape), build_decoder(latent_dim, image_shape), seed=seed,
               name="vae")


# --------------------------------------------------------------------------------------- latent space
def encode(encoder, images, batch_size: int = 256) -> np.ndarray:
    """Latent means ``z_mean`` of images (NumPy, ``(N, latent_dim)``). Taught in chapter 20."""
    images = to_unit_range(images)
    check_image_tensor(images, encoder.input_shape[1:], "This encoder")
    z_mean, _ = encoder.predict(images, batch_size=batch_size, verbose=0)
    return z_mean


def decode(decoder, z, batch_size: int = 256) -> np.ndarray:
    """Images decoded from latent points ``z`` (NumPy). Taught in chapter 20."""
    z = np.asarray(z, "float32")
    latent_dim = int(decoder.input_shape[-1])
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"This decoder takes latent points of shape (N, {latent_dim}), got {z.shape}.")
    return decoder.predict(z, batch_size=batch_size, verbose=0)


def latent_grid_points(n: int = 15, extent: float = 0.95) -> np.ndarray:
    """``n*n`` points of a 2-D latent plane, spaced as quantiles of the standard normal prior (so
    each cell holds the same prior mass), ``extent`` the outermost quantile range; rows top to
    bottom have decreasing ``z[1]``. Taught in chapter 20."""
    from scipy.stats import norm

    if not 0 < extent < 1:
        raise ValueError(f"extent is a probability in (0, 1), got {extent}")
    axis = norm.ppf(np.linspace(0.5 - extent / 2, 0.5 + extent / 2, n))
    return np.array([[x, y] for y in axis[::-1] for x in axis], dtype="float32")


def latent_grid(decoder, n: int = 15, extent: float = 0.95) -> np.ndarray:
    """One image: the decodings of :func:`latent_grid_points` tiled ``n x n`` (2-D latent spaces
    only). Taught in chapter 20."""
    if int(decoder.input_shape[-1]) != 2:
        raise ValueError(f"A latent grid needs a 2-D latent space; this decoder takes {decoder.input_shape[-1]}-D "
                         "points. Plot a 2-D slice or train with latent_dim=2.")
    return tile(decode(decoder, latent_grid_points(n, extent)), columns=n)


def plot_latent_grid(decoder, n: int = 15, extent: float = 0.95, ax=None):
    """Show :func:`latent_grid` with the latent coordinates on the axes. Taught in chapter 20."""
    import matplotlib.pyplot as plt

    grid = latent_grid(decoder, n, extent)
    axis = latent_grid_points(n, extent)[:n, 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7))
    step = (axis[-1] - axis[0]) / (n - 1)
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None,
              extent=(axis[0] - step / 2, axis[-1] + step / 2, axis[0] - step / 2, axis[-1] + step / 2))
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.grid(False)
    ax.set_title("Decoded latent plane")
    return ax


def plot_latent_scatter(z, labels, class_names=None, ax=None, max_points: int = 5000):
    """Latent means of labeled images, one color per class (2-D latent spaces). Taught in chapter 20."""
    import matplotlib.pyplot as plt

    z, labels = np.asarray(z), np.asarray(labels)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"A latent scatter plot needs 2-D latent points, got shape {z.shape}.")
    if len(z) != len(labels):
        raise ValueError(f"{len(z)} latent points but {len(labels)} labels.")
    z, labels = z[:max_points], labels[:max_points]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    classes = np.unique(labels)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for i, label in enumerate(classes):
        chosen = labels == label
        name = class_names[int(label)] if class_names is not None else str(label)
        ax.scatter(z[chosen, 0], z[chosen, 1], s=3, color=cmap(i % cmap.N), label=name, alpha=0.7)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.legend(markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title("Test images by class in the latent plane")
    return ax


def interpolate(encoder, decoder, image_a, image_b, steps: int = 8) -> np.ndarray:
    """Decodings of ``steps`` evenly spaced points on the line from the latent mean of ``image_a`` to
    that of ``image_b`` (both ends included). Taught in chapter 20."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two ends), got {steps}")
    z = encode(encoder, np.stack([image_a, image_b]))
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return decode(decoder, (1 - t) * z[0] + t * z[1])


def concept_vector(z, labels, towards, away_from) -> np.ndarray:
    """Mean latent point of class ``towards`` minus that of class ``away_from``: adding it moves an
    image's code from one concept to the other. Taught in chapter 20."""
    z, labels = np.asarray(z), np.asarray(labels)
    for label in (towards, away_from):
        if not np.any(labels == label):
            raise ValueError(f"No example of class {label!r} among the labels; classes present: "
                             f"{sorted(np.unique(labels).tolist())}")
    return z[labels == towards].mean(axis=0) - z[labels == away_from].mean(axis=0)


def apply_concept(encoder, decoder, images, vector, strengths=(0.0, 0.5, 1.0, 1.5)) -> np.ndarray:
    """Decode ``z_mean(image) + s * vector`` for each image and strength: shape
    ``(len(images), len(strengths), H, W, C)``. Taught in chapter 20."""
    z = encode(encoder, images)
    vector = np.asarray(vector, "float32")
    if vector.shape != z.shape[1:]:
        raise ValueError(f"The concept vector has shape {vector.shape}, the latent space {z.shape[1:]}.")
    strengths = np.asarray(strengths, "float32")
    shifted = z[:, None, :] + strengths[None, :, None] * vector
    decoded = decode(decoder, shifted.reshape(-1, z.shape[1]))
    return decoded.reshape(len(z), len(strengths), *decoded.shape[1:])
