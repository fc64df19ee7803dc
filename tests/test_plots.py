import numpy as np
import pytest

from dlpy.plots import plot_history, show_images, smooth_curve


def test_smooth_curve_is_the_exponential_moving_average():
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    factor = 0.8
    expected = [values[0]]
    for v in values[1:]:
        expected.append(expected[-1] * factor + v * (1 - factor))
    np.testing.assert_allclose(smooth_curve(values, factor), expected)
    np.testing.assert_allclose(smooth_curve(values, 0.0), values)


def test_smooth_curve_rejects_factors_outside_0_1():
    with pytest.raises(ValueError, match="factor"):
        smooth_curve([1, 2], 1.0)


def test_plot_history_draws_one_panel_per_metric_and_names_unknown_metrics():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.9], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
    axes = plot_history(history)
    assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy"]
    with pytest.raises(ValueError, match="accuracy"):
        plot_history(history, metrics="mae")


def test_show_images_accepts_grayscale_and_rgb():
    figure = show_images([np.zeros((4, 4)), np.full((4, 4, 3), 255.0)], titles=["a", "b"])
    assert len(figure.axes) == 2
    with pytest.raises(ValueError):
        show_images([])


def test_show_images_takes_titles_as_an_array_and_checks_their_count():
    figure = show_images(np.zeros((3, 4, 4)), titles=np.array([0, 1, 1]))
    assert [ax.get_title() for ax in figure.axes] == ["0", "1", "1"]
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        show_images(np.zeros((3, 4, 4)), titles=["a", "b"])
