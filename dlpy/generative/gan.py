"""Deep convolutional GANs: a generator and a discriminator trained against each other with a
custom ``train_step``. Taught in chapter 21.

Each step has two phases. The discriminator phase shows the discriminator real images (target 1)
and generated ones (target 0), with a little noise on the targets, and updates only the
discriminator. The generator phase draws fresh latent points and updates only the generator with the
non-saturating loss ``-log D(G(z))`` (binary cross-entropy against the target "real"), which keeps
gradients alive when the discriminator easily rejects the fakes.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from dlpy.course.settings import default_jit_compile
from dlpy.data.mnist import MNIST_SHAPE
from dlpy.images import check_image_tensor, tile, to_unit_range
from dlpy.models.parts import deserialize_parts, serialize_parts, upsampling_start
from dlpy.plots import history_dict


def to_tanh_range(images) -> np.ndarray:
    """uint8 (or [0, 1]) images as float32 in [-1, 1] with a channel axis: the range of a tanh
    generator. Taught in chapter 21."""
    return to_unit_range(images) * 2.0 - 1.0


def from_tanh_range(images) -> np.ndarray:
    """Generator output in [-1, 1] back to [0, 1] for display. Taught in chapter 21."""
    return np.clip((np.asarray(images) + 1.0) / 2.0, 0.0, 1.0)


def build_generator(latent_dim: int = 64, image_shape=MNIST_SHAPE, filters=(64, 32), batch_norm: bool = True):
    """Dense to a small feature map, a Conv2DTranspose stack (stride 2, batch normalization as in the
    DCGAN paper, LeakyReLU) up to the image size, and a tanh output in [-1, 1]. Taught in chapter 21."""
    channels = image_shape[2]
    start_height, start_width = upsampling_start(image_shape, len(filters), "generator")
    inputs = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(start_height * start_width * 2 * filters[0], use_bias=not batch_norm)(inputs)
    x = layers.BatchNormalization()(x) if batch_norm else x
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Reshape((start_height, start_width, 2 * filters[0]))(x)
    for f in filters:
        x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=not batch_norm)(x)
        x = layers.BatchNormalization()(x) if batch_norm else x
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    outputs = layers.Conv2D(channels, 5, padding="same", activation="tanh", name="image", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="generator")


def build_discriminator(image_shape=MNIST_SHAPE, filters=(32, 64), dropout: float = 0.3):
    """Strided convolutions with LeakyReLU, dropout, and one logit ("real" when positive). Taught in
    chapter 21."""
    inputs = keras.Input(shape=image_shape, name="image")
    x = inputs
    for f in filters:
        x = layers.Conv2D(f, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(1, name="real_logit", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="discriminator")


def discriminator_targets(batch_size, label_noise: float, seed=None):
    """Targets for ``batch_size`` real images followed by as many fakes: real ``1 - u``, fake ``u``,
    ``u`` uniform in [0, label_noise]. Noisy targets keep the discriminator from becoming
    overconfident too early. Taught in chapter 21."""
    noise = label_noise * keras.random.uniform((2 * batch_size, 1), seed=seed)
    targets = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
    return ops.abs(targets - noise)


def _bce_with_logits(targets, logits):
    # in float32 even when the networks compute in bfloat16 (chapter 21 trains them under mixed_bfloat16)
    targets, logits = ops.cast(targets, "float32"), ops.cast(logits, "float32")
    return ops.mean(ops.binary_crossentropy(targets, logits, from_logits=True))


@keras.saving.register_keras_serializable(package="dlpy")
class GAN(keras.Model):
    """A generator and a discriminator trained with ``fit(images)`` (images in [-1, 1]).

    ``compile(d_optimizer=..., g_optimizer=...)`` gives each network its own optimizer. One
    ``train_step`` runs :meth:`discriminator_step` then :meth:`generator_step` and reports
    ``d_loss`` and ``g_loss`` (epoch means). ``label_noise`` moves the discriminator's targets
    into the data by up to that much (real in [1 - noise, 1], fake in [0, noise]). Taught in chapter 21.
    """

    def __init__(self, generator, discriminator, label_noise: float = 0.05, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= label_noise < 0.5:
            raise ValueError(f"label_noise is a fraction in [0, 0.5), got {label_noise}")
        if tuple(generator.output_shape[1:]) != tuple(discriminator.input_shape[1:]):
            raise ValueError(f"The generator makes images of shape {generator.output_shape[1:]} but the "
                             f"discriminator reads {discriminator.input_shape[1:]}.")
        self.generator = generator
        self.discriminator = discriminator
        self.label_noise = label_noise
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    @property
    def latent_dim(self) -> int:
        return int(self.generator.input_shape[-1])

    @property
    def image_shape(self):
        return tuple(self.discriminator.input_shape[1:])

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def build(self, input_shape=None):
        self.built = True  # generator and discriminator are built functional models

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Separate optimizers; the default is Adam(2e-4, beta_1=0.5) for both (the DCGAN paper's)."""
        kwargs.setdefault("jit_compile", default_jit_compile())
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def sample_latent(self, count):
        """``count`` latent points from the standard normal prior."""
        return keras.random.normal((count, self.latent_dim), seed=self.seed_generator)

    def call(self, z, training=False):
        """Generate images in [-1, 1] from latent points ``z``."""
        return self.generator(z, training=training)

    def discriminator_step(self, real_images):
        """One update of the discriminator alone; returns its loss."""
        import tensorflow as tf

        real_images = check_image_tensor(real_images, self.image_shape, "This GAN's discriminator")
        batch_size = ops.shape(real_images)[0]
        # training=True: the fakes are made as in the generator phase (batch statistics in batch
        # normalization); only the normalization's running averages move, never a trained weight
        fakes = self.generator(self.sample_latent(batch_size), training=True)
        targets = discriminator_targets(batch_size, self.label_noise, self.seed_generator)
        images = ops.concatenate([ops.cast(real_images, fakes.dtype), fakes], axis=0)
        with tf.GradientTape() as tape:
            loss = _bce_with_logits(targets, self.discriminator(images, training=True))
        weights = self.discriminator.trainable_weights
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    def generator_step(self, batch_size):
        """One update of the generator alone (non-saturating loss); returns its loss."""
        import tensorflow as tf

        z = self.sample_latent(batch_size)
        with tf.GradientTape() as tape:
            logits = self.discriminator(self.generator(z, training=True), training=False)
            loss = _bce_with_logits(ops.ones_like(logits), logits)
        weights = self.generator.trainable_weights
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        d_loss = self.discriminator_step(real_images)
        g_loss = self.generator_step(ops.shape(real_images)[0])
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {**super().get_config(), **serialize_parts(generator=self.generator, discriminator=self.discriminator),
                "label_noise": self.label_noise, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        parts, rest = deserialize_parts(config, "generator", "discriminator")
        return cls(*parts, **rest)


def build_gan(latent_dim: int = 64, image_shape=MNIST_SHAPE, label_noise: float = 0.05, seed=None,
              generator_filters=(64, 32), discriminator_filters=(32, 64)) -> GAN:
    """The chapter's DCGAN for small images, ready to ``compile()`` and ``fit(images_in_tanh_range)``.

    Args:
        latent_dim: the size of the latent points the generator reads.
        image_shape: ``(height, width, channels)`` of the images (default: MNIST's ``(28, 28, 1)``); height
            and width must be multiples of ``2 ** len(generator_filters)``.
        label_noise: how far the discriminator's targets move into the data, in [0, 0.5): real targets
            in ``[1 - label_noise, 1]``, fake ones in ``[0, label_noise]``.
        seed: the seed of the latent points and target noise drawn in training (``None``: unseeded).
        generator_filters: the filters of the generator's stride-2 Conv2DTranspose layers, one per entry.
        discriminator_filters: the filters of the discriminator's stride-2 Conv2D layers, one per entry.

    Example::

        gan = build_gan(latent_dim=64, seed=0)
        gan.compile()
        gan.fit(to_tanh_range(digits), batch_size=64, epochs=10)

    Taught in chapter 21."""
    return GAN(build_generator(latent_dim, image_shape, generator_filters),
               build_discriminator(image_shape, discriminator_filters),
               label_noise=label_noise, seed=seed, name="dcgan")


def generate(generator, z, batch_size: int = 256) -> np.ndarray:
    """Images in [0, 1] generated from latent points ``z``. Taught in chapter 21."""
    z = np.asarray(z, "float32")
    latent_dim = int(generator.input_shape[-1])
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"This generator takes latent points of shape (N, {latent_dim}), got {z.shape}.")
    return from_tanh_range(generator.predict(z, batch_size=batch_size, verbose=0))


