"""Chapter 19: style-transfer losses against NumPy references, the compiled loop, the fast network."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlpy import rel_error
from dlpy.generative.fast_style import FastStyleTrainer, instance_norm, stylize, transform_net
from dlpy.generative.progress import QUIET
from dlpy.generative.style_transfer import (
    LossWeights,
    StyleTransfer,
    adam_update,
    content_loss,
    gram_matrix,
    invert_features,
    style_loss,
    synthesize_texture,
    total_variation_loss,
)

# ----------------------------------------------------------------------------- NumPy references

def np_gram(features):
    h, w, c = features.shape
    flat = features.reshape(h * w, c).astype("float64")
    return flat.T @ flat / (h * w)


def np_style_loss(target_gram, features):
    c = features.shape[-1]
    return np.sum((np_gram(features) - target_gram) ** 2) / (4 * c ** 2)


def np_tv(image, exponent=1.25):
    x = image.astype("float64")
    h, w, _ = x.shape
    total = 0.0
    for i in range(h - 1):
        for j in range(w - 1):
            total += np.sum(((x[i, j] - x[i + 1, j]) ** 2 + (x[i, j] - x[i, j + 1]) ** 2) ** exponent)
    return total / ((h - 1) * (w - 1) * x.shape[2])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_gram_matrix_matches_numpy(rng):
    # non-negative, like the ReLU activations the Gram matrices are taken of
    features = rng.uniform(0, 2, size=(7, 5, 6)).astype("float32")
    assert rel_error(gram_matrix(features), np_gram(features)) <= 1e-5
    batch = rng.uniform(0, 2, size=(3, 4, 9, 5)).astype("float32")
    grams = gram_matrix(batch).numpy()
    assert grams.shape == (3, 5, 5)
    for i in range(3):
        assert rel_error(grams[i], np_gram(batch[i])) <= 1e-5


def test_gram_matrix_rejects_wrong_rank():
    with pytest.raises(ValueError, match="gram_matrix"):
        gram_matrix(np.zeros((4, 4)))


def test_content_loss_matches_numpy(rng):
    a, b = rng.normal(size=(2, 1, 6, 5, 8)).astype("float32")
    expected = np.mean((a.astype("float64") - b) ** 2)
    assert rel_error(content_loss(a, b), expected) <= 1e-5


def test_style_loss_matches_numpy(rng):
    features = rng.uniform(0, 2, size=(6, 7, 4)).astype("float32")
    target = np_gram(rng.uniform(0, 3, size=(5, 5, 4)))
    assert rel_error(style_loss(target, features), np_style_loss(target, features)) <= 1e-5
    # a batch averages the per-image losses
    batch = rng.uniform(0, 2, size=(2, 6, 7, 4)).astype("float32")
    expected = np.mean([np_style_loss(target, f) for f in batch])
    assert rel_error(style_loss(target, batch), expected) <= 1e-5


def test_style_loss_is_zero_on_its_own_target(rng):
    features = rng.normal(size=(6, 7, 4)).astype("float32")
    assert float(style_loss(gram_matrix(features), features)) == pytest.approx(0.0, abs=1e-10)


def test_total_variation_matches_numpy(rng):
    image = rng.uniform(0, 255, size=(6, 5, 3)).astype("float32")
    assert rel_error(total_variation_loss(image), np_tv(image)) <= 1e-5
    assert float(total_variation_loss(np.full((6, 5, 3), 7.0, "float32"))) == 0.0


def test_adam_update_matches_numpy(rng):
    x = rng.normal(size=(4, 3)).astype("float32")
    m, v = np.zeros_like(x), np.zeros_like(x)
    xt, mt, vt = x.copy(), m.copy(), v.copy()
    for step in range(1, 4):
        g = rng.normal(size=x.shape).astype("float32")
        mt, vt = 0.9 * mt + 0.1 * g, 0.999 * vt + 0.001 * g ** 2
        xt = xt - 0.5 * (mt / (1 - 0.9 ** step)) / (np.sqrt(vt / (1 - 0.999 ** step)) + 1e-7)
        x, m, v = (np.asarray(t) for t in adam_update(x, g, m, v, float(step), 0.5))
    # 1 - 0.999**t in float32 keeps only ~4 significant digits: a relative 1e-4 on the step
    np.testing.assert_allclose(x, xt, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- the loop, on a tiny model

@pytest.fixture(scope="module")
def tiny_backbone(make_tiny_convnet):
    return make_tiny_convnet([("c1", 8, 1), ("c2", 8, 2), ("c3", 16, 2)], name="tiny", seed=1)


def test_style_transfer_lowers_the_loss_and_does_not_retrace(tiny_backbone, rng):
    st = StyleTransfer(tiny_backbone, content_layer="c3", style_layers=["c1", "c2"])
    content = rng.uniform(0, 255, (24, 20, 3)).astype("float32")
    style = rng.uniform(0, 255, (16, 16, 3)).astype("float32")
    weights = LossWeights(1.0, 1.0, 1e-6)
    image, progress = st.transfer(content, style, weights=weights, steps=15, learning_rate=2.0, display=QUIET)
    assert image.shape == content.shape
    assert 0 <= image.min() and image.max() <= 255
    assert progress.history["loss"][-1] < progress.history["loss"][0]
    # another size and other weights reuse the same graph
    st.transfer(content[:16, :12], style, weights=LossWeights(1.0, 10.0, 0.0), steps=2, display=QUIET)
    assert st.step.experimental_get_tracing_count() == 1


def test_style_target_scale_changes_the_grams_not_their_shape(tiny_backbone, rng):
    st = StyleTransfer(tiny_backbone, content_layer="c3", style_layers=["c1", "c2"])
    style = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    full, half = st.style_target(style), st.style_target(style, scale=0.5)
    assert [g.shape for g in full] == [g.shape for g in half] == [(8, 8), (8, 8)]
    assert not np.allclose(full[1], half[1])


def test_blend_is_the_weighted_mean_of_grams(tiny_backbone, rng):
    a = (tf.constant(np.eye(2, dtype="float32")),)
    b = (tf.constant(np.ones((2, 2), "float32")),)
    mixed = StyleTransfer.blend([a, b], [3, 1])
    np.testing.assert_allclose(mixed[0], 0.75 * np.eye(2) + 0.25 * np.ones((2, 2)), rtol=1e-6)
    with pytest.raises(ValueError, match="weight per style"):
        StyleTransfer.blend([a, b], [1])


def test_texture_synthesis_and_inversion_lower_their_losses(tiny_backbone, rng):
    style = rng.uniform(0, 255, (16, 16, 3)).astype("float32")
    st = StyleTransfer(tiny_backbone, content_layer="c3", style_layers=["c1", "c2"])
    texture, progress = synthesize_texture(None, style, 16, steps=10, learning_rate=2.0, transfer=st,
                                           weights=LossWeights(1.0, 1.0, 0.0), display=QUIET)
    assert texture.shape == (16, 16, 3)
    assert progress.history["content"] == [0.0] * 10  # no content term
    assert progress.history["style"][-1] < progress.history["style"][0]
    inverted, progress = invert_features(tiny_backbone, style, "c2", steps=10, learning_rate=2.0, tv_weight=0.0,
                                           display=QUIET)
    assert inverted.shape == style.shape
    assert progress.history["content"][-1] < progress.history["content"][0]


def test_bad_input_gives_clear_errors(tiny_backbone):
    with pytest.raises(ValueError, match="No layer 'nope'.*c1"):
        StyleTransfer(tiny_backbone, content_layer="nope", style_layers=["c1"])
    st = StyleTransfer(tiny_backbone, content_layer="c3", style_layers=["c1"])
    with pytest.raises(ValueError, match=r"one image \(height, width, channels\).*batch of 2.*images\[0\]"):
        st.content_target(np.zeros((2, 16, 16, 3), "float32"))
    with pytest.raises(ValueError, match="3 channel"):
        st.style_target(np.zeros((16, 16, 4), "float32"))
    with pytest.raises(ValueError, match="default style layers"):
        StyleTransfer(tiny_backbone)
    with pytest.raises(TypeError, match="Backbone"):
        StyleTransfer("mobilenet", content_layer="c3", style_layers=["c1"])


# ----------------------------------------------------------------------------- fast style transfer

def test_instance_norm_matches_numpy(rng):
    layer = instance_norm("in")
    x = rng.normal(2.0, 3.0, size=(2, 5, 4, 6)).astype("float32")
    y = layer(x).numpy()  # scale 1, shift 0 at initialization
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    assert rel_error(y, (x - mean) / np.sqrt(var + 1e-5)) <= 1e-4


@pytest.mark.parametrize("add_input", [True, False])
def test_transform_net_keeps_the_shape(rng, add_input):
    net = transform_net(filters=(4, 8, 8), residual_blocks=1, add_input=add_input)
    photo = rng.uniform(0, 255, (2, 32, 36, 3)).astype("float32")
    out = net(photo).numpy()
    assert out.shape == photo.shape
    assert 0 <= out.min() and out.max() <= 255
    assert stylize(net, photo[0, :30, :33]).shape == (30, 33, 3)  # any size, padded and cropped


def test_one_training_step_lowers_the_loss(tiny_backbone, rng):
    keras.utils.set_random_seed(2)
    net = transform_net(filters=(4, 8, 8), residual_blocks=1)
    st = StyleTransfer(tiny_backbone, content_layer="c3", style_layers=["c1", "c2"])
    style = rng.uniform(0, 255, (16, 16, 3)).astype("float32")
    trainer = FastStyleTrainer(net, st, st.style_target(style), LossWeights(1.0, 1.0, 1e-6), learning_rate=1e-3)
    photos = tf.constant(rng.uniform(0, 255, (2, 16, 16, 3)).astype("float32"))
    before = float(trainer.losses(photos)[0])
    trainer.train_step(photos)
    after = float(trainer.losses(photos)[0])
    assert after < before
    progress = trainer.fit([photos.numpy()], steps=3, display=QUIET)
    assert len(progress.history["loss"]) == 3
