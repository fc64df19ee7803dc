"""How good are generated images? A Fréchet distance in the feature space of a small classifier
trained on the same dataset (an FID for MNIST and Fashion-MNIST), and the classifier's view of the
samples: how many it names with confidence, and how they spread over the classes (mode collapse shows
as empty classes). Taught in chapters 20 and 21.

The Fréchet Inception Distance (Heusel et al. 2017) fits a Gaussian to the features of real images
and one to the features of generated images, and measures the distance between the two Gaussians:

    FID = |mu_real - mu_gen|^2 + trace(C_real + C_gen - 2 (C_real C_gen)^(1/2))

Published FIDs use the Inception-v3 network on 299x299 color images. For 28x28 digits and garments a
classifier trained on the dataset itself sees what matters (strokes, shapes) and costs seconds, so the
course uses its 128 penultimate features instead. The numbers are comparable within the course (same
classifier, same sample counts), not with published Inception FIDs. The classifier is trained once
with a fixed seed and cached, so the score of a given set of images is the same run after run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

CLASSIFIER_VERSION = 1
DATASETS = ("mnist", "fashion_mnist")


def frechet_distance(mean_a, covariance_a, mean_b, covariance_b) -> float:
    """The Fréchet (2-Wasserstein) distance between the Gaussians N(mean_a, covariance_a) and
    N(mean_b, covariance_b): ``|mean_a - mean_b|^2 + trace(C_a + C_b - 2 sqrtm(C_a C_b))``.

    ``trace(sqrtm(C_a C_b))`` is computed as the sum of the square roots of the eigenvalues of the
    symmetric matrix ``C_a^(1/2) C_b C_a^(1/2)`` (the same eigenvalues as ``C_a C_b``): stable where
    ``scipy.linalg.sqrtm`` of the product warns, e.g. for the singular covariances of features with
    dead ReLU units. Tested against ``scipy.linalg.sqrtm``. Taught in chapter 21."""
    mean_a, mean_b = np.asarray(mean_a, "float64").ravel(), np.asarray(mean_b, "float64").ravel()
    covariance_a = np.atleast_2d(np.asarray(covariance_a, "float64"))
    covariance_b = np.atleast_2d(np.asarray(covariance_b, "float64"))
    d = mean_a.size
    if mean_b.shape != (d,) or covariance_a.shape != (d, d) or covariance_b.shape != (d, d):
        raise ValueError(f"Means of one length d and covariances (d, d) are needed; got means {mean_a.shape} and "
                         f"{mean_b.shape}, covariances {covariance_a.shape} and {covariance_b.shape}")
    values, vectors = np.linalg.eigh((covariance_a + covariance_a.T) / 2)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = root_a @ covariance_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    difference = mean_a - mean_b
    return float(max(difference @ difference + np.trace(covariance_a) + np.trace(covariance_b) - 2 * trace_root, 0.0))


@dataclass(frozen=True)
class FeatureStatistics:
    """The mean and covariance of a set of feature vectors, and how many there were. Taught in chapter 21."""

    mean: np.ndarray
    covariance: np.ndarray
    count: int

    @classmethod
    def of(cls, features) -> FeatureStatistics:
        """Statistics of ``features`` (N, d), N >= 2."""
        features = np.asarray(features, "float64")
        if features.ndim != 2 or len(features) < 2:
            raise ValueError(f"Need at least 2 feature vectors as an array (N, d); got shape {features.shape}")
        return cls(features.mean(axis=0), np.cov(features, rowvar=False), len(features))

    def distance(self, other: FeatureStatistics) -> float:
        """The Fréchet distance to ``other``."""
        return frechet_distance(self.mean, self.covariance, other.mean, other.covariance)


def build_feature_classifier(num_classes: int = 10, feature_units: int = 128, image_shape=(28, 28, 1),
                             seed: int = 0) -> keras.Model:
    """Two convolution-pooling stages, a dense layer named ``features`` (the space the FID is measured
    in) and a softmax; every initializer and the dropout seeded from ``seed`` (no global seeding).
    Taught in chapter 21."""
    def init(offset):
        return keras.initializers.GlorotUniform(seed=seed * 10 + offset)

    inputs = keras.Input(image_shape)
    exact = {"dtype": "float32"}  # float32 whatever the global policy: the same images always get the same score
    x = keras.layers.Conv2D(32, 3, activation="relu", kernel_initializer=init(1), **exact)(inputs)
    x = keras.layers.MaxPooling2D(**exact)(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", kernel_initializer=init(2), **exact)(x)
    x = keras.layers.MaxPooling2D(**exact)(x)
    x = keras.layers.Flatten(**exact)(x)
    features = keras.layers.Dense(feature_units, activation="relu", kernel_initializer=init(3), name="features",
                                  **exact)(x)
    x = keras.layers.Dropout(0.3, seed=seed, **exact)(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_initializer=init(4), name="classes",
                                 **exact)(x)
    return keras.Model(inputs, outputs, name="feature_classifier")


def _as_unit_images(images, shape) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype("float32") / 255.0
    images = images.astype("float32")
    if images.ndim == len(shape):  # no channel axis
        images = images[..., None]
    if images.shape[1:] != tuple(shape):
        raise ValueError(f"The classifier reads images of shape {tuple(shape)} (N, 28, 28 or N, 28, 28, 1), values in "
                         f"[0, 1] or uint8; got shape {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError(f"{int((~np.isfinite(images)).sum())} pixel values are NaN or infinite: the generator "
                         "diverged (check its losses), or the images were not computed yet")
    if images.min() < -1e-3 or images.max() > 1 + 1e-3:
        raise ValueError(f"Images must be in [0, 1] (or uint8); these range over [{images.min():.3g}, "
                         f"{images.max():.3g}]. A tanh generator's output goes through gan.from_tanh_range first.")
    return images


class FeatureClassifier:
    """A trained :func:`build_feature_classifier` and what the quality measures need from it:
    ``features(images)`` (N, 128), ``probabilities(images)`` (N, 10), ``statistics(images)``.
    Images are (N, 28, 28[, 1]) in [0, 1] or uint8. Taught in chapter 21."""

    def __init__(self, model: keras.Model, dataset: str, test_accuracy: float):
        self.model = model
        self.dataset = dataset
        self.test_accuracy = float(test_accuracy)
        self._both = keras.Model(model.inputs, [model.get_layer("features").output, model.outputs[0]])

    def features_and_probabilities(self, images, batch_size: int = 500):
        """Both views of ``images`` from one forward pass: features (N, 128) and probabilities (N, 10)."""
        images = _as_unit_images(images, self.model.input_shape[1:])
        features, probabilities = self._both.predict(images, batch_size=batch_size, verbose=0)
        return features.astype("float64"), probabilities

    def features(self, images) -> np.ndarray:
        return self.features_and_probabilities(images)[0]

    def probabilities(self, images) -> np.ndarray:
        return self.features_and_probabilities(images)[1]

    def statistics(self, images) -> FeatureStatistics:
        return FeatureStatistics.of(self.features(images))

    def __repr__(self):
        return f"FeatureClassifier({self.dataset!r}, test accuracy {self.test_accuracy:.4f})"


def _load_dataset(dataset: str):
    if dataset == "mnist":
        from dlpy.data.mnist import load_mnist

        return load_mnist()
    from dlpy.data.fashion_mnist import load_fashion_mnist

    return load_fashion_mnist()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def classifier_path(dataset: str, train_size: int, epochs: int, seed: int) -> Path:
    """Where :func:`feature_classifier` caches these weights (in dlpy's writable cache)."""
    from dlpy.data.registry import writable_cache

    name = f"quality_{dataset}_v{CLASSIFIER_VERSION}_{train_size}_{epochs}_{seed}.weights.h5"
    return writable_cache() / "models" / "dlpy_cache" / name


def feature_classifier(dataset: str = "mnist", train_size: int = 60_000, epochs: int = 2,
                       seed: int = 0) -> FeatureClassifier:
    """The classifier whose features the FID is measured in, for ``dataset`` (``"mnist"`` or
    ``"fashion_mnist"``): trained once on the first ``train_size`` training images for ``epochs``
    epochs with ``seed``, then cached (the weights and a record of their SHA-256 and test accuracy,
    both written atomically; a file that fails its check is retrained). Loading it again gives the
    same weights, so the same images always get the same score.

    Example::

        judge = feature_classifier("fashion_mnist")
        judge.test_accuracy  # about 0.90

    Taught in chapter 21."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}; got {dataset!r}")
    if not 1_000 <= int(train_size) <= 60_000 or int(epochs) < 1:
        raise ValueError(f"train_size must be between 1,000 and 60,000 and epochs at least 1; got {train_size}, "
                         f"{epochs}")
    path = classifier_path(dataset, int(train_size), int(epochs), int(seed))
    record_path = path.with_suffix(".json")
    model = build_feature_classifier(seed=seed)
    try:
        record = json.loads(record_path.read_text())
        if record["sha256"] == _sha256(path):
            model.load_weights(path)
            return FeatureClassifier(model, dataset, record["test_accuracy"])
    except (OSError, ValueError, KeyError):  # missing, partial or corrupt: train again, from fresh weights
        model = build_feature_classifier(seed=seed)
    import tensorflow as tf

    (x_train, y_train), (x_test, y_test) = _load_dataset(dataset)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train = _as_unit_images(x_train[:train_size], model.input_shape[1:])
    batches = (tf.data.Dataset.from_tensor_slices((train, y_train[:train_size]))
               .shuffle(len(train), seed=seed).batch(128))  # seeded here: the caller's random state is untouched
    model.fit(batches, epochs=int(epochs), shuffle=False, verbose=0)
    accuracy = float(model.evaluate(_as_unit_images(x_test, model.input_shape[1:]), y_test, batch_size=500,
                                    verbose=0)[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".weights.h5")
    os.close(descriptor)
    try:
        model.save_weights(temporary)
        digest = _sha256(Path(temporary))
        os.replace(temporary, path)  # atomic: a parallel notebook never reads half a file
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    record = json.dumps({"sha256": digest, "test_accuracy": accuracy, "dataset": dataset, "train_size": train_size,
                         "epochs": epochs, "seed": seed, "version": CLASSIFIER_VERSION})
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".json")
    with os.fdopen(descriptor, "w") as handle:
        handle.write(record)
    os.replace(temporary, record_path)
    return FeatureClassifier(model, dataset, accuracy)


@dataclass(frozen=True)
class SampleQuality:
    """What the classifier says about a set of images: ``fid`` (the Fréchet distance to the
    reference statistics), ``confident_fraction`` (the share of images it names with probability
    >= ``confidence``), ``class_fractions`` (the share of images it assigns to each class) and
    ``count``. Taught in chapter 21."""

    fid: float
    confident_fraction: float
    class_fractions: np.ndarray
    count: int
    confidence: float = 0.9

    @property
    def smallest_class_fraction(self) -> float:
        """The share of the least generated class (0 when a class is never generated: mode collapse)."""
        return float(self.class_fractions.min())

    def __str__(self):
        return (f"FID {self.fid:.2f} | named with p >= {self.confidence:g}: {self.confident_fraction:.0%} | "
                f"least frequent class {self.smallest_class_fraction:.1%} ({self.count} images)")


def sample_quality(classifier: FeatureClassifier, images, reference: FeatureStatistics,
                   confidence: float = 0.9) -> SampleQuality:
    """The :class:`SampleQuality` of ``images`` (N, 28, 28[, 1] in [0, 1]) against the real images'
    ``reference`` statistics (``classifier.statistics(real_images)``). Compare only scores computed
    with the same number of images: the FID of a finite sample is biased upwards, more so for fewer
    images. Taught in chapters 20 and 21."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a probability in (0, 1); got {confidence}")
    features, probabilities = classifier.features_and_probabilities(images)
    classes = probabilities.shape[1]
    fractions = np.bincount(probabilities.argmax(axis=1), minlength=classes) / len(probabilities)
    return SampleQuality(FeatureStatistics.of(features).distance(reference),
                         float((probabilities.max(axis=1) >= confidence).mean()), fractions, len(probabilities),
                         confidence)