class SampleGrid(keras.callbacks.Callback):
    """Generate from the same latent points at the start and after every epoch; keep each grid
    (``self.grids``, ``self.epochs``) and save it as ``epoch_NNN.png`` in ``directory``. Taught in
    chapter 21."""

    def __init__(self, latent_points, directory=None, columns: int = 8):
        super().__init__()
        self.latent_points = np.asarray(latent_points, "float32")
        self.directory = Path(directory) if directory else None
        self.columns = columns
        self.grids, self.epochs = [], []

    def _snapshot(self, epoch: int):
        grid = tile(generate(self.model.generator, self.latent_points), self.columns)
        self.grids.append(grid)
        self.epochs.append(epoch)
        if self.directory:
            import matplotlib.pyplot as plt

            self.directory.mkdir(parents=True, exist_ok=True)
            plt.imsave(self.directory / f"epoch_{epoch:03d}.png", grid, cmap="gray" if grid.ndim == 2 else None,
                       vmin=0.0, vmax=1.0)

    def on_train_begin(self, logs=None):
        if not self.grids:
            self._snapshot(0)

    def on_epoch_end(self, epoch, logs=None):
        self._snapshot(self.epochs[-1] + 1 if self.epochs else epoch + 1)


def plot_sample_evolution(callback: SampleGrid, count: int = 4):
    """The callback's grids at ``count`` epochs from first to last, side by side. Taught in chapter 21."""
    from dlpy.plots import show_images

    if not callback.grids:
        raise ValueError("The callback holds no grids yet: pass it to fit(callbacks=[...]) first.")
    picks = np.unique(np.linspace(0, len(callback.grids) - 1, min(count, len(callback.grids))).round().astype(int))
    return show_images([callback.grids[i] for i in picks], titles=[f"epoch {callback.epochs[i]}" for i in picks],
                       columns=len(picks), size=3.2)


