import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from honed.plots.overlay import draw_runs, plot_runs


def test_mean_line_and_sd_band_over_seeds():
    curves = {"a": [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]], "b": [[1.0, 1.0]]}
    fig, ax = plt.subplots()
    draw_runs(ax, curves)
    line_a, line_b = ax.get_lines()
    assert np.allclose(line_a.get_ydata(), [2, 3, 4]) and "n=2" in line_a.get_label()
    assert np.allclose(line_b.get_ydata(), [1, 1])
    (band,) = ax.collections  # only "a" has several seeds
    ys = band.get_paths()[0].vertices[:, 1]
    sd = np.std([1.0, 3.0], ddof=1)
    assert np.isclose(ys.max(), 4 + sd) and np.isclose(ys.min(), 2 - sd)
    plt.close(fig)


def test_curves_of_different_lengths_average_over_the_seeds_that_reached_an_epoch(tmp_path):
    fig, ax = plt.subplots()
    draw_runs(ax, {"a": [[1.0, 1.0, 1.0], [3.0]]})
    assert np.allclose(ax.get_lines()[0].get_ydata(), [2, 1, 1])
    plt.close(fig)
    path = plot_runs({"a": [[1.0, 0.5], [0.9, 0.4]]}, path=tmp_path / "c.png", log_y=True)
    assert path.read_bytes().startswith(b"\x89PNG")