class QualityPerEpoch(keras.callbacks.Callback):
    """Score a generator's samples at the start and after every epoch: ``generate(count)`` returns
    ``count`` images in [0, 1]; each score is a :class:`SampleQuality` in ``self.scores`` (epoch
    numbers in ``self.epochs``, 0 = before training). Taught in chapter 21."""

    def __init__(self, generate, classifier: FeatureClassifier, reference: FeatureStatistics, count: int = 2_000):
        super().__init__()
        self.generate, self.classifier, self.reference, self.count = generate, classifier, reference, int(count)
        self.scores, self.epochs = [], []

    def _score(self, epoch: int):
        self.scores.append(sample_quality(self.classifier, self.generate(self.count), self.reference))
        self.epochs.append(epoch)

    def on_train_begin(self, logs=None):
        if not self.scores:
            self._score(0)

    def on_epoch_end(self, epoch, logs=None):
        self._score(self.epochs[-1] + 1 if self.epochs else epoch + 1)


def plot_quality_curve(callback: QualityPerEpoch, floor: float | None = None, ceiling: float | None = None):
    """Two panels from a :class:`QualityPerEpoch`: the FID per epoch (log scale) between the
    real-vs-real ``floor`` and the untrained ``ceiling`` when given, and the classifier's view per
    epoch (the share named with confidence, the share of the least generated class). Returns the
    figure. Taught in chapter 21."""
    import matplotlib.pyplot as plt

    if not callback.scores:
        raise ValueError("The callback holds no scores yet: pass it to fit(callbacks=[...]) first.")
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.6))
    left.plot(callback.epochs, [score.fid for score in callback.scores], "o-", label="generated vs real")
    for value, label, style in ((floor, "real vs real (floor)", "--"), (ceiling, "untrained (ceiling)", ":")):
        if value is not None:
            left.axhline(value, color="gray", linestyle=style, label=label)
    left.set(yscale="log", xlabel="epoch", ylabel="FID (log scale)", title="Fréchet distance")
    left.legend(fontsize=8)
    confidence = callback.scores[-1].confidence
    right.plot(callback.epochs, [s.confident_fraction for s in callback.scores], "o-",
               label=f"named with p >= {confidence:g}")
    right.plot(callback.epochs, [s.smallest_class_fraction for s in callback.scores], "s-",
               label="share of the least generated class")
    right.axhline(1 / len(callback.scores[-1].class_fractions), color="gray", linestyle="--", label="uniform share")
    right.set(ylim=(0, 1), xlabel="epoch", ylabel="fraction of samples", title="the classifier's view")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_class_histogram(quality: SampleQuality, class_names=None, ax=None, title: str | None = None):
    """The share of samples the classifier assigns to each class, with the uniform share marked.
    Returns the axes. Taught in chapter 21."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.8))
    classes = len(quality.class_fractions)
    names = class_names if class_names is not None else [str(c) for c in range(classes)]
    ax.bar(range(classes), quality.class_fractions)
    ax.axhline(1 / classes, color="gray", linestyle="--", label="uniform")
    ax.set_xticks(range(classes), names, rotation=30, fontsize=8)
    ax.set_ylabel("share of samples")
    ax.set_title(title or str(quality), fontsize=9)
    ax.legend(fontsize=8)
    return ax
