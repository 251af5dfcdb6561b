import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from honed.data import blobs, moons
from honed.nn import mlp
from honed.plots.boundary import (
    boundary_length,
    draw_decision_boundary,
    grid_probabilities,
    plot_boundary_grid,
    plot_decision_boundary,
)


def linear(X):
    """P(y=1|x) = σ(10·x₁): the boundary is the line x₁ = 0."""
    return 1 / (1 + np.exp(-10 * X[:, :1]))


def test_grid_probabilities_of_a_function_model():
    xx, yy, P = grid_probabilities(linear, (-1, -1), (1, 1), resolution=11)
    assert P.shape == (11, 11, 1)
    assert np.all(P[:, xx[0] < 0] < 0.5) and np.all(P[:, xx[0] > 0] > 0.5)


def test_boundary_length_of_a_straight_line_and_of_a_checkerboard():
    r = 50
    assert boundary_length(linear, (-1, -1), (1, 1), r) == pytest.approx(r / (2 * r * (r - 1)))

    def checker(X):
        return ((np.floor(X[:, :1] * 5) + np.floor(X[:, 1:] * 5)) % 2).astype(float)

    assert boundary_length(checker, (-1, -1), (1, 1), r) > 10 * boundary_length(
        linear, (-1, -1), (1, 1), r
    )


def test_binary_boundary_shades_probability_and_draws_points_and_the_half_contour():
    train, test = moons(80, seed=0, test_samples=40)
    fig, ax = plt.subplots()
    draw_decision_boundary(ax, linear, train, test, title="t")
    image = ax.get_images()[0]
    assert image.get_array().shape == (150, 150) and image.get_cmap().name == "RdBu_r"
    offsets = sum(
        len(c.get_offsets())
        for c in ax.collections
        if hasattr(c, "get_offsets")
        and c.get_offsets().ndim == 2
        and c.get_offsets().shape[1] == 2
        and len(c.get_offsets()) in (40, 20)
    )
    assert offsets == 120  # every train and test point drawn (by class)
    assert ax.get_title() == "t"
    plt.close(fig)


def test_multiclass_regions_take_class_colours():
    data = blobs(120, centers=[[-3, 0], [3, 0], [0, 4]], noise=0.5, seed=1)
    model = mlp([2, 3], output="softmax", seed=0)
    fig, ax = plt.subplots()
    draw_decision_boundary(ax, model, data)
    rgb = ax.get_images()[0].get_array()
    assert rgb.shape == (150, 150, 3) and rgb.min() >= 0 and rgb.max() <= 1
    plt.close(fig)


def test_plot_functions_write_pngs(tmp_path):
    train = moons(60, seed=0)
    path = plot_decision_boundary(linear, train, path=tmp_path / "b.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    fig = plot_boundary_grid({"a": [linear, linear], "b": [linear]}, train=train)
    axes = fig.axes
    assert len(axes) == 4 and not axes[3].axison  # the missing (b, seed 1) panel is blank
    assert axes[0].get_title() == "seed 0" and axes[2].get_ylabel() == "b"
    plt.close(fig)