def plot_losses(history, ax=None):
    """Discriminator and generator loss per epoch. Taught in chapter 21."""
    import matplotlib.pyplot as plt

    logs = history_dict(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for key, label in (("d_loss", "discriminator"), ("g_loss", "generator")):
        ax.plot(np.arange(1, len(logs[key]) + 1), logs[key], "o-", ms=3, label=label)
    ax.axhline(np.log(2) * 2, color="gray", ls=":", lw=1)
    ax.annotate("2 ln 2: D at chance", (1, 2 * np.log(2)), textcoords="offset points", xytext=(4, 4), fontsize=8,
                color="gray")
    ax.set_xlabel("epoch")
    ax.set_ylabel("binary cross-entropy")
    ax.legend()
    return ax


def interpolate_latents(z_a, z_b, steps: int = 8, spherical: bool = True) -> np.ndarray:
    """``steps`` points from ``z_a`` to ``z_b`` (ends included); ``spherical`` follows the great circle
    (slerp), which keeps the points at the typical norm of Gaussian samples. Taught in chapter 21."""
    z_a, z_b = np.asarray(z_a, "float64"), np.asarray(z_b, "float64")
    if z_a.shape != z_b.shape or z_a.ndim != 1:
        raise ValueError(f"Two latent points of the same 1-D shape are needed, got {z_a.shape} and {z_b.shape}.")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two ends), got {steps}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    cos = np.dot(z_a, z_b) / (np.linalg.norm(z_a) * np.linalg.norm(z_b))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if not spherical or omega < 1e-6:
        return ((1 - t) * z_a + t * z_b).astype("float32")
    return ((np.sin((1 - t) * omega) * z_a + np.sin(t * omega) * z_b) / np.sin(omega)).astype("float32")


def pixel_classifier(images, labels, neighbors: int = 5):
    """A k-nearest-neighbor classifier on raw pixels (scikit-learn), to label generated images
    without training a network. Returns ``predict(images) -> labels``. Taught in chapter 21."""
    from sklearn.neighbors import KNeighborsClassifier

    flat = to_unit_range(images).reshape(len(images), -1)
    knn = KNeighborsClassifier(n_neighbors=neighbors).fit(flat, np.asarray(labels))

    def predict(batch):
        batch = np.asarray(batch, "float32")
        return knn.predict(batch.reshape(len(batch), -1))

    return predict


def class_latent_means(generator, classify, count: int = 2000, seed: int = 0):
    """Generate ``count`` images from random latent points, label them with ``classify`` and return
    ``(means, counts)``: for each label, the mean latent point of its images and how many there were.
    Taught in chapter 21."""
    z = np.random.default_rng(seed).standard_normal((count, int(generator.input_shape[-1]))).astype("float32")
    labels = np.asarray(classify(generate(generator, z)))
    means = {int(k): z[labels == k].mean(axis=0) for k in np.unique(labels)}
    counts = {int(k): int(np.sum(labels == k)) for k in np.unique(labels)}
    return means, counts


def rescale_to_prior_norm(z) -> np.ndarray:
    """Latent points scaled to norm ``sqrt(latent_dim)``, where samples of N(0, I) concentrate. An
    average of many latent points lies near the origin, a region the generator never saw in
    training; rescaled, it decodes like a typical sample. Taught in chapter 21."""
    z = np.asarray(z, "float32")
    norms = np.linalg.norm(z, axis=-1, keepdims=True)
    return z * np.sqrt(z.shape[-1]) / np.maximum(norms, 1e-12)
