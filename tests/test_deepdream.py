"""Chapter 18: DeepDream's loss, octaves and ascent, on a small hand-built model."""

import numpy as np
import pytest

from dlpy.generative.deepdream import BORDER, DeepDream, DreamOptions, dream_loss, octave_shapes
from dlpy.generative.progress import QUIET


@pytest.fixture(scope="module")
def small_model(make_tiny_convnet):
    return make_tiny_convnet([("shallow", 8, 1), ("deep", 8, 2)], name="small", seed=3)


def test_dream_loss_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(1, 9, 10, 4)).astype("float32")
    b = rng.normal(size=(1, 7, 6, 2)).astype("float32")
    expected = sum(w * np.mean(x[:, BORDER:-BORDER, BORDER:-BORDER].astype("float64") ** 2)
                   for w, x in [(1.0, a), (2.5, b)])
    assert abs(float(dream_loss([a, b], [1.0, 2.5])) - expected) / expected <= 1e-5
    # a map too small for the border keeps its center instead of becoming empty
    tiny = rng.normal(size=(1, 3, 3, 2)).astype("float32")
    assert float(dream_loss([tiny], [1.0])) == pytest.approx(np.mean(tiny[:, 1:2, 1:2] ** 2), rel=1e-5)
    with pytest.raises(ValueError, match="One weight per layer"):
        dream_loss([a, b], [1.0])


def test_octave_shapes_are_the_books():
    shapes = octave_shapes((300, 400, 3), num_octaves=3, octave_scale=1.4)
    assert shapes == [(int(300 / 1.96), int(400 / 1.96)), (int(300 / 1.4), int(400 / 1.4)), (300, 400)]
    assert shapes == [(153, 204), (214, 285), (300, 400)]
    assert octave_shapes((50, 60), num_octaves=1) == [(50, 60)]
    with pytest.raises(ValueError, match="octave_scale"):
        octave_shapes((50, 60), octave_scale=1.0)
    with pytest.raises(ValueError, match="under 8 pixels"):
        octave_shapes((20, 20), num_octaves=5, octave_scale=2.0)


def test_gradient_ascent_increases_the_loss(small_model):
    dd = DeepDream(small_model, {"shallow": 1.0, "deep": 2.0})
    image = np.random.default_rng(1).uniform(0, 255, (32, 28, 3)).astype("float32")
    before = float(dd.loss(image[None]))
    dreamed, losses = dd.ascend(image, steps=8, learning_rate=2.0, jitter=0)
    assert losses[0] == pytest.approx(before, rel=1e-5)  # the step reports the loss before it moves
    assert float(dd.loss(dreamed.numpy()[None])) > before
    assert losses[-1] > losses[0]
    # jitter rolls and unrolls: still a valid image of the same size
    dreamed, losses = dd.ascend(image, steps=4, learning_rate=2.0, jitter=5)
    assert dreamed.shape == image.shape and losses[-1] > losses[0]


def test_dream_runs_octaves_without_retracing(small_model):
    dd = DeepDream(small_model, "deep")
    image = np.random.default_rng(2).uniform(0, 255, (40, 36, 3)).astype("float32")
    dreamed, progress = dd.dream(image, DreamOptions(num_octaves=3, octave_scale=1.4, steps_per_octave=3), QUIET)
    assert dreamed.shape == image.shape
    assert len(progress.history["loss"]) == 9
    assert [s.shape[:2] for _, s in progress.snapshots] == octave_shapes(image.shape, 3, 1.4)
    assert dd.step.experimental_get_tracing_count() == 1  # three sizes, one graph


def test_max_loss_stops_early(small_model):
    dd = DeepDream(small_model, "deep")
    image = np.random.default_rng(3).uniform(0, 255, (24, 24, 3)).astype("float32")
    _, losses = dd.ascend(image, steps=10, learning_rate=2.0, max_loss=-1.0)
    assert len(losses) == 1


def test_bad_input_gives_clear_errors(small_model):
    with pytest.raises(ValueError, match="No layer 'mixed4'.*shallow"):
        DeepDream(small_model, {"mixed4": 1.0})
    with pytest.raises(ValueError, match="default DeepDream layers"):
        DeepDream(small_model)
    dd = DeepDream(small_model, "deep")
    with pytest.raises(ValueError, match=r"one image \(height, width, channels\), got a batch of 2"):
        dd.dream(np.zeros((2, 32, 32, 3), "float32"))
    with pytest.raises(ValueError, match=r"\(height, width, channels\).*add the channel axis"):
        dd.ascend(np.zeros((32, 32), "float32"))
