"""Every plotting function runs headless and returns a figure with the expected axes."""

import matplotlib
import numpy as np
import pytest

from minivae import plotting

matplotlib.use("Agg")

rng = np.random.default_rng(0)
IMAGES = rng.random((12, 16))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plotting.pyplot().close("all")


def _check(fig, n_axes):
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == n_axes
    for ax in fig.axes:
        assert ax.get_title() or ax.get_ylabel() or ax.get_xlabel()
    fig.canvas.draw()          # renders without a display


@pytest.mark.parametrize("make, n_axes", [
    (lambda: plotting.plot_image_grid(IMAGES, (4, 4)), 1),
    (lambda: plotting.plot_image_grid(IMAGES[:, :12], (3, 4), n_cols=6), 1),
    (lambda: plotting.plot_reconstructions(IMAGES, 1 - IMAGES, n=5), 2),
    (lambda: plotting.plot_interpolations({"linear": IMAGES[:6], "slerp": IMAGES[6:]}), 2),
    (lambda: plotting.plot_traversals(IMAGES.reshape(3, 4, 16), np.linspace(-2, 2, 4)), 1),
    (lambda: plotting.plot_latent_scatter(rng.standard_normal((50, 3)), rng.integers(0, 3, 50)), 1),
    (lambda: plotting.plot_latent_scatter(rng.standard_normal((50, 2))), 1),
    (lambda: plotting.plot_loss_curves({"a": {"loss": [3.0, 2.0, 1.0], "kl": [1.0, 0.5, 0.2]},
                                        "b": [5.0, 4.0]}), 2),
    (lambda: plotting.plot_roc({"vae": (np.array([0, 0.5, 1]), np.array([0, 0.8, 1]), 0.9),
                                "pca": (np.array([0, 1.0]), np.array([0, 1.0]))}), 1),
    (lambda: plotting.plot_rate_distortion({"bits_per_example": [2, 4, 8], "model_error": [3, 2, 1],
                                            "pca_error": [4, 3, 2], "pca_best_error": [4, 2.5, 1.5],
                                            "model_error_unquantized": 0.9}), 1),
])
def test_figure_functions_return_a_figure(make, n_axes):
    _check(make(), n_axes)


def test_figure_functions_draw_into_a_given_axis():
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, 3)
    assert plotting.plot_roc({"x": ([0, 1], [0, 1])}, ax=axes[0]) is fig
    assert plotting.plot_latent_scatter(np.zeros((3, 2)), [0, 1, 1], ax=axes[1]) is fig
    assert plotting.plot_image_grid(IMAGES, ax=axes[2]) is fig
    assert axes[0].get_xlabel().startswith("false-positive")
    assert axes[1].get_xlabel() == "z_1"


def test_axis_helpers_still_return_the_axis():
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, 3)
    assert plotting.image_grid(axes[0], IMAGES, (4, 4)) is axes[0]
    assert plotting.loss_curve(axes[1], {"loss": [2.0, 1.0]}) is axes[1]
    assert plotting.scatter_compare(axes[2], rng.standard_normal((5, 2)), rng.standard_normal((5, 2))) is axes[2]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_image_grid(rng.random((3, 10)))
    with pytest.raises(ValueError, match="X_hat"):
        plotting.plot_reconstructions(IMAGES, IMAGES[:3])
    with pytest.raises(ValueError, match="fpr"):
        plotting.plot_roc({"x": ([0, 1], [0, 0.5, 1])})
    with pytest.raises(ValueError, match="bits_per_example"):
        plotting.plot_rate_distortion({"model_error": [1]})
    with pytest.raises(ValueError, match="labels"):
        plotting.plot_latent_scatter(np.zeros((3, 2)), [0, 1])
